// GroupNorm (MXNet 1.x): normalises each group of channels of each sample; gamma and beta are
// per group, shape (num_groups,), as in MXNet 1.x (MXNet 2 moved to per-channel), so that 1.x
// checkpoints load.
#include "operator/nn/norm_util.h"

namespace mixnet::op {
namespace {

struct GroupNormParam {
  int num_groups = 1;
  double eps = 1e-5;
  bool output_mean_var = false;
  static void Declare(ParamDecl<GroupNormParam>& d) {
    d.Field("num_groups", &GroupNormParam::num_groups)
        .Default(1)
        .Lower(1)
        .Doc("Number of groups the channels are divided into.");
    d.Field("eps", &GroupNormParam::eps)
        .Default(1e-5)
        .Lower(0.0)
        .Doc("Added to the variance to avoid division by zero.");
    d.Field("output_mean_var", &GroupNormParam::output_mean_var)
        .Default(false)
        .Doc("Also output the mean and the std.");
  }
};

norm::GroupLayout Layout(const Attrs& attrs, const Shape& data) {
  const int64_t groups = attrs.param<GroupNormParam>().num_groups;
  const int64_t spatial = data.ProdDims(2, data.ndim());
  norm::GroupLayout l;
  l.channels = groups;  // one gamma and beta per group: Channel(g, k) = g % groups
  l.groups = data[0] * groups;
  l.count = l.outer_step = data[1] / groups * spatial;
  l.group_mod = groups;
  l.group_channels = 1;
  l.channel_div = std::max<int64_t>(l.count, 1);
  return l;
}

void Infer(const Attrs& attrs, bool backward, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape data = (*in)[0];
  if (data.is_unknown()) return;
  norm::CheckNDim(attrs, data, 2);
  const int64_t groups = attrs.param<GroupNormParam>().num_groups;
  MX_CHECK(data[1] < 0 || data[1] % groups == 0, ValueError)
      << attrs.op->name << ": data has shape " << data << " whose " << data[1]
      << " channels do not divide into num_groups=" << groups;
  norm::InferAffineNorm(attrs, backward, Shape{groups}, Shape{data[0], groups}, in, out);
}

MIXNET_REGISTER_OP(GroupNorm)
    .Describe(
        "Group normalization: splits the channels (axis 1) into num_groups groups and "
        "normalises each group of each sample to zero mean and unit variance, then scales by "
        "gamma and shifts by beta per group (MXNet 1.x: both have shape (num_groups,)).")
    .Param<GroupNormParam>()
    .Inputs({"data", "gamma", "beta"})
    .Outputs([](const Attrs& attrs) {
      if (attrs.param<GroupNormParam>().output_mean_var)
        return std::vector<std::string>{"output", "mean", "std"};
      return std::vector<std::string>{"output"};
    })
    .InferShape([](const Attrs& a, std::vector<Shape>* in, std::vector<Shape>* out) {
      Infer(a, false, in, out);
    })
    .InferType(FloatingSameType)
    .Kernel("rows_f32", norm::AffineNormRowsForwardKernel<GroupNormParam>(Layout),
            norm::AffineNormRowsSupports(Layout))
    .Kernel("reference", norm::AffineNormForwardKernel<GroupNormParam>(Layout))
    .Gradient(norm::AffineNormGradient("_group_norm_backward"))
    .Sample(OpSample{.attrs = {{"num_groups", "2"}},
                     .inputs = {Shape{2, 4, 3}, Shape{2}, Shape{2}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"num_groups", "3"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{2, 3, 2, 2}, Shape{3}, Shape{3}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}})
    .Sample(OpSample{.attrs = {{"num_groups", "2"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{2, 4, 3, 7}, Shape{2}, Shape{2}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}}});

MIXNET_REGISTER_OP(_group_norm_backward)
    .Describe("Gradient of GroupNorm w.r.t. data, gamma and beta.")
    .Param<GroupNormParam>()
    .Inputs([](const Attrs& attrs) {
      return norm::AffineNormBackwardInputs(attrs.param<GroupNormParam>().output_mean_var);
    })
    .Signature({"data", "gamma", "ograd", "mean_grad?", "std_grad?"})
    .Outputs({"data_grad", "gamma_grad", "beta_grad"})
    .InferShape([](const Attrs& a, std::vector<Shape>* in, std::vector<Shape>* out) {
      Infer(a, true, in, out);
    })
    .InferType(FloatingSameType)
    .Kernel("rows_f32", norm::AffineNormRowsBackwardKernel<GroupNormParam>(Layout),
            norm::AffineNormRowsSupports(Layout))
    .Kernel("reference", norm::AffineNormBackwardKernel<GroupNormParam>(Layout))
    .Sample(OpSample{.attrs = {{"num_groups", "2"}, {"output_mean_var", "True"}},
                     .inputs = {Shape{2, 4, 3}, Shape{2}, Shape{2, 4, 3}, Shape{2, 2}, Shape{2, 2}},
                     .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-1, 1}, {-1, 1}}})
    .Sample(OpSample{
        .attrs = {{"num_groups", "2"}, {"output_mean_var", "True"}},
        .inputs = {Shape{2, 4, 3, 7}, Shape{2}, Shape{2, 4, 3, 7}, Shape{2, 2}, Shape{2, 2}},
        .ranges = {{-2, 2}, {0.5, 1.5}, {-1, 1}, {-1, 1}, {-1, 1}}});

}  // namespace
}  // namespace mixnet::op
