// The metric base class, host conversion, the composite and the factory by MXNet's names.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "host_array.h"
#include "mixnet/base/dtype.h"
#include "mixnet/metric/metric.h"

namespace mixnet::metric {

HostArray ToHost(const NDArray& a) {
  HostArray h{a.shape(), {}};
  a.WaitToRead();
  DispatchDType(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto v = a.ToVector<T>();
    h.data.reserve(v.size());
    for (const auto& x : v)
      h.data.push_back(static_cast<double>(x));
  });
  return h;
}

void CheckCount(const std::string& metric, const std::vector<NDArray>& labels,
                const std::vector<NDArray>& preds) {
  MX_CHECK(labels.size() == preds.size(), ValueError)
      << metric << ": " << labels.size() << " label arrays but " << preds.size()
      << " prediction arrays";
}

void CheckShapes(bool ok, const std::string& metric, const Shape& label, const Shape& pred) {
  MX_CHECK(ok, ValueError) << metric << ": shape of labels " << label
                           << " does not match shape of predictions " << pred;
}

NameValues EvalMetric::get() const {
  const double v = num_inst_ == 0 ? std::numeric_limits<double>::quiet_NaN()
                                  : sum_metric_ / static_cast<double>(num_inst_);
  return {{name_, v}};
}

void EvalMetric::reset() {
  sum_metric_ = 0;
  num_inst_ = 0;
}

EvalMetric& CompositeEvalMetric::get_metric(size_t index) const {
  MX_CHECK(index < metrics_.size(), IndexError)
      << "CompositeEvalMetric: metric index " << index << " is out of range [0, " << metrics_.size()
      << ")";
  return *metrics_[index];
}

void CompositeEvalMetric::update(const std::vector<NDArray>& labels,
                                 const std::vector<NDArray>& preds) {
  for (auto& m : metrics_)
    m->update(labels, preds);
}

NameValues CompositeEvalMetric::get() const {
  NameValues out;
  for (const auto& m : metrics_) {
    auto v = m->get();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void CompositeEvalMetric::reset() {
  for (auto& m : metrics_)
    m->reset();
}

std::unique_ptr<EvalMetric> CreateMetric(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  // "top_k_accuracy_K" (the name the metric prints) selects k.
  for (const std::string prefix : {"top_k_accuracy", "top_k_acc", "topkaccuracy"}) {
    if (n == prefix) return std::make_unique<TopKAccuracy>(5);
    const std::string p = prefix + "_";
    if (n.size() > p.size() && n.compare(0, p.size(), p) == 0 &&
        std::all_of(n.begin() + p.size(), n.end(), [](unsigned char c) { return std::isdigit(c); }))
      return std::make_unique<TopKAccuracy>(std::stoi(n.substr(p.size())));
  }
  if (n == "acc" || n == "accuracy") return std::make_unique<Accuracy>();
  if (n == "f1") return std::make_unique<F1>();
  if (n == "mcc") return std::make_unique<MCC>();
  if (n == "mae") return std::make_unique<MAE>();
  if (n == "mse") return std::make_unique<MSE>();
  if (n == "rmse") return std::make_unique<RMSE>();
  if (n == "ce" || n == "crossentropy" || n == "cross-entropy")
    return std::make_unique<CrossEntropy>();
  if (n == "nll_loss" || n == "nll-loss" || n == "negativeloglikelihood")
    return std::make_unique<NegativeLogLikelihood>();
  if (n == "perplexity") return std::make_unique<Perplexity>();
  if (n == "pearsonr" || n == "pearsoncorrelation") return std::make_unique<PearsonCorrelation>();
  if (n == "loss") return std::make_unique<Loss>();
  if (n == "composite" || n == "compositeevalmetric")
    return std::make_unique<CompositeEvalMetric>();
  MX_CHECK(false, ValueError)
      << "CreateMetric: unknown metric '" << name
      << "'; valid names: acc, accuracy, top_k_accuracy[_K], top_k_acc[_K], f1, mcc, mae, mse, "
         "rmse, ce, cross-entropy, nll_loss, nll-loss, perplexity, pearsonr, loss, composite";
  return nullptr;
}

}  // namespace mixnet::metric
