// MAE, MSE, RMSE and Pearson correlation (MXNet 1.x's metric.py).
#include <cmath>
#include <limits>

#include "host_array.h"
#include "mixnet/metric/metric.h"

namespace mixnet::metric {
namespace {

const char* KindName(RegressionMetric::Kind k) {
  switch (k) {
    case RegressionMetric::Kind::kMAE:
      return "mae";
    case RegressionMetric::Kind::kMSE:
      return "mse";
    default:
      return "rmse";
  }
}

// Rows and values per row, a 1-D array being one column (MXNet reshapes it to (n, 1)).
int64_t Cols(const Shape& s) {
  return s.ndim() <= 1 ? 1 : s.Size() / s[0];
}

}  // namespace

RegressionMetric::RegressionMetric(Kind kind) : EvalMetric(KindName(kind)), kind_(kind) {}

void RegressionMetric::update(const std::vector<NDArray>& labels,
                              const std::vector<NDArray>& preds) {
  CheckCount(name_, labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const HostArray label = ToHost(labels[i]);
    const HostArray pred = ToHost(preds[i]);
    // Equal shapes after the 1-D reshape, or a one-column side broadcast along the rows.
    const int64_t lc = Cols(label.shape), pc = Cols(pred.shape);
    const bool rows_match =
        label.shape.ndim() >= 1 && pred.shape.ndim() >= 1 && label.shape[0] == pred.shape[0];
    const bool same = label.shape == pred.shape || (rows_match && lc == 1 && pc == 1);
    CheckShapes(same || (rows_match && (lc == 1 || pc == 1)), name_, label.shape, pred.shape);
    const int64_t rows = label.shape.ndim() == 0 ? 1 : label.shape[0];
    const int64_t cols = std::max(lc, pc);
    double acc = 0;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const double d = label.data[static_cast<size_t>(r * lc + (lc == 1 ? 0 : c))] -
                         pred.data[static_cast<size_t>(r * pc + (pc == 1 ? 0 : c))];
        acc += kind_ == Kind::kMAE ? std::abs(d) : d * d;
      }
    }
    const double mean = acc / static_cast<double>(rows * cols);
    sum_metric_ += kind_ == Kind::kRMSE ? std::sqrt(mean) : mean;
    num_inst_ += 1;  // per array, as MXNet 1.x
  }
}

PearsonCorrelation::PearsonCorrelation(std::string average)
    : EvalMetric("pearsonr"), micro_(average == "micro") {
  MX_CHECK(average == "macro" || average == "micro", ValueError)
      << "pearsonr: average must be 'macro' or 'micro', got '" << average << "'";
}

void PearsonCorrelation::update(const std::vector<NDArray>& labels,
                                const std::vector<NDArray>& preds) {
  CheckCount(name_, labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const HostArray label = ToHost(labels[i]);
    const HostArray pred = ToHost(preds[i]);
    CheckShapes(label.shape == pred.shape, name_, label.shape, pred.shape);
    // This array's means and co-moments, then merged into the pooled ones (Chan et al.).
    const double n = static_cast<double>(label.data.size());
    double ml = 0, mp = 0;
    for (size_t k = 0; k < label.data.size(); ++k) {
      ml += label.data[k];
      mp += pred.data[k];
    }
    ml /= n;
    mp /= n;
    double sll = 0, spp = 0, slp = 0;
    for (size_t k = 0; k < label.data.size(); ++k) {
      const double dl = label.data[k] - ml, dp = pred.data[k] - mp;
      sll += dl * dl;
      spp += dp * dp;
      slp += dl * dp;
    }
    num_inst_ += 1;
    if (!micro_) {
      sum_metric_ += slp / std::sqrt(sll * spp);  // NaN for a constant array, as NumPy
      continue;
    }
    const double total = n_ + n;
    const double dl = ml - mean_l_, dp = mp - mean_p_;
    m2_l_ += sll + dl * dl * n_ * n / total;
    m2_p_ += spp + dp * dp * n_ * n / total;
    c_lp_ += slp + dl * dp * n_ * n / total;
    mean_l_ += dl * n / total;
    mean_p_ += dp * n / total;
    n_ = total;
  }
}

NameValues PearsonCorrelation::get() const {
  if (!micro_ || num_inst_ == 0) return EvalMetric::get();
  return {{name_, c_lp_ / std::sqrt(m2_l_ * m2_p_)}};
}

void PearsonCorrelation::reset() {
  EvalMetric::reset();
  n_ = mean_l_ = mean_p_ = m2_l_ = m2_p_ = c_lp_ = 0;
}

}  // namespace mixnet::metric
