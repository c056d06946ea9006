// UpSampling (MXNet's): nearest repeats each pixel scale x scale times; bilinear is MXNet's
// fixed-kernel depthwise Deconvolution whose weight is an input (initialised bilinear by the
// caller). Nearest takes one input here (num_args 1); MXNet's multi-input form is declined.
#include "operator/nn/conv_util.h"
#include "operator/parallel.h"

namespace mixnet::op::nn {
namespace {

enum SampleType { kNearest, kBilinear };

struct UpSamplingParam {
  int64_t scale = 1;
  int64_t num_filter = 0;
  int sample_type = kNearest;
  int multi_input_mode = 0;
  int64_t num_args = 1;
  int64_t workspace = 512;

  static void Declare(ParamDecl<UpSamplingParam>& d) {
    d.Field("scale", &UpSamplingParam::scale).Lower(1).Doc("Up sampling scale.");
    d.Field("num_filter", &UpSamplingParam::num_filter)
        .Default(0)
        .Lower(0)
        .Doc("Channels of the input; used by bilinear only.");
    d.Field("sample_type", &UpSamplingParam::sample_type)
        .Enum({"nearest", "bilinear"})
        .Doc("Up sampling method.");
    d.Field("multi_input_mode", &UpSamplingParam::multi_input_mode)
        .Enum({"concat", "sum"})
        .Default("concat")
        .Doc("How several nearest inputs combine (only one input is supported).");
    d.Field("num_args", &UpSamplingParam::num_args)
        .Lower(1)
        .Doc("Number of inputs: 1 for nearest (data), 2 for bilinear (data, weight).");
    d.Field("workspace", &UpSamplingParam::workspace)
        .Default(512)
        .Lower(0)
        .Doc("Accepted for MXNet compatibility; ignored.");
  }
};

std::vector<std::string> UpSamplingInputs(const Attrs& attrs) {
  if (attrs.param<UpSamplingParam>().sample_type == kBilinear) return {"data", "weight"};
  return {"data"};
}

/*! \brief Deconvolution attributes of bilinear upsampling (MXNet's UpSampling). */
AttrDict BilinearDeconvAttrs(const UpSamplingParam& p) {
  const int64_t s = p.scale, k = 2 * s - s % 2, pad = s / 2;  // pad = ceil((s - 1) / 2)
  auto pair = [](int64_t v) { return "(" + std::to_string(v) + ", " + std::to_string(v) + ")"; };
  return {{"kernel", pair(k)},
          {"stride", pair(s)},
          {"pad", pair(pad)},
          {"num_filter", std::to_string(p.num_filter)},
          {"num_group", std::to_string(p.num_filter)},
          {"no_bias", "True"}};
}

DeconvParam BilinearDeconvParam(const UpSamplingParam& p) {
  return *static_cast<const DeconvParam*>(
      ParamParserFor<DeconvParam>().Parse(BilinearDeconvAttrs(p), "UpSampling").get());
}

void UpSamplingShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const UpSamplingParam& p = attrs.param<UpSamplingParam>();
  MX_CHECK(p.num_args == 1 || p.sample_type == kBilinear, NotImplementedError)
      << attrs.op->name << ": nearest upsampling of several inputs (num_args " << p.num_args
      << ") is not supported; pass one input with num_args=1";
  const Shape& data = (*in)[0];
  if (!data.is_known()) return;
  MX_CHECK(data.ndim() == 4, ValueError)
      << attrs.op->name << ": data has shape " << data << " but must be 4-D (N, C, H, W)";
  if (p.sample_type == kNearest) {
    AssignShape(attrs, "output", &(*out)[0],
                Shape{data[0], data[1], data[2] * p.scale, data[3] * p.scale});
    return;
  }
  MX_CHECK(p.num_filter == data[1], ValueError)
      << attrs.op->name << ": bilinear needs num_filter (" << p.num_filter
      << ") equal to the channels of data " << data;
  const ConvGeom g = DeconvolutionGeom(attrs, BilinearDeconvParam(p), data);
  AssignShape(attrs, "weight", &(*in)[1], ConvWeightShape(g));
  AssignShape(attrs, "output", &(*out)[0], ConvInShape(g));
}

template <typename T>
void Nearest(const TBlob& x, int64_t scale, T* y) {
  const int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3];
  const T* src = x.data<T>();
  ParallelFor(planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      for (int64_t i = 0; i < h * scale; ++i) {
        const T* row = src + (pl * h + i / scale) * w;
        T* dst = y + (pl * h * scale + i) * w * scale;
        for (int64_t j = 0; j < w * scale; ++j)
          dst[j] = row[j / scale];
      }
    }
  });
}

const bool kRegistered = [] {
  Registry::Add("UpSampling")
      .Describe(
          "Up samples 4-D (N, C, H, W) data by an integer scale: nearest, or bilinear as a "
          "depthwise Deconvolution with the given weight (num_filter, 1, k, k).")
      .Param<UpSamplingParam>()
      .Inputs(UpSamplingInputs)
      .Signature({"data", "weight?"})
      .InferShape(UpSamplingShape)
      .InferType(ConvType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                const UpSamplingParam& p = attrs.param<UpSamplingParam>();
                if (p.sample_type == kBilinear) {
                  const ConvGeom g = DeconvolutionGeom(attrs, BilinearDeconvParam(p), in[0].shape);
                  RunConvPass(ConvPass::kBackwardData, ConvAlgo::kIm2col, g, in[0], in[1], req[0],
                              out[0]);
                  return;
                }
                auto run = [&](auto tag) {
                  using T = typename decltype(tag)::type;
                  WriteWithReq<T>(req[0], out[0], [&](T* y) { Nearest<T>(in[0], p.scale, y); });
                };
                if (out[0].dtype == DType::kFloat64) {
                  run(TypeTag<double>{});
                } else {
                  run(TypeTag<float>{});
                }
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const UpSamplingParam& p = attrs.param<UpSamplingParam>();
        if (p.sample_type == kBilinear) {
          const AttrDict deconv = BilinearDeconvAttrs(p);
          return std::vector<GValue>{
              g.Apply1("_deconvolution_backward_data", {dout[0], in[1], in[0]}, deconv),
              g.Apply1("_deconvolution_backward_weight", {dout[0], in[0]}, deconv)};
        }
        // Each input pixel feeds a scale x scale block: its gradient is the block's sum.
        const std::string s = std::to_string(p.scale);
        const std::string window = "(" + s + ", " + s + ")";
        return std::vector<GValue>{g.Apply1(
            "Pooling", {dout[0]}, {{"kernel", window}, {"stride", window}, {"pool_type", "sum"}})};
      })
      .Sample(OpSample{.attrs = {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "1"}},
                       .inputs = {Shape{2, 2, 2, 3}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> y;
                             for (int64_t pl = 0; pl < 4; ++pl)
                               for (int64_t i = 0; i < 4; ++i)
                                 for (int64_t j = 0; j < 6; ++j)
                                   y.push_back(
                                       in[0][static_cast<size_t>(pl * 6 + (i / 2) * 3 + j / 2)]);
                             return std::vector<std::vector<double>>{y};
                           }})
      .Sample(OpSample{.attrs = {{"scale", "2"},
                                 {"sample_type", "bilinear"},
                                 {"num_args", "2"},
                                 {"num_filter", "2"}},
                       .inputs = {Shape{1, 2, 3, 3}, Shape{2, 1, 4, 4}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op::nn
