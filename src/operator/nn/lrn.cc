// LRN (MXNet 1.x): local response normalisation across channels,
// out = x * (knorm + alpha / nsize * sum of x^2 over the nsize channels around)^-beta.
#include <cmath>
#include <vector>

#include "operator/dnnl/dnnl_util.h"
#include "operator/nn/norm_util.h"

namespace mixnet::op {
namespace {

using norm::Load;
using norm::Put;

struct LRNParam {
  double alpha = 1e-4;
  double beta = 0.75;
  double knorm = 2.0;
  int nsize = 0;
  static void Declare(ParamDecl<LRNParam>& d) {
    d.Field("alpha", &LRNParam::alpha).Default(1e-4).Doc("Scale of the sum of squares.");
    d.Field("beta", &LRNParam::beta).Default(0.75).Doc("Exponent of the normaliser.");
    d.Field("knorm", &LRNParam::knorm).Default(2.0).Doc("Constant added to the normaliser.");
    d.Field("nsize", &LRNParam::nsize).Lower(1).Doc("Channels summed over (odd).");
  }
};

/*! \brief Data as (n, channels, spatial); one column is the channels at one (n, spatial). */
struct Columns {
  int64_t n, c, s;
  explicit Columns(const Shape& d) : n(d[0]), c(d[1]), s(d.ProdDims(2, d.ndim())) {}
  int64_t Index(int64_t col, int64_t ch) const { return ((col / s) * c + ch) * s + col % s; }
};

/*! \brief norm[ch] = knorm + alpha / nsize * sum of x^2 over the window around ch. */
template <typename T>
void ColumnNorm(const LRNParam& p, const Columns& l, const T* x, int64_t col, double* norm) {
  const int64_t half = p.nsize / 2;
  for (int64_t ch = 0; ch < l.c; ++ch) {
    double sq = 0;
    for (int64_t k = std::max<int64_t>(0, ch - half); k <= std::min(l.c - 1, ch + half); ++k) {
      const double v = Load(x[l.Index(col, k)]);
      sq += v * v;
    }
    norm[ch] = p.knorm + p.alpha / p.nsize * sq;
  }
}

void Infer(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  for (const Shape& s : *in) {
    if (!s.is_unknown()) norm::CheckNDim(attrs, s, 2);
  }
  SameShape(attrs, in, out);
}

void Forward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
             std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<LRNParam>();
  const Columns l(in[0].shape);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    norm::ForChunks(l.n * l.s, l.c * p.nsize, [&](int64_t, int64_t lo, int64_t hi) {
      std::vector<double> nrm(static_cast<size_t>(l.c));
      for (int64_t col = lo; col < hi; ++col) {
        ColumnNorm(p, l, x, col, nrm.data());
        for (int64_t ch = 0; ch < l.c; ++ch) {
          const int64_t i = l.Index(col, ch);
          Put(y + i, Load(x[i]) * std::pow(nrm[static_cast<size_t>(ch)], -p.beta), req[0]);
        }
      }
    });
  });
}

// dx_j = dy_j * norm_j^-beta
//        - 2 * beta * alpha / nsize * x_j * sum over windows i holding j of dy_i x_i
//        norm_i^(-beta-1)
void Backward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
              std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<LRNParam>();
  const Columns l(in[0].shape);
  const int64_t half = p.nsize / 2;
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    const T* dy = in[1].data<T>();
    T* dx = out[0].data<T>();
    norm::ForChunks(l.n * l.s, l.c * p.nsize, [&](int64_t, int64_t lo, int64_t hi) {
      std::vector<double> nrm(static_cast<size_t>(l.c)), t(static_cast<size_t>(l.c));
      for (int64_t col = lo; col < hi; ++col) {
        ColumnNorm(p, l, x, col, nrm.data());
        for (int64_t ch = 0; ch < l.c; ++ch) {
          const int64_t i = l.Index(col, ch);
          t[static_cast<size_t>(ch)] =
              Load(dy[i]) * Load(x[i]) * std::pow(nrm[static_cast<size_t>(ch)], -p.beta - 1);
        }
        for (int64_t ch = 0; ch < l.c; ++ch) {
          double s = 0;
          for (int64_t k = std::max<int64_t>(0, ch - half); k <= std::min(l.c - 1, ch + half); ++k)
            s += t[static_cast<size_t>(k)];
          const int64_t i = l.Index(col, ch);
          const double v = Load(dy[i]) * std::pow(nrm[static_cast<size_t>(ch)], -p.beta) -
                           2 * p.beta * p.alpha / p.nsize * Load(x[i]) * s;
          Put(dx + i, v, req[0]);
        }
      }
    });
  });
}

// ---- oneDNN (float32, odd nsize: its window matches MXNet's only then) ----

namespace du = dnnl_util;

std::string DnnlSupports(const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob>) {
  if (in[0].dtype != DType::kFloat32) return "oneDNN kernels run float32 only";
  if (attrs.param<LRNParam>().nsize % 2 == 0) return "even nsize";
  if (in[0].Size() == 0) return "zero-size array";
  return "";
}

struct DnnlLrn {
  dnnl::memory::desc data;
  dnnl::lrn_forward::primitive_desc fwd_pd;
  dnnl::lrn_forward fwd;
  dnnl::lrn_backward::primitive_desc bwd_pd;
  dnnl::lrn_backward bwd;
};

/*! \brief Primitives for data viewed as (n, c, spatial, 1). */
const DnnlLrn& GetDnnlLrn(const Attrs& attrs, const Shape& shape, bool backward) {
  const auto& p = attrs.param<LRNParam>();
  const Columns l(shape);
  du::Key key(backward ? "lrn_bwd" : "lrn");
  key << l.n << l.c << l.s << p.nsize;
  const std::string k = key.str() + "/" + std::to_string(p.alpha) + "/" + std::to_string(p.beta) +
                        "/" + std::to_string(p.knorm);
  return du::Cached<DnnlLrn>(k, [&] {
    using dnnl::memory;
    auto e = std::make_shared<DnnlLrn>();
    e->data = memory::desc({l.n, l.c, l.s, 1}, memory::data_type::f32, memory::format_tag::nchw);
    const auto alg = dnnl::algorithm::lrn_across_channels;
    const auto alpha = static_cast<float>(p.alpha), beta = static_cast<float>(p.beta);
    const auto knorm = static_cast<float>(p.knorm);
    e->fwd_pd = dnnl::lrn_forward::primitive_desc(
        dnnl::lrn_forward::desc(
            backward ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, alg,
            e->data, p.nsize, alpha, beta, knorm),
        du::ScratchpadAttr(), du::Engine());
    e->fwd = dnnl::lrn_forward(e->fwd_pd);
    if (backward) {
      e->bwd_pd = dnnl::lrn_backward::primitive_desc(
          dnnl::lrn_backward::desc(alg, e->data, e->data, p.nsize, alpha, beta, knorm),
          du::ScratchpadAttr(), du::Engine(), e->fwd_pd);
      e->bwd = dnnl::lrn_backward(e->bwd_pd);
    }
    return e;
  });
}

void DnnlForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const DnnlLrn& e = GetDnnlLrn(attrs, in[0].shape, false);
  du::WriteFloatOutput(req[0], out[0], ctx.Temp(), [&](float* y) {
    du::Execute(e.fwd, e.fwd_pd,
                {{DNNL_ARG_SRC, du::Mem(e.data, in[0].dptr)}, {DNNL_ARG_DST, du::Mem(e.data, y)}},
                ctx.Temp());
  });
}

/*! \brief in (data, ograd); reruns a training forward when the backward needs its workspace. */
void DnnlBackward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  const DnnlLrn& e = GetDnnlLrn(attrs, in[0].shape, true);
  std::unordered_map<int, dnnl::memory> args;
  const dnnl::memory::desc ws_md = e.fwd_pd.workspace_desc();
  if (ws_md.get_size() > 0) {
    void* ws = ctx.Temp().Alloc(ws_md.get_size());
    void* y = ctx.Temp().Alloc(e.data.get_size());
    args[DNNL_ARG_WORKSPACE] = du::Mem(ws_md, ws);
    du::Execute(e.fwd, e.fwd_pd,
                {{DNNL_ARG_SRC, du::Mem(e.data, in[0].dptr)},
                 {DNNL_ARG_DST, du::Mem(e.data, y)},
                 {DNNL_ARG_WORKSPACE, args[DNNL_ARG_WORKSPACE]}},
                ctx.Temp());
  }
  du::WriteFloatOutput(req[0], out[0], ctx.Temp(), [&](float* dx) {
    args[DNNL_ARG_SRC] = du::Mem(e.data, in[0].dptr);
    args[DNNL_ARG_DIFF_DST] = du::Mem(e.data, in[1].dptr);
    args[DNNL_ARG_DIFF_SRC] = du::Mem(e.data, dx);
    du::Execute(e.bwd, e.bwd_pd, args, ctx.Temp());
  });
}

MIXNET_REGISTER_OP(LRN)
    .Describe(
        "Local response normalization across channels (axis 1): divides each value by "
        "(knorm + alpha / nsize * sum of squares over the nsize neighbouring channels)^beta.")
    .Param<LRNParam>()
    .Inputs({"data"})
    .InferShape(Infer)
    .InferType(FloatingSameType)
    .NeedsTempSpace()
    .Kernel("onednn", DnnlForward, DnnlSupports)
    .Kernel("reference", Forward)
    .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                 std::span<const GValue>, std::span<const GValue> dout) {
      return std::vector<GValue>{g.Apply1("_lrn_backward", {in[0], dout[0]}, attrs.dict)};
    })
    .Sample(OpSample{.attrs = {{"nsize", "3"}, {"alpha", "0.5"}},
                     .inputs = {Shape{2, 5, 2, 2}},
                     .ranges = {{-2, 2}}})
    .Sample(OpSample{.attrs = {{"nsize", "5"}, {"alpha", "1"}, {"beta", "0.5"}, {"knorm", "1"}},
                     .inputs = {Shape{2, 4, 3}}});

MIXNET_REGISTER_OP(_lrn_backward)
    .Describe("Gradient of LRN w.r.t. its data.")
    .Param<LRNParam>()
    .Inputs({"data", "ograd"})
    .InferShape(Infer)
    .InferType(FloatingSameType)
    .NeedsTempSpace()
    .Kernel("onednn", DnnlBackward, DnnlSupports)
    .Kernel("reference", Backward)
    .Sample(OpSample{.attrs = {{"nsize", "3"}, {"alpha", "0.5"}},
                     .inputs = {Shape{2, 5, 2}, Shape{2, 5, 2}}})
    .Sample(OpSample{.attrs = {{"nsize", "5"}, {"alpha", "0.5"}, {"knorm", "1"}},
                     .inputs = {Shape{2, 7, 3, 4}, Shape{2, 7, 3, 4}}});

}  // namespace
}  // namespace mixnet::op
