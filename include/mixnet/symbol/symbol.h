/*!
 * \file symbol.h
 * \brief Symbol: a graph of registered operators built before any data exists (mx.sym).
 *
 *   namespace sym = mixnet::sym;
 *   sym::Symbol data = sym::Symbol::Variable("data");
 *   sym::Symbol fc1 = sym::Symbol::Create("FullyConnected", {data}, {{"num_hidden", "128"}},
 *                                         "fc1");      // creates fc1_weight and fc1_bias
 *   sym::Symbol act = sym::Symbol::Create("Activation", {fc1}, {{"act_type", "relu"}});
 *   auto shapes = act.InferShape({{"data", Shape{64, 784}}});
 *   std::string json = act.ToJSON();                  // MXNet 1.x -symbol.json
 *
 * A Symbol is a list of outputs of graph nodes. Nodes are shared and immutable once composed
 * (except their attributes, through SetAttr), so symbols are cheap to copy and combine. The
 * node type is private (src/symbol/node.h); graph passes and executors use it from inside.
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mixnet/base/dtype.h"
#include "mixnet/base/shape.h"
#include "mixnet/op/attrs.h"

namespace mixnet::sym {

struct Node;  // a variable or an op application (src/symbol/node.h)

/*! \brief Output `index` of `node`. */
struct SymbolOutput {
  std::shared_ptr<Node> node;
  uint32_t index = 0;
};

/*! \brief Variable attributes that MXNet stores as hidden `__key__` attributes. */
struct VariableOptions {
  std::optional<Shape> shape;        // __shape__
  std::optional<DType> dtype;        // __dtype__
  std::optional<std::string> init;   // __init__, an initializer's JSON: ["zero", {}]
  std::optional<double> lr_mult;     // __lr_mult__
  std::optional<double> wd_mult;     // __wd_mult__
  std::optional<std::string> stype;  // __storage_type__
  op::AttrDict attrs;                // any other attributes, kept as given
};

/*! \brief Inferred shapes (or dtypes) of arguments, outputs and auxiliary states, in list order. */
template <typename T>
struct InferResult {
  std::vector<T> arg, out, aux;
  /*! \brief Whether everything is known (always true from the non-partial InferShape). */
  bool complete = true;
};

class Symbol {
 public:
  /*! \brief An empty symbol (no outputs). */
  Symbol() = default;
  explicit Symbol(std::vector<SymbolOutput> outputs) : outputs_(std::move(outputs)) {}

  // ---- construction ----
  /*! \brief A variable (mx.sym.var); ValueError for an empty name. */
  static Symbol Variable(const std::string& name, const VariableOptions& options = {});
  /*!
   * \brief Applies registered op `op` (or an alias): `inputs` fill the op's inputs in order;
   * inputs not given become variables named NAME_INPUT (fc1_weight, bn_moving_mean). Without a
   * name, one is made from the op name and a per-thread counter (fullyconnected0). Attributes
   * named `__key__` are hidden attributes (kept, not parsed); the rest are op parameters,
   * checked now. Ops taking any number of inputs (Concat, add_n) take exactly `inputs`.
   */
  static Symbol Create(std::string_view op, std::span<const Symbol> inputs,
                       const op::AttrDict& attrs = {}, const std::string& name = "");
  static Symbol Create(std::string_view op, std::initializer_list<Symbol> inputs,
                       const op::AttrDict& attrs = {}, const std::string& name = "") {
    return Create(op, std::span<const Symbol>(inputs.begin(), inputs.size()), attrs, name);
  }
  /*! \brief The same with inputs by name ({"data", x}, {"weight", w}); others are created. */
  static Symbol CreateNamed(std::string_view op,
                            const std::vector<std::pair<std::string, Symbol>>& inputs,
                            const op::AttrDict& attrs = {}, const std::string& name = "");
  /*! \brief All outputs of `symbols`, in order (mx.sym.Group). */
  static Symbol Group(std::span<const Symbol> symbols);
  static Symbol Group(std::initializer_list<Symbol> symbols) {
    return Group(std::span<const Symbol>(symbols.begin(), symbols.size()));
  }

  // ---- outputs ----
  size_t NumOutputs() const { return outputs_.size(); }
  /*! \brief Output `i` alone; IndexError naming the count if out of range. */
  Symbol operator[](size_t i) const;
  /*! \brief The output called `name` (as ListOutputs names it); ValueError if none or several. */
  Symbol operator[](std::string_view name) const;
  const std::vector<SymbolOutput>& outputs() const { return outputs_; }

  // ---- listing (MXNet's order: depth-first, inputs in order) ----
  std::vector<std::string> ListArguments() const;
  /*! \brief NAME_OUTPUT for each output ("fc1_output", "bn_mean"); a variable's is its name. */
  std::vector<std::string> ListOutputs() const;
  /*! \brief Variables that ops write in place (BatchNorm's moving_mean and moving_var). */
  std::vector<std::string> ListAuxiliaryStates() const;
  /*! \brief Every variable: arguments and auxiliary states, in depth-first order. */
  std::vector<std::string> ListInputs() const;

  // ---- names and attributes ----
  /*! \brief The name of a single-output symbol's node; ValueError for a group. */
  std::string name() const;
  /*! \brief Attribute `key` of a single-output symbol's node (op parameters included). */
  std::optional<std::string> Attr(const std::string& key) const;
  /*! \brief All attributes of this symbol's node (mx.sym.Symbol.list_attr). */
  std::map<std::string, std::string> ListAttr() const;
  /*! \brief NODE_NAME -> its attributes, for every node with attributes (attr_dict). */
  std::map<std::string, std::map<std::string, std::string>> AttrDict() const;
  /*! \brief Sets attributes on the node of a single-output symbol (hidden `__key__` ones or,
   * for variables, any). Changing an op parameter is refused: compose a new node instead. */
  void SetAttr(const std::string& key, const std::string& value);

  // ---- structure ----
  /*! \brief Every output of every node, in topological order (get_internals). */
  Symbol GetInternals() const;
  /*! \brief The inputs of this symbol's node as a group, or an empty symbol for a variable. */
  Symbol GetChildren() const;
  /*! \brief A deep copy: new nodes with the same names and attributes. */
  Symbol Copy() const;

  // ---- inference ----
  /*!
   * \brief Shapes of everything from the shapes of some arguments (by name). ValueError if a
   * shape stays unknown, naming what is missing, or when shapes conflict, naming the node,
   * the argument and both shapes.
   */
  InferResult<Shape> InferShape(const std::unordered_map<std::string, Shape>& known) const;
  /*! \brief The same, but unknown shapes are left unknown (infer_shape_partial). */
  InferResult<Shape> InferShapePartial(const std::unordered_map<std::string, Shape>& known) const;
  /*! \brief DTypes from some arguments' dtypes; unknown ones default to float32 as in MXNet. */
  InferResult<DType> InferType(const std::unordered_map<std::string, DType>& known) const;

  // ---- MXNet symbol JSON (src/symbol/json.cc) ----
  std::string ToJSON() const;
  /*! \brief Reads MXNet 0.8-1.9 JSON; ValueError naming the node or key for malformed input. */
  static Symbol FromJSON(std::string_view json);
  void Save(const std::string& path) const;
  static Symbol Load(const std::string& path);

  /*! \brief Debug text: one line per node with its op, name and inputs. */
  std::string DebugStr() const;

 private:
  std::vector<SymbolOutput> outputs_;
};

// ---- arithmetic (MXNet's operators on symbols) ----
Symbol operator+(const Symbol& a, const Symbol& b);  // elemwise_add (_Plus)
Symbol operator-(const Symbol& a, const Symbol& b);
Symbol operator*(const Symbol& a, const Symbol& b);
Symbol operator/(const Symbol& a, const Symbol& b);
Symbol operator+(const Symbol& a, double s);  // _plus_scalar
Symbol operator-(const Symbol& a, double s);
Symbol operator*(const Symbol& a, double s);
Symbol operator/(const Symbol& a, double s);
Symbol operator+(double s, const Symbol& a);
Symbol operator-(double s, const Symbol& a);  // _rminus_scalar
Symbol operator*(double s, const Symbol& a);
Symbol operator/(double s, const Symbol& a);  // _rdiv_scalar
Symbol operator-(const Symbol& a);            // negative
Symbol Pow(const Symbol& a, const Symbol& b);
Symbol Pow(const Symbol& a, double s);

/*!
 * \brief Automatic names: NameManager's per-thread counters (op name in lower case + count)
 * and an optional prefix (mx.name.Prefix). A scope restores the previous state when it ends.
 */
class NameScope {
 public:
  /*! \brief Fresh counters, and `prefix` before every name made or given inside the scope. */
  explicit NameScope(std::string prefix = "");
  ~NameScope();
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;

 private:
  std::shared_ptr<void> saved_;
};

/*! \brief Attributes given to every node created inside the scope (mx.AttrScope). */
class AttrScope {
 public:
  explicit AttrScope(op::AttrDict attrs);
  ~AttrScope();
  AttrScope(const AttrScope&) = delete;
  AttrScope& operator=(const AttrScope&) = delete;

 private:
  op::AttrDict saved_;
};

}  // namespace mixnet::sym
