// L2Normalization (MXNet 1.x): out = x / sqrt(sum of x^2 + eps) over each sample (instance),
// over the channels at each position (channel) or over the positions of each channel
// (spatial).
#include <cmath>

#include "operator/nn/norm_util.h"

namespace mixnet::op {
namespace {

using norm::Load;
using norm::Put;

enum Mode { kInstance, kChannel, kSpatial };

struct L2NormalizationParam {
  double eps = 1e-10;
  int mode = kInstance;
  static void Declare(ParamDecl<L2NormalizationParam>& d) {
    d.Field("eps", &L2NormalizationParam::eps)
        .Default(1e-10)
        .Doc("Added to the sum of squares to avoid division by zero.");
    d.Field("mode", &L2NormalizationParam::mode)
        .Enum({"instance", "channel", "spatial"})
        .Default("instance")
        .Doc("What each norm is taken over.");
  }
};

norm::GroupLayout Layout(const Attrs& attrs, const Shape& d) {
  const int64_t n = d[0], c = d[1], s = d.ProdDims(2, d.ndim());
  norm::GroupLayout l;
  switch (attrs.param<L2NormalizationParam>().mode) {
    case kInstance:
      l.groups = n;
      l.count = l.outer_step = c * s;
      break;
    case kChannel:
      l.groups = n * s;
      l.count = c;
      l.inner = l.stride = s;
      l.outer_step = c * s;
      break;
    default:
      l.groups = n * c;
      l.count = l.outer_step = s;
      break;
  }
  return l;
}

template <typename T>
double InvNorm(const norm::GroupLayout& l, double eps, const T* x, int64_t g) {
  const T* p = x + l.Offset(g);
  double sq = 0;
  for (int64_t k = 0; k < l.count; ++k) {
    const double v = Load(p[k * l.stride]);
    sq += v * v;
  }
  return 1.0 / std::sqrt(sq + eps);
}

void Infer(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  for (const Shape& s : *in) {
    if (!s.is_unknown()) norm::CheckNDim(attrs, s, 2);
  }
  SameShape(attrs, in, out);
}

void Forward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
             std::span<const OpReq> req, std::span<const TBlob> out) {
  const double eps = attrs.param<L2NormalizationParam>().eps;
  const norm::GroupLayout l = Layout(attrs, in[0].shape);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    norm::ForChunks(l.groups, l.count, [&](int64_t, int64_t lo, int64_t hi) {
      for (int64_t g = lo; g < hi; ++g) {
        const double inv = InvNorm(l, eps, x, g);
        for (int64_t k = 0; k < l.count; ++k) {
          const int64_t i = l.Offset(g) + k * l.stride;
          Put(y + i, Load(x[i]) * inv, req[0]);
        }
      }
    });
  });
}

// With y = x * inv: dx = inv * (dy - y * sum(dy * y)).
void Backward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
              std::span<const OpReq> req, std::span<const TBlob> out) {
  const double eps = attrs.param<L2NormalizationParam>().eps;
  const norm::GroupLayout l = Layout(attrs, in[0].shape);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    const T* dy = in[1].data<T>();
    T* dx = out[0].data<T>();
    norm::ForChunks(l.groups, l.count, [&](int64_t, int64_t lo, int64_t hi) {
      for (int64_t g = lo; g < hi; ++g) {
        const double inv = InvNorm(l, eps, x, g);
        const int64_t off = l.Offset(g);
        double dot = 0;
        for (int64_t k = 0; k < l.count; ++k) {
          const int64_t i = off + k * l.stride;
          dot += Load(dy[i]) * Load(x[i]) * inv;
        }
        for (int64_t k = 0; k < l.count; ++k) {
          const int64_t i = off + k * l.stride;
          Put(dx + i, inv * (Load(dy[i]) - Load(x[i]) * inv * dot), req[0]);
        }
      }
    });
  });
}

MIXNET_REGISTER_OP(L2Normalization)
    .Describe(
        "Divides the data by its L2 norm, sqrt(sum of squares + eps), taken per sample "
        "(instance), per position across channels (channel) or per channel across positions "
        "(spatial).")
    .Param<L2NormalizationParam>()
    .Inputs({"data"})
    .InferShape(Infer)
    .InferType(FloatingSameType)
    .Kernel("reference", Forward)
    .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                 std::span<const GValue>, std::span<const GValue> dout) {
      return std::vector<GValue>{
          g.Apply1("_l2_normalization_backward", {in[0], dout[0]}, attrs.dict)};
    })
    .Sample(OpSample{.inputs = {Shape{2, 3, 2}}})
    .Sample(OpSample{.attrs = {{"mode", "channel"}}, .inputs = {Shape{2, 3, 2, 2}}})
    .Sample(OpSample{.attrs = {{"mode", "spatial"}, {"eps", "1e-6"}}, .inputs = {Shape{2, 3, 4}}});

MIXNET_REGISTER_OP(_l2_normalization_backward)
    .Describe("Gradient of L2Normalization w.r.t. its data.")
    .Param<L2NormalizationParam>()
    .Inputs({"data", "ograd"})
    .InferShape(Infer)
    .InferType(FloatingSameType)
    .Kernel("reference", Backward)
    .Sample(OpSample{.attrs = {{"mode", "channel"}}, .inputs = {Shape{2, 3, 2}, Shape{2, 3, 2}}});

}  // namespace
}  // namespace mixnet::op
