/*!
 * \file module.h
 * \brief Module: training and inference of a symbol with an executor (mx.mod.Module).
 *
 *   mod::Module m(net, {"data"}, {"softmax_label"});
 *   m.Fit(train_iter, {.eval_data = &val_iter, .optimizer = "sgd",
 *                      .optimizer_params = {{"learning_rate", "0.1"}}, .num_epoch = 5});
 *   m.SaveCheckpoint("lenet", 5);        // lenet-symbol.json + lenet-0005.params
 *
 * Over several contexts (MXNet's DataParallelExecutorGroup), one executor per context takes
 * its slice of each batch along axis 0:
 *
 *   mod::Module m(net, {"data"}, {"softmax_label"}, {Context::cpu(0), Context::cpu(1)});
 *   m.Fit(train_iter, {.kvstore = {.kind = "device"}});  // gradients summed over the contexts
 */
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mixnet/executor/executor.h"
#include "mixnet/initializer/initializer.h"
#include "mixnet/io/data_iter.h"
#include "mixnet/kvstore/kvstore.h"
#include "mixnet/metric/metric.h"
#include "mixnet/optimizer/optimizer.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::mod {

using ParamDict = std::map<std::string, NDArray>;
using exec::GradReq;

/*! \brief What epoch-end and batch-end callbacks see (MXNet's BatchEndParam). */
struct BatchEndParam {
  int epoch = 0;
  int nbatch = 0;
  const metric::EvalMetric* eval_metric = nullptr;
};

class Module;
using BatchEndCallback = std::function<void(const BatchEndParam&)>;
using EpochEndCallback =
    std::function<void(int epoch, const sym::Symbol&, const ParamDict& arg, const ParamDict& aux)>;

/*!
 * \brief MXNet's `kvstore` argument of init_optimizer and fit, with the module's
 * compression_params. MXNet's _create_kvstore rules: a given store is used; a kind's name makes
 * one unless the module has one context and the kind is not distributed; "" or "none": no store.
 */
struct KVStoreConfig {
  std::string kind = "local";
  std::shared_ptr<kvstore::KVStore> object;
  op::AttrDict compression_params;
};

/*! \brief Arguments of Module::Fit, named as in MXNet's fit(). */
struct FitOptions {
  io::DataIter* eval_data = nullptr;
  std::string eval_metric = "acc";
  /*! \brief Used instead of `eval_metric` when set, for training and validation (MXNet's fit
   * also takes an EvalMetric object: a composite, or one of the caller's). */
  std::shared_ptr<metric::EvalMetric> eval_metric_object;
  std::vector<BatchEndCallback> batch_end_callback;
  std::vector<EpochEndCallback> epoch_end_callback;
  std::vector<BatchEndCallback> eval_batch_end_callback;
  std::string optimizer = "sgd";
  op::AttrDict optimizer_params = {{"learning_rate", "0.01"}};
  /*! \brief Used instead of `optimizer` when set (MXNet's fit also takes an Optimizer): the
   * way to give a learning-rate schedule. Its rescale_grad is left as given. */
  std::shared_ptr<::mixnet::optimizer::Optimizer> optimizer_object;
  std::shared_ptr<const init::Initializer> initializer;  // default Uniform(0.01)
  const ParamDict* arg_params = nullptr;
  const ParamDict* aux_params = nullptr;
  bool allow_missing = false;
  bool force_rebind = false;
  bool force_init = false;
  int begin_epoch = 0;
  int num_epoch = 1;
  KVStoreConfig kvstore;
};

class Module {
 public:
  /*!
   * \brief `data_names` and `label_names` are the symbol's input arguments; every other
   * argument is a parameter (trained unless in `fixed_param_names`).
   */
  explicit Module(sym::Symbol symbol, std::vector<std::string> data_names = {"data"},
                  std::vector<std::string> label_names = {"softmax_label"},
                  Context ctx = Context::cpu(), std::vector<std::string> fixed_param_names = {});
  /*!
   * \brief Data parallelism over `contexts` (MXNet's `context=[...]`): Bind makes an executor
   * per context for its slice of the batch (MXNet's _split_input_slice, equal work loads),
   * Forward copies each slice to its context, GetOutputs concatenates the contexts' outputs,
   * Update sums the gradients through the kvstore (or updates each context with its own
   * gradient without one, as MXNet), GetParams averages the contexts' copies.
   */
  Module(sym::Symbol symbol, std::vector<std::string> data_names,
         std::vector<std::string> label_names, std::vector<Context> contexts,
         std::vector<std::string> fixed_param_names = {});
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // ---- setup ----
  void Bind(const std::vector<io::DataDesc>& data_shapes,
            const std::vector<io::DataDesc>& label_shapes = {}, bool for_training = true,
            bool inputs_need_grad = false, bool force_rebind = false,
            const Module* shared_module = nullptr, GradReq grad_req = GradReq::kWrite);
  /*! \brief Initializes parameters: copied from `arg_params`/`aux_params` where given, else
   * by `initializer` (allow_missing) ; ValueError naming a missing or mis-shaped parameter. */
  void InitParams(const init::Initializer* initializer = nullptr,
                  const ParamDict* arg_params = nullptr, const ParamDict* aux_params = nullptr,
                  bool allow_missing = false, bool force_init = false, bool allow_extra = false);
  /*!
   * \brief Creates the optimizer (rescale_grad 1 / batch_size, times the number of workers
   * for dist_sync kinds, as MXNet) and the store of `kvstore` (KVStoreConfig). With a store, the
   * parameters are init'ed on it (keys: their names) and pulled back, so every worker starts
   * from rank 0's values; update_on_kvstore is MXNET_UPDATE_ON_KVSTORE (default 1).
   */
  void InitOptimizer(const std::string& optimizer = "sgd",
                     const op::AttrDict& optimizer_params = {{"learning_rate", "0.01"}},
                     bool force_init = false, const KVStoreConfig& kvstore = {});
  /*! \brief Uses an optimizer object; its rescale_grad is left as given. */
  void InitOptimizer(std::shared_ptr<::mixnet::optimizer::Optimizer> optimizer,
                     bool force_init = false, const KVStoreConfig& kvstore = {});

  // ---- computation ----
  /*! \brief Copies the batch in (rebinding if its shapes differ) and runs forward. */
  void Forward(const io::DataBatch& batch, std::optional<bool> is_train = std::nullopt);
  void Backward(std::span<const NDArray> out_grads = {});
  /*! \brief Forward(batch, true) then Backward() (MXNet's forward_backward). */
  void ForwardBackward(const io::DataBatch& batch);
  /*! \brief One optimizer step on every trainable parameter: with a store, the gradients are
   * pushpulled first (summed over workers), or, with update_on_kvstore, pushed and the store's
   * updated weights pulled. */
  void Update();
  /*! \brief The outputs of the last Forward; over several contexts, concatenated along axis 0
   * on the first context (MXNet's merge_multi_context=True). */
  const std::vector<NDArray>& GetOutputs() const;
  /*! \brief The outputs of each context: [output][context] (merge_multi_context=False). */
  std::vector<std::vector<NDArray>> GetOutputsPerContext() const;
  /*! \brief Gradients of the data inputs (Bind with inputs_need_grad), merged as GetOutputs. */
  std::vector<NDArray> GetInputGrads() const;
  /*! \brief Per context: [input][context]. */
  std::vector<std::vector<NDArray>> GetInputGradsPerContext() const;
  /*! \brief Updates `metric` with each context's outputs and its slice of `labels` (MXNet's
   * exec_group.update_metric: one metric update per context). */
  void UpdateMetric(metric::EvalMetric& metric, const std::vector<NDArray>& labels) const;

  // ---- high level ----
  void Fit(io::DataIter& train_data, const FitOptions& options = {});
  /*! \brief Runs `eval_data` through the network and returns the metric's values; pad rows of
   * a batch are left out of the metric. */
  metric::NameValues Score(io::DataIter& eval_data, metric::EvalMetric& metric, int num_batch = -1,
                           bool reset = true, int epoch = 0,
                           const std::vector<BatchEndCallback>& batch_end_callback = {});
  /*! \brief Outputs for every batch, pad rows removed; merged along axis 0 (one per output). */
  std::vector<NDArray> Predict(io::DataIter& eval_data, int num_batch = -1, bool reset = true);

  // ---- parameters and checkpoints ----
  std::pair<ParamDict, ParamDict> GetParams() const;
  void SetParams(const ParamDict& arg_params, const ParamDict& aux_params,
                 bool allow_missing = false, bool force_init = true, bool allow_extra = false);
  /*! \brief PREFIX-symbol.json and PREFIX-%04d.params (`arg:`/`aux:` names); with
   * `save_optimizer_states`, PREFIX-%04d.states too. */
  void SaveCheckpoint(const std::string& prefix, int epoch,
                      bool save_optimizer_states = false) const;
  /*! \brief A module from a checkpoint; parameters are set when it is bound (mx.mod.Module.load).
   */
  static Module Load(const std::string& prefix, int epoch, bool load_optimizer_states = false,
                     std::vector<std::string> data_names = {"data"},
                     std::vector<std::string> label_names = {"softmax_label"},
                     Context ctx = Context::cpu());
  static Module Load(const std::string& prefix, int epoch, bool load_optimizer_states,
                     std::vector<std::string> data_names, std::vector<std::string> label_names,
                     std::vector<Context> contexts);
  void SaveOptimizerStates(const std::string& path) const;
  void LoadOptimizerStates(const std::string& path);

  // ---- state ----
  const sym::Symbol& symbol() const { return symbol_; }
  bool binded() const { return !execs_.empty(); }
  bool params_initialized() const { return params_initialized_; }
  bool optimizer_initialized() const { return optimizer_ != nullptr; }
  /*! \brief The store InitOptimizer made or was given (null without one). */
  const std::shared_ptr<kvstore::KVStore>& kvstore() const { return kv_; }
  bool update_on_kvstore() const { return update_on_kv_; }
  std::vector<io::DataDesc> data_shapes() const { return data_shapes_; }
  std::vector<io::DataDesc> label_shapes() const { return label_shapes_; }
  std::vector<std::string> output_names() const { return symbol_.ListOutputs(); }
  const std::vector<Context>& contexts() const { return contexts_; }
  /*! \brief The first context's executor of the current batch shapes (none before Bind). */
  exec::Executor* executor() const { return cur_.empty() ? nullptr : cur_[0]; }
  /*! \brief Each context's executor of the current batch shapes. */
  const std::vector<exec::Executor*>& executors() const { return cur_; }
  /*! \brief Each context's rows [begin, end) of the current batch. */
  const std::vector<std::pair<int64_t, int64_t>>& slices() const { return slices_; }

  /*! \brief Where Fit's progress lines and warnings go (MXNet's `logger`); default stderr. */
  using LogFn = std::function<void(const std::string& line)>;
  void set_logger(LogFn logger) { logger_ = std::move(logger); }

 private:
  void Log(const std::string& line) const;
  void CheckReady(const char* what, bool need_optimizer = false) const;
  /*! \brief Copies `arg`/`aux` into the executor's arrays (ValueError for unknown names or
   * shapes) and returns the names of parameters that `arg`/`aux` do not have. */
  std::vector<std::string> CopyParamsIn(const ParamDict* arg, const ParamDict* aux,
                                        bool allow_extra, const char* what);
  /*! \brief Copies the executors' parameters into arg_params_/aux_params_ (the average over
   * the contexts, as MXNet's exec_group.get_params). */
  void SyncParamsFromExecutor() const;
  /*! \brief Switches to executors for these shapes (MXNet's reshape in forward). */
  void Reshape(const std::vector<io::DataDesc>& data, const std::vector<io::DataDesc>& label);
  /*! \brief Each input's shape in context k's executor (its slice of the batch). */
  using Slices = std::vector<std::pair<int64_t, int64_t>>;
  std::unordered_map<std::string, Shape> SlicedShapes(const std::vector<io::DataDesc>& data,
                                                      const std::vector<io::DataDesc>& label,
                                                      const Slices& slices, size_t k) const;
  /*! \brief Rows [begin, end) of `a` for context k when `a` has the batch's rows, else `a`. */
  NDArray SliceFor(const NDArray& a, size_t k) const;
  /*! \brief Updates `metric` on the contexts' outputs and label slices, leaving out rows from
   * `valid_rows` on (pad rows). */
  void UpdateMetricRows(metric::EvalMetric& metric, const std::vector<NDArray>& labels,
                        int64_t valid_rows) const;
  /*! \brief [i][k] of per-context arrays, concatenated over k along axis 0 on contexts_[0]. */
  std::vector<NDArray> Merge(const std::vector<std::vector<NDArray>>& per_context,
                             const char* what) const;
  /*! \brief MXNet's _create_kvstore: sets kv_ and update_on_kv_. */
  void SetupKVStore(const KVStoreConfig& config);
  /*! \brief The batch size rescale_grad divides by (times the workers of a dist_sync store). */
  int64_t GlobalBatchSize() const;
  /*! \brief Installs the optimizer, then MXNet's _initialize_kvstore. */
  void InstallOptimizer(std::shared_ptr<::mixnet::optimizer::Optimizer> optimizer);

  sym::Symbol symbol_;
  std::vector<std::string> data_names_, label_names_, fixed_param_names_;
  std::vector<std::string> param_names_, aux_names_;
  // Positions in ListArguments of data_shapes_, label_shapes_ and param_names_.
  std::vector<size_t> data_args_, label_args_, param_args_;
  std::vector<Context> contexts_;
  std::vector<io::DataDesc> data_shapes_, label_shapes_;
  bool for_training_ = false, inputs_need_grad_ = false;
  GradReq grad_req_ = GradReq::kWrite;
  // Per context: bound for data_shapes given to Bind.
  std::vector<std::unique_ptr<exec::Executor>> execs_;
  // Executors for other batch shapes, sharing execs_'s arrays (keyed by the shapes).
  std::map<std::string, std::vector<std::unique_ptr<exec::Executor>>> reshaped_;
  std::vector<exec::Executor*> cur_;                 // the ones the last batch used
  std::vector<std::pair<int64_t, int64_t>> slices_;  // their rows of the batch
  int64_t batch_rows_ = 0;                           // the batch size slices_ split
  mutable std::vector<NDArray> merged_outputs_;      // GetOutputs over several contexts
  mutable ParamDict arg_params_, aux_params_;        // the module's own copies (GetParams)
  mutable bool params_dirty_ = false;                // the executor's arrays are newer
  bool params_initialized_ = false;
  std::shared_ptr<::mixnet::optimizer::Optimizer> optimizer_;  // shared with a shared_module
  std::optional<std::string> preload_opt_states_;
  std::shared_ptr<kvstore::KVStore> kv_;
  bool update_on_kv_ = false;
  LogFn logger_;
};

/*! \brief mx.model.load_checkpoint: the symbol and its `arg:`/`aux:` parameters. */
std::tuple<sym::Symbol, ParamDict, ParamDict> LoadCheckpoint(const std::string& prefix, int epoch);
/*! \brief mx.model.save_checkpoint. */
void SaveCheckpoint(const std::string& prefix, int epoch, const sym::Symbol& symbol,
                    const ParamDict& arg_params, const ParamDict& aux_params);

}  // namespace mixnet::mod
