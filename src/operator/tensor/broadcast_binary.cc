// Binary ops with NumPy broadcasting (MXNet's broadcast_*): shapes aligned right, dims of 1
// stretch. Gradients sum the output gradient back to each input's shape.
#include <cmath>

#include "operator/tensor/broadcast.h"
#include "operator/tensor/elemwise_simd.h"

namespace mixnet::op {
namespace {

void BroadcastBinaryShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& a = (*in)[0];
  const Shape& b = (*in)[1];
  if (a.is_unknown() || b.is_unknown()) return;
  const std::optional<Shape> s = BroadcastShapes(a, b);
  MX_CHECK(s.has_value(), ValueError)
      << attrs.op->name << ": " << InputName(attrs, 0) << " of shape " << a << " and "
      << InputName(attrs, 1) << " of shape " << b << " cannot be broadcast together";
  AssignShape(attrs, "output", &(*out)[0], *s);
}

/*! \brief f over the broadcast of a (shape sa) and b (shape sb), by multi-index arithmetic. */
template <typename F>
std::vector<double> BroadcastExpected(const Shape& sa, const Shape& sb, F f,
                                      const std::vector<double>& a, const std::vector<double>& b) {
  const Shape so = *BroadcastShapes(sa, sb);
  std::vector<double> out(static_cast<size_t>(so.Size()));
  for (int64_t i = 0; i < so.Size(); ++i) {
    int64_t rem = i, ia = 0, ib = 0, ma = 1, mb = 1;
    for (int d = so.ndim() - 1; d >= 0; --d) {
      const int64_t k = rem % so[d];
      rem /= so[d];
      const int da = d - (so.ndim() - sa.ndim()), db = d - (so.ndim() - sb.ndim());
      if (da >= 0) {
        ia += (sa[da] == 1 ? 0 : k) * ma;
        ma *= sa[da];
      }
      if (db >= 0) {
        ib += (sb[db] == 1 ? 0 : k) * mb;
        mb *= sb[db];
      }
    }
    out[static_cast<size_t>(i)] = f(a[static_cast<size_t>(ia)], b[static_cast<size_t>(ib)]);
  }
  return out;
}

OpSample BroadcastSample(const Shape& sa, const Shape& sb, std::pair<double, double> lhs_range,
                         std::pair<double, double> rhs_range,
                         std::function<double(double, double)> f) {
  return OpSample{
      .inputs = {sa, sb},
      .ranges = {lhs_range, rhs_range},
      .expected = [sa, sb, f](const std::vector<std::vector<double>>& in) {
        return std::vector<std::vector<double>>{BroadcastExpected(sa, sb, f, in[0], in[1])};
      }};
}

/*!
 * \brief Registers broadcast_`base`; `grad` null means zero gradient (comparisons). With
 * `simd`, a vector kernel comes before the reference.
 */
template <typename F>
OpDef& RegisterBroadcast(const char* name, F f, BinaryOpGrad grad,
                         std::pair<double, double> lhs_range, std::pair<double, double> rhs_range,
                         const char* doc, std::optional<simd::BinaryOp> simd = std::nullopt) {
  const std::function<double(double, double)> fd = [f](double a, double b) { return f(a, b); };
  OpDef& def = Registry::Add(name)
                   .Describe(doc)
                   .Inputs({"lhs", "rhs"})
                   .InferShape(BroadcastBinaryShape)
                   .InferType(FloatingSameType);
  if (simd) AddSimdBroadcastKernel(def, *simd);
  def.Kernel(
         "reference",
         [f](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
             std::span<const TBlob> out) { BroadcastBinary(in[0], in[1], req[0], out[0], f); })
      .Sample(BroadcastSample(Shape{3, 1, 4}, Shape{5, 1}, lhs_range, rhs_range, fd))
      .Sample(BroadcastSample(Shape{2, 3}, Shape{2, 3}, lhs_range, rhs_range, fd));
  def.Gradient([grad](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                      std::span<const GValue> out, std::span<const GValue> dout) {
    if (!grad) return std::vector<GValue>{GValue{}, GValue{}};
    return grad(BinaryGradOps{g, true}, in[0], in[1], out[0], dout[0]);
  });
  return def;
}

const bool kRegistered = [] {
  const std::pair<double, double> any{-2.0, 2.0}, positive{0.5, 2.0};
  RegisterBroadcast(
      "broadcast_add", [](auto a, auto b) { return a + b; }, binary_grad::Add, any, any,
      "lhs + rhs with broadcasting.", simd::BinaryOp::kAdd)
      .Alias("broadcast_plus");
  RegisterBroadcast(
      "broadcast_sub", [](auto a, auto b) { return a - b; }, binary_grad::Sub, any, any,
      "lhs - rhs with broadcasting.", simd::BinaryOp::kSub)
      .Alias("broadcast_minus");
  RegisterBroadcast(
      "broadcast_mul", [](auto a, auto b) { return a * b; }, binary_grad::Multiply, any, any,
      "lhs * rhs with broadcasting.", simd::BinaryOp::kMul);
  RegisterBroadcast(
      "broadcast_div", [](auto a, auto b) { return a / b; }, binary_grad::Divide, any, positive,
      "lhs / rhs with broadcasting.", simd::BinaryOp::kDiv);
  RegisterBroadcast(
      "broadcast_mod", [](auto a, auto b) { return Mod(a, b); }, binary_grad::Modulo, {-3.0, 3.0},
      positive,
      "lhs % rhs with broadcasting; the result has the sign of rhs (Python's %), and x % 0 is 0.")
      .Sample(BroadcastSample(Shape{4, 1}, Shape{3}, {-3.0, 3.0}, {-2.0, -0.5},
                              [](double a, double b) { return Mod(a, b); }));
  RegisterBroadcast(
      "broadcast_power", [](auto a, auto b) { return std::pow(a, b); }, binary_grad::Power,
      positive, any, "lhs ^ rhs with broadcasting.");
  RegisterBroadcast(
      "broadcast_maximum", [](auto a, auto b) { return a >= b ? a : b; }, binary_grad::Maximum, any,
      any, "max(lhs, rhs) with broadcasting.", simd::BinaryOp::kMaximum);
  RegisterBroadcast(
      "broadcast_minimum", [](auto a, auto b) { return a <= b ? a : b; }, binary_grad::Minimum, any,
      any, "min(lhs, rhs) with broadcasting.", simd::BinaryOp::kMinimum);
  RegisterBroadcast(
      "broadcast_hypot", [](auto a, auto b) { return std::hypot(a, b); }, binary_grad::Hypot, any,
      any, "sqrt(lhs^2 + rhs^2) with broadcasting.");
  // Comparisons and logical ops give 1 or 0 in the inputs' dtype (MXNet 1.x), zero gradient.
  RegisterBroadcast(
      "broadcast_equal", [](auto a, auto b) { return Bool<decltype(a)>(a == b); }, nullptr, any,
      any, "lhs == rhs with broadcasting, as 1 or 0.", simd::BinaryOp::kEqual);
  RegisterBroadcast(
      "broadcast_not_equal", [](auto a, auto b) { return Bool<decltype(a)>(a != b); }, nullptr, any,
      any, "lhs != rhs with broadcasting, as 1 or 0.", simd::BinaryOp::kNotEqual);
  RegisterBroadcast(
      "broadcast_greater", [](auto a, auto b) { return Bool<decltype(a)>(a > b); }, nullptr, any,
      any, "lhs > rhs with broadcasting, as 1 or 0.", simd::BinaryOp::kGreater);
  RegisterBroadcast(
      "broadcast_greater_equal", [](auto a, auto b) { return Bool<decltype(a)>(a >= b); }, nullptr,
      any, any, "lhs >= rhs with broadcasting, as 1 or 0.", simd::BinaryOp::kGreaterEqual);
  RegisterBroadcast(
      "broadcast_lesser", [](auto a, auto b) { return Bool<decltype(a)>(a < b); }, nullptr, any,
      any, "lhs < rhs with broadcasting, as 1 or 0.", simd::BinaryOp::kLesser);
  RegisterBroadcast(
      "broadcast_lesser_equal", [](auto a, auto b) { return Bool<decltype(a)>(a <= b); }, nullptr,
      any, any, "lhs <= rhs with broadcasting, as 1 or 0.", simd::BinaryOp::kLesserEqual);
  RegisterBroadcast(
      "broadcast_logical_and",
      [](auto a, auto b) { return Bool<decltype(a)>(a != decltype(a)(0) && b != decltype(b)(0)); },
      nullptr, any, any, "lhs and rhs (non-zero is true) with broadcasting, as 1 or 0.");
  RegisterBroadcast(
      "broadcast_logical_or",
      [](auto a, auto b) { return Bool<decltype(a)>(a != decltype(a)(0) || b != decltype(b)(0)); },
      nullptr, any, any, "lhs or rhs (non-zero is true) with broadcasting, as 1 or 0.");
  RegisterBroadcast(
      "broadcast_logical_xor",
      [](auto a, auto b) {
        return Bool<decltype(a)>((a != decltype(a)(0)) != (b != decltype(b)(0)));
      },
      nullptr, any, any, "lhs xor rhs (non-zero is true) with broadcasting, as 1 or 0.");
  return true;
}();

}  // namespace
}  // namespace mixnet::op
