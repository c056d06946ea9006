// "simd" kernels of the reductions: vector folds (operator/simd/reduce.h) split over threads,
// for the common layouts where the reduced dims form one block: all of them, the trailing ones
// (rows) or leading/middle ones (columns). Other layouts and dtypes go to the reference kernel.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/op_def.h"
#include "operator/simd/kernels.h"

namespace mixnet::op {

/*! \brief The input as (outer, reduced, inner), row-major. */
struct ReduceBlock {
  int64_t outer = 1, reduced = 1, inner = 1;
};

/*! \brief The block view when the reduced dims are adjacent (dims of size 1 aside). */
std::optional<ReduceBlock> AsReduceBlock(const Shape& s, const std::vector<bool>& reduced);

/*! \brief What happens to a fold before it is stored. */
enum class ReduceFinish { kNone, kMean, kSqrt };

/*! \brief A reduction's vector form. */
struct SimdFold {
  simd::ReduceOp op;
  ReduceFinish finish = ReduceFinish::kNone;
};

/*! \brief Why SimdReduce cannot take this case, or "". */
std::string SimdReduceSupport(const TBlob& in, const std::vector<bool>& reduced, const TBlob& out);

/*!
 * \brief out = finish(fold of in over the reduced dims), out += for kAdd. The fold's blocks are
 * fixed (not per thread), so results do not depend on the number of threads.
 */
void SimdReduce(SimdFold fold, const TBlob& in, const std::vector<bool>& reduced, OpReq req,
                const TBlob& out);

}  // namespace mixnet::op
