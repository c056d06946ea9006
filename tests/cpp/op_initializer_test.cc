// mx.init initializers: constants exactly, random ones by moments of many draws with fixed
// seeds (about 5 sigma, so these never flake) and reproducibility, Xavier's scale per
// factor_type, Orthogonal's W Wᵀ = scale² I, Bilinear against hand-computed kernels, LSTMBias
// layout, Mixed dispatch and MXNet's name rules.
#include "mixnet/initializer/initializer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "mixnet/op/random.h"
#include "test_util.h"

namespace mixnet::init {
namespace {

std::vector<double> Values(const NDArray& a) {
  const std::vector<float> v = a.ToVector<float>();
  return {v.begin(), v.end()};
}

std::vector<double> Init(const Initializer& init, const std::string& name, const Shape& shape) {
  NDArray a = NDArray::Full(shape, -7.0);
  init(name, &a);
  return Values(a);
}

struct Moments {
  double mean, var, max_abs;
};

Moments Stats(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  const double m = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double v = 0, mx = 0;
  for (double e : x) {
    v += (e - m) * (e - m);
    mx = std::max(mx, std::fabs(e));
  }
  return {m, v / (n - 1), mx};
}

/*! \brief Mean 0 and variance `var` within 5 sigma (kurtosis 1.8 uniform, 3 normal). */
void ExpectMoments(const std::vector<double>& x, double var, double kurtosis) {
  const double n = static_cast<double>(x.size());
  const Moments s = Stats(x);
  EXPECT_NEAR(s.mean, 0.0, 5 * std::sqrt(var / n));
  EXPECT_NEAR(s.var, var, 5 * var * std::sqrt((kurtosis - 1) / n));
}

/*! \brief U(-s, s): within the range, reaching close to its ends, with s²/3 variance. */
void ExpectUniform(const std::vector<double>& x, double s) {
  const Moments m = Stats(x);
  EXPECT_LE(m.max_abs, s * (1 + 1e-6));
  EXPECT_GE(m.max_abs, s * 0.99);
  ExpectMoments(x, s * s / 3, 1.8);
}

TEST(OpInitializer, Constants) {
  const Shape shape{3, 4};
  EXPECT_EQ(Init(Zero(), "fc_weight", shape), std::vector<double>(12, 0.0));
  EXPECT_EQ(Init(One(), "fc_weight", shape), std::vector<double>(12, 1.0));
  EXPECT_EQ(Init(Constant(2.5), "fc_weight", shape), std::vector<double>(12, 2.5));
  const std::vector<float> eye = {1, 0, 0, 1};
  EXPECT_EQ(Init(Constant(NDArray::FromVector(eye, {2, 2})), "w_weight", {2, 2}),
            (std::vector<double>{1, 0, 0, 1}));
  EXPECT_ERROR(Init(Constant(NDArray::FromVector(eye, {2, 2})), "w_weight", {4}), ValueError,
               "Constant", "w_weight", "(4,)", "(2, 2)");
  // float64 arrays too.
  NDArray d = NDArray::Zeros({5}, DType::kFloat64);
  Constant(-1.25)("x_weight", &d);
  EXPECT_EQ(d.ToVector<double>(), std::vector<double>(5, -1.25));
}

TEST(OpInitializer, NameRules) {
  const Constant c(3);
  const Shape s{4};
  EXPECT_EQ(Init(c, "conv0_weight", s), std::vector<double>(4, 3.0));
  EXPECT_EQ(Init(c, "conv0_bias", s), std::vector<double>(4, 0.0));
  EXPECT_EQ(Init(c, "bn0_gamma", s), std::vector<double>(4, 1.0));
  EXPECT_EQ(Init(c, "bn0_beta", s), std::vector<double>(4, 0.0));
  EXPECT_EQ(Init(c, "bn0_moving_mean", s), std::vector<double>(4, 0.0));
  EXPECT_EQ(Init(c, "bn0_moving_var", s), std::vector<double>(4, 1.0));
  EXPECT_EQ(Init(c, "bn0_moving_inv_var", s), std::vector<double>(4, 0.0));
  EXPECT_EQ(Init(c, "bn0_moving_avg", s), std::vector<double>(4, 0.0));
  // MXNet's prefixes: spatial transformer location and upsampling layers.
  EXPECT_EQ(Init(c, "stn_loc_weight", s), std::vector<double>(4, 0.0));
  EXPECT_EQ(Init(c, "stn_loc_bias", {6}), (std::vector<double>{1, 0, 0, 0, 1, 0}));
  EXPECT_ERROR(Init(c, "stn_loc_bias", s), ValueError, "stn_loc_bias", "(4,)");
  EXPECT_EQ(Init(c, "upsampling0_weight", {1, 1, 2, 2}), Bilinear::Kernel("k", {1, 1, 2, 2}));
  EXPECT_ERROR(Init(c, "fc0_scale", s), ValueError, "Constant(value=3)", "fc0_scale", "(4,)");
  // The weight rule applies directly whatever the name.
  NDArray a = NDArray::Zeros(s);
  c.InitWeight("anything", a);
  EXPECT_EQ(Values(a), std::vector<double>(4, 3.0));
}

TEST(OpInitializer, UniformAndNormal) {
  op::SeedRandom(11);
  ExpectUniform(Init(Uniform(), "w_weight", {200, 500}), 0.07);
  ExpectUniform(Init(Uniform(0.5), "w_weight", {200, 500}), 0.5);
  ExpectMoments(Init(Normal(), "w_weight", {200, 500}), 0.01 * 0.01, 3);
  ExpectMoments(Init(Normal(2.0), "w_weight", {200, 500}), 4.0, 3);
  // Bias still zero for a random initializer.
  EXPECT_EQ(Init(Uniform(), "w_bias", {3}), std::vector<double>(3, 0.0));
}

TEST(OpInitializer, Reproducible) {
  const Xavier x("gaussian");
  const Orthogonal o;
  op::SeedRandom(5);
  const auto u1 = Init(Uniform(), "w_weight", {10, 10});
  const auto x1 = Init(x, "w_weight", {10, 10});
  const auto o1 = Init(o, "w_weight", {4, 6});
  op::SeedRandom(5);
  EXPECT_EQ(Init(Uniform(), "w_weight", {10, 10}), u1);
  EXPECT_EQ(Init(x, "w_weight", {10, 10}), x1);
  EXPECT_EQ(Init(o, "w_weight", {4, 6}), o1);
  op::SeedRandom(6);
  EXPECT_NE(Init(Uniform(), "w_weight", {10, 10}), u1);
}

TEST(OpInitializer, XavierScale) {
  op::SeedRandom(3);
  const Shape shape{64, 32, 3, 3};  // fan_in 32*9 = 288, fan_out 64*9 = 576
  const double fan_in = 288, fan_out = 576;
  struct Case {
    const char* factor;
    double factor_value;
  };
  for (const Case& c :
       {Case{"avg", (fan_in + fan_out) / 2}, Case{"in", fan_in}, Case{"out", fan_out}}) {
    SCOPED_TRACE(c.factor);
    const Xavier u("uniform", c.factor, 3);
    EXPECT_DOUBLE_EQ(u.Scale("w", shape), std::sqrt(3 / c.factor_value));
    ExpectUniform(Init(u, "conv_weight", shape), std::sqrt(3 / c.factor_value));
    const Xavier g("gaussian", c.factor, 2);
    ExpectMoments(Init(g, "conv_weight", shape), 2 / c.factor_value, 3);
  }
  // 2-D: no spatial factor.
  EXPECT_DOUBLE_EQ(Xavier().Scale("w", {10, 30}), std::sqrt(3 / 20.0));
  // MSRAPrelu: gaussian with magnitude 2 / (1 + slope²).
  const MSRAPrelu msra("in", 0.5);
  EXPECT_DOUBLE_EQ(msra.Scale("w", shape), std::sqrt(2 / 1.25 / fan_in));
  ExpectMoments(Init(msra, "conv_weight", shape), 2 / 1.25 / fan_in, 3);
  EXPECT_ERROR(Init(Xavier(), "fc_weight", {5}), ValueError, "Xavier", "fc_weight", "(5,)",
               "2 dimensions");
  EXPECT_ERROR(Xavier("normal"), ValueError, "rnd_type", "normal");
  EXPECT_ERROR(Xavier("uniform", "sum"), ValueError, "factor_type", "sum");
}

/*! \brief W Wᵀ (rows) or Wᵀ W (columns) of a (m, n) matrix equals scale² I. */
void ExpectOrthogonal(const std::vector<double>& w, int64_t m, int64_t n, bool rows, double scale) {
  const int64_t k = rows ? m : n, len = rows ? n : m;
  auto at = [&](int64_t vec, int64_t t) { return rows ? w[vec * n + t] : w[t * n + vec]; };
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      double dot = 0;
      for (int64_t t = 0; t < len; ++t)
        dot += at(i, t) * at(j, t);
      EXPECT_NEAR(dot, i == j ? scale * scale : 0.0, 1e-5) << i << ", " << j;
    }
  }
}

TEST(OpInitializer, Orthogonal) {
  op::SeedRandom(9);
  ExpectOrthogonal(Init(Orthogonal(), "w_weight", {3, 8}), 3, 8, true, 1.414);
  ExpectOrthogonal(Init(Orthogonal(0.5, "normal"), "w_weight", {6, 6}), 6, 6, true, 0.5);
  // More rows than columns (after flattening (2, 2)): orthonormal columns.
  ExpectOrthogonal(Init(Orthogonal(2.0), "w_weight", {8, 2, 2}), 8, 4, false, 2.0);
  EXPECT_ERROR(Orthogonal(1.0, "gaussian"), ValueError, "rand_type", "gaussian");
}

TEST(OpInitializer, Bilinear) {
  // 4x4: f = 2, c = 0.75, per-axis factors 0.25, 0.75, 0.75, 0.25.
  const std::vector<double> a4 = {0.25, 0.75, 0.75, 0.25};
  std::vector<double> want;
  for (int ch = 0; ch < 2; ++ch)
    for (double y : a4)
      for (double x : a4)
        want.push_back(x * y);
  testing_util::ExpectNear(Init(Bilinear(), "up_weight", {2, 1, 4, 4}), want, 1e-7);
  // 3 wide, 2 high: f = 2, c = 0.75; x factors 0.25, 0.75, 0.75, y factors 0.25, 0.75.
  testing_util::ExpectNear(Init(Bilinear(), "up_weight", {1, 1, 2, 3}),
                           {0.0625, 0.1875, 0.1875, 0.1875, 0.5625, 0.5625}, 1e-7);
  // 5 wide: f = 3, c = (6 - 1 - 1) / 6 = 2/3; x/f - c = -2/3, -1/3, 0, 1/3, 2/3.
  const std::vector<double> k5 = Bilinear::Kernel("k", {1, 1, 1, 5});
  testing_util::ExpectNear(k5, {1.0 / 9, 2.0 / 9, 1.0 / 3, 2.0 / 9, 1.0 / 9}, 1e-12);
  EXPECT_ERROR(Init(Bilinear(), "up_weight", {4, 4, 4}), ValueError, "Bilinear", "up_weight",
               "(4, 4, 4)");
}

TEST(OpInitializer, LSTMBias) {
  NDArray b = NDArray::Full({12}, -3.0);
  LSTMBias(1.5).InitWeight("lstm0_i2h_bias", b);
  EXPECT_EQ(Values(b), (std::vector<double>{0, 0, 0, 1.5, 1.5, 1.5, 0, 0, 0, 0, 0, 0}));
  // By name, a bias is a bias (MXNet's rule): zeros.
  EXPECT_EQ(Init(LSTMBias(), "lstm0_h2h_bias", {8}), std::vector<double>(8, 0.0));
  EXPECT_EQ(Init(LSTMBias(), "lstm0_weight", {8}), (std::vector<double>{0, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(OpInitializer, Mixed) {
  const Mixed mixed(
      {"bias", ".*_special", ".*"},
      {std::make_shared<Constant>(4.0), std::make_shared<One>(), std::make_shared<Constant>(2.0)});
  // Matched at the start of the name (re.match): "bias_weight" takes the first initializer.
  EXPECT_EQ(Init(mixed, "bias_weight", {2}), std::vector<double>(2, 4.0));
  EXPECT_EQ(Init(mixed, "fc_special_weight", {2}), std::vector<double>(2, 1.0));
  // The chosen initializer still applies its name rules: a bias is zero.
  EXPECT_EQ(Init(mixed, "fc_bias", {2}), std::vector<double>(2, 0.0));
  EXPECT_EQ(Init(mixed, "fc_weight", {2}), std::vector<double>(2, 2.0));
  NDArray a = NDArray::Zeros({2});
  mixed.InitWeight("fc_bias", a);
  EXPECT_EQ(Values(a), std::vector<double>(2, 2.0));

  const Mixed only_bias({"fc.*_bias$"}, {std::make_shared<Zero>()});
  EXPECT_EQ(Init(only_bias, "fc1_bias", {2}), std::vector<double>(2, 0.0));
  EXPECT_ERROR(Init(only_bias, "fc1_weight", {2}), ValueError, "fc1_weight", "did not match");
  EXPECT_ERROR(Mixed({"a", "b"}, {std::make_shared<Zero>()}), ValueError, "2 patterns");
  EXPECT_ERROR(Mixed({"("}, {std::make_shared<Zero>()}), ValueError, "bad pattern");
  EXPECT_EQ(only_bias.ToString(), "Mixed(\"fc.*_bias$\": Zero())");
}

}  // namespace
}  // namespace mixnet::init
