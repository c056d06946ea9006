// MXNet 1.x's image ops behind gluon.data.vision.transforms (mx.nd.image.*): _image_to_tensor,
// _image_normalize, _image_flip_left_right, _image_flip_top_bottom and their random forms.
// The per-image work is the image kernels' (mixnet/io/image.h).
#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

#include "mixnet/io/image.h"
#include "operator/grad_ops.h"
#include "operator/op_def.h"
#include "operator/parallel.h"
#include "operator/tensor/layout.h"

namespace mixnet::op {
namespace {

using Values = std::vector<std::vector<double>>;

/*! \brief (batched, n, h, w, c) of an HWC image or NHWC batch; ValueError naming `op`. */
struct ImageDims {
  bool batched = false;
  int64_t n = 1, h = 0, w = 0, c = 0;
};

ImageDims HwcDims(const Attrs& attrs, const Shape& s, const char* layout) {
  MX_CHECK(s.ndim() == 3 || s.ndim() == 4, ValueError)
      << attrs.op->name << ": data must be " << layout << " (3-d) or N" << layout
      << " (4-d), got shape " << s;
  const int o = s.ndim() - 3;
  return {o == 1, o ? s[0] : 1, s[o], s[o + 1], s[o + 2]};
}

void CopyBlob(const TBlob& in, const TBlob& out) {
  std::memcpy(out.dptr, in.dptr, static_cast<size_t>(in.Size() * DTypeSize(in.dtype)));
}

// ---- _image_to_tensor ----

void ToTensorShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known()) return;
  const ImageDims d = HwcDims(attrs, (*in)[0], "HWC");
  AssignShape(attrs, "output", &(*out)[0],
              d.batched ? Shape{d.n, d.c, d.h, d.w} : Shape{d.c, d.h, d.w});
}

constexpr int kU8 = static_cast<int>(DType::kUint8), kF32 = static_cast<int>(DType::kFloat32),
              kF64 = static_cast<int>(DType::kFloat64);

// NOTE [ float64 images ]
// MXNet's image ops take uint8 and float32 and give float32. float64 data is kept in float64
// here (to_tensor of float64 is float64): nothing narrows it silently, and the registry-wide
// test checks values and gradients in float64.
void ToTensorType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = (*in)[0];
  if (t < 0) return;
  MX_CHECK(t == kU8 || t == kF32 || t == kF64, TypeError)
      << attrs.op->name << ": data must be uint8, float32 or float64, got "
      << DTypeName(static_cast<DType>(t));
  AssignType(attrs, "output", &(*out)[0], t == kF64 ? kF64 : kF32);
}

/*! rief HWC -> CHW / 255 in double, for float64 images (NOTE [ float64 images ]). */
void HwcToChw64(const double* x, int64_t h, int64_t w, int64_t c, double* y) {
  for (int64_t i = 0; i < h * w; ++i)
    for (int64_t k = 0; k < c; ++k)
      y[k * h * w + i] = x[i * c + k] / 255.0;
}

void ToTensorKernel(const OpContext&, const Attrs&, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const Shape& s = in[0].shape;
  const int o = s.ndim() - 3;
  const int64_t n = o ? s[0] : 1, h = s[o], w = s[o + 1], c = s[o + 2], size = h * w * c;
  ParallelFor(n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t at = i * size;
      if (in[0].dtype == DType::kUint8) {
        io::HwcToChw(in[0].data<uint8_t>() + at, h, w, c, out[0].data<float>() + at);
      } else if (in[0].dtype == DType::kFloat32) {
        io::HwcToChw(in[0].data<float>() + at, h, w, c, out[0].data<float>() + at);
      } else {
        HwcToChw64(in[0].data<double>() + at, h, w, c, out[0].data<double>() + at);
      }
    }
  });
}

/*! \brief The reference result of to_tensor: HWC images transposed to CHW, / 255. */
std::vector<double> ToTensorExpected(const std::vector<double>& x, int64_t n, int64_t h, int64_t w,
                                     int64_t c) {
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < h; ++r)
      for (int64_t q = 0; q < w; ++q)
        for (int64_t k = 0; k < c; ++k)
          y[((i * c + k) * h + r) * w + q] = x[((i * h + r) * w + q) * c + k] / 255.0;
  return y;
}

/*! \brief Values as float32 holds them (uint8 images give float32 tensors). */
std::vector<double> AsFloat32(std::vector<double> v) {
  for (double& x : v)
    x = static_cast<float>(x);
  return v;
}

// ---- _image_normalize ----

struct NormalizeParam {
  std::vector<double> mean = {0.0};
  std::vector<double> std = {1.0};
  static void Declare(ParamDecl<NormalizeParam>& d) {
    d.Field("mean", &NormalizeParam::mean)
        .Default({0.0})
        .Doc("Sequence of means for each channel (one value: every channel).");
    d.Field("std", &NormalizeParam::std)
        .Default({1.0})
        .Doc("Sequence of standard deviations for each channel (one value: every channel).");
  }
};

void NormalizeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  SameShape(attrs, in, out);
  const Shape& s = (*out)[0];
  if (!s.is_known()) return;
  const ImageDims d = HwcDims(attrs, s, "CHW");
  const auto& p = attrs.param<NormalizeParam>();
  const int64_t channels = d.h;  // CHW: the first of the three image axes
  auto fits = [&](size_t k) { return k == 1 || static_cast<int64_t>(k) == channels; };
  MX_CHECK(fits(p.mean.size()) && fits(p.std.size()), ValueError)
      << attrs.op->name << ": " << p.mean.size() << " means and " << p.std.size()
      << " stds for data of " << channels << " channels (shape " << s << ")";
}

/*! \brief NormalizeChw for float64 data (NOTE [ float64 images ]). */
void NormalizeChw64(double* y, int64_t c, int64_t plane, const std::vector<double>& mean,
                    const std::vector<double>& std) {
  for (int64_t k = 0; k < c; ++k) {
    const double m = mean[mean.size() == 1 ? 0 : k], inv = 1.0 / std[std.size() == 1 ? 0 : k];
    for (int64_t i = 0; i < plane; ++i)
      y[k * plane + i] = (y[k * plane + i] - m) * inv;
  }
}

void NormalizeKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<NormalizeParam>();
  const std::vector<float> mean(p.mean.begin(), p.mean.end()), std(p.std.begin(), p.std.end());
  const Shape& s = in[0].shape;
  const int o = s.ndim() - 3;
  const int64_t n = o ? s[0] : 1, c = s[o], plane = s[o + 1] * s[o + 2];
  if (out[0].dptr != in[0].dptr) CopyBlob(in[0], out[0]);
  const bool f64 = in[0].dtype == DType::kFloat64;
  ParallelFor(n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      if (f64) {
        NormalizeChw64(out[0].data<double>() + i * c * plane, c, plane, p.mean, p.std);
      } else {
        io::NormalizeChw(out[0].data<float>() + i * c * plane, c, plane, mean, std);
      }
    }
  });
}

std::vector<double> NormalizeExpected(const std::vector<double>& x, int64_t c, int64_t plane,
                                      const std::vector<double>& mean,
                                      const std::vector<double>& std) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t k = (i / plane) % c;
    y[i] = (x[i] - mean[mean.size() == 1 ? 0 : k]) / std[std.size() == 1 ? 0 : k];
  }
  return y;
}

// ---- flips ----

/*! \brief Copies `in` to `out` with axis `axis` reversed (any dtype: elements are bytes). */
void ReverseAxis(const TBlob& in, const TBlob& out, int axis) {
  const Shape& s = in.shape;
  int64_t outer = 1, inner = static_cast<int64_t>(DTypeSize(in.dtype));
  for (int i = 0; i < axis; ++i)
    outer *= s[i];
  for (int i = axis + 1; i < s.ndim(); ++i)
    inner *= s[i];
  const int64_t len = s[axis];
  const auto* x = static_cast<const char*>(in.dptr);
  auto* y = static_cast<char*>(out.dptr);
  MX_INTERNAL_ASSERT(x != y);  // no InPlace: rows are swapped across the axis
  ParallelFor(outer, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o)
      for (int64_t j = 0; j < len; ++j)
        std::memcpy(y + (o * len + len - 1 - j) * inner, x + (o * len + j) * inner, inner);
  });
}

/*! \brief The image axis a flip reverses: W (left-right) or H (top-bottom) of (N)HWC. */
int FlipAxis(const Shape& s, bool left_right) {
  return s.ndim() - (left_right ? 2 : 3);
}

void HwcSameShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  SameShape(attrs, in, out);
  if ((*out)[0].is_known()) HwcDims(attrs, (*out)[0], "HWC");
}

ComputeFn FlipKernel(bool left_right) {
  return [left_right](const OpContext&, const Attrs&, std::span<const TBlob> in,
                      std::span<const OpReq>, std::span<const TBlob> out) {
    ReverseAxis(in[0], out[0], FlipAxis(in[0].shape, left_right));
  };
}

struct RandomFlipParam {
  double p = 0.5;
  static void Declare(ParamDecl<RandomFlipParam>& d) {
    d.Field("p", &RandomFlipParam::p).Default(0.5).Doc("The probability of flipping the image.");
  }
};

// One draw for the whole input (a batch flips together), as MXNet's random flips.
ComputeFn RandomFlipKernel(bool left_right) {
  return [left_right](const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                      std::span<const OpReq>, std::span<const TBlob> out) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(*ctx.rng);
    if (u < attrs.param<RandomFlipParam>().p) {
      ReverseAxis(in[0], out[0], FlipAxis(in[0].shape, left_right));
    } else {
      CopyBlob(in[0], out[0]);
    }
  };
}

/*! \brief The expected flip of an (N)HWC array of shape `s` given as doubles. */
std::vector<double> FlipExpected(const std::vector<double>& x, const Shape& s, bool left_right) {
  const int axis = FlipAxis(s, left_right);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i)
    outer *= s[i];
  for (int i = axis + 1; i < s.ndim(); ++i)
    inner *= s[i];
  const int64_t len = s[axis];
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < len; ++j)
      for (int64_t k = 0; k < inner; ++k)
        y[(o * len + len - 1 - j) * inner + k] = x[(o * len + j) * inner + k];
  return y;
}

void RegisterFlip(const char* name, bool left_right) {
  const Shape hwc{3, 4, 2}, nhwc{2, 2, 3, 1};
  Registry::Add(name)
      .Describe(left_right ? "Reverses the width axis of an HWC image or NHWC batch."
                           : "Reverses the height axis of an HWC image or NHWC batch.")
      .Inputs({"data"})
      .InferShape(HwcSameShape)
      .InferType(SameType)
      .Kernel("reference", FlipKernel(left_right))
      // The flip is its own inverse and linear: the gradient is the flipped out-gradient.
      .Gradient([name](GradBuilder& g, const Attrs&, std::span<const GValue>,
                       std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1(name, {dout[0]})};
      })
      .Sample({.inputs = {hwc},
               .expected =
                   [=](const Values& in) { return Values{FlipExpected(in[0], hwc, left_right)}; }})
      .Sample({.inputs = {nhwc},
               .ranges = {{0, 255}},
               .expected =
                   [=](const Values& in) {
                     return Values{FlipExpected(Truncated(in[0]), nhwc, left_right)};
                   },
               .dtypes = {DType::kUint8}});
}

void RegisterRandomFlip(const char* name, bool left_right) {
  const Shape hwc{3, 4, 2};
  Registry::Add(name)
      .Describe(left_right ? "Flips an HWC image or NHWC batch left to right with probability p."
                           : "Flips an HWC image or NHWC batch top to bottom with probability p.")
      .Param<RandomFlipParam>()
      .Inputs({"data"})
      .InferShape(HwcSameShape)
      .InferType(SameType)
      .NeedsRandom()
      .Kernel("reference", RandomFlipKernel(left_right))
      // p = 0 and p = 1 are deterministic; a gradient is not defined (as MXNet's).
      .Sample({.attrs = {{"p", "1"}},
               .inputs = {hwc},
               .expected =
                   [=](const Values& in) { return Values{FlipExpected(in[0], hwc, left_right)}; }})
      .Sample({.attrs = {{"p", "0"}}, .inputs = {hwc}, .expected = [](const Values& in) {
                 return Values{in[0]};
               }});
}

// ---- _image_resize ----

struct ResizeParam {
  std::vector<int64_t> size;
  bool keep_ratio = false;
  int interp = 1;
  static void Declare(ParamDecl<ResizeParam>& d) {
    d.Field("size", &ResizeParam::size)
        .Default(std::vector<int64_t>{})
        .Doc(
            "Size of the output image: (width, height), or one value for both (or, with "
            "keep_ratio, for the short edge).");
    d.Field("keep_ratio", &ResizeParam::keep_ratio)
        .Default(false)
        .Doc("With one size value: resize the short edge to it, keeping the aspect ratio.");
    d.Field("interp", &ResizeParam::interp)
        .Default(1)
        .Range(0, 3)
        .Doc("Interpolation: 0 nearest, 1 bilinear, 2 cubic, 3 area (OpenCV's numbers).");
  }
};

/*! \brief (width, height) of the resized image (gluon's Resize rules). */
std::pair<int64_t, int64_t> ResizedSize(const Attrs& attrs, int64_t h, int64_t w) {
  const auto& p = attrs.param<ResizeParam>();
  MX_CHECK(p.size.size() == 1 || p.size.size() == 2, ValueError)
      << attrs.op->name << ": size must have 1 or 2 values, got " << p.size.size();
  if (p.size.size() == 2) return {p.size[0], p.size[1]};
  const int64_t s = p.size[0];
  if (!p.keep_ratio) return {s, s};
  return h > w ? std::pair{s, s * h / w} : std::pair{s * w / h, s};
}

void ResizeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].is_known()) return;
  const ImageDims d = HwcDims(attrs, (*in)[0], "HWC");
  const auto [w, h] = ResizedSize(attrs, d.h, d.w);
  MX_CHECK(w > 0 && h > 0, ValueError)
      << attrs.op->name << ": the output size " << w << "x" << h << " must be positive";
  AssignShape(attrs, "output", &(*out)[0], d.batched ? Shape{d.n, h, w, d.c} : Shape{h, w, d.c});
}

void Uint8OrFloat32(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  SameType(attrs, in, out);
  const int t = (*out)[0];
  MX_CHECK(t < 0 || t == kU8 || t == kF32, TypeError)
      << attrs.op->name << ": data must be uint8 or float32, got "
      << DTypeName(static_cast<DType>(t));
}

template <typename T>
void ResizeImages(const Attrs& attrs, const TBlob& in, const TBlob& out) {
  const Shape& s = in.shape;
  const int o = s.ndim() - 3;
  const int64_t n = o ? s[0] : 1, h = s[o], w = s[o + 1], c = s[o + 2];
  const int64_t oh = out.shape[o], ow = out.shape[o + 1];
  const auto interp = static_cast<io::Interp>(attrs.param<ResizeParam>().interp);
  ParallelFor(n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      io::ImageT<T> img(h, w, c);
      const T* src = in.data<T>() + i * h * w * c;
      std::copy(src, src + h * w * c, img.data.begin());
      const io::ImageT<T> r = io::ImResize(img, ow, oh, interp);
      std::copy(r.data.begin(), r.data.end(), out.data<T>() + i * oh * ow * c);
    }
  });
}

void ResizeKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq>, std::span<const TBlob> out) {
  if (in[0].dtype == DType::kUint8) {
    ResizeImages<uint8_t>(attrs, in[0], out[0]);
  } else {
    ResizeImages<float>(attrs, in[0], out[0]);
  }
}

/*! \brief Nearest-neighbour 2x upscaling of an HWC image: each pixel repeated 2 x 2. */
std::vector<double> Repeat2x(const std::vector<double>& x, int64_t h, int64_t w, int64_t c) {
  std::vector<double> y(static_cast<size_t>(4 * h * w * c));
  for (int64_t r = 0; r < 2 * h; ++r)
    for (int64_t q = 0; q < 2 * w; ++q)
      for (int64_t k = 0; k < c; ++k)
        y[(r * 2 * w + q) * c + k] = x[((r / 2) * w + q / 2) * c + k];
  return y;
}

const bool kRegistered = [] {
  Registry::Add("_image_to_tensor")
      .Describe(
          "Converts an HWC image (or NHWC batch) of uint8 or float32 values in [0, 255] to a "
          "CHW (NCHW) float32 tensor in [0, 1].")
      .Inputs({"data"})
      .InferShape(ToTensorShape)
      .InferType(ToTensorType)
      .Kernel("reference", ToTensorKernel)
      // Linear: the gradient is the out-gradient moved back to channels-last, / 255 (MXNet
      // gives none; a float image under autograd gets this one).
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue>, std::span<const GValue>,
                   std::span<const GValue> dout) {
        // (N)CHW -> (N)HCW -> (N)HWC, whatever the batch axis.
        const GValue hcw = g.Apply1("SwapAxis", {dout[0]}, {{"dim1", "-3"}, {"dim2", "-2"}});
        const GValue hwc = g.Apply1("SwapAxis", {hcw}, {{"dim1", "-2"}, {"dim2", "-1"}});
        return std::vector<GValue>{g.Apply1("_div_scalar", {hwc}, grad::Scalar(255.0))};
      })
      .Sample({.inputs = {Shape{2, 3, 3}},
               .ranges = {{0, 255}},
               .expected =
                   [](const Values& in) { return Values{ToTensorExpected(in[0], 1, 2, 3, 3)}; }})
      .Sample({.inputs = {Shape{2, 3, 2, 1}},
               .ranges = {{0, 255}},
               .expected =
                   [](const Values& in) {
                     return Values{AsFloat32(ToTensorExpected(Truncated(in[0]), 2, 3, 2, 1))};
                   },
               .dtypes = {DType::kUint8}});

  Registry::Add("_image_normalize")
      .Describe(
          "Normalizes a CHW tensor (or NCHW batch) per channel: (data[c] - mean[c]) / std[c].")
      .Param<NormalizeParam>()
      .Inputs({"data"})
      .InferShape(NormalizeShape)
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        SameType(attrs, in, out);
        const int t = (*out)[0];
        MX_CHECK(t < 0 || t == kF32 || t == kF64, TypeError)
            << attrs.op->name << ": data must be float32 (or float64), got "
            << DTypeName(static_cast<DType>(t));
      })
      .InPlace({{0, 0}})
      .Kernel("reference", NormalizeKernel)
      // Linear in data: the gradient is dy / std per channel, i.e. normalize(dy, 0, std).
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& p = attrs.param<NormalizeParam>();
        return std::vector<GValue>{
            g.Apply1("_image_normalize", {dout[0]},
                     {{"mean", "(0.0,)"}, {"std", ValueCodec<std::vector<double>>::Print(p.std)}})};
      })
      .Sample(
          {.attrs = {{"mean", "(0.1, 0.2, -0.3)"}, {"std", "(0.5, 1.0, 2.0)"}},
           .inputs = {Shape{3, 2, 2}},
           .expected =
               [](const Values& in) {
                 return Values{NormalizeExpected(in[0], 3, 4, {0.1, 0.2, -0.3}, {0.5, 1.0, 2.0})};
               }})
      .Sample({.attrs = {{"mean", "(0.25,)"}, {"std", "(0.5,)"}},
               .inputs = {Shape{2, 2, 3, 1}},
               .expected = [](const Values& in) {
                 return Values{NormalizeExpected(in[0], 2, 3, {0.25}, {0.5})};
               }});

  Registry::Add("_image_resize")
      .Describe(
          "Resizes an HWC image (or NHWC batch) of uint8 or float32 to size (OpenCV's "
          "interpolation; uint8 rounds).")
      .Param<ResizeParam>()
      .Inputs({"data"})
      .InferShape(ResizeShape)
      .InferType(Uint8OrFloat32)
      .Kernel("reference", ResizeKernel)
      // No Gradient, as MXNet's: the input is an image, not a parameter.
      .Sample(
          {.attrs = {{"size", "(4, 6)"}, {"interp", "0"}},
           .inputs = {Shape{3, 2, 2}},
           .ranges = {{0, 255}},
           .expected = [](const Values& in) { return Values{Repeat2x(Truncated(in[0]), 3, 2, 2)}; },
           .dtypes = {DType::kUint8}})
      .Sample({.attrs = {{"size", "(4,)"}, {"keep_ratio", "true"}, {"interp", "0"}},
               .inputs = {Shape{2, 2, 3, 1}},
               .expected =
                   [](const Values& in) {
                     const size_t half = in[0].size() / 2;
                     std::vector<double> a(in[0].begin(), in[0].begin() + half);
                     std::vector<double> b(in[0].begin() + half, in[0].end());
                     std::vector<double> y = AsFloat32(Repeat2x(a, 2, 3, 1));
                     for (double v : AsFloat32(Repeat2x(b, 2, 3, 1)))
                       y.push_back(v);
                     return Values{y};
                   },
               .dtypes = {DType::kFloat32}});

  RegisterFlip("_image_flip_left_right", true);
  RegisterFlip("_image_flip_top_bottom", false);
  RegisterRandomFlip("_image_random_flip_left_right", true);
  RegisterRandomFlip("_image_random_flip_top_bottom", false);
  return true;
}();

}  // namespace
}  // namespace mixnet::op
