/*!
 * \file image.h
 * \brief Image decoding, encoding and augmentation kernels (mx.image, gluon's vision transforms,
 * and the decode stage of image record iterators).
 *
 * Images are HWC arrays (height x width x channels, channels last), uint8 or float32. The
 * kernels are single-threaded: data loaders call them from several decode threads at once, one
 * image each (NOTE [ Image threads ] in augment.cc).
 */
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mixnet::io {

/*! \brief An HWC image that owns its pixels. */
template <typename T>
struct ImageT {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  std::vector<T> data;  // height * width * channels values, row-major, channels last

  ImageT() = default;
  ImageT(int64_t h, int64_t w, int64_t c) : height(h), width(w), channels(c), data(h * w * c) {}
  T* Pixel(int64_t y, int64_t x) { return data.data() + (y * width + x) * channels; }
  const T* Pixel(int64_t y, int64_t x) const { return data.data() + (y * width + x) * channels; }
};
using Image = ImageT<uint8_t>;
using ImageF = ImageT<float>;

/*!
 * \brief Decodes a JPEG or PNG byte string (the format is told by its signature).
 * \param flag 1: 3 channels; 0: 1 grey channel; -1: as stored (grey, colour, or with alpha).
 * \param to_rgb channel order RGB (MXNet's mx.image) or BGR (OpenCV's, as in record files).
 * Throws ValueError for unknown, corrupt or truncated data.
 */
Image ImDecode(std::span<const uint8_t> buf, int flag = 1, bool to_rgb = true);

/*!
 * \brief Encodes an image of 1, 3 (or, for PNG, 4) channels as ".jpg"/".jpeg" (quality 1..100)
 * or ".png" (lossless; quality, OpenCV's compression level there, is not used).
 */
std::vector<uint8_t> ImEncode(const Image& img, std::string_view ext, int quality = 95,
                              bool is_rgb = true);

/*! \brief Interpolation methods, numbered as OpenCV's (and MXNet's `interp`). */
enum class Interp : int { kNearest = 0, kBilinear = 1, kCubic = 2, kArea = 3 };

/*! \brief Resizes to width x height (OpenCV's pixel-centre convention; uint8 rounds). */
template <typename T>
ImageT<T> ImResize(const ImageT<T>& src, int64_t width, int64_t height,
                   Interp interp = Interp::kBilinear);
/*! \brief The width x height window whose top-left corner is (x0, y0). */
template <typename T>
ImageT<T> ImCrop(const ImageT<T>& src, int64_t x0, int64_t y0, int64_t width, int64_t height);
/*! \brief Mirrors the image in place: left-right (horizontal) or top-bottom. */
template <typename T>
void ImFlip(ImageT<T>* img, bool horizontal);

/*!
 * \brief Colour adjustments in place on a 3-channel RGB image, as MXNet's jitter augmenters:
 * brightness scales by alpha; contrast and saturation blend with the grey level (image mean
 * or per pixel) by alpha; hue rotates the chroma by alpha * pi in YIQ space. uint8 saturates.
 */
enum class ColorOp { kBrightness, kContrast, kSaturation, kHue };
template <typename T>
void AdjustColor(ImageT<T>* img, ColorOp op, float alpha);
/*! \brief AlexNet's PCA lighting noise: adds eigvec * (alpha * eigval) to each RGB pixel. */
template <typename T>
void AddLighting(ImageT<T>* img, const float alpha[3], const float eigval[3],
                 const float eigvec[3][3]);

/*! \brief HWC uint8 (or float) -> CHW float32 divided by 255 (gluon's ToTensor). */
template <typename T>
void HwcToChw(const T* src, int64_t height, int64_t width, int64_t channels, float* dst);
/*!
 * \brief (x - mean[c]) / std[c] in place on a CHW float image; one mean/std value applies to
 * every channel.
 */
void NormalizeChw(float* data, int64_t channels, int64_t plane, std::span<const float> mean,
                  std::span<const float> std);

/*!
 * \brief n draws from the CPU random generator of mx.random.seed (uniform in [0, 1), or
 * standard normal), ordered with random ops like any engine use of the generator. It waits
 * for the engine, so it must not be called from inside a pushed engine function.
 */
std::vector<double> RandomDraws(int64_t n, bool normal = false);

}  // namespace mixnet::io
