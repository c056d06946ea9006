/*!
 * \file cached_op.h
 * \brief CachedOp: a symbol compiled once and called like an operator on NDArrays.
 *
 *   exec::CachedOp op(graph);                         // inputs: graph.ListInputs() order
 *   std::vector<NDArray> y = op({x, weight, bias});   // recorded by autograd when recording
 *
 * Each call binds (or reuses) an Executor for its input signature: shapes, dtypes, context,
 * training mode and which inputs need a gradient. A call recorded in predict mode (autograd
 * recording with train_mode off) replays the graph op by op instead, so autograd records it as
 * eager code (the executor differentiates training-mode forwards only). Executors are kept per
 * signature; a call while an earlier call's executor still waits for its backward takes another
 * one, so a block used twice in one recorded step gets correct gradients. Outputs are new arrays.
 *
 * Under autograd recording a call is one tape node (an autograd::Function) whose backward runs
 * the executor's backward and hands the input gradients to autograd, so variables get exactly
 * what eager recording would give them.
 */
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mixnet/executor/executor.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::exec {

class CachedOp {
 public:
  /*!
   * \brief `static_inputs[i]` marks input i as a parameter: bound as given and kept between
   * calls (a call with another array for it binds anew). Other inputs are copied into the
   * executor's own buffers on each call. Empty: no static inputs.
   */
  explicit CachedOp(sym::Symbol symbol, std::vector<bool> static_inputs = {},
                    const ExecutorOptions& options = {});
  ~CachedOp();
  CachedOp(const CachedOp&) = delete;
  CachedOp& operator=(const CachedOp&) = delete;

  const sym::Symbol& symbol() const { return symbol_; }
  /*! \brief The graph's inputs in call order (ListInputs: arguments and aux states). */
  const std::vector<std::string>& input_names() const { return input_names_; }
  /*! \brief Which inputs are auxiliary states (written by the graph: BatchNorm statistics). */
  const std::vector<bool>& is_aux() const { return is_aux_; }

  /*!
   * \brief Runs the graph. Training mode is autograd's flag (autograd::IsTraining()). ValueError
   * for a wrong number of inputs, or a shape the graph rejects (naming the input).
   * Auxiliary-state inputs are updated in place.
   */
  std::vector<NDArray> operator()(std::span<const NDArray> inputs);
  std::vector<NDArray> operator()(std::initializer_list<NDArray> inputs) {
    return (*this)(std::span<const NDArray>(inputs.begin(), inputs.size()));
  }

  /*! \brief Executors bound so far (all signatures). */
  size_t num_executors() const;

  /*! \brief Runs the graph op by op through Invoke: what autograd and traces see. */
  std::vector<NDArray> Replay(std::span<const NDArray> inputs) const;

  struct Slot;  // one bound executor (src/executor/cached_op.cc)
  struct Impl;

 private:
  /*! \brief Whether some bound executor writes gradient buffer `buf` directly. */
  bool WritesGradBuffer(const NDArray& buf) const;

  sym::Symbol symbol_;
  std::vector<std::string> input_names_;
  std::vector<bool> is_aux_;
  std::shared_ptr<Impl> impl_;  // shared with the tape nodes of recorded calls
};

}  // namespace mixnet::exec
