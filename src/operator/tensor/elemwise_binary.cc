// Element-wise binary arithmetic on equal shapes (broadcasting forms are broadcast_*).
#include <cmath>

#include "operator/grad_ops.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

using BinaryGrad = std::vector<GValue> (*)(GradBuilder& g, GValue a, GValue b, GValue out,
                                           GValue dout);

template <typename F>
OpDef& RegisterBinary(const char* name, F f, BinaryGrad grad, std::pair<double, double> rhs_range,
                      const char* doc) {
  OpDef& def = Registry::Add(name)
                   .Describe(doc)
                   .Inputs({"lhs", "rhs"})
                   .InferShape(SameShape)
                   .InferType(FloatingSameType)
                   .InPlace({{0, 0}, {1, 0}})
                   .Kernel("reference",
                           [f](const OpContext&, const Attrs&, std::span<const TBlob> in,
                               std::span<const OpReq> req, std::span<const TBlob> out) {
                             MapBinary(in[0], in[1], req[0], out[0], f);
                           })
                   .Sample(OpSample{.inputs = {Shape{4, 3}, Shape{4, 3}},
                                    .ranges = {{-2.0, 2.0}, rhs_range},
                                    .expected = [f](const std::vector<std::vector<double>>& in) {
                                      std::vector<double> out(in[0].size());
                                      for (size_t i = 0; i < out.size(); ++i)
                                        out[i] = f(in[0][i], in[1][i]);
                                      return std::vector<std::vector<double>>{out};
                                    }});
  def.Gradient(
      [grad](GradBuilder& g, const Attrs&, std::span<const GValue> in, std::span<const GValue> out,
             std::span<const GValue> dout) { return grad(g, in[0], in[1], out[0], dout[0]); });
  return def;
}

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

const bool kRegistered = [] {
  RegisterBinary(
      "elemwise_add", [](auto a, auto b) { return a + b; },
      [](GradBuilder&, GValue, GValue, GValue, GValue d) {
        return std::vector<GValue>{d, d};
      },
      {-2.0, 2.0}, "Adds arrays of equal shape element-wise.")
      .Alias("_add")
      .Alias("_plus")
      .Alias("_Plus");
  RegisterBinary(
      "elemwise_sub", [](auto a, auto b) { return a - b; },
      [](GradBuilder& g, GValue, GValue, GValue, GValue d) {
        return std::vector<GValue>{d, Neg(g, d)};
      },
      {-2.0, 2.0}, "Subtracts arrays of equal shape element-wise.")
      .Alias("_sub")
      .Alias("_minus")
      .Alias("_Minus");
  RegisterBinary(
      "elemwise_mul", [](auto a, auto b) { return a * b; },
      [](GradBuilder& g, GValue a, GValue b, GValue, GValue d) {
        return std::vector<GValue>{Mul(g, d, b), Mul(g, d, a)};
      },
      {-2.0, 2.0}, "Multiplies arrays of equal shape element-wise.")
      .Alias("_mul")
      .Alias("_Mul");
  RegisterBinary(
      "elemwise_div", [](auto a, auto b) { return a / b; },
      [](GradBuilder& g, GValue, GValue b, GValue out, GValue d) {
        const GValue da = Div(g, d, b);
        return std::vector<GValue>{da, Neg(g, Mul(g, da, out))};
      },
      {0.5, 2.0}, "Divides arrays of equal shape element-wise.")
      .Alias("_div")
      .Alias("_Div");
  return true;
}();

}  // namespace
}  // namespace mixnet::op
