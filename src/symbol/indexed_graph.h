// A graph's nodes numbered in topological order, for passes that keep per-node and per-entry
// attributes in flat vectors (nnvm's IndexedGraph).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "symbol/node.h"

namespace mixnet::sym {

/*!
 * \brief Calls `fn` on every node reachable from `heads` once, in depth-first post-order:
 * inputs in order, then control dependencies, then the node (MXNet's order, which fixes the
 * order of ListArguments and of the JSON nodes). Iterative: deep graphs do not overflow.
 */
void DFSVisit(std::span<const NodeEntry> heads,
              const std::function<void(const std::shared_ptr<Node>&)>& fn);

class IndexedGraph {
 public:
  struct Entry {
    uint32_t node_id = 0;
    uint32_t index = 0;
    bool operator==(const Entry&) const = default;
  };
  struct NodeInfo {
    std::shared_ptr<Node> node;
    std::vector<Entry> inputs;
    std::vector<uint32_t> control_deps;
  };

  explicit IndexedGraph(std::span<const NodeEntry> outputs);
  /*! \brief The same graph with its nodes numbered in `order`, a topological order of every
   * node reachable from `outputs` (pass::ScheduleForMemory). */
  IndexedGraph(std::span<const NodeEntry> outputs, std::span<const std::shared_ptr<Node>> order);

  size_t num_nodes() const { return nodes_.size(); }
  const NodeInfo& operator[](uint32_t nid) const { return nodes_[nid]; }
  const Node& node(uint32_t nid) const { return *nodes_[nid].node; }
  /*! \brief Entries are numbered node by node: entry_id(nid, i) = row_ptr[nid] + i. */
  uint32_t entry_id(uint32_t nid, uint32_t index) const { return row_ptr_[nid] + index; }
  uint32_t entry_id(const Entry& e) const { return entry_id(e.node_id, e.index); }
  size_t num_entries() const { return row_ptr_.back(); }
  uint32_t num_outputs(uint32_t nid) const { return row_ptr_[nid + 1] - row_ptr_[nid]; }
  const std::vector<uint32_t>& row_ptr() const { return row_ptr_; }
  /*! \brief Variable nodes, in topological order. */
  const std::vector<uint32_t>& input_nodes() const { return input_nodes_; }
  /*! \brief Variables some op writes in place (auxiliary states). */
  const std::vector<uint32_t>& mutable_input_nodes() const { return mutable_input_nodes_; }
  const std::vector<Entry>& outputs() const { return outputs_; }
  /*! \brief The id of `n`; internal error if it is not in the graph. */
  uint32_t node_id(const Node* n) const;
  bool has_node(const Node* n) const { return ids_.count(n) != 0; }
  /*! \brief How many node inputs and graph outputs read each entry. */
  std::vector<uint32_t> EntryRefCounts() const;

 private:
  void Add(const std::shared_ptr<Node>& n, std::unordered_set<uint32_t>* mutated);
  void Finish(std::span<const NodeEntry> outputs, const std::unordered_set<uint32_t>& mutated);

  std::vector<NodeInfo> nodes_;
  std::vector<uint32_t> row_ptr_{0};
  std::vector<uint32_t> input_nodes_, mutable_input_nodes_;
  std::vector<Entry> outputs_;
  std::unordered_map<const Node*, uint32_t> ids_;
};

}  // namespace mixnet::sym
