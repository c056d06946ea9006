// Shared by the normalisation layers: element access by dtype, deterministic chunked
// reductions, and the grouped mean/variance normalisation behind LayerNorm, GroupNorm and
// InstanceNorm (and the grouped sums of L2Normalization).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "operator/tensor/elemwise.h"

namespace mixnet::op::norm {

template <typename T>
double Load(T v) {
  return static_cast<double>(static_cast<ComputeType<T>>(v));
}

/*! \brief Writes v to *dst as `req` says. */
template <typename T>
void Put(T* dst, double v, OpReq req) {
  if (req == OpReq::kNull) return;
  if (req == OpReq::kAdd) v += Load(*dst);
  *dst = T(static_cast<ComputeType<T>>(v));
}

/*! \brief `axis` in [-ndim, ndim) made non-negative; ValueError naming the op otherwise. */
int CanonicalAxis(const Attrs& attrs, int axis, int ndim);

/*! \brief Data must have at least `min_ndim` dimensions; ValueError naming the op otherwise. */
void CheckNDim(const Attrs& attrs, const Shape& data, int min_ndim);

/*!
 * \brief Calls f(chunk, begin, end) over [0, n) split into at most one chunk per thread, so a
 * caller can keep per-chunk partial sums and add them in chunk order (deterministic results).
 * Returns the number of chunks.
 */
template <typename F>
int64_t ForChunks(int64_t n, int64_t cost_per_item, F f) {
  int64_t threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  const int64_t work = n * std::max<int64_t>(cost_per_item, 1);
  const int64_t chunks =
      std::clamp<int64_t>(work / kElementwiseGrain, 1, std::max<int64_t>(std::min(threads, n), 1));
  const int64_t step = (n + chunks - 1) / chunks;
  ParallelFor(chunks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c)
      f(c, std::min(n, c * step), std::min(n, (c + 1) * step));
  });
  return chunks;
}

/*!
 * \brief `groups` sets of `count` elements each: element k of group g sits at
 * Offset(g) + k * stride and is scaled by gamma[Channel(g, k)].
 */
struct GroupLayout {
  int64_t groups = 0;
  int64_t count = 0;
  int64_t inner = 1;  // groups that interleave with stride `stride` (LayerNorm on a middle axis)
  int64_t outer_step = 0;
  int64_t stride = 1;
  int64_t group_mod = 1;  // Channel(g, k) = (g % group_mod) * group_channels + k / channel_div
  int64_t group_channels = 0;
  int64_t channel_div = 1;
  int64_t channels = 0;  // size of gamma and beta

  int64_t Offset(int64_t g) const { return (g / inner) * outer_step + g % inner; }
  int64_t Channel(int64_t g, int64_t k) const {
    return (g % group_mod) * group_channels + k / channel_div;
  }
};

/*! \brief Mean and biased variance of group g (two passes, in double). */
template <typename T>
void GroupMoments(const GroupLayout& l, const T* x, int64_t g, double* mean, double* var) {
  const T* p = x + l.Offset(g);
  double s = 0;
  for (int64_t k = 0; k < l.count; ++k)
    s += Load(p[k * l.stride]);
  const double m = l.count > 0 ? s / static_cast<double>(l.count) : 0.0;
  double v = 0;
  for (int64_t k = 0; k < l.count; ++k) {
    const double d = Load(p[k * l.stride]) - m;
    v += d * d;
  }
  *mean = m;
  *var = l.count > 0 ? v / static_cast<double>(l.count) : 0.0;
}

/*!
 * \brief y = (x - mean) / sqrt(var + eps) * gamma + beta per group; writes each group's mean
 * and std (sqrt(var + eps)) where those outputs are given.
 */
template <typename T>
void AffineNormForward(const GroupLayout& l, double eps, const T* x, const T* gamma, const T* beta,
                       std::span<const OpReq> req, T* y, T* mean_out, T* std_out) {
  ForChunks(l.groups, l.count, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t g = lo; g < hi; ++g) {
      double mean, var;
      GroupMoments(l, x, g, &mean, &var);
      const double sd = std::sqrt(var + eps);
      const int64_t off = l.Offset(g);
      for (int64_t k = 0; k < l.count; ++k) {
        const int64_t i = off + k * l.stride;
        const int64_t c = l.Channel(g, k);
        Put(y + i, (Load(x[i]) - mean) / sd * Load(gamma[c]) + Load(beta[c]), req[0]);
      }
      if (mean_out) Put(mean_out + g, mean, req[1]);
      if (std_out) Put(std_out + g, sd, req[2]);
    }
  });
}

/*!
 * \brief Backward of AffineNormForward. With xh = (x - mean) / sd and dxh = dy * gamma:
 * dx = (dxh - mean(dxh) - xh * mean(dxh * xh)) / sd, plus dmean / n + dstd * xh / n from the
 * gradients flowing into the mean and std outputs (null when those outputs are hidden).
 */
template <typename T>
void AffineNormBackward(const GroupLayout& l, double eps, const T* x, const T* gamma, const T* dy,
                        const T* dmean, const T* dstd, std::span<const OpReq> req, T* dx, T* dgamma,
                        T* dbeta) {
  const size_t nc = static_cast<size_t>(l.channels);
  std::vector<std::vector<double>> partial;  // per chunk: dgamma then dbeta
  int64_t threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  partial.assign(static_cast<size_t>(std::max<int64_t>(threads, 1)), {});
  const int64_t chunks = ForChunks(l.groups, l.count, [&](int64_t chunk, int64_t lo, int64_t hi) {
    std::vector<double>& acc = partial[static_cast<size_t>(chunk)];
    acc.assign(2 * nc, 0.0);
    const double n = static_cast<double>(l.count);
    for (int64_t g = lo; g < hi; ++g) {
      double mean, var;
      GroupMoments(l, x, g, &mean, &var);
      const double inv = 1.0 / std::sqrt(var + eps);
      const int64_t off = l.Offset(g);
      double sum_dxh = 0, sum_dxh_xh = 0;
      for (int64_t k = 0; k < l.count; ++k) {
        const int64_t i = off + k * l.stride;
        const size_t c = static_cast<size_t>(l.Channel(g, k));
        const double xh = (Load(x[i]) - mean) * inv;
        const double d = Load(dy[i]);
        acc[c] += d * xh;
        acc[nc + c] += d;
        sum_dxh += d * Load(gamma[c]);
        sum_dxh_xh += d * Load(gamma[c]) * xh;
      }
      const double dm = dmean ? Load(dmean[g]) : 0.0;
      const double ds = dstd ? Load(dstd[g]) : 0.0;
      for (int64_t k = 0; k < l.count; ++k) {
        const int64_t i = off + k * l.stride;
        const double xh = (Load(x[i]) - mean) * inv;
        const double dxh = Load(dy[i]) * Load(gamma[l.Channel(g, k)]);
        Put(dx + i, (dxh - sum_dxh / n - xh * sum_dxh_xh / n) * inv + (dm + ds * xh) / n, req[0]);
      }
    }
  });
  for (size_t c = 0; c < nc; ++c) {
    double dg = 0, db = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      const auto& acc = partial[static_cast<size_t>(k)];
      if (acc.empty()) continue;
      dg += acc[c];
      db += acc[nc + c];
    }
    Put(dgamma + c, dg, req[1]);
    Put(dbeta + c, db, req[2]);
  }
}

/*! \brief The group layout of an op's data (from its attributes). */
using LayoutFn = GroupLayout (*)(const Attrs& attrs, const Shape& data);

/*!
 * \brief Shapes of a grouped affine normalisation: forward in (data, gamma, beta), out (output
 * [, mean, std]); backward in (data, gamma, ograd [, mean_grad, std_grad]), out (data_grad,
 * gamma_grad, beta_grad). gamma and beta are (channels,), the statistics `stats`.
 */
void InferAffineNorm(const Attrs& attrs, bool backward, const Shape& param, const Shape& stats,
                     std::vector<Shape>* in, std::vector<Shape>* out);

/*! \brief Forward kernel: in (data, gamma, beta), out (output [, mean, std]). */
template <typename P>
ComputeFn AffineNormForwardKernel(LayoutFn layout) {
  return [layout](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
    const GroupLayout l = layout(attrs, in[0].shape);
    DispatchFloat(in[0].dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const bool stats = out.size() > 1;
      AffineNormForward(l, attrs.param<P>().eps, in[0].data<T>(), in[1].data<T>(), in[2].data<T>(),
                        req, out[0].data<T>(), stats ? out[1].data<T>() : nullptr,
                        stats ? out[2].data<T>() : nullptr);
    });
  };
}

/*! \brief Backward kernel: in (data, gamma, ograd [, mean_grad, std_grad]). */
template <typename P>
ComputeFn AffineNormBackwardKernel(LayoutFn layout) {
  return [layout](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
    const GroupLayout l = layout(attrs, in[0].shape);
    DispatchFloat(in[0].dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const bool stats = in.size() > 3;
      AffineNormBackward(l, attrs.param<P>().eps, in[0].data<T>(), in[1].data<T>(), in[2].data<T>(),
                         stats ? in[3].data<T>() : nullptr, stats ? in[4].data<T>() : nullptr, req,
                         out[0].data<T>(), out[1].data<T>(), out[2].data<T>());
    });
  };
}

/*!
 * \brief Float32 kernels for layouts whose groups are contiguous rows with one gamma and beta
 * each (InstanceNorm, MXNet's GroupNorm): vector row loops (norm_rows.h) instead of the
 * per-element double arithmetic above. The support check declines other layouts and dtypes.
 */
SupportsFn AffineNormRowsSupports(LayoutFn layout);
void AffineNormRowsForward(const GroupLayout& l, double eps, std::span<const TBlob> in,
                           std::span<const OpReq> req, std::span<const TBlob> out);
void AffineNormRowsBackward(const GroupLayout& l, double eps, std::span<const TBlob> in,
                            std::span<const OpReq> req, std::span<const TBlob> out);

template <typename P>
ComputeFn AffineNormRowsForwardKernel(LayoutFn layout) {
  return [layout](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
    AffineNormRowsForward(layout(attrs, in[0].shape), attrs.param<P>().eps, in, req, out);
  };
}

template <typename P>
ComputeFn AffineNormRowsBackwardKernel(LayoutFn layout) {
  return [layout](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
    AffineNormRowsBackward(layout(attrs, in[0].shape), attrs.param<P>().eps, in, req, out);
  };
}

/*! \brief Gradient through op `backward` (the kernel above) w.r.t. data, gamma and beta. */
GradientFn AffineNormGradient(const char* backward);

/*! \brief Backward input names: the stats' gradients when the forward outputs them. */
std::vector<std::string> AffineNormBackwardInputs(bool output_mean_var);

}  // namespace mixnet::op::norm
