// Image augmentation kernels: resize, crop, flip, colour jitter, lighting, tensor conversion.
//
// NOTE [ Image threads ]
// Every kernel here works on one image on the calling thread. Data loaders decode and augment
// with several threads, one image each, so threading inside a kernel would oversubscribe the
// cores; batch-level callers (the Python transforms on a batch) parallelise over images.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "mixnet/base/context.h"
#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"
#include "mixnet/io/image.h"
#include "operator/random_resource.h"

namespace mixnet::io {
namespace {

template <typename T>
T Saturate(float v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return static_cast<uint8_t>(std::clamp(std::nearbyint(v), 0.0f, 255.0f));
  } else {
    return static_cast<T>(v);
  }
}

/*! \brief The source pixels and weights that make one output pixel along one axis. */
struct Taps {
  int n = 0;  // taps per output coordinate
  std::vector<int64_t> index;
  std::vector<float> weight;
};

float CubicWeight(float x) {
  constexpr float a = -0.75f;  // OpenCV's (bicubic convolution, Keys' a = -0.75)
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

// Output coordinate d samples the input at (d + 0.5) * scale - 0.5 (pixel centres aligned),
// as OpenCV's cv::resize, which MXNet 1.x calls.
Taps MakeTaps(int64_t in, int64_t out, Interp interp) {
  const double scale = static_cast<double>(in) / out;
  if (interp == Interp::kArea && scale < 1) interp = Interp::kBilinear;  // upscaling: as OpenCV
  Taps t;
  auto clampi = [in](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
  if (interp == Interp::kArea) {
    t.n = static_cast<int>(std::ceil(scale)) + 1;
    for (int64_t d = 0; d < out; ++d) {
      const double lo = d * scale, hi = (d + 1) * scale;
      const int64_t first = static_cast<int64_t>(std::floor(lo));
      for (int k = 0; k < t.n; ++k) {
        const int64_t s = first + k;
        const double overlap = std::max(0.0, std::min(hi, s + 1.0) - std::max(lo, double(s)));
        t.index.push_back(clampi(s));
        t.weight.push_back(static_cast<float>(overlap / scale));
      }
    }
    return t;
  }
  t.n = interp == Interp::kNearest ? 1 : (interp == Interp::kBilinear ? 2 : 4);
  for (int64_t d = 0; d < out; ++d) {
    if (interp == Interp::kNearest) {
      t.index.push_back(clampi(static_cast<int64_t>(std::floor(d * scale))));
      t.weight.push_back(1);
      continue;
    }
    const double f = (d + 0.5) * scale - 0.5;
    int64_t x0 = static_cast<int64_t>(std::floor(f));
    float frac = static_cast<float>(f - x0);
    if (interp == Interp::kBilinear) {
      if (x0 < 0) x0 = 0, frac = 0;
      if (x0 >= in - 1) x0 = in - 1, frac = 0;
      t.index.insert(t.index.end(), {x0, clampi(x0 + 1)});
      t.weight.insert(t.weight.end(), {1 - frac, frac});
    } else {
      for (int k = -1; k <= 2; ++k) {
        t.index.push_back(clampi(x0 + k));
        t.weight.push_back(CubicWeight(frac - k));
      }
    }
  }
  return t;
}

/*! \brief The horizontal pass of ImResize; kC is the channel count, or 0 for any. */
template <int kC, typename T>
void ResizeRows(const ImageT<T>& src, const Taps& tx, int64_t width, float* rows) {
  const int64_t c = kC > 0 ? kC : src.channels;
  for (int64_t y = 0; y < src.height; ++y) {
    const T* row = src.Pixel(y, 0);
    for (int64_t x = 0; x < width; ++x) {
      float* o = rows + (y * width + x) * c;
      for (int64_t ch = 0; ch < c; ++ch)
        o[ch] = 0;
      for (int k = 0; k < tx.n; ++k) {
        const float w = tx.weight[x * tx.n + k];
        const T* p = row + tx.index[x * tx.n + k] * c;
        for (int64_t ch = 0; ch < c; ++ch)
          o[ch] += w * static_cast<float>(p[ch]);
      }
    }
  }
}

}  // namespace

template <typename T>
ImageT<T> ImResize(const ImageT<T>& src, int64_t width, int64_t height, Interp interp) {
  MX_CHECK(width > 0 && height > 0, ValueError)
      << "imresize: target size must be positive, got " << width << "x" << height;
  MX_CHECK(src.width > 0 && src.height > 0, ValueError)
      << "imresize: empty source image " << src.height << "x" << src.width;
  MX_CHECK(static_cast<int>(interp) >= 0 && static_cast<int>(interp) <= 3, ValueError)
      << "imresize: interp must be 0 (nearest), 1 (bilinear), 2 (cubic) or 3 (area), got "
      << static_cast<int>(interp);
  const int64_t c = src.channels;
  const Taps tx = MakeTaps(src.width, width, interp), ty = MakeTaps(src.height, height, interp);
  // Separable: rows first into a float buffer, then columns.
  std::vector<float> rows(src.height * width * c);
  switch (c) {  // a constant channel count lets the compiler unroll the pixel loop
    case 1:
      ResizeRows<1>(src, tx, width, rows.data());
      break;
    case 3:
      ResizeRows<3>(src, tx, width, rows.data());
      break;
    default:
      ResizeRows<0>(src, tx, width, rows.data());
  }
  ImageT<T> dst(height, width, c);
  std::vector<float> acc(width * c);
  for (int64_t y = 0; y < height; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int k = 0; k < ty.n; ++k) {
      const float w = ty.weight[y * ty.n + k];
      const float* r = &rows[ty.index[y * ty.n + k] * width * c];
      for (int64_t i = 0; i < width * c; ++i)
        acc[i] += w * r[i];
    }
    T* o = dst.Pixel(y, 0);
    for (int64_t i = 0; i < width * c; ++i)
      o[i] = Saturate<T>(acc[i]);
  }
  return dst;
}

template <typename T>
ImageT<T> ImCrop(const ImageT<T>& src, int64_t x0, int64_t y0, int64_t width, int64_t height) {
  MX_CHECK(x0 >= 0 && y0 >= 0 && width > 0 && height > 0 && x0 + width <= src.width &&
               y0 + height <= src.height,
           ValueError)
      << "crop: window (x0=" << x0 << ", y0=" << y0 << ", w=" << width << ", h=" << height
      << ") is not inside the image of " << src.width << "x" << src.height << " (w x h)";
  ImageT<T> dst(height, width, src.channels);
  for (int64_t y = 0; y < height; ++y)
    std::copy_n(src.Pixel(y0 + y, x0), width * src.channels, dst.Pixel(y, 0));
  return dst;
}

template <typename T>
void ImFlip(ImageT<T>* img, bool horizontal) {
  const int64_t c = img->channels;
  if (horizontal) {
    for (int64_t y = 0; y < img->height; ++y)
      for (int64_t x = 0, r = img->width - 1; x < r; ++x, --r)
        std::swap_ranges(img->Pixel(y, x), img->Pixel(y, x) + c, img->Pixel(y, r));
  } else {
    for (int64_t y = 0, b = img->height - 1; y < b; ++y, --b)
      std::swap_ranges(img->Pixel(y, 0), img->Pixel(y, 0) + img->width * c, img->Pixel(b, 0));
  }
}

namespace {
constexpr float kLuma[3] = {0.299f, 0.587f, 0.114f};  // ITU-R BT.601, as MXNet's augmenters

/*! \brief img = img * m^T for a 3x3 colour matrix m (pixel as a column vector). */
template <typename T>
void ApplyColorMatrix(ImageT<T>* img, const float m[3][3], const float bias[3]) {
  T* p = img->data.data();
  for (int64_t i = 0; i < img->height * img->width; ++i, p += 3) {
    const float r = p[0], g = p[1], b = p[2];
    for (int k = 0; k < 3; ++k)
      p[k] = Saturate<T>(m[k][0] * r + m[k][1] * g + m[k][2] * b + bias[k]);
  }
}
}  // namespace

template <typename T>
void AdjustColor(ImageT<T>* img, ColorOp op, float alpha) {
  MX_CHECK(img->channels == 3, ValueError)
      << "colour jitter: needs an RGB image of 3 channels, got " << img->channels;
  float m[3][3] = {{alpha, 0, 0}, {0, alpha, 0}, {0, 0, alpha}};
  float bias[3] = {0, 0, 0};
  switch (op) {
    case ColorOp::kBrightness:
      break;
    case ColorOp::kContrast: {  // blend with the image's mean grey level
      double sum = 0;
      const T* p = img->data.data();
      for (int64_t i = 0; i < img->height * img->width; ++i, p += 3)
        sum += kLuma[0] * p[0] + kLuma[1] * p[1] + kLuma[2] * p[2];
      const float grey = static_cast<float>(sum / std::max<int64_t>(1, img->height * img->width));
      bias[0] = bias[1] = bias[2] = (1 - alpha) * grey;
      break;
    }
    case ColorOp::kSaturation:  // blend with each pixel's grey level
      for (int k = 0; k < 3; ++k)
        for (int j = 0; j < 3; ++j)
          m[k][j] += (1 - alpha) * kLuma[j];
      break;
    case ColorOp::kHue: {  // rotate the chroma plane of YIQ by alpha * pi
      static const float kToYiq[3][3] = {
          {0.299f, 0.587f, 0.114f}, {0.596f, -0.274f, -0.321f}, {0.211f, -0.523f, 0.311f}};
      static const float kFromYiq[3][3] = {
          {1.0f, 0.956f, 0.621f}, {1.0f, -0.272f, -0.647f}, {1.0f, -1.107f, 1.705f}};
      const float u = std::cos(alpha * std::numbers::pi_v<float>);
      const float w = std::sin(alpha * std::numbers::pi_v<float>);
      const float rot[3][3] = {{1, 0, 0}, {0, u, -w}, {0, w, u}};
      float tmp[3][3] = {};
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          for (int k = 0; k < 3; ++k)
            tmp[i][j] += rot[i][k] * kToYiq[k][j];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          m[i][j] = 0;
          for (int k = 0; k < 3; ++k)
            m[i][j] += kFromYiq[i][k] * tmp[k][j];
        }
      break;
    }
  }
  ApplyColorMatrix(img, m, bias);
}

template <typename T>
void AddLighting(ImageT<T>* img, const float alpha[3], const float eigval[3],
                 const float eigvec[3][3]) {
  MX_CHECK(img->channels == 3, ValueError)
      << "lighting: needs an RGB image of 3 channels, got " << img->channels;
  const float identity[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  float rgb[3];
  for (int k = 0; k < 3; ++k)
    rgb[k] = eigvec[k][0] * alpha[0] * eigval[0] + eigvec[k][1] * alpha[1] * eigval[1] +
             eigvec[k][2] * alpha[2] * eigval[2];
  ApplyColorMatrix(img, identity, rgb);
}

template <typename T>
void HwcToChw(const T* src, int64_t height, int64_t width, int64_t channels, float* dst) {
  const int64_t plane = height * width;
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < channels; ++c)
      dst[c * plane + i] = static_cast<float>(src[i * channels + c]) / 255.0f;
}

void NormalizeChw(float* data, int64_t channels, int64_t plane, std::span<const float> mean,
                  std::span<const float> std) {
  auto ok = [channels](size_t n) { return n == 1 || static_cast<int64_t>(n) == channels; };
  MX_CHECK(ok(mean.size()) && ok(std.size()), ValueError)
      << "normalize: " << mean.size() << " means and " << std.size() << " stds for an input of "
      << channels << " channels (give one value, or one per channel)";
  for (int64_t c = 0; c < channels; ++c) {
    const float m = mean[mean.size() == 1 ? 0 : c], s = std[std.size() == 1 ? 0 : c];
    MX_CHECK(s != 0, ValueError) << "normalize: std of channel " << c << " is 0";
    float* p = data + c * plane;
    for (int64_t i = 0; i < plane; ++i)
      p[i] = (p[i] - m) / s;
  }
}

std::vector<double> RandomDraws(int64_t n, bool normal) {
  // Drawn by an engine op that writes the generator's var, so the draws are ordered with the
  // random ops and mx.random.seed (NOTE in operator/random_resource.h).
  std::vector<double> out(n);
  op::RandomResource& r = op::RandomFor(Context::cpu());
  Engine::Get()->PushSync(
      [&out, &r, normal](RunContext) {
        std::uniform_real_distribution<double> u(0.0, 1.0);
        std::normal_distribution<double> g(0.0, 1.0);
        for (double& v : out)
          v = normal ? g(r.engine) : u(r.engine);
      },
      Context::cpu(), {}, {r.var}, FnProperty::kNormal, 0, "ImageRandom");
  Engine::Get()->FlushBulk();
  Engine::Get()->WaitForVar(r.var);
  return out;
}

#define MIXNET_IMAGE_INSTANTIATE(T)                                                         \
  template ImageT<T> ImResize(const ImageT<T>&, int64_t, int64_t, Interp);                  \
  template ImageT<T> ImCrop(const ImageT<T>&, int64_t, int64_t, int64_t, int64_t);          \
  template void ImFlip(ImageT<T>*, bool);                                                   \
  template void AdjustColor(ImageT<T>*, ColorOp, float);                                    \
  template void AddLighting(ImageT<T>*, const float[3], const float[3], const float[3][3]); \
  template void HwcToChw(const T*, int64_t, int64_t, int64_t, float*);
MIXNET_IMAGE_INSTANTIATE(uint8_t)
MIXNET_IMAGE_INSTANTIATE(float)

}  // namespace mixnet::io
