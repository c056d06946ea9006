// Optimizer update ops against hand-written double loops of MXNet 1.9's formulas, over several
// steps with out=weight, checking that the states are updated in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

using Vec = std::vector<double>;

double Clip(double x, double c) {
  return c < 0 ? x : std::clamp(x, -c, c);
}
double Sign(double x) {
  return (x > 0) - (x < 0);
}

/*! \brief One element's step: updates w and the states s. */
using Step = std::function<void(double& w, double g, Vec& s)>;

/*! \brief Runs `op` for 4 steps in float64 and compares weight and states with `step`. */
void CheckUpdate(const char* op, const AttrDict& attrs,
                 std::vector<std::pair<double, double>> states, const Step& step) {
  SCOPED_TRACE(op);
  constexpr size_t kSize = 7;
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> unit(-1, 1);
  Vec w(kSize);
  for (double& x : w)
    x = unit(rng);
  std::vector<Vec> s(states.size(), Vec(kSize));
  for (size_t k = 0; k < states.size(); ++k) {
    std::uniform_real_distribution<double> d(states[k].first, states[k].second);
    for (double& x : s[k])
      x = d(rng);
  }
  const Shape shape{static_cast<int64_t>(kSize)};
  NDArray weight = NDArray::FromVector(w, shape);
  std::vector<NDArray> state_arrays;
  for (const Vec& v : s)
    state_arrays.push_back(NDArray::FromVector(v, shape));
  for (int t = 0; t < 4; ++t) {
    Vec g(kSize);
    for (double& x : g)
      x = 2 * unit(rng);
    std::vector<NDArray> in{weight, NDArray::FromVector(g, shape)};
    in.insert(in.end(), state_arrays.begin(), state_arrays.end());
    Invoke(op, in, attrs, std::span<const NDArray>(&weight, 1));
    for (size_t i = 0; i < kSize; ++i) {
      Vec si;
      for (const Vec& v : s)
        si.push_back(v[i]);
      step(w[i], g[i], si);
      for (size_t k = 0; k < s.size(); ++k)
        s[k][i] = si[k];
    }
    const auto got = weight.ToVector<double>();
    for (size_t i = 0; i < kSize; ++i)
      ASSERT_NEAR(got[i], w[i], 1e-12 * (1 + std::abs(w[i]))) << "weight, step " << t;
    for (size_t k = 0; k < s.size(); ++k) {
      const auto st = state_arrays[k].ToVector<double>();
      for (size_t i = 0; i < kSize; ++i)
        ASSERT_NEAR(st[i], s[k][i], 1e-12 * (1 + std::abs(s[k][i])))
            << "state " << k << ", step " << t;
    }
  }
}

const std::pair<double, double> kAny{-1, 1}, kPositive{0.1, 1};

TEST(OpOptimizer, SgdFamily) {
  CheckUpdate(
      "sgd_update",
      {{"lr", "0.1"}, {"wd", "0.01"}, {"rescale_grad", "0.5"}, {"clip_gradient", "0.3"}}, {},
      [](double& w, double g, Vec&) { w = (1 - 0.1 * 0.01) * w - 0.1 * Clip(0.5 * g, 0.3); });
  CheckUpdate("sgd_mom_update", {{"lr", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}}, {kAny},
              [](double& w, double g, Vec& s) {
                s[0] = 0.9 * s[0] - 0.1 * 0.01 * w - 0.1 * g;
                w += s[0];
              });
  CheckUpdate("nag_mom_update",
              {{"lr", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}, {"clip_gradient", "1"}}, {kAny},
              [](double& w, double g, Vec& s) {
                const double gr = Clip(g, 1) + 0.01 * w;
                s[0] = 0.9 * s[0] + gr;
                w -= 0.1 * (0.9 * s[0] + gr);
              });
  CheckUpdate("signsgd_update", {{"lr", "0.1"}, {"wd", "0.2"}}, {},
              [](double& w, double g, Vec&) { w = (1 - 0.02) * w - 0.1 * Sign(g); });
  CheckUpdate("signum_update",
              {{"lr", "0.1"}, {"momentum", "0.9"}, {"wd", "0.1"}, {"wd_lh", "0.05"}}, {kAny},
              [](double& w, double g, Vec& s) {
                s[0] = 0.9 * s[0] - 0.1 * 0.1 * w - 0.1 * g;
                w = (1 - 0.1 * 0.05) * w + 0.1 * Sign(s[0]);
              });
}

TEST(OpOptimizer, AdaptiveFamily) {
  CheckUpdate("adam_update",
              {{"lr", "0.01"}, {"wd", "0.1"}, {"beta1", "0.8"}, {"clip_gradient", "1.5"}},
              {kAny, kPositive}, [](double& w, double g, Vec& s) {
                const double gr = Clip(g + 0.1 * w, 1.5);
                s[0] = 0.8 * s[0] + 0.2 * gr;
                s[1] = 0.999 * s[1] + 0.001 * gr * gr;
                w -= 0.01 * s[0] / (std::sqrt(s[1]) + 1e-8);
              });
  CheckUpdate("rmsprop_update",
              {{"lr", "0.01"}, {"gamma1", "0.9"}, {"wd", "0.1"}, {"clip_weights", "0.95"}},
              {kPositive}, [](double& w, double g, Vec& s) {
                const double gr = g + 0.1 * w;
                s[0] = 0.1 * gr * gr + 0.9 * s[0];
                w = Clip(w - 0.01 * gr / std::sqrt(s[0] + 1e-8), 0.95);
              });
  CheckUpdate("rmspropalex_update", {{"lr", "0.01"}}, {{1, 2}, {-0.5, 0.5}, kAny},
              [](double& w, double g, Vec& s) {
                s[0] = 0.05 * g * g + 0.95 * s[0];
                s[1] = 0.05 * g + 0.95 * s[1];
                s[2] = 0.9 * s[2] - 0.01 * g / std::sqrt(s[0] - s[1] * s[1] + 1e-8);
                w += s[2];
              });
  CheckUpdate("ftrl_update", {{"lr", "0.1"}, {"lamda1", "0.05"}, {"beta", "0.5"}, {"wd", "0.01"}},
              {kAny, kPositive}, [](double& w, double g, Vec& s) {
                s[0] += g - (std::sqrt(s[1] + g * g) - std::sqrt(s[1])) * w / 0.1;
                s[1] += g * g;
                w = std::abs(s[0]) > 0.05
                        ? (Sign(s[0]) * 0.05 - s[0]) / ((0.5 + std::sqrt(s[1])) / 0.1 + 0.01)
                        : 0;
              });
  CheckUpdate("lamb_update_phase1", {{"t", "3"}, {"wd", "0.1"}, {"rescale_grad", "0.5"}},
              {kAny, kPositive}, [](double& w, double g, Vec& s) {
                const double gr = 0.5 * g;
                s[0] = 0.9 * s[0] + 0.1 * gr;
                s[1] = 0.999 * s[1] + 0.001 * gr * gr;
                const double m = s[0] / (1 - std::pow(0.9, 3)), v = s[1] / (1 - std::pow(0.999, 3));
                w = m / (std::sqrt(v) + 1e-6) + 0.1 * w;  // phase 1 outputs the direction
              });
}

TEST(OpOptimizer, AdamWSkipsOnBadScale) {
  const Shape shape{3};
  NDArray w = NDArray::FromVector(Vec{0.5, -0.25, 1}, shape);
  const NDArray g = NDArray::FromVector(Vec{0.1, 0.2, -0.3}, shape);
  NDArray mean = NDArray::FromVector(Vec{0, 0.1, 0}, shape),
          var = NDArray::FromVector(Vec{0.1, 0.2, 0.3}, shape);
  const AttrDict attrs{{"lr", "0.01"}, {"eta", "0.5"}, {"wd", "0.1"}, {"clip_gradient", "0.15"}};
  Invoke("adamw_update",
         std::vector<NDArray>{w, g, mean, var, NDArray::FromVector(Vec{2.0}, Shape{1})}, attrs,
         std::span<const NDArray>(&w, 1));
  const Vec w0{0.5, -0.25, 1}, g0{0.1, 0.2, -0.3}, m0{0, 0.1, 0}, v0{0.1, 0.2, 0.3};
  const auto got_w = w.ToVector<double>(), got_m = mean.ToVector<double>(),
             got_v = var.ToVector<double>();
  for (size_t i = 0; i < 3; ++i) {
    const double gr = Clip(2 * g0[i], 0.15);
    const double m = 0.9 * m0[i] + 0.1 * gr, v = 0.999 * v0[i] + 0.001 * gr * gr;
    EXPECT_NEAR(got_m[i], m, 1e-15);
    EXPECT_NEAR(got_v[i], v, 1e-15);
    EXPECT_NEAR(got_w[i], w0[i] - 0.5 * (0.01 * m / (std::sqrt(v) + 1e-8) + 0.1 * w0[i]), 1e-15);
  }
  for (double bad : Vec{0.0, INFINITY, NAN}) {
    Invoke("_adamw_update",
           std::vector<NDArray>{w, g, mean, var, NDArray::FromVector(Vec{bad}, Shape{1})}, attrs,
           std::span<const NDArray>(&w, 1));
    EXPECT_EQ(w.ToVector<double>(), got_w);
    EXPECT_EQ(mean.ToVector<double>(), got_m);
  }
}

TEST(OpOptimizer, LambPhase2TrustRatio) {
  NDArray w = NDArray::FromVector(Vec{1, 2}, Shape{2});
  const NDArray g = NDArray::FromVector(Vec{0.5, -1}, Shape{2});
  auto run = [&](double r1, double r2, AttrDict attrs) {
    NDArray x = w.Copy(Context::cpu());
    attrs.emplace_back("lr", "0.1");
    Invoke("lamb_update_phase2",
           std::vector<NDArray>{x, g, NDArray::FromVector(Vec{r1}, Shape{1}),
                                NDArray::FromVector(Vec{r2}, Shape{1})},
           attrs, std::span<const NDArray>(&x, 1));
    return x.ToVector<double>();
  };
  EXPECT_EQ(run(2, 4, {}), (Vec{1 - 0.05 * 0.5, 2 + 0.05}));
  EXPECT_EQ(run(2, 4, {{"lower_bound", "3"}}), (Vec{1 - 0.075 * 0.5, 2 + 0.075}));
  EXPECT_EQ(run(0, 4, {}), (Vec{1 - 0.1 * 0.5, 2 + 0.1}));
}

TEST(OpOptimizer, MultiSgdUpdatesEveryWeightAndMomentum) {
  NDArray w0 = NDArray::FromVector(Vec{1, 2}, Shape{2}),
          w1 = NDArray::FromVector(Vec{-1, 0.5, 3}, Shape{3});
  NDArray g0 = NDArray::FromVector(Vec{0.5, -1}, Shape{2}),
          g1 = NDArray::FromVector(Vec{1, 1, -2}, Shape{3});
  NDArray m0 = NDArray::FromVector(Vec{0.1, 0.2}, Shape{2}),
          m1 = NDArray::FromVector(Vec{0, 0, 1}, Shape{3});
  const NDArray outs[] = {w0, w1};
  Invoke("multi_sgd_mom_update", std::vector<NDArray>{w0, g0, m0, w1, g1, m1},
         {{"lrs", "(0.1, 0.2)"}, {"wds", "(0.5, 0)"}, {"momentum", "0.9"}, {"num_weights", "2"}},
         outs);
  const Vec mom0{0.9 * 0.1 - 0.1 * 0.5 * 1 - 0.1 * 0.5, 0.9 * 0.2 - 0.1 * 0.5 * 2 + 0.1};
  const Vec mom1{-0.2, -0.2, 0.9 + 0.4}, kW0{1, 2}, kW1{-1, 0.5, 3};
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(m0.ToVector<double>()[i], mom0[i], 1e-15);
    EXPECT_NEAR(w0.ToVector<double>()[i], kW0[i] + mom0[i], 1e-15);
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(m1.ToVector<double>()[i], mom1[i], 1e-15);
    EXPECT_NEAR(w1.ToVector<double>()[i], kW1[i] + mom1[i], 1e-15);
  }
  const auto plain = Invoke("multi_sgd_update", std::vector<NDArray>{w0, g0},
                            {{"lrs", "0.5"}, {"wds", "(0,)"}, {"clip_gradient", "0.25"}});
  EXPECT_NEAR(plain[0].ToVector<double>()[0], w0.ToVector<double>()[0] - 0.125, 1e-15);
  EXPECT_ERROR(Invoke("multi_sgd_update", std::vector<NDArray>{w0, g0, w1, g1},
                      {{"lrs", "(0.1,)"}, {"wds", "(0, 0)"}, {"num_weights", "2"}}),
               ValueError, "multi_sgd_update", "'lrs'");
}

TEST(OpOptimizer, SumSqAndAllFinite) {
  const NDArray a = NDArray::FromVector(std::vector<float>{1, 2, 3}, Shape{3});
  const NDArray b = NDArray::FromVector(Vec{0.5, -0.5}, Shape{2});
  const auto ss = Invoke("multi_sum_sq", std::vector<NDArray>{a, b}, {{"num_arrays", "2"}})[0];
  EXPECT_EQ(ss.dtype(), DType::kFloat32);
  EXPECT_EQ(ss.ToVector<float>(), (std::vector<float>{14, 0.5}));
  // Several blocks of the blocked sum (NOTE [ Sum of squares ]) and a ragged tail.
  std::vector<double> big(100003);
  double ref = 0;
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = std::sin(0.37 * static_cast<double>(i));
    ref += big[i] * big[i];
  }
  const NDArray c = NDArray::FromVector(big, Shape{static_cast<int64_t>(big.size())});
  EXPECT_NEAR(Invoke("multi_sum_sq", std::vector<NDArray>{c}, {{"num_arrays", "1"}})[0]
                  .ToVector<float>()[0],
              ref, ref * 1e-6);
  EXPECT_EQ(Invoke("all_finite", {a})[0].ToVector<float>(), std::vector<float>{1});
  const NDArray bad = NDArray::FromVector(Vec{1, NAN}, Shape{2});
  EXPECT_EQ(Invoke("multi_all_finite", std::vector<NDArray>{a, bad}, {{"num_arrays", "2"}})[0]
                .ToVector<float>(),
            std::vector<float>{0});
  // init_output=False accumulates into the given output: a 0 stays 0.
  NDArray flag = NDArray::FromVector(std::vector<float>{0}, Shape{1});
  Invoke("all_finite", std::vector<NDArray>{a}, {{"init_output", "False"}},
         std::span<const NDArray>(&flag, 1));
  EXPECT_EQ(flag.ToVector<float>(), std::vector<float>{0});
}

}  // namespace
}  // namespace mixnet::op
