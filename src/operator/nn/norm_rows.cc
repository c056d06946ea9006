#include "operator/nn/norm_rows.h"

#include "operator/simd/kernels.h"

namespace mixnet::op::norm {

double RowSum(const float* x, int64_t n) {
  return simd::Best().f32.reduce(simd::ReduceOp::kSum, x, n);
}

void RowMoments(const float* x, int64_t n, double* mean, double* var) {
  *mean = RowSum(x, n) / static_cast<double>(n);
  *var = RowSumSquaredDev(x, n, static_cast<float>(*mean)) / static_cast<double>(n);
}

double RowSumSquaredDev(const float* x, int64_t n, float m) {
  return simd::Best().norm.sum_squared_dev(x, n, m);
}

void RowGradSums(const float* dy, const float* x, int64_t n, float m, double* sum_dy,
                 double* sum_dy_dev) {
  simd::Best().norm.grad_sums(dy, x, n, m, sum_dy, sum_dy_dev);
}

void RowAffine(const float* u, const float* v, float* y, int64_t n, float a, float b, float c,
               bool add) {
  simd::Best().norm.affine(u, v, y, n, a, b, c, add);
}

}  // namespace mixnet::op::norm
