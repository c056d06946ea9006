// Portable SIMD vectors for the CPU kernels: GCC vector extensions, one ISA per build.
//
// NOTE [ SIMD kernels ]
// The fast CPU kernels (element-wise maps, reductions, softmax) are written once, as templates
// over GCC vector-extension types (`Vec<float, 16>` is a zmm register), and compiled three
// times: for SSE2 (the x86-64 baseline, 16-byte vectors), AVX2 + FMA (32 bytes) and AVX-512
// (64 bytes). Each build is its own translation unit (kernels_sse2.cc, kernels_avx2.cc,
// kernels_avx512.cc, through build.h): it includes the standard headers, then sets the target
// with `#pragma GCC target` for the rest of the file (GCC gives templates and lambdas
// instantiated at the end of the file the target in force there), then includes these headers,
// whose code lives in a namespace named after the ISA (MIXNET_SIMD_ISA). So every function
// compiled for a wide ISA has a name of its own, and the linker cannot fold it into code that
// runs on a narrower CPU; for the same reason these headers use no standard-library templates
// that generate code. The library itself stays baseline x86-64 (no -march flags): kernels.cc
// checks the CPU with __builtin_cpu_supports before it touches a build's table, picks one once
// (simd::Best()), and tests run every table the CPU supports (simd::ForIsa).
//
// The entry points are single-threaded loops over a range; the op files split work with
// ParallelFor. Tails (sizes that are not a multiple of the width) go through a padded stack
// buffer, so every element takes the same vector code. NaN, infinities and signed zeros follow
// the reference kernels' scalar expressions (`x > 0 ? x : 0` is a vector select here too).
#pragma once

#ifndef MIXNET_SIMD_ISA
#error "SIMD headers are included by the kernels_<isa>.cc builds only (NOTE [ SIMD kernels ])"
#endif

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#define MIXNET_SIMD_INLINE [[gnu::always_inline]] inline

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

template <typename T, int W>
struct VecOf {
  typedef T type __attribute__((vector_size(sizeof(T) * W)));
};
/*! \brief W lanes of T. */
template <typename T, int W>
using Vec = typename VecOf<T, W>::type;

/*! \brief Bytes in one register of this build (16, 32 or 64). */
inline constexpr int kBytes = MIXNET_SIMD_BYTES;
template <typename T>
inline constexpr int kLanes = kBytes / static_cast<int>(sizeof(T));
/*! \brief A full register of T. */
template <typename T>
using VecT = Vec<T, kLanes<T>>;

template <class V>
using Elem = std::remove_cvref_t<decltype(V{}[0])>;
template <class V>
inline constexpr int kLanesOf = static_cast<int>(sizeof(V) / sizeof(Elem<V>));
/*! \brief The integer vector a comparison of V gives (lanes of all ones or zeros). */
template <class V>
using MaskOf = Vec<std::conditional_t<sizeof(Elem<V>) == 4, int32_t, int64_t>, kLanesOf<V>>;

/*! \brief A compile-time value as a type (std::integral_constant would put code in the build). */
template <auto kValue>
struct Const {
  static constexpr auto value = kValue;
};

/*! \brief Every lane s (V{} + s would turn -0.0 into +0.0). */
template <class V>
MIXNET_SIMD_INLINE V Splat(Elem<V> s) {
  V v;
  for (int i = 0; i < kLanesOf<V>; ++i)
    v[i] = s;
  return v;
}

template <class V>
MIXNET_SIMD_INLINE V Load(const Elem<V>* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

template <class V>
MIXNET_SIMD_INLINE void Store(Elem<V>* p, V v) {
  __builtin_memcpy(p, &v, sizeof v);
}

/*! \brief The first n (< lanes) elements at p; the other lanes are `fill`. */
template <class V>
MIXNET_SIMD_INLINE V LoadPartial(const Elem<V>* p, int64_t n, Elem<V> fill = 0) {
  V v = Splat<V>(fill);
  for (int64_t i = 0; i < n; ++i)
    v[i] = p[i];
  return v;
}

template <class V>
MIXNET_SIMD_INLINE void StorePartial(Elem<V>* p, V v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    p[i] = v[i];
}

/*! \brief Reinterprets the bits of a vector of the same size. */
template <class To, class From>
MIXNET_SIMD_INLINE To BitCast(From v) {
  static_assert(sizeof(To) == sizeof(From));
  return (To)v;
}

/*! \brief f converted lane by lane (value conversion, not bits). */
template <class To, class From>
MIXNET_SIMD_INLINE To Convert(From v) {
  return __builtin_convertvector(v, To);
}

template <class V>
inline constexpr bool kIsF32 = std::is_same_v<Elem<V>, float>;

#if defined(__FMA__)
inline constexpr bool kHasFma = true;
#else
inline constexpr bool kHasFma = false;
#endif

/*! \brief a * b + c, fused (one rounding) where the build has FMA. */
template <class V>
MIXNET_SIMD_INLINE V Fma(V a, V b, V c) {
  if constexpr (sizeof(V) == 64 && kIsF32<V>) {
    return (V)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
  } else if constexpr (sizeof(V) == 64) {
    return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
  } else if constexpr (sizeof(V) == 32 && kHasFma && kIsF32<V>) {
    return (V)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
  } else if constexpr (sizeof(V) == 32 && kHasFma) {
    return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
  } else {
    return a * b + c;
  }
}

/*! \brief Correctly rounded square root (the ISA's instruction). */
template <class V>
MIXNET_SIMD_INLINE V Sqrt(V a) {
  if constexpr (sizeof(V) == 64 && kIsF32<V>) {
    return (V)_mm512_maskz_sqrt_ps(__mmask16(-1), (__m512)a);
  } else if constexpr (sizeof(V) == 64) {
    return (V)_mm512_maskz_sqrt_pd(__mmask8(-1), (__m512d)a);
  } else if constexpr (sizeof(V) == 32 && kIsF32<V>) {
    return (V)_mm256_sqrt_ps((__m256)a);
  } else if constexpr (sizeof(V) == 32) {
    return (V)_mm256_sqrt_pd((__m256d)a);
  } else if constexpr (kIsF32<V>) {
    return (V)_mm_sqrt_ps((__m128)a);
  } else {
    return (V)_mm_sqrt_pd((__m128d)a);
  }
}

/*! \brief A register of doubles from the floats at p (half a register's worth). */
MIXNET_SIMD_INLINE VecT<double> LoadAsDouble(const float* p) {
#if MIXNET_SIMD_BYTES == 64
  return (VecT<double>)_mm512_maskz_cvtps_pd(__mmask8(-1), _mm256_loadu_ps(p));
#elif MIXNET_SIMD_BYTES == 32
  return (VecT<double>)_mm256_cvtps_pd(_mm_loadu_ps(p));
#else
  return (VecT<double>)_mm_cvtps_pd(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p))));
#endif
}

/*! \brief The low and high halves of a register of floats, as doubles. */
MIXNET_SIMD_INLINE void WidenHalves(VecT<float> v, VecT<double>& lo, VecT<double>& hi) {
#if MIXNET_SIMD_BYTES == 64
  __m256 low;  // (_mm512_castps512_ps256 trips -Wmaybe-uninitialized in GCC 12's headers)
  __builtin_memcpy(&low, &v, sizeof low);
  lo = (VecT<double>)_mm512_maskz_cvtps_pd(__mmask8(-1), low);
  hi = (VecT<double>)_mm512_maskz_cvtps_pd(
      __mmask8(-1), _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(__mmask8(15), (__m512d)v, 1)));
#elif MIXNET_SIMD_BYTES == 32
  const __m256 f = (__m256)v;
  lo = (VecT<double>)_mm256_cvtps_pd(_mm256_castps256_ps128(f));
  hi = (VecT<double>)_mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
#else
  const __m128 f = (__m128)v;
  lo = (VecT<double>)_mm_cvtps_pd(f);
  hi = (VecT<double>)_mm_cvtps_pd(_mm_movehl_ps(f, f));
#endif
}

/*! \brief |a|: the sign bit cleared (NaN stays NaN). */
template <class V>
MIXNET_SIMD_INLINE V Abs(V a) {
  using M = MaskOf<V>;
  return BitCast<V>(BitCast<M>(a) & ~BitCast<M>(Splat<V>(Elem<V>(-0.0))));
}

/*! \brief The magnitude of a with the sign of s. */
template <class V>
MIXNET_SIMD_INLINE V CopySign(V a, V s) {
  using M = MaskOf<V>;
  const M sign = BitCast<M>(Splat<V>(Elem<V>(-0.0)));
  return BitCast<V>((BitCast<M>(a) & ~sign) | (BitCast<M>(s) & sign));
}

/*! \brief Sum of the lanes, accumulated in Acc (a wider type keeps the total exact-er). */
template <typename Acc, class V>
MIXNET_SIMD_INLINE Acc ReduceAddAs(V v) {
  Acc s = 0;
  for (int i = 0; i < kLanesOf<V>; ++i)
    s += v[i];
  return s;
}

/*! \brief Sum of the lanes. */
template <class V>
MIXNET_SIMD_INLINE Elem<V> ReduceAdd(V v) {
  return ReduceAddAs<Elem<V>>(v);
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
