// LayerNorm (MXNet 1.x): normalises along one axis, scaled and shifted per position on it.
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
    .Kernel("reference", norm::AffineNormForwardKernel<LayerNormParam>(Layout))
    .Gradient(norm::AffineNormGradient("_layer_norm_backward"))
    .Sample(OpSample{.inputs = {Shape{3, 5}, Shape{5}, Shape{5}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"axis", "1"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{2, 4, 3}, Shape{4}, Shape{4}},
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
    .Kernel("reference", norm::AffineNormBackwardKernel<LayerNormParam>(Layout))
    .Sample(OpSample{.inputs = {Shape{3, 5}, Shape{5}, Shape{3, 5}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"axis", "0"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{4, 3}, Shape{4}, Shape{4, 3}, Shape{1, 3}, Shape{1, 3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-1, 1}, {-1, 1}}});

}  // namespace
}  // namespace mixnet::op
