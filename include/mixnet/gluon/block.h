/*!
 * \file block.h
 * \brief Gluon blocks: layers and models built from child blocks and parameters.
 *
 *   class Net : public gluon::HybridBlock {
 *    public:
 *     Net() : HybridBlock("net") {
 *       gluon::BlockScope scope(this);          // with self.name_scope():
 *       fc1_ = RegisterChild(std::make_shared<nn::Dense>(128, nn::DenseOptions{.activation =
 * "relu"}), "fc1"); fc2_ = RegisterChild(std::make_shared<nn::Dense>(10), "fc2");
 *     }
 *     std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
 *       return (*fc2_)((*fc1_)(x));
 *     }
 *    private:
 *     std::shared_ptr<nn::Dense> fc1_, fc2_;
 *   };
 *   auto net = std::make_shared<Net>();
 *   net->Initialize();
 *   net->Hybridize();                          // traced on the first call, then replayed
 *   NDArray y = (*net)(x);
 *
 * Naming follows MXNet 1.x: a block's prefix is its alias and a counter ("dense0_"), or, inside
 * a parent's BlockScope, the parent's prefix plus the alias and a per-parent counter
 * ("net0_dense1_"). Parameters are named prefix + name ("net0_dense1_weight"); save_parameters
 * uses structural names instead ("fc1.weight"), from the names children and parameters were
 * registered under.
 *
 * Hybridization (NOTE [ Hybridize ] in src/gluon/hybrid_block.cc): HybridForward is written once
 * against NDArray. A hybridized block traces it (sym::TraceScope: each op called is also
 * recorded as a symbol node) into a graph whose variables are the inputs ("data", or "data0",
 * "data1", ...) and the parameters (by full name); the graph is optimised and bound by a
 * CachedOp, cached per input signature (shapes, dtypes, context), and replayed. Under
 * autograd recording the replay is one tape node whose gradient runs the graph's backward.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/gluon/parameter.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::exec {
class CachedOp;
}

namespace mixnet::gluon {

class Block;
using BlockPtr = std::shared_ptr<Block>;

/*!
 * \brief hybridize(static_alloc=..., static_shape=...). mixnet binds one executor per input
 * signature and keeps it, which is what both flags ask MXNet for: they are accepted and change
 * nothing (docs/mxnet-differences.md).
 */
struct HybridizeOptions {
  bool static_alloc = false;
  bool static_shape = false;
};

/*! \brief Naming arguments every block takes (MXNet's prefix= and params=). */
struct BlockArgs {
  /*! \brief The prefix of this block's names; none: alias + counter, "" for no prefix. */
  std::optional<std::string> prefix;
  /*! \brief Parameters to share: Get finds names there before creating new ones. */
  std::optional<ParameterDict> params;
};

/*!
 * \brief `with block.name_scope():` — while alive, blocks created on this thread are named
 * inside `block` (and symbol names get its prefix). As in MXNet, a block made with prefix ""
 * opens no scope: its children are named in the enclosing one.
 */
class BlockScope {
 public:
  explicit BlockScope(Block* block);
  ~BlockScope();
  BlockScope(const BlockScope&) = delete;
  BlockScope& operator=(const BlockScope&) = delete;

 private:
  Block* prev_;
  bool active_;
  std::unique_ptr<sym::NameScope> sym_scope_;
};

/*! \brief Resets this thread's top-level block counters (dense0, dense1, ...). */
void ResetBlockNames();

class Block : public std::enable_shared_from_this<Block> {
 public:
  /*! \brief `alias` is the lowercase class name MXNet uses for the prefix ("dense", "conv"). */
  explicit Block(std::string alias, BlockArgs args = {});
  virtual ~Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  const std::string& prefix() const { return prefix_; }
  /*! \brief The prefix without its trailing '_'. */
  const std::string& name() const { return name_; }
  const std::string& alias() const { return alias_; }

  // ---- structure ----
  /*! \brief Registers `child` under `name` (default: its index, as MXNet); returns it. */
  template <typename T>
  std::shared_ptr<T> RegisterChild(std::shared_ptr<T> child, std::string name = "") {
    AddChild(child, std::move(name));
    return child;
  }
  const std::vector<std::pair<std::string, BlockPtr>>& children() const { return children_; }
  /*! \brief This block's own parameter dict (full names). */
  ParameterDict& params() { return params_; }
  const ParameterDict& params() const { return params_; }
  /*!
   * \brief Creates (or finds, when shared) parameter `name` in params() and registers it under
   * `name` for structural naming: self.weight = self.params.get('weight', ...).
   */
  ParameterPtr RegisterParameter(const std::string& name, Shape shape = Shape(),
                                 ParameterOptions options = {});
  /*! \brief Registers a constant (self.const = self.params.get_constant(name, value)). */
  ParameterPtr RegisterConstant(const std::string& name, const NDArray& value);
  /*! \brief Parameters registered on this block itself, by registered name. */
  const std::vector<std::pair<std::string, ParameterPtr>>& reg_params() const {
    return reg_params_;
  }
  /*! \brief Every parameter of this block and its children; `select` is a regex on names. */
  ParameterDict CollectParams(const std::string& select = "") const;
  /*! \brief Structural name ("features.0.weight") -> parameter, in registration order. */
  std::vector<std::pair<std::string, ParameterPtr>> CollectParamsWithPrefix(
      const std::string& prefix = "") const;

  // ---- whole-model operations ----
  void Initialize(init::InitializerPtr init = nullptr, std::vector<Context> ctxs = {},
                  bool verbose = false, bool force_reinit = false);
  /*! \brief Converts every parameter to `dtype` (and drops cached graphs). */
  virtual void Cast(DType dtype);
  /*! \brief Calls fn on every block (children first, then this), as MXNet's apply. */
  void Apply(const std::function<void(Block&)>& fn);
  void ZeroGrad();
  /*! \brief Hybridizes every HybridBlock below (a plain Block only recurses). */
  virtual void Hybridize(bool active = true, const HybridizeOptions& options = {});

  // ---- checkpoints (MXNet .params: a dict of arrays) ----
  /*! \brief Saves parameters under structural names; with `deduplicate` a shared parameter
   * is saved once (under its first name). */
  void SaveParameters(const std::string& path, bool deduplicate = false) const;
  /*!
   * \brief Loads a file written by SaveParameters (structural names) or by MXNet's legacy
   * save_params (full names: no '.' in any name). ValueError naming the file and the
   * parameter for a missing one (unless allow_missing), an extra one (unless ignore_extra), or
   * a shape that differs. `cast_dtype` converts to the block's dtypes.
   */
  void LoadParameters(const std::string& path, std::vector<Context> ctxs = {},
                      bool allow_missing = false, bool ignore_extra = false,
                      bool cast_dtype = false);

  // ---- calling ----
  /*! \brief Runs the pre-hooks, Forward, then the hooks. */
  std::vector<NDArray> operator()(const std::vector<NDArray>& inputs);
  /*! \brief One input, one output (ValueError if the block returns several). */
  NDArray operator()(const NDArray& x);
  virtual std::vector<NDArray> Forward(const std::vector<NDArray>& inputs) = 0;

  using ForwardPreHook = std::function<void(Block&, const std::vector<NDArray>&)>;
  using ForwardHook =
      std::function<void(Block&, const std::vector<NDArray>&, const std::vector<NDArray>&)>;
  /*! \brief Returns a handle for RemoveHook. */
  size_t RegisterForwardPreHook(ForwardPreHook hook);
  size_t RegisterForwardHook(ForwardHook hook);
  void RemoveHook(size_t handle);

  /*! \brief Runs the inputs through and returns MXNet's summary table (layers, output shapes,
   * parameter counts, totals). */
  std::string Summary(const std::vector<NDArray>& inputs);
  /*! \brief MXNet's __repr__: "Dense(784 -> 10, linear)", containers list their children. */
  virtual std::string Repr() const;
  /*! \brief The class name Repr and Summary show ("Dense"); a Python subclass's own name. */
  virtual std::string ClassName() const;

 protected:
  /*! \brief The "(a -> b, act)" part of Repr for a layer; default: children listed. */
  virtual std::string ReprArgs() const { return ""; }
  /*! \brief Drops cached graphs here and below (after Cast or a context change). */
  virtual void ClearCache();
  /*! \brief Replaces the registered parameters (SymbolBlock names them after the graph). */
  void SetRegisteredParams(std::vector<std::pair<std::string, ParameterPtr>> params) {
    reg_params_ = std::move(params);
  }

 private:
  friend class BlockScope;
  void AddChild(BlockPtr child, std::string name);

  std::string alias_, prefix_, name_;
  bool empty_prefix_;  // made with prefix "": BlockScope does nothing (MXNet's _empty_prefix)
  ParameterDict params_;
  std::vector<std::pair<std::string, BlockPtr>> children_;
  std::vector<std::pair<std::string, ParameterPtr>> reg_params_;
  std::map<std::string, int> child_counter_;  // alias -> count, for children's prefixes
  std::vector<std::pair<size_t, ForwardPreHook>> pre_hooks_;
  std::vector<std::pair<size_t, ForwardHook>> hooks_;
  size_t next_hook_ = 0;
};

/*!
 * \brief A block whose forward can be traced into a graph. Subclasses write HybridForward
 * against NDArray, reading parameters with param->data(x.ctx()); when the shapes of some
 * parameters are unknown until the first input, they override InferShape.
 */
class HybridBlock : public Block {
 public:
  using Block::Block;
  ~HybridBlock() override;

  void Hybridize(bool active = true, const HybridizeOptions& options = {}) override;
  bool hybridized() const { return active_; }
  /*!
   * \brief Eager: finishes deferred initialisation of this block's own parameters (InferShape)
   * then runs HybridForward. Hybridized (and not inside another block's trace): replays the
   * cached graph for this input signature, tracing it first if new.
   */
  std::vector<NDArray> Forward(const std::vector<NDArray>& inputs) final;
  virtual std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) = 0;
  /*!
   * \brief Sets the unknown dimensions of this block's own parameters from the inputs.
   * Default: ValueError naming the parameters whose shape is unknown.
   */
  virtual void InferShape(const std::vector<NDArray>& inputs);

  /*!
   * \brief The traced graph for inputs like these (runs the forward once). Its variables are
   * "data" (or "data0", "data1", ...) and the parameters' full names.
   */
  sym::Symbol Trace(const std::vector<NDArray>& inputs);
  /*!
   * \brief Writes `path-symbol.json` and `path-EPOCH.params` (arg:/aux: names) from the graph
   * of the last call (hybridize and call the block first, as in MXNet). Returns both paths.
   */
  std::pair<std::string, std::string> Export(const std::string& path, int epoch = 0) const;
  /*! \brief How many times this block traced its forward (one per new input signature). */
  size_t num_traces() const { return num_traces_; }

 protected:
  void ClearCache() override;
  /*! \brief The graph of the last call, for Export. */
  sym::Symbol last_symbol_;

 private:
  struct CacheEntry;
  std::vector<NDArray> CallCached(const std::vector<NDArray>& inputs);
  sym::Symbol TraceForward(const std::vector<NDArray>& inputs, std::vector<NDArray>* out);
  void FinishOwnDeferredInit(const std::vector<NDArray>& inputs);

  bool active_ = false;
  HybridizeOptions options_;
  std::map<std::string, std::shared_ptr<CacheEntry>> cache_;  // by input signature
  size_t num_traces_ = 0;
};

/*!
 * \brief A block running a given symbol (gluon.SymbolBlock): the graph's inputs named in
 * `input_names` are the block's inputs, every other variable a parameter (aux states too).
 */
class SymbolBlock : public HybridBlock {
 public:
  SymbolBlock(sym::Symbol outputs, std::vector<std::string> input_names, BlockArgs args = {});
  /*!
   * \brief SymbolBlock.imports: loads `symbol_file` (MXNet JSON) and, when given, `param_file`
   * (arg:/aux: names, or plain names) into the parameters; ValueError naming a parameter the
   * file lacks or one the graph does not use.
   */
  static std::shared_ptr<SymbolBlock> Imports(const std::string& symbol_file,
                                              const std::vector<std::string>& input_names,
                                              const std::string& param_file = "",
                                              std::vector<Context> ctxs = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  const sym::Symbol& symbol() const { return symbol_; }

 private:
  sym::Symbol symbol_;
  std::vector<std::string> input_names_;
  std::shared_ptr<exec::CachedOp> op_;
};

}  // namespace mixnet::gluon
