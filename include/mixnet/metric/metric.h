/*!
 * \file metric.h
 * \brief Evaluation metrics with MXNet 1.x's `mx.metric` semantics.
 *
 *   auto acc = mx::metric::CreateMetric("acc");
 *   acc->update({label}, {pred});          // any number of batches
 *   auto [name, value] = acc->get()[0];    // ("accuracy", 0.75)
 *
 * A metric accumulates sum_metric and num_inst over update() calls and reports
 * sum_metric / num_inst (NaN before any instance), as MXNet does; labels of any dtype are
 * read as float64 on the host. Shape mismatches raise ValueError naming the metric.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/ndarray/ndarray.h"

namespace mixnet::metric {

using NameValues = std::vector<std::pair<std::string, double>>;

/*! \brief Base class (MXNet's EvalMetric). */
class EvalMetric {
 public:
  explicit EvalMetric(std::string name) : name_(std::move(name)) {}
  virtual ~EvalMetric() = default;
  /*! \brief Accumulates one batch: labels[i] goes with preds[i]. */
  virtual void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) = 0;
  /*! \brief (name, value) pairs; one pair except for composites. */
  virtual NameValues get() const;
  virtual void reset();
  const std::string& name() const { return name_; }
  double sum_metric() const { return sum_metric_; }
  int64_t num_inst() const { return num_inst_; }

 protected:
  std::string name_;
  double sum_metric_ = 0;
  int64_t num_inst_ = 0;
};

/*! \brief Fraction of correct labels; predictions of another shape are argmax'ed on `axis`. */
class Accuracy : public EvalMetric {
 public:
  explicit Accuracy(int axis = 1) : EvalMetric("accuracy"), axis_(axis) {}
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  int axis_;
};

/*! \brief Fraction of labels among the top_k (> 1) scores of (batch, classes) predictions. */
class TopKAccuracy : public EvalMetric {
 public:
  explicit TopKAccuracy(int top_k);
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  int top_k_;
};

/*! \brief Binary confusion counts; predictions are (batch, 2) scores, class 1 positive. */
struct BinaryStats {
  double tp = 0, fp = 0, fn = 0, tn = 0;
  double Total() const { return tp + fp + fn + tn; }
  double FScore() const;
  double Matthews() const;
};

/*!
 * \brief F1 (`fn` = FScore) or MCC (`fn` = Matthews) of binary classification. "macro"
 * averages the per-array scores; "micro" scores the pooled counts.
 */
class BinaryMetric : public EvalMetric {
 public:
  BinaryMetric(std::string name, double (BinaryStats::*fn)() const, std::string average);
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  void reset() override;

 private:
  double (BinaryStats::*fn_)() const;
  bool micro_;
  BinaryStats stats_;
};

class F1 : public BinaryMetric {
 public:
  explicit F1(std::string average = "macro")
      : BinaryMetric("f1", &BinaryStats::FScore, std::move(average)) {}
};

class MCC : public BinaryMetric {
 public:
  explicit MCC(std::string average = "macro")
      : BinaryMetric("mcc", &BinaryStats::Matthews, std::move(average)) {}
};

/*! \brief MAE, MSE or RMSE: the per-array error averaged over arrays (MXNet 1.x). */
class RegressionMetric : public EvalMetric {
 public:
  enum class Kind { kMAE, kMSE, kRMSE };
  explicit RegressionMetric(Kind kind);
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  Kind kind_;
};

class MAE : public RegressionMetric {
 public:
  MAE() : RegressionMetric(Kind::kMAE) {}
};
class MSE : public RegressionMetric {
 public:
  MSE() : RegressionMetric(Kind::kMSE) {}
};
class RMSE : public RegressionMetric {
 public:
  RMSE() : RegressionMetric(Kind::kRMSE) {}
};

/*! \brief Mean of -log(p[label] + eps) over samples of (batch, classes) probabilities. */
class CrossEntropy : public EvalMetric {
 public:
  explicit CrossEntropy(double eps = 1e-12, std::string name = "cross-entropy")
      : EvalMetric(std::move(name)), eps_(eps) {}
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  double eps_;
};

class NegativeLogLikelihood : public CrossEntropy {
 public:
  explicit NegativeLogLikelihood(double eps = 1e-12) : CrossEntropy(eps, "nll-loss") {}
};

/*! \brief exp(mean -log p[label]) over the last axis; `ignore_label` samples do not count. */
class Perplexity : public EvalMetric {
 public:
  explicit Perplexity(std::optional<int64_t> ignore_label = std::nullopt)
      : EvalMetric("perplexity"), ignore_label_(ignore_label) {}
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  NameValues get() const override;

 private:
  std::optional<int64_t> ignore_label_;
};

/*! \brief Pearson correlation: "macro" averages per-array values, "micro" pools samples. */
class PearsonCorrelation : public EvalMetric {
 public:
  explicit PearsonCorrelation(std::string average = "macro");
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  NameValues get() const override;
  void reset() override;

 private:
  bool micro_;
  // Pooled sums for "micro": count, means and co-moments (Chan et al.'s update).
  double n_ = 0, mean_l_ = 0, mean_p_ = 0, m2_l_ = 0, m2_p_ = 0, c_lp_ = 0;
};

/*! \brief Mean of every element of the predictions (labels are ignored). */
class Loss : public EvalMetric {
 public:
  explicit Loss(std::string name = "loss") : EvalMetric(std::move(name)) {}
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
};

/*! \brief Several metrics updated together; get() concatenates theirs. */
class CompositeEvalMetric : public EvalMetric {
 public:
  CompositeEvalMetric() : EvalMetric("composite") {}
  void add(std::unique_ptr<EvalMetric> metric) { metrics_.push_back(std::move(metric)); }
  EvalMetric& get_metric(size_t index) const;
  size_t size() const { return metrics_.size(); }
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  NameValues get() const override;
  void reset() override;

 private:
  std::vector<std::unique_ptr<EvalMetric>> metrics_;
};

/*!
 * \brief A metric by MXNet's name, case-insensitive: "acc"/"accuracy", "ce", "nll_loss",
 * "top_k_accuracy" (top 5; "top_k_accuracy_3" for another k), "f1", "mcc", "mae", ...
 * Unknown names raise ValueError listing the valid ones.
 */
std::unique_ptr<EvalMetric> CreateMetric(const std::string& name);

}  // namespace mixnet::metric
