// BatchNorm (MXNet 1.x): per-channel normalisation with batch statistics in training and moving
// statistics otherwise; the moving statistics are aux states the training forward updates.
#include <cmath>
#include <optional>

#include "operator/nn/norm_rows.h"
#include "operator/nn/norm_util.h"

namespace mixnet::op {
namespace {

using norm::Load;
using norm::Put;

struct BatchNormParam {
  double eps = 1e-3;
  double momentum = 0.9;
  bool fix_gamma = true;
  bool use_global_stats = false;
  bool output_mean_var = false;
  int axis = 1;
  bool cudnn_off = false;
  std::optional<double> min_calib_range;
  std::optional<double> max_calib_range;
  static void Declare(ParamDecl<BatchNormParam>& d) {
    d.Field("eps", &BatchNormParam::eps)
        .Default(1e-3)
        .Lower(0.0)
        .Doc("Epsilon to prevent division by zero.");
    d.Field("momentum", &BatchNormParam::momentum)
        .Default(0.9)
        .Doc("Momentum for the moving average.");
    d.Field("fix_gamma", &BatchNormParam::fix_gamma)
        .Default(true)
        .Doc("Fix gamma at 1 (its gradient is then 0).");
    d.Field("use_global_stats", &BatchNormParam::use_global_stats)
        .Default(false)
        .Doc("Normalise with the moving statistics in training too.");
    d.Field("output_mean_var", &BatchNormParam::output_mean_var)
        .Default(false)
        .Doc("Also output the mean and the inverse std.");
    d.Field("axis", &BatchNormParam::axis).Default(1).Doc("The channel axis.");
    d.Field("cudnn_off", &BatchNormParam::cudnn_off).Default(false).Doc("Ignored (no cuDNN).");
    d.Field("min_calib_range", &BatchNormParam::min_calib_range)
        .Default(std::nullopt)
        .Doc("Quantization calibration; ignored by the float op.");
    d.Field("max_calib_range", &BatchNormParam::max_calib_range)
        .Default(std::nullopt)
        .Doc("Quantization calibration; ignored by the float op.");
  }
};

/*! \brief Data viewed as (pre, channels, post) around the channel axis. */
struct ChannelLayout {
  int64_t pre = 1, channels = 1, post = 1;
  ChannelLayout(const Attrs& attrs, const Shape& s) {
    const int axis = norm::CanonicalAxis(attrs, attrs.param<BatchNormParam>().axis, s.ndim());
    pre = s.ProdDims(0, axis);
    channels = s[axis];
    post = s.ProdDims(axis + 1, s.ndim());
  }
  int64_t Count() const { return pre * post; }
  int64_t Grain() const {
    return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, Count()));
  }
  /*! \brief Calls f(i) for every element index of channel c. */
  template <typename F>
  void ForChannel(int64_t c, F f) const {
    for (int64_t p = 0; p < pre; ++p) {
      const int64_t base = (p * channels + c) * post;
      for (int64_t q = 0; q < post; ++q)
        f(base + q);
    }
  }
};

bool UsesBatchStats(const OpContext& ctx, const BatchNormParam& p) {
  return ctx.is_train && !p.use_global_stats;
}

/*!
 * \brief Mean and inverse std of channel c as the forward normalises: batch statistics (biased
 * variance, as MXNet) or the moving ones. An empty batch has mean 0 and variance 0.
 */
template <typename T>
void ChannelStats(const ChannelLayout& l, const T* x, const T* mm, const T* mv, bool batch,
                  int64_t c, double* mean, double* var) {
  if (!batch) {
    *mean = Load(mm[c]);
    *var = Load(mv[c]);
    return;
  }
  double s = 0;
  l.ForChannel(c, [&](int64_t i) { s += Load(x[i]); });
  const double n = static_cast<double>(l.Count());
  const double m = l.Count() > 0 ? s / n : 0.0;
  double v = 0;
  l.ForChannel(c, [&](int64_t i) {
    const double d = Load(x[i]) - m;
    v += d * d;
  });
  *mean = m;
  *var = l.Count() > 0 ? v / n : 0.0;
}

std::vector<std::string> ForwardOutputs(const Attrs& attrs) {
  if (attrs.param<BatchNormParam>().output_mean_var) return {"output", "mean", "var"};
  return {"output"};
}

void InferForward(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  norm::CheckNDim(attrs, data, 1);
  const int axis = norm::CanonicalAxis(attrs, attrs.param<BatchNormParam>().axis, data.ndim());
  const Shape param{data[axis]};
  for (size_t i = 1; i < in->size(); ++i)
    AssignShape(attrs, InputName(attrs, i), &(*in)[i], param);
  AssignShape(attrs, "output", &(*out)[0], data);
  for (size_t i = 1; i < out->size(); ++i)
    AssignShape(attrs, i == 1 ? "mean" : "var", &(*out)[i], param);
}

// in: data, gamma, beta, moving_mean, moving_var. out: output [, mean, var (the inverse std)].
void Forward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
             std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<BatchNormParam>();
  const ChannelLayout l(attrs, in[0].shape);
  const bool batch = UsesBatchStats(ctx, p);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    const T* gamma = in[1].data<T>();
    const T* beta = in[2].data<T>();
    T* mm = in[3].data<T>();
    T* mv = in[4].data<T>();
    T* y = out[0].data<T>();
    ParallelFor(l.channels, l.Grain(), [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        double mean, var;
        ChannelStats(l, x, mm, mv, batch, c, &mean, &var);
        const double invstd = 1.0 / std::sqrt(var + p.eps);
        const double scale = (p.fix_gamma ? 1.0 : Load(gamma[c])) * invstd;
        const double shift = Load(beta[c]);
        l.ForChannel(c,
                     [&](int64_t i) { Put(y + i, (Load(x[i]) - mean) * scale + shift, req[0]); });
        if (out.size() > 1) {
          Put(out[1].data<T>() + c, mean, req[1]);
          Put(out[2].data<T>() + c, invstd, req[2]);
        }
        if (batch && l.Count() > 0) {
          mm[c] =
              T(static_cast<ComputeType<T>>(Load(mm[c]) * p.momentum + mean * (1 - p.momentum)));
          mv[c] = T(static_cast<ComputeType<T>>(Load(mv[c]) * p.momentum + var * (1 - p.momentum)));
        }
      }
    });
  });
}

std::vector<std::string> BackwardInputs(const Attrs& attrs) {
  std::vector<std::string> names{"data", "gamma", "moving_mean", "moving_var", "ograd"};
  if (attrs.param<BatchNormParam>().output_mean_var) {
    names.push_back("mean_grad");
    names.push_back("var_grad");
  }
  return names;
}

void InferBackward(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  norm::CheckNDim(attrs, data, 1);
  const int axis = norm::CanonicalAxis(attrs, attrs.param<BatchNormParam>().axis, data.ndim());
  const Shape param{data[axis]};
  for (size_t i = 1; i < in->size(); ++i)
    AssignShape(attrs, InputName(attrs, i), &(*in)[i], i == 4 ? data : param);
  AssignShape(attrs, "data_grad", &(*out)[0], data);
  for (size_t i = 1; i < out->size(); ++i)
    AssignShape(attrs, "parameter gradient", &(*out)[i], param);
}

// The mode comes from the context, as in MXNet: autograd runs the backward in the mode it
// recorded. Batch statistics are recomputed (they are cheap next to the backward itself and
// exist whether or not the forward exposed them). In inference the normalisation is affine in
// the moving statistics, so they get their true gradient (MXNet gives aux states none); with
// batch statistics the output does not depend on them.
void Backward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
              std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<BatchNormParam>();
  const ChannelLayout l(attrs, in[0].shape);
  const bool batch = UsesBatchStats(ctx, p);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    const T* gamma = in[1].data<T>();
    const T* mm = in[2].data<T>();
    const T* mv = in[3].data<T>();
    const T* dy = in[4].data<T>();
    const T* dmean = in.size() > 5 ? in[5].data<T>() : nullptr;
    const T* dinv = in.size() > 5 ? in[6].data<T>() : nullptr;
    T* dx = out[0].data<T>();
    ParallelFor(l.channels, l.Grain(), [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        double mean, var;
        ChannelStats(l, x, mm, mv, batch, c, &mean, &var);
        const double inv = 1.0 / std::sqrt(var + p.eps);
        const double g = p.fix_gamma ? 1.0 : Load(gamma[c]);
        double sum_dy = 0, sum_dy_xh = 0;
        l.ForChannel(c, [&](int64_t i) {
          const double d = Load(dy[i]);
          sum_dy += d;
          sum_dy_xh += d * (Load(x[i]) - mean) * inv;
        });
        const double dm = dmean ? Load(dmean[c]) : 0.0;
        const double di = dinv ? Load(dinv[c]) : 0.0;
        if (batch) {
          const double n = static_cast<double>(std::max<int64_t>(l.Count(), 1));
          // d mean / dx = 1/n and d invstd / dx = -invstd^2 * xh / n.
          l.ForChannel(c, [&](int64_t i) {
            const double xh = (Load(x[i]) - mean) * inv;
            const double v = g * inv * (Load(dy[i]) - sum_dy / n - xh * sum_dy_xh / n) +
                             (dm - di * inv * inv * xh) / n;
            Put(dx + i, v, req[0]);
          });
          Put(out[3].data<T>() + c, 0.0, req[3]);
          Put(out[4].data<T>() + c, 0.0, req[4]);
        } else {
          l.ForChannel(c, [&](int64_t i) { Put(dx + i, g * inv * Load(dy[i]), req[0]); });
          Put(out[3].data<T>() + c, -g * inv * sum_dy + dm, req[3]);
          Put(out[4].data<T>() + c, -0.5 * inv * inv * (g * sum_dy_xh + inv * di), req[4]);
        }
        Put(out[1].data<T>() + c, p.fix_gamma ? 0.0 : sum_dy_xh, req[1]);
        Put(out[2].data<T>() + c, sum_dy, req[2]);
      }
    });
  });
}

// ---- float32 kernels over contiguous channel rows (the common NCHW case) ----

std::string RowsSupports(const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob>) {
  if (in[0].dtype != DType::kFloat32) return "float32 only";
  if (ChannelLayout(attrs, in[0].shape).post < 16) return "rows after the channel axis < 16";
  return "";
}

/*! \brief Batch mean and biased variance of channel c, two passes over its rows. */
void RowStats(const ChannelLayout& l, const float* x, int64_t c, double* mean, double* var) {
  double s = 0, v = 0;
  for (int64_t r = 0; r < l.pre; ++r)
    s += norm::RowSum(x + (r * l.channels + c) * l.post, l.post);
  const double n = static_cast<double>(l.Count());
  *mean = l.Count() > 0 ? s / n : 0.0;
  for (int64_t r = 0; r < l.pre; ++r)
    v += norm::RowSumSquaredDev(x + (r * l.channels + c) * l.post, l.post,
                                static_cast<float>(*mean));
  *var = l.Count() > 0 ? v / n : 0.0;
}

/*! \brief Calls f(row pointer offset) for every row of channel c. */
template <typename F>
void ForRows(const ChannelLayout& l, int64_t c, F f) {
  for (int64_t r = 0; r < l.pre; ++r)
    f((r * l.channels + c) * l.post);
}

void ForwardRows(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<BatchNormParam>();
  const ChannelLayout l(attrs, in[0].shape);
  const bool batch = UsesBatchStats(ctx, p);
  const float* x = in[0].data<float>();
  const float* gamma = in[1].data<float>();
  const float* beta = in[2].data<float>();
  float* mm = in[3].data<float>();
  float* mv = in[4].data<float>();
  std::vector<float> scale(static_cast<size_t>(l.channels)), shift(scale.size());
  ParallelFor(l.channels, batch ? 1 : l.channels, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      double mean = mm[c], var = mv[c];
      if (batch) RowStats(l, x, c, &mean, &var);
      const double invstd = 1.0 / std::sqrt(var + p.eps);
      const double a = (p.fix_gamma ? 1.0 : gamma[c]) * invstd;
      scale[c] = static_cast<float>(a);
      shift[c] = static_cast<float>(beta[c] - mean * a);
      if (out.size() > 1) {
        Put(out[1].data<float>() + c, mean, req[1]);
        Put(out[2].data<float>() + c, invstd, req[2]);
      }
      if (batch && l.Count() > 0) {
        mm[c] = static_cast<float>(mm[c] * p.momentum + mean * (1 - p.momentum));
        mv[c] = static_cast<float>(mv[c] * p.momentum + var * (1 - p.momentum));
      }
    }
  });
  if (req[0] == OpReq::kNull) return;
  float* y = out[0].data<float>();
  ParallelFor(l.pre * l.channels, std::max<int64_t>(1, kElementwiseGrain / l.post),
              [&](int64_t lo, int64_t hi) {
                for (int64_t r = lo; r < hi; ++r) {
                  const int64_t c = r % l.channels;
                  norm::RowAffine(x + r * l.post, nullptr, y + r * l.post, l.post, scale[c], 0,
                                  shift[c], req[0] == OpReq::kAdd);
                }
              });
}

// The gradient of Backward's formulas, written per channel as dx = a * dy + b * x + k.
void BackwardRows(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<BatchNormParam>();
  const ChannelLayout l(attrs, in[0].shape);
  const bool batch = UsesBatchStats(ctx, p);
  const float* x = in[0].data<float>();
  const float* gamma = in[1].data<float>();
  const float* mm = in[2].data<float>();
  const float* mv = in[3].data<float>();
  const float* dy = in[4].data<float>();
  const float* dmean = in.size() > 5 ? in[5].data<float>() : nullptr;
  const float* dinv = in.size() > 5 ? in[6].data<float>() : nullptr;
  float* dx = out[0].data<float>();
  ParallelFor(l.channels, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      double mean = mm[c], var = mv[c];
      if (batch) RowStats(l, x, c, &mean, &var);
      const double inv = 1.0 / std::sqrt(var + p.eps);
      const double g = p.fix_gamma ? 1.0 : gamma[c];
      double sum_dy = 0, sum_dy_dev = 0;
      ForRows(l, c, [&](int64_t o) {
        norm::RowGradSums(dy + o, x + o, l.post, static_cast<float>(mean), &sum_dy, &sum_dy_dev);
      });
      const double sum_dy_xh = sum_dy_dev * inv;
      const double dm = dmean ? dmean[c] : 0.0, di = dinv ? dinv[c] : 0.0;
      const double n = static_cast<double>(std::max<int64_t>(l.Count(), 1));
      const double a = g * inv;
      const double b = batch ? -(g * inv * inv * sum_dy_xh + di * inv * inv * inv) / n : 0.0;
      const double k = batch ? -g * inv * sum_dy / n - b * mean + dm / n : 0.0;
      if (req[0] != OpReq::kNull) {
        ForRows(l, c, [&](int64_t o) {
          norm::RowAffine(dy + o, batch ? x + o : nullptr, dx + o, l.post, static_cast<float>(a),
                          static_cast<float>(b), static_cast<float>(k), req[0] == OpReq::kAdd);
        });
      }
      Put(out[1].data<float>() + c, p.fix_gamma ? 0.0 : sum_dy_xh, req[1]);
      Put(out[2].data<float>() + c, sum_dy, req[2]);
      Put(out[3].data<float>() + c, batch ? 0.0 : -g * inv * sum_dy + dm, req[3]);
      Put(out[4].data<float>() + c, batch ? 0.0 : -0.5 * inv * inv * (g * sum_dy_xh + inv * di),
          req[4]);
    }
  });
}

MIXNET_REGISTER_OP(BatchNorm)
    .Describe(
        "Batch normalization: normalises each channel with the batch mean and variance in "
        "training (updating moving_mean and moving_var by momentum) and with the moving ones "
        "otherwise, then scales by gamma and shifts by beta.")
    .Param<BatchNormParam>()
    .Inputs({"data", "gamma", "beta", "moving_mean", "moving_var"})
    .Outputs(ForwardOutputs)
    .InferShape(InferForward)
    .InferType(FloatingSameType)
    .MutateInputs({3, 4})
    .Kernel("rows_f32", ForwardRows, RowsSupports)
    .Kernel("reference", Forward)
    .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                 std::span<const GValue>, std::span<const GValue> dout) {
      std::vector<GValue> args{in[0], in[1], in[3], in[4], dout[0]};
      if (dout.size() > 1) {
        args.push_back(dout[1]);
        args.push_back(dout[2]);
      }
      auto d = g.Apply("_batch_norm_backward", args, attrs.dict);
      return std::vector<GValue>{d[0], d[1], d[2], d[3], d[4]};
    })
    .Sample(OpSample{.inputs = {Shape{4, 3, 2}, Shape{3}, Shape{3}, Shape{3}, Shape{3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-0.5, 0.5}, {0.5, 1.5}}})
    .Sample(OpSample{.attrs = {{"fix_gamma", "False"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{2, 3, 2, 2}, Shape{3}, Shape{3}, Shape{3}, Shape{3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-0.5, 0.5}, {0.5, 1.5}}})
    .Sample(OpSample{.attrs = {{"fix_gamma", "False"}, {"axis", "-1"}, {"eps", "1e-5"}},
                     .inputs = {Shape{5, 4}, Shape{4}, Shape{4}, Shape{4}, Shape{4}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-0.5, 0.5}, {0.5, 1.5}}});

MIXNET_REGISTER_OP(_batch_norm_backward)
    .Describe(
        "Gradient of BatchNorm w.r.t. data, gamma, beta, moving_mean and moving_var, in the "
        "context's mode.")
    .Param<BatchNormParam>()
    .Inputs(BackwardInputs)
    .Signature({"data", "gamma", "moving_mean", "moving_var", "ograd", "mean_grad?", "var_grad?"})
    .Outputs({"data_grad", "gamma_grad", "beta_grad", "moving_mean_grad", "moving_var_grad"})
    .InferShape(InferBackward)
    .InferType(FloatingSameType)
    .Kernel("rows_f32", BackwardRows, RowsSupports)
    .Kernel("reference", Backward)
    .Sample(OpSample{.attrs = {{"fix_gamma", "False"}},
                     .inputs = {Shape{4, 3, 2}, Shape{3}, Shape{3}, Shape{3}, Shape{4, 3, 2}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-0.5, 0.5}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{
        .attrs = {{"output_mean_var", "True"}},
        .inputs = {Shape{4, 3}, Shape{3}, Shape{3}, Shape{3}, Shape{4, 3}, Shape{3}, Shape{3}},
        .ranges = {{-2, 2}, {0.5, 1.5}, {-0.5, 0.5}, {0.5, 1.5}, {-1, 1}}});

}  // namespace
}  // namespace mixnet::op
