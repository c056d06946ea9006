#include "operator/nn/norm_rows.h"

// Each loop keeps kLanes independent float partial sums so the compiler vectorises it without
// reassociating a single accumulator (which strict IEEE semantics forbid).
#define MIXNET_ROW_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))

namespace mixnet::op::norm {
namespace {
constexpr int kLanes = 16;
}  // namespace

MIXNET_ROW_KERNEL double RowSum(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j)
      acc[j] += x[i + j];
  double s = 0;
  for (int j = 0; j < kLanes; ++j)
    s += acc[j];
  for (; i < n; ++i)
    s += x[i];
  return s;
}

MIXNET_ROW_KERNEL double RowSumSquaredDev(const float* x, int64_t n, float m) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - m;
      acc[j] += d * d;
    }
  double s = 0;
  for (int j = 0; j < kLanes; ++j)
    s += acc[j];
  for (; i < n; ++i) {
    const double d = x[i] - m;
    s += d * d;
  }
  return s;
}

MIXNET_ROW_KERNEL void RowGradSums(const float* dy, const float* x, int64_t n, float m,
                                   double* sum_dy, double* sum_dy_dev) {
  float a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      a[j] += dy[i + j];
      b[j] += dy[i + j] * (x[i + j] - m);
    }
  double s = 0, t = 0;
  for (int j = 0; j < kLanes; ++j) {
    s += a[j];
    t += b[j];
  }
  for (; i < n; ++i) {
    s += dy[i];
    t += static_cast<double>(dy[i]) * (x[i] - m);
  }
  *sum_dy += s;
  *sum_dy_dev += t;
}

MIXNET_ROW_KERNEL void RowAffine(const float* u, const float* v, float* y, int64_t n, float a,
                                 float b, float c, bool add) {
  if (v == nullptr) {
    if (add) {
      for (int64_t i = 0; i < n; ++i)
        y[i] += a * u[i] + c;
    } else {
      for (int64_t i = 0; i < n; ++i)
        y[i] = a * u[i] + c;
    }
    return;
  }
  if (add) {
    for (int64_t i = 0; i < n; ++i)
      y[i] += a * u[i] + b * v[i] + c;
  } else {
    for (int64_t i = 0; i < n; ++i)
      y[i] = a * u[i] + b * v[i] + c;
  }
}

}  // namespace mixnet::op::norm
