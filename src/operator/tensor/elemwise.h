// Element-wise kernels shared by the unary, binary and scalar op families.
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>

#include "operator/op_def.h"
#include "operator/parallel.h"

namespace mixnet::op {

/*! \brief Compute type of an element type: 16-bit floats compute in float. */
template <typename T>
using ComputeType =
    std::conditional_t<std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>, float, T>;

/*! \brief DispatchDType for the floating dtypes (inference has rejected the others). */
template <typename F>
decltype(auto) DispatchFloat(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32:
      return f(TypeTag<float>{});
    case DType::kFloat64:
      return f(TypeTag<double>{});
    case DType::kFloat16:
      return f(TypeTag<float16_t>{});
    case DType::kBFloat16:
      return f(TypeTag<bfloat16_t>{});
    default:
      break;
  }
  MX_THROW(InternalError) << "floating kernel called with dtype " << DTypeName(t);
}

/*! \brief out = f(in) (or out += f(in) for OpReq::kAdd), for every floating dtype. */
template <typename F>
void MapUnary(const TBlob& in, OpReq req, const TBlob& out, F f) {
  if (req == OpReq::kNull) return;
  DispatchFloat(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* x = in.data<T>();
    T* y = out.data<T>();
    ParallelFor(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      if (req == OpReq::kAdd) {
        for (int64_t i = lo; i < hi; ++i)
          y[i] = T(C(y[i]) + f(C(x[i])));
      } else {
        for (int64_t i = lo; i < hi; ++i)
          y[i] = T(f(C(x[i])));
      }
    });
  });
}

/*! \brief out = f(a, b) element-wise over equal shapes. */
template <typename F>
void MapBinary(const TBlob& a, const TBlob& b, OpReq req, const TBlob& out, F f) {
  if (req == OpReq::kNull) return;
  DispatchFloat(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* x = a.data<T>();
    const T* y = b.data<T>();
    T* z = out.data<T>();
    ParallelFor(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      if (req == OpReq::kAdd) {
        for (int64_t i = lo; i < hi; ++i)
          z[i] = T(C(z[i]) + f(C(x[i]), C(y[i])));
      } else {
        for (int64_t i = lo; i < hi; ++i)
          z[i] = T(f(C(x[i]), C(y[i])));
      }
    });
  });
}

/*! \brief Accepts floating dtypes only; TypeError naming the op and the input otherwise. */
void FloatingSameType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out);

}  // namespace mixnet::op
