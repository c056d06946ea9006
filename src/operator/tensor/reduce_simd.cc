#include "operator/tensor/reduce_simd.h"

#include <algorithm>
#include <cmath>

#include "operator/parallel.h"
#include "operator/tensor/elemwise_simd.h"

namespace mixnet::op {
namespace {

/*! \brief Elements per partial fold of a long row. */
constexpr int64_t kRowBlock = 32768;
/*! \brief Columns per task when reducing over leading dims. */
constexpr int64_t kColumnBlock = 256;

template <typename T>
void Reduce(const simd::TypedKernels<T>& k, SimdFold fold, const ReduceBlock& v, const T* x,
            OpReq req, T* y) {
  const simd::ReduceOp op = fold.op;
  auto store = [&](int64_t o, double acc) {
    const double r = fold.finish == ReduceFinish::kMean   ? acc / static_cast<double>(v.reduced)
                     : fold.finish == ReduceFinish::kSqrt ? std::sqrt(acc)
                                                          : acc;
    y[o] = req == OpReq::kAdd ? T(y[o] + T(r)) : T(r);
  };
  if (v.inner == 1) {
    const int64_t blocks = (v.reduced + kRowBlock - 1) / kRowBlock;
    if (blocks == 1) {
      ParallelFor(v.outer, std::max<int64_t>(1, kElementwiseGrain / v.reduced),
                  [&](int64_t lo, int64_t hi) {
                    for (int64_t o = lo; o < hi; ++o)
                      store(o, k.reduce(op, x + o * v.reduced, v.reduced));
                  });
      return;
    }
    std::vector<double> part(static_cast<size_t>(v.outer * blocks));
    ParallelFor(v.outer * blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t o = t / blocks, b = (t % blocks) * kRowBlock;
        part[static_cast<size_t>(t)] =
            k.reduce(op, x + o * v.reduced + b, std::min(kRowBlock, v.reduced - b));
      }
    });
    for (int64_t o = 0; o < v.outer; ++o) {
      double acc = part[static_cast<size_t>(o * blocks)];
      for (int64_t b = 1; b < blocks; ++b)
        acc = simd::Combine(op, acc, part[static_cast<size_t>(o * blocks + b)]);
      store(o, acc);
    }
    return;
  }
  std::vector<double> acc(static_cast<size_t>(v.outer * v.inner), simd::Identity(op));
  const int64_t chunks = (v.inner + kColumnBlock - 1) / kColumnBlock;
  const int64_t per_task = v.reduced * std::min(kColumnBlock, v.inner);
  ParallelFor(v.outer * chunks, std::max<int64_t>(1, kElementwiseGrain / per_task),
              [&](int64_t lo, int64_t hi) {
                for (int64_t t = lo; t < hi; ++t) {
                  const int64_t o = t / chunks, c = (t % chunks) * kColumnBlock;
                  k.reduce_cols(op, x + o * v.reduced * v.inner + c, v.reduced,
                                std::min(kColumnBlock, v.inner - c), v.inner,
                                acc.data() + o * v.inner + c);
                }
              });
  for (int64_t o = 0; o < v.outer * v.inner; ++o)
    store(o, acc[static_cast<size_t>(o)]);
}

}  // namespace

std::optional<ReduceBlock> AsReduceBlock(const Shape& s, const std::vector<bool>& reduced) {
  ReduceBlock b;
  enum { kBefore, kInside, kAfter } at = kBefore;
  for (int d = 0; d < s.ndim(); ++d) {
    if (s[d] == 1) continue;
    if (reduced[static_cast<size_t>(d)]) {
      if (at == kAfter) return std::nullopt;
      at = kInside;
      b.reduced *= s[d];
    } else {
      if (at == kInside) at = kAfter;
      (at == kBefore ? b.outer : b.inner) *= s[d];
    }
  }
  return b;
}

std::string SimdReduceSupport(const TBlob& in, const std::vector<bool>& reduced, const TBlob& out) {
  const TBlob blobs[] = {in};
  std::string why = SimdDTypeSupport(blobs, std::span<const TBlob>(&out, 1));
  if (!why.empty()) return why;
  if (in.Size() == 0) return "empty input";
  if (!AsReduceBlock(in.shape, reduced)) return "reduced dims are not adjacent";
  return "";
}

void SimdReduce(SimdFold fold, const TBlob& in, const std::vector<bool>& reduced, OpReq req,
                const TBlob& out) {
  if (req == OpReq::kNull || out.Size() == 0) return;
  const ReduceBlock v = *AsReduceBlock(in.shape, reduced);
  if (in.dtype == DType::kFloat64) {
    Reduce(simd::Best().f64, fold, v, in.data<double>(), req, out.data<double>());
  } else {
    Reduce(simd::Best().f32, fold, v, in.data<float>(), req, out.data<float>());
  }
}

}  // namespace mixnet::op
