// Common subexpression elimination: one node for each distinct computation.
//
// NOTE [ Common subexpressions ]
// Two nodes compute the same values when they apply the same op with the same attributes
// (parameters and hidden `__key__` attributes alike, compared as sets) to the same input
// entries after the same control dependencies. Walking the graph in topological order and
// rewriting each node's inputs to the survivors of earlier merges before comparing, a chain of
// duplicates (exp(x) and exp(x), then sin of each) merges in one walk. Kept apart: variables
// (distinct arguments even when their names clash), ops drawing random numbers (two Dropouts
// must draw independent masks) and ops writing their inputs (two BatchNorm updates of the
// moving stats are two updates). Zero-input ops without randomness (_zeros) merge like any
// other. Nodes are shared (NOTE [ Symbol nodes ]): a node whose inputs were rewritten is
// copied, and a node with nothing rewritten is kept as it is, so an untouched graph comes back
// with the very same nodes.
#include <algorithm>
#include <unordered_map>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {
namespace {

/*! \brief What makes two nodes interchangeable. */
struct Key {
  const op::OpDef* op = nullptr;
  op::AttrDict attrs;  // sorted by key
  std::vector<std::pair<const Node*, uint32_t>> inputs;
  std::vector<const Node*> control_deps;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = std::hash<const void*>()(k.op);
    auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    for (const auto& [key, value] : k.attrs) {
      mix(std::hash<std::string>()(key));
      mix(std::hash<std::string>()(value));
    }
    for (const auto& [node, index] : k.inputs) {
      mix(std::hash<const void*>()(node));
      mix(index);
    }
    for (const Node* c : k.control_deps)
      mix(std::hash<const void*>()(c));
    return h;
  }
};

/*! \brief Whether running the node twice may give different results or effects. */
bool MayMerge(const Node& n) {
  return !n.is_variable() && !n.op->needs_random && n.op->mutate_inputs(n.parsed()).empty();
}

}  // namespace

std::vector<NodeEntry> EliminateCommonSubexpressions(std::span<const NodeEntry> outputs) {
  const IndexedGraph g(outputs);
  // The surviving node of each node id (itself, a copy with rewritten inputs, or the node it
  // merged into).
  std::vector<std::shared_ptr<Node>> survivor(g.num_nodes());
  std::unordered_map<Key, std::shared_ptr<Node>, KeyHash> seen;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const std::shared_ptr<Node>& node = g[nid].node;
    std::shared_ptr<Node> current = node;
    // Inputs and control dependencies as rewritten by earlier merges.
    bool changed = false;
    std::vector<NodeEntry> inputs = node->inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::shared_ptr<Node>& s = survivor[g[nid].inputs[i].node_id];
      changed = changed || s != inputs[i].node;
      inputs[i].node = s;
    }
    std::vector<std::shared_ptr<Node>> deps = node->control_deps;
    for (size_t i = 0; i < deps.size(); ++i) {
      const std::shared_ptr<Node>& s = survivor[g[nid].control_deps[i]];
      changed = changed || s != deps[i];
      deps[i] = s;
    }
    if (changed) {
      current = std::make_shared<Node>(*node);  // keeps the parsed parameters
      current->inputs = std::move(inputs);
      current->control_deps = std::move(deps);
    }
    if (MayMerge(*current)) {
      Key key;
      key.op = current->op;
      key.attrs = current->attrs;
      std::sort(key.attrs.begin(), key.attrs.end());
      for (const NodeEntry& e : current->inputs)
        key.inputs.emplace_back(e.node.get(), e.index);
      for (const auto& c : current->control_deps)
        key.control_deps.push_back(c.get());
      current = seen.try_emplace(std::move(key), current).first->second;
    }
    survivor[nid] = std::move(current);
  }
  std::vector<NodeEntry> out;
  for (const auto& e : g.outputs())
    out.push_back({survivor[e.node_id], e.index});
  return out;
}

}  // namespace mixnet::sym::pass
