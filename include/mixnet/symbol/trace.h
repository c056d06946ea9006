/*!
 * \file trace.h
 * \brief Deferred compute: recording imperative NDArray code as a Symbol graph while it runs.
 *
 *   sym::TraceScope trace;
 *   NDArray x = trace.Variable(input, "data");      // reads of x read the variable "data"
 *   NDArray w = trace.Variable(weight, "fc_weight");
 *   NDArray y = op::FullyConnected(x, w, NDArray(), {.num_hidden = 10, .no_bias = true});
 *   sym::Symbol graph = trace.GetSymbol({y});       // FullyConnected(data, fc_weight)
 *
 * While a TraceScope is alive on a thread, every op that thread invokes (and every NDArray
 * view: Reshape, Slice, At) is computed as usual and also recorded as a symbol node: each
 * array carries the node that produced it (NDArray::TraceEntry). Ops with no inputs (zeros,
 * random) become nodes too. An array read inside the trace that neither is a variable nor was
 * produced inside it cannot be replayed; GetSymbol reports it, naming the op that read it.
 */
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::sym {

class TraceScope {
 public:
  TraceScope();
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

  /*!
   * \brief `x` (same storage) as variable `name` of the graph; the same name twice gives the
   * same variable. `options` become the variable's attributes (shape, lr_mult, ...).
   */
  NDArray Variable(const NDArray& x, const std::string& name, const VariableOptions& options = {});
  /*! \brief The variables made so far, with the arrays they stand for, in creation order. */
  const std::vector<std::pair<std::string, NDArray>>& variables() const { return variables_; }
  /*!
   * \brief The graph computing `outputs` from the variables. ValueError if an output was not
   * computed inside the trace, or if the graph reads an array from outside it (naming the op).
   */
  Symbol GetSymbol(std::span<const NDArray> outputs) const;

  /*! \brief The innermost trace active on this thread, or null. */
  static TraceScope* Current();

  struct State;  // the graph being built (src/symbol/trace.cc)
  State& state() { return *state_; }

 private:
  TraceScope* prev_;
  std::unique_ptr<State> state_;
  std::vector<std::pair<std::string, NDArray>> variables_;
};

}  // namespace mixnet::sym
