// Helpers shared by the indexing, gather/scatter, ordering and Embedding ops.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "operator/op_def.h"
#include "operator/parallel.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {

/*! \brief Index arrays may be float32 (MXNet's default), float64, int32 or int64. */
inline bool IsIndexDType(int t) {
  return t == static_cast<int>(DType::kFloat32) || t == static_cast<int>(DType::kFloat64) ||
         t == static_cast<int>(DType::kInt32) || t == static_cast<int>(DType::kInt64);
}

/*! \brief TypeError naming the op and the input unless input `i` is an index dtype. */
void CheckIndexType(const Attrs& attrs, const std::vector<int>& in, size_t i);

/*! \brief Calls f(TypeTag<I>{}) for an index array's element type. */
template <typename F>
decltype(auto) DispatchIndex(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32:
      return f(TypeTag<float>{});
    case DType::kFloat64:
      return f(TypeTag<double>{});
    case DType::kInt32:
      return f(TypeTag<int32_t>{});
    case DType::kInt64:
      return f(TypeTag<int64_t>{});
    default:
      break;
  }
  MX_THROW(InternalError) << "index kernel called with dtype " << DTypeName(t);
}

/*! \brief An index value as MXNet reads it: truncated toward zero (NaN reads as 0). */
template <typename I>
int64_t ToIndex(I v) {
  if constexpr (std::is_floating_point_v<I>) {
    if (std::isnan(v)) return 0;
    return static_cast<int64_t>(std::trunc(v));
  } else {
    return static_cast<int64_t>(v);
  }
}

/*! \brief Out-of-range modes of take/pick (MXNet's order: clip, wrap, raise). */
enum IndexMode { kClip = 0, kWrap = 1, kRaise = 2 };

/*! \brief Clips or wraps `j` into [0, size); size must be positive. */
inline int64_t ClipOrWrap(int64_t j, int64_t size, int mode) {
  if (mode == kWrap) {
    j %= size;
    return j < 0 ? j + size : j;
  }
  return j < 0 ? 0 : (j >= size ? size - 1 : j);
}

/*! \brief Resolves a possibly negative axis; ValueError naming the op otherwise. */
int ResolveAxis(const Attrs& attrs, int64_t axis, int ndim);

/*! \brief Element types an op's dtype argument may name (MXNet's list for one_hot etc.). */
inline const std::vector<std::string>& OutDTypeNames() {
  static const std::vector<std::string> names = {"float32", "float64", "float16", "uint8",
                                                 "int8",    "int32",   "int64"};
  return names;
}
/*! \brief The DType of an enum field declared with OutDTypeNames(). */
inline DType OutDType(int enum_value) {
  return DTypeFromName(OutDTypeNames().at(static_cast<size_t>(enum_value)));
}

/*! \brief y = v, or y += v for OpReq::kAdd (computed in ComputeType<T>). */
template <typename T>
inline void Store(T* y, T v, OpReq req) {
  using C = ComputeType<T>;
  *y = req == OpReq::kAdd ? T(C(*y) + C(v)) : v;
}

/*!
 * \brief Types of backward scatter ops (ograd, indices, data): the output takes ograd's
 * floating dtype; data only gives the shape.
 */
void ScatterBackwardType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out);

/*! \brief Indices resolved to rows in [0, size): clipped, wrapped, or checked (kRaise). */
std::vector<int64_t> ResolveRows(const Attrs& attrs, const TBlob& idx, int64_t size, int mode,
                                 int axis);

/*! \brief Fills `out` with zeros unless the request adds to it. */
void ZeroUnlessAdd(const TBlob& out, OpReq req);

/*! \brief A dense shape (prefix, axis, suffix) view: outer * size * inner elements. */
struct AxisSplit {
  int64_t outer = 1, size = 1, inner = 1;
};
inline AxisSplit SplitAt(const Shape& s, int axis) {
  return AxisSplit{s.ProdDims(0, axis), s[axis], s.ProdDims(axis + 1, s.ndim())};
}

/*! \brief y[o, j, :] = x[o, rows[j], :] for x viewed as (outer, size, inner). */
void GatherRows(const TBlob& x, AxisSplit a, const std::vector<int64_t>& rows, OpReq req,
                const TBlob& y);

/*!
 * \brief dx[o, rows[j], :] += dy[o, j, :] for dy of shape (outer, rows.size(), inner) and dx of
 * shape (outer, size, inner): the scatter-add behind take, Embedding and gather_nd gradients.
 */
template <typename T>
void AccumulateRows(const T* dy, T* dx, int64_t outer, const std::vector<int64_t>& rows,
                    int64_t size, int64_t inner) {
  using C = ComputeType<T>;
  const auto n = static_cast<int64_t>(rows.size());
  auto add = [&](int64_t o, int64_t c0, int64_t c1) {
    for (int64_t j = 0; j < n; ++j) {
      const T* src = dy + (o * n + j) * inner;
      T* dst = dx + (o * size + rows[static_cast<size_t>(j)]) * inner;
      for (int64_t c = c0; c < c1; ++c)
        dst[c] = T(C(dst[c]) + C(src[c]));
    }
  };
  // Repeated rows collide, so threads own disjoint parts of dx: whole outer slices, or
  // column ranges when there are few slices.
  if (outer >= inner) {
    ParallelFor(outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n * inner)),
                [&](int64_t lo, int64_t hi) {
                  for (int64_t o = lo; o < hi; ++o)
                    add(o, 0, inner);
                });
  } else {
    ParallelFor(inner, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n * outer)),
                [&](int64_t lo, int64_t hi) {
                  for (int64_t o = 0; o < outer; ++o)
                    add(o, lo, hi);
                });
  }
}

/*! \brief data's shape with the axis of length k (keepdims) or removed; (k,) if no axis. */
Shape AlongAxisShape(const Attrs& attrs, const Shape& data, std::optional<int64_t> axis,
                     bool keepdims, int64_t k);
/*! \brief (outer, size, inner) of data around the axis; the flattened array if none. */
AxisSplit SplitAround(const Attrs& attrs, const Shape& data, std::optional<int64_t> axis);

/*!
 * \brief dx[o, idx[o, k, i], i] += dy[o, k, i] over an index/gradient block of `k` entries
 * along the axis (the backward of pick, sort and topk); indices are clipped or wrapped.
 */
void ScatterAddAlongAxis(const TBlob& dy, const TBlob& idx, const TBlob& dx, AxisSplit x, int64_t k,
                         int mode);

}  // namespace mixnet::op
