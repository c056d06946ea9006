// Learning-rate schedules. The formulas, the in-place decay of base_lr and the checks follow
// MXNet 1.9's python/mxnet/lr_scheduler.py so that a schedule gives the same rates.
#include "mixnet/optimizer/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "mixnet/base/error.h"

namespace mixnet {

LRScheduler::LRScheduler(double base_lr, const WarmupConfig& warmup)
    : base_lr_(base_lr), warmup_(warmup), warmup_final_lr_(base_lr) {
  MX_CHECK(warmup_.begin_lr <= warmup_final_lr_, ValueError)
      << "LRScheduler: base_lr (" << base_lr << ") has to be at least warmup_begin_lr ("
      << warmup_.begin_lr << ")";
  MX_CHECK(warmup_.steps >= 0, ValueError)
      << "LRScheduler: warmup_steps has to be positive or 0, got " << warmup_.steps;
  MX_CHECK(warmup_.mode == "linear" || warmup_.mode == "constant", ValueError)
      << "LRScheduler: warmup_mode must be 'linear' or 'constant', got '" << warmup_.mode << "'";
}

double LRScheduler::WarmupLR(int64_t num_update) const {
  if (warmup_.mode == "constant") return warmup_.begin_lr;
  return warmup_.begin_lr + (warmup_final_lr_ - warmup_.begin_lr) *
                                static_cast<double>(num_update) /
                                static_cast<double>(warmup_.steps);
}

FactorScheduler::FactorScheduler(int64_t step, double factor, double stop_factor_lr, double base_lr,
                                 const WarmupConfig& warmup)
    : LRScheduler(base_lr, warmup), step_(step), factor_(factor), stop_factor_lr_(stop_factor_lr) {
  MX_CHECK(step >= 1, ValueError) << "FactorScheduler: step must be at least 1, got " << step;
  MX_CHECK(factor <= 1.0, ValueError)
      << "FactorScheduler: factor must be no more than 1 to make lr reduce, got " << factor;
}

double FactorScheduler::operator()(int64_t num_update) {
  if (InWarmup(num_update)) return WarmupLR(num_update);
  // A loop, not an if: a restarted run may jump several steps at once (MXNet's load_epoch).
  while (num_update > count_ + step_) {
    count_ += step_;
    base_lr_ = std::max(base_lr_ * factor_, stop_factor_lr_);
  }
  return base_lr_;
}

MultiFactorScheduler::MultiFactorScheduler(std::vector<int64_t> steps, double factor,
                                           double base_lr, const WarmupConfig& warmup)
    : LRScheduler(base_lr, warmup), steps_(std::move(steps)), factor_(factor) {
  MX_CHECK(!steps_.empty(), ValueError) << "MultiFactorScheduler: step list is empty";
  for (size_t i = 0; i < steps_.size(); ++i) {
    MX_CHECK(i == 0 || steps_[i] > steps_[i - 1], ValueError)
        << "MultiFactorScheduler: schedule steps must be an increasing list; step " << i << " is "
        << steps_[i] << " after " << steps_[i == 0 ? 0 : i - 1];
    MX_CHECK(steps_[i] >= 1, ValueError)
        << "MultiFactorScheduler: schedule steps must be at least 1, got " << steps_[i];
  }
  MX_CHECK(factor <= 1.0, ValueError)
      << "MultiFactorScheduler: factor must be no more than 1 to make lr reduce, got " << factor;
}

double MultiFactorScheduler::operator()(int64_t num_update) {
  if (InWarmup(num_update)) return WarmupLR(num_update);
  while (next_step_ < steps_.size() && num_update > steps_[next_step_]) {
    ++next_step_;
    base_lr_ *= factor_;
  }
  return base_lr_;
}

namespace {
void CheckMaxUpdate(const char* who, int64_t max_update, int64_t warmup_steps) {
  MX_CHECK(max_update >= 1, ValueError)
      << who << ": maximum number of updates must be strictly positive, got " << max_update;
  // MXNet divides by zero at the first update after warm-up in this case.
  MX_CHECK(max_update > warmup_steps, ValueError)
      << who << ": max_update (" << max_update << ") must exceed warmup_steps (" << warmup_steps
      << ")";
}
}  // namespace

PolyScheduler::PolyScheduler(int64_t max_update, double base_lr, double pwr, double final_lr,
                             const WarmupConfig& warmup)
    : LRScheduler(base_lr, warmup),
      base_lr_orig_(base_lr),
      max_update_(max_update),
      power_(pwr),
      final_lr_(final_lr),
      max_steps_(max_update - warmup.steps) {
  CheckMaxUpdate("PolyScheduler", max_update, warmup.steps);
}

double PolyScheduler::operator()(int64_t num_update) {
  if (InWarmup(num_update)) return WarmupLR(num_update);
  // Past max_update the last rate is kept (MXNet).
  if (num_update <= max_update_) {
    const double t = static_cast<double>(num_update - warmup_.steps) / max_steps_;
    base_lr_ = final_lr_ + (base_lr_orig_ - final_lr_) * std::pow(1.0 - t, power_);
  }
  return base_lr_;
}

CosineScheduler::CosineScheduler(int64_t max_update, double base_lr, double final_lr,
                                 const WarmupConfig& warmup)
    : LRScheduler(base_lr, warmup),
      base_lr_orig_(base_lr),
      max_update_(max_update),
      final_lr_(final_lr),
      max_steps_(max_update - warmup.steps) {
  CheckMaxUpdate("CosineScheduler", max_update, warmup.steps);
  MX_CHECK(base_lr >= final_lr, ValueError) << "CosineScheduler: base_lr (" << base_lr
                                            << ") has to be at least final_lr (" << final_lr << ")";
}

double CosineScheduler::operator()(int64_t num_update) {
  if (InWarmup(num_update)) return WarmupLR(num_update);
  if (num_update <= max_update_) {
    const double t = static_cast<double>(num_update - warmup_.steps) / max_steps_;
    base_lr_ = final_lr_ + (base_lr_orig_ - final_lr_) * (1 + std::cos(std::numbers::pi * t)) / 2;
  }
  return base_lr_;
}

}  // namespace mixnet
