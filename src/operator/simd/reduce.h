// Reduction loops of the SIMD builds (NOTE [ SIMD kernels ] in vec.h): elements are widened to
// double lanes, so float sums keep the reference kernels' double accumulation; contiguous runs
// fold into four independent accumulators (blocked summation that also hides add latency).
#pragma once

#include "operator/simd/kernels.h"
#include "operator/simd/vec.h"

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

/*! \brief The element-wise part of a fold (what is summed), for the ops that sum. */
template <ReduceOp kOp, class V>
MIXNET_SIMD_INLINE V Summand(V x) {
  if constexpr (kOp == ReduceOp::kNanSum) {
    return x == x ? x : V{};
  } else if constexpr (kOp == ReduceOp::kSumAbs) {
    return Abs(x);
  } else if constexpr (kOp == ReduceOp::kSumSquare) {
    return x * x;
  } else {
    return x;
  }
}

/*! \brief One step of the fold: acc combined with the (widened) elements x. */
template <ReduceOp kOp, class D>
MIXNET_SIMD_INLINE D Fold(D acc, D x) {
  using enum ReduceOp;
  if constexpr (kOp == kProd) {
    return acc * x;
  } else if constexpr (kOp == kNanProd) {
    return acc * (x == x ? x : Splat<D>(1.0));
  } else if constexpr (kOp == kMax) {
    return (acc >= x) | (acc != acc) ? acc : x;
  } else if constexpr (kOp == kMin) {
    return (acc <= x) | (acc != acc) ? acc : x;
  } else {
    return acc + Summand<kOp>(x);
  }
}

/*! \brief Merges two accumulators (Combine, lane by lane). */
template <ReduceOp kOp, class D>
MIXNET_SIMD_INLINE D Merge(D a, D b) {
  using enum ReduceOp;
  if constexpr (kOp == kProd || kOp == kNanProd) {
    return a * b;
  } else if constexpr (kOp == kMax || kOp == kMin) {
    return Fold<kOp>(a, b);
  } else {
    return a + b;
  }
}

/*! \brief Double lanes from a register's worth of source elements; the tail padded with fill. */
template <typename T>
MIXNET_SIMD_INLINE VecT<double> LoadWide(const T* p, int64_t n, T fill) {
  constexpr int W = kLanes<double>;
  if constexpr (std::is_same_v<T, float>) {
    if (n >= W) return LoadAsDouble(p);
    float buf[W];
    for (int i = 0; i < W; ++i)
      buf[i] = i < n ? p[i] : fill;
    return LoadAsDouble(buf);
  } else {
    return n >= W ? Load<VecT<double>>(p) : LoadPartial<VecT<double>>(p, n, fill);
  }
}

template <ReduceOp kOp, typename T>
MIXNET_SIMD_INLINE double ReduceRun(const T* x, int64_t n) {
  using D = VecT<double>;
  constexpr int W = kLanes<double>;
  const double id = Identity(kOp);
  D a0 = Splat<D>(id), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  constexpr bool kProduct = kOp == ReduceOp::kProd || kOp == ReduceOp::kNanProd;
  if constexpr (std::is_same_v<T, float> && !kProduct) {
    // Blocked: four registers of floats fold in float first (a summand meets at most two float
    // roundings, and max/min are exact), then widen, with half the conversions.
    using F = VecT<float>;
    constexpr int WF = kLanes<float>;
    for (; i + 4 * WF <= n; i += 4 * WF) {
      const F f0 = Load<F>(x + i), f1 = Load<F>(x + i + WF), f2 = Load<F>(x + i + 2 * WF),
              f3 = Load<F>(x + i + 3 * WF);
      F c;
      if constexpr (kOp == ReduceOp::kMax || kOp == ReduceOp::kMin) {
        c = Merge<kOp>(Merge<kOp>(f0, f1), Merge<kOp>(f2, f3));
      } else {
        c = (Summand<kOp>(f0) + Summand<kOp>(f1)) + (Summand<kOp>(f2) + Summand<kOp>(f3));
      }
      D lo, hi;
      WidenHalves(c, lo, hi);
      a0 = Merge<kOp>(a0, lo);
      a1 = Merge<kOp>(a1, hi);
    }
  }
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = Fold<kOp>(a0, LoadWide(x + i, W, T(0)));
    a1 = Fold<kOp>(a1, LoadWide(x + i + W, W, T(0)));
    a2 = Fold<kOp>(a2, LoadWide(x + i + 2 * W, W, T(0)));
    a3 = Fold<kOp>(a3, LoadWide(x + i + 3 * W, W, T(0)));
  }
  for (; i < n; i += W)
    a0 = Fold<kOp>(a0, LoadWide(x + i, n - i, T(id)));
  const D a = Merge<kOp>(Merge<kOp>(a0, a1), Merge<kOp>(a2, a3));
  double r = a[0];
  for (int l = 1; l < W; ++l)
    r = Combine(kOp, r, a[l]);
  return r;
}

template <ReduceOp kOp, typename T>
MIXNET_SIMD_INLINE void ReduceColumns(const T* x, int64_t rows, int64_t cols, int64_t ld,
                                      double* acc) {
  using D = VecT<double>;
  constexpr int W = kLanes<double>;
  const T id = T(Identity(kOp));
  int64_t j = 0;
  for (; j + 4 * W <= cols; j += 4 * W) {
    D a0 = Load<D>(acc + j), a1 = Load<D>(acc + j + W), a2 = Load<D>(acc + j + 2 * W),
      a3 = Load<D>(acc + j + 3 * W);
    for (int64_t r = 0; r < rows; ++r) {
      const T* p = x + r * ld + j;
      a0 = Fold<kOp>(a0, LoadWide(p, W, id));
      a1 = Fold<kOp>(a1, LoadWide(p + W, W, id));
      a2 = Fold<kOp>(a2, LoadWide(p + 2 * W, W, id));
      a3 = Fold<kOp>(a3, LoadWide(p + 3 * W, W, id));
    }
    Store(acc + j, a0);
    Store(acc + j + W, a1);
    Store(acc + j + 2 * W, a2);
    Store(acc + j + 3 * W, a3);
  }
  for (; j < cols; j += W) {
    const int64_t m = cols - j;
    D a = m >= W ? Load<D>(acc + j) : LoadPartial<D>(acc + j, m);
    for (int64_t r = 0; r < rows; ++r)
      a = Fold<kOp>(a, LoadWide(x + r * ld + j, m, id));
    if (m >= W) {
      Store(acc + j, a);
    } else {
      StorePartial(acc + j, a, m);
    }
  }
}

/*! \brief Calls f with ReduceOp op as a compile-time constant. */
template <class F>
MIXNET_SIMD_INLINE auto WithReduceOp(ReduceOp op, F f) {
  using enum ReduceOp;
  switch (op) {
    case kSum:
      return f(Const<kSum>{});
    case kNanSum:
      return f(Const<kNanSum>{});
    case kProd:
      return f(Const<kProd>{});
    case kNanProd:
      return f(Const<kNanProd>{});
    case kMax:
      return f(Const<kMax>{});
    case kMin:
      return f(Const<kMin>{});
    case kSumAbs:
      return f(Const<kSumAbs>{});
    case kSumSquare:
      break;
  }
  return f(Const<kSumSquare>{});
}

template <typename T>
MIXNET_SIMD_INLINE double Reduce(ReduceOp op, const T* x, int64_t n) {
  return WithReduceOp(op, [&](auto k) { return ReduceRun<decltype(k)::value>(x, n); });
}

template <typename T>
MIXNET_SIMD_INLINE void ReduceCols(ReduceOp op, const T* x, int64_t rows, int64_t cols, int64_t ld,
                                   double* acc) {
  WithReduceOp(op, [&](auto k) { ReduceColumns<decltype(k)::value>(x, rows, cols, ld, acc); });
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
