// MXNet's fused activation gradients (_backward_sigmoid, _backward_tanh, _backward_relu): one
// pass over (dy, y) or (dy, x) instead of the two or three element-wise ops the rule needs. The
// unary ops and Activation use them as their gradients; their own gradients (second order)
// are compositions again.
#include "operator/grad_ops.h"
#include "operator/tensor/elemwise_register.h"

namespace mixnet::op {
namespace {

using grad::Mul;
using grad::MulScalar;
using grad::RSubScalar;

const bool kRegistered = [] {
  RegisterSameShape(
      "_backward_sigmoid", [](auto dy, auto y) { return dy * y * (decltype(y)(1) - y); },
      // d/d dy = y (1 - y); d/dy = dy (1 - 2 y).
      [](const BinaryGradOps& o, GValue dy, GValue y, GValue, GValue d) {
        GradBuilder& g = o.g;
        return std::vector<GValue>{Mul(g, d, Mul(g, y, RSubScalar(g, y, 1.0))),
                                   Mul(g, d, Mul(g, dy, RSubScalar(g, MulScalar(g, y, 2.0), 1.0)))};
      },
      {-2.0, 2.0}, {0.05, 0.95}, "Gradient of sigmoid from its output: dy * y * (1 - y).",
      simd::BinaryOp::kSigmoidGrad);
  RegisterSameShape(
      "_backward_tanh", [](auto dy, auto y) { return dy * (decltype(y)(1) - y * y); },
      // d/d dy = 1 - y^2; d/dy = -2 dy y.
      [](const BinaryGradOps& o, GValue dy, GValue y, GValue, GValue d) {
        GradBuilder& g = o.g;
        return std::vector<GValue>{Mul(g, d, RSubScalar(g, Mul(g, y, y), 1.0)),
                                   Mul(g, d, MulScalar(g, Mul(g, dy, y), -2.0))};
      },
      {-2.0, 2.0}, {-0.95, 0.95}, "Gradient of tanh from its output: dy * (1 - y^2).",
      simd::BinaryOp::kTanhGrad);
  RegisterSameShape(
      "_backward_relu", [](auto dy, auto x) { return x > decltype(x)(0) ? dy : decltype(dy)(0); },
      // d/d dy = (x > 0); zero almost everywhere in x.
      [](const BinaryGradOps& o, GValue, GValue x, GValue, GValue d) {
        GradBuilder& g = o.g;
        return std::vector<GValue>{g.Apply1("_backward_relu", {d, x}), GValue{}};
      },
      {-2.0, 2.0}, {-2.0, 2.0},
      "Gradient of relu from its input or output: dy where x > 0, else 0.",
      simd::BinaryOp::kReluGrad);
  return true;
}();

}  // namespace
}  // namespace mixnet::op
