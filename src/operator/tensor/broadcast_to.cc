// Explicit broadcasts (broadcast_to, broadcast_axis, broadcast_like) and the internal pair
// _broadcast_to_shape_of / _reduce_sum_to_shape_of that their gradients and the broadcasting
// binary ops' gradients are made of (each is the other's gradient).
#include "operator/tensor/broadcast.h"
#include "operator/tensor/reduce_simd.h"

namespace mixnet::op {
namespace {

/*! \brief Output element of `so` that input element `i` of `sx` maps to, aligned right. */
int64_t MapIndex(const Shape& sx, const Shape& so, int64_t i) {
  int64_t o = 0, m = 1;
  for (int d = sx.ndim() - 1, e = so.ndim() - 1; d >= 0; --d, --e) {
    const int64_t k = i % sx[d];
    i /= sx[d];
    if (e >= 0) {
      o += (so[e] == 1 ? 0 : k) * m;
      m *= so[e];
    }
  }
  return o;
}

/*! \brief Expected values of broadcasting x (shape sx) to so, by index arithmetic. */
std::vector<double> ExpectedBroadcast(const Shape& sx, const Shape& so,
                                      const std::vector<double>& x) {
  std::vector<double> out(static_cast<size_t>(so.Size()));
  for (int64_t i = 0; i < so.Size(); ++i)
    out[static_cast<size_t>(i)] = x[static_cast<size_t>(MapIndex(so, sx, i))];
  return out;
}

OpSample BroadcastSample(AttrDict attrs, std::vector<Shape> inputs, Shape out) {
  const Shape sx = inputs[0];
  return OpSample{.attrs = std::move(attrs),
                  .inputs = std::move(inputs),
                  .expected = [sx, out](const std::vector<std::vector<double>>& in) {
                    return std::vector<std::vector<double>>{ExpectedBroadcast(sx, out, in[0])};
                  }};
}

[[noreturn]] void ThrowCannotBroadcast(const Attrs& attrs, const Shape& from, const Shape& to) {
  MX_THROW(ValueError) << attrs.op->name << ": " << InputName(attrs, 0) << " of shape " << from
                       << " cannot be broadcast to " << to;
}

void BroadcastKernel(const OpContext&, const Attrs&, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
  BroadcastCopy(in[0], in[0].shape, req[0], out[0]);
}

std::vector<GValue> SumBackToData(GradBuilder& g, const Attrs&, std::span<const GValue> in,
                                  std::span<const GValue>, std::span<const GValue> dout) {
  std::vector<GValue> grads(in.size());
  grads[0] = g.Apply1("_reduce_sum_to_shape_of", {dout[0], in[0]});
  return grads;
}

struct BroadcastToParam {
  std::vector<int64_t> shape;
  static void Declare(ParamDecl<BroadcastToParam>& d) {
    d.Field("shape", &BroadcastToParam::shape)
        .Default({})
        .Doc("The shape to broadcast to; 0 keeps the input's dim.");
  }
};

struct BroadcastAxesParam {
  std::vector<int64_t> axis;
  std::vector<int64_t> size;
  static void Declare(ParamDecl<BroadcastAxesParam>& d) {
    d.Field("axis", &BroadcastAxesParam::axis).Default({}).Doc("The axes to broadcast.");
    d.Field("size", &BroadcastAxesParam::size).Default({}).Doc("The target size of each axis.");
  }
};

struct BroadcastLikeParam {
  std::optional<std::vector<int64_t>> lhs_axes;
  std::optional<std::vector<int64_t>> rhs_axes;
  static void Declare(ParamDecl<BroadcastLikeParam>& d) {
    d.Field("lhs_axes", &BroadcastLikeParam::lhs_axes)
        .Default(std::nullopt)
        .Doc("Axes of lhs to broadcast (None: all, with equal ranks).");
    d.Field("rhs_axes", &BroadcastLikeParam::rhs_axes)
        .Default(std::nullopt)
        .Doc("Axes of rhs whose sizes lhs_axes take.");
  }
};

int64_t NormalizeAxis(const Attrs& attrs, const char* arg, int64_t a, const Shape& s) {
  MX_CHECK(a >= -s.ndim() && a < s.ndim(), ValueError)
      << attrs.op->name << ": " << arg << " " << a << " is out of range for shape " << s;
  return a < 0 ? a + s.ndim() : a;
}

Shape BroadcastLikeShape(const Attrs& attrs, const Shape& lhs, const Shape& rhs) {
  const auto& p = attrs.param<BroadcastLikeParam>();
  if (!p.lhs_axes && !p.rhs_axes) {
    if (lhs.ndim() != rhs.ndim()) ThrowCannotBroadcast(attrs, lhs, rhs);
    for (int d = 0; d < lhs.ndim(); ++d) {
      if (lhs[d] != rhs[d] && lhs[d] != 1) ThrowCannotBroadcast(attrs, lhs, rhs);
    }
    return rhs;
  }
  MX_CHECK(p.lhs_axes && p.rhs_axes && p.lhs_axes->size() == p.rhs_axes->size(), ValueError)
      << attrs.op->name << ": lhs_axes and rhs_axes must both be given, with equal lengths";
  Shape out = lhs;
  for (size_t i = 0; i < p.lhs_axes->size(); ++i) {
    const int la = static_cast<int>(NormalizeAxis(attrs, "lhs_axes", (*p.lhs_axes)[i], lhs));
    const int ra = static_cast<int>(NormalizeAxis(attrs, "rhs_axes", (*p.rhs_axes)[i], rhs));
    if (lhs[la] != rhs[ra] && lhs[la] != 1) ThrowCannotBroadcast(attrs, lhs, rhs);
    out[la] = rhs[ra];
  }
  return out;
}

/*! \brief The dims of x that summing it to the shape `like` reduces. */
std::vector<bool> SummedToShapeOf(const Shape& x, const Shape& like) {
  std::vector<bool> reduced(static_cast<size_t>(x.ndim()));
  for (int d = 0; d < x.ndim(); ++d) {
    const int e = d - (x.ndim() - like.ndim());
    reduced[static_cast<size_t>(d)] = e < 0 || (like[e] == 1 && x[d] != 1);
  }
  return reduced;
}

const bool kRegistered = [] {
  Registry::Add("broadcast_to")
      .Describe("Broadcasts dims of size 1 to the given shape (equal rank; 0 keeps a dim).")
      .Param<BroadcastToParam>()
      .Inputs({"data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& x = (*in)[0];
        if (x.is_unknown()) return;
        const auto& target = attrs.param<BroadcastToParam>().shape;
        const Shape want(std::span<const int64_t>(target.data(), target.size()));
        if (static_cast<size_t>(x.ndim()) != target.size()) ThrowCannotBroadcast(attrs, x, want);
        Shape y = x;
        for (int d = 0; d < x.ndim(); ++d) {
          const int64_t t = target[static_cast<size_t>(d)];
          if (t == 0) continue;
          if (x[d] != t && x[d] != 1) ThrowCannotBroadcast(attrs, x, want);
          y[d] = t;
        }
        AssignShape(attrs, "output", &(*out)[0], y);
      })
      .InferType(FloatingSameType)
      .Kernel("reference", BroadcastKernel)
      .Gradient(SumBackToData)
      .Sample(BroadcastSample({{"shape", "(0, 4, 2)"}}, {Shape{3, 1, 2}}, Shape{3, 4, 2}))
      .Sample(BroadcastSample({{"shape", "(2, 3)"}}, {Shape{1, 1}}, Shape{2, 3}));

  Registry::Add("broadcast_axis")
      .Alias("broadcast_axes")
      .Describe("Broadcasts the given axes (each of size 1) to the given sizes.")
      .Param<BroadcastAxesParam>()
      .Inputs({"data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& x = (*in)[0];
        if (x.is_unknown()) return;
        const auto& p = attrs.param<BroadcastAxesParam>();
        MX_CHECK(p.axis.size() == p.size.size(), ValueError)
            << attrs.op->name << ": axis " << ValueCodec<std::vector<int64_t>>::Print(p.axis)
            << " and size " << ValueCodec<std::vector<int64_t>>::Print(p.size)
            << " must have equal lengths";
        Shape y = x;
        for (size_t i = 0; i < p.axis.size(); ++i) {
          const int a = static_cast<int>(NormalizeAxis(attrs, "axis", p.axis[i], x));
          MX_CHECK(x[a] == 1 || x[a] == p.size[i], ValueError)
              << attrs.op->name << ": axis " << p.axis[i] << " of data of shape " << x
              << " has size " << x[a] << "; only axes of size 1 can be broadcast";
          y[a] = p.size[i];
        }
        AssignShape(attrs, "output", &(*out)[0], y);
      })
      .InferType(FloatingSameType)
      .Kernel("reference", BroadcastKernel)
      .Gradient(SumBackToData)
      .Sample(BroadcastSample({{"axis", "(0, 2)"}, {"size", "(2, 3)"}}, {Shape{1, 4, 1}},
                              Shape{2, 4, 3}));

  Registry::Add("broadcast_like")
      .Describe("Broadcasts lhs to the shape of rhs (or lhs_axes to the sizes of rhs_axes).")
      .Param<BroadcastLikeParam>()
      .Inputs({"lhs", "rhs"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        if ((*in)[0].is_unknown() || (*in)[1].is_unknown()) return;
        AssignShape(attrs, "output", &(*out)[0], BroadcastLikeShape(attrs, (*in)[0], (*in)[1]));
      })
      .InferType(FloatingSameType)
      .Kernel("reference", BroadcastKernel)
      .Gradient(SumBackToData)
      .Sample(BroadcastSample({}, {Shape{2, 1, 3}, Shape{2, 4, 3}}, Shape{2, 4, 3}))
      .Sample(BroadcastSample({{"lhs_axes", "(1,)"}, {"rhs_axes", "(0,)"}},
                              {Shape{2, 1, 3}, Shape{5, 7}}, Shape{2, 5, 3}));

  Registry::Add("_broadcast_to_shape_of")
      .Describe("Broadcasts data to the shape of like (NumPy rules; aligned right).")
      .Inputs({"data", "like"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& x = (*in)[0];
        const Shape& like = (*in)[1];
        if (x.is_unknown() || like.is_unknown()) return;
        if (BroadcastShapes(x, like) != like) ThrowCannotBroadcast(attrs, x, like);
        AssignShape(attrs, "output", &(*out)[0], like);
      })
      .InferType(FloatingSameType)
      .Kernel("reference", BroadcastKernel)
      .Gradient(SumBackToData)
      .Sample(BroadcastSample({}, {Shape{3, 1}, Shape{2, 3, 4}}, Shape{2, 3, 4}));

  Registry::Add("_reduce_sum_to_shape_of")
      .Describe(
          "Sums data down to the shape of like, over the dims that broadcasting like to data's "
          "shape would stretch (the gradient of broadcasting).")
      .Inputs({"data", "like"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& x = (*in)[0];
        const Shape& like = (*in)[1];
        if (x.is_unknown() || like.is_unknown()) return;
        MX_CHECK(BroadcastShapes(like, x) == x, ValueError)
            << attrs.op->name << ": data of shape " << x << " cannot be summed to shape " << like;
        AssignShape(attrs, "output", &(*out)[0], like);
      })
      .InferType(FloatingSameType)
      .Kernel(
          "simd",
          [](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
             std::span<const TBlob> out) {
            SimdReduce({simd::ReduceOp::kSum}, in[0], SummedToShapeOf(in[0].shape, in[1].shape),
                       req[0], out[0]);
          },
          [](const Attrs&, std::span<const TBlob> in, std::span<const TBlob> out) {
            return SimdReduceSupport(in[0], SummedToShapeOf(in[0].shape, in[1].shape), out[0]);
          })
      .Kernel("reference",
              [](const OpContext&, const Attrs&, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                ReduceKernel<SumReducer>(in[0], SummedToShapeOf(in[0].shape, in[1].shape), req[0],
                                         out[0]);
              })
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_broadcast_to_shape_of", {dout[0], in[0]}), GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{2, 3, 4}, Shape{3, 1}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         const Shape sx{2, 3, 4}, so{3, 1};
                         std::vector<double> out(3, 0.0);
                         for (int64_t i = 0; i < sx.Size(); ++i)
                           out[static_cast<size_t>(MapIndex(sx, so, i))] +=
                               in[0][static_cast<size_t>(i)];
                         return std::vector<std::vector<double>>{out};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
