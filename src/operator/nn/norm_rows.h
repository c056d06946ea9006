// Float32 loops over contiguous rows for the normalisation layers' fast kernels: sums with
// vector-wide float lanes (totals in double) and affine maps, on the SIMD build this CPU runs
// best (simd/norm.h, NOTE [ SIMD kernels ] in simd/vec.h).
#pragma once

#include <cstdint>

namespace mixnet::op::norm {

/*! \brief The sum of x[0, n). */
double RowSum(const float* x, int64_t n);
/*! \brief Mean and biased variance of x[0, n) (n > 0), two passes: sum, then squared deviations. */
void RowMoments(const float* x, int64_t n, double* mean, double* var);
/*! \brief The sum of (x[i] - m)^2 over [0, n). */
double RowSumSquaredDev(const float* x, int64_t n, float m);
/*! \brief Adds the sums of dy[i] and of dy[i] * (x[i] - m) over [0, n) to *sum_dy, *sum_dy_dev. */
void RowGradSums(const float* dy, const float* x, int64_t n, float m, double* sum_dy,
                 double* sum_dy_dev);
/*! \brief y[i] = a * u[i] + b * v[i] + c (plus the old y[i] when `add`); v may be null (b = 0). */
void RowAffine(const float* u, const float* v, float* y, int64_t n, float a, float b, float c,
               bool add);

}  // namespace mixnet::op::norm
