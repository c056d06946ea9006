// linalg_gemm and linalg_gemm2 (MXNet 1.x): batched matrix products over the leading axes.
//
// NOTE [ linalg axis ]
// The matrices of an N-D input span axis `axis` (rows, default -2) and the last axis
// (columns); every other axis is a batch axis. An input is viewed as (P, rows, Q, cols) with
// P the product of the axes before `axis` and Q of those between it and the last, so each
// matrix is a strided view with leading dimension Q * cols.
#include "operator/linalg/gemm.h"
#include "operator/grad_ops.h"

namespace mixnet::op {
namespace {

struct Gemm2Param {
  bool transpose_a = false;
  bool transpose_b = false;
  double alpha = 1.0;
  int axis = -2;
  static void Declare(ParamDecl<Gemm2Param>& d) {
    d.Field("transpose_a", &Gemm2Param::transpose_a)
        .Default(false)
        .Doc("Multiply with transposed of first input (A).");
    d.Field("transpose_b", &Gemm2Param::transpose_b)
        .Default(false)
        .Doc("Multiply with transposed of second input (B).");
    d.Field("alpha", &Gemm2Param::alpha).Default(1.0).Doc("Scalar factor multiplied with A*B.");
    d.Field("axis", &Gemm2Param::axis)
        .Default(-2)
        .Doc("Axis corresponding to the matrix rows (NOTE [ linalg axis ]).");
  }
};

struct GemmParam {
  bool transpose_a = false;
  bool transpose_b = false;
  double alpha = 1.0;
  double beta = 1.0;
  int axis = -2;
  static void Declare(ParamDecl<GemmParam>& d) {
    d.Field("transpose_a", &GemmParam::transpose_a)
        .Default(false)
        .Doc("Multiply with transposed of first input (A).");
    d.Field("transpose_b", &GemmParam::transpose_b)
        .Default(false)
        .Doc("Multiply with transposed of second input (B).");
    d.Field("alpha", &GemmParam::alpha).Default(1.0).Doc("Scalar factor multiplied with A*B.");
    d.Field("beta", &GemmParam::beta).Default(1.0).Doc("Scalar factor multiplied with C.");
    d.Field("axis", &GemmParam::axis)
        .Default(-2)
        .Doc("Axis corresponding to the matrix rows (NOTE [ linalg axis ]).");
  }
};

/*! \brief An input viewed as (p, rows, q, cols) (NOTE [ linalg axis ]). */
struct MatrixView {
  int64_t p, rows, q, cols;
  int64_t Offset(int64_t pi, int64_t qi) const { return (pi * rows * q + qi) * cols; }
  int64_t Ld() const { return q * cols; }
};

MatrixView ViewOf(const Shape& s, int axis) {
  return {s.ProdDims(0, axis), s[axis], s.ProdDims(axis + 1, s.ndim() - 1), s[s.ndim() - 1]};
}

/*! \brief The rows axis in [0, ndim - 2] (ValueError naming the op otherwise). */
int RowsAxis(const Attrs& attrs, int axis, const Shape& a) {
  const std::string& op = attrs.op->name;
  MX_CHECK(a.ndim() >= 2, ValueError) << op << ": A must have at least 2 axes, got shape " << a;
  const int ax = axis < 0 ? axis + a.ndim() : axis;
  MX_CHECK(ax >= 0 && ax < a.ndim() - 1, ValueError)
      << op << ": axis " << axis << " is out of range for shape " << a
      << " (it may not be the last axis, which holds the columns)";
  return ax;
}

/*! \brief Shape of op(A) op(B): A's shape with its rows and columns replaced. */
Shape ProductShape(const Attrs& attrs, bool ta, bool tb, int axis, const Shape& a, const Shape& b) {
  const std::string& op = attrs.op->name;
  const int ax = RowsAxis(attrs, axis, a);
  MX_CHECK(b.ndim() == a.ndim(), ValueError)
      << op << ": A " << a << " and B " << b << " must have the same number of axes";
  const int last = a.ndim() - 1;
  for (int i = 0; i < last; ++i) {
    MX_CHECK(i == ax || a[i] == b[i], ValueError)
        << op << ": A " << a << " and B " << b << " differ in batch axis " << i;
  }
  const int64_t ka = ta ? a[ax] : a[last], kb = tb ? b[last] : b[ax];
  MX_CHECK(ka == kb, ValueError) << op << ": A " << a << " and B " << b
                                 << " are not aligned for a matrix product: " << ka << " vs " << kb
                                 << " (transpose_a=" << (ta ? "True" : "False")
                                 << ", transpose_b=" << (tb ? "True" : "False") << ")";
  Shape out = a;
  out[ax] = ta ? a[last] : a[ax];
  out[last] = tb ? b[ax] : b[last];
  return out;
}

/*! \brief out (+)= alpha op(A) op(B) for every matrix of the batch; beta scales out first. */
template <bool kBlas, typename T>
void BatchedGemm(bool ta, bool tb, int axis, double alpha, const TBlob& a, const TBlob& b,
                 double beta, const TBlob& out) {
  const MatrixView va = ViewOf(a.shape, axis), vb = ViewOf(b.shape, axis),
                   vc = ViewOf(out.shape, axis);
  const int64_t k = ta ? va.rows : va.cols;
  for (int64_t pi = 0; pi < vc.p; ++pi) {
    for (int64_t qi = 0; qi < vc.q; ++qi) {
      Gemm<kBlas>(ta, tb, vc.rows, vc.cols, k, alpha, a.data<T>() + va.Offset(pi, qi), va.Ld(),
                  b.data<T>() + vb.Offset(pi, qi), vb.Ld(), beta, out.data<T>() + vc.Offset(pi, qi),
                  vc.Ld());
    }
  }
}

template <bool kBlas>
void Gemm2Forward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<Gemm2Param>();
  const int ax = RowsAxis(attrs, p.axis, in[0].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    BatchedGemm<kBlas, T>(p.transpose_a, p.transpose_b, ax, p.alpha, in[0], in[1], BetaFor(req[0]),
                          out[0]);
  });
}

template <bool kBlas>
void GemmForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<GemmParam>();
  const int ax = RowsAxis(attrs, p.axis, in[0].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    // out (+)= beta * C first, then the product accumulates into it.
    const T* c = in[2].data<T>();
    T* y = out[0].data<T>();
    for (int64_t i = 0; i < out[0].Size(); ++i)
      Store(y + i, req[0], C(p.beta) * C(c[i]));
    BatchedGemm<kBlas, T>(p.transpose_a, p.transpose_b, ax, p.alpha, in[0], in[1], 1.0, out[0]);
  });
}

AttrDict Gemm2Attrs(bool ta, bool tb, double alpha, int axis) {
  return {{"transpose_a", ta ? "True" : "False"},
          {"transpose_b", tb ? "True" : "False"},
          {"alpha", ValueCodec<double>::Print(alpha)},
          {"axis", std::to_string(axis)}};
}

/*! \brief Gradients of alpha op(A) op(B) for A and B, each one more linalg_gemm2. */
std::vector<GValue> ProductGrads(GradBuilder& g, bool ta, bool tb, double alpha, int axis, GValue a,
                                 GValue b, GValue d) {
  auto mm = [&](GValue x, GValue y, bool t1, bool t2) {
    return g.Apply1("_linalg_gemm2", {x, y}, Gemm2Attrs(t1, t2, alpha, axis));
  };
  const GValue da = ta ? mm(b, d, tb, true) : mm(d, b, false, !tb);
  const GValue db = tb ? mm(d, a, true, ta) : mm(a, d, !ta, false);
  return {da, db};
}

/*! \brief alpha op(A) op(B) + beta C for 2-D operands, in double, for expected values. */
std::vector<double> Product2D(const std::vector<double>& a, const std::vector<double>& b,
                              const std::vector<double>* c, bool ta, bool tb, double alpha,
                              double beta, int64_t m, int64_t n, int64_t k) {
  std::vector<double> out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
      out[i * n + j] = alpha * s + (c ? beta * (*c)[i * n + j] : 0.0);
    }
  }
  return out;
}

const bool kRegistered = [] {
  Registry::Add("_linalg_gemm2")
      .Alias("linalg_gemm2")
      .Describe("Batched matrix product: out = alpha * op(A) * op(B) (NOTE [ linalg axis ]).")
      .Param<Gemm2Param>()
      .Inputs({"A", "B"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        if (!(*in)[0].is_known() || !(*in)[1].is_known()) return;
        const auto& p = attrs.param<Gemm2Param>();
        AssignShape(attrs, "output", &(*out)[0],
                    ProductShape(attrs, p.transpose_a, p.transpose_b, p.axis, (*in)[0], (*in)[1]));
      })
      .InferType(FloatingSameType)
      .Kernel("blas", Gemm2Forward<true>, BlasSupports)
      .Kernel("reference", Gemm2Forward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& p = attrs.param<Gemm2Param>();
        return ProductGrads(g, p.transpose_a, p.transpose_b, p.alpha, p.axis, in[0], in[1],
                            dout[0]);
      })
      .Sample(OpSample{.attrs = Gemm2Attrs(false, true, 1.5, -2),
                       .inputs = {Shape{3, 4}, Shape{5, 4}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 Product2D(in[0], in[1], nullptr, false, true, 1.5, 0, 3, 5, 4)};
                           }})
      .Sample(OpSample{.attrs = Gemm2Attrs(true, false, -0.5, -2),
                       .inputs = {Shape{2, 4, 3}, Shape{2, 4, 2}}})
      .Sample(OpSample{.attrs = Gemm2Attrs(true, true, 2.0, 1),
                       .inputs = {Shape{2, 3, 2, 4}, Shape{2, 5, 2, 3}}});

  Registry::Add("_linalg_gemm")
      .Alias("linalg_gemm")
      .Describe(
          "Batched general matrix multiply-add: out = alpha * op(A) * op(B) + beta * C (NOTE "
          "[ linalg axis ]).")
      .Param<GemmParam>()
      .Inputs({"A", "B", "C"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        AssignShape(attrs, "output", &(*out)[0], (*in)[2]);
        if ((*in)[0].is_known() && (*in)[1].is_known()) {
          const auto& p = attrs.param<GemmParam>();
          const Shape s =
              ProductShape(attrs, p.transpose_a, p.transpose_b, p.axis, (*in)[0], (*in)[1]);
          AssignShape(attrs, "C", &(*in)[2], s);
          AssignShape(attrs, "output", &(*out)[0], s);
        }
      })
      .InferType(FloatingSameType)
      .Kernel("blas", GemmForward<true>, BlasSupports)
      .Kernel("reference", GemmForward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& p = attrs.param<GemmParam>();
        auto grads =
            ProductGrads(g, p.transpose_a, p.transpose_b, p.alpha, p.axis, in[0], in[1], dout[0]);
        grads.push_back(grad::MulScalar(g, dout[0], p.beta));
        return grads;
      })
      .Sample(OpSample{.attrs = {{"alpha", "0.7"}, {"beta", "-1.5"}},
                       .inputs = {Shape{3, 4}, Shape{4, 5}, Shape{3, 5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 Product2D(in[0], in[1], &in[2], false, false, 0.7, -1.5, 3, 5, 4)};
                           }})
      .Sample(OpSample{.attrs = {{"transpose_a", "True"}, {"transpose_b", "True"}, {"beta", "2"}},
                       .inputs = {Shape{2, 4, 3}, Shape{2, 5, 4}, Shape{2, 3, 5}}})
      .Sample(OpSample{.attrs = {{"transpose_a", "True"}, {"axis", "0"}},
                       .inputs = {Shape{4, 2, 3}, Shape{4, 2, 5}, Shape{3, 2, 5}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
