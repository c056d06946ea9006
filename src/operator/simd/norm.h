// Row loops of the normalisation layers' float32 kernels (NOTE [ SIMD kernels ] in vec.h):
// sums of squared deviations and of gradient products in float lanes with double totals, and
// the affine map every normalisation ends with.
#pragma once

#include "operator/simd/kernels.h"
#include "operator/simd/vec.h"

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

inline double RowSumSquaredDev(const float* x, int64_t n, float m) {
  using V = VecT<float>;
  constexpr int W = kLanes<float>;
  const V mv = Splat<V>(m);
  V a0{}, a1{};
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const V d0 = Load<V>(x + i) - mv, d1 = Load<V>(x + i + W) - mv;
    a0 = Fma(d0, d0, a0);
    a1 = Fma(d1, d1, a1);
  }
  double s = ReduceAddAs<double>(a0) + ReduceAddAs<double>(a1);
  for (; i < n; ++i) {
    const double d = x[i] - m;
    s += d * d;
  }
  return s;
}

inline void RowGradSums(const float* dy, const float* x, int64_t n, float m, double* sum_dy,
                        double* sum_dy_dev) {
  using V = VecT<float>;
  constexpr int W = kLanes<float>;
  const V mv = Splat<V>(m);
  V a{}, b{};
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const V g = Load<V>(dy + i);
    a += g;
    b = Fma(g, Load<V>(x + i) - mv, b);
  }
  double s = ReduceAddAs<double>(a), t = ReduceAddAs<double>(b);
  for (; i < n; ++i) {
    s += dy[i];
    t += static_cast<double>(dy[i]) * (x[i] - m);
  }
  *sum_dy += s;
  *sum_dy_dev += t;
}

inline void RowAffine(const float* u, const float* v, float* y, int64_t n, float a, float b,
                      float c, bool accumulate) {
  using V = VecT<float>;
  constexpr int W = kLanes<float>;
  const V av = Splat<V>(a), bv = Splat<V>(b), cv = Splat<V>(c);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V r = Fma(av, Load<V>(u + i), cv);
    if (v) r = Fma(bv, Load<V>(v + i), r);
    if (accumulate) r += Load<V>(y + i);
    Store(y + i, r);
  }
  for (; i < n; ++i) {
    float r = a * u[i] + c;
    if (v) r += b * v[i];
    y[i] = accumulate ? y[i] + r : r;
  }
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
