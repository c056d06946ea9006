// Evaluation metrics on small hand-made batches, against values worked out by hand or by
// textbook formulas. (Named op_* to stay out of the ThreadSanitizer build.)
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mixnet/metric/metric.h"
#include "test_util.h"

namespace mixnet::metric {
namespace {

NDArray F(const std::vector<float>& v, const Shape& s) {
  return NDArray::FromVector(v, s);
}
NDArray I(const std::vector<int32_t>& v, const Shape& s) {
  return NDArray::FromVector(v, s);
}
double Value(const EvalMetric& m) {
  return m.get().at(0).second;
}

TEST(Metric, AccuracyArgmaxAndDirectLabels) {
  Accuracy acc;
  EXPECT_TRUE(std::isnan(Value(acc)));
  acc.update({I({1, 1, 1}, Shape{3})}, {F({.3f, .7f, .6f, .4f, .1f, .9f}, Shape{3, 2})});
  EXPECT_DOUBLE_EQ(Value(acc), 2.0 / 3);
  // Same shape: predictions are classes, truncated to int like MXNet's astype('int32').
  acc.update({F({0, 1}, Shape{2})}, {F({0, 1.7f}, Shape{2})});
  EXPECT_DOUBLE_EQ(Value(acc), 4.0 / 5);
  EXPECT_EQ(acc.num_inst(), 5);
  EXPECT_EQ(acc.get()[0].first, "accuracy");
  Accuracy axis0(0);
  axis0.update({F({0, 1, 1}, Shape{3})}, {F({.9f, .1f, .2f, .1f, .8f, .7f}, Shape{2, 3})});
  EXPECT_DOUBLE_EQ(Value(axis0), 1.0);
  acc.reset();
  EXPECT_TRUE(std::isnan(Value(acc)));
  EXPECT_ERROR(
      acc.update({F({0, 1, 1, 0}, Shape{4})}, {F({.5f, .5f, .1f, .9f, .2f, .8f}, Shape{3, 2})}),
      ValueError, "accuracy", "(4,)", "(3, 2)");
  EXPECT_ERROR(acc.update({F({0}, Shape{1})}, {}), ValueError, "accuracy");
}

TEST(Metric, TopKAccuracy) {
  TopKAccuracy top2(2);
  top2.update({I({2, 2}, Shape{2})}, {F({.1f, .5f, .4f, .7f, .2f, .1f}, Shape{2, 3})});
  EXPECT_DOUBLE_EQ(Value(top2), 0.5);
  EXPECT_EQ(top2.get()[0].first, "top_k_accuracy_2");
  EXPECT_ERROR(TopKAccuracy(1), ValueError, "top_k");
  EXPECT_ERROR(
      top2.update({I({0, 1, 2}, Shape{3})}, {F({.1f, .5f, .4f, .7f, .2f, .1f}, Shape{2, 3})}),
      ValueError, "top_k_accuracy_2", "(3,)", "(2, 3)");
}

// Two-class scores whose argmax is `cls`.
NDArray Scores(const std::vector<int>& cls) {
  std::vector<float> v;
  for (int c : cls) {
    v.push_back(c == 0 ? .8f : .2f);
    v.push_back(c == 0 ? .2f : .8f);
  }
  return F(v, Shape{static_cast<int64_t>(cls.size()), 2});
}

TEST(Metric, F1MacroAndMicro) {
  F1 macro, micro("micro");
  for (EvalMetric* m : {static_cast<EvalMetric*>(&macro), static_cast<EvalMetric*>(&micro)}) {
    m->update({I({1, 0, 1, 0}, Shape{4})}, {Scores({1, 1, 0, 0})});  // tp fp fn tn = 1 1 1 1
    m->update({F({1, 1}, Shape{2})}, {Scores({1, 0})});              // tp fn = 1 1
  }
  EXPECT_NEAR(Value(macro), (0.5 + 2.0 / 3) / 2, 1e-12);  // per-array F1 averaged
  EXPECT_NEAR(Value(micro), 4.0 / 7, 1e-12);              // p = 2/3, r = 1/2 pooled
  EXPECT_EQ(macro.get()[0].first, "f1");
  EXPECT_ERROR(macro.update({I({0, 1, 2}, Shape{3})}, {Scores({0, 1, 1})}), ValueError, "f1",
               "binary");
  EXPECT_ERROR(macro.update({I({0, 1, 1}, Shape{3})}, {Scores({0, 1})}), ValueError, "f1", "(3,)",
               "(2, 2)");
}

TEST(Metric, MCC) {
  MCC mcc;
  mcc.update({I({1, 1, 0, 0, 1}, Shape{5})}, {Scores({1, 1, 0, 0, 0})});  // tp2 fn1 tn2
  EXPECT_NEAR(Value(mcc), 4.0 / 6.0, 1e-12);  // (2*2 - 0) / sqrt(2*3*2*3)
  EXPECT_EQ(mcc.get()[0].first, "mcc");
  MCC one_sided;
  one_sided.update({I({1, 1}, Shape{2})}, {Scores({1, 0})});  // zero marginals are skipped
  EXPECT_DOUBLE_EQ(Value(one_sided), 0.0);
}

TEST(Metric, RegressionAveragedPerArray) {
  MAE mae;
  MSE mse;
  RMSE rmse;
  for (EvalMetric* m : {static_cast<EvalMetric*>(&mae), static_cast<EvalMetric*>(&mse),
                        static_cast<EvalMetric*>(&rmse)}) {
    m->update({F({1, 2, 3}, Shape{3})}, {F({1.5f, 2, 2}, Shape{3, 1})});
    m->update({F({0, 0}, Shape{2})}, {F({3, 4}, Shape{2})});
    EXPECT_EQ(m->num_inst(), 2);
  }
  EXPECT_NEAR(Value(mae), (0.5 + 3.5) / 2, 1e-6);
  EXPECT_NEAR(Value(mse), (1.25 / 3 + 12.5) / 2, 1e-6);
  EXPECT_NEAR(Value(rmse), (std::sqrt(1.25 / 3) + std::sqrt(12.5)) / 2, 1e-6);
  EXPECT_EQ(rmse.get()[0].first, "rmse");
  MAE bcast;  // a one-column label broadcasts along the prediction's columns
  bcast.update({F({1, 2}, Shape{2})}, {F({1, 3, 2, 4}, Shape{2, 2})});
  EXPECT_DOUBLE_EQ(Value(bcast), 1.0);
  EXPECT_ERROR(mse.update({F({1, 2, 3}, Shape{3})}, {F({1, 2}, Shape{2})}), ValueError, "mse",
               "(3,)", "(2,)");
}

TEST(Metric, CrossEntropyAndNLL) {
  CrossEntropy ce;
  NegativeLogLikelihood nll;
  for (EvalMetric* m : {static_cast<EvalMetric*>(&ce), static_cast<EvalMetric*>(&nll)})
    m->update({I({0, 1}, Shape{2})}, {F({.5f, .5f, .2f, .8f}, Shape{2, 2})});
  const double want = -(std::log(0.5) + std::log(0.8)) / 2;
  EXPECT_NEAR(Value(ce), want, 1e-6);
  EXPECT_NEAR(Value(nll), want, 1e-6);
  EXPECT_EQ(ce.get()[0].first, "cross-entropy");
  EXPECT_EQ(nll.get()[0].first, "nll-loss");
  EXPECT_ERROR(ce.update({I({0, 1, 1}, Shape{3})}, {F({.5f, .5f, .2f, .8f}, Shape{2, 2})}),
               ValueError, "cross-entropy", "(3,)", "(2, 2)");
}

TEST(Metric, Perplexity) {
  const NDArray pred = F({.5f, .5f, .25f, .75f, .9f, .1f}, Shape{3, 2});
  Perplexity p;
  p.update({I({0, 1, 0}, Shape{3})}, {pred});
  EXPECT_NEAR(Value(p), std::exp(-(std::log(.5) + std::log(.75) + std::log(.9)) / 3), 1e-6);
  Perplexity ignore0(0);
  ignore0.update({F({0, 1, 0}, Shape{3})}, {pred});
  EXPECT_NEAR(Value(ignore0), 1 / .75, 1e-6);
  EXPECT_EQ(ignore0.num_inst(), 1);
  EXPECT_ERROR(p.update({I({0, 1}, Shape{2})}, {pred}), ValueError, "perplexity", "(2,)", "(3, 2)");
}

double Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    syy += y[i] * y[i];
    sxy += x[i] * y[i];
  }
  return (n * sxy - sx * sy) / std::sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
}

TEST(Metric, PearsonMacroAndMicro) {
  PearsonCorrelation macro, micro("micro");
  for (EvalMetric* m : {static_cast<EvalMetric*>(&macro), static_cast<EvalMetric*>(&micro)}) {
    m->update({F({1, 2, 3, 4}, Shape{4})}, {F({2, 4, 6, 9}, Shape{4})});
    m->update({F({0, 1, 5}, Shape{3})}, {F({1, 0, 3}, Shape{3})});
  }
  const double r1 = Pearson({1, 2, 3, 4}, {2, 4, 6, 9}), r2 = Pearson({0, 1, 5}, {1, 0, 3});
  EXPECT_NEAR(Value(macro), (r1 + r2) / 2, 1e-9);
  EXPECT_NEAR(Value(micro), Pearson({1, 2, 3, 4, 0, 1, 5}, {2, 4, 6, 9, 1, 0, 3}), 1e-9);
  EXPECT_EQ(macro.get()[0].first, "pearsonr");
  micro.reset();
  EXPECT_TRUE(std::isnan(Value(micro)));
  EXPECT_ERROR(macro.update({F({1, 2}, Shape{2})}, {F({1, 2}, Shape{2, 1})}), ValueError,
               "pearsonr", "(2,)", "(2, 1)");
}

TEST(Metric, LossAveragesElements) {
  Loss loss;
  loss.update({}, {F({1, 2, 3}, Shape{3}), F({4, 5}, Shape{2})});
  EXPECT_DOUBLE_EQ(Value(loss), 3.0);
  EXPECT_EQ(loss.num_inst(), 5);
}

TEST(Metric, CompositeAndFactory) {
  CompositeEvalMetric comp;
  comp.add(CreateMetric("ACC"));
  comp.add(CreateMetric("ce"));
  comp.update({I({1, 0}, Shape{2})}, {F({.2f, .8f, .4f, .6f}, Shape{2, 2})});
  const auto got = comp.get();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "accuracy");
  EXPECT_DOUBLE_EQ(got[0].second, 0.5);
  EXPECT_EQ(got[1].first, "cross-entropy");
  EXPECT_NEAR(got[1].second, -(std::log(.8) + std::log(.4)) / 2, 1e-6);
  comp.reset();
  EXPECT_TRUE(std::isnan(comp.get()[1].second));
  EXPECT_EQ(CreateMetric("top_k_accuracy_3")->name(), "top_k_accuracy_3");
  EXPECT_EQ(CreateMetric("top_k_accuracy")->name(), "top_k_accuracy_5");
  EXPECT_EQ(CreateMetric("nll_loss")->name(), "nll-loss");
  EXPECT_EQ(CreateMetric("pearsonr")->name(), "pearsonr");
  EXPECT_ERROR(CreateMetric("accuracyy"), ValueError, "accuracyy", "valid names", "top_k_accuracy");
  EXPECT_ERROR(comp.get_metric(5), IndexError, "out of range");
}

}  // namespace
}  // namespace mixnet::metric
