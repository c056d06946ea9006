// Element-wise binary arithmetic on equal shapes (broadcasting forms are broadcast_*).
#include "operator/tensor/elemwise_register.h"

namespace mixnet::op {
namespace {

const bool kRegistered = [] {
  const std::pair<double, double> any{-2.0, 2.0};
  RegisterSameShape(
      "elemwise_add", [](auto a, auto b) { return a + b; }, binary_grad::Add, any, any,
      "Adds arrays of equal shape element-wise.", simd::BinaryOp::kAdd)
      .Alias("_add")
      .Alias("_plus")
      .Alias("_Plus");
  RegisterSameShape(
      "elemwise_sub", [](auto a, auto b) { return a - b; }, binary_grad::Sub, any, any,
      "Subtracts arrays of equal shape element-wise.", simd::BinaryOp::kSub)
      .Alias("_sub")
      .Alias("_minus")
      .Alias("_Minus");
  RegisterSameShape(
      "elemwise_mul", [](auto a, auto b) { return a * b; }, binary_grad::Multiply, any, any,
      "Multiplies arrays of equal shape element-wise.", simd::BinaryOp::kMul)
      .Alias("_mul")
      .Alias("_Mul");
  RegisterSameShape(
      "elemwise_div", [](auto a, auto b) { return a / b; }, binary_grad::Divide, any, {0.5, 2.0},
      "Divides arrays of equal shape element-wise.", simd::BinaryOp::kDiv)
      .Alias("_div")
      .Alias("_Div");
  return true;
}();

}  // namespace
}  // namespace mixnet::op
