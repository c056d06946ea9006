// Shared by the convolution, deconvolution, pooling and upsampling ops: MXNet's parameters,
// window arithmetic, and the three convolution passes (forward, data and weight gradients),
// each as a fast im2col + GEMM kernel and a direct-loop reference.
//
// NOTE [ Conv view ]
// Every kernel works on the geometry of a convolution x (N, C, in...) -> y (N, O, out...) with
// weight (O, C / groups, k...). Deconvolution is the data gradient of the convolution whose
// input is the deconvolution's output, so it uses the same geometry with the roles swapped;
// 1-D and 2-D windows are 3-D windows with unit leading dims.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "operator/op_def.h"

namespace mixnet::op::nn {

/*! \brief Convolution (Deconv false) and Deconvolution (Deconv true) parameters. */
template <bool Deconv>
struct ConvParamT {
  std::vector<int64_t> kernel, stride, dilate, pad, adj, target_shape;
  int64_t num_filter = 0;
  int64_t num_group = 1;
  int64_t workspace = Deconv ? 512 : 1024;
  bool no_bias = Deconv;
  std::optional<std::string> cudnn_tune;
  bool cudnn_off = false;
  std::optional<std::string> layout;

  static void Declare(ParamDecl<ConvParamT>& d) {
    d.Field("kernel", &ConvParamT::kernel).Doc("Window size: (w,), (h, w) or (d, h, w).");
    d.Field("stride", &ConvParamT::stride).Default({}).Doc("Stride; default 1 per dim.");
    d.Field("dilate", &ConvParamT::dilate).Default({}).Doc("Dilation; default 1 per dim.");
    d.Field("pad", &ConvParamT::pad)
        .Default({})
        .Doc(Deconv ? "Padding removed from the output; default 0." : "Zero padding; default 0.");
    if constexpr (Deconv) {
      d.Field("adj", &ConvParamT::adj)
          .Default({})
          .Doc("Extra size added to one side of the output; ignored with target_shape.");
      d.Field("target_shape", &ConvParamT::target_shape)
          .Default({})
          .Doc("Output spatial shape; pad and adj are derived from it when given.");
    }
    d.Field("num_filter", &ConvParamT::num_filter).Range(1, 100000).Doc("Output channels.");
    d.Field("num_group", &ConvParamT::num_group).Default(1).Lower(1).Doc("Number of groups.");
    d.Field("workspace", &ConvParamT::workspace)
        .Default(Deconv ? 512 : 1024)
        .Lower(0)
        .Doc("Accepted for MXNet compatibility; ignored.");
    d.Field("no_bias", &ConvParamT::no_bias).Default(Deconv).Doc("Whether to omit the bias.");
    d.Field("cudnn_tune", &ConvParamT::cudnn_tune)
        .Default(std::nullopt)
        .Doc("Accepted for MXNet compatibility; ignored.");
    d.Field("cudnn_off", &ConvParamT::cudnn_off)
        .Default(false)
        .Doc("Accepted for MXNet compatibility; ignored.");
    d.Field("layout", &ConvParamT::layout)
        .Default(std::nullopt)
        .Doc("NCW, NCHW or NCDHW (channels-last layouts are not supported).");
  }
};
using ConvParam = ConvParamT<false>;
using DeconvParam = ConvParamT<true>;

/*! \brief A window over up to 3 spatial dims; unused leading dims are 1 (pad 0). */
struct Window {
  int nd = 0;
  std::array<int64_t, 3> k{1, 1, 1}, s{1, 1, 1}, p{0, 0, 0}, d{1, 1, 1};
  int64_t Size() const { return k[0] * k[1] * k[2]; }
};

/*!
 * \brief The window of `kernel` with stride, dilate and pad (empty: the defaults); ValueError
 * naming the op and the argument when a tuple has the wrong length or a bad value.
 */
Window MakeWindow(const Attrs& attrs, std::span<const int64_t> kernel,
                  std::span<const int64_t> stride, std::span<const int64_t> dilate,
                  std::span<const int64_t> pad);

/*! \brief NotImplementedError unless `layout` is unset or the channels-first one for nd. */
void CheckLayout(const Attrs& attrs, const std::optional<std::string>& layout, int nd);

/*! \brief Spatial dims as "(h, w)". */
std::string SpatialString(std::span<const int64_t> dims);

/*! \brief The conv view of one op call (NOTE [ Conv view ]). */
struct ConvGeom {
  int64_t batch = 0, in_c = 0, out_c = 0, groups = 1;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1};
  Window w;
  int64_t InSize() const { return in[0] * in[1] * in[2]; }
  int64_t OutSize() const { return out[0] * out[1] * out[2]; }
};

/*!
 * \brief Geometry of Convolution on `data` (known shape); ValueError naming the op, the
 * argument and the shapes when they do not fit.
 */
ConvGeom ConvolutionGeom(const Attrs& attrs, const ConvParam& p, const Shape& data);
/*! \brief Geometry of Deconvolution on `data`: the conv view's input is its output. */
ConvGeom DeconvolutionGeom(const Attrs& attrs, const DeconvParam& p, const Shape& data);

/*! \brief (batch, channels, spatial...) of the conv view's input or output. */
Shape ConvInShape(const ConvGeom& g);
Shape ConvOutShape(const ConvGeom& g);
/*! \brief (out_c, in_c / groups, k...). */
Shape ConvWeightShape(const ConvGeom& g);

enum class ConvPass {
  kForward,         // y = conv(x, w)
  kBackwardData,    // dx = conv^T(dy, w)
  kBackwardWeight,  // dw = sum over the batch of dy * x
};

enum class ConvAlgo {
  kOneDnn,     // oneDNN primitives (float32; see DnnlConvSupports)
  kIm2col,     // im2col + GEMM
  kReference,  // direct loops
};

/*!
 * \brief Runs one pass: kForward(a = x, b = w) -> y, kBackwardData(a = dy, b = w) -> dx,
 * kBackwardWeight(a = x, b = dy) -> dw, then adds `bias` per channel of the output if given.
 * ConvAlgo::kOneDnn needs `temp` (the ops declare NeedsTempSpace()).
 */
void RunConvPass(ConvPass pass, ConvAlgo algo, const ConvGeom& g, const TBlob& a, const TBlob& b,
                 OpReq req, const TBlob& out, const TBlob* bias = nullptr,
                 TempSpace* temp = nullptr, bool training = false);

/*! \brief Geometry of one call of a convolution-family op, from its attributes and inputs. */
using ConvGeomFn = ConvGeom (*)(const Attrs& attrs, std::span<const TBlob> in);

/*!
 * \brief Registers the "onednn" (float32), `gemm_name` (im2col + GEMM) and "reference" kernels
 * running `pass` on (a = in[a], b = in[b]) into out[0] on `def`; when `bias_input` is set, a
 * third input is a per-channel bias added to the output.
 */
OpDef& AddConvKernels(OpDef& def, const char* gemm_name, ConvPass pass, ConvGeomFn geom, int a,
                      int b, bool bias_input = false);

/*! \brief What the forward pass applies to its result per output channel c: y * scale[c] +
 * shift[c], then max(y, 0) if `relu` (oneDNN post-ops; float32, out_c values each). */
struct ConvPostOps {
  const float* scale = nullptr;
  const float* shift = nullptr;
  bool relu = false;
};

/*!
 * \brief RunConvPass on oneDNN (float32); the forward pass adds `bias` and applies `post` in
 * the primitive. Primitives are cached per thread by shape (NOTE [ oneDNN kernels ]).
 */
void DnnlConvPass(ConvPass pass, const ConvGeom& g, const TBlob& a, const TBlob& b,
                  const TBlob* bias, OpReq req, const TBlob& out, TempSpace& temp,
                  const ConvPostOps* post = nullptr, bool training = false);

/*! \brief out[n, c, ...] += bias[c] for every batch and position. */
void AddChannelBias(const TBlob& bias, const TBlob& out);

/*! \brief Only float32 and float64; TypeError naming the op and the input otherwise. */
void ConvType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out);

/*!
 * \brief Runs `f(T* dst)` into `out` as `req` asks: straight into it, or into a temporary
 * that is added for OpReq::kAdd.
 */
template <typename T, typename F>
void WriteWithReq(OpReq req, const TBlob& out, F&& f) {
  if (req == OpReq::kNull) return;
  if (req != OpReq::kAdd) {
    f(out.data<T>());
    return;
  }
  std::vector<T> tmp(static_cast<size_t>(out.Size()));
  f(tmp.data());
  T* y = out.data<T>();
  for (size_t i = 0; i < tmp.size(); ++i)
    y[i] += tmp[i];
}

}  // namespace mixnet::op::nn
