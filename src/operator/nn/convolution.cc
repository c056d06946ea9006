// Convolution (MXNet's, 1-D to 3-D, grouped and dilated) and its backward ops.
#include "operator/nn/conv_util.h"
#include "operator/parallel.h"

namespace mixnet::op::nn {
namespace {

std::vector<std::string> ConvInputs(const Attrs& attrs) {
  if (attrs.param<ConvParam>().no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

void ConvolutionShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known()) return;
  const ConvParam& p = attrs.param<ConvParam>();
  const ConvGeom g = ConvolutionGeom(attrs, p, (*in)[0]);
  AssignShape(attrs, "weight", &(*in)[1], ConvWeightShape(g));
  if (!p.no_bias) AssignShape(attrs, "bias", &(*in)[2], Shape{p.num_filter});
  AssignShape(attrs, "output", &(*out)[0], ConvOutShape(g));
}

ConvGeom ForwardGeom(const Attrs& attrs, std::span<const TBlob> in) {
  return ConvolutionGeom(attrs, attrs.param<ConvParam>(), in[0].shape);
}

/*! \brief Inputs (dy, weight, data): data only gives dx its shape. */
void BackwardDataShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[2].is_known()) return;
  const ConvGeom g = ConvolutionGeom(attrs, attrs.param<ConvParam>(), (*in)[2]);
  AssignShape(attrs, "dy", &(*in)[0], ConvOutShape(g));
  AssignShape(attrs, "weight", &(*in)[1], ConvWeightShape(g));
  AssignShape(attrs, "output", &(*out)[0], (*in)[2]);
}

ConvGeom BackwardDataGeom(const Attrs& attrs, std::span<const TBlob> in) {
  return ConvolutionGeom(attrs, attrs.param<ConvParam>(), in[2].shape);
}

/*! \brief Inputs (dy, data). */
void BackwardWeightShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[1].is_known()) return;
  const ConvGeom g = ConvolutionGeom(attrs, attrs.param<ConvParam>(), (*in)[1]);
  AssignShape(attrs, "dy", &(*in)[0], ConvOutShape(g));
  AssignShape(attrs, "output", &(*out)[0], ConvWeightShape(g));
}

ConvGeom BackwardWeightGeom(const Attrs& attrs, std::span<const TBlob> in) {
  return ConvolutionGeom(attrs, attrs.param<ConvParam>(), in[1].shape);
}

void BiasGradShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if ((*in)[0].is_unknown()) return;
  MX_CHECK((*in)[0].ndim() >= 2, ValueError)
      << attrs.op->name << ": dy has shape " << (*in)[0] << " but needs (batch, channel, ...)";
  AssignShape(attrs, "output", &(*out)[0], Shape{(*in)[0][1]});
}

void BiasGrad(const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
              std::span<const TBlob> out) {
  const Shape& s = in[0].shape;
  const int64_t batch = s[0], channels = s[1];
  const int64_t inner = batch * channels != 0 ? in[0].Size() / (batch * channels) : 0;
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* dy = in[0].data<T>();
    WriteWithReq<T>(req[0], out[0], [&](T* db) {
      ParallelFor(channels, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
          T sum = 0;
          for (int64_t n = 0; n < batch; ++n) {
            const T* row = dy + (n * channels + c) * inner;
            for (int64_t j = 0; j < inner; ++j)
              sum += row[j];
          }
          db[c] = sum;
        }
      });
    });
  };
  if (out[0].dtype == DType::kFloat64) {
    run(TypeTag<double>{});
  } else {
    run(TypeTag<float>{});
  }
}

const bool kRegistered = [] {
  AddConvKernels(Registry::Add("Convolution"), "im2col_gemm", ConvPass::kForward, ForwardGeom, 0, 1,
                 true)
      .Describe(
          "Convolution over 1-D, 2-D or 3-D inputs (N, C, spatial...) with weight "
          "(num_filter, C / num_group, kernel...) and an optional bias (num_filter,).")
      .Param<ConvParam>()
      .Inputs(ConvInputs)
      .Signature({"data", "weight", "bias?"})
      .InferShape(ConvolutionShape)
      .InferType(ConvType)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        std::vector<GValue> grads = {
            g.Apply1("_convolution_backward_data", {dout[0], in[1], in[0]}, attrs.dict),
            g.Apply1("_convolution_backward_weight", {dout[0], in[0]}, attrs.dict)};
        if (!attrs.param<ConvParam>().no_bias) {
          grads.push_back(g.Apply1("_convolution_backward_bias", {dout[0]}));
        }
        return grads;
      })
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"},
                                 {"num_filter", "4"},
                                 {"stride", "(2, 2)"},
                                 {"pad", "(1, 1)"}},
                       .inputs = {Shape{2, 3, 5, 5}, Shape{4, 3, 3, 3}, Shape{4}}})
      .Sample(OpSample{.attrs = {{"kernel", "(3,)"},
                                 {"num_filter", "4"},
                                 {"dilate", "(2,)"},
                                 {"num_group", "2"},
                                 {"no_bias", "True"}},
                       .inputs = {Shape{2, 4, 7}, Shape{4, 2, 3}}})
      .Sample(OpSample{.attrs = {{"kernel", "(2, 3, 2)"},
                                 {"num_filter", "2"},
                                 {"stride", "(1, 2, 1)"},
                                 {"pad", "(1, 0, 1)"},
                                 {"layout", "NCDHW"}},
                       .inputs = {Shape{1, 2, 3, 4, 2}, Shape{2, 2, 2, 3, 2}, Shape{2}}})
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"},
                                 {"num_filter", "3"},
                                 {"num_group", "3"},
                                 {"pad", "(1, 1)"},
                                 {"no_bias", "True"}},
                       .inputs = {Shape{1, 3, 4, 4}, Shape{3, 1, 3, 3}}});

  AddConvKernels(Registry::Add("_convolution_backward_data"), "col2im_gemm",
                 ConvPass::kBackwardData, BackwardDataGeom, 0, 1)
      .Describe("Gradient of Convolution with respect to data; data only gives the shape.")
      .Param<ConvParam>()
      .Inputs({"dy", "weight", "data"})
      .InferShape(BackwardDataShape)
      .InferType(ConvType)
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"},
                                 {"num_filter", "4"},
                                 {"stride", "(2, 2)"},
                                 {"pad", "(1, 1)"},
                                 {"num_group", "2"}},
                       .inputs = {Shape{2, 4, 3, 3}, Shape{4, 1, 3, 3}, Shape{2, 2, 6, 5}}});

  AddConvKernels(Registry::Add("_convolution_backward_weight"), "im2col_gemm",
                 ConvPass::kBackwardWeight, BackwardWeightGeom, 1, 0)
      .Describe("Gradient of Convolution with respect to weight.")
      .Param<ConvParam>()
      .Inputs({"dy", "data"})
      .InferShape(BackwardWeightShape)
      .InferType(ConvType)
      .Sample(OpSample{.attrs = {{"kernel", "(2, 3)"},
                                 {"num_filter", "4"},
                                 {"dilate", "(2, 1)"},
                                 {"num_group", "2"}},
                       .inputs = {Shape{3, 4, 3, 3}, Shape{3, 2, 5, 5}}});

  Registry::Add("_convolution_backward_bias")
      .Describe("Gradient of a per-channel bias: dy summed over every axis but axis 1.")
      .Inputs({"dy"})
      .InferShape(BiasGradShape)
      .InferType(ConvType)
      .Kernel("reference", BiasGrad)
      .Sample(OpSample{.inputs = {Shape{2, 3, 4}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> db(3, 0.0);
                         for (size_t i = 0; i < in[0].size(); ++i)
                           db[(i / 4) % 3] += in[0][i];
                         return std::vector<std::vector<double>>{db};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op::nn
