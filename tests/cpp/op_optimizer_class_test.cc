// mixnet::optimizer against plain-double loops of MXNet 1.9's mx.optimizer formulas: several
// steps over three named parameters with wd, rescale_grad, clip_gradient, lr_mult/wd_mult and
// a FactorScheduler; state save/load; multi_precision; grouping; errors.
#include "mixnet/optimizer/optimizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet::optimizer {
namespace {

using Vec = std::vector<double>;
using testing_util::Random;

double Clip(double x, double c) {
  return c < 0 ? x : std::clamp(x, -c, c);
}
double Sign(double x) {
  return (x > 0) - (x < 0);
}

/*! \brief One parameter's reference step: updates w and its states s. */
struct StepCtx {
  double lr, wd;
  int64_t t;
};
using RefStep = std::function<void(Vec& w, const Vec& g, std::vector<Vec>& s, const StepCtx&)>;

/*! \brief Lifts an element-wise step to a parameter step. */
RefStep Elementwise(std::function<void(double& w, double g, Vec& s, const StepCtx&)> f) {
  return [f](Vec& w, const Vec& g, std::vector<Vec>& s, const StepCtx& c) {
    for (size_t i = 0; i < w.size(); ++i) {
      Vec si;
      for (const Vec& v : s)
        si.push_back(v[i]);
      f(w[i], g[i], si, c);
      for (size_t k = 0; k < s.size(); ++k)
        s[k][i] = si[k];
    }
  };
}

// Common settings of the reference runs.
constexpr double kLr = 0.1, kWd = 0.1, kRescale = 0.5, kClip = 0.3;
const std::vector<Shape> kShapes{Shape{5}, Shape{3}, Shape{2, 3}};
const std::map<int, std::string> kNames{{0, "fc_weight"}, {1, "fc_bias"}, {2, "conv_weight"}};

op::AttrDict WithCommon(op::AttrDict kw) {
  kw.insert(
      kw.begin(),
      {{"learning_rate", "0.1"}, {"wd", "0.1"}, {"rescale_grad", "0.5"}, {"clip_gradient", "0.3"}});
  return kw;
}

/*! \brief lr_mult 0.5 on conv_weight, wd_mult 2 on fc_weight, fc_bias decays not (by name). */
StepCtx Ctx(int index, int64_t step, double base_lr) {
  // FactorScheduler(step=2, factor=0.5): the rate halves once num_update passes 2.
  const double lr = base_lr * std::pow(0.5, static_cast<double>((step - 1) / 2));
  const double wd = index == 0 ? 2 * kWd : (index == 1 ? 0.0 : kWd);
  return {index == 2 ? 0.5 * lr : lr, wd, step};
}

void Configure(Optimizer& opt) {
  opt.SetParamNames(kNames);
  opt.SetLrMult({{"conv_weight", 0.5}});
  opt.SetWdMult({{"fc_weight", 2.0}});
  opt.SetLRScheduler(std::make_shared<FactorScheduler>(2, 0.5));
}

std::vector<NDArray> MakeWeights(DType dtype = DType::kFloat64) {
  std::vector<NDArray> ws;
  for (size_t k = 0; k < kShapes.size(); ++k) {
    NDArray w =
        NDArray::FromVector(Random(static_cast<size_t>(kShapes[k].Size()), 10 + k), kShapes[k]);
    ws.push_back(
        dtype == DType::kFloat64 ? w : op::Invoke("Cast", {w}, {{"dtype", DTypeName(dtype)}})[0]);
  }
  return ws;
}

Vec Grad(size_t k, int step) {
  return Random(static_cast<size_t>(kShapes[k].Size()), 1000 * static_cast<uint64_t>(step) + k);
}

Vec ToDoubles(const NDArray& a) {
  if (a.dtype() == DType::kFloat64) return a.ToVector<double>();
  return op::Invoke("Cast", {a}, {{"dtype", "float64"}})[0].ToVector<double>();
}

/*!
 * \brief Runs `name` for 4 steps on the three parameters (one Update call each step) and
 * checks every weight after every step against `ref` with `n_states` zero-initialised states.
 */
void CheckOptimizer(const std::string& name, const op::AttrDict& kwargs, int n_states,
                    const RefStep& ref, double base_lr = kLr, double tol = 1e-12) {
  SCOPED_TRACE(name);
  auto opt = CreateOptimizer(name, kwargs);
  Configure(*opt);
  std::vector<NDArray> ws = MakeWeights();
  std::vector<Vec> w_ref;
  std::vector<std::vector<Vec>> s_ref;
  for (const NDArray& w : ws) {
    w_ref.push_back(w.ToVector<double>());
    s_ref.emplace_back(static_cast<size_t>(n_states), Vec(w_ref.back().size(), 0.0));
  }
  const std::vector<int> indices{0, 1, 2};
  for (int step = 1; step <= 4; ++step) {
    std::vector<NDArray> gs;
    for (size_t k = 0; k < ws.size(); ++k)
      gs.push_back(NDArray::FromVector(Grad(k, step), kShapes[k]));
    opt->Update(indices, ws, gs);
    for (size_t k = 0; k < ws.size(); ++k) {
      ref(w_ref[k], Grad(k, step), s_ref[k], Ctx(static_cast<int>(k), step, base_lr));
      const Vec got = ws[k].ToVector<double>();
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], w_ref[k][i], tol * (1 + std::abs(w_ref[k][i])))
            << "parameter " << k << " element " << i << " step " << step;
    }
  }
  EXPECT_EQ(opt->num_update(), 4);
  EXPECT_EQ(opt->update_count(2), 4);
}

TEST(OptimizerClass, SGD) {
  const RefStep plain = Elementwise([](double& w, double g, Vec&, const StepCtx& c) {
    w = (1 - c.lr * c.wd) * w - c.lr * Clip(kRescale * g, kClip);
  });
  CheckOptimizer("sgd", WithCommon({}), 0, plain);
  CheckOptimizer("SGD", WithCommon({{"momentum", "0.9"}}), 1,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   s[0] = 0.9 * s[0] - c.lr * c.wd * w - c.lr * Clip(kRescale * g, kClip);
                   w += s[0];
                 }));
}

TEST(OptimizerClass, NAG) {
  CheckOptimizer("nag", WithCommon({{"momentum", "0.8"}}), 1,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g, kClip) + c.wd * w;
                   s[0] = 0.8 * s[0] + grad;
                   w -= c.lr * (0.8 * s[0] + grad);
                 }));
  // momentum 0: plain SGD.
  CheckOptimizer("nag", WithCommon({}), 0,
                 Elementwise([](double& w, double g, Vec&, const StepCtx& c) {
                   w = (1 - c.lr * c.wd) * w - c.lr * Clip(kRescale * g, kClip);
                 }));
}

TEST(OptimizerClass, SignumAndSignSGD) {
  CheckOptimizer("signum", WithCommon({{"wd_lh", "0.05"}}), 1,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   s[0] = 0.9 * s[0] - 0.1 * (c.wd * w + Clip(kRescale * g, kClip));
                   w = (1 - c.lr * 0.05) * w + c.lr * Sign(s[0]);
                 }));
  CheckOptimizer("signsgd", WithCommon({}), 0,
                 Elementwise([](double& w, double g, Vec&, const StepCtx& c) {
                   w = (1 - c.lr * c.wd) * w - c.lr * Sign(g);
                 }));
}

TEST(OptimizerClass, Adam) {
  CheckOptimizer("adam", WithCommon({{"beta1", "0.8"}, {"beta2", "0.9"}}), 2,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g + c.wd * w, kClip);
                   s[0] = 0.8 * s[0] + 0.2 * grad;
                   s[1] = 0.9 * s[1] + 0.1 * grad * grad;
                   const double t = static_cast<double>(c.t);
                   const double lr =
                       c.lr * std::sqrt(1 - std::pow(0.9, t)) / (1 - std::pow(0.8, t));
                   w -= lr * s[0] / (std::sqrt(s[1]) + 1e-8);
                 }));
}

TEST(OptimizerClass, AdamW) {
  CheckOptimizer("adamw", WithCommon({{"beta1", "0.8"}}), 2,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g, kClip);
                   s[0] = 0.8 * s[0] + 0.2 * grad;
                   s[1] = 0.999 * s[1] + 0.001 * grad * grad;
                   const double t = static_cast<double>(c.t);
                   const double corr = std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.8, t));
                   w -= c.lr * (corr * s[0] / (std::sqrt(s[1]) + 1e-6) + c.wd * w);
                 }));
}

TEST(OptimizerClass, AdaGradAndAdaDelta) {
  CheckOptimizer("adagrad", WithCommon({{"eps", "1e-6"}}), 1,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g, kClip);
                   s[0] += grad * grad;
                   w -= c.lr * (grad / std::sqrt(s[0] + 1e-6) + c.wd * w);
                 }));
  CheckOptimizer("adadelta", WithCommon({{"rho", "0.8"}}), 2,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g, kClip);
                   s[0] = 0.8 * s[0] + 0.2 * grad * grad;
                   const double delta = std::sqrt(s[1] + 1e-5) / std::sqrt(s[0] + 1e-5) * grad;
                   s[1] = 0.8 * s[1] + 0.2 * delta * delta;
                   w -= delta + c.wd * w;  // no learning rate, as MXNet
                 }));
}

TEST(OptimizerClass, RMSProp) {
  CheckOptimizer("rmsprop", WithCommon({{"gamma1", "0.8"}, {"clip_weights", "0.9"}}), 1,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g + c.wd * w, kClip);
                   s[0] = 0.2 * grad * grad + 0.8 * s[0];
                   w = Clip(w - c.lr * grad / std::sqrt(s[0] + 1e-8), 0.9);
                 }));
  CheckOptimizer("rmsprop", WithCommon({{"centered", "True"}, {"gamma2", "0.7"}}), 3,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g + c.wd * w, kClip);
                   s[0] = 0.1 * grad * grad + 0.9 * s[0];
                   s[1] = 0.1 * grad + 0.9 * s[1];
                   s[2] = 0.7 * s[2] - c.lr * grad / std::sqrt(s[0] - s[1] * s[1] + 1e-8);
                   w += s[2];
                 }));
}

TEST(OptimizerClass, Ftrl) {
  CheckOptimizer("ftrl", WithCommon({{"lamda1", "0.02"}, {"beta", "0.5"}}), 2,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g, kClip);
                   s[0] += grad - (std::sqrt(s[1] + grad * grad) - std::sqrt(s[1])) * w / c.lr;
                   s[1] += grad * grad;
                   w = std::abs(s[0]) > 0.02
                           ? (Sign(s[0]) * 0.02 - s[0]) / ((0.5 + std::sqrt(s[1])) / c.lr + c.wd)
                           : 0.0;
                 }));
}

TEST(OptimizerClass, Adamax) {
  CheckOptimizer("adamax", WithCommon({{"beta2", "0.9"}}), 2,
                 Elementwise([](double& w, double g, Vec& s, const StepCtx& c) {
                   const double grad = Clip(kRescale * g + c.wd * w, kClip);
                   s[0] = 0.9 * s[0] + 0.1 * grad;
                   s[1] = std::max(0.9 * s[1], std::abs(grad));
                   w -= c.lr / (1 - std::pow(0.9, static_cast<double>(c.t))) * s[0] / s[1];
                 }));
}

TEST(OptimizerClass, Nadam) {
  double m_schedule = 1;  // one value for all parameters, as MXNet
  CheckOptimizer("nadam", WithCommon({{"schedule_decay", "0.1"}}), 2,
                 [&](Vec& w, const Vec& g, std::vector<Vec>& s, const StepCtx& c) {
                   const double t = static_cast<double>(c.t);
                   const double mt = 0.9 * (1 - 0.5 * std::pow(0.96, t * 0.1));
                   const double mt1 = 0.9 * (1 - 0.5 * std::pow(0.96, (t + 1) * 0.1));
                   m_schedule *= mt;
                   const double next = m_schedule * mt1;
                   for (size_t i = 0; i < w.size(); ++i) {
                     const double grad = Clip(kRescale * g[i] + c.wd * w[i], kClip);
                     s[0][i] = 0.9 * s[0][i] + 0.1 * grad;
                     s[1][i] = 0.999 * s[1][i] + 0.001 * grad * grad;
                     const double m_bar =
                         (1 - mt) * grad / (1 - m_schedule) + mt1 * s[0][i] / (1 - next);
                     const double v_prime = s[1][i] / (1 - std::pow(0.999, t));
                     w[i] -= c.lr * m_bar / (std::sqrt(v_prime) + 1e-8);
                   }
                 });
}

TEST(OptimizerClass, LAMB) {
  for (const bool bounded : {false, true}) {
    op::AttrDict kw = WithCommon({{"beta1", "0.8"}});
    if (bounded) kw.emplace_back("upper_bound", "0.5");
    CheckOptimizer(
        "lamb", kw, 2,
        [&](Vec& w, const Vec& g, std::vector<Vec>& s, const StepCtx& c) {
          const double t = static_cast<double>(c.t);
          Vec d(w.size());
          double r1 = 0, r2 = 0;
          for (size_t i = 0; i < w.size(); ++i) {
            const double grad = Clip(kRescale * g[i], kClip);
            s[0][i] = 0.8 * s[0][i] + 0.2 * grad;
            s[1][i] = 0.999 * s[1][i] + 0.001 * grad * grad;
            const double mean = s[0][i] / (1 - std::pow(0.8, t));
            const double var = s[1][i] / (1 - std::pow(0.999, t));
            d[i] = mean / (std::sqrt(var) + 1e-6) + c.wd * w[i];
            r1 += w[i] * w[i];
            r2 += d[i] * d[i];
          }
          r1 = std::sqrt(r1);
          r2 = std::sqrt(r2);
          if (bounded) r1 = std::min(r1, 0.5);
          const double lr = c.lr * r1 / r2;
          for (size_t i = 0; i < w.size(); ++i)
            w[i] -= lr * d[i];
        },
        kLr, 1e-10);
  }
}

/*! \brief Every optimizer: 2 steps, save, load into a fresh one, 2 more == 4 uninterrupted. */
TEST(OptimizerClass, SaveLoadRoundTrip) {
  const std::vector<std::pair<std::string, op::AttrDict>> cases{
      {"sgd", {{"momentum", "0.9"}}},
      {"sgd", {}},
      {"nag", {{"momentum", "0.9"}}},
      {"signum", {}},
      {"adam", {}},
      {"adamw", {}},
      {"adagrad", {}},
      {"adadelta", {}},
      {"rmsprop", {{"centered", "1"}}},
      {"ftrl", {}},
      {"adamax", {}},
      {"nadam", {}},
      {"lamb", {}},
      {"sgd", {{"momentum", "0.9"}, {"multi_precision", "True"}}}};
  for (const auto& [name, extra] : cases) {
    SCOPED_TRACE(name);
    const op::AttrDict kw = WithCommon(extra);
    const bool mp = !extra.empty() && extra.back().first == "multi_precision";
    const DType dtype = mp ? DType::kFloat16 : DType::kFloat64;
    auto run = [&](Optimizer& opt, std::vector<NDArray>& ws, int from, int to) {
      for (int step = from; step <= to; ++step) {
        std::vector<NDArray> gs;
        for (size_t k = 0; k < ws.size(); ++k) {
          NDArray g = NDArray::FromVector(Grad(k, step), kShapes[k]);
          gs.push_back(mp ? op::Invoke("Cast", {g}, {{"dtype", "float16"}})[0] : g);
        }
        opt.Update(std::vector<int>{0, 1, 2}, ws, gs);
      }
    };
    auto whole = CreateOptimizer(name, kw);
    Configure(*whole);
    std::vector<NDArray> w_whole = MakeWeights(dtype);
    run(*whole, w_whole, 1, 4);

    auto first = CreateOptimizer(name, kw);
    Configure(*first);
    std::vector<NDArray> w_split = MakeWeights(dtype);
    run(*first, w_split, 1, 2);
    const std::string bytes = first->SaveStates();
    first.reset();
    auto second = CreateOptimizer(name, kw);
    Configure(*second);
    second->LoadStates(bytes);
    EXPECT_EQ(second->num_update(), 2);
    EXPECT_EQ(second->update_count(1), 2);
    run(*second, w_split, 3, 4);
    for (size_t k = 0; k < w_whole.size(); ++k)
      EXPECT_EQ(ToDoubles(w_split[k]), ToDoubles(w_whole[k])) << "parameter " << k;
  }
}

TEST(OptimizerClass, LoadStatesRejectsGarbageAndMisfits) {
  auto opt = CreateOptimizer("adam");
  EXPECT_ERROR(opt->LoadStates("not an nd list"), ValueError, "optimizer states");
  NDArray w = NDArray::Zeros(Shape{3});
  const NDArray g = NDArray::Ones(Shape{3});
  opt->Update(4, w, g);
  const std::string bytes = opt->SaveStates();
  auto sgd = CreateOptimizer("sgd", {{"momentum", "0.9"}});
  sgd->LoadStates(bytes);  // Adam's two moments where SGD keeps one momentum
  EXPECT_ERROR(sgd->Update(4, w, g), ValueError, "sgd", "parameter 4", "2 arrays");
  auto adam = CreateOptimizer("adam");
  adam->LoadStates(bytes);
  NDArray bigger = NDArray::Zeros(Shape{5});
  EXPECT_ERROR(adam->Update(4, bigger, NDArray::Ones(Shape{5})), ValueError, "(5,)");
  adam->Update(4, w, g);  // fits
  EXPECT_EQ(adam->update_count(4), 2);
}

/*! \brief float16 weights keep a float32 master copy: steps below half an fp16 ulp add up. */
TEST(OptimizerClass, MultiPrecisionSGD) {
  const NDArray one = NDArray::Ones(Shape{4}, DType::kFloat16);
  const NDArray g = NDArray::Ones(Shape{4}, DType::kFloat16);
  for (const bool mp : {false, true}) {
    auto opt = CreateOptimizer("sgd", {{"learning_rate", "1e-4"},
                                       {"momentum", "0.5"},
                                       {"multi_precision", mp ? "True" : "False"}});
    NDArray w = one.Copy(Context::cpu());
    NDArray w32 = NDArray::Ones(Shape{3});  // a float32 parameter in the same call
    double ref = 1, mom = 0, ref32 = 1, mom32 = 0;
    for (int step = 0; step < 10; ++step) {
      opt->Update(std::vector<int>{0, 1}, std::vector<NDArray>{w, w32},
                  std::vector<NDArray>{g, NDArray::Full(Shape{3}, 2.0)});
      mom = 0.5 * mom - 1e-4;
      ref += mom;
      mom32 = 0.5 * mom32 - 2e-4;
      ref32 += mom32;
    }
    const Vec got = ToDoubles(w);
    for (double x : ToDoubles(w32))
      EXPECT_NEAR(x, ref32, 1e-6);
    if (mp) {
      ASSERT_EQ(opt->states(0).size(), 2u);  // momentum, master copy
      EXPECT_EQ(opt->states(0).back().dtype(), DType::kFloat32);
      for (double x : ToDoubles(opt->states(0).back()))
        EXPECT_NEAR(x, ref, 1e-6);
      for (double x : got)
        EXPECT_NEAR(x, ref, 5e-4);  // the fp16 rounding of the master copy
      EXPECT_LT(got[0], 0.9985);
    } else {
      EXPECT_EQ(opt->states(0).size(), 1u);
      for (double x : got)
        EXPECT_EQ(x, 1.0);  // each step is below half an ulp: lost in float16
    }
  }
}

/*!
 * \brief SGD counts a whole group before reading the rate (MXNet's aggregated path); one
 * parameter at a time (NAG) reads it after each count.
 */
TEST(OptimizerClass, GroupCountsBeforeRate) {
  for (const std::string name : {"sgd", "nag"}) {
    SCOPED_TRACE(name);
    auto opt = CreateOptimizer(name, {{"learning_rate", "1"}});
    opt->SetLRScheduler(std::make_shared<FactorScheduler>(2, 0.5));
    if (name == "nag") {
      EXPECT_EQ(opt->aggregate_num(), 1);
    }
    if (name == "sgd" && opt->aggregate_num() == 1)  // MXNET_OPTIMIZER_AGGREGATION_SIZE=1
      GTEST_SKIP() << "SGD aggregation is switched off";
    NDArray w0 = NDArray::Zeros(Shape{1}, DType::kFloat64);
    NDArray w1 = NDArray::Zeros(Shape{1}, DType::kFloat64);
    const NDArray g = NDArray::Ones(Shape{1}, DType::kFloat64);
    opt->Update(0, w0, g);
    opt->Update(0, w0, g);  // index 0 at count 2
    opt->Update(std::vector<int>{1, 0}, std::vector<NDArray>{w1, w0}, std::vector<NDArray>{g, g});
    EXPECT_EQ(opt->num_update(), 3);
    EXPECT_EQ(opt->update_count(1), 1);
    // sgd: both at lr(3) = 0.5; nag: index 1 at lr(2) = 1 (num_update still 2), index 0 at 0.5.
    EXPECT_EQ(w1.ToVector<double>()[0], name == "sgd" ? -0.5 : -1.0);
    EXPECT_EQ(w0.ToVector<double>()[0], -2.5);
  }
}

TEST(OptimizerClass, RatesAndMultipliers) {
  auto opt = CreateOptimizer("Adam", {{"begin_num_update", "5"}});
  EXPECT_EQ(opt->name(), "adam");
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.001);  // Adam's default
  EXPECT_EQ(opt->num_update(), 5);
  EXPECT_EQ(opt->update_count(7), 5);
  opt->set_learning_rate(0.5);
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.5);
  opt->SetLRScheduler(std::make_shared<FactorScheduler>(1, 0.1));
  EXPECT_ERROR(opt->set_learning_rate(0.1), ValueError, "LRScheduler");
  EXPECT_DOUBLE_EQ(opt->lr_scheduler()->base_lr(), 0.5);  // took the optimizer's rate
  EXPECT_DOUBLE_EQ(CreateOptimizer("ftrl")->learning_rate(), 0.1);
  EXPECT_DOUBLE_EQ(CreateOptimizer("adamax")->learning_rate(), 0.002);
}

TEST(OptimizerClass, Errors) {
  EXPECT_ERROR(CreateOptimizer("nosuch"), ValueError, "Cannot find optimizer", "nosuch", "sgd");
  EXPECT_ERROR(CreateOptimizer("adam", {{"betaa1", "0.5"}}), ValueError, "adam", "betaa1");
  EXPECT_ERROR(CreateOptimizer("sgd", {{"learning_rate", "fast"}}), ValueError, "sgd",
               "learning_rate", "fast");
  EXPECT_ERROR(CreateOptimizer("sgd", {{"momentum", "-0.5"}}), ValueError, "momentum");
  EXPECT_ERROR(CreateOptimizer("adam", {{"beta1", "1.5"}}), ValueError, "beta1");
  EXPECT_ERROR(CreateOptimizer("rmsprop", {{"centered", "maybe"}}), ValueError, "centered");
  EXPECT_ERROR(CreateOptimizer("sgd", {{"begin_num_update", "1.5"}}), ValueError,
               "begin_num_update");
  auto opt = CreateOptimizer("sgd");
  NDArray w = NDArray::Zeros(Shape{3});
  EXPECT_ERROR(opt->Update(0, w, NDArray::Zeros(Shape{4})), ValueError, "(3,)", "(4,)");
  const auto names = ListOptimizers();
  for (const char* n : {"sgd", "nag", "adam", "adamw", "lamb", "nadam", "signsgd"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace mixnet::optimizer
