// Elementwise fusion, the search half: which chains of elementwise ops can run as one loop
// over tiles, their intermediate results never written to memory.
//
// NOTE [ Elementwise groups ]
// A group is grown backwards from its last node (the only one whose output is materialised):
// walking the nodes in reverse topological order, an elementwise node joins the group of its
// readers when every read of its output is by members of that one group, the output is not
// kept (graph outputs, entries the backward pass reads, monitored entries) and its shape and
// dtype, and those of all its inputs, are the group's. Otherwise it starts a group of its own.
// Every member then reaches the last node through members, so no outside node sits on a path
// between two members: the group can run at the last node's place in the order. Members are
// also consecutive op nodes in the order: a group spread over the order would keep its
// members' inputs alive until its last node (a chain of 35 gradient sums, fused, held all 35
// gradients). Inputs from outside the group may be read by anyone. Groups of one node are
// dropped.
#include <algorithm>
#include <cstdint>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {

std::vector<std::vector<uint32_t>> FindElemwiseGroups(const IndexedGraph& g,
                                                      const std::vector<Shape>& shapes,
                                                      const std::vector<int>& dtypes,
                                                      const std::vector<bool>& keep) {
  MX_INTERNAL_ASSERT(shapes.size() == g.num_entries() && dtypes.size() == g.num_entries() &&
                     keep.size() == g.num_entries());
  // Readers of each entry (a node reading it twice counts twice, which does not matter).
  std::vector<std::vector<uint32_t>> readers(g.num_entries());
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    for (const auto& e : g[nid].inputs)
      readers[g.entry_id(e)].push_back(nid);
  }
  std::vector<bool> kept = keep;
  for (const auto& e : g.outputs())
    kept[g.entry_id(e)] = true;

  // A node that may be in a group: elementwise, one output, inputs of the output's shape and
  // dtype.
  auto fusible = [&](uint32_t nid) {
    const Node& n = g.node(nid);
    if (n.is_variable() || !n.op->elementwise || g.num_outputs(nid) != 1) return false;
    const uint32_t out = g.entry_id(nid, 0);
    if (!shapes[out].is_known() || dtypes[out] < 0) return false;
    for (const auto& e : g[nid].inputs) {
      const uint32_t in = g.entry_id(e);
      if (!(shapes[in] == shapes[out]) || dtypes[in] != dtypes[out]) return false;
    }
    return true;
  };

  constexpr int kNone = -1;
  std::vector<int> group_of(g.num_nodes(), kNone);
  std::vector<std::vector<uint32_t>> groups;
  uint32_t next_op = UINT32_MAX;  // the op node after nid in the order
  for (uint32_t nid = static_cast<uint32_t>(g.num_nodes()); nid-- > 0;) {
    if (g.node(nid).is_variable()) continue;
    const uint32_t after = next_op;
    next_op = nid;
    if (!fusible(nid)) continue;
    const uint32_t out = g.entry_id(nid, 0);
    int joined = kNone;
    const auto& rs = readers[out];
    if (!kept[out] && !rs.empty()) {
      const int target = group_of[rs.front()];
      const bool one_group =
          std::all_of(rs.begin(), rs.end(), [&](uint32_t r) { return group_of[r] == target; });
      // Members are consecutive op nodes, so running the group at its last node's place
      // keeps no input alive longer (NOTE [ Elementwise groups ]).
      if (target != kNone && one_group && groups[static_cast<size_t>(target)].back() == after) {
        const uint32_t last = groups[static_cast<size_t>(target)].front();
        const uint32_t last_out = g.entry_id(last, 0);
        if (shapes[last_out] == shapes[out] && dtypes[last_out] == dtypes[out]) joined = target;
      }
    }
    if (joined == kNone) {
      joined = static_cast<int>(groups.size());
      groups.emplace_back();
    }
    group_of[nid] = joined;
    groups[static_cast<size_t>(joined)].push_back(nid);
  }

  std::vector<std::vector<uint32_t>> out;
  for (auto& grp : groups) {
    if (grp.size() < 2) continue;
    std::reverse(grp.begin(), grp.end());  // collected last node first
    out.push_back(std::move(grp));
  }
  // In the order the groups' last nodes run.
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.back() < b.back(); });
  return out;
}

}  // namespace mixnet::sym::pass
