// moments: mean and variance over axes (MXNet's moments), for normalisation layers built by hand.
#include <vector>

#include "operator/grad_ops.h"
#include "operator/tensor/broadcast.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

struct MomentsParam {
  std::optional<std::vector<int64_t>> axes;
  bool keepdims = false;
  static void Declare(ParamDecl<MomentsParam>& d) {
    d.Field("axes", &MomentsParam::axes)
        .Default(std::nullopt)
        .Doc("Axes along which to compute the moments; None is every axis.");
    d.Field("keepdims", &MomentsParam::keepdims)
        .Default(false)
        .Doc("Keep reduced axes in the results as dims of size 1.");
  }
};

std::vector<bool> Reduced(const Attrs& attrs, const Shape& x) {
  return ReducedDims(attrs, x, attrs.param<MomentsParam>().axes, false);
}

void MomentsShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const Shape s = ReducedShape(x, Reduced(attrs, x), attrs.param<MomentsParam>().keepdims);
  AssignShape(attrs, "mean", &(*out)[0], s);
  AssignShape(attrs, "var", &(*out)[1], s);
}

/*! \brief blob *= s, in place. */
void Scale(const TBlob& b, double s) {
  MapUnary(b, OpReq::kWrite, b, [s](auto v) { return v * static_cast<decltype(v)>(s); });
}

void MomentsForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const TBlob& x = in[0];
  const std::vector<bool> reduced = Reduced(attrs, x.shape);
  int64_t n = 1;
  for (int d = 0; d < x.shape.ndim(); ++d) {
    if (reduced[static_cast<size_t>(d)]) n *= x.shape[d];
  }
  const double inv_n = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  ReduceKernel<SumReducer>(x, reduced, OpReq::kWrite, out[0]);
  Scale(out[0], inv_n);
  // var = mean((x - mean)^2), with the mean broadcast back through a keepdims view.
  std::vector<char> buffer(static_cast<size_t>(x.Size()) * DTypeSize(x.dtype));
  const TBlob squares{buffer.data(), x.shape, x.dtype};
  const TBlob mean_kept{out[0].dptr, ReducedShape(x.shape, reduced, true), out[0].dtype};
  BroadcastBinary(x, mean_kept, OpReq::kWrite, squares, [](auto a, auto m) {
    const auto d = a - m;
    return d * d;
  });
  ReduceKernel<SumReducer>(squares, reduced, OpReq::kWrite, out[1]);
  Scale(out[1], inv_n);
}

const bool kRegistered = [] {
  Registry::Add("moments")
      .Describe("Mean and (biased) variance of the data over the given axes.")
      .Param<MomentsParam>()
      .Inputs({"data"})
      .Outputs({"mean", "var"})
      .InferShape(MomentsShape)
      .InferType(FloatingSameType)
      .Kernel("reference", MomentsForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        // d/dx: dmean / n + 2 (x - mean) dvar / n, both broadcast back to x's shape.
        const auto& p = attrs.param<MomentsParam>();
        auto back = [&](GValue v, bool mean) {
          return g.Apply1("_reduce_backward_broadcast", {v, in[0]},
                          {{"axis", ValueCodec<std::optional<std::vector<int64_t>>>::Print(p.axes)},
                           {"keepdims", ValueCodec<bool>::Print(p.keepdims)},
                           {"mean", ValueCodec<bool>::Print(mean)}});
        };
        GValue dx;
        if (dout[0].valid()) dx = back(dout[0], true);
        if (dout[1].valid()) {
          const GValue centered = grad::Sub(g, in[0], back(out[0], false));
          const GValue dvar = grad::Mul(g, grad::MulScalar(g, centered, 2.0), back(dout[1], true));
          dx = dx.valid() ? grad::Add(g, dx, dvar) : dvar;
        }
        return std::vector<GValue>{dx};
      })
      .Sample(OpSample{.attrs = {{"axes", "(1,)"}},
                       .inputs = {Shape{3, 4}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> mean(3), var(3);
                             for (size_t r = 0; r < 3; ++r) {
                               for (size_t c = 0; c < 4; ++c)
                                 mean[r] += in[0][r * 4 + c] / 4;
                               for (size_t c = 0; c < 4; ++c) {
                                 const double d = in[0][r * 4 + c] - mean[r];
                                 var[r] += d * d / 4;
                               }
                             }
                             return std::vector<std::vector<double>>{mean, var};
                           }})
      .Sample(OpSample{.attrs = {{"keepdims", "True"}},
                       .inputs = {Shape{2, 3, 2}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         double mean = 0, var = 0;
                         for (double v : in[0])
                           mean += v / 12;
                         for (double v : in[0])
                           var += (v - mean) * (v - mean) / 12;
                         return std::vector<std::vector<double>>{{mean}, {var}};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
