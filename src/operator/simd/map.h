// Element-wise loops of the SIMD builds: unary and binary maps (NOTE [ SIMD kernels ] in vec.h).
#pragma once

#include "operator/simd/kernels.h"
#include "operator/simd/vec_math.h"

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

/*! \brief y = f(x) over whole vectors, then the tail through a padded register. */
template <typename T, class F>
MIXNET_SIMD_INLINE void MapUnary(const T* x, T* y, int64_t n, bool accumulate, F f) {
  using V = VecT<T>;
  constexpr int W = kLanes<T>;
  int64_t i = 0;
  if (accumulate) {
    for (; i + W <= n; i += W)
      Store(y + i, Load<V>(y + i) + f(Load<V>(x + i)));
  } else {
    for (; i + W <= n; i += W)
      Store(y + i, f(Load<V>(x + i)));
  }
  if (i < n) {
    V v = f(LoadPartial<V>(x + i, n - i));
    if (accumulate) v += LoadPartial<V>(y + i, n - i);
    StorePartial(y + i, v, n - i);
  }
}

template <typename T>
MIXNET_SIMD_INLINE void Unary(UnaryOp op, const T* x, T* y, int64_t n, bool accumulate) {
  using V = VecT<T>;
  const V zero = Splat<V>(0), one = Splat<V>(1);
  auto map = [&](auto f) { MapUnary(x, y, n, accumulate, f); };
  switch (op) {
    case UnaryOp::kNegative:
      return map([](V v) { return -v; });
    case UnaryOp::kAbs:
      return map([](V v) { return Abs(v); });
    case UnaryOp::kSquare:
      return map([](V v) { return v * v; });
    case UnaryOp::kSqrt:
      return map([](V v) { return Sqrt(v); });
    case UnaryOp::kRsqrt:
      return map([&](V v) { return one / Sqrt(v); });
    case UnaryOp::kReciprocal:
      return map([&](V v) { return one / v; });
    case UnaryOp::kRelu:
      return map([&](V v) { return v > zero ? v : zero; });
    case UnaryOp::kSoftsign:
      return map([&](V v) { return v / (one + Abs(v)); });
    default:
      break;
  }
  if constexpr (std::is_same_v<T, float>) {
    switch (op) {
      case UnaryOp::kExp:
        return map([](V v) { return Exp(v); });
      case UnaryOp::kLog:
        return map([](V v) { return Log(v); });
      case UnaryOp::kSigmoid:
        return map([](V v) { return Sigmoid(v); });
      case UnaryOp::kTanh:
        return map([](V v) { return Tanh(v); });
      case UnaryOp::kSoftrelu:
        return map([](V v) { return Softrelu(v); });
      default:
        break;
    }
  }
  __builtin_trap();  // callers check HasFloat64
}

/*! \brief y = f(a, b) with a (b) one broadcast element when kScalarA (kScalarB). */
template <bool kScalarA, bool kScalarB, typename T, class F>
MIXNET_SIMD_INLINE void MapBinary(const T* a, const T* b, T* y, int64_t n, bool accumulate, F f) {
  using V = VecT<T>;
  constexpr int W = kLanes<T>;
  if (n <= 0) return;
  const V sa = Splat<V>(*a), sb = Splat<V>(*b);
  auto run = [&](auto acc) {
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      V v = f(kScalarA ? sa : Load<V>(a + i), kScalarB ? sb : Load<V>(b + i));
      if constexpr (decltype(acc)::value) v += Load<V>(y + i);
      Store(y + i, v);
    }
    if (i < n) {
      V v = f(kScalarA ? sa : LoadPartial<V>(a + i, n - i),
              kScalarB ? sb : LoadPartial<V>(b + i, n - i));
      if constexpr (decltype(acc)::value) v += LoadPartial<V>(y + i, n - i);
      StorePartial(y + i, v, n - i);
    }
  };
  if (accumulate) {
    run(Const<true>{});
  } else {
    run(Const<false>{});
  }
}

template <typename T>
MIXNET_SIMD_INLINE void Binary(BinaryOp op, Operands operands, const T* a, const T* b, T* y,
                               int64_t n, bool accumulate) {
  using V = VecT<T>;
  const V zero = Splat<V>(0), one = Splat<V>(1);
  auto map = [&](auto f) {
    switch (operands) {
      case Operands::kArrayArray:
        return MapBinary<false, false>(a, b, y, n, accumulate, f);
      case Operands::kArrayScalar:
        return MapBinary<false, true>(a, b, y, n, accumulate, f);
      case Operands::kScalarArray:
        return MapBinary<true, false>(a, b, y, n, accumulate, f);
    }
  };
  switch (op) {
    case BinaryOp::kAdd:
      return map([](V u, V v) { return u + v; });
    case BinaryOp::kSub:
      return map([](V u, V v) { return u - v; });
    case BinaryOp::kMul:
      return map([](V u, V v) { return u * v; });
    case BinaryOp::kDiv:
      return map([](V u, V v) { return u / v; });
    case BinaryOp::kMaximum:
      return map([](V u, V v) { return u >= v ? u : v; });
    case BinaryOp::kMinimum:
      return map([](V u, V v) { return u <= v ? u : v; });
    case BinaryOp::kMaxStrict:
      return map([](V u, V v) { return u > v ? u : v; });
    case BinaryOp::kMinStrict:
      return map([](V u, V v) { return u < v ? u : v; });
    case BinaryOp::kEqual:
      return map([&](V u, V v) { return u == v ? one : zero; });
    case BinaryOp::kNotEqual:
      return map([&](V u, V v) { return u != v ? one : zero; });
    case BinaryOp::kGreater:
      return map([&](V u, V v) { return u > v ? one : zero; });
    case BinaryOp::kGreaterEqual:
      return map([&](V u, V v) { return u >= v ? one : zero; });
    case BinaryOp::kLesser:
      return map([&](V u, V v) { return u < v ? one : zero; });
    case BinaryOp::kLesserEqual:
      return map([&](V u, V v) { return u <= v ? one : zero; });
    case BinaryOp::kSigmoidGrad:
      return map([&](V u, V v) { return u * v * (one - v); });
    case BinaryOp::kTanhGrad:
      return map([&](V u, V v) { return u * (one - v * v); });
    case BinaryOp::kReluGrad:
      return map([&](V u, V v) { return v > zero ? u : zero; });
  }
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
