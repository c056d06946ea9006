// Activation and LeakyReLU (MXNet 1.x). Gradients compose the element-wise ops; PReLU's sums
// over the non-channel axes run in its own backward op.
#include <cmath>
#include <numbers>
#include <tuple>

#include "operator/grad_ops.h"
#include "operator/linalg/gemm.h"
#include "operator/tensor/elemwise_simd.h"

namespace mixnet::op {
namespace {

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

enum ActType { kRelu, kSigmoid, kTanh, kSoftrelu, kSoftsign };

struct ActivationParam {
  int act_type = kRelu;
  static void Declare(ParamDecl<ActivationParam>& d) {
    d.Field("act_type", &ActivationParam::act_type)
        .Enum({"relu", "sigmoid", "tanh", "softrelu", "softsign"})
        .Doc("Activation function to be applied.");
  }
};

template <typename T>
T Activate(int act, T x) {
  switch (act) {
    case kRelu:
      return x > T(0) ? x : T(0);
    case kSigmoid:
      return T(1) / (T(1) + std::exp(-x));
    case kTanh:
      return std::tanh(x);
    case kSoftrelu:  // log(1 + e^x) without overflow for large x
      return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    default:
      return x / (T(1) + std::abs(x));
  }
}

simd::UnaryOp SimdActivation(const Attrs& attrs) {
  constexpr simd::UnaryOp kOps[] = {simd::UnaryOp::kRelu, simd::UnaryOp::kSigmoid,
                                    simd::UnaryOp::kTanh, simd::UnaryOp::kSoftrelu,
                                    simd::UnaryOp::kSoftsign};
  return kOps[attrs.param<ActivationParam>().act_type];
}

// MXNet's LeakyReLU act_type enum without rrelu (random slopes in training).
enum LeakyType { kElu, kGelu, kLeaky, kPrelu, kSelu };

struct LeakyReLUParam {
  int act_type = kLeaky;
  double slope = 0.25;
  static void Declare(ParamDecl<LeakyReLUParam>& d) {
    d.Field("act_type", &LeakyReLUParam::act_type)
        .Enum({"elu", "gelu", "leaky", "prelu", "selu"})
        .Default("leaky")
        .Doc("Activation function to be applied.");
    d.Field("slope", &LeakyReLUParam::slope)
        .Default(0.25)
        .Doc("Init slope for the activation. (For leaky and elu only)");
  }
};

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

template <typename T>
T Leaky(int act, T slope, T x) {
  switch (act) {
    case kElu:
      return x > T(0) ? x : slope * std::expm1(x);
    case kGelu:
      return T(0.5) * x * (T(1) + std::erf(x / T(std::numbers::sqrt2)));
    case kSelu:
      return T(kSeluLambda) * (x > T(0) ? x : T(kSeluAlpha) * std::expm1(x));
    default:
      return x > T(0) ? x : slope * x;
  }
}

/*! \brief Channels of PReLU's gamma and elements per channel step (gamma of size 1: shared). */
struct PreluDims {
  int64_t channels, inner;
};

PreluDims PreluView(const Shape& data, const Shape& gamma) {
  const int64_t inner = data.ndim() > 2 ? data.ProdDims(2, data.ndim()) : 1;
  return {gamma.Size(), inner};
}

void LeakyInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
  AssignShape(attrs, "data", &(*in)[0], (*out)[0]);
  if (in->size() < 2 || !(*in)[0].is_known()) return;
  const Shape& data = (*in)[0];
  Shape& gamma = (*in)[1];
  const int64_t c = data.ndim() >= 2 ? data[1] : 1;
  if (gamma.is_unknown()) gamma = Shape{c};
  MX_CHECK(gamma.ndim() == 1 && (gamma[0] == c || gamma[0] == 1), ValueError)
      << attrs.op->name << ": gamma has shape " << gamma << " but (" << c
      << ",) or (1,) was expected for data " << data;
}

void LeakyForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<LeakyReLUParam>();
  if (p.act_type != kPrelu) {
    MapUnary(in[0], req[0], out[0],
             [act = p.act_type, s = p.slope](auto x) { return Leaky(act, decltype(x)(s), x); });
    return;
  }
  if (req[0] == OpReq::kNull) return;
  const PreluDims d = PreluView(in[0].shape, in[1].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* x = in[0].data<T>();
    const T* gamma = in[1].data<T>();
    T* y = out[0].data<T>();
    for (int64_t i = 0; i < out[0].Size(); ++i) {
      const C xi = C(x[i]);
      Store(y + i, req[0], xi > C(0) ? xi : C(gamma[(i / d.inner) % d.channels]) * xi);
    }
  });
}

/*! \brief data_grad = dy * (x > 0 ? 1 : gamma), gamma_grad = sum of dy * min(x, 0). */
void PreluBackward(const OpContext&, const Attrs&, std::span<const TBlob> in,
                   std::span<const OpReq> req, std::span<const TBlob> out) {
  const PreluDims d = PreluView(in[1].shape, in[2].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* dy = in[0].data<T>();
    const T* x = in[1].data<T>();
    const T* gamma = in[2].data<T>();
    std::vector<double> dgamma(static_cast<size_t>(d.channels), 0.0);
    for (int64_t i = 0; i < in[1].Size(); ++i) {
      const int64_t c = (i / d.inner) % d.channels;
      const C xi = C(x[i]);
      if (req[0] != OpReq::kNull)
        Store(out[0].data<T>() + i, req[0], xi > C(0) ? C(dy[i]) : C(dy[i]) * C(gamma[c]));
      if (xi <= C(0)) dgamma[c] += static_cast<double>(C(dy[i])) * static_cast<double>(xi);
    }
    if (req[1] == OpReq::kNull) return;
    for (int64_t c = 0; c < d.channels; ++c)
      Store(out[1].data<T>() + c, req[1], dgamma[c]);
  });
}

/*! \brief 1 where x > 0, else 0. */
GValue Positive(GradBuilder& g, GValue x) {
  return g.Apply1("_greater_scalar", {x}, Scalar(0.0));
}

/*! \brief mask ? a : b for a 0/1 mask, as b + mask * (a - b). */
GValue Where(GradBuilder& g, GValue mask, GValue a, GValue b) {
  return Add(g, b, Mul(g, mask, Sub(g, a, b)));
}

std::vector<double> MapExpected(const std::vector<double>& in, auto f) {
  std::vector<double> out(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = f(in[i]);
  return out;
}

const bool kRegistered = [] {
  OpDef& activation =
      Registry::Add("Activation")
          .Describe(
              "Applies an activation function element-wise: relu, sigmoid, tanh, "
              "softrelu (log(1 + e^x)) or softsign (x / (1 + |x|)).")
          .Param<ActivationParam>()
          .Inputs({"data"})
          .InferShape(SameShape)
          .InferType(FloatingSameType)
          .InPlace({{0, 0}})
          .Elementwise()
          .Kernel(
              "simd",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                SimdUnary(SimdActivation(attrs), in[0], req[0], out[0]);
              },
              [](const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob> out) {
                return SimdDTypeSupport(in, out, simd::HasFloat64(SimdActivation(attrs)));
              })
          .Kernel("reference",
                  [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
                    const int act = attrs.param<ActivationParam>().act_type;
                    MapUnary(in[0], req[0], out[0], [act](auto x) { return Activate(act, x); });
                  })
          .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                       std::span<const GValue> out, std::span<const GValue> dout) {
            const GValue x = in[0], y = out[0], dy = dout[0];
            GValue dx;
            switch (attrs.param<ActivationParam>().act_type) {
              case kRelu:  // from the output (y > 0 iff x > 0): x may die in place
                dx = g.Apply1("_backward_relu", {dy, y});
                break;
              case kSigmoid:
                dx = g.Apply1("_backward_sigmoid", {dy, y});
                break;
              case kTanh:
                dx = g.Apply1("_backward_tanh", {dy, y});
                break;
              case kSoftrelu:
                dx = Mul(g, dy, Unary(g, "sigmoid", x));
                break;
              default:
                dx = Div(g, dy, Unary(g, "square", AddScalar(g, Unary(g, "abs", x), 1.0)));
            }
            return std::vector<GValue>{dx};
          });
  // Expected values from the textbook formulas, independent of the kernels' stable forms.
  const std::vector<std::pair<const char*, double (*)(double)>> acts = {
      {"relu", [](double x) { return std::max(x, 0.0); }},
      {"sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"softrelu", [](double x) { return std::log(1.0 + std::exp(x)); }},
      {"softsign", [](double x) { return x / (1.0 + std::abs(x)); }}};
  for (const auto& act : acts) {
    const auto f = act.second;
    activation.Sample(OpSample{.attrs = {{"act_type", act.first}},
                               .inputs = {Shape{3, 4}},
                               .ranges = {{-3.0, 3.0}},
                               .expected = [f](const std::vector<std::vector<double>>& in) {
                                 return std::vector<std::vector<double>>{MapExpected(in[0], f)};
                               }});
  }

  OpDef& leaky =
      Registry::Add("LeakyReLU")
          .Describe(
              "Leaky rectified linear units: leaky (x > 0 ? x : slope * x), prelu (a learned "
              "slope gamma per channel of axis 1), elu, selu and gelu (the erf form).")
          .Param<LeakyReLUParam>()
          .Inputs([](const Attrs& attrs) {
            if (attrs.param<LeakyReLUParam>().act_type == kPrelu) {
              return std::vector<std::string>{"data", "gamma"};
            }
            return std::vector<std::string>{"data"};
          })
          .Signature({"data", "gamma?"})
          .InferShape(LeakyInferShape)
          .InferType(FloatingSameType)
          .Kernel("reference", LeakyForward)
          .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                       std::span<const GValue> out, std::span<const GValue> dout) {
            const auto& p = attrs.param<LeakyReLUParam>();
            const GValue x = in[0], y = out[0], dy = dout[0];
            const GValue pos = Positive(g, x);
            switch (p.act_type) {
              case kPrelu:
                return g.Apply("_backward_prelu", std::vector<GValue>{dy, x, in[1]}, {});
              case kElu:  // below 0: slope * e^x = y + slope
                return std::vector<GValue>{
                    Mul(g, dy,
                        Where(g, pos, AddScalar(g, MulScalar(g, pos, 0.0), 1.0),
                              AddScalar(g, y, p.slope)))};
              case kSelu:  // below 0: lambda * alpha * e^x = y + lambda * alpha
                return std::vector<GValue>{
                    Mul(g, dy,
                        Where(g, pos, AddScalar(g, MulScalar(g, pos, 0.0), kSeluLambda),
                              AddScalar(g, y, kSeluLambda * kSeluAlpha)))};
              case kGelu: {  // Phi(x) + x * phi(x)
                const GValue cdf = MulScalar(
                    g,
                    AddScalar(g, Unary(g, "erf", MulScalar(g, x, 1.0 / std::numbers::sqrt2)), 1.0),
                    0.5);
                const GValue pdf =
                    MulScalar(g, Unary(g, "exp", MulScalar(g, Unary(g, "square", x), -0.5)),
                              0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
                return std::vector<GValue>{Mul(g, dy, Add(g, cdf, Mul(g, x, pdf)))};
              }
              default:  // leaky: 1 above 0, slope below
                return std::vector<GValue>{
                    Mul(g, dy, AddScalar(g, MulScalar(g, pos, 1.0 - p.slope), p.slope))};
            }
          });
  const std::vector<std::tuple<const char*, double, double (*)(double, double)>> leakies = {
      {"leaky", 0.1, [](double x, double s) { return x > 0 ? x : s * x; }},
      {"elu", 0.7, [](double x, double s) { return x > 0 ? x : s * (std::exp(x) - 1); }},
      {"selu", 0.25,
       [](double x, double) { return kSeluLambda * (x > 0 ? x : kSeluAlpha * (std::exp(x) - 1)); }},
      {"gelu", 0.25,
       [](double x, double) { return 0.5 * x * std::erfc(-x / std::numbers::sqrt2); }}};
  for (const auto& entry : leakies) {
    const double s = std::get<1>(entry);
    const auto fn = std::get<2>(entry);
    leaky.Sample(OpSample{
        .attrs = {{"act_type", std::get<0>(entry)}, {"slope", ValueCodec<double>::Print(s)}},
        .inputs = {Shape{3, 4}},
        .ranges = {{-3.0, 3.0}},
        .expected = [fn, s](const std::vector<std::vector<double>>& in) {
          return std::vector<std::vector<double>>{
              MapExpected(in[0], [&](double x) { return fn(x, s); })};
        }});
  }
  leaky.Sample(OpSample{.attrs = {{"act_type", "prelu"}},
                        .inputs = {Shape{2, 3, 2}, Shape{3}},
                        .ranges = {{-2.0, 2.0}, {0.1, 0.9}},
                        .expected = [](const std::vector<std::vector<double>>& in) {
                          std::vector<double> y(in[0].size());
                          for (size_t i = 0; i < y.size(); ++i) {
                            const double x = in[0][i];
                            y[i] = x > 0 ? x : in[1][(i / 2) % 3] * x;
                          }
                          return std::vector<std::vector<double>>{y};
                        }});

  Registry::Add("_backward_prelu")
      .Describe("Gradients of LeakyReLU(act_type='prelu') for data and gamma.")
      .Inputs({"out_grad", "data", "gamma"})
      .Outputs({"data_grad", "gamma_grad"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        AssignShape(attrs, "out_grad", &(*in)[0], (*in)[1]);
        AssignShape(attrs, "data_grad", &(*out)[0], (*in)[1]);
        AssignShape(attrs, "gamma_grad", &(*out)[1], (*in)[2]);
      })
      .InferType(FloatingSameType)
      .Kernel("reference", PreluBackward)
      .Sample(OpSample{.inputs = {Shape{2, 2, 3}, Shape{2, 2, 3}, Shape{2}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> dx(12), dgamma(2, 0.0);
                         for (size_t i = 0; i < 12; ++i) {
                           const size_t c = (i / 3) % 2;
                           dx[i] = in[1][i] > 0 ? in[0][i] : in[0][i] * in[2][c];
                           if (in[1][i] <= 0) dgamma[c] += in[0][i] * in[1][i];
                         }
                         return std::vector<std::vector<double>>{dx, dgamma};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
