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
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixnet/gluon/parameter.h"
#include "mixnet/op/attrs.h"
#include "mixnet/optimizer/optimizer.h"

namespace mixnet::gluon {

struct TrainerOptions {
  /*!
   * \brief "device" or "local": gradients of parameters kept on several contexts are summed
   * on the first and written back to all (MXNet's single-machine KVStore); one context needs
   * no reduction. "" or "none": no reduction. Distributed kinds ("dist_sync", ...) raise
   * NotImplementedError until mixnet has a KVStore.
   */
  std::string kvstore = "device";
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
   * AllreduceGrads and Update. ValueError naming a parameter whose gradient is stale, unless
   * `ignore_stale_grad` (then stale parameters are left as they are).
   */
  void Step(int batch_size, bool ignore_stale_grad = false);
  /*! \brief Sums each parameter's gradients over its contexts into all of them. */
  void AllreduceGrads();
  /*! \brief Step without AllreduceGrads (after calling it, or to reduce by hand). */
  void Update(int batch_size, bool ignore_stale_grad = false);

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
   * `.nd` list, as Module's `.states` files; MXNet's own Trainer pickles instead).
   */
  void SaveStates(const std::string& path) const;
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

  std::vector<ParameterPtr> params_;
  std::shared_ptr<optimizer::Optimizer> optimizer_;
  double scale_;  // the optimizer's rescale_grad at creation
  bool reduce_;   // sum over contexts
  /*! \brief Per parameter and context: the gradient's storage and its version when consumed. */
  struct GradMark {
    VarHandle var = nullptr;
    uint64_t version = 0;
  };
  std::vector<std::vector<GradMark>> consumed_;
};

}  // namespace mixnet::gluon
