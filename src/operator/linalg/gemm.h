// Matrix products shared by dot, batch_dot, linalg_gemm, FullyConnected and the convolutions:
// one row-major GEMM through OpenBLAS (float32/float64) and a plain loop that is the reference.
//
// NOTE [ GEMM backends ]
// OpenBLAS's DYNAMIC_ARCH picks its kernels by CPU model name when the library loads; on
// virtualised CPUs without a known name (this project's machines among them) it falls back to
// SSE3 kernels: 35 GFLOP/s instead of about 205 on sgemm 1024^3. OPENBLAS_CORETYPE (SkylakeX,
// Haswell) set before the process starts fixes that; scripts/main.sh and benchmarks/run.sh set
// it from /proc/cpuinfo. oneDNN's sgemm dispatches on CPU features (238 GFLOP/s here), but
// oneDNN 2.6 crashed intermittently in its one-time JIT initialisation, so it is not used yet.
#pragma once

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "operator/tensor/elemwise.h"

namespace mixnet::op {

/*!
 * \brief c = alpha * op(a) * op(b) + beta * c with op(a) m x k and op(b) k x n, row-major with
 * leading dims lda, ldb, ldc (a stored k x m when ta, b stored n x k when tb). beta == 0 never
 * reads c, so c may hold garbage.
 */
template <typename T>
void ReferenceGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a,
                   int64_t lda, const T* b, int64_t ldb, double beta, T* c, int64_t ldc) {
  // The reference is the test oracle: accumulate in double whatever the element type.
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n * k));
  ParallelFor(m, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double x =
              static_cast<double>(ComputeType<T>(ta ? a[p * lda + i] : a[i * lda + p]));
          const double y =
              static_cast<double>(ComputeType<T>(tb ? b[j * ldb + p] : b[p * ldb + j]));
          acc += x * y;
        }
        T& out = c[i * ldc + j];
        const double prev = beta == 0 ? 0.0 : beta * static_cast<double>(ComputeType<T>(out));
        out = T(static_cast<ComputeType<T>>(alpha * acc + prev));
      }
    }
  });
}

/*! \brief The same through cblas_sgemm/dgemm (BlasSupports has checked dtype and sizes). */
template <typename T>
void BlasGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a,
              int64_t lda, const T* b, int64_t ldb, double beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS rejects zero leading dims; the product is empty
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == 0 ? T(0) : T(beta * c[i * ldc + j]);
    return;
  }
  const auto tra = ta ? CblasTrans : CblasNoTrans;
  const auto trb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, tra, trb, int(m), int(n), int(k), float(alpha), a, int(lda), b,
                int(ldb), float(beta), c, int(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, tra, trb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb),
                beta, c, int(ldc));
  }
}

/*! \brief BlasGemm when kBlas and T is float or double, else ReferenceGemm. */
template <bool kBlas, typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, double beta, T* c, int64_t ldc) {
  if constexpr (kBlas && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
    BlasGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    ReferenceGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

/*! \brief SupportsFn of BLAS kernels: float32/float64 arrays whose sizes fit BLAS's int. */
inline std::string BlasSupports(const Attrs&, std::span<const TBlob> in,
                                std::span<const TBlob> out) {
  for (const TBlob& b : out) {
    if (b.dtype != DType::kFloat32 && b.dtype != DType::kFloat64) {
      return std::string("OpenBLAS has no ") + DTypeName(b.dtype) + " gemm";
    }
  }
  for (auto blobs : {in, out}) {
    for (const TBlob& b : blobs) {
      if (b.Size() > INT_MAX) return "an array has more elements than BLAS's 32-bit int indexes";
    }
  }
  return "";
}

/*! \brief Writes v to *y as `req` asks (kAdd accumulates). */
template <typename T, typename V>
void Store(T* y, OpReq req, V v) {
  using C = ComputeType<T>;
  *y = req == OpReq::kAdd ? T(C(*y) + C(v)) : T(C(v));
}

/*! \brief GEMM's beta for an output written as `req`. */
inline double BetaFor(OpReq req) {
  return req == OpReq::kAdd ? 1.0 : 0.0;
}

}  // namespace mixnet::op
