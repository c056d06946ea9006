// Random samplers and Dropout: reproducibility under SeedRandom, moments of 1e5 samples within
// about 5 sigma (fixed seeds, so these never flake), parameter errors, and the init ops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

constexpr int64_t kN = 100000;

std::vector<double> Draw(const std::string& op, AttrDict attrs) {
  std::string shape = "(";  // appended piecewise: GCC 12 warns (-Wrestrict) on "(" + ...
  shape += std::to_string(kN);
  shape += ",)";
  attrs.emplace_back("shape", shape);
  attrs.emplace_back("dtype", "float64");
  return Invoke(op, {}, attrs)[0].ToVector<double>();
}

/*! \brief Sample mean and variance within 5 sigma of the distribution's (kurtosis bound k). */
void ExpectMoments(const std::vector<double>& x, double mean, double var, double kurtosis) {
  const double n = static_cast<double>(x.size());
  const double m = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double v = 0;
  for (double e : x)
    v += (e - m) * (e - m);
  v /= n - 1;
  EXPECT_NEAR(m, mean, 5 * std::sqrt(var / n));
  EXPECT_NEAR(v, var, 5 * var * std::sqrt((kurtosis - 1) / n));
}

TEST(OpRandom, SamplerMoments) {
  SeedRandom(42);
  ExpectMoments(Draw("_random_uniform", {{"low", "-1"}, {"high", "3"}}), 1.0, 16.0 / 12, 1.8);
  ExpectMoments(Draw("random_normal", {{"loc", "2"}, {"scale", "0.5"}}), 2.0, 0.25, 3);
  ExpectMoments(Draw("_random_exponential", {{"lam", "4"}}), 0.25, 1.0 / 16, 9);
  ExpectMoments(Draw("_random_gamma", {{"alpha", "3"}, {"beta", "2"}}), 6.0, 12.0, 3 + 6.0 / 3);
  ExpectMoments(Draw("_random_poisson", {{"lam", "3"}}), 3.0, 3.0, 3 + 1.0 / 3);
  const auto ints =
      Invoke("_random_randint", {}, {{"low", "-2"}, {"high", "5"}, {"shape", "(100000,)"}})[0];
  EXPECT_EQ(ints.dtype(), DType::kInt32);
  std::vector<double> xs;
  for (int v : ints.ToVector<int32_t>()) {
    ASSERT_GE(v, -2);
    ASSERT_LT(v, 5);
    xs.push_back(v);
  }
  ExpectMoments(xs, 1.0, (49.0 - 1) / 12, 1.8);  // -2 .. 4
}

TEST(OpRandom, UniformStaysInRangeAndDefaultsToFloat32) {
  SeedRandom(3);
  const auto a = Invoke("uniform", {}, {{"low", "2"}, {"high", "2.5"}, {"shape", "(1000,)"}})[0];
  EXPECT_EQ(a.dtype(), DType::kFloat32);
  for (float v : a.ToVector<float>()) {
    EXPECT_GE(v, 2.0f);
    EXPECT_LE(v, 2.5f);
  }
}

TEST(OpRandom, SeedMakesSequencesReproducible) {
  const AttrDict attrs{{"shape", "(64,)"}};
  auto run = [&](uint64_t seed) {
    SeedRandom(seed);
    auto a = Invoke("_random_normal", {}, attrs)[0].ToVector<float>();
    auto b = Invoke("_random_uniform", {}, attrs)[0].ToVector<float>();
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const auto first = run(7);
  EXPECT_EQ(first, run(7));
  EXPECT_NE(first, run(8));
  // Without reseeding the generator moves on.
  SeedRandom(7);
  const auto a = Invoke("_random_normal", {}, attrs)[0].ToVector<float>();
  const auto b = Invoke("_random_normal", {}, attrs)[0].ToVector<float>();
  EXPECT_NE(a, b);
}

TEST(OpRandom, BadParamsNameOpAndArgument) {
  EXPECT_ERROR(Invoke("_random_uniform", {}, {{"low", "2"}, {"high", "1"}, {"shape", "(2,)"}}),
               ValueError, "_random_uniform", "'low'");
  EXPECT_ERROR(Invoke("_random_normal", {}, {{"scale", "-1"}, {"shape", "(2,)"}}), ValueError,
               "_random_normal", "'scale'");
  EXPECT_ERROR(Invoke("_random_exponential", {}, {{"lam", "0"}, {"shape", "(2,)"}}), ValueError,
               "_random_exponential", "'lam'");
  EXPECT_ERROR(Invoke("_random_gamma", {}, {{"beta", "-2"}, {"shape", "(2,)"}}), ValueError,
               "_random_gamma", "'beta'");
  EXPECT_ERROR(Invoke("_random_randint", {}, {{"low", "3"}, {"high", "3"}, {"shape", "(2,)"}}),
               ValueError, "_random_randint", "'low'");
  EXPECT_ERROR(Invoke("_random_normal", {}, {{"dtype", "int32"}, {"shape", "(2,)"}}), ValueError,
               "_random_normal", "'dtype'");
}

TEST(OpRandom, MultinomialFrequenciesAndLogProb) {
  SeedRandom(11);
  const std::vector<double> p{0.2, 0.5, 0.3, 0.0, 0.7, 0.3};
  const NDArray probs = NDArray::FromVector(p, Shape{2, 3});
  const auto outs = Invoke("_sample_multinomial", std::vector<NDArray>{probs},
                           {{"shape", "(50000,)"}, {"get_prob", "True"}});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].shape(), (Shape{2, 50000}));
  EXPECT_EQ(outs[0].dtype(), DType::kInt32);
  const auto idx = outs[0].ToVector<int32_t>();
  const auto logp = outs[1].ToVector<double>();
  std::vector<double> counts(6, 0);
  for (size_t i = 0; i < idx.size(); ++i) {
    const size_t row = i / 50000;
    counts[row * 3 + static_cast<size_t>(idx[i])] += 1;
    EXPECT_NEAR(logp[i], std::log(p[row * 3 + static_cast<size_t>(idx[i])]), 1e-6);
  }
  for (size_t k = 0; k < 6; ++k) {
    const double sigma = std::sqrt(50000 * p[k] * (1 - p[k]));
    EXPECT_NEAR(counts[k], 50000 * p[k], 5 * sigma + 1e-9) << "category " << k;
  }
  EXPECT_EQ(counts[3], 0);  // zero probability is never drawn
  EXPECT_EQ(
      Invoke("_sample_multinomial", {NDArray::FromVector(std::vector<float>{1.0f}, Shape{1})})[0]
          .shape(),
      (Shape{1}));
}

TEST(OpRandom, ShufflePermutesRows) {
  SeedRandom(5);
  std::vector<float> v(20 * 3);
  std::iota(v.begin(), v.end(), 0.0f);
  const NDArray x = NDArray::FromVector(v, Shape{20, 3});
  const auto y = Invoke("shuffle", {x})[0].ToVector<float>();
  EXPECT_NE(y, v);
  std::vector<float> firsts;
  for (size_t r = 0; r < 20; ++r) {
    EXPECT_EQ(y[r * 3 + 1], y[r * 3] + 1);  // rows move whole
    EXPECT_EQ(y[r * 3 + 2], y[r * 3] + 2);
    firsts.push_back(y[r * 3]);
  }
  std::sort(firsts.begin(), firsts.end());
  for (size_t r = 0; r < 20; ++r)
    EXPECT_EQ(firsts[r], 3.0f * static_cast<float>(r));
}

TEST(OpDropout, TrainingZeroesAndScales) {
  SeedRandom(9);
  const NDArray x = NDArray::Full(Shape{kN}, 2.0, DType::kFloat64);
  const AttrDict attrs{{"p", "0.25"}};
  const auto outs =
      Invoke("Dropout", std::span<const NDArray>(&x, 1), attrs, {}, {.is_train = true});
  const auto y = outs[0].ToVector<double>();
  const auto mask = outs[1].ToVector<double>();
  double kept = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_TRUE(mask[i] == 0 || std::abs(mask[i] - 1 / 0.75) < 1e-12);
    EXPECT_DOUBLE_EQ(y[i], 2.0 * mask[i]);
    kept += mask[i] != 0;
  }
  EXPECT_NEAR(kept / kN, 0.75, 5 * std::sqrt(0.75 * 0.25 / kN));
  // Not training: the identity with a mask of ones; mode='always' drops anyway.
  const auto id = Invoke("Dropout", std::span<const NDArray>(&x, 1), attrs);
  EXPECT_EQ(id[0].ToVector<double>(), x.ToVector<double>());
  EXPECT_EQ(id[1].ToVector<double>(), std::vector<double>(kN, 1.0));
  const auto always =
      Invoke("Dropout", std::span<const NDArray>(&x, 1), {{"p", "0.25"}, {"mode", "always"}});
  const auto ya = always[0].ToVector<double>();
  EXPECT_GT(std::count(ya.begin(), ya.end(), 0.0), kN / 5);
}

TEST(OpDropout, AxesShareTheMask) {
  SeedRandom(10);
  const NDArray x = NDArray::Full(Shape{4, 50, 3}, 1.0);
  const auto outs = Invoke("Dropout", std::span<const NDArray>(&x, 1),
                           {{"p", "0.5"}, {"axes", "(1,)"}}, {}, {.is_train = true});
  EXPECT_EQ(outs[1].shape(), (Shape{4, 1, 3}));
  const auto y = outs[0].ToVector<float>();
  const auto mask = outs[1].ToVector<float>();
  for (size_t a = 0; a < 4; ++a)
    for (size_t b = 0; b < 50; ++b)
      for (size_t c = 0; c < 3; ++c)
        EXPECT_EQ(y[(a * 50 + b) * 3 + c], mask[a * 3 + c]);
  EXPECT_ERROR(Invoke("Dropout", std::span<const NDArray>(&x, 1), {{"axes", "(3,)"}}), ValueError,
               "Dropout", "'axes'");
}

TEST(OpDropout, GradientIsHeadTimesMask) {
  SeedRandom(12);
  const NDArray x = NDArray::FromVector(std::vector<double>(1000, 1.5), Shape{1000});
  const auto outs =
      Invoke("Dropout", std::span<const NDArray>(&x, 1), {{"p", "0.5"}}, {}, {.is_train = true});
  const NDArray dy = NDArray::Full(Shape{1000}, 3.0, DType::kFloat64);
  EagerGradBuilder g;
  const GValue in = g.Add(x), y = g.Add(outs[0]), mask = g.Add(outs[1]), head = g.Add(dy);
  const OpDef& def = Registry::Get("Dropout");
  const GValue outs_v[] = {y, mask}, heads[] = {head, GValue{}};
  const auto grads =
      def.gradient(g, def.ParseAttrs({{"p", "0.5"}}), std::span(&in, 1), outs_v, heads);
  const auto dx = g.Get(grads[0]).ToVector<double>();
  const auto m = outs[1].ToVector<double>();
  for (size_t i = 0; i < dx.size(); ++i)
    EXPECT_DOUBLE_EQ(dx[i], 3.0 * m[i]);
}

TEST(OpInit, FillArangeEyeAndCtx) {
  EXPECT_EQ(Invoke("zeros", {}, {{"shape", "(2, 2)"}, {"ctx", "cpu(0)"}})[0].ToVector<float>(),
            std::vector<float>(4, 0.0f));
  EXPECT_EQ(Invoke("_full", {}, {{"shape", "(3,)"}, {"value", "4"}, {"dtype", "int64"}})[0]
                .ToVector<int64_t>(),
            (std::vector<int64_t>{4, 4, 4}));
  EXPECT_EQ(Invoke("_arange", {}, {{"start", "2"}, {"stop", "5"}})[0].ToVector<float>(),
            (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(Invoke("_arange", {}, {{"start", "4"}, {"stop", "1"}})[0].Size(), 0);
  EXPECT_EQ(Invoke("_eye", {}, {{"N", "2"}})[0].ToVector<float>(),
            (std::vector<float>{1, 0, 0, 1}));
  EXPECT_ERROR(Invoke("_arange", {}, {{"start", "1"}, {"step", "0"}}), ValueError, "_arange",
               "'step'");
  EXPECT_ERROR(Invoke("_full", {}, {{"shape", "(2,)"}}), ValueError, "_full", "'value'");
}

}  // namespace
}  // namespace mixnet::op
