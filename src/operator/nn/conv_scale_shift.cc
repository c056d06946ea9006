// A convolution followed by a per-channel scale and shift and an optional ReLU, in one op:
// what Convolution -> BatchNorm (inference) [-> relu] computes, as the executor's inference
// graphs run it (NOTE [ Conv BatchNorm folding ] in src/symbol/pass/fuse_conv_bn.cc).
#include <algorithm>

#include "operator/nn/conv_util.h"
#include "operator/parallel.h"

namespace mixnet::op::nn {
namespace {

ConvGeom Geom(const Attrs& attrs, std::span<const TBlob> in) {
  return ConvolutionGeom(attrs, attrs.param<ConvParam>(), in[0].shape);
}

void InferConvScaleShift(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known()) return;
  const ConvParam& p = attrs.param<ConvParam>();
  const ConvGeom g = ConvolutionGeom(attrs, p, (*in)[0]);
  AssignShape(attrs, "weight", &(*in)[1], ConvWeightShape(g));
  AssignShape(attrs, "scale", &(*in)[2], Shape{p.num_filter});
  AssignShape(attrs, "shift", &(*in)[3], Shape{p.num_filter});
  AssignShape(attrs, "output", &(*out)[0], ConvOutShape(g));
}

/*! \brief The convolution runs in oneDNN with the scale, shift and ReLU as its post-ops. */
template <bool Relu>
void ForwardDnnl(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const ConvPostOps post{in[2].data<float>(), in[3].data<float>(), Relu};
  DnnlConvPass(ConvPass::kForward, Geom(attrs, in), in[0], in[1], nullptr, req[0], out[0],
               ctx.Temp(), &post);
}

/*! \brief The convolution by `Algo`, then the scale, shift and ReLU per channel row. */
template <bool Relu, ConvAlgo Algo>
void ForwardThenAffine(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                       std::span<const OpReq> req, std::span<const TBlob> out) {
  const ConvGeom g = Geom(attrs, in);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    WriteWithReq<T>(req[0], out[0], [&](T* y) {
      const TBlob yb{y, out[0].shape, out[0].dtype};
      RunConvPass(ConvPass::kForward, Algo, g, in[0], in[1], OpReq::kWrite, yb);
      const T* scale = in[2].data<T>();
      const T* shift = in[3].data<T>();
      const int64_t inner = g.OutSize();
      ParallelFor(g.batch * g.out_c, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const int64_t c = i % g.out_c;
          T* row = y + i * inner;
          for (int64_t j = 0; j < inner; ++j) {
            const T v = row[j] * scale[c] + shift[c];
            row[j] = Relu ? std::max(v, T(0)) : v;
          }
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

std::string DnnlSupports(const Attrs& attrs, std::span<const TBlob> in,
                         std::span<const TBlob> out) {
  if (out[0].dtype != DType::kFloat32) return "oneDNN kernels run float32 only";
  const ConvGeom g = Geom(attrs, in);
  if (g.batch * g.in_c * g.out_c * g.InSize() * g.OutSize() == 0) return "zero-size array";
  return "";
}

template <bool Relu>
void Register(const char* name) {
  Registry::Add(name)
      .Describe(std::string("Convolution (no bias) whose output channel c is then scaled by "
                            "scale[c] and shifted by shift[c]") +
                (Relu ? ", then ReLU" : "") + ": a Convolution -> BatchNorm" +
                (Relu ? " -> relu" : "") +
                " chain folded for inference by the executor. No gradient.")
      .Param<ConvParam>()
      .Inputs({"data", "weight", "scale", "shift"})
      .InferShape(InferConvScaleShift)
      .InferType(ConvType)
      .NeedsTempSpace()
      .Kernel("onednn", ForwardDnnl<Relu>, DnnlSupports)
      .Kernel("im2col_gemm", ForwardThenAffine<Relu, ConvAlgo::kIm2col>)
      .Kernel("reference", ForwardThenAffine<Relu, ConvAlgo::kReference>)
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"},
                                 {"num_filter", "4"},
                                 {"stride", "(2, 2)"},
                                 {"pad", "(1, 1)"},
                                 {"no_bias", "True"}},
                       .inputs = {Shape{2, 3, 5, 5}, Shape{4, 3, 3, 3}, Shape{4}, Shape{4}}})
      .Sample(OpSample{.attrs = {{"kernel", "(1, 1)"}, {"num_filter", "3"}, {"no_bias", "True"}},
                       .inputs = {Shape{1, 2, 4, 3}, Shape{3, 2, 1, 1}, Shape{3}, Shape{3}}});
}

const bool kRegistered = [] {
  Register<false>("_conv_scale_shift");
  Register<true>("_conv_scale_shift_relu");
  return true;
}();

}  // namespace
}  // namespace mixnet::op::nn
