// softmax, log_softmax and softmin along one axis (MXNet 1.x), numerically stable: the maximum
// is subtracted before exponentiating. Their backward ops need sums along the axis.
#include <cmath>

#include "operator/grad_ops.h"
#include "operator/linalg/gemm.h"
#include "operator/tensor/elemwise.h"
#include "operator/tensor/elemwise_simd.h"

namespace mixnet::op {
namespace {

enum SoftmaxKind { kSoftmax, kLogSoftmax, kSoftmin };

struct SoftmaxParam {
  int axis = -1;
  std::optional<double> temperature;
  int dtype = 0;  // 0: the input's dtype
  static void Declare(ParamDecl<SoftmaxParam>& d) {
    d.Field("axis", &SoftmaxParam::axis)
        .Default(-1)
        .Doc("The axis along which to compute softmax.");
    d.Field("temperature", &SoftmaxParam::temperature)
        .Default(std::nullopt)
        .Doc("Temperature parameter in softmax (None means 1).");
    d.Field("dtype", &SoftmaxParam::dtype)
        .Enum({"None", "float16", "float32", "float64"})
        .Default("None")
        .Doc("DType of the output in case this can't be inferred. Defaults to the input's.");
  }
};

DType ParamDType(int e) {
  constexpr DType kTypes[] = {DType::kFloat16, DType::kFloat32, DType::kFloat64};
  return kTypes[e - 1];
}

/*! \brief The data as (outer, n, inner) around the softmax axis. */
struct AxisView {
  int64_t outer, n, inner;
};

AxisView ViewAround(const Attrs& attrs, const Shape& s) {
  const int axis = attrs.param<SoftmaxParam>().axis;
  const int ax = axis < 0 ? axis + s.ndim() : axis;
  MX_CHECK(ax >= 0 && ax < s.ndim(), ValueError)
      << attrs.op->name << ": axis " << axis << " is out of range for data of shape " << s;
  return {s.ProdDims(0, ax), s[ax], s.ProdDims(ax + 1, s.ndim())};
}

void SoftmaxInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
  AssignShape(attrs, "data", &(*in)[0], (*out)[0]);
  if ((*in)[0].is_known()) ViewAround(attrs, (*in)[0]);
}

void SoftmaxInferType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = (*in)[0];
  MX_CHECK(t < 0 || IsFloatingDType(static_cast<DType>(t)), TypeError)
      << attrs.op->name << ": data has dtype " << DTypeName(static_cast<DType>(t))
      << "; expected a floating dtype";
  const int want = attrs.param<SoftmaxParam>().dtype;
  AssignType(attrs, "output", &(*out)[0], want ? static_cast<int>(ParamDType(want)) : t);
}

/*! \brief Calls f with the element types of two floating arrays. */
template <typename F>
void DispatchFloat2(DType a, DType b, F&& f) {
  DispatchFloat(a, [&](auto ta) { DispatchFloat(b, [&](auto tb) { f(ta, tb); }); });
}

template <int kKind>
void SoftmaxForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const AxisView v = ViewAround(attrs, in[0].shape);
  const double t = attrs.param<SoftmaxParam>().temperature.value_or(1.0);
  // softmin is softmax of -x.
  const double scale = (kKind == kSoftmin ? -1.0 : 1.0) / t;
  DispatchFloat2(in[0].dtype, out[0].dtype, [&](auto xtag, auto ytag) {
    using X = typename decltype(xtag)::type;
    using Y = typename decltype(ytag)::type;
    using C = std::conditional_t<std::is_same_v<ComputeType<X>, double> ||
                                     std::is_same_v<ComputeType<Y>, double>,
                                 double, float>;
    const X* x = in[0].data<X>();
    Y* y = out[0].data<Y>();
    ParallelFor(v.outer * v.inner,
                std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, v.n)),
                [&](int64_t lo, int64_t hi) {
                  for (int64_t r = lo; r < hi; ++r) {
                    const int64_t base = (r / v.inner) * v.n * v.inner + r % v.inner;
                    auto at = [&](int64_t j) {
                      return C(scale) * C(ComputeType<X>(x[base + j * v.inner]));
                    };
                    C m = at(0);
                    for (int64_t j = 1; j < v.n; ++j)
                      m = std::max(m, at(j));
                    C sum = 0;
                    for (int64_t j = 0; j < v.n; ++j)
                      sum += std::exp(at(j) - m);
                    const C log_sum = std::log(sum);
                    for (int64_t j = 0; j < v.n; ++j) {
                      const C z = at(j) - m;
                      Store(y + base + j * v.inner, req[0],
                            kKind == kLogSoftmax ? z - log_sum : std::exp(z) / sum);
                    }
                  }
                });
  });
}

/*!
 * \brief Inputs out_grad, output, data (for its dtype). softmax: dx = y (dy - sum(dy y)) / t;
 * softmin the same negated; log_softmax: dx = (dy - e^y sum(dy)) / t.
 */
template <int kKind>
void SoftmaxBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const AxisView v = ViewAround(attrs, in[1].shape);
  const double t = attrs.param<SoftmaxParam>().temperature.value_or(1.0);
  const double scale = (kKind == kSoftmin ? -1.0 : 1.0) / t;
  DispatchFloat2(in[1].dtype, out[0].dtype, [&](auto ytag, auto xtag) {
    using Y = typename decltype(ytag)::type;
    using X = typename decltype(xtag)::type;
    const Y* dy = in[0].data<Y>();
    const Y* y = in[1].data<Y>();
    X* dx = out[0].data<X>();
    for (int64_t r = 0; r < v.outer * v.inner; ++r) {
      const int64_t base = (r / v.inner) * v.n * v.inner + r % v.inner;
      auto get = [&](const Y* a, int64_t j) {
        return static_cast<double>(ComputeType<Y>(a[base + j * v.inner]));
      };
      double s = 0;
      for (int64_t j = 0; j < v.n; ++j)
        s += kKind == kLogSoftmax ? get(dy, j) : get(dy, j) * get(y, j);
      for (int64_t j = 0; j < v.n; ++j) {
        const double g = kKind == kLogSoftmax ? get(dy, j) - std::exp(get(y, j)) * s
                                              : get(y, j) * (get(dy, j) - s);
        Store(dx + base + j * v.inner, req[0], scale * g);
      }
    }
  });
}

/*! \brief Elements per thread chunk for softmax (an exp and a few passes per element). */
constexpr int64_t kSoftmaxGrain = 16384;
/*! \brief Columns per task when the axis is not the last. */
constexpr int64_t kSoftmaxColumns = 64;

/*!
 * \brief Splits the view for the simd kernels: f(offset, count, cols) for `count` contiguous
 * rows at offset (the last axis), or one slice's columns [c, c + cols) at offset + c.
 */
template <typename F>
void SplitSoftmax(const AxisView& v, F f) {
  if (v.inner == 1) {
    ParallelFor(v.outer, std::max<int64_t>(1, kSoftmaxGrain / std::max<int64_t>(1, v.n)),
                [&](int64_t lo, int64_t hi) { f(lo * v.n, hi - lo, int64_t{1}); });
    return;
  }
  const int64_t chunks = (v.inner + kSoftmaxColumns - 1) / kSoftmaxColumns;
  const int64_t per_task = std::max<int64_t>(1, v.n * std::min(v.inner, kSoftmaxColumns));
  ParallelFor(v.outer * chunks, std::max<int64_t>(1, kSoftmaxGrain / per_task),
              [&](int64_t lo, int64_t hi) {
                for (int64_t t = lo; t < hi; ++t) {
                  const int64_t c = (t % chunks) * kSoftmaxColumns;
                  f((t / chunks) * v.n * v.inner + c, int64_t{1},
                    std::min(kSoftmaxColumns, v.inner - c));
                }
              });
}

std::string SimdSoftmaxSupport(const Attrs&, std::span<const TBlob> in,
                               std::span<const TBlob> out) {
  std::string why = SimdDTypeSupport(in, out, false);
  if (why.empty() && out[0].Size() == 0) why = "empty input";
  return why;
}

template <int kKind>
constexpr simd::SoftmaxKind kSimdKind =
    kKind == kLogSoftmax ? simd::SoftmaxKind::kLogSoftmax : simd::SoftmaxKind::kSoftmax;

template <int kKind>
float SoftmaxScale(const Attrs& attrs) {
  return static_cast<float>((kKind == kSoftmin ? -1.0 : 1.0) /
                            attrs.param<SoftmaxParam>().temperature.value_or(1.0));
}

template <int kKind>
void SimdSoftmaxForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                        std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const AxisView v = ViewAround(attrs, in[0].shape);
  const float* x = in[0].data<float>();
  float* y = out[0].data<float>();
  SplitSoftmax(v, [&](int64_t offset, int64_t count, int64_t cols) {
    simd::Best().softmax(kSimdKind<kKind>, x + offset, y + offset, count, v.n, v.inner, cols,
                         SoftmaxScale<kKind>(attrs), req[0] == OpReq::kAdd);
  });
}

template <int kKind>
void SimdSoftmaxBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                         std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const AxisView v = ViewAround(attrs, in[1].shape);
  const float* dy = in[0].data<float>();
  const float* y = in[1].data<float>();
  float* dx = out[0].data<float>();
  SplitSoftmax(v, [&](int64_t offset, int64_t count, int64_t cols) {
    simd::Best().softmax_grad(kSimdKind<kKind>, dy + offset, y + offset, dx + offset, count, v.n,
                              v.inner, cols, SoftmaxScale<kKind>(attrs), req[0] == OpReq::kAdd);
  });
}

/*! \brief Softmax (or its log, or softmin) along `axis` in double, for expected values. */
std::vector<double> SoftmaxExpected(const std::vector<double>& x, const Shape& s, int axis,
                                    double t, int kind) {
  const int64_t n = s[axis], inner = s.ProdDims(axis + 1, s.ndim()), outer = s.ProdDims(0, axis);
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += std::exp((kind == kSoftmin ? -1 : 1) * x[(o * n + j) * inner + i] / t);
      for (int64_t j = 0; j < n; ++j) {
        const double e = std::exp((kind == kSoftmin ? -1 : 1) * x[(o * n + j) * inner + i] / t);
        y[(o * n + j) * inner + i] = kind == kLogSoftmax ? std::log(e / sum) : e / sum;
      }
    }
  }
  return y;
}

/*!
 * \brief Second order. With c = 1/t (-1/t for softmin), incoming gradient g of dx, and sums
 * along the axis broadcast back: softmax dx = c y (dy - sum(dy y)), so d/d(dy) is the same
 * backward applied to g, and d/dy = c (g (dy - sum(dy y)) - dy sum(g y)); log_softmax
 * dx = c (dy - e^y sum(dy)), so d/d(dy) = c (g - sum(g e^y)) and d/dy = -c g e^y sum(dy).
 */
template <int kKind>
std::vector<GValue> SoftmaxBackwardGradient(GradBuilder& g, const Attrs& attrs,
                                            std::span<const GValue> in, std::span<const GValue>,
                                            std::span<const GValue> dout) {
  const auto& p = attrs.param<SoftmaxParam>();
  const double c = (kKind == kSoftmin ? -1.0 : 1.0) / p.temperature.value_or(1.0);
  const AttrDict sum_attrs = {{"axis", std::to_string(p.axis)}, {"keepdims", "True"}};
  auto sum = [&](GValue v) { return g.Apply1("sum", {v}, sum_attrs); };
  const GValue dy = in[0], y = in[1], gx = dout[0];
  if (!gx.valid()) return {GValue{}, GValue{}, GValue{}};
  GValue d_dy, d_y;
  if (kKind == kLogSoftmax) {
    const GValue ey = grad::Unary(g, "exp", y);
    d_dy = grad::MulScalar(g, g.Apply1("broadcast_sub", {gx, sum(grad::Mul(g, gx, ey))}), c);
    d_y = grad::MulScalar(g, g.Apply1("broadcast_mul", {grad::Mul(g, gx, ey), sum(dy)}), -c);
  } else {
    d_dy = g.Apply(attrs.op->name, std::vector<GValue>{gx, y, in[2]}, attrs.dict)[0];
    const GValue centered = g.Apply1("broadcast_sub", {dy, sum(grad::Mul(g, dy, y))});
    d_y = grad::MulScalar(g,
                          grad::Sub(g, grad::Mul(g, gx, centered),
                                    g.Apply1("broadcast_mul", {dy, sum(grad::Mul(g, gx, y))})),
                          c);
  }
  return {d_dy, d_y, GValue{}};
}

template <int kKind>
void RegisterSoftmax(const char* name, const char* backward, const char* doc) {
  Registry::Add(name)
      .Describe(doc)
      .Param<SoftmaxParam>()
      .Inputs({"data"})
      .InferShape(SoftmaxInferShape)
      .InferType(SoftmaxInferType)
      .Kernel("simd", SimdSoftmaxForward<kKind>, SimdSoftmaxSupport)
      .Kernel("reference", SoftmaxForward<kKind>)
      .Gradient([backward](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                           std::span<const GValue> out, std::span<const GValue> dout) {
        return g.Apply(backward, std::vector<GValue>{dout[0], out[0], in[0]}, attrs.dict);
      })
      .Sample(OpSample{.inputs = {Shape{3, 5}},
                       .ranges = {{-3.0, 3.0}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 SoftmaxExpected(in[0], Shape{3, 5}, 1, 1.0, kKind)};
                           }})
      .Sample(OpSample{.attrs = {{"axis", "1"}, {"temperature", "2.5"}},
                       .inputs = {Shape{2, 4, 3}},
                       .ranges = {{-3.0, 3.0}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         return std::vector<std::vector<double>>{
                             SoftmaxExpected(in[0], Shape{2, 4, 3}, 1, 2.5, kKind)};
                       }});

  Registry::Add(backward)
      .Describe("Gradient of the softmax family given out_grad, the forward output and data.")
      .Param<SoftmaxParam>()
      .Inputs({"out_grad", "output", "data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        for (size_t i = 0; i < 3; ++i)
          AssignShape(attrs, "data_grad", &(*out)[0], (*in)[i]);
        for (size_t i = 0; i < 3; ++i)
          AssignShape(attrs, InputName(attrs, i), &(*in)[i], (*out)[0]);
      })
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        AssignType(attrs, "out_grad", &(*in)[0], (*in)[1]);
        AssignType(attrs, "data_grad", &(*out)[0], (*in)[2]);
      })
      .Kernel("simd", SimdSoftmaxBackward<kKind>, SimdSoftmaxSupport)
      .Kernel("reference", SoftmaxBackward<kKind>)
      .Gradient(SoftmaxBackwardGradient<kKind>)
      .Sample(OpSample{.attrs = {{"axis", "0"}, {"temperature", "0.5"}},
                       .inputs = {Shape{4, 3}, Shape{4, 3}, Shape{4, 3}},
                       .ranges = {{-1.0, 1.0}, {0.05, 0.5}, {-1.0, 1.0}}});
}

// ---- SoftmaxActivation (deprecated in MXNet 1.x, kept for old checkpoints) ----

struct SoftmaxActivationParam {
  int mode = 0;
  static void Declare(ParamDecl<SoftmaxActivationParam>& d) {
    d.Field("mode", &SoftmaxActivationParam::mode)
        .Enum({"instance", "channel"})
        .Default("instance")
        .Doc(
            "instance: softmax over the last axis (each instance of 2-d data); channel: "
            "softmax over axis 1 at each position.");
  }
};

/*! \brief The data seen as (rows, last axis) (instance: MXNet flattens to 2-d) or as
 * (n, channels, rest) (channel). */
Shape SoftmaxActivationView(const Attrs& attrs, const Shape& s) {
  if (attrs.param<SoftmaxActivationParam>().mode == 0) {
    return Shape{s.ProdDims(0, s.ndim() - 1), s[s.ndim() - 1]};
  }
  MX_CHECK(s.ndim() >= 3, ValueError)
      << "SoftmaxActivation: mode 'channel' needs data of at least 3 dimensions, got " << s;
  return Shape{s[0], s[1], s.ProdDims(2, s.ndim())};
}

/*! \brief The softmax (axis 1) that SoftmaxActivation runs on the view. */
const Attrs& AxisOneSoftmax() {
  static const Attrs attrs = Registry::Get("softmax").ParseAttrs({{"axis", "1"}});
  return attrs;
}

template <void (*Kernel)(const OpContext&, const Attrs&, std::span<const TBlob>,
                         std::span<const OpReq>, std::span<const TBlob>)>
void SoftmaxActivationForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                              std::span<const OpReq> req, std::span<const TBlob> out) {
  const Shape view = SoftmaxActivationView(attrs, in[0].shape);
  const TBlob x{in[0].dptr, view, in[0].dtype}, y{out[0].dptr, view, out[0].dtype};
  Kernel(ctx, AxisOneSoftmax(), std::span<const TBlob>(&x, 1), req, std::span<const TBlob>(&y, 1));
}

void RegisterSoftmaxActivation() {
  Registry::Add("SoftmaxActivation")
      .Describe(
          "Softmax over each instance (the last axis) or over channels (axis 1); MXNet 1.x's "
          "deprecated form of softmax.")
      .Param<SoftmaxActivationParam>()
      .Inputs({"data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
        AssignShape(attrs, "data", &(*in)[0], (*out)[0]);
        if ((*in)[0].is_known()) {
          MX_CHECK((*in)[0].ndim() >= 2, ValueError)
              << "SoftmaxActivation: data must have at least 2 dimensions, got " << (*in)[0];
          SoftmaxActivationView(attrs, (*in)[0]);
        }
      })
      .InferType(FloatingSameType)
      .Kernel("simd", SoftmaxActivationForward<SimdSoftmaxForward<kSoftmax>>, SimdSoftmaxSupport)
      .Kernel("reference", SoftmaxActivationForward<SoftmaxForward<kSoftmax>>)
      // The softmax gradient along the same axis (channel: of the 3-d view, reshaped back).
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        if (attrs.param<SoftmaxActivationParam>().mode == 0) {
          return std::vector<GValue>{
              g.Apply1("_backward_softmax", {dout[0], out[0], in[0]}, {{"axis", "-1"}})};
        }
        auto view = [&](GValue v) { return g.Apply1("Reshape", {v}, {{"shape", "(0, 0, -1)"}}); };
        const GValue dx = g.Apply1("_backward_softmax", {view(dout[0]), view(out[0]), view(in[0])},
                                   {{"axis", "1"}});
        return std::vector<GValue>{g.Apply1("reshape_like", {dx, in[0]})};
      })
      .Sample(OpSample{.inputs = {Shape{2, 3, 2}},
                       .ranges = {{-3.0, 3.0}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 SoftmaxExpected(in[0], Shape{2, 3, 2}, 2, 1.0, kSoftmax)};
                           }})
      .Sample(OpSample{.attrs = {{"mode", "channel"}},
                       .inputs = {Shape{2, 3, 2, 2}},
                       .ranges = {{-3.0, 3.0}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         return std::vector<std::vector<double>>{
                             SoftmaxExpected(in[0], Shape{2, 3, 4}, 1, 1.0, kSoftmax)};
                       }});
}

const bool kRegistered = [] {
  RegisterSoftmax<kSoftmax>("softmax", "_backward_softmax",
                            "Softmax along `axis`: exp(x / t) / sum(exp(x / t)).");
  RegisterSoftmax<kLogSoftmax>("log_softmax", "_backward_log_softmax",
                               "Log of softmax along `axis`, computed stably.");
  RegisterSoftmax<kSoftmin>("softmin", "_backward_softmin",
                            "Softmin along `axis`: softmax of -x / t.");
  RegisterSoftmaxActivation();
  return true;
}();

}  // namespace
}  // namespace mixnet::op
