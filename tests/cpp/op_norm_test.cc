// Normalisation layers beyond the registry-wide checks: BatchNorm's training mode (moving
// statistics, gradient), fix_gamma and channels-last; LayerNorm, GroupNorm, InstanceNorm and
// L2Normalization against plain loops; empty batches; error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "mixnet/op/invoke.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

using Vec = std::vector<double>;

Vec Random(size_t n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Vec v(n);
  for (double& x : v)
    x = dist(rng);
  return v;
}

NDArray Arr(const Vec& v, const Shape& s) {
  return NDArray::FromVector(v, s);
}

void ExpectNear(const Vec& got, const Vec& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << what << " element " << i;
}

std::vector<NDArray> RunOp(std::string_view op, std::vector<NDArray> in, const AttrDict& attrs,
                           bool train = false) {
  return Invoke(op, in, attrs, {}, {.is_train = train});
}

// Data (N=4, C=3, 2), channel c of sample n at (n * 3 + c) * 2 + k.
constexpr int kN = 4, kC = 3, kK = 2;

TEST(BatchNorm, TrainingNormalisesWithBatchStatsAndUpdatesMovingStats) {
  const Shape shape{kN, kC, kK};
  const Vec x = Random(kN * kC * kK, -2, 2, 1), gamma{0.5, 1.5, 2.0}, beta{0.1, -0.2, 0.3};
  const Vec mm0{0.1, 0.2, 0.3}, mv0{1.0, 2.0, 0.5};
  NDArray mm = Arr(mm0, {kC}), mv = Arr(mv0, {kC});
  const AttrDict attrs{{"fix_gamma", "False"}, {"momentum", "0.8"}, {"output_mean_var", "True"}};
  const auto out = RunOp("BatchNorm", {Arr(x, shape), Arr(gamma, {kC}), Arr(beta, {kC}), mm, mv},
                         attrs, /*train=*/true);
  ASSERT_EQ(out.size(), 3u);
  Vec y(x.size()), mean(kC), invstd(kC), mm1(kC), mv1(kC);
  for (int c = 0; c < kC; ++c) {
    double s = 0, v = 0;
    for (int n = 0; n < kN; ++n)
      for (int k = 0; k < kK; ++k)
        s += x[(n * kC + c) * kK + k];
    const double m = s / (kN * kK);
    for (int n = 0; n < kN; ++n)
      for (int k = 0; k < kK; ++k)
        v += std::pow(x[(n * kC + c) * kK + k] - m, 2);
    v /= kN * kK;  // biased, as MXNet normalises and updates with it
    mean[c] = m;
    invstd[c] = 1 / std::sqrt(v + 1e-3);
    mm1[c] = mm0[c] * 0.8 + m * 0.2;
    mv1[c] = mv0[c] * 0.8 + v * 0.2;
    for (int n = 0; n < kN; ++n)
      for (int k = 0; k < kK; ++k) {
        const int i = (n * kC + c) * kK + k;
        y[i] = (x[i] - m) * invstd[c] * gamma[c] + beta[c];
      }
  }
  ExpectNear(out[0].ToVector<double>(), y, 1e-12, "output");
  ExpectNear(out[1].ToVector<double>(), mean, 1e-12, "mean");
  ExpectNear(out[2].ToVector<double>(), invstd, 1e-12, "var (inverse std)");
  ExpectNear(mm.ToVector<double>(), mm1, 1e-15, "moving_mean");
  ExpectNear(mv.ToVector<double>(), mv1, 1e-15, "moving_var");
}

TEST(BatchNorm, InferenceUsesMovingStatsAndLeavesThem) {
  const Vec x = Random(kN * kC * kK, -2, 2, 2), gamma{0.5, 1.5, 2.0}, beta{0.1, -0.2, 0.3};
  const Vec mm0{0.1, 0.2, 0.3}, mv0{1.0, 2.0, 0.5};
  NDArray mm = Arr(mm0, {kC}), mv = Arr(mv0, {kC});
  for (const bool train : {false, true}) {
    // use_global_stats makes training mode use (and keep) the moving statistics as well.
    const AttrDict attrs{{"fix_gamma", "False"}, {"use_global_stats", train ? "True" : "False"}};
    const auto out =
        RunOp("BatchNorm", {Arr(x, {kN, kC, kK}), Arr(gamma, {kC}), Arr(beta, {kC}), mm, mv}, attrs,
              train);
    ASSERT_EQ(out.size(), 1u);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t c = (i / kK) % kC;
      y[i] = (x[i] - mm0[c]) / std::sqrt(mv0[c] + 1e-3) * gamma[c] + beta[c];
    }
    ExpectNear(out[0].ToVector<double>(), y, 1e-12, train ? "global stats" : "inference");
    EXPECT_EQ(mm.ToVector<double>(), mm0);
    EXPECT_EQ(mv.ToVector<double>(), mv0);
  }
}

TEST(BatchNorm, FixGammaIgnoresGammaAndGivesItNoGradient) {
  const Shape shape{kN, kC, kK};
  const Vec x = Random(kN * kC * kK, -2, 2, 3);
  const auto in = [&](const Vec& gamma) {
    return std::vector<NDArray>{Arr(x, shape), Arr(gamma, {kC}), Arr({0, 0, 0}, {kC}),
                                Arr({0, 0, 0}, {kC}), Arr({1, 1, 1}, {kC})};
  };
  const auto a = RunOp("BatchNorm", in({1, 1, 1}), {}, true)[0].ToVector<double>();
  const auto b = RunOp("BatchNorm", in({5, -2, 3}), {}, true)[0].ToVector<double>();
  ExpectNear(b, a, 0, "fix_gamma output");
  const auto d = RunOp("_batch_norm_backward",
                       {Arr(x, shape), Arr({5, -2, 3}, {kC}), Arr({0, 0, 0}, {kC}),
                        Arr({1, 1, 1}, {kC}), Arr(Random(x.size(), -1, 1, 4), shape)},
                       {}, true);
  EXPECT_EQ(d[1].ToVector<double>(), Vec(kC, 0.0));
}

TEST(BatchNorm, ChannelsLastMatchesChannelsFirst) {
  const Vec x = Random(5 * 4, -2, 2, 5), gamma = Random(4, 0.5, 1.5, 6), beta = Random(4, -1, 1, 7);
  Vec xt(x.size());  // (5, 4) -> (4, 5)
  for (int n = 0; n < 5; ++n)
    for (int c = 0; c < 4; ++c)
      xt[c * 5 + n] = x[n * 4 + c];
  const auto params = [&] {
    return std::vector<NDArray>{Arr(gamma, {4}), Arr(beta, {4}), Arr(Vec(4, 0.0), {4}),
                                Arr(Vec(4, 1.0), {4})};
  };
  auto last_in = params();
  last_in.insert(last_in.begin(), Arr(x, {5, 4}));
  auto first_in = params();
  first_in.insert(first_in.begin(), Arr(xt, {1, 4, 5}));
  const auto last = RunOp("BatchNorm", last_in, {{"axis", "-1"}, {"fix_gamma", "False"}}, true)[0]
                        .ToVector<double>();
  const auto first =
      RunOp("BatchNorm", first_in, {{"fix_gamma", "False"}}, true)[0].ToVector<double>();
  for (int n = 0; n < 5; ++n)
    for (int c = 0; c < 4; ++c)
      EXPECT_NEAR(last[n * 4 + c], first[c * 5 + n], 1e-12);
  EXPECT_EQ(last_in[3].ToVector<double>(), first_in[3].ToVector<double>());
}

TEST(BatchNorm, TrainingGradientMatchesCentralDifferences) {
  const Shape shape{kN, kC, kK};
  for (const bool mean_var : {false, true}) {
    SCOPED_TRACE(mean_var ? "output_mean_var" : "output only");
    const AttrDict attrs{{"fix_gamma", "False"}, {"output_mean_var", mean_var ? "True" : "False"}};
    std::vector<Vec> values{Random(kN * kC * kK, -2, 2, 8), Random(kC, 0.5, 1.5, 9),
                            Random(kC, -1, 1, 10), Random(kC, -0.5, 0.5, 11),
                            Random(kC, 0.5, 1.5, 12)};
    const std::vector<Shape> shapes{shape, {kC}, {kC}, {kC}, {kC}};
    // Fresh arrays per evaluation: the training forward updates the moving statistics.
    const auto inputs = [&] {
      std::vector<NDArray> in;
      for (size_t i = 0; i < values.size(); ++i)
        in.push_back(Arr(values[i], shapes[i]));
      return in;
    };
    const auto outputs = RunOp("BatchNorm", inputs(), attrs, true);
    std::vector<Vec> heads;
    for (size_t j = 0; j < outputs.size(); ++j)
      heads.push_back(Random(static_cast<size_t>(outputs[j].Size()), -1, 1, 20 + j));
    const auto loss = [&] {
      const auto out = RunOp("BatchNorm", inputs(), attrs, true);
      double l = 0;
      for (size_t j = 0; j < out.size(); ++j) {
        const Vec y = out[j].ToVector<double>();
        for (size_t k = 0; k < y.size(); ++k)
          l += heads[j][k] * y[k];
      }
      return l;
    };
    EagerGradBuilder g({.is_train = true});  // as autograd does for a training pass
    std::vector<GValue> in_v, out_v, head_v;
    for (const NDArray& a : inputs())
      in_v.push_back(g.Add(a));
    for (const NDArray& a : outputs)
      out_v.push_back(g.Add(a));
    for (size_t j = 0; j < outputs.size(); ++j)
      head_v.push_back(g.Add(Arr(heads[j], outputs[j].shape())));
    const OpDef& def = Registry::Get("BatchNorm");
    const auto grads = def.gradient(g, def.ParseAttrs(attrs), in_v, out_v, head_v);
    ASSERT_EQ(grads.size(), 5u);
    for (size_t i = 0; i < values.size(); ++i) {
      SCOPED_TRACE("input " + std::to_string(i));
      ASSERT_TRUE(grads[i].valid());
      const Vec analytic = g.Get(grads[i]).ToVector<double>();
      Vec numeric(values[i].size());
      for (size_t k = 0; k < values[i].size(); ++k) {
        const double v = values[i][k];
        values[i][k] = v + 1e-6;
        const double up = loss();
        values[i][k] = v - 1e-6;
        const double down = loss();
        values[i][k] = v;
        numeric[k] = (up - down) / 2e-6;
      }
      ExpectNear(analytic, numeric, 2e-6, "gradient");
    }
  }
}

// The float32 kernel over channel rows against the reference, in both modes, with the
// optional mean/var outputs and their gradients; rows of 21 exercise the vector tails.
TEST(BatchNorm, RowKernelsMatchTheReference) {
  const Shape shape{3, 4, 3, 7};
  const int64_t c = 4, count = shape.Size();
  const auto doubles = [](const NDArray& a) {
    const std::vector<float> v = a.ToVector<float>();
    return Vec(v.begin(), v.end());
  };
  const auto f32 = [](const Vec& v, const Shape& s) {
    return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), s);
  };
  for (const bool train : {true, false}) {
    SCOPED_TRACE(train ? "training" : "inference");
    const AttrDict attrs{{"fix_gamma", "False"}, {"output_mean_var", "True"}, {"eps", "1e-5"}};
    const Vec x = Random(count, 1, 3, 30), gamma = Random(c, 0.5, 1.5, 31);
    const Vec beta = Random(c, -1, 1, 32), mm = Random(c, 1, 3, 33), mv = Random(c, 0.5, 1.5, 34);
    const Vec dy = Random(count, -1, 1, 35), dmean = Random(c, -1, 1, 36);
    const Vec dvar = Random(c, -1, 1, 37);
    std::vector<Vec> fwd[2], bwd[2], moving[2];
    const char* kernels[] = {"rows_f32", "reference"};
    for (int k = 0; k < 2; ++k) {
      NDArray mm_arr = f32(mm, {c}), mv_arr = f32(mv, {c});
      const auto out = Invoke(
          "BatchNorm",
          std::vector<NDArray>{f32(x, shape), f32(gamma, {c}), f32(beta, {c}), mm_arr, mv_arr},
          attrs, {}, {.is_train = train, .kernel = kernels[k]});
      for (const auto& o : out)
        fwd[k].push_back(doubles(o));
      moving[k] = {doubles(mm_arr), doubles(mv_arr)};
      const auto grads =
          Invoke("_batch_norm_backward",
                 std::vector<NDArray>{f32(x, shape), f32(gamma, {c}), f32(mm, {c}), f32(mv, {c}),
                                      f32(dy, shape), f32(dmean, {c}), f32(dvar, {c})},
                 attrs, {}, {.is_train = train, .kernel = kernels[k]});
      for (const auto& gr : grads)
        bwd[k].push_back(doubles(gr));
    }
    for (size_t j = 0; j < fwd[0].size(); ++j)
      ExpectNear(fwd[0][j], fwd[1][j], 2e-5, "forward output " + std::to_string(j));
    for (size_t j = 0; j < 2; ++j)
      ExpectNear(moving[0][j], moving[1][j], 2e-5, "moving statistic " + std::to_string(j));
    for (size_t j = 0; j < bwd[0].size(); ++j)
      ExpectNear(bwd[0][j], bwd[1][j], 2e-4, "gradient " + std::to_string(j));
  }
}

TEST(BatchNorm, EmptyBatchGivesEmptyOutputs) {
  NDArray mm = Arr({0.5, 0.5}, {2}), mv = Arr({2, 2}, {2});
  const auto out =
      RunOp("BatchNorm", {Arr({}, {0, 2, 3}), Arr({1, 1}, {2}), Arr({0, 0}, {2}), mm, mv},
            {{"output_mean_var", "True"}}, true);
  EXPECT_EQ(out[0].shape(), (Shape{0, 2, 3}));
  EXPECT_EQ(out[0].ToVector<double>().size(), 0u);
  EXPECT_EQ(mm.ToVector<double>(), (Vec{0.5, 0.5}));  // nothing to average
  EXPECT_EQ(
      RunOp("LayerNorm", {Arr({}, {0, 2, 3}), Arr({1, 1, 1}, {3}), Arr({0, 0, 0}, {3})}, {})[0]
          .shape(),
      (Shape{0, 2, 3}));
  EXPECT_EQ(RunOp("InstanceNorm", {Arr({}, {0, 2, 3}), Arr({1, 1}, {2}), Arr({0, 0}, {2})}, {})[0]
                .shape(),
            (Shape{0, 2, 3}));
  EXPECT_EQ(RunOp("GroupNorm", {Arr({}, {0, 2, 3}), Arr({1}, {1}), Arr({0}, {1})}, {})[0].shape(),
            (Shape{0, 2, 3}));
  EXPECT_EQ(RunOp("LRN", {Arr({}, {0, 2, 3})}, {{"nsize", "3"}})[0].shape(), (Shape{0, 2, 3}));
  EXPECT_EQ(RunOp("L2Normalization", {Arr({}, {0, 2, 3})}, {})[0].shape(), (Shape{0, 2, 3}));
}

/*!
 * \brief Normalises x (N, C, S) over the elements `member(n, c, s)` puts in group `group`:
 * a plain reference for LayerNorm, GroupNorm and InstanceNorm.
 */
template <typename G>
Vec NormLoop(const Vec& x, int n_, int c_, int s_, const Vec& gamma, const Vec& beta, double eps,
             G group) {
  Vec y(x.size());
  for (int gi = 0; gi < n_ * c_ * s_; ++gi) {  // more than enough group ids
    double sum = 0, sq = 0, cnt = 0;
    for (int i = 0; i < n_ * c_ * s_; ++i)
      if (group(i) == gi) sum += x[i], cnt += 1;
    if (cnt == 0) continue;
    const double m = sum / cnt;
    for (int i = 0; i < n_ * c_ * s_; ++i)
      if (group(i) == gi) sq += (x[i] - m) * (x[i] - m);
    const double sd = std::sqrt(sq / cnt + eps);
    for (int i = 0; i < n_ * c_ * s_; ++i)
      if (group(i) == gi) {
        const int c = (i / s_) % c_;
        y[i] = (x[i] - m) / sd * gamma[c] + beta[c];
      }
  }
  return y;
}

TEST(NormLayers, LayerGroupInstanceNormMatchLoops) {
  constexpr int N = 2, C = 4, S = 3;
  const Vec x = Random(N * C * S, -2, 2, 30), gamma = Random(C, 0.5, 1.5, 31),
            beta = Random(C, -1, 1, 32);
  const auto in = [&] {
    return std::vector<NDArray>{Arr(x, {N, C, S}), Arr(gamma, {C}), Arr(beta, {C})};
  };
  // LayerNorm along axis 1: one group per (n, s).
  const auto ln = RunOp("LayerNorm", in(), {{"axis", "1"}, {"output_mean_var", "True"}});
  ExpectNear(
      ln[0].ToVector<double>(),
      NormLoop(x, N, C, S, gamma, beta, 1e-5, [&](int i) { return (i / (C * S)) * S + i % S; }),
      1e-12, "LayerNorm");
  EXPECT_EQ(ln[1].shape(), (Shape{N, 1, S}));
  EXPECT_EQ(ln[2].shape(), (Shape{N, 1, S}));
  // GroupNorm's gamma and beta are per group (MXNet 1.x): channel c uses group c / (C / 2).
  const Vec group_gamma = {gamma[0], gamma[1]}, group_beta = {beta[0], beta[1]};
  Vec gamma_c(C), beta_c(C);
  for (int c = 0; c < C; ++c) {
    gamma_c[c] = group_gamma[c / (C / 2)];
    beta_c[c] = group_beta[c / (C / 2)];
  }
  const auto gn =
      RunOp("GroupNorm", {Arr(x, {N, C, S}), Arr(group_gamma, {2}), Arr(group_beta, {2})},
            {{"num_groups", "2"}, {"eps", "1e-4"}});
  ExpectNear(gn[0].ToVector<double>(),
             NormLoop(x, N, C, S, gamma_c, beta_c, 1e-4, [&](int i) { return i / (C / 2 * S); }),
             1e-12, "GroupNorm");
  const auto in_ = RunOp("InstanceNorm", in(), {});
  ExpectNear(in_[0].ToVector<double>(),
             NormLoop(x, N, C, S, gamma, beta, 1e-3, [&](int i) { return i / S; }), 1e-12,
             "InstanceNorm");
}

TEST(NormLayers, L2NormalizationModes) {
  constexpr int N = 2, C = 3, S = 4;
  const Vec x = Random(N * C * S, -2, 2, 40);
  const auto check = [&](const char* mode, auto group) {
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      double sq = 0;
      for (size_t j = 0; j < x.size(); ++j)
        if (group(static_cast<int>(j)) == group(static_cast<int>(i))) sq += x[j] * x[j];
      y[i] = x[i] / std::sqrt(sq + 1e-10);
    }
    ExpectNear(
        RunOp("L2Normalization", {Arr(x, {N, C, S})}, {{"mode", mode}})[0].ToVector<double>(), y,
        1e-12, mode);
  };
  check("instance", [](int i) { return i / (C * S); });
  check("channel", [](int i) { return (i / (C * S)) * S + i % S; });
  check("spatial", [](int i) { return i / S; });
}

TEST(NormLayers, ErrorsNameTheOpArgumentAndShapes) {
  const auto bn = [](Shape gamma) {
    RunOp("BatchNorm",
          {NDArray(Shape{2, 3, 4}), NDArray(gamma), NDArray(Shape{3}), NDArray(Shape{3}),
           NDArray(Shape{3})},
          {});
  };
  EXPECT_ERROR(bn(Shape{4}), ValueError, "BatchNorm", "gamma", "(4,)", "(3,)");
  EXPECT_ERROR(RunOp("LayerNorm", {NDArray(Shape{2, 5}), NDArray(Shape{4}), NDArray(Shape{5})}, {}),
               ValueError, "LayerNorm", "gamma", "(4,)", "(5,)");
  EXPECT_ERROR(RunOp("GroupNorm", {NDArray(Shape{2, 5, 2}), NDArray(Shape{5}), NDArray(Shape{5})},
                     {{"num_groups", "2"}}),
               ValueError, "GroupNorm", "num_groups=2");
  EXPECT_ERROR(
      RunOp("InstanceNorm", {NDArray(Shape{2, 5}), NDArray(Shape{5}), NDArray(Shape{5})}, {}),
      ValueError, "InstanceNorm", "(2, 5)");
  EXPECT_ERROR(RunOp("BatchNorm",
                     {NDArray(Shape{2, 3}), NDArray(Shape{3}), NDArray(Shape{3}), NDArray(Shape{3}),
                      NDArray(Shape{3})},
                     {{"axis", "2"}}),
               ValueError, "BatchNorm", "axis 2");
  EXPECT_ERROR(RunOp("L2Normalization", {NDArray(Shape{2, 3})}, {{"mode", "chanel"}}), ValueError,
               "L2Normalization", "mode", "channel");
}

}  // namespace
}  // namespace mixnet::op
