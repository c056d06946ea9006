/*!
 * \file optimizer.h
 * \brief Optimizers with MXNet 1.9's `mx.optimizer` semantics over the fused update ops.
 *
 *   auto opt = mx::optimizer::CreateOptimizer("sgd", {{"learning_rate", "0.1"},
 *                                                     {"momentum", "0.9"}, {"wd", "1e-4"}});
 *   opt->SetParamNames({{0, "fc_weight"}, {1, "fc_bias"}});  // fc_bias gets wd_mult 0
 *   opt->Update(indices, weights, grads);  // in place, asynchronous (engine pushes)
 *
 * As in MXNet, each parameter index has its own update count t (used by Adam's bias
 * correction and the like) and num_update is the largest count; the learning rate is the
 * scheduler's value at num_update (or the fixed rate) times the parameter's lr_mult; weight
 * decay is wd times its wd_mult. States (momentum, moments, ...) are created, zero, on an
 * index's first update. With multi_precision, float16 weights keep a float32 master copy in
 * their state; the update runs in float32 on the copy and is cast back into the weight.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attrs.h"
#include "mixnet/optimizer/lr_scheduler.h"

namespace mixnet::optimizer {

/*! \brief Base class: bookkeeping (counts, rates, multipliers, states) shared by all. */
class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /*!
   * \brief Updates weights[i] in place with grads[i] for parameter indices[i]. Parameters of
   * one weight dtype go to update() in groups of up to aggregate_num() (SGD: one
   * multi_sgd_update push per group, as MXNet's Updater); the others one at a time.
   */
  void Update(std::span<const int> indices, std::span<const NDArray> weights,
              std::span<const NDArray> grads);
  void Update(int index, const NDArray& weight, const NDArray& grad);

  /*! \brief The registered name ("sgd", "adam", ...). */
  const std::string& name() const { return name_; }

  /*! \brief Sets the schedule; its base_lr becomes this optimizer's learning rate (as MXNet). */
  void SetLRScheduler(std::shared_ptr<LRScheduler> scheduler);
  const std::shared_ptr<LRScheduler>& lr_scheduler() const { return scheduler_; }
  /*! \brief Per-name learning-rate multipliers (replacing earlier ones). */
  void SetLrMult(std::map<std::string, double> lr_mult);
  /*!
   * \brief Per-name weight-decay multipliers (replacing earlier ones). Names given to
   * SetParamNames that end in neither `_weight` nor `_gamma` default to 0 (MXNet's rule).
   */
  void SetWdMult(std::map<std::string, double> wd_mult);
  /*! \brief MXNet's param_idx2name: the names that lr_mult and wd_mult are looked up by. */
  void SetParamNames(std::map<int, std::string> idx2name);
  const std::map<int, std::string>& param_names() const { return idx2name_; }
  const std::map<std::string, double>& lr_mult() const { return lr_mult_; }
  const std::map<std::string, double>& wd_mult() const { return wd_mult_; }
  /*! \brief The kwargs it was created with (to recreate it elsewhere: dist_async servers). */
  const op::AttrDict& kwargs() const { return kwargs_; }

  /*! \brief The scheduler's rate at num_update (advancing it), or the fixed rate. */
  double learning_rate() const;
  /*! \brief Sets the fixed rate; ValueError when a scheduler is set (MXNet's UserWarning). */
  void set_learning_rate(double lr);
  double wd() const { return wd_; }
  double rescale_grad() const { return rescale_grad_; }
  void set_rescale_grad(double rescale_grad) { rescale_grad_ = rescale_grad; }
  /*! \brief The largest per-index update count (begin_num_update before any update). */
  int64_t num_update() const { return num_update_; }
  /*! \brief The update count of one index (begin_num_update if it was never updated). */
  int64_t update_count(int index) const;
  /*! \brief How many parameters one push may update (1: one at a time). */
  int aggregate_num() const { return aggregate_num_; }
  /*! \brief The states of an index (empty if none yet); a float32 master copy comes last. */
  std::vector<NDArray> states(int index) const;

  /*!
   * \brief States, update counts and num_update as MXNet 1.x `.nd` list bytes (arrays named
   * "<index>:<k>", "<index>:master", plus "__counts__" and "__scalars__"). Waits for the states.
   */
  std::string SaveStates() const;
  /*! \brief Restores SaveStates bytes (replacing all states and counts). */
  void LoadStates(std::string_view bytes);
  /*!
   * \brief SaveStates into file `path`, written to `path`.tmp and renamed into place (the
   * `.states` files of Module, Trainer and KVStore). ValueError naming `caller` on an I/O error.
   */
  void SaveStatesFile(const std::string& path, std::string_view caller) const;
  /*! \brief LoadStates from file `path`; ValueError naming `caller` if it cannot be opened. */
  void LoadStatesFile(const std::string& path, std::string_view caller);

 protected:
  /*! \brief One parameter of an update group, with its rate and decay for this step. */
  struct Item {
    int index;
    NDArray weight;                //!< float32 master copy under multi_precision
    NDArray grad;                  //!< cast to float32 under multi_precision
    std::vector<NDArray>* states;  //!< from create_state, updated in place
    double lr, wd;
    int64_t t;  //!< this index's update count, this step included
  };

  /*!
   * \brief Reads the common hyper-parameters from kwargs (learning_rate defaulting to
   * `default_lr`); subclasses read theirs with Float/Bool/Int before CreateOptimizer checks
   * that every kwarg was used.
   */
  Optimizer(std::string name, const op::AttrDict& kwargs, double default_lr);

  /*! \brief Zero states for a weight (of the weight's dtype, float32 under multi_precision). */
  virtual std::vector<NDArray> CreateState(const NDArray& weight) = 0;
  /*! \brief Updates a group of parameters (one weight dtype, at most aggregate_num). */
  virtual void UpdateGroup(std::span<const Item> items) = 0;
  /*! \brief Optimizer-wide scalars beyond the counts to keep in SaveStates (Nadam's schedule). */
  virtual std::vector<double> SaveScalars() const { return {}; }
  virtual void LoadScalars(std::span<const double>) {}

  /*! \brief Kwarg readers: ValueError naming the optimizer and argument on a bad value. */
  double Float(std::string_view key, double fallback);
  std::optional<double> OptionalFloat(std::string_view key);  //!< absent or "None": nullopt
  bool Bool(std::string_view key, bool fallback);
  int64_t Int(std::string_view key, int64_t fallback);
  /*! \brief ValueError "<name>: argument '<key>' ... <what>" unless ok. */
  void Require(bool ok, std::string_view key, std::string_view what) const;

  /*! \brief clip_gradient as the fused ops take it: -1 (off) when unset or 0, as MXNet. */
  double clip_for_op() const { return clip_gradient_.value_or(0) ? *clip_gradient_ : -1.0; }

  std::string name_;
  double lr_;
  double wd_;
  double rescale_grad_;
  std::optional<double> clip_gradient_;
  bool multi_precision_;
  int64_t begin_num_update_;
  int aggregate_num_ = 1;

 private:
  friend std::unique_ptr<Optimizer> CreateOptimizer(std::string_view, const op::AttrDict&);
  struct ParamState {
    std::vector<NDArray> arrays;
    NDArray master;       //!< float32 copy of a float16 weight under multi_precision
    bool loaded = false;  //!< from LoadStates, not yet checked against its weight
  };
  /*! \brief ValueError unless loaded states fit the weight as CreateState would make them. */
  void CheckLoaded(int index, ParamState& st, const NDArray& weight);
  /*! \brief Counts `index` (MXNet's _update_count). */
  void Count(int index);
  double LrOf(int index, double base_lr) const;
  double WdOf(int index) const;
  void UpdateChunk(std::span<const int> indices, std::span<const NDArray> weights,
                   std::span<const NDArray> grads);

  op::AttrDict kwargs_;
  std::set<std::string, std::less<>> used_;
  std::shared_ptr<LRScheduler> scheduler_;
  std::map<std::string, double> lr_mult_, wd_mult_;
  std::map<int, std::string> idx2name_;
  std::map<int, int64_t> counts_;
  int64_t num_update_;
  std::map<int, ParamState> states_;
};

/*!
 * \brief Creates an optimizer by MXNet's name (case-insensitive): sgd, nag, signum, signsgd,
 * adam, adamw, adamax, nadam, adagrad, adadelta, rmsprop, ftrl, lamb. kwargs by MXNet's
 * argument names (learning_rate, wd, rescale_grad, clip_gradient, multi_precision,
 * begin_num_update, momentum, beta1, ...); an unknown name or argument, or a bad value, raises
 * ValueError naming both.
 */
std::unique_ptr<Optimizer> CreateOptimizer(std::string_view name, const op::AttrDict& kwargs = {});

/*! \brief Makes an optimizer from kwargs (which it must read through the Optimizer readers). */
using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(const op::AttrDict&)>;
/*! \brief Adds (or replaces) a name for CreateOptimizer, like `mx.optimizer.register`. */
void RegisterOptimizer(std::string name, OptimizerFactory factory);
/*! \brief The registered names, sorted. */
std::vector<std::string> ListOptimizers();

}  // namespace mixnet::optimizer
