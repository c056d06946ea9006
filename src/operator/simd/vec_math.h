// Float vector math: exp and log by range reduction and polynomials, and the activations built
// on them (sigmoid, tanh, softrelu). Part of the SIMD builds (NOTE [ SIMD kernels ] in vec.h).
//
// NOTE [ Vector exp and log ]
// exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 (ln 2 split in two parts, the
// first with few enough bits that n * ln2_hi is exact), |r| <= ln2 / 2; e^r = 1 + r + r^2 q(r)
// with q of degree 4. 2^n is applied as two factors 2^(n/2) and 2^(n - n/2), so results that
// overflow give inf and those below FLT_MIN come out as correctly scaled subnormals (one
// rounding). n comes from the bits of x / ln 2 + 1.5 * 2^23, with no float-to-int conversion,
// so NaN flows through the polynomial untouched.
// log(x) = e ln 2 + log(1 + f) with x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2));
// log(1 + f) = f - f^2 / 2 + f^3 P(f) with P of degree 8. Subnormal inputs are scaled by 2^23
// first; 0, negatives, inf and NaN are patched at the end.
// The polynomial coefficients are Chebyshev interpolants of the remainders (near-minimax),
// rounded to float; the approximation errors are below 0.2 ulp, and op_vec_math_test checks
// that results stay within 2 ulp of the correctly rounded value over the whole float range.
#pragma once

#include <limits>

#include "operator/simd/vec.h"

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

/*! \brief Horner's rule: c[0] + x (c[1] + x (c[2] + ...)). */
template <class V, size_t N>
MIXNET_SIMD_INLINE V Poly(V x, const float (&c)[N]) {
  V p = Splat<V>(c[N - 1]);
  for (size_t i = N - 1; i-- > 0;)
    p = Fma(p, x, Splat<V>(c[i]));
  return p;
}

/*! \brief e^x for float lanes (NOTE [ Vector exp and log ]). */
template <class V>
MIXNET_SIMD_INLINE V Exp(V x) {
  using M = MaskOf<V>;
  static constexpr float kQ[] = {0.5f, 0.166665733f, 0.0416665487f, 0.0083637787f, 0.00139269326f};
  const V lo = Splat<V>(-104.0f), hi = Splat<V>(89.0f);  // beyond: 0 and inf
  x = x < lo ? lo : x;  // comparisons with NaN are false: NaN stays
  x = x > hi ? hi : x;
  const V magic = Splat<V>(12582912.0f);  // 1.5 * 2^23: the sum's low bits hold round(x / ln 2)
  const V t = Fma(x, Splat<V>(1.44269504f), magic);
  const V n = t - magic;
  const M ni = BitCast<M>(t) - BitCast<M>(magic);
  V r = Fma(n, Splat<V>(-0.693145751953125f), x);  // ln2_hi: 15 significant bits
  r = Fma(n, Splat<V>(-1.42860677e-6f), r);        // ln2_lo
  const V p = Fma(r * r, Poly(r, kQ), r) + Splat<V>(1.0f);
  const M n1 = ni >> 1, n2 = ni - n1;
  const V s1 = BitCast<V>((n1 + 127) << 23), s2 = BitCast<V>((n2 + 127) << 23);
  return p * s1 * s2;
}

/*! \brief Natural log for float lanes (NOTE [ Vector exp and log ]). */
template <class V>
MIXNET_SIMD_INLINE V Log(V x) {
  using M = MaskOf<V>;
  static constexpr float kP[] = {0.333333313f,  -0.24999997f,  0.200007409f,
                                 -0.166678399f, 0.142481476f,  -0.124240384f,
                                 0.116934739f,  -0.114965208f, 0.0697031766f};
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const M sub = x < Splat<V>(std::numeric_limits<float>::min());
  const V xs = sub ? x * Splat<V>(8388608.0f) : x;  // 2^23
  const M ix = BitCast<M>(xs) - 0x3f3504f3;         // relative to the bits of sqrt(1/2)
  const M e = (ix >> 23) + (sub & -23);
  const V f = BitCast<V>((ix & 0x007fffff) + 0x3f3504f3) - Splat<V>(1.0f);
  const V ef = Convert<V>(e);
  // log(1 + f) = f + f^2 (f P(f) - 1/2)
  const V l = Fma(f * f, Fma(f, Poly(f, kP), Splat<V>(-0.5f)), f);
  V y = Fma(ef, Splat<V>(0.693145751953125f), Fma(ef, Splat<V>(1.42860677e-6f), l));
  y = x == Splat<V>(kInf) ? x : y;
  y = x == Splat<V>(0.0f) ? Splat<V>(-kInf) : y;
  return (x < Splat<V>(0.0f)) | (x != x) ? Splat<V>(std::numeric_limits<float>::quiet_NaN()) : y;
}

/*! \brief log(1 + u) for u >= 0, accurate for tiny u (the rounding of 1 + u is corrected). */
template <class V>
MIXNET_SIMD_INLINE V Log1pNonNegative(V u) {
  const V w = u + Splat<V>(1.0f);
  const V y = Log(w) - ((w - Splat<V>(1.0f)) - u) / w;
  return w == Splat<V>(1.0f) ? u : y;
}

/*!
 * \brief 1 / (1 + e^-x), as e^x / (1 + e^x) below 0: e^-|x| never overflows, so results down
 * to the subnormals keep their precision.
 */
template <class V>
MIXNET_SIMD_INLINE V Sigmoid(V x) {
  const V e = Exp(-Abs(x));
  const V r = Splat<V>(1.0f) / (Splat<V>(1.0f) + e);
  return x >= Splat<V>(0.0f) ? r : e * r;
}

/*!
 * \brief tanh: x + x^3 P(x^2) below |x| = 0.625 (P of degree 5, Chebyshev-fitted like exp's);
 * 1 - 2 / (e^(2|x|) + 1) with x's sign above.
 */
template <class V>
MIXNET_SIMD_INLINE V Tanh(V x) {
  static constexpr float kP[] = {-0.333333343f, 0.133333027f,    -0.0539590977f,
                                 0.0217676014f, -0.00833963975f, 0.00228787819f};
  const V ax = Abs(x);
  const V u = x * x;
  const V small = Fma(x * u, Poly(u, kP), x);
  const V large = Splat<V>(1.0f) - Splat<V>(2.0f) / (Exp(ax + ax) + Splat<V>(1.0f));
  return CopySign(ax < Splat<V>(0.625f) ? small : large, x);  // x = -0 gives -0
}

/*! \brief log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), without overflow. */
template <class V>
MIXNET_SIMD_INLINE V Softrelu(V x) {
  const V pos = x > Splat<V>(0.0f) ? x : Splat<V>(0.0f);
  return pos + Log1pNonNegative(Exp(-Abs(x)));
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
