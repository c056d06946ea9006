// Reductions over axes (sum, mean, prod, nansum, nanprod, max, min, norm) and the index
// searches argmax/argmin, with MXNet 1.x's axis/keepdims/exclude semantics.
#include <cmath>
#include <limits>

#include "operator/tensor/broadcast.h"
#include "operator/tensor/reduce_simd.h"

namespace mixnet::op {
namespace {

template <typename C>
struct MeanReducer : SumReducer<C> {
  static double Finish(const double& a, int64_t n) { return a / static_cast<double>(n); }
};
template <typename C>
struct NanSumReducer : SumReducer<C> {
  static void Add(double& a, C x, int64_t) {
    if (!std::isnan(x)) a += static_cast<double>(x);
  }
};
template <typename C>
struct ProdReducer {
  using Acc = double;
  static Acc Init() { return 1.0; }
  static void Add(Acc& a, C x, int64_t) { a *= static_cast<double>(x); }
  static void Merge(Acc& a, const Acc& b) { a *= b; }
  static double Finish(const Acc& a, int64_t) { return a; }
};
template <typename C>
struct NanProdReducer : ProdReducer<C> {
  static void Add(double& a, C x, int64_t) {
    if (!std::isnan(x)) a *= static_cast<double>(x);
  }
};
/*! \brief Max, or min when Min; NaN propagates, an empty reduction gives -inf (+inf). */
template <typename C, bool Min>
struct ExtremumReducer {
  using Acc = C;
  static Acc Init() {
    return Min ? std::numeric_limits<C>::infinity() : -std::numeric_limits<C>::infinity();
  }
  static void Add(Acc& a, C x, int64_t) {
    if (!std::isnan(a) && !(Min ? a <= x : a >= x)) a = x;
  }
  static void Merge(Acc& a, const Acc& b) { Add(a, b, 0); }
  static double Finish(const Acc& a, int64_t) { return static_cast<double>(a); }
};
template <typename C>
using MaxReducer = ExtremumReducer<C, false>;
template <typename C>
using MinReducer = ExtremumReducer<C, true>;
template <typename C>
struct L1Reducer : SumReducer<C> {
  static void Add(double& a, C x, int64_t) { a += std::abs(static_cast<double>(x)); }
};
template <typename C>
struct L2Reducer : SumReducer<C> {
  static void Add(double& a, C x, int64_t) { a += static_cast<double>(x) * static_cast<double>(x); }
  static double Finish(const double& a, int64_t) { return std::sqrt(a); }
};
/*! \brief Index of the first maximum (minimum), NaN counting as the extreme (NumPy). */
template <typename C, bool Min>
struct ArgReducer {
  struct Acc {
    C v;
    int64_t i;
  };
  static Acc Init() { return {C(0), -1}; }
  static bool Better(C x, C best) {
    return !std::isnan(best) && (std::isnan(x) || (Min ? x < best : x > best));
  }
  static void Add(Acc& a, C x, int64_t i) {
    if (a.i < 0 || Better(x, a.v)) a = {x, i};
  }
  static void Merge(Acc& a, const Acc& b) {
    if (b.i >= 0 && (a.i < 0 || Better(b.v, a.v))) a = b;
  }
  static double Finish(const Acc& a, int64_t) { return static_cast<double>(a.i); }
};
template <typename C>
using ArgMaxReducer = ArgReducer<C, false>;
template <typename C>
using ArgMinReducer = ArgReducer<C, true>;

/*! \brief The reduction's attributes in canonical form, for the ops its gradient applies. */
AttrDict ReduceAttrs(const std::optional<std::vector<int64_t>>& axis, bool keepdims, bool exclude) {
  return {{"axis", ValueCodec<std::optional<std::vector<int64_t>>>::Print(axis)},
          {"keepdims", ValueCodec<bool>::Print(keepdims)},
          {"exclude", ValueCodec<bool>::Print(exclude)}};
}

/*! \brief `_reduce_backward_broadcast`: the reduced gradient broadcast back to the input. */
struct ReduceBackwardParam {
  std::optional<std::vector<int64_t>> axis;
  bool keepdims = false;
  bool exclude = false;
  bool mean = false;
  static void Declare(ParamDecl<ReduceBackwardParam>& d) {
    d.Field("axis", &ReduceBackwardParam::axis).Default(std::nullopt).Doc("The reduced axes.");
    d.Field("keepdims", &ReduceBackwardParam::keepdims).Default(false).Doc("As the reduction's.");
    d.Field("exclude", &ReduceBackwardParam::exclude).Default(false).Doc("As the reduction's.");
    d.Field("mean", &ReduceBackwardParam::mean)
        .Default(false)
        .Doc("Divide by the number of reduced elements (the gradient of mean).");
  }
};

GValue BroadcastBack(GradBuilder& g, const ReduceAxesParam& p, GValue ograd, GValue data,
                     bool mean = false) {
  AttrDict attrs = ReduceAttrs(p.axis, p.keepdims, p.exclude);
  attrs.emplace_back("mean", ValueCodec<bool>::Print(mean));
  return g.Apply1("_reduce_backward_broadcast", {ograd, data}, attrs);
}

void ReduceAxesShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const auto& p = attrs.param<ReduceAxesParam>();
  AssignShape(attrs, "output", &(*out)[0],
              ReducedShape(x, ReducedDims(attrs, x, p.axis, p.exclude), p.keepdims));
}

/*! \brief Values of `x` (shape s) grouped by output element of the reduction, in order. */
std::vector<std::vector<double>> Groups(const Shape& s, const std::vector<bool>& reduced,
                                        const std::vector<double>& x) {
  int64_t n_out = 1;
  for (int d = 0; d < s.ndim(); ++d)
    n_out *= reduced[static_cast<size_t>(d)] ? 1 : s[d];
  std::vector<std::vector<double>> groups(static_cast<size_t>(n_out));
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t rem = static_cast<int64_t>(i), o = 0, m = 1;
    for (int d = s.ndim() - 1; d >= 0; --d) {
      const int64_t k = rem % s[d];
      rem /= s[d];
      if (!reduced[static_cast<size_t>(d)]) {
        o += k * m;
        m *= s[d];
      }
    }
    groups[static_cast<size_t>(o)].push_back(x[i]);
  }
  return groups;
}

using GroupFn = std::function<double(const std::vector<double>&)>;

OpSample ReduceSample(AttrDict attrs, Shape s, std::vector<bool> reduced,
                      std::pair<double, double> range, GroupFn fold) {
  return OpSample{.attrs = std::move(attrs),
                  .inputs = {s},
                  .ranges = {range},
                  .expected = [s, reduced, fold](const std::vector<std::vector<double>>& in) {
                    std::vector<double> out;
                    for (const auto& group : Groups(s, reduced, in[0]))
                      out.push_back(fold(group));
                    return std::vector<std::vector<double>>{out};
                  }};
}

using ReduceGrad = GValue (*)(GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue y,
                              GValue dy);

/*! \brief The dims a sum/mean/... reduces, from its attributes. */
std::vector<bool> AxesReduced(const Attrs& attrs, const Shape& x) {
  const auto& p = attrs.param<ReduceAxesParam>();
  return ReducedDims(attrs, x, p.axis, p.exclude);
}

template <template <typename> class Reducer>
OpDef& RegisterReduce(const char* name, ReduceGrad grad, std::pair<double, double> range,
                      GroupFn fold, const char* doc, SimdFold simd) {
  const Shape s{2, 3, 4};
  OpDef& def =
      Registry::Add(name)
          .Describe(doc)
          .Param<ReduceAxesParam>()
          .Inputs({"data"})
          .InferShape(ReduceAxesShape)
          .InferType(FloatingSameType)
          .Kernel(
              "simd",
              [simd](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
                SimdReduce(simd, in[0], AxesReduced(attrs, in[0].shape), req[0], out[0]);
              },
              [](const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob> out) {
                return SimdReduceSupport(in[0], AxesReduced(attrs, in[0].shape), out[0]);
              })
          .Kernel("reference",
                  [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
                    ReduceKernel<Reducer>(in[0], AxesReduced(attrs, in[0].shape), req[0], out[0]);
                  })
          .Sample(ReduceSample({}, s, {true, true, true}, range, fold))
          .Sample(ReduceSample({{"axis", "1"}}, s, {false, true, false}, range, fold))
          .Sample(ReduceSample({{"axis", "(0, -1)"}, {"keepdims", "True"}}, s, {true, false, true},
                               range, fold))
          .Sample(ReduceSample({{"axis", "(1,)"}, {"exclude", "True"}}, s, {true, false, true},
                               range, fold));
  def.Gradient([grad](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                      std::span<const GValue> out, std::span<const GValue> dout) {
    return std::vector<GValue>{grad(g, attrs.param<ReduceAxesParam>(), in[0], out[0], dout[0])};
  });
  return def;
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s;
}
double Prod(const std::vector<double>& v) {
  double s = 1;
  for (double x : v)
    s *= x;
  return s;
}

struct NormParam {
  int ord = 2;
  std::optional<std::vector<int64_t>> axis;
  bool keepdims = false;
  static void Declare(ParamDecl<NormParam>& d) {
    d.Field("ord", &NormParam::ord).Default(2).Range(1, 2).Doc("Order of the norm: 1 or 2.");
    d.Field("axis", &NormParam::axis)
        .Default(std::nullopt)
        .Doc("The axis or axes to compute the norm over; None is every axis.");
    d.Field("keepdims", &NormParam::keepdims)
        .Default(false)
        .Doc("Keep reduced axes in the result as dims of size 1.");
  }
};

std::vector<bool> NormReduced(const Attrs& attrs, const Shape& x) {
  return ReducedDims(attrs, x, attrs.param<NormParam>().axis, false);
}

struct ReduceAxisParam {
  std::optional<int> axis;
  bool keepdims = false;
  static void Declare(ParamDecl<ReduceAxisParam>& d) {
    d.Field("axis", &ReduceAxisParam::axis)
        .Default(std::nullopt)
        .Doc("The axis to search along; None searches the flattened input.");
    d.Field("keepdims", &ReduceAxisParam::keepdims)
        .Default(false)
        .Doc("Keep the searched axis in the result as a dim of size 1.");
  }
};

std::vector<bool> SearchedDims(const Attrs& attrs, const Shape& x) {
  const auto& p = attrs.param<ReduceAxisParam>();
  std::optional<std::vector<int64_t>> axis;
  if (p.axis) axis = std::vector<int64_t>{*p.axis};
  return ReducedDims(attrs, x, axis, false);
}

void SearchShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const std::vector<bool> searched = SearchedDims(attrs, x);
  int64_t n = 1;
  for (int d = 0; d < x.ndim(); ++d)
    n *= searched[static_cast<size_t>(d)] ? x[d] : 1;
  const Shape y = ReducedShape(x, searched, attrs.param<ReduceAxisParam>().keepdims);
  MX_CHECK(n > 0 || y.Size() == 0, ValueError)
      << attrs.op->name << ": cannot search an empty sequence (data of shape " << x << ")";
  AssignShape(attrs, "output", &(*out)[0], y);
}

template <template <typename> class Reducer>
OpDef& RegisterSearch(const char* name, bool min, const char* doc) {
  const Shape s{3, 4};
  const GroupFn first = [min](const std::vector<double>& v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      if (min ? v[i] < v[best] : v[i] > v[best]) best = i;
    }
    return static_cast<double>(best);
  };
  return Registry::Add(name)
      .Describe(doc)
      .Param<ReduceAxisParam>()
      .Inputs({"data"})
      .InferShape(SearchShape)
      .InferType(FloatingSameType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                ReduceKernel<Reducer>(in[0], SearchedDims(attrs, in[0].shape), req[0], out[0]);
              })
      .Sample(ReduceSample({{"axis", "1"}}, s, {false, true}, {-1.0, 1.0}, first))
      .Sample(
          ReduceSample({{"axis", "0"}, {"keepdims", "True"}}, s, {true, false}, {-1.0, 1.0}, first))
      .Sample(ReduceSample({}, s, {true, true}, {-1.0, 1.0}, first));
}

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

const bool kRegistered = [] {
  const std::pair<double, double> any{-2.0, 2.0};
  RegisterReduce<SumReducer>(
      "sum",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue, GValue dy) {
        return BroadcastBack(g, p, dy, x);
      },
      any, Sum, "Sum over the given axes.", SimdFold{simd::ReduceOp::kSum})
      .Alias("sum_axis");
  RegisterReduce<MeanReducer>(
      "mean",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue, GValue dy) {
        return BroadcastBack(g, p, dy, x, true);
      },
      any, [](const std::vector<double>& v) { return Sum(v) / static_cast<double>(v.size()); },
      "Mean over the given axes.", SimdFold{simd::ReduceOp::kSum, ReduceFinish::kMean});
  RegisterReduce<ProdReducer>(
      "prod",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue y, GValue dy) {
        return Div(g, BroadcastBack(g, p, Mul(g, dy, y), x), x);
      },
      {0.5, 1.5}, Prod, "Product over the given axes.", SimdFold{simd::ReduceOp::kProd});
  RegisterReduce<NanSumReducer>(
      "nansum",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue, GValue dy) {
        return Mul(g, BroadcastBack(g, p, dy, x), g.Apply1("_equal", {x, x}));
      },
      any, Sum, "Sum over the given axes, NaN counted as 0.", SimdFold{simd::ReduceOp::kNanSum});
  RegisterReduce<NanProdReducer>(
      "nanprod",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue y, GValue dy) {
        return Div(g, BroadcastBack(g, p, Mul(g, dy, y), x), x);
      },
      {0.5, 1.5}, Prod, "Product over the given axes, NaN counted as 1.",
      SimdFold{simd::ReduceOp::kNanProd});
  RegisterReduce<MaxReducer>(
      "max",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue y, GValue dy) {
        // Every element equal to the maximum gets the gradient (MXNet).
        return Mul(g, BroadcastBack(g, p, dy, x),
                   g.Apply1("_equal", {x, BroadcastBack(g, p, y, x)}));
      },
      any,
      [](const std::vector<double>& v) {
        double m = -std::numeric_limits<double>::infinity();
        for (double x : v)
          m = std::max(m, x);
        return m;
      },
      "Maximum over the given axes.", SimdFold{simd::ReduceOp::kMax})
      .Alias("max_axis");
  RegisterReduce<MinReducer>(
      "min",
      [](GradBuilder& g, const ReduceAxesParam& p, GValue x, GValue y, GValue dy) {
        return Mul(g, BroadcastBack(g, p, dy, x),
                   g.Apply1("_equal", {x, BroadcastBack(g, p, y, x)}));
      },
      any,
      [](const std::vector<double>& v) {
        double m = std::numeric_limits<double>::infinity();
        for (double x : v)
          m = std::min(m, x);
        return m;
      },
      "Minimum over the given axes.", SimdFold{simd::ReduceOp::kMin})
      .Alias("min_axis");

  const Shape ns{2, 3, 4};
  auto norm_sample = [&](AttrDict attrs, std::vector<bool> reduced, int ord) {
    return ReduceSample(std::move(attrs), ns, std::move(reduced), {-1.0, 1.0},
                        [ord](const std::vector<double>& v) {
                          double s = 0;
                          for (double x : v)
                            s += ord == 1 ? std::abs(x) : x * x;
                          return ord == 1 ? s : std::sqrt(s);
                        });
  };
  Registry::Add("norm")
      .Describe("The L1 or L2 norm over the given axes (of the flattened input by default).")
      .Param<NormParam>()
      .Inputs({"data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& x = (*in)[0];
        if (x.is_unknown()) return;
        const auto& p = attrs.param<NormParam>();
        AssignShape(attrs, "output", &(*out)[0],
                    ReducedShape(x, ReducedDims(attrs, x, p.axis, false), p.keepdims));
      })
      .InferType(FloatingSameType)
      .Kernel(
          "simd",
          [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
             std::span<const OpReq> req, std::span<const TBlob> out) {
            const SimdFold l1{simd::ReduceOp::kSumAbs},
                l2{simd::ReduceOp::kSumSquare, ReduceFinish::kSqrt};
            SimdReduce(attrs.param<NormParam>().ord == 1 ? l1 : l2, in[0],
                       NormReduced(attrs, in[0].shape), req[0], out[0]);
          },
          [](const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob> out) {
            return SimdReduceSupport(in[0], NormReduced(attrs, in[0].shape), out[0]);
          })
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                const auto& p = attrs.param<NormParam>();
                const auto reduced = NormReduced(attrs, in[0].shape);
                if (p.ord == 1) {
                  ReduceKernel<L1Reducer>(in[0], reduced, req[0], out[0]);
                } else {
                  ReduceKernel<L2Reducer>(in[0], reduced, req[0], out[0]);
                }
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        const auto& n = attrs.param<NormParam>();
        const ReduceAxesParam p{n.axis, n.keepdims, false};
        if (n.ord == 1) {
          return std::vector<GValue>{
              Mul(g, BroadcastBack(g, p, dout[0], in[0]), Unary(g, "sign", in[0]))};
        }
        return std::vector<GValue>{
            Mul(g, BroadcastBack(g, p, Div(g, dout[0], out[0]), in[0]), in[0])};
      })
      .Sample(norm_sample({}, {true, true, true}, 2))
      .Sample(norm_sample({{"ord", "1"}, {"axis", "1"}}, {false, true, false}, 1))
      .Sample(norm_sample({{"axis", "(0, 2)"}, {"keepdims", "True"}}, {true, false, true}, 2));

  RegisterSearch<ArgMaxReducer>(
      "argmax", false,
      "Index of the first maximum along an axis (of the flattened input when axis is None), in "
      "the input's dtype (MXNet 1.x).");
  RegisterSearch<ArgMinReducer>(
      "argmin", true,
      "Index of the first minimum along an axis (of the flattened input when axis is None), in "
      "the input's dtype (MXNet 1.x).");

  Registry::Add("_reduce_backward_broadcast")
      .Describe(
          "Broadcasts the gradient of a reduction back to the input's shape (the gradient of "
          "sum, mean, prod, max, min and norm).")
      .Param<ReduceBackwardParam>()
      .Inputs({"ograd", "data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& x = (*in)[1];
        if (x.is_unknown()) return;
        const auto& p = attrs.param<ReduceBackwardParam>();
        AssignShape(attrs, "ograd", &(*in)[0],
                    ReducedShape(x, ReducedDims(attrs, x, p.axis, p.exclude), p.keepdims));
        AssignShape(attrs, "output", &(*out)[0], x);
      })
      .InferType(FloatingSameType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                const auto& p = attrs.param<ReduceBackwardParam>();
                const auto reduced = ReducedDims(attrs, in[1].shape, p.axis, p.exclude);
                int64_t n = 1;
                for (int d = 0; d < in[1].shape.ndim(); ++d)
                  n *= reduced[static_cast<size_t>(d)] ? in[1].shape[d] : 1;
                const double scale = p.mean && n > 0 ? 1.0 / static_cast<double>(n) : 1.0;
                BroadcastCopy(in[0], ReducedShape(in[1].shape, reduced, true), req[0], out[0],
                              scale);
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& p = attrs.param<ReduceBackwardParam>();
        return std::vector<GValue>{g.Apply1(p.mean ? "mean" : "sum", {dout[0]},
                                            ReduceAttrs(p.axis, p.keepdims, p.exclude)),
                                   GValue{}};
      })
      .Sample(OpSample{.attrs = {{"axis", "1"}},
                       .inputs = {Shape{2, 4}, Shape{2, 3, 4}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out;
                             for (int i = 0; i < 2; ++i)
                               for (int j = 0; j < 3; ++j)
                                 for (int k = 0; k < 4; ++k)
                                   out.push_back(in[0][static_cast<size_t>(i * 4 + k)]);
                             return std::vector<std::vector<double>>{out};
                           }})
      .Sample(OpSample{.attrs = {{"axis", "(0, 2)"}, {"keepdims", "True"}, {"mean", "True"}},
                       .inputs = {Shape{1, 3, 1}, Shape{2, 3, 4}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> out;
                         for (int i = 0; i < 2; ++i)
                           for (int j = 0; j < 3; ++j)
                             for (int k = 0; k < 4; ++k)
                               out.push_back(in[0][static_cast<size_t>(j)] / 8.0);
                         return std::vector<std::vector<double>>{out};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
