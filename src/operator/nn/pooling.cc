// Pooling (MXNet's: max, avg, sum and lp over 1-D to 3-D windows, global pooling, the valid,
// full and same conventions) and its backward op.
#include <cmath>
#include <limits>

#include "operator/dnnl/dnnl_util.h"
#include "operator/nn/conv_util.h"
#include "operator/parallel.h"

namespace mixnet::op::nn {
namespace {

namespace du = dnnl_util;

enum PoolType { kMax, kAvg, kSum, kLp };
enum Convention { kFull, kValid, kSame };

struct PoolingParam {
  std::vector<int64_t> kernel, stride, pad;
  int pool_type = kMax;
  bool global_pool = false;
  bool cudnn_off = false;
  int pooling_convention = kValid;
  std::optional<int> p_value;
  std::optional<bool> count_include_pad;
  std::optional<std::string> layout;

  static void Declare(ParamDecl<PoolingParam>& d) {
    d.Field("kernel", &PoolingParam::kernel)
        .Default({})
        .Doc("Window size; required unless global_pool.");
    d.Field("pool_type", &PoolingParam::pool_type)
        .Enum({"max", "avg", "sum", "lp"})
        .Default("max")
        .Doc("Pooling function.");
    d.Field("global_pool", &PoolingParam::global_pool)
        .Default(false)
        .Doc("Pool over the whole spatial extent; kernel, stride and pad are ignored.");
    d.Field("cudnn_off", &PoolingParam::cudnn_off)
        .Default(false)
        .Doc("Accepted for MXNet compatibility; ignored.");
    d.Field("pooling_convention", &PoolingParam::pooling_convention)
        .Enum({"full", "valid", "same"})
        .Default("valid")
        .Doc("Output size: valid rounds down, full rounds up, same is ceil(in / stride).");
    d.Field("stride", &PoolingParam::stride).Default({}).Doc("Stride; default 1 per dim.");
    d.Field("pad", &PoolingParam::pad).Default({}).Doc("Padding; default 0 per dim.");
    d.Field("p_value", &PoolingParam::p_value)
        .Default(std::nullopt)
        .Doc("p of lp pooling: 1, 2 or 3.");
    d.Field("count_include_pad", &PoolingParam::count_include_pad)
        .Default(std::nullopt)
        .Doc("Whether avg pooling counts padded positions (None: True).");
    d.Field("layout", &PoolingParam::layout)
        .Default(std::nullopt)
        .Doc("NCW, NCHW or NCDHW (channels-last layouts are not supported).");
  }
};

/*! \brief Planes (N * C), spatial sizes and the window, with begin and end padding. */
struct PoolGeom {
  int64_t planes = 0;
  Window w;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, pad_end{0, 0, 0};
  int64_t InSize() const { return in[0] * in[1] * in[2]; }
  int64_t OutSize() const { return out[0] * out[1] * out[2]; }
};

PoolGeom MakePoolGeom(const Attrs& attrs, const Shape& data) {
  const PoolingParam& p = attrs.param<PoolingParam>();
  PoolGeom g;
  if (p.global_pool) {
    MX_CHECK(data.ndim() >= 3 && data.ndim() <= 5, ValueError)
        << attrs.op->name << ": data has shape " << data
        << " but global pooling needs a 3-D to 5-D input (batch, channel, spatial...)";
    g.w.nd = data.ndim() - 2;
    for (int i = 0; i < g.w.nd; ++i)
      g.w.k[3 - g.w.nd + i] = std::max<int64_t>(1, data[i + 2]);
  } else {
    MX_CHECK(!p.kernel.empty(), ValueError)
        << attrs.op->name << ": kernel is required unless global_pool is True";
    g.w = MakeWindow(attrs, p.kernel, p.stride, {}, p.pad);
    MX_CHECK(data.ndim() == g.w.nd + 2, ValueError)
        << attrs.op->name << ": data has shape " << data << " but a " << g.w.nd
        << "-D kernel needs a " << g.w.nd + 2 << "-D input (batch, channel, spatial...)";
  }
  CheckLayout(attrs, p.layout, g.w.nd);
  if (p.pool_type == kLp) {
    MX_CHECK(p.p_value && *p.p_value >= 1 && *p.p_value <= 3, ValueError)
        << attrs.op->name << ": lp pooling needs p_value 1, 2 or 3";
  }
  g.planes = data[0] * data[1];
  for (int i = 3 - g.w.nd; i < 3; ++i) {
    const int64_t x = data[i - (3 - g.w.nd) + 2];
    g.in[i] = x;
    if (p.global_pool) continue;
    const int64_t k = g.w.k[i], s = g.w.s[i];
    if (p.pooling_convention == kSame) {
      // Padding is derived, split evenly with the odd one at the end, as TensorFlow does.
      g.out[i] = (x + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g.out[i] - 1) * s + k - x);
      g.w.p[i] = total / 2;
      g.pad_end[i] = total - g.w.p[i];
      continue;
    }
    const int64_t padded = x + 2 * g.w.p[i];
    g.pad_end[i] = g.w.p[i];
    MX_CHECK(k <= padded, ValueError) << attrs.op->name << ": kernel " << SpatialString(p.kernel)
                                      << " is larger than the padded input; data shape " << data
                                      << ", pad " << SpatialString(p.pad);
    g.out[i] = p.pooling_convention == kValid ? (padded - k) / s + 1 : (padded - k + s - 1) / s + 1;
  }
  return g;
}

Shape PoolOutShape(const Shape& data, const PoolGeom& g) {
  std::vector<int64_t> dims = {data[0], data[1]};
  for (int i = 3 - g.w.nd; i < 3; ++i)
    dims.push_back(g.out[i]);
  return Shape(std::span<const int64_t>(dims));
}

void PoolingShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known()) return;
  AssignShape(attrs, "output", &(*out)[0], PoolOutShape((*in)[0], MakePoolGeom(attrs, (*in)[0])));
}

/*! \brief Inputs (dy, data, output). */
void BackwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[1].is_known()) return;
  const Shape y = PoolOutShape((*in)[1], MakePoolGeom(attrs, (*in)[1]));
  AssignShape(attrs, "dy", &(*in)[0], y);
  AssignShape(attrs, "output", &(*in)[2], y);
  AssignShape(attrs, "output", &(*out)[0], (*in)[1]);
}

/*! \brief One output position's window: clipped bounds and MXNet's divisor for avg. */
struct Span3 {
  std::array<int64_t, 3> lo, hi;
  int64_t padded_count;
};

Span3 WindowAt(const PoolGeom& g, int64_t o0, int64_t o1, int64_t o2) {
  const std::array<int64_t, 3> o{o0, o1, o2};
  Span3 s;
  s.padded_count = 1;
  for (int i = 0; i < 3; ++i) {
    const int64_t start = o[i] * g.w.s[i] - g.w.p[i];
    const int64_t end = std::min(start + g.w.k[i], g.in[i] + g.pad_end[i]);
    s.padded_count *= end - start;
    s.lo[i] = std::max<int64_t>(start, 0);
    s.hi[i] = std::min(end, g.in[i]);
  }
  return s;
}

template <typename T>
T PowP(T x, int p) {
  return p == 1 ? x : p == 2 ? x * x : x * x * x;
}
template <typename T>
T RootP(T x, int p) {
  return p == 1 ? x : p == 2 ? std::sqrt(x) : std::cbrt(x);
}

/*!
 * \brief Calls f(out_index, window) for every output position of every plane, planes in
 * parallel; the window's offsets are relative to the plane.
 */
template <typename F>
void ForEachWindow(const PoolGeom& g, F&& f) {
  ParallelFor(g.planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      int64_t oi = plane * g.OutSize();
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++oi)
            f(plane * g.InSize(), oi, WindowAt(g, o0, o1, o2));
    }
  });
}

template <typename F>
void ForEachIn(const PoolGeom& g, const Span3& s, F&& f) {
  for (int64_t i0 = s.lo[0]; i0 < s.hi[0]; ++i0)
    for (int64_t i1 = s.lo[1]; i1 < s.hi[1]; ++i1)
      for (int64_t i2 = s.lo[2]; i2 < s.hi[2]; ++i2)
        f((i0 * g.in[1] + i1) * g.in[2] + i2);
}

int64_t Count(const PoolingParam& p, const Span3& s) {
  if (p.count_include_pad.value_or(true)) return s.padded_count;
  return (s.hi[0] - s.lo[0]) * (s.hi[1] - s.lo[1]) * (s.hi[2] - s.lo[2]);
}

template <typename T>
void PoolForward(const PoolingParam& p, const PoolGeom& g, const T* x, T* y) {
  const int pv = p.p_value.value_or(1);
  ForEachWindow(g, [&](int64_t base, int64_t oi, const Span3& s) {
    const T* plane = x + base;
    if (p.pool_type == kMax) {
      T best = -std::numeric_limits<T>::infinity();
      ForEachIn(g, s, [&](int64_t i) { best = std::max(best, plane[i]); });
      y[oi] = best;
      return;
    }
    T sum = 0;
    ForEachIn(g, s, [&](int64_t i) { sum += p.pool_type == kLp ? PowP(plane[i], pv) : plane[i]; });
    if (p.pool_type == kAvg) {
      const int64_t n = Count(p, s);
      sum = n > 0 ? sum / T(n) : T(0);
    }
    y[oi] = p.pool_type == kLp ? RootP(sum, pv) : sum;
  });
}

template <typename T>
void PoolBackward(const PoolingParam& p, const PoolGeom& g, const T* dy, const T* x, const T* y,
                  T* dx) {
  std::fill_n(dx, g.planes * g.InSize(), T(0));
  const int pv = p.p_value.value_or(1);
  // Windows of one plane only touch that plane, and planes run on one thread each.
  ForEachWindow(g, [&](int64_t base, int64_t oi, const Span3& s) {
    const T* xp = x + base;
    T* dxp = dx + base;
    switch (p.pool_type) {
      case kMax: {
        // MXNet routes the gradient to the first position holding the max.
        int64_t arg = -1;
        ForEachIn(g, s, [&](int64_t i) {
          if (arg < 0 && xp[i] == y[oi]) arg = i;
        });
        if (arg >= 0) dxp[arg] += dy[oi];
        break;
      }
      case kAvg: {
        const int64_t n = Count(p, s);
        if (n > 0) ForEachIn(g, s, [&](int64_t i) { dxp[i] += dy[oi] / T(n); });
        break;
      }
      case kSum:
        ForEachIn(g, s, [&](int64_t i) { dxp[i] += dy[oi]; });
        break;
      case kLp:
        ForEachIn(g, s, [&](int64_t i) {
          dxp[i] += pv == 1 ? dy[oi] : dy[oi] * PowP(xp[i] / y[oi], pv - 1);
        });
        break;
    }
  });
}

// ---- 1-D and 2-D windows, max/avg/sum: per-axis window tables and row loops ----

/*! \brief Window bounds along one axis for every output index (as WindowAt computes them). */
struct AxisWindows {
  std::vector<int64_t> lo, hi, padded;
  AxisWindows(const PoolGeom& g, int axis) {
    for (int64_t o = 0; o < g.out[axis]; ++o) {
      const int64_t start = o * g.w.s[axis] - g.w.p[axis];
      const int64_t end = std::min(start + g.w.k[axis], g.in[axis] + g.pad_end[axis]);
      padded.push_back(end - start);
      lo.push_back(std::max<int64_t>(start, 0));
      hi.push_back(std::min(end, g.in[axis]));
    }
  }
};

std::string PlanarSupports(const Attrs& attrs, std::span<const TBlob> in, std::span<const TBlob>) {
  const PoolingParam& p = attrs.param<PoolingParam>();
  if (p.pool_type == kLp) return "lp pooling";
  if (in[0].shape.ndim() > 4) return "3-D windows";
  return "";
}

/*!
 * \brief Calls f(x plane offset, y plane offset, h window, w window, divisor) for every output
 * position of every plane, planes in parallel.
 */
template <typename F>
void ForEachPlanarWindow(const PoolingParam& p, const PoolGeom& g, F&& f) {
  const AxisWindows wh(g, 1), ww(g, 2);
  const bool with_pad = p.count_include_pad.value_or(true);
  const int64_t in_size = g.InSize(), out_size = g.OutSize();
  ParallelFor(g.planes, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(in_size, 1)),
              [&](int64_t lo, int64_t hi) {
                for (int64_t plane = lo; plane < hi; ++plane) {
                  int64_t oi = plane * out_size;
                  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
                    for (int64_t ow = 0; ow < g.out[2]; ++ow, ++oi) {
                      const int64_t n = with_pad
                                            ? wh.padded[oh] * ww.padded[ow]
                                            : (wh.hi[oh] - wh.lo[oh]) * (ww.hi[ow] - ww.lo[ow]);
                      f(plane * in_size, oi, wh.lo[oh], wh.hi[oh], ww.lo[ow], ww.hi[ow], n);
                    }
                  }
                }
              });
}

template <typename T>
void PlanarForward(const PoolingParam& p, const PoolGeom& g, const T* x, T* y) {
  const int64_t width = g.in[2];
  ForEachPlanarWindow(
      p, g,
      [&](int64_t base, int64_t oi, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t n) {
        const T* plane = x + base;
        if (p.pool_type == kMax) {
          T best = -std::numeric_limits<T>::infinity();
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w)
              best = std::max(best, plane[h * width + w]);
          y[oi] = best;
          return;
        }
        T sum = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w)
            sum += plane[h * width + w];
        if (p.pool_type == kAvg) sum = n > 0 ? sum / T(n) : T(0);
        y[oi] = sum;
      });
}

template <typename T>
void PlanarBackward(const PoolingParam& p, const PoolGeom& g, const T* dy, const T* x, const T* y,
                    T* dx) {
  std::fill_n(dx, g.planes * g.InSize(), T(0));
  const int64_t width = g.in[2];
  ForEachPlanarWindow(
      p, g,
      [&](int64_t base, int64_t oi, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t n) {
        T* plane = dx + base;
        if (p.pool_type == kMax) {  // the first position holding the max, as MXNet
          const T* xp = x + base;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w)
              if (xp[h * width + w] == y[oi]) {
                plane[h * width + w] += dy[oi];
                return;
              }
          return;
        }
        if (p.pool_type == kAvg && n == 0) return;
        const T v = p.pool_type == kAvg ? dy[oi] / T(n) : dy[oi];
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w)
            plane[h * width + w] += v;
      });
}

template <typename F>
void DispatchConvType(DType t, F&& f) {
  if (t == DType::kFloat64) {
    f(TypeTag<double>{});
  } else {
    f(TypeTag<float>{});
  }
}

// ---- oneDNN (float32, max and avg) ----

/*! \brief A pooling case in oneDNN's terms. */
struct DnnlPool {
  dnnl::memory::desc src, dst;
  dnnl::memory::dims kernel, strides, pad_l, pad_r;
  dnnl::algorithm alg = dnnl::algorithm::pooling_max;
  std::string key;
};

/*!
 * \brief Fills `d` for data of shape `data`, or says why oneDNN cannot take the case. Its
 * windows end at the right padding it is given; MXNet's "full" convention may reach past
 * pad_end, where an avg counting the padding divides by the clipped window, so that case stays
 * with the planar loops.
 */
std::string PlanDnnlPool(const PoolingParam& p, const PoolGeom& g, const Shape& data, DnnlPool* d) {
  if (p.pool_type != kMax && p.pool_type != kAvg) return "sum and lp pooling";
  if (data.Size() == 0) return "zero-size array";
  const bool with_pad = p.count_include_pad.value_or(true);
  dnnl::memory::dims src{data[0], data[1]}, dst{data[0], data[1]};
  du::Key key("pool");
  key << p.pool_type << with_pad;
  for (int i = 3 - g.w.nd; i < 3; ++i) {
    const int64_t right = (g.out[i] - 1) * g.w.s[i] + g.w.k[i] - g.in[i] - g.w.p[i];
    if (right < 0) return "windows that stop before the input's end";
    if (right >= g.w.k[i] || g.w.p[i] >= g.w.k[i]) return "windows entirely in the padding";
    if (p.pool_type == kAvg && with_pad && right > g.pad_end[i]) {
      return "avg windows reaching past the end padding";
    }
    src.push_back(g.in[i]);
    dst.push_back(g.out[i]);
    d->kernel.push_back(g.w.k[i]);
    d->strides.push_back(g.w.s[i]);
    d->pad_l.push_back(g.w.p[i]);
    d->pad_r.push_back(right);
    key << g.in[i] << g.out[i] << g.w.k[i] << g.w.s[i] << g.w.p[i] << right;
  }
  static constexpr dnnl::memory::format_tag kTags[] = {dnnl::memory::format_tag::ncw,
                                                       dnnl::memory::format_tag::nchw,
                                                       dnnl::memory::format_tag::ncdhw};
  d->src = dnnl::memory::desc(src, dnnl::memory::data_type::f32, kTags[g.w.nd - 1]);
  d->dst = dnnl::memory::desc(dst, dnnl::memory::data_type::f32, kTags[g.w.nd - 1]);
  d->alg = p.pool_type == kMax ? dnnl::algorithm::pooling_max
           : with_pad          ? dnnl::algorithm::pooling_avg_include_padding
                               : dnnl::algorithm::pooling_avg_exclude_padding;
  d->key = key.str() + "/" + std::to_string(data[0]) + "x" + std::to_string(data[1]);
  return "";
}

dnnl::pooling_forward::primitive_desc DnnlPoolForwardPd(const DnnlPool& d, bool training) {
  return dnnl::pooling_forward::primitive_desc(
      dnnl::pooling_forward::desc(
          training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, d.alg,
          d.src, d.dst, d.strides, d.kernel, d.pad_l, d.pad_r),
      du::ScratchpadAttr(), du::Engine());
}

/*! \brief Takes float32 data (in[data_index]) that PlanDnnlPool accepts. */
SupportsFn DnnlPoolSupports(int data_index) {
  return [data_index](const Attrs& attrs, std::span<const TBlob> in,
                      std::span<const TBlob> out) -> std::string {
    if (out[0].dtype != DType::kFloat32) return "oneDNN kernels run float32 only";
    const Shape& data = in[data_index].shape;
    DnnlPool d;
    return PlanDnnlPool(attrs.param<PoolingParam>(), MakePoolGeom(attrs, data), data, &d);
  };
}

void DnnlForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  struct Entry {
    dnnl::pooling_forward::primitive_desc pd;
    dnnl::pooling_forward prim;
  };
  DnnlPool d;
  PlanDnnlPool(attrs.param<PoolingParam>(), MakePoolGeom(attrs, in[0].shape), in[0].shape, &d);
  const Entry& e = du::Cached<Entry>("fwd/" + d.key, [&] {
    auto pd = DnnlPoolForwardPd(d, false);
    return std::make_shared<Entry>(Entry{pd, dnnl::pooling_forward(pd)});
  });
  du::WriteFloatOutput(req[0], out[0], ctx.Temp(), [&](float* y) {
    du::Execute(e.prim, e.pd,
                {{DNNL_ARG_SRC, du::Mem(d.src, in[0].dptr)}, {DNNL_ARG_DST, du::Mem(d.dst, y)}},
                ctx.Temp());
  });
}

/*!
 * \brief Inputs (dy, data, output). Max pooling's backward needs the forward's workspace (the
 * argmax of each window), which the separate forward op did not keep, so it reruns a training
 * forward into scratch memory first.
 */
void DnnlBackward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  struct Entry {
    dnnl::pooling_forward::primitive_desc fwd_pd;
    dnnl::pooling_forward fwd;
    dnnl::pooling_backward::primitive_desc pd;
    dnnl::pooling_backward prim;
  };
  DnnlPool d;
  PlanDnnlPool(attrs.param<PoolingParam>(), MakePoolGeom(attrs, in[1].shape), in[1].shape, &d);
  const bool max = d.alg == dnnl::algorithm::pooling_max;
  const Entry& e = du::Cached<Entry>("bwd/" + d.key, [&] {
    auto fwd_pd = DnnlPoolForwardPd(d, true);
    dnnl::pooling_backward::primitive_desc pd(
        dnnl::pooling_backward::desc(d.alg, d.src, d.dst, d.strides, d.kernel, d.pad_l, d.pad_r),
        du::ScratchpadAttr(), du::Engine(), fwd_pd);
    return std::make_shared<Entry>(
        Entry{fwd_pd, dnnl::pooling_forward(fwd_pd), pd, dnnl::pooling_backward(pd)});
  });
  std::unordered_map<int, dnnl::memory> args;
  if (max) {
    const dnnl::memory::desc ws_md = e.fwd_pd.workspace_desc();
    void* ws = ctx.Temp().Alloc(ws_md.get_size());
    void* y = ctx.Temp().Alloc(d.dst.get_size());
    const dnnl::memory ws_mem(ws_md, du::Engine(), ws);
    du::Execute(e.fwd, e.fwd_pd,
                {{DNNL_ARG_SRC, du::Mem(d.src, in[1].dptr)},
                 {DNNL_ARG_DST, du::Mem(d.dst, y)},
                 {DNNL_ARG_WORKSPACE, ws_mem}},
                ctx.Temp());
    args[DNNL_ARG_WORKSPACE] = ws_mem;
  }
  du::WriteFloatOutput(req[0], out[0], ctx.Temp(), [&](float* dx) {
    args[DNNL_ARG_DIFF_DST] = du::Mem(d.dst, in[0].dptr);
    args[DNNL_ARG_DIFF_SRC] = du::Mem(d.src, dx);
    du::Execute(e.prim, e.pd, args, ctx.Temp());
  });
}

template <bool Planar>
void ForwardKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                   std::span<const OpReq> req, std::span<const TBlob> out) {
  const PoolGeom g = MakePoolGeom(attrs, in[0].shape);
  const PoolingParam& p = attrs.param<PoolingParam>();
  DispatchConvType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    WriteWithReq<T>(req[0], out[0], [&](T* y) {
      if (Planar) {
        PlanarForward(p, g, in[0].data<T>(), y);
      } else {
        PoolForward(p, g, in[0].data<T>(), y);
      }
    });
  });
}

/*! \brief Inputs (dy, data, output). */
template <bool Planar>
void BackwardKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq> req, std::span<const TBlob> out) {
  const PoolGeom g = MakePoolGeom(attrs, in[1].shape);
  const PoolingParam& p = attrs.param<PoolingParam>();
  DispatchConvType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    WriteWithReq<T>(req[0], out[0], [&](T* dx) {
      if (Planar) {
        PlanarBackward(p, g, in[0].data<T>(), in[1].data<T>(), in[2].data<T>(), dx);
      } else {
        PoolBackward(p, g, in[0].data<T>(), in[1].data<T>(), in[2].data<T>(), dx);
      }
    });
  });
}

const bool kRegistered = [] {
  Registry::Add("Pooling")
      .Describe("Pooling over 1-D, 2-D or 3-D windows of (N, C, spatial...) inputs.")
      .Param<PoolingParam>()
      .Inputs({"data"})
      .InferShape(PoolingShape)
      .InferType(ConvType)
      .NeedsTempSpace()
      .Kernel("onednn", DnnlForward, DnnlPoolSupports(0))
      .Kernel("planar", ForwardKernel<true>, PlanarSupports)
      .Kernel("reference", ForwardKernel<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        return std::vector<GValue>{
            g.Apply1("_pooling_backward", {dout[0], in[0], out[0]}, attrs.dict)};
      })
      .Sample(OpSample{.attrs = {{"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"pad", "(1, 1)"}},
                       .inputs = {Shape{2, 2, 5, 5}}})
      .Sample(OpSample{.attrs = {{"kernel", "(2, 2)"},
                                 {"stride", "(2, 2)"},
                                 {"pad", "(1, 0)"},
                                 {"pool_type", "avg"},
                                 {"pooling_convention", "full"},
                                 {"count_include_pad", "False"}},
                       .inputs = {Shape{1, 2, 5, 5}}})
      .Sample(OpSample{.attrs = {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"pool_type", "sum"}},
                       .inputs = {Shape{2, 3, 7}}})
      .Sample(OpSample{.attrs = {{"kernel", "(2, 2, 2)"}, {"pool_type", "lp"}, {"p_value", "2"}},
                       .inputs = {Shape{1, 2, 3, 3, 3}},
                       .ranges = {{0.5, 2.0}}})
      .Sample(OpSample{.attrs = {{"pool_type", "avg"}, {"global_pool", "True"}},
                       .inputs = {Shape{2, 3, 4, 4}}})
      .Sample(OpSample{.attrs = {{"kernel", "(3,)"},
                                 {"stride", "(2,)"},
                                 {"pool_type", "avg"},
                                 {"pooling_convention", "same"}},
                       .inputs = {Shape{1, 2, 8}}})
      .Sample(OpSample{.attrs = {{"kernel", "(2, 2, 2)"}, {"stride", "(1, 2, 2)"}},
                       .inputs = {Shape{1, 2, 3, 4, 4}}});

  Registry::Add("_pooling_backward")
      .Describe(
          "Gradient of Pooling: max routes dy to the first max of each window, avg and sum "
          "spread it.")
      .Param<PoolingParam>()
      .Inputs({"dy", "data", "output"})
      .InferShape(BackwardShape)
      .InferType(ConvType)
      .NeedsTempSpace()
      .Kernel("onednn", DnnlBackward, DnnlPoolSupports(1))
      .Kernel("planar", BackwardKernel<true>, PlanarSupports)
      .Kernel("reference", BackwardKernel<false>)
      .Sample(OpSample{.attrs = {{"kernel", "(2, 2)"}, {"pool_type", "avg"}},
                       .inputs = {Shape{1, 2, 2, 3}, Shape{1, 2, 3, 4}, Shape{1, 2, 2, 3}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op::nn
