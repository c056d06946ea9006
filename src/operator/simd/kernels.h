// Entry points of the SIMD kernels, one table per instruction set (NOTE [ SIMD kernels ] in
// vec.h). Each entry is a single-threaded loop; callers split work with ParallelFor.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace mixnet::op::simd {

enum class Isa : uint8_t { kSse2, kAvx2, kAvx512 };

/*!
 * \brief y = f(x). Through kSoftsign, float64 too (plain arithmetic); the rest float32 only
 * (vector exp and log, NOTE [ Vector exp and log ] in vec_math.h).
 */
enum class UnaryOp : uint8_t {
  kNegative,
  kAbs,
  kSquare,
  kSqrt,
  kRsqrt,
  kReciprocal,
  kRelu,  // x > 0 ? x : 0 (NaN gives 0, as the reference)
  kSoftsign,
  kExp,
  kLog,
  kSigmoid,
  kTanh,
  kSoftrelu,
};

inline bool HasFloat64(UnaryOp op) {
  return op <= UnaryOp::kSoftsign;
}

/*! \brief y = f(a, b); comparisons give 1 or 0. */
enum class BinaryOp : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMaximum,    // a >= b ? a : b
  kMinimum,    // a <= b ? a : b
  kMaxStrict,  // a > b ? a : b
  kMinStrict,  // a < b ? a : b
  kEqual,
  kNotEqual,
  kGreater,
  kGreaterEqual,
  kLesser,
  kLesserEqual,
  // Activation gradients, (a, b) = (dy, y) or (dy, x):
  kSigmoidGrad,  // a * b * (1 - b)
  kTanhGrad,     // a * (1 - b * b)
  kReluGrad,     // b > 0 ? a : 0
};

/*! \brief Which operands of a binary op are arrays and which one element (a scalar). */
enum class Operands : uint8_t { kArrayArray, kArrayScalar, kScalarArray };

/*! \brief Folds of a reduction; accumulators are double (max and min are exact in any type). */
enum class ReduceOp : uint8_t {
  kSum,
  kNanSum,  // NaN counts as 0
  kProd,
  kNanProd,  // NaN counts as 1
  kMax,      // NaN propagates
  kMin,
  kSumAbs,
  kSumSquare,
};

/*! \brief The value of an empty fold. */
inline double Identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::kProd:
    case ReduceOp::kNanProd:
      return 1.0;
    case ReduceOp::kMax:
      return -std::numeric_limits<double>::infinity();
    case ReduceOp::kMin:
      return std::numeric_limits<double>::infinity();
    default:
      return 0.0;
  }
}

/*! \brief Merges two partial folds (a first). */
inline double Combine(ReduceOp op, double a, double b) {
  switch (op) {
    case ReduceOp::kProd:
    case ReduceOp::kNanProd:
      return a * b;
    case ReduceOp::kMax:
      return std::isnan(a) || a >= b ? a : b;
    case ReduceOp::kMin:
      return std::isnan(a) || a <= b ? a : b;
    default:
      return a + b;
  }
}

enum class SoftmaxKind : uint8_t { kSoftmax, kLogSoftmax };

template <typename T>
struct TypedKernels {
  /*! \brief y[i] = f(x[i]) for i < n (y[i] += f(x[i]) when accumulate). */
  void (*unary)(UnaryOp op, const T* x, T* y, int64_t n, bool accumulate);
  /*! \brief y[i] = f(a[i], b[i]) for i < n; a scalar operand is read from its one element. */
  void (*binary)(BinaryOp op, Operands operands, const T* a, const T* b, T* y, int64_t n,
                 bool accumulate);
  /*! \brief The fold of x[0, n). */
  double (*reduce)(ReduceOp op, const T* x, int64_t n);
  /*! \brief acc[j] = Combine(acc[j], fold over r < rows of x[r * ld + j]) for j < cols. */
  void (*reduce_cols)(ReduceOp op, const T* x, int64_t rows, int64_t cols, int64_t ld, double* acc);
};

/*!
 * \brief Softmax over `count` slices of n steps along the axis; element (j, c) of slice s is at
 * s * n * stride + j * stride + c, for columns c < cols (stride 1, cols 1: contiguous rows).
 * softmax: y = e^(z - max z) / sum, log_softmax: y = z - max z - log(sum), with z = scale * x.
 */
using SoftmaxFn = void (*)(SoftmaxKind kind, const float* x, float* y, int64_t count, int64_t n,
                           int64_t stride, int64_t cols, float scale, bool accumulate);
/*!
 * \brief Its gradient, laid out the same: softmax dx = scale y (dy - sum(dy y)), log_softmax
 * dx = scale (dy - e^y sum(dy)).
 */
using SoftmaxGradFn = void (*)(SoftmaxKind kind, const float* dy, const float* y, float* dx,
                               int64_t count, int64_t n, int64_t stride, int64_t cols, float scale,
                               bool accumulate);

/*! \brief Row loops of the normalisation layers (float32; nn/norm_rows.h documents them). */
struct NormRowKernels {
  double (*sum_squared_dev)(const float* x, int64_t n, float m);
  void (*grad_sums)(const float* dy, const float* x, int64_t n, float m, double* sum_dy,
                    double* sum_dy_dev);
  void (*affine)(const float* u, const float* v, float* y, int64_t n, float a, float b, float c,
                 bool accumulate);
};

struct Kernels {
  Isa isa;
  TypedKernels<float> f32;
  TypedKernels<double> f64;
  SoftmaxFn softmax;
  SoftmaxGradFn softmax_grad;
  NormRowKernels norm;
};

/*! \brief The widest build this CPU runs, chosen once. */
const Kernels& Best();

/*! \brief The build for `isa`, or null when this CPU cannot run it (for tests). */
const Kernels* ForIsa(Isa isa);

const char* IsaName(Isa isa);

/*! \brief Elements per vector of T in the widest build this CPU runs. */
template <typename T>
int64_t BestLanes() {
  return (Best().isa == Isa::kAvx512 ? 64
          : Best().isa == Isa::kAvx2 ? 32
                                     : 16) /
         static_cast<int64_t>(sizeof(T));
}

}  // namespace mixnet::op::simd
