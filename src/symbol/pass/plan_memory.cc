// Memory planning: buffers shared between arrays whose lifetimes do not overlap.
//
// NOTE [ Memory planning ]
// Nodes run in topological (node id) order. An entry lives from the node that writes it to the
// last node that reads it; graph outputs (`keep`) live to the end. Walking the nodes once, an
// output takes, in order of preference: the buffer of an input that dies at this node and that
// the op may overwrite (its in-place pairs); the smallest free buffer at least as big, unless
// it is more than kMatchRange times too big; the biggest free buffer, grown to fit; a new
// buffer. The engine orders every use of a buffer through its variable, so reuse is safe
// however the ops are scheduled.
#include <algorithm>
#include <map>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {
namespace {
constexpr size_t kMatchRange = 16;  // as MXNET_EXEC_MATCH_RANGE's default

size_t EntryBytes(const MemoryPlanRequest& r, uint32_t eid) {
  const Shape& s = (*r.shapes)[eid];
  const int t = (*r.dtypes)[eid];
  MX_INTERNAL_ASSERT(s.is_known() && t >= 0) << "memory planning needs every shape and dtype";
  return static_cast<size_t>(s.Size()) * DTypeSize(static_cast<DType>(t));
}
}  // namespace

MemoryPlan PlanMemory(const MemoryPlanRequest& r) {
  const IndexedGraph& g = *r.graph;
  MemoryPlan plan;
  plan.storage_id.assign(g.num_entries(), -1);
  plan.inplace.assign(g.num_entries(), false);
  std::vector<uint32_t> refs = g.EntryRefCounts();
  for (size_t e = 0; e < refs.size(); ++e) {
    if (r.keep[e]) ++refs[e];  // never released
  }
  std::multimap<size_t, int> free_buffers;  // bytes -> buffer
  std::vector<size_t> held;                 // per buffer: the bytes of the entry it holds
  size_t live = 0;                          // bytes of the entries alive now
  auto release = [&](int sid) {
    if (sid < 0) return;
    free_buffers.emplace(plan.storage_bytes[static_cast<size_t>(sid)], sid);
    live -= held[static_cast<size_t>(sid)];
    held[static_cast<size_t>(sid)] = 0;
  };
  auto new_buffer = [&](size_t bytes) {
    plan.storage_bytes.push_back(bytes);
    return static_cast<int>(plan.storage_bytes.size()) - 1;
  };

  // A fused group runs where its last node is: every member's reads happen there.
  std::vector<std::vector<IndexedGraph::Entry>> reads(g.num_nodes());
  std::vector<bool> deferred(g.num_nodes(), false);
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid)
    reads[nid] = g[nid].inputs;
  if (r.groups) {
    for (const auto& group : *r.groups) {
      std::vector<IndexedGraph::Entry>& last = reads[group.back()];
      for (size_t k = 0; k + 1 < group.size(); ++k) {
        deferred[group[k]] = true;
        last.insert(last.end(), g[group[k]].inputs.begin(), g[group[k]].inputs.end());
      }
    }
  }

  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const Node& n = g.node(nid);
    if (n.is_variable() || deferred[nid]) continue;
    const auto& inputs = reads[nid];
    std::vector<bool> input_taken(inputs.size(), false);
    for (uint32_t o = 0; o < g.num_outputs(nid); ++o) {
      const uint32_t eid = g.entry_id(nid, o);
      if (r.skip[eid]) continue;
      const size_t bytes = EntryBytes(r, eid);
      plan.unplanned_bytes += bytes;
      int sid = -1;
      if (r.share && r.inplace) {
        for (const auto& [in_i, out_i] : n.op->in_place) {
          if (static_cast<uint32_t>(out_i) != o || input_taken[static_cast<size_t>(in_i)]) continue;
          const uint32_t in_eid = g.entry_id(inputs[static_cast<size_t>(in_i)]);
          const int in_sid = plan.storage_id[in_eid];
          if (in_sid < 0 || plan.storage_bytes[static_cast<size_t>(in_sid)] < bytes) continue;
          // The input must die here: every remaining read of it is this node's.
          uint32_t reads_here = 0;
          for (const auto& e : inputs)
            reads_here += g.entry_id(e) == in_eid ? 1 : 0;
          if (refs[in_eid] != reads_here || reads_here != 1) continue;
          // No other output of this node may already sit in that buffer.
          bool used = false;
          for (uint32_t p = 0; p < o; ++p)
            used = used || plan.storage_id[g.entry_id(nid, p)] == in_sid;
          if (used) continue;
          sid = in_sid;
          input_taken[static_cast<size_t>(in_i)] = true;
          plan.inplace[eid] = true;
          ++plan.inplace_entries;
          break;
        }
      }
      if (sid < 0 && r.share && !free_buffers.empty()) {
        auto it = free_buffers.lower_bound(bytes);
        if (it != free_buffers.end() && it->first <= bytes * kMatchRange) {
          sid = it->second;
        } else if (it == free_buffers.end()) {
          --it;  // the biggest free buffer is too small: grow it
          sid = it->second;
          plan.storage_bytes[static_cast<size_t>(sid)] = bytes;
        }
        if (sid >= 0) {
          free_buffers.erase(it);
          ++plan.shared_entries;
        }
      }
      if (sid < 0) sid = new_buffer(bytes);
      plan.storage_id[eid] = sid;
      held.resize(plan.storage_bytes.size(), 0);
      if (!plan.inplace[eid]) {
        held[static_cast<size_t>(sid)] = bytes;
        live += bytes;
      }
    }
    plan.peak_live_bytes = std::max(plan.peak_live_bytes, live);  // inputs and outputs alive
    // Inputs read for the last time here give their buffers back (unless taken in place).
    for (size_t i = 0; i < inputs.size(); ++i) {
      const uint32_t in_eid = g.entry_id(inputs[i]);
      MX_INTERNAL_ASSERT(refs[in_eid] > 0);
      if (--refs[in_eid] == 0 && !input_taken[i]) release(plan.storage_id[in_eid]);
    }
    // Outputs nobody reads die at once.
    for (uint32_t o = 0; o < g.num_outputs(nid); ++o) {
      const uint32_t eid = g.entry_id(nid, o);
      if (refs[eid] == 0) release(plan.storage_id[eid]);
    }
  }
  for (size_t b : plan.storage_bytes)
    plan.planned_bytes += b;
  return plan;
}

}  // namespace mixnet::sym::pass
