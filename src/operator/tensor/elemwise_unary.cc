// Element-wise unary math: one registration per op, from a scalar function, a gradient
// written with registered ops, and the input range its samples are drawn from.
#include <cmath>
#include <numbers>
#include <optional>

#include "operator/grad_ops.h"
#include "operator/tensor/elemwise.h"
#include "operator/tensor/elemwise_simd.h"

namespace mixnet::op {
namespace {

using std::numbers::pi;

/*! \brief Gradient of y = f(x) given x, y and dy. */
using UnaryGrad = GValue (*)(GradBuilder& g, GValue x, GValue y, GValue dy);

/*!
 * \brief Registers `name` computing `f` element-wise; `grad` null means zero gradient. With
 * `simd`, a vector kernel comes before the reference.
 */
template <typename F>
OpDef& RegisterUnary(const char* name, F f, UnaryGrad grad, std::pair<double, double> range,
                     const char* doc, std::optional<simd::UnaryOp> simd = std::nullopt) {
  OpDef& def = Registry::Add(name)
                   .Describe(doc)
                   .Inputs({"data"})
                   .InferShape(SameShape)
                   .InferType(FloatingSameType)
                   .InPlace({{0, 0}})
                   .Elementwise();
  if (simd) AddSimdUnaryKernel(def, *simd);
  def.Kernel("reference", [f](const OpContext&, const Attrs&, std::span<const TBlob> in,
                              std::span<const OpReq> req,
                              std::span<const TBlob> out) { MapUnary(in[0], req[0], out[0], f); })
      .Sample(OpSample{.inputs = {Shape{3, 5}},
                       .ranges = {range},
                       .expected = [f](const std::vector<std::vector<double>>& in) {
                         std::vector<double> out(in[0].size());
                         for (size_t i = 0; i < out.size(); ++i)
                           out[i] = f(in[0][i]);
                         return std::vector<std::vector<double>>{out};
                       }});
  def.Gradient([grad](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                      std::span<const GValue> out, std::span<const GValue> dout) {
    return std::vector<GValue>{grad ? grad(g, in[0], out[0], dout[0]) : GValue{}};
  });
  return def;
}

/*!
 * \brief Inverse error function: Winitzki's closed form to about 1e-3, then Newton steps on
 * erf, which converge quadratically to full double precision.
 */
double ErfInv(double y) {
  if (y <= -1.0 || y >= 1.0) {
    return y == 1.0 ? INFINITY : y == -1.0 ? -INFINITY : NAN;
  }
  constexpr double a = 0.147;
  const double l = std::log((1.0 - y) * (1.0 + y));
  const double t = 2.0 / (pi * a) + l / 2.0;
  double x = std::copysign(std::sqrt(std::sqrt(t * t - l / a) - t), y);
  for (int i = 0; i < 4; ++i) {
    x -= (std::erf(x) - y) / (2.0 / std::sqrt(pi) * std::exp(-x * x));
  }
  return x;
}

/*! \brief Digamma (the derivative of lgamma): recurrence up to 10, then its asymptotic series. */
double Digamma(double x) {
  if (x <= 0.0 && x == std::floor(x)) return NAN;
  if (x < 0.0) return Digamma(1.0 - x) - pi / std::tan(pi * x);  // reflection
  double r = 0.0;
  while (x < 10.0) {
    r -= 1.0 / x;
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  return r + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

/*! \brief Trigamma (the derivative of digamma): recurrence up to 10, then its asymptotic series. */
double Trigamma(double x) {
  if (x <= 0.0 && x == std::floor(x)) return NAN;
  if (x < 0.0) {  // reflection: trigamma(1 - x) + trigamma(x) = pi^2 / sin^2(pi x)
    const double s = std::sin(pi * x);
    return pi * pi / (s * s) - Trigamma(1.0 - x);
  }
  double r = 0.0;
  while (x < 10.0) {
    r += 1.0 / (x * x);
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  return r + 1.0 / x + f / 2 + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f / 30)));
}

template <typename T>
T Sign(T x) {
  return T((x > T(0)) - (x < T(0)));
}

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

// d/dx of 1/sqrt(1 - x^2) style terms appear often: rsqrt(1 - x^2).
GValue RsqrtOneMinusSquare(GradBuilder& g, GValue x) {
  return Unary(g, "rsqrt", RSubScalar(g, Unary(g, "square", x), 1.0));
}

const bool kRegistered = [] {
  const std::pair<double, double> any{-2.0, 2.0}, positive{0.5, 3.0}, unit{-0.9, 0.9},
      above_one{1.2, 3.0};

  RegisterUnary(
      "negative", [](auto x) { return -x; },
      [](GradBuilder& g, GValue, GValue, GValue dy) { return Neg(g, dy); }, any,
      "Numerical negative: -x.", simd::UnaryOp::kNegative)
      .Alias("_np_negative");
  RegisterUnary(
      "abs", [](auto x) { return std::abs(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Mul(g, dy, Unary(g, "sign", x)); },
      any, "Absolute value: |x|.", simd::UnaryOp::kAbs);
  RegisterUnary(
      "sign", [](auto x) { return Sign(x); }, nullptr, any,
      "Sign of x: -1, 0 or 1. Its gradient is zero.");
  RegisterUnary(
      "exp", [](auto x) { return std::exp(x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) { return Mul(g, dy, y); }, any,
      "Exponential: e^x.", simd::UnaryOp::kExp);
  RegisterUnary(
      "expm1", [](auto x) { return std::expm1(x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) { return Mul(g, dy, AddScalar(g, y, 1.0)); },
      any, "e^x - 1, accurate near 0.");
  RegisterUnary(
      "log", [](auto x) { return std::log(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Div(g, dy, x); }, positive,
      "Natural logarithm.", simd::UnaryOp::kLog);
  RegisterUnary(
      "log1p", [](auto x) { return std::log1p(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Div(g, dy, AddScalar(g, x, 1.0)); },
      {-0.5, 2.0}, "log(1 + x), accurate near 0.");
  RegisterUnary(
      "log2", [](auto x) { return std::log2(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Div(g, dy, MulScalar(g, x, std::numbers::ln2));
      },
      positive, "Base-2 logarithm.");
  RegisterUnary(
      "log10", [](auto x) { return std::log10(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Div(g, dy, MulScalar(g, x, std::numbers::ln10));
      },
      positive, "Base-10 logarithm.");
  RegisterUnary(
      "sqrt", [](auto x) { return std::sqrt(x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) { return Div(g, MulScalar(g, dy, 0.5), y); },
      positive, "Square root.", simd::UnaryOp::kSqrt);
  RegisterUnary(
      "rsqrt", [](auto x) { return decltype(x)(1) / std::sqrt(x); },
      [](GradBuilder& g, GValue x, GValue y, GValue dy) {
        return Mul(g, MulScalar(g, dy, -0.5), Div(g, y, x));
      },
      positive, "Reciprocal square root: 1 / sqrt(x).", simd::UnaryOp::kRsqrt);
  RegisterUnary(
      "cbrt", [](auto x) { return std::cbrt(x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        return Div(g, dy, MulScalar(g, Unary(g, "square", y), 3.0));
      },
      positive, "Cube root.");
  RegisterUnary(
      "square", [](auto x) { return x * x; },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Mul(g, MulScalar(g, dy, 2.0), x); },
      any, "Square: x^2.", simd::UnaryOp::kSquare);
  RegisterUnary(
      "reciprocal", [](auto x) { return decltype(x)(1) / x; },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        return Neg(g, Mul(g, dy, Unary(g, "square", y)));
      },
      positive, "Reciprocal: 1 / x.", simd::UnaryOp::kReciprocal);
  RegisterUnary(
      "sin", [](auto x) { return std::sin(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Mul(g, dy, Unary(g, "cos", x)); },
      any, "Sine.");
  RegisterUnary(
      "cos", [](auto x) { return std::cos(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Neg(g, Mul(g, dy, Unary(g, "sin", x)));
      },
      any, "Cosine.");
  RegisterUnary(
      "tan", [](auto x) { return std::tan(x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        return Mul(g, dy, AddScalar(g, Unary(g, "square", y), 1.0));
      },
      {-1.2, 1.2}, "Tangent.");
  RegisterUnary(
      "arcsin", [](auto x) { return std::asin(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Mul(g, dy, RsqrtOneMinusSquare(g, x));
      },
      unit, "Inverse sine.");
  RegisterUnary(
      "arccos", [](auto x) { return std::acos(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Neg(g, Mul(g, dy, RsqrtOneMinusSquare(g, x)));
      },
      unit, "Inverse cosine.");
  RegisterUnary(
      "arctan", [](auto x) { return std::atan(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Div(g, dy, AddScalar(g, Unary(g, "square", x), 1.0));
      },
      any, "Inverse tangent.");
  RegisterUnary(
      "sinh", [](auto x) { return std::sinh(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Mul(g, dy, Unary(g, "cosh", x)); },
      any, "Hyperbolic sine.");
  RegisterUnary(
      "cosh", [](auto x) { return std::cosh(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) { return Mul(g, dy, Unary(g, "sinh", x)); },
      any, "Hyperbolic cosine.");
  RegisterUnary(
      "tanh", [](auto x) { return std::tanh(x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        return g.Apply1("_backward_tanh", {dy, y});
      },
      any, "Hyperbolic tangent.", simd::UnaryOp::kTanh);
  RegisterUnary(
      "arcsinh", [](auto x) { return std::asinh(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Mul(g, dy, Unary(g, "rsqrt", AddScalar(g, Unary(g, "square", x), 1.0)));
      },
      any, "Inverse hyperbolic sine.");
  RegisterUnary(
      "arccosh", [](auto x) { return std::acosh(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Mul(g, dy, Unary(g, "rsqrt", AddScalar(g, Unary(g, "square", x), -1.0)));
      },
      above_one, "Inverse hyperbolic cosine.");
  RegisterUnary(
      "arctanh", [](auto x) { return std::atanh(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Div(g, dy, RSubScalar(g, Unary(g, "square", x), 1.0));
      },
      unit, "Inverse hyperbolic tangent.");
  RegisterUnary(
      "degrees", [](auto x) { return x * decltype(x)(180.0 / pi); },
      [](GradBuilder& g, GValue, GValue, GValue dy) { return MulScalar(g, dy, 180.0 / pi); }, any,
      "Radians to degrees.");
  RegisterUnary(
      "radians", [](auto x) { return x * decltype(x)(pi / 180.0); },
      [](GradBuilder& g, GValue, GValue, GValue dy) { return MulScalar(g, dy, pi / 180.0); },
      {-180.0, 180.0}, "Degrees to radians.");
  RegisterUnary(
      "sigmoid", [](auto x) { return decltype(x)(1) / (decltype(x)(1) + std::exp(-x)); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        return g.Apply1("_backward_sigmoid", {dy, y});
      },
      any, "Logistic sigmoid: 1 / (1 + e^-x).", simd::UnaryOp::kSigmoid);
  RegisterUnary(
      "relu", [](auto x) { return x > decltype(x)(0) ? x : decltype(x)(0); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        return g.Apply1("_backward_relu", {dy, y});  // y > 0 iff x > 0: x may die in place
      },
      any, "Rectified linear unit: max(x, 0).", simd::UnaryOp::kRelu);
  RegisterUnary(
      "softsign", [](auto x) { return x / (decltype(x)(1) + std::abs(x)); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Div(g, dy, Unary(g, "square", AddScalar(g, Unary(g, "abs", x), 1.0)));
      },
      any, "Softsign: x / (1 + |x|).", simd::UnaryOp::kSoftsign);
  RegisterUnary(
      "erf", [](auto x) { return std::erf(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        // 2/sqrt(pi) * exp(-x^2)
        return Mul(g, MulScalar(g, dy, 2.0 / std::sqrt(pi)),
                   Unary(g, "exp", Neg(g, Unary(g, "square", x))));
      },
      any, "Gauss error function.");
  RegisterUnary(
      "erfinv", [](auto x) { return decltype(x)(ErfInv(x)); },
      [](GradBuilder& g, GValue, GValue y, GValue dy) {
        // sqrt(pi)/2 * exp(erfinv(x)^2)
        return Mul(g, MulScalar(g, dy, std::sqrt(pi) / 2.0),
                   Unary(g, "exp", Unary(g, "square", y)));
      },
      unit, "Inverse error function.");
  RegisterUnary(
      "gamma", [](auto x) { return std::tgamma(x); },
      [](GradBuilder& g, GValue x, GValue y, GValue dy) {
        return Mul(g, dy, Mul(g, y, Unary(g, "_digamma", x)));
      },
      positive, "The gamma function.");
  RegisterUnary(
      "gammaln", [](auto x) { return std::lgamma(x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Mul(g, dy, Unary(g, "_digamma", x));
      },
      positive, "Log of the absolute value of the gamma function.");
  // Used by the gradients above (and digamma's by second-order gradients of gamma/gammaln).
  RegisterUnary(
      "_digamma", [](auto x) { return decltype(x)(Digamma(x)); },
      [](GradBuilder& g, GValue x, GValue, GValue dy) {
        return Mul(g, dy, Unary(g, "_trigamma", x));
      },
      positive, "Digamma function, the derivative of gammaln.");
  // Third derivatives of gamma/gammaln are not offered: trigamma declares no gradient rather
  // than a wrong zero.
  RegisterUnary(
      "_trigamma", [](auto x) { return decltype(x)(Trigamma(x)); }, nullptr, positive,
      "Trigamma function, the derivative of digamma.")
      .gradient = nullptr;
  // Rounding: piecewise constant, so the gradient is zero (MXNet's too).
  RegisterUnary(
      "floor", [](auto x) { return std::floor(x); }, nullptr, any, "Round down.");
  RegisterUnary(
      "ceil", [](auto x) { return std::ceil(x); }, nullptr, any, "Round up.");
  RegisterUnary(
      "round", [](auto x) { return std::round(x); }, nullptr, any, "Round half away from zero.");
  RegisterUnary(
      "rint", [](auto x) { return std::nearbyint(x); }, nullptr, any,
      "Round to the nearest integer, half to even.");
  RegisterUnary(
      "trunc", [](auto x) { return std::trunc(x); }, nullptr, any, "Round toward zero.");
  RegisterUnary(
      "fix", [](auto x) { return std::trunc(x); }, nullptr, any,
      "Round toward zero (NumPy's fix).");
  return true;
}();

}  // namespace

void FloatingSameType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  SameType(attrs, in, out);
  for (size_t i = 0; i < in->size(); ++i) {
    const int t = (*in)[i];
    MX_CHECK(t < 0 || IsFloatingDType(static_cast<DType>(t)), TypeError)
        << attrs.op->name << ": " << InputName(attrs, i) << " has dtype "
        << DTypeName(static_cast<DType>(t)) << "; expected float32, float64, float16 or bfloat16";
  }
}

}  // namespace mixnet::op
