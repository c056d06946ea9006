// io::ImDecode/ImEncode and the augmentation kernels: codec round trips (PNG exact, JPEG by
// PSNR), a PNG made by another encoder (PIL), flags and channel order, corrupt input, resize
// against a direct bilinear formula, crops, flips, colour ops, tensor conversion, normalize.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/io/image.h"
#include "mixnet/op/random.h"

namespace mixnet::io {
namespace {

/*! \brief A smooth h x w x c test pattern (JPEG-friendly), distinct per channel. */
Image Pattern(int64_t h, int64_t w, int64_t c) {
  Image img(h, w, c);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k)
        img.Pixel(y, x)[k] = static_cast<uint8_t>((x * 2 + y * 3 + k * 30) % 256);
  return img;
}

double Psnr(const Image& a, const Image& b) {
  double mse = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    const double d = double(a.data[i]) - double(b.data[i]);
    mse += d * d;
  }
  mse /= static_cast<double>(a.data.size());
  return mse == 0 ? 99 : 10 * std::log10(255.0 * 255.0 / mse);
}

TEST(IoImage, PngRoundTripIsExact) {
  for (int64_t c : {1, 3, 4}) {
    Image img = Pattern(13, 17, c);
    std::vector<uint8_t> png = ImEncode(img, ".png");
    Image back = ImDecode(png, -1);
    EXPECT_EQ(back.height, 13);
    EXPECT_EQ(back.width, 17);
    ASSERT_EQ(back.channels, c);
    EXPECT_EQ(back.data, img.data) << c << " channels";
  }
}

TEST(IoImage, JpegRoundTripWithinPsnr) {
  Image img = Pattern(32, 48, 3);
  for (bool rgb : {true, false}) {
    Image back = ImDecode(ImEncode(img, ".jpg", 95, rgb), 1, rgb);
    ASSERT_EQ(back.channels, 3);
    ASSERT_EQ(back.height, 32);
    EXPECT_GT(Psnr(img, back), 30.0);
  }
  // Lower quality: smaller file, lower PSNR.
  EXPECT_LT(ImEncode(img, ".jpeg", 20).size(), ImEncode(img, ".jpg", 95).size());
  Image grey = Pattern(16, 16, 1);
  Image back = ImDecode(ImEncode(grey, ".jpg", 95), -1);
  ASSERT_EQ(back.channels, 1);
  EXPECT_GT(Psnr(grey, back), 30.0);
}

TEST(IoImage, DecodesAnotherEncodersPng) {
  // PIL: Image.frombytes('RGB', (2, 1), bytes([255, 0, 0, 0, 0, 255])).save(f, 'PNG')
  const std::vector<uint8_t> png = {
      0x89, 0x50, 0x4e, 0x47, 0xd,  0xa,  0x1a, 0xa,  0x0,  0x0,  0x0,  0xd,  0x49, 0x48, 0x44,
      0x52, 0x0,  0x0,  0x0,  0x2,  0x0,  0x0,  0x0,  0x1,  0x8,  0x2,  0x0,  0x0,  0x0,  0x7b,
      0x40, 0xe8, 0xdd, 0x0,  0x0,  0x0,  0xf,  0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
      0xcf, 0xc0, 0xc0, 0xc0, 0xf0, 0x1f, 0x0,  0x7,  0x0,  0x1,  0xff, 0x7e, 0x8,  0xb1, 0xd0,
      0x0,  0x0,  0x0,  0x0,  0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  Image rgb = ImDecode(png, 1, true);
  EXPECT_EQ(rgb.data, (std::vector<uint8_t>{255, 0, 0, 0, 0, 255}));
  Image bgr = ImDecode(png, 1, false);
  EXPECT_EQ(bgr.data, (std::vector<uint8_t>{0, 0, 255, 255, 0, 0}));
  Image grey = ImDecode(png, 0);
  ASSERT_EQ(grey.channels, 1);
  ASSERT_EQ(grey.data.size(), 2u);
  EXPECT_EQ(grey.data[0], 76);  // 0.299 * 255, OpenCV's grey weights
  EXPECT_EQ(grey.data[1], 29);  // 0.114 * 255
}

TEST(IoImage, FlagsConvertChannels) {
  Image grey = Pattern(5, 6, 1);
  Image as_colour = ImDecode(ImEncode(grey, ".png"), 1);
  ASSERT_EQ(as_colour.channels, 3);
  for (int64_t i = 0; i < 30; ++i) {
    EXPECT_EQ(as_colour.data[i * 3], grey.data[i]);
    EXPECT_EQ(as_colour.data[i * 3 + 2], grey.data[i]);
  }
  Image colour = Pattern(5, 6, 3);
  EXPECT_EQ(ImDecode(ImEncode(colour, ".jpg"), 0).channels, 1);
  EXPECT_EQ(ImDecode(ImEncode(colour, ".png"), -1).channels, 3);
  EXPECT_EQ(ImDecode(ImEncode(Pattern(5, 6, 4), ".png"), 1).channels, 3);
  EXPECT_THROW(ImDecode(ImEncode(colour, ".png"), 2), ValueError);
}

TEST(IoImage, CorruptInputThrowsClearly) {
  Image img = Pattern(20, 20, 3);
  std::vector<uint8_t> png = ImEncode(img, ".png"), jpg = ImEncode(img, ".jpg");
  EXPECT_THROW(ImDecode(std::vector<uint8_t>{}), ValueError);
  EXPECT_THROW(ImDecode(std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}), ValueError);
  EXPECT_THROW(ImDecode(std::span(png).first(png.size() / 2)), ValueError);
  EXPECT_THROW(ImDecode(std::span(png).first(12)), ValueError);
  EXPECT_THROW(ImDecode(std::span(jpg).first(10)), ValueError);
  std::vector<uint8_t> bad_png = png;
  bad_png[40] ^= 0xFF;  // inside IDAT: the CRC no longer matches
  EXPECT_THROW(ImDecode(bad_png), ValueError);
  // A truncated JPEG scan decodes partially (as OpenCV) or throws; it never crashes.
  try {
    Image part = ImDecode(std::span(jpg).first(jpg.size() * 2 / 3));
    EXPECT_EQ(part.height, 20);
  } catch (const ValueError&) {
  }
  try {
    ImDecode(std::vector<uint8_t>{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F'});
    ADD_FAILURE() << "a JPEG header alone decoded";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("JPEG"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ImEncode(img, ".bmp"), ValueError);
  EXPECT_THROW(ImEncode(Pattern(4, 4, 2), ".jpg"), ValueError);
}

/*! \brief Bilinear at pixel centres, written directly in 2-D (OpenCV's convention). */
float ReferenceBilinear(const ImageF& src, double fy, double fx, int64_t k) {
  auto clampc = [](double f, int64_t n, int64_t* i0, double* t) {
    f = std::max(0.0, f);
    *i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(f)), n - 1);
    *t = *i0 >= n - 1 ? 0 : f - *i0;
  };
  int64_t y0, x0;
  double ty, tx;
  clampc(fy, src.height, &y0, &ty);
  clampc(fx, src.width, &x0, &tx);
  const int64_t y1 = std::min(y0 + 1, src.height - 1), x1 = std::min(x0 + 1, src.width - 1);
  return static_cast<float>((1 - ty) *
                                ((1 - tx) * src.Pixel(y0, x0)[k] + tx * src.Pixel(y0, x1)[k]) +
                            ty * ((1 - tx) * src.Pixel(y1, x0)[k] + tx * src.Pixel(y1, x1)[k]));
}

TEST(IoImage, BilinearResizeMatchesReference) {
  ImageF src(7, 5, 2);
  for (size_t i = 0; i < src.data.size(); ++i)
    src.data[i] = static_cast<float>((i * 37) % 101);
  for (auto [h, w] : {std::pair<int64_t, int64_t>{14, 10}, {3, 2}, {7, 9}, {1, 1}}) {
    ImageF dst = ImResize(src, w, h, Interp::kBilinear);
    ASSERT_EQ(dst.height, h);
    ASSERT_EQ(dst.width, w);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < 2; ++k) {
          const double fy = (y + 0.5) * src.height / h - 0.5, fx = (x + 0.5) * src.width / w - 0.5;
          EXPECT_NEAR(dst.Pixel(y, x)[k], ReferenceBilinear(src, fy, fx, k), 1e-3)
              << h << "x" << w << " at " << y << "," << x;
        }
  }
  // uint8 rounds the same values; the same size is the identity for every method.
  Image u8 = Pattern(9, 8, 3);
  for (Interp m : {Interp::kNearest, Interp::kBilinear, Interp::kCubic, Interp::kArea})
    EXPECT_EQ(ImResize(u8, 8, 9, m).data, u8.data) << static_cast<int>(m);
  EXPECT_THROW(ImResize(u8, 0, 3), ValueError);
}

TEST(IoImage, AreaAndNearestResize) {
  ImageF src(4, 4, 1);
  for (int i = 0; i < 16; ++i)
    src.data[i] = static_cast<float>(i);
  ImageF area = ImResize(src, 2, 2, Interp::kArea);  // 2x2 block means
  EXPECT_EQ(area.data, (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  ImageF nearest = ImResize(src, 2, 2, Interp::kNearest);
  EXPECT_EQ(nearest.data, (std::vector<float>{0, 2, 8, 10}));
  // Output 3 of 8 samples 1.25: taps 0..3 with OpenCV's cubic coefficients (A = -0.75).
  ImageF cubic = ImResize(src, 8, 8, Interp::kCubic);
  const double A = -0.75, t = 0.25;
  const double c0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  const double c1 = ((A + 2) * t - (A + 3)) * t * t + 1;
  const double c2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  const double along = c1 * 1 + c2 * 2 + (1 - c0 - c1 - c2) * 3;  // the ramp's value at 1.25
  EXPECT_NEAR(cubic.Pixel(3, 3)[0], 4 * along + along, 1e-4);
}

TEST(IoImage, CropAndFlipAreExact) {
  Image img = Pattern(6, 5, 3);
  Image crop = ImCrop(img, 1, 2, 3, 4);
  ASSERT_EQ(crop.height, 4);
  ASSERT_EQ(crop.width, 3);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t k = 0; k < 3; ++k)
        EXPECT_EQ(crop.Pixel(y, x)[k], img.Pixel(y + 2, x + 1)[k]);
  EXPECT_THROW(ImCrop(img, 3, 0, 3, 2), ValueError);
  EXPECT_THROW(ImCrop(img, -1, 0, 2, 2), ValueError);
  Image lr = img, tb = img;
  ImFlip(&lr, true);
  ImFlip(&tb, false);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 5; ++x)
      for (int64_t k = 0; k < 3; ++k) {
        EXPECT_EQ(lr.Pixel(y, x)[k], img.Pixel(y, 4 - x)[k]);
        EXPECT_EQ(tb.Pixel(y, x)[k], img.Pixel(5 - y, x)[k]);
      }
}

TEST(IoImage, ColourOps) {
  ImageF img(2, 2, 3);
  img.data = {10, 20, 30, 40, 50, 60, 200, 100, 0, 5, 5, 5};
  ImageF b = img;
  AdjustColor(&b, ColorOp::kBrightness, 1.5f);
  for (size_t i = 0; i < img.data.size(); ++i)
    EXPECT_FLOAT_EQ(b.data[i], img.data[i] * 1.5f);
  ImageF s = img;
  AdjustColor(&s, ColorOp::kSaturation, 0.0f);  // every pixel becomes its grey level
  for (int64_t i = 0; i < 4; ++i) {
    const float* p = &img.data[i * 3];
    const float grey = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(s.data[i * 3 + k], grey, 1e-4);
  }
  ImageF c = img;
  AdjustColor(&c, ColorOp::kContrast, 0.0f);  // the whole image becomes its mean grey level
  double mean = 0;
  for (int64_t i = 0; i < 4; ++i)
    mean +=
        (0.299 * img.data[i * 3] + 0.587 * img.data[i * 3 + 1] + 0.114 * img.data[i * 3 + 2]) / 4;
  for (float v : c.data)
    EXPECT_NEAR(v, mean, 1e-3);
  ImageF h = img;
  AdjustColor(&h, ColorOp::kHue, 0.0f);  // no rotation: YIQ there and back (3 decimals)
  for (size_t i = 0; i < img.data.size(); ++i)
    EXPECT_NEAR(h.data[i], img.data[i], 0.5);
  Image u8(1, 1, 3);
  u8.data = {200, 100, 0};
  AdjustColor(&u8, ColorOp::kBrightness, 2.0f);  // saturates
  EXPECT_EQ(u8.data, (std::vector<uint8_t>{255, 200, 0}));
  ImageF l = img;
  const float alpha[3] = {1, 0, 0}, eigval[3] = {2, 0, 0},
              eigvec[3][3] = {{1, 0, 0}, {0.5f, 0, 0}, {-1, 0, 0}};
  AddLighting(&l, alpha, eigval, eigvec);
  EXPECT_FLOAT_EQ(l.data[0], 12);
  EXPECT_FLOAT_EQ(l.data[1], 21);
  EXPECT_FLOAT_EQ(l.data[2], 28);
  ImageF grey(1, 1, 1);
  EXPECT_THROW(AdjustColor(&grey, ColorOp::kContrast, 1.0f), ValueError);
}

TEST(IoImage, TensorConversionAndNormalize) {
  Image img = Pattern(2, 3, 3);
  std::vector<float> chw(18);
  HwcToChw(img.data.data(), 2, 3, 3, chw.data());
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 6; ++i)
      EXPECT_FLOAT_EQ(chw[c * 6 + i], img.data[i * 3 + c] / 255.0f);
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  const float mean[] = {1, 2}, stdv[] = {2, 4};
  NormalizeChw(x.data(), 2, 3, mean, stdv);
  EXPECT_EQ(x, (std::vector<float>{0, 0.5f, 1, 0.5f, 0.75f, 1}));
  std::vector<float> y = {1, 3};
  const float one_mean[] = {1}, one_std[] = {2};
  NormalizeChw(y.data(), 2, 1, one_mean, one_std);
  EXPECT_EQ(y, (std::vector<float>{0, 1}));
  const float three[] = {1, 2, 3};
  EXPECT_THROW(NormalizeChw(x.data(), 2, 3, three, stdv), ValueError);
}

TEST(IoImage, RandomDrawsFollowTheSeed) {
  std::vector<double> u = RandomDraws(1000);
  for (double v : u) {
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
  }
  EXPECT_NE(RandomDraws(4), RandomDraws(4));
  op::SeedRandom(7);
  std::vector<double> first = RandomDraws(5, true);
  op::SeedRandom(7);
  EXPECT_EQ(RandomDraws(5, true), first);
  std::vector<double> n = RandomDraws(2000, true);
  double mean = 0;
  for (double v : n)
    mean += v / 2000;
  EXPECT_NEAR(mean, 0, 0.1);
}

}  // namespace
}  // namespace mixnet::io
