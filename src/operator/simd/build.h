// One build of the SIMD kernels for the instruction set a kernels_<isa>.cc names before
// including this (NOTE [ SIMD kernels ] in vec.h): the standard headers first, then, with
// `#pragma GCC target` in force to the end of the file, the kernel templates and ISA::Table(),
// the build's entry points. kernels.cc calls Table() only once the CPU is known to run it.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "operator/simd/kernels.h"

// Every function below is compiled for the target, so GCC's note that vector arguments change
// the ABI without it does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#define MIXNET_SIMD_PRAGMA(x) _Pragma(#x)
#define MIXNET_SIMD_TARGET_PRAGMA(t) MIXNET_SIMD_PRAGMA(GCC target(t))

MIXNET_SIMD_TARGET_PRAGMA(MIXNET_SIMD_TARGET)

#include "operator/simd/map.h"
#include "operator/simd/norm.h"
#include "operator/simd/reduce.h"
#include "operator/simd/softmax.h"

namespace mixnet::op::simd::MIXNET_SIMD_ISA {

template <typename T>
void UnaryEntry(UnaryOp op, const T* x, T* y, int64_t n, bool accumulate) {
  Unary(op, x, y, n, accumulate);
}

template <typename T>
void BinaryEntry(BinaryOp op, Operands operands, const T* a, const T* b, T* y, int64_t n,
                 bool accumulate) {
  Binary(op, operands, a, b, y, n, accumulate);
}

template <typename T>
double ReduceEntry(ReduceOp op, const T* x, int64_t n) {
  return Reduce(op, x, n);
}

template <typename T>
void ReduceColsEntry(ReduceOp op, const T* x, int64_t rows, int64_t cols, int64_t ld, double* acc) {
  ReduceCols(op, x, rows, cols, ld, acc);
}

inline void SoftmaxEntry(SoftmaxKind kind, const float* x, float* y, int64_t count, int64_t n,
                         int64_t stride, int64_t cols, float scale, bool accumulate) {
  Softmax(kind, x, y, count, n, stride, cols, scale, accumulate);
}

inline void SoftmaxGradEntry(SoftmaxKind kind, const float* dy, const float* y, float* dx,
                             int64_t count, int64_t n, int64_t stride, int64_t cols, float scale,
                             bool accumulate) {
  SoftmaxGrad(kind, dy, y, dx, count, n, stride, cols, scale, accumulate);
}

template <typename T>
constexpr TypedKernels<T> kTyped = {UnaryEntry<T>, BinaryEntry<T>, ReduceEntry<T>,
                                    ReduceColsEntry<T>};

const Kernels& Table() {
  static constexpr Kernels kTable = {.isa = kBytes == 64   ? Isa::kAvx512
                                            : kBytes == 32 ? Isa::kAvx2
                                                           : Isa::kSse2,
                                     .f32 = kTyped<float>,
                                     .f64 = kTyped<double>,
                                     .softmax = SoftmaxEntry,
                                     .softmax_grad = SoftmaxGradEntry,
                                     .norm = {RowSumSquaredDev, RowGradSums, RowAffine}};
  return kTable;
}

}  // namespace mixnet::op::simd::MIXNET_SIMD_ISA
