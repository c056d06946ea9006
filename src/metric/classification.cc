// Accuracy, top-k accuracy, and the binary F1 / MCC scores (MXNet 1.x's metric.py).
#include <cmath>
#include <set>

#include "host_array.h"
#include "mixnet/metric/metric.h"

namespace mixnet::metric {
namespace {

/*! \brief Index of the first maximum along `axis` (the shape without that axis). */
std::vector<double> ArgMax(const HostArray& p, int axis) {
  const int nd = p.shape.ndim();
  const int ax = axis < 0 ? axis + nd : axis;
  MX_CHECK(ax >= 0 && ax < nd, ValueError)
      << "accuracy: axis " << axis << " is out of range for predictions of shape " << p.shape;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d)
    outer *= p.shape[d];
  for (int d = ax + 1; d < nd; ++d)
    inner *= p.shape[d];
  const int64_t n = p.shape[ax];
  std::vector<double> out(static_cast<size_t>(outer * inner), 0);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const double* row = p.data.data() + o * n * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k)
        if (row[k * inner] > row[best * inner]) best = k;
      out[static_cast<size_t>(o * inner + i)] = static_cast<double>(best);
    }
  }
  return out;
}

/*! \brief Calls f(label, pred) per array pair; preds are (batch, classes) scores. */
template <typename F>
void ForEachScored(const std::string& metric, const std::vector<NDArray>& labels,
                   const std::vector<NDArray>& preds, F&& f) {
  CheckCount(metric, labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const HostArray label = ToHost(labels[i]);
    const HostArray pred = ToHost(preds[i]);
    CheckShapes(pred.shape.ndim() == 2 && label.data.size() == static_cast<size_t>(pred.shape[0]),
                metric, label.shape, pred.shape);
    f(label, pred);
  }
}

// MXNet casts labels and predicted classes with astype('int32'): truncation toward zero.
int64_t AsClass(double x) {
  return static_cast<int64_t>(x);
}

}  // namespace

void Accuracy::update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCount(name_, labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const HostArray label = ToHost(labels[i]);
    const HostArray pred = ToHost(preds[i]);
    const std::vector<double> cls = pred.shape == label.shape ? pred.data : ArgMax(pred, axis_);
    CheckShapes(cls.size() == label.data.size(), name_, label.shape, pred.shape);
    for (size_t k = 0; k < cls.size(); ++k)
      sum_metric_ += AsClass(cls[k]) == AsClass(label.data[k]);
    num_inst_ += static_cast<int64_t>(cls.size());
  }
}

TopKAccuracy::TopKAccuracy(int top_k) : EvalMetric("top_k_accuracy"), top_k_(top_k) {
  MX_CHECK(top_k > 1, ValueError) << "top_k_accuracy: top_k must be more than 1, got " << top_k
                                  << " (use accuracy for top 1)";
  name_ += '_';
  name_ += std::to_string(top_k);
}

void TopKAccuracy::update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  ForEachScored(name_, labels, preds, [&](const HostArray& label, const HostArray& pred) {
    const int64_t rows = pred.shape[0], classes = pred.shape[1];
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t y = AsClass(label.data[static_cast<size_t>(r)]);
      if (y < 0 || y >= classes) continue;
      const double* row = pred.data.data() + r * classes;
      // In the top k when fewer than k classes score strictly higher.
      int64_t higher = 0;
      for (int64_t c = 0; c < classes; ++c)
        higher += row[c] > row[y];
      sum_metric_ += higher < top_k_;
    }
    num_inst_ += rows;
  });
}

double BinaryStats::FScore() const {
  const double precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const double recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
}

double BinaryStats::Matthews() const {
  if (Total() == 0) return 0;
  // MXNet leaves zero marginals out of the denominator instead of returning NaN.
  double denom = 1;
  for (double t : {tp + fp, tp + fn, tn + fp, tn + fn})
    if (t != 0) denom *= t;
  return (tp * tn - fp * fn) / std::sqrt(denom);
}

BinaryMetric::BinaryMetric(std::string name, double (BinaryStats::*fn)() const, std::string average)
    : EvalMetric(std::move(name)), fn_(fn), micro_(average == "micro") {
  MX_CHECK(average == "macro" || average == "micro", ValueError)
      << name_ << ": average must be 'macro' or 'micro', got '" << average << "'";
}

void BinaryMetric::update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  ForEachScored(name_, labels, preds, [&](const HostArray& label, const HostArray& pred) {
    std::set<int64_t> distinct;
    for (double y : label.data)
      distinct.insert(AsClass(y));
    MX_CHECK(distinct.size() <= 2, ValueError)
        << name_ << ": only binary classification is supported, labels hold " << distinct.size()
        << " classes";
    const std::vector<double> cls = ArgMax(pred, 1);
    for (size_t k = 0; k < cls.size(); ++k) {
      const bool p = AsClass(cls[k]) == 1, y = AsClass(label.data[k]) == 1;
      (p ? (y ? stats_.tp : stats_.fp) : (y ? stats_.fn : stats_.tn)) += 1;
    }
    if (micro_) {
      sum_metric_ = (stats_.*fn_)() * stats_.Total();
      num_inst_ = static_cast<int64_t>(stats_.Total());
    } else {
      sum_metric_ += (stats_.*fn_)();
      num_inst_ += 1;
      stats_ = {};
    }
  });
}

void BinaryMetric::reset() {
  EvalMetric::reset();
  stats_ = {};
}

}  // namespace mixnet::metric
