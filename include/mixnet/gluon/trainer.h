/*!
 * \file trainer.h
 * \brief gluon.Trainer: applies an optimizer to a set of parameters after backward.
 *
 *   gluon::Trainer trainer(net->CollectParams(), "sgd", {{"learning_rate", "0.1"}});
 *   for (auto& batch : data) {
 *     NDArray l;
 *     {
 *       autograd::RecordScope record;
 *       l = loss_fn({(*net)(batch.data[0]), batch.label[0]})[0];
 *     }
 *     autograd::Backward({l});
 *     trainer.Step(batch_size);   // rescale_grad = 1 / batch_size, then one optimizer update
 *   }
 *
 * As in MXNet 1.x: parameters are indexed by their sorted full names (the optimizer's index,
 * its update counts and its saved states use these indices); each step reads every parameter's
 * lr_mult and wd_mult (Gluon's rule: no name-based decay exemption for biases); a parameter
 * whose gradient backward did not write since the last step is an error unless
 * ignore_stale_grad, which skips it instead (NOTE [ Stale gradients ] in trainer.cc).
 *
 * Parameters on several contexts, or a distributed kvstore, go through a KVStore (MXNet 1.9's
 * rules, NOTE [ Trainer kvstore ] in trainer.cc): at the first step every parameter is
 * initialised on the store from its first context and pulled to all (in a distributed store,
 * rank 0's values reach every worker); each step pushpulls the gradients (summed over contexts
 * and workers) back into the gradients, or, with update_on_kvstore, into the weights after the
 * store's optimizer ran.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mixnet/gluon/parameter.h"
#include "mixnet/kvstore/kvstore.h"
#include "mixnet/op/attrs.h"
#include "mixnet/optimizer/optimizer.h"

namespace mixnet::gluon {

struct TrainerOptions {
  /*!
   * \brief The KVStore kind to create (kvstore::KVStore::Create): with one context, a
   * non-distributed kind ("device", "local") needs no store and none is created (MXNet). ""
   * or "none": no store (no reduction over contexts).
   */
  std::string kvstore = "device";
  /*! \brief A store given by the caller (MXNet's KVStore object); used instead of `kvstore`. */
  std::shared_ptr<kvstore::KVStore> kvstore_object;
  /*!
   * \brief Whether the store runs the optimizer (its SetOptimizer). Unset: false, except for
   * dist_async, which needs it (an explicit false raises ValueError there).
   */
  std::optional<bool> update_on_kvstore;
  /*! \brief MXNet's compression_params for KVStore::SetGradientCompression (empty: none). */
  op::AttrDict compression_params;
};

class Trainer {
 public:
  /*!
   * \brief Creates optimizer `optimizer` (a registered name) from `optimizer_params` (MXNet's
   * argument names). All parameters must be on the same contexts.
   */
  Trainer(ParameterDict params, std::string optimizer, op::AttrDict optimizer_params = {},
          TrainerOptions options = {});
  /*!
   * \brief Uses a ready optimizer (its rescale_grad scales every step's 1 / batch_size). It is
   * shared so that its owner (Python's mx.optimizer object) can keep using it, as in MXNet.
   */
  Trainer(ParameterDict params, std::shared_ptr<optimizer::Optimizer> optimizer,
          TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /*!
   * \brief One update: rescale_grad = rescale_grad given at creation / batch_size, then
   * AllreduceGrads and Update (with update_on_kvstore: one pushpull of gradients into weights).
   * ValueError naming a parameter whose gradient is stale, unless `ignore_stale_grad` (then
   * stale parameters are left as they are).
   */
  void Step(int batch_size, bool ignore_stale_grad = false);
  /*! \brief Sums each parameter's gradients over its contexts (and workers) into all of them.
   * ValueError with update_on_kvstore (MXNet). */
  void AllreduceGrads();
  /*! \brief Step without AllreduceGrads (after calling it, or to reduce by hand). ValueError
   * with update_on_kvstore (MXNet). */
  void Update(int batch_size, bool ignore_stale_grad = false);

  /*! \brief The store, once the first step (or AllreduceGrads, states I/O) created it; null
   * when none is needed. */
  const std::shared_ptr<kvstore::KVStore>& kvstore();
  /*! \brief Whether the store runs the optimizer (false without a store). */
  bool update_on_kvstore();
  /*! \brief Whether the store is distributed ("dist_*"). */
  bool distributed();

  /*! \brief The optimizer's current rate (its scheduler's, when it has one). */
  double learning_rate() const;
  /*! \brief ValueError when the optimizer has an LRScheduler (MXNet's UserWarning). */
  void SetLearningRate(double lr);
  optimizer::Optimizer& optimizer() { return *optimizer_; }
  const optimizer::Optimizer& optimizer() const { return *optimizer_; }
  /*! \brief The parameters in index order (sorted by name). */
  const std::vector<ParameterPtr>& params() const { return params_; }

  /*!
   * \brief Writes the optimizer's states and update counts (Optimizer::SaveStates: an MXNet
   * `.nd` list, as Module's `.states` files; MXNet's own Trainer pickles instead); through
   * the store with update_on_kvstore.
   */
  void SaveStates(const std::string& path);
  /*! \brief Restores SaveStates' file into this trainer's optimizer. */
  void LoadStates(const std::string& path);

 private:
  void Init(ParameterDict params, TrainerOptions options);
  /*! \brief Scales by 1 / batch_size; ValueError for batch_size <= 0. */
  void Rescale(const char* what, int batch_size);
  /*! \brief Whether parameter `index`'s gradient on its `ctx`-th context was written since
   * this trainer consumed it (NOTE [ Stale gradients ] in trainer.cc). */
  bool Fresh(size_t index, size_t ctx, const NDArray& grad) const;
  void MarkConsumed(size_t index, size_t ctx, const NDArray& grad);
  void UpdateParams(bool ignore_stale_grad);
  /*! \brief MXNet's _init_kvstore (once) and _init_params (parameters not yet on the store). */
  void InitKVStore();
  /*! \brief Sets this step's lr/wd multipliers; returns the parameters to update (fresh ones),
   * raising for a stale one unless ignore_stale_grad. */
  std::vector<size_t> CollectFresh(bool ignore_stale_grad);

  std::vector<ParameterPtr> params_;
  TrainerOptions options_;
  bool kv_initialized_ = false;
  std::shared_ptr<kvstore::KVStore> kv_;
  bool update_on_kv_ = false;
  std::vector<bool> on_kv_;  // per parameter: initialised on the store
  std::shared_ptr<optimizer::Optimizer> optimizer_;
  double scale_;  // the optimizer's rescale_grad at creation
  /*! \brief Per parameter and context: the gradient's storage and its version when consumed. */
  struct GradMark {
    VarHandle var = nullptr;
    uint64_t version = 0;
  };
  std::vector<std::vector<GradMark>> consumed_;
};

}  // namespace mixnet::gluon
