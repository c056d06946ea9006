/*!
 * \file executor.h
 * \brief A symbol bound to arrays and compiled for repeated runs (MXNet's Executor).
 *
 *   auto exec = exec::Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{64, 784}}});
 *   exec->arg_dict().at("data") ...        // fill inputs
 *   exec->Forward(true);
 *   exec->Backward();                      // gradients land in grad_dict()
 *
 * Binding builds one graph holding the forward pass and, when any gradient is wanted, its
 * gradient graph; then runs the graph passes (shape and dtype inference, common
 * subexpressions, mirroring, elementwise fusion, memory planning, bulk segments) once. Each
 * Forward/Backward pushes the precompiled kernel calls to the engine and returns at once;
 * outputs and gradients are NDArrays synchronised as usual.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/base/context.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::exec {

using autograd::GradReq;

/*! \brief How much memory the plan saves; bytes of the executor's internal arrays only
 * (arguments, gradients and auxiliary states bound from outside are not counted). */
struct MemoryReport {
  size_t unplanned_bytes = 0;  // every intermediate array its own buffer
  size_t planned_bytes = 0;    // the buffers the plan allocates
  size_t peak_live_bytes = 0;  // the most bytes alive at once (a lower bound for planned)
  size_t inplace_entries = 0;  // outputs that reuse an input's buffer
  size_t shared_entries = 0;   // outputs that reuse a dead array's buffer
  size_t num_buffers = 0;
  size_t mirrored_nodes = 0;  // forward nodes recomputed in the backward pass
  size_t fused_groups = 0;    // elementwise chains run as one loop
  size_t bulk_segments = 0;   // engine pushes per forward + backward
};

/*!
 * \brief Compile-time choices; the defaults read MXNet's environment variables:
 * MXNET_BACKWARD_DO_MIRROR (mirroring), MXNET_EXEC_BULK_EXEC_TRAIN and
 * MXNET_EXEC_BULK_EXEC_MAX_NODE_TRAIN (bulk segments), MXNET_EXEC_ENABLE_INPLACE, and
 * MIXNET_EXEC_PLAN_MEMORY, MIXNET_EXEC_FUSE, MIXNET_EXEC_CSE (mixnet's own switches).
 */
struct ExecutorOptions {
  ExecutorOptions();
  bool plan_memory;  // share buffers between arrays whose lifetimes do not overlap
  bool inplace;      // let outputs take a dying input's buffer (op's in-place pairs)
  bool cse;          // merge identical computations
  bool fuse_elemwise;
  /*! \brief Recompute cheap forward results in the backward pass instead of keeping them:
   * nodes with `__force_mirroring__` always; with `mirror` on, an automatic sqrt(N) plan. */
  bool mirror;
  int bulk_max_nodes;  // ops per engine push; 1 disables bulking
  /*!
   * \brief A bulk segment whose steps touch at most this many elements in all (inputs and
   * outputs, parameters included) runs on one thread, in the pushing thread when its inputs
   * are ready (NOTE [ Serial segments ]); 0 disables. MIXNET_EXEC_SERIAL_ELEMENTS.
   */
  int64_t serial_segment_elements;
  /*! \brief Fold Convolution -> BatchNorm [-> relu] chains into one convolution in graphs
   * bound with inference_only (NOTE [ Conv BatchNorm folding ]). MIXNET_EXEC_FUSE_CONV_BN. */
  bool fuse_conv_bn;
  /*! \brief Forward only ever runs with is_train false and no gradient is computed, so
   * passes may specialise the graph for inference (CachedOp sets it for predict-mode calls). */
  bool inference_only = false;
};

class Executor {
 public:
  virtual ~Executor() = default;

  /*!
   * \brief Binds `symbol` to arrays in ListArguments order (`args`, `arg_grads`, one
   * `grad_reqs` each; a none gradient array means no gradient) and ListAuxiliaryStates order
   * (`aux_states`). `shared` lends its buffers and planned memory (another executor of the
   * same network, for bucketing); it must outlive this one.
   */
  static std::unique_ptr<Executor> Bind(const sym::Symbol& symbol, Context ctx,
                                        std::vector<NDArray> args, std::vector<NDArray> arg_grads,
                                        std::vector<GradReq> grad_reqs,
                                        std::vector<NDArray> aux_states,
                                        const Executor* shared = nullptr,
                                        const ExecutorOptions& options = {});
  /*!
   * \brief Infers every shape and dtype from those given, allocates arguments, gradients
   * (for `grad_req` != null; per-argument `grad_reqs` override it) and auxiliary states. With
   * `shared`, arguments of the same name and shape are shared with it.
   */
  static std::unique_ptr<Executor> SimpleBind(
      const sym::Symbol& symbol, Context ctx, const std::unordered_map<std::string, Shape>& shapes,
      const std::unordered_map<std::string, DType>& dtypes = {}, GradReq grad_req = GradReq::kWrite,
      const std::unordered_map<std::string, GradReq>& grad_reqs = {},
      const Executor* shared = nullptr, const ExecutorOptions& options = {});

  /*! \brief Runs the forward pass; `is_train` selects training behaviour (Dropout, BatchNorm). */
  virtual void Forward(bool is_train = false) = 0;
  /*! \brief Copies `inputs` (by argument name) into the bound arguments, then runs Forward. */
  virtual void Forward(bool is_train, const std::unordered_map<std::string, NDArray>& inputs) = 0;
  /*!
   * \brief Runs the backward pass of the last Forward(true). `out_grads` are the gradients of
   * the outputs (loss layers ignore theirs); none given means ones.
   */
  virtual void Backward(std::span<const NDArray> out_grads = {}) = 0;

  virtual const std::vector<NDArray>& outputs() const = 0;
  virtual const std::vector<NDArray>& arg_arrays() const = 0;
  virtual const std::vector<NDArray>& grad_arrays() const = 0;
  virtual const std::vector<NDArray>& aux_arrays() const = 0;
  virtual const std::vector<GradReq>& grad_reqs() const = 0;
  std::map<std::string, NDArray> arg_dict() const;
  std::map<std::string, NDArray> grad_dict() const;
  std::map<std::string, NDArray> aux_dict() const;
  std::map<std::string, NDArray> output_dict() const;
  virtual const sym::Symbol& symbol() const = 0;
  virtual Context context() const = 0;

  /*!
   * \brief A new executor for new input shapes, sharing this one's arrays where their shapes
   * are unchanged (MXNet's reshape). Arguments whose shape changes are reallocated only with
   * `allow_up_sizing` when bigger; `partial_shaping` allows shapes not given to change.
   */
  virtual std::unique_ptr<Executor> Reshape(const std::unordered_map<std::string, Shape>& shapes,
                                            bool partial_shaping = false,
                                            bool allow_up_sizing = false) const = 0;

  /*!
   * \brief Calls `callback(name, array)` for each op output as it is computed (NAME_OUTPUT
   * names, as in get_internals), and for inputs too with `monitor_all`. Disables bulking.
   */
  using MonitorCallback = std::function<void(const std::string&, const NDArray&)>;
  virtual void SetMonitorCallback(MonitorCallback callback, bool monitor_all = false) = 0;

  virtual MemoryReport memory_report() const = 0;
  /*! \brief The compiled graph: one line per node with its buffer and segment. */
  virtual std::string DebugStr() const = 0;
};

}  // namespace mixnet::exec
