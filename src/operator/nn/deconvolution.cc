// Deconvolution (MXNet's transposed convolution, 1-D to 3-D) and its backward ops: the same
// passes as Convolution with the roles of data and output swapped (NOTE [ Conv view ]).
#include "operator/nn/conv_util.h"

namespace mixnet::op::nn {
namespace {

std::vector<std::string> DeconvInputs(const Attrs& attrs) {
  if (attrs.param<DeconvParam>().no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

void DeconvolutionShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known()) return;
  const DeconvParam& p = attrs.param<DeconvParam>();
  const ConvGeom g = DeconvolutionGeom(attrs, p, (*in)[0]);
  AssignShape(attrs, "weight", &(*in)[1], ConvWeightShape(g));
  if (!p.no_bias) AssignShape(attrs, "bias", &(*in)[2], Shape{p.num_filter});
  AssignShape(attrs, "output", &(*out)[0], ConvInShape(g));
}

ConvGeom ForwardGeom(const Attrs& attrs, std::span<const TBlob> in) {
  return DeconvolutionGeom(attrs, attrs.param<DeconvParam>(), in[0].shape);
}

/*! \brief Inputs (dy, weight, data): data only gives dx its shape. */
void BackwardDataShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[2].is_known()) return;
  const ConvGeom g = DeconvolutionGeom(attrs, attrs.param<DeconvParam>(), (*in)[2]);
  AssignShape(attrs, "dy", &(*in)[0], ConvInShape(g));
  AssignShape(attrs, "weight", &(*in)[1], ConvWeightShape(g));
  AssignShape(attrs, "output", &(*out)[0], (*in)[2]);
}

ConvGeom BackwardDataGeom(const Attrs& attrs, std::span<const TBlob> in) {
  return DeconvolutionGeom(attrs, attrs.param<DeconvParam>(), in[2].shape);
}

/*! \brief Inputs (dy, data). */
void BackwardWeightShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[1].is_known()) return;
  const ConvGeom g = DeconvolutionGeom(attrs, attrs.param<DeconvParam>(), (*in)[1]);
  AssignShape(attrs, "dy", &(*in)[0], ConvInShape(g));
  AssignShape(attrs, "output", &(*out)[0], ConvWeightShape(g));
}

ConvGeom BackwardWeightGeom(const Attrs& attrs, std::span<const TBlob> in) {
  return DeconvolutionGeom(attrs, attrs.param<DeconvParam>(), in[1].shape);
}

const bool kRegistered = [] {
  AddConvKernels(Registry::Add("Deconvolution"), "gemm_col2im", ConvPass::kBackwardData,
                 ForwardGeom, 0, 1, true)
      .Describe(
          "Transposed convolution over 1-D, 2-D or 3-D inputs (N, C, spatial...) with weight "
          "(C, num_filter / num_group, kernel...); output size per dim is "
          "(in - 1) * stride - 2 * pad + dilate * (kernel - 1) + 1 + adj, or target_shape.")
      .Param<DeconvParam>()
      .Inputs(DeconvInputs)
      .Signature({"data", "weight", "bias?"})
      .InferShape(DeconvolutionShape)
      .InferType(ConvType)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        std::vector<GValue> grads = {
            g.Apply1("_deconvolution_backward_data", {dout[0], in[1], in[0]}, attrs.dict),
            g.Apply1("_deconvolution_backward_weight", {dout[0], in[0]}, attrs.dict)};
        if (!attrs.param<DeconvParam>().no_bias) {
          grads.push_back(g.Apply1("_convolution_backward_bias", {dout[0]}));
        }
        return grads;
      })
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"},
                                 {"num_filter", "2"},
                                 {"stride", "(2, 2)"},
                                 {"pad", "(1, 1)"},
                                 {"adj", "(1, 0)"},
                                 {"no_bias", "False"}},
                       .inputs = {Shape{2, 3, 3, 3}, Shape{3, 2, 3, 3}, Shape{2}}})
      .Sample(OpSample{.attrs = {{"kernel", "(3,)"},
                                 {"num_filter", "4"},
                                 {"dilate", "(2,)"},
                                 {"num_group", "2"}},
                       .inputs = {Shape{2, 4, 4}, Shape{4, 2, 3}}})
      .Sample(OpSample{.attrs = {{"kernel", "(2, 2, 3)"},
                                 {"num_filter", "2"},
                                 {"stride", "(2, 1, 2)"},
                                 {"target_shape", "(4, 3, 6)"}},
                       .inputs = {Shape{1, 2, 2, 2, 3}, Shape{2, 2, 2, 2, 3}}});

  AddConvKernels(Registry::Add("_deconvolution_backward_data"), "im2col_gemm", ConvPass::kForward,
                 BackwardDataGeom, 0, 1)
      .Describe("Gradient of Deconvolution with respect to data; data only gives the shape.")
      .Param<DeconvParam>()
      .Inputs({"dy", "weight", "data"})
      .InferShape(BackwardDataShape)
      .InferType(ConvType)
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"},
                                 {"num_filter", "2"},
                                 {"stride", "(2, 2)"},
                                 {"pad", "(1, 1)"},
                                 {"adj", "(1, 1)"}},
                       .inputs = {Shape{2, 2, 6, 6}, Shape{3, 2, 3, 3}, Shape{2, 3, 3, 3}}});

  AddConvKernels(Registry::Add("_deconvolution_backward_weight"), "im2col_gemm",
                 ConvPass::kBackwardWeight, BackwardWeightGeom, 0, 1)
      .Describe("Gradient of Deconvolution with respect to weight.")
      .Param<DeconvParam>()
      .Inputs({"dy", "data"})
      .InferShape(BackwardWeightShape)
      .InferType(ConvType)
      .Sample(OpSample{.attrs = {{"kernel", "(3,)"},
                                 {"num_filter", "4"},
                                 {"stride", "(2,)"},
                                 {"num_group", "2"}},
                       .inputs = {Shape{2, 4, 9}, Shape{2, 2, 4}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op::nn
