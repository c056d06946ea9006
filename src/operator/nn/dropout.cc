// Dropout (MXNet 1.x): in training (or with mode='always') each element is zeroed with
// probability p and the rest scaled by 1/(1-p); otherwise the identity. The second output is
// the mask (0 or 1/(1-p); ones on the identity path), which the gradient multiplies by; with
// `axes` the mask has size 1 along them and is shared (broadcast) there.
#include <optional>
#include <random>

#include "operator/grad_ops.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

struct DropoutParam {
  double p = 0.5;
  int mode = 0;
  std::vector<int64_t> axes;
  std::optional<bool> cudnn_off;
  static void Declare(ParamDecl<DropoutParam>& d) {
    d.Field("p", &DropoutParam::p)
        .Default(0.5)
        .Range(0.0, 1.0)
        .Doc("Fraction of the input that gets dropped out during training time.");
    d.Field("mode", &DropoutParam::mode)
        .Enum({"training", "always"})
        .Default("training")
        .Doc(
            "Whether to only turn on dropout during training or to also turn on for "
            "inference.");
    d.Field("axes", &DropoutParam::axes)
        .Default({})
        .Doc("Axes along which the dropout mask is shared.");
    d.Field("cudnn_off", &DropoutParam::cudnn_off)
        .Default(false)
        .Doc("Whether to turn off cudnn in dropout operator (accepted and ignored).");
  }
};

constexpr int kAlways = 1;

void DropoutShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  AssignShape(attrs, "output", &(*out)[0], data);
  Shape mask = data;
  for (int64_t a : attrs.param<DropoutParam>().axes) {
    MX_CHECK(a >= -data.ndim() && a < data.ndim(), ValueError)
        << attrs.op->name << ": argument 'axes' has axis " << a << " but data has shape " << data;
    mask[static_cast<int>(a < 0 ? a + data.ndim() : a)] = 1;
  }
  AssignShape(attrs, "mask", &(*out)[1], mask);
}

void DropoutForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<DropoutParam>();
  const bool active = (ctx.is_train || p.mode == kAlways) && p.p > 0;
  const double keep = 1.0 - p.p;
  const Shape& shape = in[0].shape;
  const Shape& mshape = out[1].shape;
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    T* mask = out[1].data<T>();
    const int64_t n = in[0].Size();
    if (!active) {
      for (int64_t i = 0; i < n; ++i)
        y[i] = x[i];
      for (int64_t i = 0, m = out[1].Size(); i < m; ++i)
        mask[i] = T(1);
      return;
    }
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int64_t i = 0, m = out[1].Size(); i < m; ++i)
      mask[i] = uniform(*ctx.rng) < keep ? T(C(1) / C(keep)) : T(0);
    if (shape == mshape) {
      for (int64_t i = 0; i < n; ++i)
        y[i] = T(C(x[i]) * C(mask[i]));
      return;
    }
    // Shared mask: walk the data's coordinates; axes of size 1 in the mask do not advance it.
    const int nd = shape.ndim();
    std::vector<int64_t> coord(static_cast<size_t>(nd), 0), mstride(static_cast<size_t>(nd), 0);
    int64_t stride = 1;
    for (int d = nd - 1; d >= 0; --d) {
      mstride[static_cast<size_t>(d)] = mshape[d] == 1 ? 0 : stride;
      stride *= mshape[d];
    }
    int64_t mi = 0;
    for (int64_t i = 0; i < n; ++i) {
      y[i] = T(C(x[i]) * C(mask[mi]));
      for (int d = nd - 1; d >= 0; --d) {
        const auto ud = static_cast<size_t>(d);
        mi += mstride[ud];
        if (++coord[ud] < shape[d]) break;
        mi -= mstride[ud] * coord[ud];
        coord[ud] = 0;
      }
    }
  });
}

const bool kRegistered = [] {
  Registry::Add("Dropout")
      .Describe(
          "Applies dropout: in training, zeroes elements with probability p and scales the rest "
          "by 1/(1-p).")
      .Param<DropoutParam>()
      .NeedsRandom()
      .Inputs({"data"})
      .Outputs({"output", "mask"})
      .VisibleOutputs(1)  // a symbol shows the output only, as in MXNet
      .InferShape(DropoutShape)
      .InferType(FloatingSameType)
      .Kernel("reference", DropoutForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        const char* mul =
            attrs.param<DropoutParam>().axes.empty() ? "elemwise_mul" : "broadcast_mul";
        return std::vector<GValue>{g.Apply1(mul, {dout[0], out[1]})};
      })
      // Samples run outside training: the identity, with a mask of ones.
      .Sample(OpSample{.attrs = {{"p", "0.3"}},
                       .inputs = {Shape{3, 4}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 in[0], std::vector<double>(in[0].size(), 1.0)};
                           }})
      .Sample(OpSample{
          .attrs = {{"p", "0"}, {"mode", "always"}, {"cudnn_off", "True"}},
          .inputs = {Shape{5}},
          .expected = [](const std::vector<std::vector<double>>& in) {
            return std::vector<std::vector<double>>{in[0], std::vector<double>(in[0].size(), 1.0)};
          }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
