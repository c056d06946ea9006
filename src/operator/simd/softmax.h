// Softmax and log-softmax loops of the SIMD builds, forward and backward, fused per slice
// (NOTE [ SIMD kernels ] in vec.h). Contiguous rows (the last axis) vectorise along the row and
// reduce across lanes; other axes vectorise across the columns after the axis, one column per
// lane, so each lane is an independent softmax.
#pragma once

#include <cmath>
#include <limits>

#include "operator/simd/kernels.h"
#include "operator/simd/vec_math.h"

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

using VF = VecT<float>;
inline constexpr int kWF = kLanes<float>;
inline constexpr float kNegInf = -std::numeric_limits<float>::infinity();

/*! \brief Lanes from m on set to fill. */
MIXNET_SIMD_INLINE VF PadFrom(VF v, int64_t m, float fill) {
  for (int64_t l = m; l < kWF; ++l)
    v[l] = fill;
  return v;
}

/*! \brief Up to a register of elements at p (m of them, the rest 0). */
MIXNET_SIMD_INLINE VF LoadUpTo(const float* p, int64_t m) {
  return m >= kWF ? Load<VF>(p) : LoadPartial<VF>(p, m);
}

MIXNET_SIMD_INLINE void StoreUpTo(float* p, VF v, int64_t m, bool accumulate) {
  if (accumulate) v += LoadUpTo(p, m);
  if (m >= kWF) {
    Store(p, v);
  } else {
    StorePartial(p, v, m);
  }
}

MIXNET_SIMD_INLINE VF Max(VF a, VF b) {
  return b > a ? b : a;
}

/*!
 * \brief One contiguous row of n: whole registers in the loops, the tail once, padded with
 * -inf (no effect on the max, and e^-inf = 0 adds nothing to the sum).
 */
MIXNET_SIMD_INLINE void SoftmaxRow(SoftmaxKind kind, const float* x, float* y, int64_t n,
                                   float scale, bool accumulate) {
  const VF s = Splat<VF>(scale);
  const int64_t full = n - n % kWF, rest = n - full;
  const VF tail = PadFrom(LoadPartial<VF>(x + full, rest) * s, rest, kNegInf);
  VF vm = tail;
  for (int64_t i = 0; i < full; i += kWF)
    vm = Max(vm, Load<VF>(x + i) * s);
  float m = vm[0];
  for (int l = 1; l < kWF; ++l)
    m = vm[l] > m ? vm[l] : m;
  vm = Splat<VF>(m);
  const bool keep = kind == SoftmaxKind::kSoftmax && !accumulate;  // y holds e^(z - m)
  const VF tail_e = rest ? Exp(tail - vm) : VF{};
  VF acc0 = tail_e, acc1{};
  int64_t i = 0;
  for (; i + 2 * kWF <= full; i += 2 * kWF) {
    const VF e0 = Exp(Load<VF>(x + i) * s - vm), e1 = Exp(Load<VF>(x + i + kWF) * s - vm);
    acc0 += e0;
    acc1 += e1;
    if (keep) {
      Store(y + i, e0);
      Store(y + i + kWF, e1);
    }
  }
  for (; i < full; i += kWF) {
    const VF e = Exp(Load<VF>(x + i) * s - vm);
    acc0 += e;
    if (keep) Store(y + i, e);
  }
  const float sum = ReduceAdd(acc0 + acc1);
  auto put = [&](int64_t i, VF v) {
    if (accumulate) v += Load<VF>(y + i);
    Store(y + i, v);
  };
  VF last;
  if (kind == SoftmaxKind::kLogSoftmax) {
    const VF log_sum = Splat<VF>(std::log(sum));
    for (int64_t i = 0; i < full; i += kWF)
      put(i, (Load<VF>(x + i) * s - vm) - log_sum);
    last = (tail - vm) - log_sum;
  } else {
    const VF inv = Splat<VF>(1.0f / sum);
    for (int64_t i = 0; i < full; i += kWF)
      put(i, (keep ? Load<VF>(y + i) : Exp(Load<VF>(x + i) * s - vm)) * inv);
    last = tail_e * inv;
  }
  if (rest) {
    if (accumulate) last += LoadPartial<VF>(y + full, rest);
    StorePartial(y + full, last, rest);
  }
}

/*! \brief m (<= a register) columns of n steps `stride` apart, one softmax per lane. */
MIXNET_SIMD_INLINE void SoftmaxColumns(SoftmaxKind kind, const float* x, float* y, int64_t n,
                                       int64_t stride, int64_t m, float scale, bool accumulate) {
  const VF s = Splat<VF>(scale);
  auto z = [&](int64_t j) { return LoadUpTo(x + j * stride, m) * s; };
  VF vm = Splat<VF>(kNegInf), acc{};
  for (int64_t j = 0; j < n; ++j)
    vm = Max(vm, z(j));
  for (int64_t j = 0; j < n; ++j)
    acc += Exp(z(j) - vm);
  VF log_sum = acc;
  for (int l = 0; l < kWF; ++l)
    log_sum[l] = std::log(acc[l]);
  const VF inv = Splat<VF>(1.0f) / acc;
  for (int64_t j = 0; j < n; ++j) {
    const VF d = z(j) - vm;
    StoreUpTo(y + j * stride, kind == SoftmaxKind::kLogSoftmax ? d - log_sum : Exp(d) * inv, m,
              accumulate);
  }
}

MIXNET_SIMD_INLINE void Softmax(SoftmaxKind kind, const float* x, float* y, int64_t count,
                                int64_t n, int64_t stride, int64_t cols, float scale,
                                bool accumulate) {
  for (int64_t c = 0; c < count; ++c) {
    const int64_t base = c * n * stride;
    if (stride == 1 && cols == 1) {
      SoftmaxRow(kind, x + base, y + base, n, scale, accumulate);
      continue;
    }
    for (int64_t k = 0; k < cols; k += kWF)
      SoftmaxColumns(kind, x + base + k, y + base + k, n, stride, cols - k, scale, accumulate);
  }
}

/*!
 * \brief dx for one slice: with lanes `cross` summed across (a contiguous row) or not (one
 * column per lane); `at(j)` is the offset of step j, `m` the valid lanes there.
 */
template <class At>
MIXNET_SIMD_INLINE void SoftmaxGradSlice(SoftmaxKind kind, const float* dy, const float* y,
                                         float* dx, int64_t steps, At at, bool cross, float scale,
                                         bool accumulate) {
  const bool is_log = kind == SoftmaxKind::kLogSoftmax;
  VF acc{};
  for (int64_t j = 0; j < steps; ++j) {
    const auto [o, m] = at(j);
    const VF g = LoadUpTo(dy + o, m);
    acc += is_log ? g : g * LoadUpTo(y + o, m);
  }
  const VF sum = cross ? Splat<VF>(ReduceAdd(acc)) : acc;
  const VF s = Splat<VF>(scale);
  for (int64_t j = 0; j < steps; ++j) {
    const auto [o, m] = at(j);
    const VF g = LoadUpTo(dy + o, m), v = LoadUpTo(y + o, m);
    StoreUpTo(dx + o, s * (is_log ? g - Exp(v) * sum : v * (g - sum)), m, accumulate);
  }
}

MIXNET_SIMD_INLINE void SoftmaxGrad(SoftmaxKind kind, const float* dy, const float* y, float* dx,
                                    int64_t count, int64_t n, int64_t stride, int64_t cols,
                                    float scale, bool accumulate) {
  struct Step {
    int64_t offset, lanes;
  };
  for (int64_t c = 0; c < count; ++c) {
    const int64_t base = c * n * stride;
    if (stride == 1 && cols == 1) {
      SoftmaxGradSlice(
          kind, dy, y, dx, (n + kWF - 1) / kWF,
          [&](int64_t j) {
            return Step{base + j * kWF, n - j * kWF};
          },
          true, scale, accumulate);
      continue;
    }
    for (int64_t k = 0; k < cols; k += kWF) {
      SoftmaxGradSlice(
          kind, dy, y, dx, n,
          [&](int64_t j) {
            return Step{base + k + j * stride, cols - k};
          },
          false, scale, accumulate);
    }
  }
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
