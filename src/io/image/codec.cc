// JPEG and PNG codecs for mx.image and record files.
//
// NOTE [ Image codecs ]
// MXNet 1.x decodes with OpenCV. mixnet uses libjpeg-turbo (its TurboJPEG API) and libpng's
// simplified API instead: they are the codecs OpenCV itself wraps, as fast, and a small
// fraction of its size and dependencies. Channel order and flags follow cv2.imdecode/imencode.
#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "mixnet/base/error.h"
#include "mixnet/io/image.h"

namespace mixnet::io {
namespace {

bool IsJpeg(std::span<const uint8_t> b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}
bool IsPng(std::span<const uint8_t> b) {
  static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return b.size() >= 8 && std::memcmp(b.data(), kSig, 8) == 0;
}

struct TjDeleter {
  void operator()(void* h) const { tjDestroy(h); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

Image DecodeJpeg(std::span<const uint8_t> buf, int flag, bool to_rgb) {
  TjHandle tj(tjInitDecompress());
  MX_INTERNAL_ASSERT(tj) << "tjInitDecompress failed";
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  auto* data = const_cast<unsigned char*>(buf.data());
  MX_CHECK(tjDecompressHeader3(tj.get(), data, buf.size(), &w, &h, &subsamp, &colorspace) == 0,
           ValueError)
      << "imdecode: corrupt JPEG data (" << buf.size() << " bytes): " << tjGetErrorStr2(tj.get());
  const bool grey = flag == 0 || (flag < 0 && colorspace == TJCS_GRAY);
  Image img(h, w, grey ? 1 : 3);
  const int pf = grey ? TJPF_GRAY : (to_rgb ? TJPF_RGB : TJPF_BGR);
  // Warnings (e.g. a truncated scan) still give an image, as with OpenCV; errors throw.
  if (tjDecompress2(tj.get(), data, buf.size(), img.data.data(), w, 0, h, pf, 0) != 0) {
    MX_CHECK(tjGetErrorCode(tj.get()) == TJERR_WARNING, ValueError)
        << "imdecode: corrupt JPEG data (" << buf.size() << " bytes): " << tjGetErrorStr2(tj.get());
  }
  return img;
}

struct PngImage : png_image {
  PngImage() {
    std::memset(static_cast<png_image*>(this), 0, sizeof(png_image));
    version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(this); }
};

/*! \brief OpenCV's grey level (BT.601 weights in 14-bit fixed point, rounded). */
uint8_t Grey(int r, int g, int b) {
  return static_cast<uint8_t>((r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14);
}

Image DecodePng(std::span<const uint8_t> buf, int flag, bool to_rgb) {
  PngImage png;
  MX_CHECK(png_image_begin_read_from_memory(&png, buf.data(), buf.size()) != 0, ValueError)
      << "imdecode: corrupt PNG data (" << buf.size() << " bytes): " << png.message;
  // Read as stored (grey or RGB, with alpha when present; palettes become 8-bit values), then
  // convert as OpenCV does: libpng's own grey conversion weighs linear light, and its alpha removal
  // composes onto a background, where OpenCV drops the alpha channel.
  const bool colour = png.format & PNG_FORMAT_FLAG_COLOR,
             alpha = png.format & PNG_FORMAT_FLAG_ALPHA;
  const bool deep = png.format & PNG_FORMAT_FLAG_LINEAR;  // 16-bit samples
  png.format = colour ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB)
                      : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  const int64_t in_c = (colour ? 3 : 1) + (alpha ? 1 : 0);
  Image raw(png.height, png.width, in_c);
  if (deep) {
    // 16-bit samples: the simplified API would gamma-encode them to 8 bits; OpenCV keeps the
    // high byte (png_set_strip_16). Read them as they are (colour premultiplied by alpha).
    png.format |= PNG_FORMAT_FLAG_LINEAR;
    std::vector<uint16_t> wide(raw.data.size());
    MX_CHECK(png_image_finish_read(&png, nullptr, wide.data(), 0, nullptr) != 0, ValueError)
        << "imdecode: corrupt PNG data (" << buf.size() << " bytes): " << png.message;
    for (size_t i = 0; i < wide.size(); i += in_c) {
      const uint32_t a = alpha ? wide[i + in_c - 1] : 65535;
      for (int64_t k = 0; k < in_c; ++k) {
        uint32_t v = wide[i + k];
        if (k < in_c - 1 && alpha) v = a == 0 ? 0 : std::min<uint32_t>(65535, v * 65535u / a);
        raw.data[i + k] = static_cast<uint8_t>(v >> 8);
      }
    }
  } else {
    MX_CHECK(png_image_finish_read(&png, nullptr, raw.data.data(), 0, nullptr) != 0, ValueError)
        << "imdecode: corrupt PNG data (" << buf.size() << " bytes): " << png.message;
  }
  int64_t out_c = flag == 0 ? 1 : 3;
  if (flag < 0) out_c = alpha ? 4 : (colour ? 3 : 1);
  if (out_c == in_c && (!colour || to_rgb)) return raw;
  Image img(raw.height, raw.width, out_c);
  const uint8_t* p = raw.data.data();
  uint8_t* o = img.data.data();
  for (int64_t i = 0; i < raw.height * raw.width; ++i, p += in_c, o += out_c) {
    const uint8_t r = p[0], g = colour ? p[1] : p[0], b = colour ? p[2] : p[0];
    if (out_c == 1) {
      o[0] = colour ? Grey(r, g, b) : r;
      continue;
    }
    o[0] = to_rgb ? r : b;
    o[1] = g;
    o[2] = to_rgb ? b : r;
    if (out_c == 4) o[3] = p[in_c - 1];
  }
  return img;
}

}  // namespace

Image ImDecode(std::span<const uint8_t> buf, int flag, bool to_rgb) {
  MX_CHECK(flag >= -1 && flag <= 1, ValueError)
      << "imdecode: flag must be 1 (colour), 0 (grey) or -1 (unchanged), got " << flag;
  if (IsJpeg(buf)) return DecodeJpeg(buf, flag, to_rgb);
  if (IsPng(buf)) return DecodePng(buf, flag, to_rgb);
  MX_CHECK(false, ValueError) << "imdecode: data of " << buf.size()
                              << " bytes is neither JPEG nor PNG (unknown signature)";
  return {};
}

std::vector<uint8_t> ImEncode(const Image& img, std::string_view ext, int quality, bool is_rgb) {
  const int64_t c = img.channels;
  MX_CHECK(img.height > 0 && img.width > 0 &&
               img.data.size() == static_cast<size_t>(img.height * img.width * c),
           ValueError)
      << "imencode: empty or inconsistent image " << img.height << "x" << img.width << "x" << c;
  std::string e(ext);
  for (char& ch : e)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (e == ".jpg" || e == ".jpeg") {
    MX_CHECK(c == 1 || c == 3, ValueError) << "imencode: JPEG needs 1 or 3 channels, got " << c;
    MX_CHECK(quality >= 1 && quality <= 100, ValueError)
        << "imencode: JPEG quality must be in 1..100, got " << quality;
    TjHandle tj(tjInitCompress());
    MX_INTERNAL_ASSERT(tj) << "tjInitCompress failed";
    unsigned char* out = nullptr;
    unsigned long size = 0;  // NOLINT(runtime/int): TurboJPEG's type
    const int pf = c == 1 ? TJPF_GRAY : (is_rgb ? TJPF_RGB : TJPF_BGR);
    const int rc = tjCompress2(tj.get(), img.data.data(), static_cast<int>(img.width), 0,
                               static_cast<int>(img.height), pf, &out, &size,
                               c == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, 0);
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> hold(out, tjFree);
    MX_CHECK(rc == 0, ValueError) << "imencode: " << tjGetErrorStr2(tj.get());
    return std::vector<uint8_t>(out, out + size);
  }
  MX_CHECK(e == ".png", ValueError)
      << "imencode: unsupported format '" << ext << "' (expected .jpg, .jpeg or .png)";
  MX_CHECK(c == 1 || c == 3 || c == 4, ValueError)
      << "imencode: PNG needs 1, 3 or 4 channels, got " << c;
  PngImage png;
  png.width = static_cast<png_uint_32>(img.width);
  png.height = static_cast<png_uint_32>(img.height);
  png.format = c == 1 ? PNG_FORMAT_GRAY
                      : (c == 4 ? (is_rgb ? PNG_FORMAT_RGBA : PNG_FORMAT_BGRA)
                                : (is_rgb ? PNG_FORMAT_RGB : PNG_FORMAT_BGR));
  // PNG is lossless: `quality` (OpenCV's compression level) only trades size for time, and
  // the simplified API keeps zlib's default level.
  png_alloc_size_t size = 0;
  MX_CHECK(png_image_write_to_memory(&png, nullptr, &size, 0, img.data.data(), 0, nullptr) != 0,
           ValueError)
      << "imencode: " << png.message;
  std::vector<uint8_t> out(size);
  MX_CHECK(png_image_write_to_memory(&png, out.data(), &size, 0, img.data.data(), 0, nullptr) != 0,
           ValueError)
      << "imencode: " << png.message;
  out.resize(size);
  return out;
}

}  // namespace mixnet::io
