// Metrics over predicted probabilities or losses: cross-entropy, NLL, perplexity, loss.
#include <algorithm>
#include <cmath>
#include <limits>

#include "host_array.h"
#include "mixnet/metric/metric.h"

namespace mixnet::metric {

void CrossEntropy::update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCount(name_, labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const HostArray label = ToHost(labels[i]);
    const HostArray pred = ToHost(preds[i]);
    const int64_t n = static_cast<int64_t>(label.data.size());
    CheckShapes(pred.shape.ndim() == 2 && pred.shape[0] == n, name_, label.shape, pred.shape);
    const int64_t classes = pred.shape[1];
    for (int64_t r = 0; r < n; ++r) {
      const auto y = static_cast<int64_t>(label.data[static_cast<size_t>(r)]);
      MX_CHECK(y >= 0 && y < classes, IndexError)
          << name_ << ": label " << y << " is out of range for " << classes << " classes";
      sum_metric_ -= std::log(pred.data[static_cast<size_t>(r * classes + y)] + eps_);
    }
    num_inst_ += n;
  }
}

void Perplexity::update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCount(name_, labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const HostArray label = ToHost(labels[i]);
    const HostArray pred = ToHost(preds[i]);
    const int64_t classes = pred.shape.ndim() >= 1 ? pred.shape[pred.shape.ndim() - 1] : 0;
    CheckShapes(classes > 0 && static_cast<int64_t>(label.data.size()) * classes ==
                                   static_cast<int64_t>(pred.data.size()),
                name_, label.shape, pred.shape);
    for (size_t r = 0; r < label.data.size(); ++r) {
      const double y = label.data[r];
      if (ignore_label_ && y == static_cast<double>(*ignore_label_)) continue;
      // MXNet's pick clips the index; probabilities are floored at 1e-10.
      const int64_t c = std::clamp<int64_t>(static_cast<int64_t>(y), 0, classes - 1);
      sum_metric_ -= std::log(std::max(1e-10, pred.data[r * classes + c]));
      num_inst_ += 1;
    }
  }
}

NameValues Perplexity::get() const {
  if (num_inst_ == 0) return {{name_, std::numeric_limits<double>::quiet_NaN()}};
  return {{name_, std::exp(sum_metric_ / static_cast<double>(num_inst_))}};
}

void Loss::update(const std::vector<NDArray>& /*labels*/, const std::vector<NDArray>& preds) {
  for (const auto& p : preds) {
    const HostArray h = ToHost(p);
    for (double x : h.data)
      sum_metric_ += x;
    num_inst_ += static_cast<int64_t>(h.data.size());
  }
}

}  // namespace mixnet::metric
