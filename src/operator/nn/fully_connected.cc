// FullyConnected (MXNet 1.x): out = data * weight^T + bias, through BLAS with a loop reference.
//
// With flatten (the default) data is viewed as (batch, prod(rest)); without, the product runs
// over the last axis and the leading axes are kept.
#include <algorithm>

#include "operator/grad_ops.h"
#include "operator/linalg/gemm.h"
#include "operator/simd/kernels.h"

namespace mixnet::op {
namespace {

struct FullyConnectedParam {
  int num_hidden = 0;
  bool no_bias = false;
  bool flatten = true;
  static void Declare(ParamDecl<FullyConnectedParam>& d) {
    d.Field("num_hidden", &FullyConnectedParam::num_hidden)
        .Lower(1)
        .Doc("Number of hidden nodes of the output.");
    d.Field("no_bias", &FullyConnectedParam::no_bias)
        .Default(false)
        .Doc("Whether to disable bias parameter.");
    d.Field("flatten", &FullyConnectedParam::flatten)
        .Default(true)
        .Doc("Whether to collapse all but the first axis of the input data tensor.");
  }
};

/*! \brief data as an m x k matrix, and the output shape. */
struct FcDims {
  int64_t m, k;
  Shape out;
};

FcDims FcShape(const FullyConnectedParam& p, const Shape& data) {
  if (p.flatten) {
    const int64_t batch = data.ndim() == 0 ? 1 : data[0];
    return {batch, data.ndim() <= 1 ? 1 : data.ProdDims(1, data.ndim()),
            Shape{batch, int64_t{p.num_hidden}}};
  }
  Shape out = data;
  out[data.ndim() - 1] = p.num_hidden;
  return {data.ProdDims(0, data.ndim() - 1), data[data.ndim() - 1], out};
}

void FcInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.param<FullyConnectedParam>();
  const Shape& data = (*in)[0];
  if (!data.is_known()) return;
  MX_CHECK(p.flatten || data.ndim() >= 1, ValueError)
      << attrs.op->name << ": data " << data << " needs an axis to contract when flatten=False";
  const FcDims d = FcShape(p, data);
  AssignShape(attrs, "weight", &(*in)[1], Shape{int64_t{p.num_hidden}, d.k});
  if (!p.no_bias) AssignShape(attrs, "bias", &(*in)[2], Shape{int64_t{p.num_hidden}});
  AssignShape(attrs, "output", &(*out)[0], d.out);
}

template <bool kBlas>
void FcForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
               std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<FullyConnectedParam>();
  const FcDims d = FcShape(p, in[0].shape);
  const int64_t n = p.num_hidden;
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    T* y = out[0].data<T>();
    const T* b = p.no_bias ? nullptr : in[2].data<T>();
    // NOTE [ FC bias first ]
    // Writing y, the bias rows go in first and the GEMM accumulates onto them (beta 1): one
    // pass over y instead of the GEMM's zeroing pass and a second one adding the bias, which
    // counts for wide outputs (a 10000-word decoder).
    const bool bias_first = b != nullptr && req[0] == OpReq::kWrite;
    if (bias_first) {
      ParallelFor(d.m, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n)),
                  [&](int64_t lo, int64_t hi) {
                    for (int64_t i = lo; i < hi; ++i)
                      std::copy(b, b + n, y + i * n);
                  });
    }
    Gemm<kBlas>(false, true, d.m, n, d.k, 1.0, in[0].data<T>(), d.k, in[1].data<T>(), d.k,
                bias_first ? 1.0 : BetaFor(req[0]), y, n);
    if (b == nullptr || bias_first) return;
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < n; ++j)
        y[i * n + j] = T(C(y[i * n + j]) + C(b[j]));
  });
}

/*! \brief data_grad = G weight, weight_grad = G^T data, bias_grad = column sums of G. */
template <bool kBlas>
void FcBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<FullyConnectedParam>();
  const FcDims d = FcShape(p, in[1].shape);
  const int64_t n = p.num_hidden;
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* g = in[0].data<T>();
    if (req[0] != OpReq::kNull) {
      Gemm<kBlas>(false, false, d.m, d.k, n, 1.0, g, n, in[2].data<T>(), d.k, BetaFor(req[0]),
                  out[0].data<T>(), d.k);
    }
    if (req[1] != OpReq::kNull) {
      Gemm<kBlas>(true, false, n, d.k, d.m, 1.0, g, n, in[1].data<T>(), d.k, BetaFor(req[1]),
                  out[1].data<T>(), d.k);
    }
    if (p.no_bias || req[2] == OpReq::kNull) return;
    std::vector<double> sums(static_cast<size_t>(n), 0.0);
    if constexpr (kBlas && std::is_same_v<T, float>) {  // column sums, vectorised across columns
      // Threads take column ranges: each column's sum is the same whatever the split.
      ParallelFor(n, std::max<int64_t>(16, kElementwiseGrain / std::max<int64_t>(1, d.m)),
                  [&](int64_t lo, int64_t hi) {
                    simd::Best().f32.reduce_cols(simd::ReduceOp::kSum, g + lo, d.m, hi - lo, n,
                                                 sums.data() + lo);
                  });
    } else {
      for (int64_t i = 0; i < d.m; ++i)
        for (int64_t j = 0; j < n; ++j)
          sums[static_cast<size_t>(j)] += static_cast<double>(ComputeType<T>(g[i * n + j]));
    }
    for (int64_t j = 0; j < n; ++j)
      Store(out[2].data<T>() + j, req[2], sums[static_cast<size_t>(j)]);
  });
}

/*!
 * \brief Gradient of _backward_FullyConnected (second order). On 2-D views, with dy (m, n),
 * x (m, k), W (n, k) and the head gradients gdx, gdW, gdb of dx = dy W, dW = dy^T x and
 * db = column sums of dy: d dy = gdx W^T + x gdW^T + gdb (each row), d x = dy gdW,
 * d W = dy^T gdx. Absent heads contribute nothing.
 */
std::vector<GValue> BackwardGradient(GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                                     std::span<const GValue>, std::span<const GValue> dout) {
  const auto& p = attrs.param<FullyConnectedParam>();
  const GValue dy = in[0], x = in[1], w = in[2];
  const GValue gdx = dout[0], gdw = dout[1];
  const GValue gdb = dout.size() > 2 ? dout[2] : GValue{};
  // As (rows, features): FullyConnected flattens data to (batch, rest) or, without flatten,
  // folds every axis but the last into rows.
  const AttrDict rows_last = {{"shape", "(-1, 0)"}, {"reverse", "True"}};
  const auto as_2d = [&](GValue v, bool data) {
    if (p.flatten) return data ? g.Apply1("Reshape", {v}, {{"shape", "(0, -1)"}}) : v;
    return g.Apply1("Reshape", {v}, rows_last);
  };
  const auto dot = [&](GValue a, GValue b, bool ta, bool tb) {
    return g.Apply1(
        "dot", {a, b},
        {{"transpose_a", ta ? "True" : "False"}, {"transpose_b", tb ? "True" : "False"}});
  };
  const GValue dy2 = as_2d(dy, false), x2 = as_2d(x, true);
  GValue gdx2 = gdx.valid() ? as_2d(gdx, true) : GValue{};
  GValue d_dy, d_x, d_w;
  const auto accumulate = [&](GValue acc, GValue term) {
    return acc.valid() ? grad::Add(g, acc, term) : term;
  };
  if (gdx2.valid()) {
    d_dy = dot(gdx2, w, false, true);
    d_w = dot(dy2, gdx2, true, false);
  }
  if (gdw.valid()) {
    d_dy = accumulate(d_dy, dot(x2, gdw, false, true));
    d_x = g.Apply1("reshape_like", {dot(dy2, gdw, false, false), x});
  }
  if (gdb.valid()) {
    const GValue base = d_dy.valid() ? d_dy : g.Apply1("zeros_like", {dy2});
    d_dy = g.Apply1("broadcast_add", {base, gdb});
  }
  if (d_dy.valid()) d_dy = g.Apply1("reshape_like", {d_dy, dy});
  return {d_dy, d_x, d_w};
}

std::vector<std::string> FcInputs(const Attrs& attrs) {
  if (attrs.param<FullyConnectedParam>().no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

/*! \brief data (m x k) * weight^T + bias in double, for expected values. */
std::vector<double> FcExpected(const std::vector<std::vector<double>>& in, int64_t m, int64_t k,
                               int64_t n) {
  std::vector<double> out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = in.size() > 2 ? in[2][j] : 0.0;
      for (int64_t p = 0; p < k; ++p)
        s += in[0][i * k + p] * in[1][j * k + p];
      out[i * n + j] = s;
    }
  }
  return out;
}

OpSample FcSample(AttrDict attrs, std::vector<Shape> inputs, int64_t m, int64_t k, int64_t n) {
  return OpSample{.attrs = std::move(attrs),
                  .inputs = std::move(inputs),
                  .expected = [=](const std::vector<std::vector<double>>& in) {
                    return std::vector<std::vector<double>>{FcExpected(in, m, k, n)};
                  }};
}

const bool kRegistered = [] {
  Registry::Add("FullyConnected")
      .Describe("Applies a linear transformation: out = data * weight^T + bias.")
      .Param<FullyConnectedParam>()
      .Inputs(FcInputs)
      .Signature({"data", "weight", "bias?"})
      .InferShape(FcInferShape)
      .InferType(FloatingSameType)
      .Kernel("blas", FcForward<true>, BlasSupports)
      .Kernel("reference", FcForward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return g.Apply("_backward_FullyConnected", std::vector<GValue>{dout[0], in[0], in[1]},
                       attrs.dict);
      })
      .Sample(FcSample({{"num_hidden", "4"}}, {Shape{3, 5}, Shape{4, 5}, Shape{4}}, 3, 5, 4))
      .Sample(FcSample({{"num_hidden", "3"}, {"no_bias", "True"}}, {Shape{2, 2, 3}, Shape{3, 6}}, 2,
                       6, 3))
      .Sample(FcSample({{"num_hidden", "2"}, {"flatten", "False"}},
                       {Shape{2, 3, 4}, Shape{2, 4}, Shape{2}}, 6, 4, 2));

  Registry::Add("_backward_FullyConnected")
      .Describe("Gradients of FullyConnected for data, weight and bias, given the output gradient.")
      .Param<FullyConnectedParam>()
      .Inputs({"out_grad", "data", "weight"})
      .Outputs([](const Attrs& attrs) {
        if (attrs.param<FullyConnectedParam>().no_bias) {
          return std::vector<std::string>{"data_grad", "weight_grad"};
        }
        return std::vector<std::string>{"data_grad", "weight_grad", "bias_grad"};
      })
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const auto& p = attrs.param<FullyConnectedParam>();
        if (!(*in)[1].is_known()) return;
        const FcDims d = FcShape(p, (*in)[1]);
        AssignShape(attrs, "out_grad", &(*in)[0], d.out);
        AssignShape(attrs, "weight", &(*in)[2], Shape{int64_t{p.num_hidden}, d.k});
        AssignShape(attrs, "data_grad", &(*out)[0], (*in)[1]);
        AssignShape(attrs, "weight_grad", &(*out)[1], (*in)[2]);
        if (!p.no_bias) AssignShape(attrs, "bias_grad", &(*out)[2], Shape{int64_t{p.num_hidden}});
      })
      .InferType(FloatingSameType)
      .Kernel("blas", FcBackward<true>, BlasSupports)
      .Kernel("reference", FcBackward<false>)
      .Gradient(BackwardGradient)
      .Sample(OpSample{.attrs = {{"num_hidden", "4"}},
                       .inputs = {Shape{3, 4}, Shape{3, 5}, Shape{4, 5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> dx(15, 0.0), dw(20, 0.0), db(4, 0.0);
                             for (int i = 0; i < 3; ++i)
                               for (int j = 0; j < 4; ++j) {
                                 const double gij = in[0][i * 4 + j];
                                 db[j] += gij;
                                 for (int p = 0; p < 5; ++p) {
                                   dx[i * 5 + p] += gij * in[2][j * 5 + p];
                                   dw[j * 5 + p] += gij * in[1][i * 5 + p];
                                 }
                               }
                             return std::vector<std::vector<double>>{dx, dw, db};
                           }})
      .Sample(OpSample{.attrs = {{"num_hidden", "3"}, {"flatten", "False"}, {"no_bias", "True"}},
                       .inputs = {Shape{2, 2, 3}, Shape{2, 2, 5}, Shape{3, 5}}})
      .Sample(OpSample{.attrs = {{"num_hidden", "4"}},
                       .inputs = {Shape{2, 4}, Shape{2, 2, 3}, Shape{4, 6}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
