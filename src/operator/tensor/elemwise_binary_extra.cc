// Same-shape binary ops beyond arithmetic (_mod, _power, _maximum, comparisons, logical) and
// the scalar forms missing from elemwise_scalar.cc (_mod_scalar, _hypot_scalar, logical).
#include <cmath>

#include "operator/tensor/elemwise_register.h"

namespace mixnet::op {
namespace {

template <typename T>
bool Truth(T x) {
  return x != T(0);
}

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

const bool kRegistered = [] {
  const std::pair<double, double> any{-2.0, 2.0}, positive{0.5, 2.0};
  RegisterSameShape(
      "_mod", [](auto a, auto b) { return Mod(a, b); }, binary_grad::Modulo, {-3.0, 3.0}, positive,
      "lhs % rhs; the result has the sign of rhs (Python's %), and x % 0 is 0.")
      .Alias("_Mod");
  RegisterSameShape(
      "_power", [](auto a, auto b) { return std::pow(a, b); }, binary_grad::Power, positive, any,
      "lhs ^ rhs.")
      .Alias("_Power");
  RegisterSameShape(
      "_maximum", [](auto a, auto b) { return a >= b ? a : b; }, binary_grad::Maximum, any, any,
      "max(lhs, rhs).", simd::BinaryOp::kMaximum)
      .Alias("_Maximum");
  RegisterSameShape(
      "_minimum", [](auto a, auto b) { return a <= b ? a : b; }, binary_grad::Minimum, any, any,
      "min(lhs, rhs).", simd::BinaryOp::kMinimum)
      .Alias("_Minimum");
  RegisterSameShape(
      "_hypot", [](auto a, auto b) { return std::hypot(a, b); }, binary_grad::Hypot, any, any,
      "sqrt(lhs^2 + rhs^2).")
      .Alias("_Hypot");
  // Comparisons and logical ops give 1 or 0 in the inputs' dtype (MXNet 1.x), zero gradient.
  RegisterSameShape(
      "_equal", [](auto a, auto b) { return Bool<decltype(a)>(a == b); }, nullptr, any, any,
      "lhs == rhs, as 1 or 0.", simd::BinaryOp::kEqual)
      .Alias("_Equal");
  RegisterSameShape(
      "_not_equal", [](auto a, auto b) { return Bool<decltype(a)>(a != b); }, nullptr, any, any,
      "lhs != rhs, as 1 or 0.", simd::BinaryOp::kNotEqual)
      .Alias("_Not_Equal");
  RegisterSameShape(
      "_greater", [](auto a, auto b) { return Bool<decltype(a)>(a > b); }, nullptr, any, any,
      "lhs > rhs, as 1 or 0.", simd::BinaryOp::kGreater)
      .Alias("_Greater");
  RegisterSameShape(
      "_greater_equal", [](auto a, auto b) { return Bool<decltype(a)>(a >= b); }, nullptr, any, any,
      "lhs >= rhs, as 1 or 0.", simd::BinaryOp::kGreaterEqual)
      .Alias("_Greater_Equal");
  RegisterSameShape(
      "_lesser", [](auto a, auto b) { return Bool<decltype(a)>(a < b); }, nullptr, any, any,
      "lhs < rhs, as 1 or 0.", simd::BinaryOp::kLesser)
      .Alias("_Lesser");
  RegisterSameShape(
      "_lesser_equal", [](auto a, auto b) { return Bool<decltype(a)>(a <= b); }, nullptr, any, any,
      "lhs <= rhs, as 1 or 0.", simd::BinaryOp::kLesserEqual)
      .Alias("_Lesser_Equal");
  RegisterSameShape(
      "_logical_and", [](auto a, auto b) { return Bool<decltype(a)>(Truth(a) && Truth(b)); },
      nullptr, any, any, "lhs and rhs (non-zero is true), as 1 or 0.")
      .Alias("_Logical_And");
  RegisterSameShape(
      "_logical_or", [](auto a, auto b) { return Bool<decltype(a)>(Truth(a) || Truth(b)); },
      nullptr, any, any, "lhs or rhs (non-zero is true), as 1 or 0.")
      .Alias("_Logical_Or");
  RegisterSameShape(
      "_logical_xor", [](auto a, auto b) { return Bool<decltype(a)>(Truth(a) != Truth(b)); },
      nullptr, any, any, "lhs xor rhs (non-zero is true), as 1 or 0.")
      .Alias("_Logical_Xor");

  RegisterScalar(
      "_mod_scalar", [](auto x, auto s) { return Mod(x, s); },
      [](GradBuilder&, GValue, GValue, GValue dy, double) { return dy; }, {-3.0, 3.0}, 1.3,
      "x % scalar (the sign of scalar, as Python's %).")
      .Alias("_ModScalar");
  RegisterScalar(
      "_rmod_scalar", [](auto x, auto s) { return Mod(s, x); },
      [](GradBuilder& g, GValue x, GValue, GValue dy, double s) {
        // s % x = s - x * floor(s / x)
        const GValue q = Unary(g, "floor", g.Apply1("_rdiv_scalar", {x}, Scalar(s)));
        return Neg(g, Mul(g, dy, q));
      },
      positive, 2.9, "scalar % x (the sign of x, as Python's %).")
      .Alias("_RModScalar");
  RegisterScalar(
      "_hypot_scalar", [](auto x, auto s) { return std::hypot(x, s); },
      [](GradBuilder& g, GValue x, GValue y, GValue dy, double) {
        return Mul(g, dy, Div(g, x, y));
      },
      any, 1.5, "sqrt(x^2 + scalar^2).")
      .Alias("_HypotScalar");
  RegisterScalar(
      "_logical_and_scalar", [](auto x, auto s) { return Bool<decltype(x)>(Truth(x) && Truth(s)); },
      nullptr, any, 1.0, "x and scalar (non-zero is true), as 1 or 0.")
      .Alias("_LogicalAndScalar");
  RegisterScalar(
      "_logical_or_scalar", [](auto x, auto s) { return Bool<decltype(x)>(Truth(x) || Truth(s)); },
      nullptr, any, 0.0, "x or scalar (non-zero is true), as 1 or 0.")
      .Alias("_LogicalOrScalar");
  RegisterScalar(
      "_logical_xor_scalar", [](auto x, auto s) { return Bool<decltype(x)>(Truth(x) != Truth(s)); },
      nullptr, any, 1.0, "x xor scalar (non-zero is true), as 1 or 0.")
      .Alias("_LogicalXorScalar");
  return true;
}();

}  // namespace
}  // namespace mixnet::op
