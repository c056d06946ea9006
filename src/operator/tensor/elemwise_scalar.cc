// Element-wise operations with a scalar: x + s, s - x, x ^ s, x > s, ... (MXNet's _*_scalar).
#include <cmath>

#include "operator/grad_ops.h"
#include "operator/tensor/elemwise.h"
#include "operator/tensor/elemwise_register.h"

namespace mixnet::op {
namespace {

template <typename T>
T Bool(bool b) {
  return b ? T(1) : T(0);
}

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

const bool kRegistered = [] {
  const std::pair<double, double> any{-2.0, 2.0}, positive{0.5, 2.0};
  RegisterScalar(
      "_plus_scalar", [](auto x, auto s) { return x + s; },
      [](GradBuilder&, GValue, GValue, GValue dy, double) { return dy; }, any, 1.5, "x + scalar.",
      SimdBinary{simd::BinaryOp::kAdd, simd::Operands::kArrayScalar})
      .Alias("_PlusScalar");
  RegisterScalar(
      "_minus_scalar", [](auto x, auto s) { return x - s; },
      [](GradBuilder&, GValue, GValue, GValue dy, double) { return dy; }, any, 1.5, "x - scalar.",
      SimdBinary{simd::BinaryOp::kSub, simd::Operands::kArrayScalar})
      .Alias("_MinusScalar");
  RegisterScalar(
      "_rminus_scalar", [](auto x, auto s) { return s - x; },
      [](GradBuilder& g, GValue, GValue, GValue dy, double) { return Neg(g, dy); }, any, 1.5,
      "scalar - x.", SimdBinary{simd::BinaryOp::kSub, simd::Operands::kScalarArray})
      .Alias("_RMinusScalar");
  RegisterScalar(
      "_mul_scalar", [](auto x, auto s) { return x * s; },
      [](GradBuilder& g, GValue, GValue, GValue dy, double s) { return MulScalar(g, dy, s); }, any,
      -2.5, "x * scalar.", SimdBinary{simd::BinaryOp::kMul, simd::Operands::kArrayScalar})
      .Alias("_MulScalar");
  RegisterScalar(
      "_div_scalar", [](auto x, auto s) { return x / s; },
      [](GradBuilder& g, GValue, GValue, GValue dy, double s) { return MulScalar(g, dy, 1.0 / s); },
      any, 4.0, "x / scalar.", SimdBinary{simd::BinaryOp::kDiv, simd::Operands::kArrayScalar})
      .Alias("_DivScalar");
  RegisterScalar(
      "_rdiv_scalar", [](auto x, auto s) { return s / x; },
      [](GradBuilder& g, GValue x, GValue y, GValue dy, double) {
        return Neg(g, Mul(g, dy, Div(g, y, x)));
      },
      positive, 3.0, "scalar / x.", SimdBinary{simd::BinaryOp::kDiv, simd::Operands::kScalarArray})
      .Alias("_RDivScalar");
  RegisterScalar(
      "_power_scalar", [](auto x, auto s) { return std::pow(x, s); },
      [](GradBuilder& g, GValue x, GValue, GValue dy, double s) {
        return Mul(g, MulScalar(g, dy, s), g.Apply1("_power_scalar", {x}, Scalar(s - 1)));
      },
      positive, 2.5, "x ^ scalar.")
      .Alias("_PowerScalar");
  RegisterScalar(
      "_rpower_scalar", [](auto x, auto s) { return std::pow(s, x); },
      [](GradBuilder& g, GValue, GValue y, GValue dy, double s) {
        return Mul(g, MulScalar(g, dy, std::log(s)), y);
      },
      any, 1.7, "scalar ^ x.")
      .Alias("_RPowerScalar");
  RegisterScalar(
      "_maximum_scalar", [](auto x, auto s) { return x > s ? x : s; },
      [](GradBuilder& g, GValue x, GValue, GValue dy, double s) {
        return Mul(g, dy, g.Apply1("_greater_equal_scalar", {x}, Scalar(s)));
      },
      any, 0.3, "max(x, scalar).",
      SimdBinary{simd::BinaryOp::kMaxStrict, simd::Operands::kArrayScalar})
      .Alias("_MaximumScalar");
  RegisterScalar(
      "_minimum_scalar", [](auto x, auto s) { return x < s ? x : s; },
      [](GradBuilder& g, GValue x, GValue, GValue dy, double s) {
        return Mul(g, dy, g.Apply1("_lesser_equal_scalar", {x}, Scalar(s)));
      },
      any, 0.3, "min(x, scalar).",
      SimdBinary{simd::BinaryOp::kMinStrict, simd::Operands::kArrayScalar})
      .Alias("_MinimumScalar");
  // Comparisons give 1 or 0 in the input's dtype (MXNet 1.x); their gradient is zero.
  RegisterScalar(
      "_equal_scalar", [](auto x, auto s) { return Bool<decltype(x)>(x == s); }, nullptr, any, 0.0,
      "x == scalar, as 1 or 0.", SimdBinary{simd::BinaryOp::kEqual, simd::Operands::kArrayScalar})
      .Alias("_EqualScalar");
  RegisterScalar(
      "_not_equal_scalar", [](auto x, auto s) { return Bool<decltype(x)>(x != s); }, nullptr, any,
      0.0, "x != scalar, as 1 or 0.",
      SimdBinary{simd::BinaryOp::kNotEqual, simd::Operands::kArrayScalar})
      .Alias("_NotEqualScalar");
  RegisterScalar(
      "_greater_scalar", [](auto x, auto s) { return Bool<decltype(x)>(x > s); }, nullptr, any,
      0.25, "x > scalar, as 1 or 0.",
      SimdBinary{simd::BinaryOp::kGreater, simd::Operands::kArrayScalar})
      .Alias("_GreaterScalar");
  RegisterScalar(
      "_greater_equal_scalar", [](auto x, auto s) { return Bool<decltype(x)>(x >= s); }, nullptr,
      any, 0.25, "x >= scalar, as 1 or 0.",
      SimdBinary{simd::BinaryOp::kGreaterEqual, simd::Operands::kArrayScalar})
      .Alias("_GreaterEqualScalar");
  RegisterScalar(
      "_lesser_scalar", [](auto x, auto s) { return Bool<decltype(x)>(x < s); }, nullptr, any, 0.25,
      "x < scalar, as 1 or 0.", SimdBinary{simd::BinaryOp::kLesser, simd::Operands::kArrayScalar})
      .Alias("_LesserScalar");
  RegisterScalar(
      "_lesser_equal_scalar", [](auto x, auto s) { return Bool<decltype(x)>(x <= s); }, nullptr,
      any, 0.25, "x <= scalar, as 1 or 0.",
      SimdBinary{simd::BinaryOp::kLesserEqual, simd::Operands::kArrayScalar})
      .Alias("_LesserEqualScalar");
  return true;
}();

}  // namespace
}  // namespace mixnet::op
