/*!
 * \file lr_scheduler.h
 * \brief Learning-rate schedules with MXNet 1.9's `mx.lr_scheduler` semantics.
 *
 *   mx::FactorScheduler s(100, 0.5);  // halve the rate every 100 updates
 *   double lr = s(num_update);  // the rate for this update
 *
 * Schedulers are stateful as in MXNet: FactorScheduler and MultiFactorScheduler decay
 * base_lr in place as num_update passes their steps and never undo a decay, so they expect
 * non-decreasing num_update. Every scheduler warms up over its first warmup_steps updates,
 * from warmup_begin_lr towards base_lr ("linear") or at warmup_begin_lr ("constant").
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mixnet {

/*! \brief Warm-up settings shared by every scheduler (MXNet's LRScheduler arguments). */
struct WarmupConfig {
  int64_t steps = 0;            //!< updates spent warming up (0: none)
  double begin_lr = 0;          //!< the rate at update 0
  std::string mode = "linear";  //!< "linear" or "constant"
};

/*! \brief Base class: maps the number of updates done to a learning rate. */
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  /*! \brief The learning rate for update `num_update` (may advance internal state). */
  virtual double operator()(int64_t num_update) = 0;
  /*! \brief The current base rate (decayed in place by the step schedulers). */
  double base_lr() const { return base_lr_; }
  void set_base_lr(double lr) { base_lr_ = lr; }

 protected:
  LRScheduler(double base_lr, const WarmupConfig& warmup);
  /*! \brief The warm-up rate; only for num_update < warmup steps. */
  double WarmupLR(int64_t num_update) const;
  bool InWarmup(int64_t num_update) const { return num_update < warmup_.steps; }

  double base_lr_;
  WarmupConfig warmup_;
  double warmup_final_lr_;  //!< base_lr at construction: where linear warm-up ends
};

/*! \brief Multiplies base_lr by `factor` every `step` updates, never below stop_factor_lr. */
class FactorScheduler : public LRScheduler {
 public:
  FactorScheduler(int64_t step, double factor = 1, double stop_factor_lr = 1e-8,
                  double base_lr = 0.01, const WarmupConfig& warmup = {});
  double operator()(int64_t num_update) override;

 private:
  int64_t step_;
  double factor_;
  double stop_factor_lr_;
  int64_t count_ = 0;
};

/*! \brief Multiplies base_lr by `factor` once num_update passes each of the increasing steps. */
class MultiFactorScheduler : public LRScheduler {
 public:
  MultiFactorScheduler(std::vector<int64_t> steps, double factor = 1, double base_lr = 0.01,
                       const WarmupConfig& warmup = {});
  double operator()(int64_t num_update) override;

 private:
  std::vector<int64_t> steps_;
  double factor_;
  size_t next_step_ = 0;
};

/*! \brief final_lr + (base_lr - final_lr) * (1 - t / T)^pwr after warm-up, t counted from it. */
class PolyScheduler : public LRScheduler {
 public:
  PolyScheduler(int64_t max_update, double base_lr = 0.01, double pwr = 2, double final_lr = 0,
                const WarmupConfig& warmup = {});
  double operator()(int64_t num_update) override;

 private:
  double base_lr_orig_;
  int64_t max_update_;
  double power_;
  double final_lr_;
  int64_t max_steps_;
};

/*! \brief final_lr + (base_lr - final_lr) * (1 + cos(pi * t / T)) / 2 after warm-up. */
class CosineScheduler : public LRScheduler {
 public:
  CosineScheduler(int64_t max_update, double base_lr = 0.01, double final_lr = 0,
                  const WarmupConfig& warmup = {});
  double operator()(int64_t num_update) override;

 private:
  double base_lr_orig_;
  int64_t max_update_;
  double final_lr_;
  int64_t max_steps_;
};

}  // namespace mixnet
