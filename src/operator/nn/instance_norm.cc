// InstanceNorm (MXNet 1.x): normalises each channel of each sample over its spatial positions.
#include "operator/nn/norm_util.h"

namespace mixnet::op {
namespace {

struct InstanceNormParam {
  double eps = 1e-3;
  static void Declare(ParamDecl<InstanceNormParam>& d) {
    d.Field("eps", &InstanceNormParam::eps)
        .Default(1e-3)
        .Lower(0.0)
        .Doc("Added to the variance to avoid division by zero.");
  }
};

norm::GroupLayout Layout(const Attrs&, const Shape& data) {
  const int64_t spatial = data.ProdDims(2, data.ndim());
  norm::GroupLayout l;
  l.channels = l.group_mod = data[1];
  l.groups = data[0] * data[1];
  l.count = l.outer_step = spatial;
  l.group_channels = 1;
  l.channel_div = std::max<int64_t>(spatial, 1);
  return l;
}

// MXNet's InstanceNorm takes rank > 2 (N, C, spatial...).
void Infer(const Attrs& attrs, bool backward, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape data = (*in)[0];
  if (data.is_unknown()) return;
  norm::CheckNDim(attrs, data, 3);
  norm::InferAffineNorm(attrs, backward, Shape{data[1]}, Shape{data[0], data[1]}, in, out);
}

MIXNET_REGISTER_OP(InstanceNorm)
    .Describe(
        "Instance normalization: normalises each channel of each sample over its spatial "
        "positions to zero mean and unit variance, then scales by gamma and shifts by beta.")
    .Param<InstanceNormParam>()
    .Inputs({"data", "gamma", "beta"})
    .InferShape([](const Attrs& a, std::vector<Shape>* in, std::vector<Shape>* out) {
      Infer(a, false, in, out);
    })
    .InferType(FloatingSameType)
    .Kernel("rows_f32", norm::AffineNormRowsForwardKernel<InstanceNormParam>(Layout),
            norm::AffineNormRowsSupports(Layout))
    .Kernel("reference", norm::AffineNormForwardKernel<InstanceNormParam>(Layout))
    .Gradient(norm::AffineNormGradient("_instance_norm_backward"))
    .Sample(OpSample{.inputs = {Shape{2, 3, 4}, Shape{3}, Shape{3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"eps", "1e-5"}},
                     .inputs = {Shape{2, 2, 2, 3}, Shape{2}, Shape{2}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.inputs = {Shape{2, 3, 19}, Shape{3}, Shape{3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}});

MIXNET_REGISTER_OP(_instance_norm_backward)
    .Describe("Gradient of InstanceNorm w.r.t. data, gamma and beta.")
    .Param<InstanceNormParam>()
    .Inputs({"data", "gamma", "ograd"})
    .Outputs({"data_grad", "gamma_grad", "beta_grad"})
    .InferShape([](const Attrs& a, std::vector<Shape>* in, std::vector<Shape>* out) {
      Infer(a, true, in, out);
    })
    .InferType(FloatingSameType)
    .Kernel("rows_f32", norm::AffineNormRowsBackwardKernel<InstanceNormParam>(Layout),
            norm::AffineNormRowsSupports(Layout))
    .Kernel("reference", norm::AffineNormBackwardKernel<InstanceNormParam>(Layout))
    .Sample(OpSample{.inputs = {Shape{2, 3, 4}, Shape{3}, Shape{2, 3, 4}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.inputs = {Shape{2, 3, 19}, Shape{3}, Shape{2, 3, 19}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}});

}  // namespace
}  // namespace mixnet::op
