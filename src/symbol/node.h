// The graph behind a Symbol: nodes applying registered ops to entries of other nodes.
//
// NOTE [ Symbol nodes ]
// A Node is a variable (op == nullptr) or one application of a registered op. `attrs` keeps
// every attribute in the order given, as MXNet's JSON does: op parameters and hidden `__key__`
// attributes alike. The op sees only the parameters (ParsedAttrs drops hidden keys). Nodes are
// shared by every Symbol and graph that reaches them, so passes that rewrite a graph make new
// nodes and never edit reachable ones.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mixnet/op/op_info.h"
#include "mixnet/symbol/symbol.h"
#include "operator/op_def.h"

namespace mixnet::sym {

/*! \brief Output `index` of `node` (MXNet's NodeEntry; version is for mutated variables). */
using NodeEntry = SymbolOutput;

struct Node {
  const op::OpDef* op = nullptr;  // null: a variable
  std::string name;
  op::AttrDict attrs;
  std::vector<NodeEntry> inputs;
  std::vector<std::shared_ptr<Node>> control_deps;

  bool is_variable() const { return op == nullptr; }
  /*! \brief The op's parsed parameters (hidden attributes removed), parsed once. */
  const op::Attrs& parsed() const;
  std::shared_ptr<const op::Attrs> SharedParsed() const {
    parsed();
    return parsed_;
  }
  /*! \brief Outputs of the node: 1 for a variable. */
  uint32_t num_outputs() const;
  /*! \brief The outputs a symbol shows (OpDef::visible_outputs): the first ones. */
  uint32_t num_visible_outputs() const {
    const auto n = static_cast<int>(num_outputs());
    return op ? static_cast<uint32_t>(op::NumVisibleOutputs(op, n)) : num_outputs();
  }
  /*! \brief The attribute `key`, or null. */
  const std::string* FindAttr(std::string_view key) const;
  void SetAttr(const std::string& key, const std::string& value);
  /*! \brief Drops the cached parse (after an op parameter changed). */
  void Reparse() { parsed_.reset(); }

  static std::shared_ptr<Node> MakeVariable(std::string name, op::AttrDict attrs = {});
  /*! \brief An op node; parses (and so checks) the parameters now. */
  static std::shared_ptr<Node> MakeOp(const op::OpDef& op, std::string name, op::AttrDict attrs,
                                      std::vector<NodeEntry> inputs);

 private:
  mutable std::shared_ptr<const op::Attrs> parsed_;
};

/*! \brief `__key__`: a hidden attribute, not an op parameter. */
bool IsHiddenKey(std::string_view key);

/*!
 * \brief Input `i` of `node` is written in place by its op: it is an auxiliary state if a
 * variable feeds it (BatchNorm's moving_mean).
 */
bool IsMutatedInput(const Node& node, size_t i);

}  // namespace mixnet::sym
