// gluon.data.vision.transforms' C++ blocks: values against hand computations, reprs, Resize's
// shapes, a Compose of them eager == hybridized (with input gradients), seeded random flips.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "gluon_check.h"
#include "mixnet/gluon/transforms.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"

namespace mixnet::gluon::transforms {
namespace {

/*! \brief An HWC image with values 0, 1, 2, ... in `dtype`. */
NDArray IotaImage(const Shape& s, DType dtype) {
  std::vector<float> v(static_cast<size_t>(s.Size()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i);
  return op::Invoke("Cast", {NDArray::FromVector<float>(v, s)}, {{"dtype", DTypeName(dtype)}})[0];
}

TEST(GluonTransformsTest, ToTensorThenNormalize) {
  const NDArray img = IotaImage(Shape{2, 3, 2}, DType::kUint8);  // H=2, W=3, C=2
  ToTensor to_tensor;
  const NDArray t = to_tensor(img);
  ASSERT_EQ(t.shape(), (Shape{2, 2, 3}));
  ASSERT_EQ(t.dtype(), DType::kFloat32);
  const std::vector<float> got = t.ToVector<float>();
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < 6; ++i)
      EXPECT_FLOAT_EQ(got[c * 6 + i], static_cast<float>(i * 2 + c) / 255.0f);
  Normalize norm({0.5, 0.25}, {2.0, 0.5});
  const std::vector<float> n = norm(t).ToVector<float>();
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < 6; ++i)
      EXPECT_NEAR(n[c * 6 + i], (got[c * 6 + i] - (c ? 0.25f : 0.5f)) / (c ? 0.5f : 2.0f), 1e-6);
  EXPECT_EQ(norm.Repr(), "Normalize(mean=(0.5, 0.25), std=(2.0, 0.5))");
  EXPECT_THROW(Normalize({0.1, 0.2, 0.3}, {1.0})(t), ValueError);  // 3 means, 2 channels
}

TEST(GluonTransformsTest, CastAndFlips) {
  const NDArray img = IotaImage(Shape{2, 3, 1}, DType::kUint8);
  EXPECT_EQ(Cast("float16")(img).dtype(), DType::kFloat16);
  EXPECT_EQ(Cast().Repr(), "Cast(dtype=float32)");
  // Seeded: the same draws give the same flips, and both outcomes occur.
  auto draws = [&] {
    std::vector<bool> flipped;
    RandomFlipLeftRight flip;
    for (int i = 0; i < 20; ++i)
      flipped.push_back(flip(img).ToVector<uint8_t>()[0] == 2);  // row 0 reversed
    return flipped;
  };
  op::SeedRandom(7);
  const std::vector<bool> a = draws();
  op::SeedRandom(7);
  EXPECT_EQ(draws(), a);
  EXPECT_NE(std::count(a.begin(), a.end(), true), 0);
  EXPECT_NE(std::count(a.begin(), a.end(), false), 0);
  Resize resize({2}, true, 0);  // the short edge (H=2) stays 2: W stays 3
  EXPECT_EQ(resize(img).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(Resize({6, 4})(img).shape(), (Shape{4, 6, 1}));
  EXPECT_EQ(resize.Repr(), "Resize(size=2, keep_ratio=True, interpolation=0)");
  RandomFlipTopBottom tb;
  for (int i = 0; i < 10; ++i) {
    const uint8_t first = tb(img).ToVector<uint8_t>()[0];
    EXPECT_TRUE(first == 0 || first == 3) << int(first);
  }
}

TEST(GluonTransformsTest, ComposeHybridizesLikeEager) {
  auto compose = std::make_shared<Compose>();
  compose->Add(std::make_shared<ToTensor>());
  compose->Add(std::make_shared<Normalize>(std::vector<double>{0.1, 0.2, 0.3},
                                           std::vector<double>{0.5, 1.0, 2.0}));
  EXPECT_EQ(compose->Repr(),
            "Compose(\n  (0): ToTensor(\n  \n  )\n  (1): Normalize(mean=(0.1, 0.2, 0.3), "
            "std=(0.5, 1.0, 2.0))\n)");
  // A float NHWC batch: the input gradient (channels-last dy / std / 255) is checked too.
  const NDArray batch = IotaImage(Shape{2, 4, 3, 3}, DType::kFloat32);
  test::ExpectHybridMatchesEager(*compose, {batch});
}

}  // namespace
}  // namespace mixnet::gluon::transforms
