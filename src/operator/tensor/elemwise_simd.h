// "simd" kernels of the element-wise families: the vector loops of operator/simd (NOTE [ SIMD
// kernels ] in simd/vec.h) split over threads. They take float32, and float64 where the op is
// plain arithmetic; other dtypes go to the reference kernels, which stay the oracle.
#pragma once

#include <algorithm>
#include <string>

#include "operator/op_def.h"
#include "operator/parallel.h"
#include "operator/simd/kernels.h"

namespace mixnet::op {

/*! \brief A binary op's vector form; for scalar ops, which side the scalar attribute is on. */
struct SimdBinary {
  simd::BinaryOp op;
  simd::Operands operands = simd::Operands::kArrayArray;
};

/*! \brief Why the simd kernels cannot take these dtypes, or "". */
std::string SimdDTypeSupport(std::span<const TBlob> in, std::span<const TBlob> out,
                             bool float64 = true);

/*! \brief out = f(in) (out += f(in) for kAdd); the dtypes must pass SimdDTypeSupport. */
void SimdUnary(simd::UnaryOp op, const TBlob& in, OpReq req, const TBlob& out);

/*! \brief Registers kernel "simd" for a unary op (before its reference kernel). */
void AddSimdUnaryKernel(OpDef& def, simd::UnaryOp op);

/*! \brief Registers "simd" for a same-shape binary op or, with kArrayScalar/kScalarArray, for a
 * scalar op (ScalarParam). */
void AddSimdBinaryKernel(OpDef& def, SimdBinary f);

/*! \brief Registers "simd" for a broadcasting binary op. */
void AddSimdBroadcastKernel(OpDef& def, simd::BinaryOp op);

/*!
 * \brief ParallelFor over [0, n) with chunks starting on 64-byte boundaries of float data (so
 * threads never share a cache line of the output).
 */
template <typename F>
void ParallelForAligned(int64_t n, int64_t grain, F&& f) {
  constexpr int64_t kAlign = 16;
  ParallelFor((n + kAlign - 1) / kAlign, std::max<int64_t>(1, grain / kAlign),
              [&](int64_t lo, int64_t hi) { f(lo * kAlign, std::min(n, hi * kAlign)); });
}

}  // namespace mixnet::op
