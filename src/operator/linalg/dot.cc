// dot and batch_dot (MXNet 1.x): matrix products through BLAS, with plain loops as reference.
//
// NOTE [ dot's N-D rule ]
// dot is one 2-D product of flattened operands. Without transposes lhs is (prod(l[:-1]), l[-1])
// and rhs is (r[0], prod(r[1:])); transpose_a views lhs as (l[0], prod(l[1:])) transposed and
// transpose_b views rhs as (prod(r[:-1]), r[-1]) transposed. The output shape joins lhs's
// remaining axes with rhs's remaining axes; two vectors give shape (1,).
#include "operator/grad_ops.h"
#include "operator/linalg/gemm.h"

namespace mixnet::op {
namespace {

struct DotParam {
  bool transpose_a = false;
  bool transpose_b = false;
  static void Declare(ParamDecl<DotParam>& d) {
    d.Field("transpose_a", &DotParam::transpose_a)
        .Default(false)
        .Doc("If true then transpose the first input before dot.");
    d.Field("transpose_b", &DotParam::transpose_b)
        .Default(false)
        .Doc("If true then transpose the second input before dot.");
  }
};

/*! \brief The 2-D product dot computes: op(lhs) is m x k, op(rhs) is k x n. */
struct DotDims {
  int64_t m, n, k;
  Shape out;
};

DotDims DotShape(const Attrs& attrs, const Shape& l, const Shape& r) {
  const auto& p = attrs.param<DotParam>();
  const std::string& op = attrs.op->name;
  MX_CHECK(l.ndim() >= 1 && r.ndim() >= 1, ValueError)
      << op << ": lhs and rhs need at least one axis, got shapes " << l << " and " << r;
  if (l.ndim() == 1 && r.ndim() == 1) {
    MX_CHECK(!p.transpose_a && !p.transpose_b, ValueError) << op << ": cannot transpose vectors";
    MX_CHECK(l[0] == r[0], ValueError)
        << op << ": lhs " << l << " and rhs " << r << " have different lengths";
    return {1, 1, l[0], Shape{1}};
  }
  const int lk = p.transpose_a ? 0 : l.ndim() - 1;
  const int rk = p.transpose_b ? r.ndim() - 1 : 0;
  MX_CHECK(l[lk] == r[rk], ValueError)
      << op << ": shapes " << l << " (lhs) and " << r << " (rhs) are not aligned: lhs axis " << lk
      << " has " << l[lk] << " elements but rhs axis " << rk << " has " << r[rk]
      << " (transpose_a=" << (p.transpose_a ? "True" : "False")
      << ", transpose_b=" << (p.transpose_b ? "True" : "False") << ")";
  std::vector<int64_t> out;
  int64_t m = 1, n = 1;
  for (int i = 0; i < l.ndim(); ++i) {
    if (i != lk) out.push_back(l[i]), m *= l[i];
  }
  for (int i = 0; i < r.ndim(); ++i) {
    if (i != rk) out.push_back(r[i]), n *= r[i];
  }
  return {m, n, l[lk], Shape(std::span<const int64_t>(out))};
}

void DotInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known() || !(*in)[1].is_known()) return;
  AssignShape(attrs, "output", &(*out)[0], DotShape(attrs, (*in)[0], (*in)[1]).out);
}

template <bool kBlas>
void DotForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<DotParam>();
  const DotDims d = DotShape(attrs, in[0].shape, in[1].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Gemm<kBlas>(p.transpose_a, p.transpose_b, d.m, d.n, d.k, 1.0, in[0].data<T>(),
                p.transpose_a ? d.m : d.k, in[1].data<T>(), p.transpose_b ? d.k : d.n,
                BetaFor(req[0]), out[0].data<T>(), d.n);
  });
}

/*!
 * \brief Gradients of dot on the flattened operands (NOTE [ dot's N-D rule ]): with G the
 * m x n output gradient, d op(lhs) = G op(rhs)^T and d op(rhs) = op(lhs)^T G, stored back
 * transposed where the operand was.
 */
template <bool kBlas>
void DotBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<DotParam>();
  const bool ta = p.transpose_a, tb = p.transpose_b;
  const DotDims d = DotShape(attrs, in[1].shape, in[2].shape);
  const int64_t lda = ta ? d.m : d.k, ldb = tb ? d.k : d.n;
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* g = in[0].data<T>();
    const T* a = in[1].data<T>();
    const T* b = in[2].data<T>();
    if (req[0] != OpReq::kNull) {
      if (ta) {
        Gemm<kBlas>(tb, true, d.k, d.m, d.n, 1.0, b, ldb, g, d.n, BetaFor(req[0]), out[0].data<T>(),
                    d.m);
      } else {
        Gemm<kBlas>(false, !tb, d.m, d.k, d.n, 1.0, g, d.n, b, ldb, BetaFor(req[0]),
                    out[0].data<T>(), d.k);
      }
    }
    if (req[1] != OpReq::kNull) {
      if (tb) {
        Gemm<kBlas>(true, ta, d.n, d.k, d.m, 1.0, g, d.n, a, lda, BetaFor(req[1]), out[1].data<T>(),
                    d.k);
      } else {
        Gemm<kBlas>(!ta, false, d.k, d.n, d.m, 1.0, a, lda, g, d.n, BetaFor(req[1]),
                    out[1].data<T>(), d.n);
      }
    }
  });
}

/*! \brief Plain double loops over the flattened operands, for samples' expected values. */
std::vector<double> MatMul(const std::vector<double>& a, const std::vector<double>& b, bool ta,
                           bool tb, int64_t m, int64_t n, int64_t k) {
  std::vector<double> c(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        c[i * n + j] += a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
  return c;
}

OpSample DotSample(Shape l, Shape r, bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
  return OpSample{
      .attrs = {{"transpose_a", ta ? "True" : "False"}, {"transpose_b", tb ? "True" : "False"}},
      .inputs = {std::move(l), std::move(r)},
      .expected = [=](const std::vector<std::vector<double>>& in) {
        return std::vector<std::vector<double>>{MatMul(in[0], in[1], ta, tb, m, n, k)};
      }};
}

struct BatchDims {
  int64_t batch, m, n, k;
};

BatchDims BatchDotDims(const Attrs& attrs, const Shape& l, const Shape& r) {
  const auto& p = attrs.param<DotParam>();
  const std::string& op = attrs.op->name;
  MX_CHECK(l.ndim() == 3 && r.ndim() == 3, ValueError)
      << op << ": lhs and rhs must be 3-D (batch, rows, cols), got shapes " << l << " and " << r;
  MX_CHECK(l[0] == r[0], ValueError)
      << op << ": lhs " << l << " and rhs " << r << " have different batch sizes";
  const int64_t k = p.transpose_a ? l[1] : l[2];
  const int64_t rk = p.transpose_b ? r[2] : r[1];
  MX_CHECK(k == rk, ValueError) << op << ": shapes " << l << " (lhs) and " << r
                                << " (rhs) are not aligned: " << k << " vs " << rk
                                << " contracted elements";
  return {l[0], p.transpose_a ? l[2] : l[1], p.transpose_b ? r[1] : r[2], k};
}

void BatchDotInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known() || !(*in)[1].is_known()) return;
  const BatchDims d = BatchDotDims(attrs, (*in)[0], (*in)[1]);
  AssignShape(attrs, "output", &(*out)[0], Shape{d.batch, d.m, d.n});
}

template <bool kBlas>
void BatchDotForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<DotParam>();
  const BatchDims d = BatchDotDims(attrs, in[0].shape, in[1].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < d.batch; ++i) {
      Gemm<kBlas>(p.transpose_a, p.transpose_b, d.m, d.n, d.k, 1.0, in[0].data<T>() + i * d.m * d.k,
                  p.transpose_a ? d.m : d.k, in[1].data<T>() + i * d.k * d.n,
                  p.transpose_b ? d.k : d.n, BetaFor(req[0]), out[0].data<T>() + i * d.m * d.n,
                  d.n);
    }
  });
}

AttrDict Transposes(bool ta, bool tb) {
  return {{"transpose_a", ta ? "True" : "False"}, {"transpose_b", tb ? "True" : "False"}};
}

const bool kRegistered = [] {
  Registry::Add("dot")
      .Describe(
          "Dot product of two arrays: matrix product for 2-D, inner product for 1-D; N-D "
          "arrays contract lhs's last axis with rhs's first (NOTE [ dot's N-D rule ]).")
      .Param<DotParam>()
      .Inputs({"lhs", "rhs"})
      .InferShape(DotInferShape)
      .InferType(FloatingSameType)
      .Kernel("blas", DotForward<true>, BlasSupports)
      .Kernel("reference", DotForward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return g.Apply("_backward_dot", std::vector<GValue>{dout[0], in[0], in[1]}, attrs.dict);
      })
      .Sample(DotSample({3, 4}, {4, 5}, false, false, 3, 5, 4))
      .Sample(DotSample({4, 3}, {4, 5}, true, false, 3, 5, 4))
      .Sample(DotSample({3, 4}, {5, 4}, false, true, 3, 5, 4))
      .Sample(DotSample({4, 3}, {5, 4}, true, true, 3, 5, 4))
      .Sample(DotSample({2, 3, 4}, {4, 2, 3}, false, false, 6, 6, 4))
      .Sample(DotSample({2, 3, 4}, {2, 3, 2}, true, false, 12, 6, 2))
      .Sample(DotSample({6}, {6}, false, false, 1, 1, 6));

  Registry::Add("_backward_dot")
      .Describe("Gradients of dot for lhs and rhs, given the output gradient.")
      .Param<DotParam>()
      .Inputs({"out_grad", "lhs", "rhs"})
      .Outputs({"lhs_grad", "rhs_grad"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        if ((*in)[1].is_known() && (*in)[2].is_known()) {
          AssignShape(attrs, "out_grad", &(*in)[0], DotShape(attrs, (*in)[1], (*in)[2]).out);
        }
        AssignShape(attrs, "lhs_grad", &(*out)[0], (*in)[1]);
        AssignShape(attrs, "rhs_grad", &(*out)[1], (*in)[2]);
      })
      .InferType(FloatingSameType)
      .Kernel("blas", DotBackward<true>, BlasSupports)
      .Kernel("reference", DotBackward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // lhs_grad and rhs_grad are the gradients of S = <G, dot(A, B)>, so with incoming
        // gradients gA, gB: <gA, lhs_grad> + <gB, rhs_grad> = <G, dot(gA, B) + dot(A, gB)>.
        // Differentiating that: by G, dot(gA, B) + dot(A, gB); by A, the lhs gradient of
        // <G, dot(A, gB)>; by B, the rhs gradient of <G, dot(gA, B)>.
        const GValue og = in[0], a = in[1], b = in[2], ga = dout[0], gb = dout[1];
        GValue d_og, d_a, d_b;
        if (ga.valid()) {
          d_og = g.Apply1("dot", {ga, b}, attrs.dict);
          d_b = g.Apply("_backward_dot", std::vector<GValue>{og, ga, b}, attrs.dict)[1];
        }
        if (gb.valid()) {
          const GValue t = g.Apply1("dot", {a, gb}, attrs.dict);
          d_og = d_og.valid() ? g.Apply1("elemwise_add", {d_og, t}) : t;
          d_a = g.Apply("_backward_dot", std::vector<GValue>{og, a, gb}, attrs.dict)[0];
        }
        return std::vector<GValue>{d_og, d_a, d_b};
      })
      .Sample(OpSample{.attrs = Transposes(false, false),
                       .inputs = {Shape{3, 5}, Shape{3, 4}, Shape{4, 5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             // lhs_grad = G rhs^T, rhs_grad = lhs^T G
                             return std::vector<std::vector<double>>{
                                 MatMul(in[0], in[2], false, true, 3, 4, 5),
                                 MatMul(in[1], in[0], true, false, 4, 5, 3)};
                           }})
      .Sample(OpSample{.attrs = Transposes(true, true),
                       .inputs = {Shape{3, 2, 2}, Shape{4, 3}, Shape{2, 2, 4}}})
      .Sample(OpSample{.attrs = Transposes(true, false),
                       .inputs = {Shape{3, 2, 5}, Shape{4, 3}, Shape{4, 2, 5}}})
      .Sample(OpSample{.attrs = Transposes(false, true),
                       .inputs = {Shape{2, 3, 5}, Shape{2, 3, 4}, Shape{5, 4}}});

  Registry::Add("batch_dot")
      .Describe("Batchwise matrix product of 3-D arrays: out[i] = op(lhs[i]) op(rhs[i]).")
      .Param<DotParam>()
      .Inputs({"lhs", "rhs"})
      .InferShape(BatchDotInferShape)
      .InferType(FloatingSameType)
      .Kernel("blas", BatchDotForward<true>, BlasSupports)
      .Kernel("reference", BatchDotForward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // With C = op(A) op(B): each gradient is another batch_dot of A or B with dC.
        const auto& p = attrs.param<DotParam>();
        const bool ta = p.transpose_a, tb = p.transpose_b;
        const GValue a = in[0], b = in[1], d = dout[0];
        auto bd = [&](GValue x, GValue y, bool t1, bool t2) {
          return g.Apply1("batch_dot", {x, y}, Transposes(t1, t2));
        };
        const GValue da = ta ? bd(b, d, tb, true) : bd(d, b, false, !tb);
        const GValue db = tb ? bd(d, a, true, ta) : bd(a, d, !ta, false);
        return std::vector<GValue>{da, db};
      })
      .Sample(OpSample{
          .attrs = Transposes(false, false),
          .inputs = {Shape{2, 3, 4}, Shape{2, 4, 5}},
          .expected =
              [](const std::vector<std::vector<double>>& in) {
                std::vector<double> out;
                for (size_t i = 0; i < 2; ++i) {
                  const std::vector<double> a(in[0].begin() + i * 12, in[0].begin() + (i + 1) * 12);
                  const std::vector<double> b(in[1].begin() + i * 20, in[1].begin() + (i + 1) * 20);
                  const auto c = MatMul(a, b, false, false, 3, 5, 4);
                  out.insert(out.end(), c.begin(), c.end());
                }
                return std::vector<std::vector<double>>{out};
              }})
      .Sample(
          OpSample{.attrs = Transposes(true, false), .inputs = {Shape{2, 4, 3}, Shape{2, 4, 5}}})
      .Sample(
          OpSample{.attrs = Transposes(false, true), .inputs = {Shape{2, 3, 4}, Shape{2, 5, 4}}})
      .Sample(
          OpSample{.attrs = Transposes(true, true), .inputs = {Shape{2, 4, 3}, Shape{2, 5, 4}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
