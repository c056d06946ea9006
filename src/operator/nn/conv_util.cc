#include "operator/nn/conv_util.h"

#include <algorithm>
#include <mutex>
#include <sstream>

#include "operator/linalg/gemm.h"
#include "operator/parallel.h"

namespace mixnet::op::nn {
namespace {

std::string TupleString(std::span<const int64_t> v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << (v.size() == 1 ? ",)" : ")");
  return os.str();
}

/*! \brief Fills the last nd slots of `dst` from `v` (or leaves the defaults when empty). */
void FillTuple(const Attrs& attrs, const char* arg, std::span<const int64_t> v, int nd,
               int64_t lowest, std::array<int64_t, 3>* dst) {
  if (v.empty()) return;
  MX_CHECK(static_cast<int>(v.size()) == nd, ValueError)
      << attrs.op->name << ": " << arg << " " << TupleString(v) << " must have " << nd
      << " value(s), like kernel";
  for (int i = 0; i < nd; ++i) {
    MX_CHECK(v[i] >= lowest, ValueError)
        << attrs.op->name << ": " << arg << " " << TupleString(v) << " must be >= " << lowest;
    (*dst)[3 - nd + i] = v[i];
  }
}

/*!
 * \brief Calls f(row, col_index, x_index) for every (input channel, tap) row and output
 * position of one group's image; x_index is -1 where the tap falls in the padding.
 */
template <typename F>
void ForEachTap(const ConvGeom& g, int64_t channels, F&& f) {
  const Window& w = g.w;
  const int64_t out_size = g.OutSize();
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t k0 = 0; k0 < w.k[0]; ++k0) {
      for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
        for (int64_t k2 = 0; k2 < w.k[2]; ++k2, ++row) {
          int64_t col = row * out_size;
          for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
            const int64_t i0 = o0 * w.s[0] - w.p[0] + k0 * w.d[0];
            for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
              const int64_t i1 = o1 * w.s[1] - w.p[1] + k1 * w.d[1];
              const bool inside01 = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1];
              const int64_t base = ((c * g.in[0] + i0) * g.in[1] + i1) * g.in[2];
              for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++col) {
                const int64_t i2 = o2 * w.s[2] - w.p[2] + k2 * w.d[2];
                f(col, inside01 && i2 >= 0 && i2 < g.in[2] ? base + i2 : -1);
              }
            }
          }
        }
      }
    }
  }
}

// ---- im2col + GEMM, parallel over the batch ----

template <typename T>
void FastPass(ConvPass pass, const ConvGeom& g, const T* a, const T* b, T* out) {
  const int64_t cg = g.in_c / g.groups, og = g.out_c / g.groups;
  const int64_t ck = cg * g.w.Size(), p = g.OutSize(), in_size = g.InSize();
  const int64_t x_stride = g.in_c * in_size, y_stride = g.out_c * p;
  if (pass == ConvPass::kBackwardWeight) std::fill_n(out, og * ck * g.groups, T(0));
  if (pass == ConvPass::kBackwardData) std::fill_n(out, g.batch * x_stride, T(0));
  std::mutex dw_mutex;
  ParallelFor(g.batch, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> col(static_cast<size_t>(ck * p));
    std::vector<T> dw;
    if (pass == ConvPass::kBackwardWeight) dw.assign(static_cast<size_t>(og * ck * g.groups), 0);
    for (int64_t n = lo; n < hi; ++n) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const int64_t x_off = n * x_stride + grp * cg * in_size;
        const int64_t y_off = n * y_stride + grp * og * p;
        const T* w = pass == ConvPass::kBackwardWeight ? nullptr : b + grp * og * ck;
        if (pass == ConvPass::kBackwardData) {
          // col = W^T dy, then scatter the columns back onto the image.
          BlasGemm<T>(true, false, ck, p, og, 1.0, w, ck, a + y_off, p, 0.0, col.data(), p);
          T* dx = out + x_off;
          ForEachTap(g, cg, [&](int64_t c, int64_t xi) {
            if (xi >= 0) dx[xi] += col[static_cast<size_t>(c)];
          });
          continue;
        }
        const T* x = a + x_off;
        ForEachTap(g, cg, [&](int64_t c, int64_t xi) {
          col[static_cast<size_t>(c)] = xi >= 0 ? x[xi] : T(0);
        });
        if (pass == ConvPass::kForward) {
          BlasGemm<T>(false, false, og, p, ck, 1.0, w, ck, col.data(), p, 0.0, out + y_off, p);
        } else {
          BlasGemm<T>(false, true, og, ck, p, 1.0, b + y_off, p, col.data(), p, 1.0,
                      dw.data() + grp * og * ck, ck);
        }
      }
    }
    if (pass == ConvPass::kBackwardWeight) {
      std::lock_guard<std::mutex> lock(dw_mutex);
      for (size_t i = 0; i < dw.size(); ++i)
        out[i] += dw[i];
    }
  });
}

// ---- direct loops: the reference ----

template <typename T>
void ReferencePass(ConvPass pass, const ConvGeom& g, const T* a, const T* b, T* out) {
  const int64_t cg = g.in_c / g.groups, og = g.out_c / g.groups;
  const int64_t kk = g.w.Size(), p = g.OutSize(), in_size = g.InSize();
  const int64_t out_len = pass == ConvPass::kForward        ? g.batch * g.out_c * p
                          : pass == ConvPass::kBackwardData ? g.batch * g.in_c * in_size
                                                            : g.out_c * cg * kk;
  std::fill_n(out, out_len, T(0));
  const Window& w = g.w;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_c; ++oc) {
      const int64_t grp = oc / og;
      for (int64_t ic = 0; ic < cg; ++ic) {
        const int64_t c = grp * cg + ic;
        for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
          for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
            for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
              const int64_t wi =
                  ((oc * cg + ic) * w.k[0] + k0) * w.k[1] * w.k[2] + k1 * w.k[2] + k2;
              for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
                for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
                  for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                    const int64_t i0 = o0 * w.s[0] - w.p[0] + k0 * w.d[0];
                    const int64_t i1 = o1 * w.s[1] - w.p[1] + k1 * w.d[1];
                    const int64_t i2 = o2 * w.s[2] - w.p[2] + k2 * w.d[2];
                    if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 ||
                        i2 >= g.in[2]) {
                      continue;
                    }
                    const int64_t xi =
                        ((n * g.in_c + c) * g.in[0] + i0) * g.in[1] * g.in[2] + i1 * g.in[2] + i2;
                    const int64_t yi = ((n * g.out_c + oc) * g.out[0] + o0) * g.out[1] * g.out[2] +
                                       o1 * g.out[2] + o2;
                    switch (pass) {
                      case ConvPass::kForward:
                        out[yi] += a[xi] * b[wi];
                        break;
                      case ConvPass::kBackwardData:
                        out[xi] += a[yi] * b[wi];
                        break;
                      case ConvPass::kBackwardWeight:
                        out[wi] += a[xi] * b[yi];
                        break;
                    }
                  }
            }
      }
    }
  }
}

}  // namespace

std::string SpatialString(std::span<const int64_t> dims) {
  return TupleString(dims);
}

Window MakeWindow(const Attrs& attrs, std::span<const int64_t> kernel,
                  std::span<const int64_t> stride, std::span<const int64_t> dilate,
                  std::span<const int64_t> pad) {
  Window w;
  w.nd = static_cast<int>(kernel.size());
  MX_CHECK(w.nd >= 1 && w.nd <= 3, ValueError)
      << attrs.op->name << ": kernel " << TupleString(kernel) << " must have 1, 2 or 3 values";
  FillTuple(attrs, "kernel", kernel, w.nd, 1, &w.k);
  FillTuple(attrs, "stride", stride, w.nd, 1, &w.s);
  FillTuple(attrs, "dilate", dilate, w.nd, 1, &w.d);
  FillTuple(attrs, "pad", pad, w.nd, 0, &w.p);
  return w;
}

void CheckLayout(const Attrs& attrs, const std::optional<std::string>& layout, int nd) {
  static const char* kLayouts[] = {"NCW", "NCHW", "NCDHW"};
  if (!layout) return;
  MX_CHECK(*layout == kLayouts[nd - 1], NotImplementedError)
      << attrs.op->name << ": layout '" << *layout << "' is not supported (only "
      << kLayouts[nd - 1] << " for a " << nd << "-D kernel)";
}

namespace {

/*! \brief Shared checks of data and groups; fills batch and the data's spatial dims. */
template <bool D>
void CheckData(const Attrs& attrs, const ConvParamT<D>& p, const Window& w, const Shape& data,
               int64_t channels, std::array<int64_t, 3>* spatial) {
  MX_CHECK(data.ndim() == w.nd + 2, ValueError)
      << attrs.op->name << ": data has shape " << data << " but a " << w.nd << "-D kernel needs a "
      << w.nd + 2 << "-D input (batch, channel, spatial...)";
  MX_CHECK(channels % p.num_group == 0 && p.num_filter % p.num_group == 0, ValueError)
      << attrs.op->name << ": num_group " << p.num_group << " must divide the input channels ("
      << channels << ", data shape " << data << ") and num_filter (" << p.num_filter << ")";
  for (int i = 0; i < w.nd; ++i)
    (*spatial)[3 - w.nd + i] = data[i + 2];
}

}  // namespace

ConvGeom ConvolutionGeom(const Attrs& attrs, const ConvParam& p, const Shape& data) {
  ConvGeom g;
  g.w = MakeWindow(attrs, p.kernel, p.stride, p.dilate, p.pad);
  CheckLayout(attrs, p.layout, g.w.nd);
  CheckData(attrs, p, g.w, data, data[1], &g.in);
  g.batch = data[0];
  g.in_c = data[1];
  g.out_c = p.num_filter;
  g.groups = p.num_group;
  for (int i = 3 - g.w.nd; i < 3; ++i) {
    const int64_t padded = g.in[i] + 2 * g.w.p[i];
    const int64_t dilated = g.w.d[i] * (g.w.k[i] - 1) + 1;
    MX_CHECK(dilated <= padded, ValueError)
        << attrs.op->name << ": kernel " << SpatialString(p.kernel) << " (dilated size " << dilated
        << " in spatial dim " << i - (3 - g.w.nd) << ") is larger than the padded input (size "
        << padded << "); data shape " << data << ", pad " << SpatialString(p.pad);
    g.out[i] = (padded - dilated) / g.w.s[i] + 1;
  }
  return g;
}

ConvGeom DeconvolutionGeom(const Attrs& attrs, const DeconvParam& p, const Shape& data) {
  ConvGeom g;
  g.w = MakeWindow(attrs, p.kernel, p.stride, p.dilate, p.pad);
  CheckLayout(attrs, p.layout, g.w.nd);
  CheckData(attrs, p, g.w, data, data[1], &g.out);
  g.batch = data[0];
  g.in_c = p.num_filter;
  g.out_c = data[1];
  g.groups = p.num_group;
  std::array<int64_t, 3> adj{0, 0, 0};
  FillTuple(attrs, "adj", p.adj, g.w.nd, 0, &adj);
  const bool target =
      std::any_of(p.target_shape.begin(), p.target_shape.end(), [](int64_t v) { return v > 0; });
  if (target) {
    MX_CHECK(static_cast<int>(p.target_shape.size()) == g.w.nd, ValueError)
        << attrs.op->name << ": target_shape " << SpatialString(p.target_shape) << " must have "
        << g.w.nd << " value(s), like kernel";
  }
  for (int i = 3 - g.w.nd; i < 3; ++i) {
    const int64_t dilated = g.w.d[i] * (g.w.k[i] - 1) + 1;
    const int64_t full = g.w.s[i] * (g.out[i] - 1) + dilated;
    if (target) {
      // MXNet's InferPad: the total crop is split evenly, an odd one more at the start.
      const int64_t want = p.target_shape[static_cast<size_t>(i - (3 - g.w.nd))];
      MX_CHECK(full >= want, ValueError)
          << attrs.op->name << ": target_shape " << SpatialString(p.target_shape)
          << " is too big for data shape " << data;
      g.w.p[i] = (full - want + 1) / 2;
      adj[i] = (full - want) % 2;
    } else {
      MX_CHECK(adj[i] < g.w.s[i], ValueError)
          << attrs.op->name << ": adj " << SpatialString(p.adj) << " must be smaller than stride "
          << SpatialString(std::span(g.w.s).subspan(3 - g.w.nd));
    }
    g.in[i] = full - 2 * g.w.p[i] + adj[i];
    MX_CHECK(g.in[i] > 0 || g.batch == 0, ValueError)
        << attrs.op->name << ": pad " << SpatialString(p.pad) << " leaves no output for data shape "
        << data;
  }
  return g;
}

namespace {
Shape WithSpatial(int64_t a, int64_t b, const std::array<int64_t, 3>& s, int nd) {
  std::vector<int64_t> dims = {a, b};
  for (int i = 3 - nd; i < 3; ++i)
    dims.push_back(s[i]);
  return Shape(std::span<const int64_t>(dims));
}
}  // namespace

Shape ConvInShape(const ConvGeom& g) {
  return WithSpatial(g.batch, g.in_c, g.in, g.w.nd);
}
Shape ConvOutShape(const ConvGeom& g) {
  return WithSpatial(g.batch, g.out_c, g.out, g.w.nd);
}
Shape ConvWeightShape(const ConvGeom& g) {
  return WithSpatial(g.out_c, g.in_c / g.groups, g.w.k, g.w.nd);
}

void RunConvPass(ConvPass pass, ConvAlgo algo, const ConvGeom& g, const TBlob& a, const TBlob& b,
                 OpReq req, const TBlob& out, const TBlob* bias, TempSpace* temp, bool training) {
  if (req == OpReq::kNull) return;
  if (algo == ConvAlgo::kOneDnn) {
    const bool fuse_bias = pass == ConvPass::kForward;
    MX_INTERNAL_ASSERT(temp != nullptr);
    DnnlConvPass(pass, g, a, b, fuse_bias ? bias : nullptr, req, out, *temp, nullptr, training);
    if (bias && !fuse_bias) AddChannelBias(*bias, out);
    return;
  }
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    WriteWithReq<T>(req, out, [&](T* dst) {
      if (algo == ConvAlgo::kIm2col) {
        FastPass<T>(pass, g, a.data<T>(), b.data<T>(), dst);
      } else {
        ReferencePass<T>(pass, g, a.data<T>(), b.data<T>(), dst);
      }
    });
  };
  if (out.dtype == DType::kFloat64) {
    run(TypeTag<double>{});
  } else {
    run(TypeTag<float>{});
  }
  if (bias) AddChannelBias(*bias, out);
}

namespace {

ComputeFn ConvPassKernel(ConvPass pass, ConvAlgo algo, ConvGeomFn geom, int a, int b,
                         bool bias_input) {
  return [=](const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
             std::span<const OpReq> req, std::span<const TBlob> out) {
    const TBlob* bias = bias_input && in.size() > 2 ? &in[2] : nullptr;
    RunConvPass(pass, algo, geom(attrs, in), in[a], in[b], req[0], out[0], bias, ctx.temp,
                ctx.is_train);
  };
}

}  // namespace

OpDef& AddConvKernels(OpDef& def, const char* gemm_name, ConvPass pass, ConvGeomFn geom, int a,
                      int b, bool bias_input) {
  auto dnnl_supports = [geom](const Attrs& attrs, std::span<const TBlob> in,
                              std::span<const TBlob> out) -> std::string {
    if (out[0].dtype != DType::kFloat32) return "oneDNN kernels run float32 only";
    const ConvGeom g = geom(attrs, in);
    if (g.batch * g.in_c * g.out_c * g.InSize() * g.OutSize() == 0) return "zero-size array";
    return "";
  };
  return def.NeedsTempSpace()
      .Kernel("onednn", ConvPassKernel(pass, ConvAlgo::kOneDnn, geom, a, b, bias_input),
              dnnl_supports)
      .Kernel(gemm_name, ConvPassKernel(pass, ConvAlgo::kIm2col, geom, a, b, bias_input))
      .Kernel("reference", ConvPassKernel(pass, ConvAlgo::kReference, geom, a, b, bias_input));
}

void AddChannelBias(const TBlob& bias, const TBlob& out) {
  const int64_t batch = out.shape[0], channels = out.shape[1];
  const int64_t inner = batch * channels != 0 ? out.Size() / (batch * channels) : 0;
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* b = bias.data<T>();
    T* y = out.data<T>();
    ParallelFor(batch * channels, std::max<int64_t>(1, kElementwiseGrain / (inner + 1)),
                [&](int64_t lo, int64_t hi) {
                  for (int64_t i = lo; i < hi; ++i) {
                    T* row = y + i * inner;
                    const T v = b[i % channels];
                    for (int64_t j = 0; j < inner; ++j)
                      row[j] += v;
                  }
                });
  };
  if (out.dtype == DType::kFloat64) {
    run(TypeTag<double>{});
  } else {
    run(TypeTag<float>{});
  }
}

void ConvType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  SameType(attrs, in, out);
  for (size_t i = 0; i < in->size(); ++i) {
    const int t = (*in)[i];
    MX_CHECK(
        t < 0 || t == static_cast<int>(DType::kFloat32) || t == static_cast<int>(DType::kFloat64),
        TypeError)
        << attrs.op->name << ": " << InputName(attrs, i) << " has dtype "
        << DTypeName(static_cast<DType>(t)) << "; expected float32 or float64";
  }
}

}  // namespace mixnet::op::nn
