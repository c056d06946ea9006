// LayerNorm (MXNet 1.x): normalises along one axis, scaled and shifted per position on it.
#include <cmath>

#include "operator/dnnl/dnnl_util.h"
#include "operator/nn/norm_rows.h"
#include "operator/nn/norm_util.h"

namespace mixnet::op {
namespace {

struct LayerNormParam {
  int axis = -1;
  double eps = 1e-5;
  bool output_mean_var = false;
  static void Declare(ParamDecl<LayerNormParam>& d) {
    d.Field("axis", &LayerNormParam::axis).Default(-1).Doc("The axis to normalise along.");
    d.Field("eps", &LayerNormParam::eps)
        .Default(1e-5)
        .Lower(0.0)
        .Doc("Added to the variance to avoid division by zero.");
    d.Field("output_mean_var", &LayerNormParam::output_mean_var)
        .Default(false)
        .Doc("Also output the mean and the std.");
  }
};

int Axis(const Attrs& attrs, const Shape& data) {
  return norm::CanonicalAxis(attrs, attrs.param<LayerNormParam>().axis, data.ndim());
}

norm::GroupLayout Layout(const Attrs& attrs, const Shape& data) {
  const int axis = Axis(attrs, data);
  const int64_t post = data.ProdDims(axis + 1, data.ndim());
  norm::GroupLayout l;
  l.count = l.channels = data[axis];
  l.groups = data.ProdDims(0, axis) * post;
  l.inner = l.stride = post;
  l.outer_step = l.count * post;
  return l;
}

void Infer(const Attrs& attrs, bool backward, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape data = (*in)[0];
  if (data.is_unknown()) return;
  norm::CheckNDim(attrs, data, 1);
  const int axis = Axis(attrs, data);
  Shape stats = data;
  stats[axis] = 1;
  norm::InferAffineNorm(attrs, backward, Shape{data[axis]}, stats, in, out);
}

// ---- oneDNN (float32, normalising the last axis) ----

namespace du = dnnl_util;

std::string DnnlSupports(const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob>) {
  const Shape& data = in[0].shape;
  if (in[0].dtype != DType::kFloat32) return "oneDNN kernels run float32 only";
  if (Axis(attrs, data) != data.ndim() - 1) return "axis is not the last";
  if (data.Size() == 0) return "zero-size array";
  if (in.size() > 3) return "gradients flowing into the mean and std outputs";
  return "";
}

/*! \brief The data as (rows, axis length) and the primitives for it. */
struct DnnlLayerNorm {
  dnnl::memory::desc data, param, stats;
  dnnl::layer_normalization_forward::primitive_desc fwd_pd;
  dnnl::layer_normalization_forward fwd;
  dnnl::layer_normalization_backward::primitive_desc bwd_pd;
  dnnl::layer_normalization_backward bwd;
};

const DnnlLayerNorm& GetDnnlLayerNorm(const Attrs& attrs, const Shape& shape, bool training,
                                      bool backward) {
  const int64_t len = shape[shape.ndim() - 1], rows = shape.Size() / len;
  const float eps = static_cast<float>(attrs.param<LayerNormParam>().eps);
  du::Key key(backward ? "lnorm_bwd" : training ? "lnorm_train" : "lnorm");
  key << rows << len;
  return du::Cached<DnnlLayerNorm>(key.str() + "/" + std::to_string(eps), [&] {
    using dnnl::memory;
    auto e = std::make_shared<DnnlLayerNorm>();
    e->data = memory::desc({rows, len}, memory::data_type::f32, memory::format_tag::ab);
    e->param = memory::desc({len}, memory::data_type::f32, memory::format_tag::a);
    e->stats = memory::desc({rows}, memory::data_type::f32, memory::format_tag::a);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    e->fwd_pd = dnnl::layer_normalization_forward::primitive_desc(
        dnnl::layer_normalization_forward::desc(training || backward
                                                    ? dnnl::prop_kind::forward_training
                                                    : dnnl::prop_kind::forward_inference,
                                                e->data, e->stats, eps, flags),
        du::ScratchpadAttr(), du::Engine());
    e->fwd = dnnl::layer_normalization_forward(e->fwd_pd);
    if (backward) {
      e->bwd_pd = dnnl::layer_normalization_backward::primitive_desc(
          dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, e->data, e->data,
                                                   e->stats, eps, flags),
          du::ScratchpadAttr(), du::Engine(), e->fwd_pd);
      e->bwd = dnnl::layer_normalization_backward(e->bwd_pd);
    }
    return e;
  });
}

// out: output [, mean, std (sqrt(var + eps))].
void DnnlForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const bool stats = out.size() > 1;
  const DnnlLayerNorm& e = GetDnnlLayerNorm(attrs, in[0].shape, stats, false);
  TempSpace& temp = ctx.Temp();
  du::OutputSlot y(req[0], out[0], temp);
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, du::Mem(e.data, in[0].dptr)},
                                                {DNNL_ARG_SCALE, du::Mem(e.param, in[1].dptr)},
                                                {DNNL_ARG_SHIFT, du::Mem(e.param, in[2].dptr)},
                                                {DNNL_ARG_DST, du::Mem(e.data, y.ptr())}};
  if (!stats) {
    du::Execute(e.fwd, e.fwd_pd, std::move(args), temp);
    y.Commit();
    return;
  }
  du::OutputSlot mean(req[1], out[1], temp);
  float* v = temp.Alloc<float>(out[1].Size());
  args[DNNL_ARG_MEAN] = du::Mem(e.stats, mean.ptr());
  args[DNNL_ARG_VARIANCE] = du::Mem(e.stats, v);
  du::Execute(e.fwd, e.fwd_pd, std::move(args), temp);
  y.Commit();
  mean.Commit();
  const double eps = attrs.param<LayerNormParam>().eps;
  du::WriteFloatOutput(req[2], out[2], temp, [&](float* sd) {
    for (int64_t i = 0; i < out[2].Size(); ++i)
      sd[i] = static_cast<float>(std::sqrt(v[i] + eps));
  });
}

// in: data, gamma, ograd. out: data_grad, gamma_grad, beta_grad.
void DnnlBackward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  const DnnlLayerNorm& e = GetDnnlLayerNorm(attrs, in[0].shape, true, true);
  const int64_t len = in[0].shape[in[0].shape.ndim() - 1], rows = in[0].Size() / len;
  TempSpace& temp = ctx.Temp();
  const float* x = in[0].data<float>();
  float* m = temp.Alloc<float>(rows);
  float* v = temp.Alloc<float>(rows);
  ParallelFor(rows, std::max<int64_t>(1, kElementwiseGrain / len), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      double mean, var;
      norm::RowMoments(x + r * len, len, &mean, &var);
      m[r] = static_cast<float>(mean);
      v[r] = static_cast<float>(var);
    }
  });
  du::OutputSlot dx(req[0], out[0], temp), dgamma(req[1], out[1], temp),
      dbeta(req[2], out[2], temp);
  du::Execute(e.bwd, e.bwd_pd,
              {{DNNL_ARG_SRC, du::Mem(e.data, x)},
               {DNNL_ARG_MEAN, du::Mem(e.stats, m)},
               {DNNL_ARG_VARIANCE, du::Mem(e.stats, v)},
               {DNNL_ARG_DIFF_DST, du::Mem(e.data, in[2].dptr)},
               {DNNL_ARG_SCALE, du::Mem(e.param, in[1].dptr)},
               // oneDNN 2.6 wants the shift bound too, though no gradient depends on it.
               {DNNL_ARG_SHIFT, du::Mem(e.param, in[1].dptr)},
               {DNNL_ARG_DIFF_SRC, du::Mem(e.data, dx.ptr())},
               {DNNL_ARG_DIFF_SCALE, du::Mem(e.param, dgamma.ptr())},
               {DNNL_ARG_DIFF_SHIFT, du::Mem(e.param, dbeta.ptr())}},
              temp);
  dx.Commit();
  dgamma.Commit();
  dbeta.Commit();
}

MIXNET_REGISTER_OP(LayerNorm)
    .Describe(
        "Layer normalization: normalises the data to zero mean and unit variance along `axis`, "
        "then scales by gamma and shifts by beta (both of the axis' length).")
    .Param<LayerNormParam>()
    .Inputs({"data", "gamma", "beta"})
    .Outputs([](const Attrs& attrs) {
      if (attrs.param<LayerNormParam>().output_mean_var)
        return std::vector<std::string>{"output", "mean", "std"};
      return std::vector<std::string>{"output"};
    })
    .InferShape([](const Attrs& a, std::vector<Shape>* in, std::vector<Shape>* out) {
      Infer(a, false, in, out);
    })
    .InferType(FloatingSameType)
    .NeedsTempSpace()
    .Kernel("onednn", DnnlForward, DnnlSupports)
    .Kernel("reference", norm::AffineNormForwardKernel<LayerNormParam>(Layout))
    .Gradient(norm::AffineNormGradient("_layer_norm_backward"))
    .Sample(OpSample{.inputs = {Shape{3, 5}, Shape{5}, Shape{5}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"axis", "1"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{2, 4, 3}, Shape{4}, Shape{4}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"output_mean_var", "True"}, {"eps", "1e-3"}},
                     .inputs = {Shape{2, 3, 19}, Shape{19}, Shape{19}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}});

MIXNET_REGISTER_OP(_layer_norm_backward)
    .Describe("Gradient of LayerNorm w.r.t. data, gamma and beta.")
    .Param<LayerNormParam>()
    .Inputs([](const Attrs& attrs) {
      return norm::AffineNormBackwardInputs(attrs.param<LayerNormParam>().output_mean_var);
    })
    .Signature({"data", "gamma", "ograd", "mean_grad?", "std_grad?"})
    .Outputs({"data_grad", "gamma_grad", "beta_grad"})
    .InferShape([](const Attrs& a, std::vector<Shape>* in, std::vector<Shape>* out) {
      Infer(a, true, in, out);
    })
    .InferType(FloatingSameType)
    .NeedsTempSpace()
    .Kernel("onednn", DnnlBackward, DnnlSupports)
    .Kernel("reference", norm::AffineNormBackwardKernel<LayerNormParam>(Layout))
    .Sample(OpSample{.inputs = {Shape{3, 5}, Shape{5}, Shape{3, 5}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.inputs = {Shape{2, 3, 19}, Shape{19}, Shape{2, 3, 19}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"axis", "0"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{4, 3}, Shape{4}, Shape{4, 3}, Shape{1, 3}, Shape{1, 3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-1, 1}, {-1, 1}}});

}  // namespace
}  // namespace mixnet::op
