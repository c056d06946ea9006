#include "symbol/indexed_graph.h"

#include <unordered_set>

namespace mixnet::sym {

void DFSVisit(std::span<const NodeEntry> heads,
              const std::function<void(const std::shared_ptr<Node>&)>& fn) {
  std::unordered_set<const Node*> visited;
  // (node, next child to visit); children are inputs, then control dependencies.
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack;
  for (const NodeEntry& head : heads) {
    if (!head.node || !visited.insert(head.node.get()).second) continue;
    stack.emplace_back(head.node, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const size_t n_children = node->inputs.size() + node->control_deps.size();
      if (next < n_children) {
        const size_t i = next++;
        const std::shared_ptr<Node>& child = i < node->inputs.size()
                                                 ? node->inputs[i].node
                                                 : node->control_deps[i - node->inputs.size()];
        if (child && visited.insert(child.get()).second) stack.emplace_back(child, 0);
      } else {
        const std::shared_ptr<Node> done = node;
        stack.pop_back();
        fn(done);
      }
    }
  }
}

IndexedGraph::IndexedGraph(std::span<const NodeEntry> outputs) {
  std::unordered_set<uint32_t> mutated;
  DFSVisit(outputs, [&](const std::shared_ptr<Node>& n) { Add(n, &mutated); });
  Finish(outputs, mutated);
}

IndexedGraph::IndexedGraph(std::span<const NodeEntry> outputs,
                           std::span<const std::shared_ptr<Node>> order) {
  std::unordered_set<uint32_t> mutated;
  for (const auto& n : order)
    Add(n, &mutated);
  Finish(outputs, mutated);
}

void IndexedGraph::Add(const std::shared_ptr<Node>& n, std::unordered_set<uint32_t>* mutated) {
  const auto nid = static_cast<uint32_t>(nodes_.size());
  ids_[n.get()] = nid;
  NodeInfo info;
  info.node = n;
  for (size_t i = 0; i < n->inputs.size(); ++i) {
    const NodeEntry& e = n->inputs[i];
    auto src = ids_.find(e.node.get());
    MX_INTERNAL_ASSERT(src != ids_.end()) << "node order: " << n->name << " before its inputs";
    info.inputs.push_back({src->second, e.index});
    if (!n->is_variable() && nodes_[src->second].node->is_variable() && IsMutatedInput(*n, i)) {
      mutated->insert(src->second);
    }
  }
  for (const auto& c : n->control_deps)
    info.control_deps.push_back(ids_.at(c.get()));
  if (n->is_variable()) input_nodes_.push_back(nid);
  nodes_.push_back(std::move(info));
  row_ptr_.push_back(row_ptr_.back() + n->num_outputs());
}

void IndexedGraph::Finish(std::span<const NodeEntry> outputs,
                          const std::unordered_set<uint32_t>& mutated) {
  for (uint32_t nid : input_nodes_) {
    if (mutated.count(nid)) mutable_input_nodes_.push_back(nid);
  }
  for (const NodeEntry& e : outputs)
    outputs_.push_back({ids_.at(e.node.get()), e.index});
}

uint32_t IndexedGraph::node_id(const Node* n) const {
  auto it = ids_.find(n);
  MX_INTERNAL_ASSERT(it != ids_.end()) << "node " << n->name << " is not in the graph";
  return it->second;
}

std::vector<uint32_t> IndexedGraph::EntryRefCounts() const {
  std::vector<uint32_t> refs(num_entries(), 0);
  for (const NodeInfo& n : nodes_) {
    for (const Entry& e : n.inputs)
      ++refs[entry_id(e)];
  }
  for (const Entry& e : outputs_)
    ++refs[entry_id(e)];
  return refs;
}

}  // namespace mixnet::sym
