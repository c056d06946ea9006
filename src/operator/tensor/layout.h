// Shared pieces of the shape and layout ops: axis checks, strided copies and sums that work on
// bytes (so every dtype moves through them), and the copy kernel of the pure reshapes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operator/op_def.h"

namespace mixnet::op {

/*!
 * \brief Elements of an array seen through strides: element (i0, .., ik) of the view lives at
 * offset + i0 * strides[0] + .. + ik * strides[k] (in elements; strides may be 0 or negative).
 */
struct StridedView {
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  int64_t offset = 0;
};

/*! \brief Row-major strides of `shape`, in elements. */
std::vector<int64_t> ContiguousStrides(std::span<const int64_t> shape);
/*! \brief `shape` read contiguously from offset 0. */
StridedView Contiguous(std::span<const int64_t> shape);

/*!
 * \brief `axis` in [-ndim, ndim) made non-negative; otherwise ValueError "OP: axis 3 is out of
 * range for ARG of shape (2, 3)".
 */
int NormalizeAxis(const Attrs& attrs, std::string_view arg, int64_t axis, const Shape& shape,
                  int ndim);

/*!
 * \brief Copies view `src` of `in` into view `dst` of `out` (both views have the same shape),
 * by element size, so any dtype works. Multithreaded for large copies.
 */
void CopyView(const TBlob& in, const StridedView& src, const TBlob& out, const StridedView& dst);

/*!
 * \brief out (contiguous, `kept` elements) = sum over the trailing `src.shape.size() - kept_dims`
 * dims of view `src` of `in`; floating dtypes (gradients of broadcasting copies).
 */
void SumView(const TBlob& in, const StridedView& src, int kept_dims, const TBlob& out);

/*! \brief Fills `out` with zero bytes (0 in every dtype). */
void ZeroFill(const TBlob& out);

/*! \brief Kernel of ops whose output holds the input's elements in the same order. */
void CopyKernel(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq> req, std::span<const TBlob> out);

/*! \brief Names "arg0", "arg1", .. of MXNet's variadic ops (Concat, stack). */
std::vector<std::string> NumberedNames(const char* prefix, int n);

/*! \brief Sample values as integers, as a sample with integer dtypes feeds them to the op. */
std::vector<double> Truncated(const std::vector<double>& v);

}  // namespace mixnet::op
