#include "symbol/node.h"

#include "operator/attrs_cache.h"

namespace mixnet::sym {

bool IsHiddenKey(std::string_view key) {
  return key.size() > 4 && key.starts_with("__") && key.ends_with("__");
}

const op::Attrs& Node::parsed() const {
  MX_INTERNAL_ASSERT(op != nullptr) << "variable " << name << " has no op parameters";
  if (!parsed_) {
    op::AttrDict params;
    for (const auto& kv : attrs) {
      if (!IsHiddenKey(kv.first)) params.push_back(kv);
    }
    try {
      parsed_ = op::CachedAttrs(*op, params);
    } catch (const Error& e) {
      MX_THROW(ValueError) << "node '" << name << "': " << e.what();
    }
  }
  return *parsed_;
}

uint32_t Node::num_outputs() const {
  if (!op) return 1;
  const op::Attrs& a = parsed();
  return static_cast<uint32_t>(op->static_outputs ? op->static_outputs->size() : op->NumOutputs(a));
}

const std::string* Node::FindAttr(std::string_view key) const {
  for (const auto& [k, v] : attrs) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Node::SetAttr(const std::string& key, const std::string& value) {
  for (auto& [k, v] : attrs) {
    if (k == key) {
      v = value;
      return;
    }
  }
  attrs.emplace_back(key, value);
}

std::shared_ptr<Node> Node::MakeVariable(std::string name, op::AttrDict attrs) {
  auto n = std::make_shared<Node>();
  n->name = std::move(name);
  n->attrs = std::move(attrs);
  return n;
}

std::shared_ptr<Node> Node::MakeOp(const op::OpDef& op, std::string name, op::AttrDict attrs,
                                   std::vector<NodeEntry> inputs) {
  auto n = std::make_shared<Node>();
  n->op = &op;
  n->name = std::move(name);
  n->attrs = std::move(attrs);
  n->inputs = std::move(inputs);
  n->parsed();  // parameters are checked when the node is made
  return n;
}

bool IsMutatedInput(const Node& node, size_t i) {
  if (node.is_variable()) return false;
  for (int m : node.op->mutate_inputs(node.parsed())) {
    if (static_cast<size_t>(m) == i) return true;
  }
  return false;
}

}  // namespace mixnet::sym
