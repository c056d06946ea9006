// Registration helpers shared by the element-wise families: same-shape binary ops and the
// scalar forms (MXNet's _*_scalar), each from a scalar function and a gradient rule.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "operator/tensor/broadcast.h"
#include "operator/tensor/elemwise_simd.h"

namespace mixnet::op {

/*!
 * \brief Registers a same-shape op; `grad` null means zero gradient. With `simd`, a vector
 * kernel comes before the reference.
 */
template <typename F>
inline OpDef& RegisterSameShape(const char* name, F f, BinaryOpGrad grad,
                                std::pair<double, double> lhs_range,
                                std::pair<double, double> rhs_range, const char* doc,
                                std::optional<simd::BinaryOp> simd = std::nullopt) {
  OpDef& def = Registry::Add(name)
                   .Describe(doc)
                   .Inputs({"lhs", "rhs"})
                   .InferShape(SameShape)
                   .InferType(FloatingSameType)
                   .InPlace({{0, 0}, {1, 0}})
                   .Elementwise();
  if (simd) AddSimdBinaryKernel(def, {*simd});
  def.Kernel(
         "reference",
         [f](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
             std::span<const TBlob> out) { MapBinary(in[0], in[1], req[0], out[0], f); })
      .Sample(OpSample{.inputs = {Shape{4, 3}, Shape{4, 3}},
                       .ranges = {lhs_range, rhs_range},
                       .expected = [f](const std::vector<std::vector<double>>& in) {
                         std::vector<double> out(in[0].size());
                         for (size_t i = 0; i < out.size(); ++i)
                           out[i] = f(in[0][i], in[1][i]);
                         return std::vector<std::vector<double>>{out};
                       }});
  def.Gradient([grad](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                      std::span<const GValue> out, std::span<const GValue> dout) {
    if (!grad) return std::vector<GValue>{GValue{}, GValue{}};
    return grad(BinaryGradOps{g, false}, in[0], in[1], out[0], dout[0]);
  });
  return def;
}

/*! \brief MXNet 1.9's scalar-op parameters. */
struct ScalarParam {
  double scalar = 1.0;
  bool is_int = true;
  static void Declare(ParamDecl<ScalarParam>& d) {
    d.Field("scalar", &ScalarParam::scalar).Default(1.0).Doc("Scalar input value.");
    d.Field("is_int", &ScalarParam::is_int)
        .Default(true)
        .Doc(
            "Whether the scalar is an integer (kept for MXNet 1.9 graphs; integer arrays "
            "use it to choose integer arithmetic).");
  }
};

/*! \brief Gradient of y = f(x, s) given x, y, dy and s. */
using ScalarGrad = GValue (*)(GradBuilder& g, GValue x, GValue y, GValue dy, double s);

/*! \brief Registers a scalar op; with `simd` (its operands kArrayScalar, or kScalarArray for
 * scalar-first forms), a vector kernel comes before the reference. */
template <typename F>
inline OpDef& RegisterScalar(const char* name, F f, ScalarGrad grad,
                             std::pair<double, double> range, double sample_scalar, const char* doc,
                             std::optional<SimdBinary> simd = std::nullopt) {
  OpDef& def = Registry::Add(name)
                   .Describe(doc)
                   .Param<ScalarParam>()
                   .Inputs({"data"})
                   .InferShape(SameShape)
                   .InferType(FloatingSameType)
                   .InPlace({{0, 0}})
                   .Elementwise();
  if (simd) AddSimdBinaryKernel(def, *simd);
  def.Kernel("reference",
             [f](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
               const double s = attrs.param<ScalarParam>().scalar;
               MapUnary(in[0], req[0], out[0],
                        [f, s](auto x) { return f(x, static_cast<decltype(x)>(s)); });
             })
      .Sample(OpSample{.attrs = {{"scalar", ValueCodec<double>::Print(sample_scalar)}},
                       .inputs = {Shape{2, 7}},
                       .ranges = {range},
                       .expected = [f, sample_scalar](const std::vector<std::vector<double>>& in) {
                         std::vector<double> out(in[0].size());
                         for (size_t i = 0; i < out.size(); ++i)
                           out[i] = f(in[0][i], sample_scalar);
                         return std::vector<std::vector<double>>{out};
                       }});
  def.Gradient([grad](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                      std::span<const GValue> out, std::span<const GValue> dout) {
    const double s = attrs.param<ScalarParam>().scalar;
    return std::vector<GValue>{grad ? grad(g, in[0], out[0], dout[0], s) : GValue{}};
  });
  return def;
}

}  // namespace mixnet::op
