// Node order for memory: the backward pass scheduled greedily by net allocation.
//
// NOTE [ Backward schedule ]
// The depth-first order of a graph follows one output at a time. For a backward pass that is
// poor: a node yields several gradients at once (an LSTM step's FullyConnected gradient
// gives dx, dweight and dbias), and depth-first order runs the whole chain behind one output
// before the sums that consume the other gradients, so 35 steps' weight gradients stay alive
// together. So the backward pass is list-scheduled: of the nodes whose inputs exist, one that
// frees more bytes (inputs read for the last time) than it allocates runs at once, the one
// freeing most first; otherwise the lowest node id runs, which keeps depth-first order.
// (Choosing by net bytes alone also for allocating nodes made the LSTM's plan worse: it
// starts many cheap chains at once.) The forward pass keeps its order.
#include <algorithm>
#include <limits>
#include <unordered_set>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {

std::vector<std::shared_ptr<Node>> ScheduleForMemory(const IndexedGraph& g, uint32_t begin,
                                                     const std::vector<size_t>& entry_bytes) {
  const auto n = static_cast<uint32_t>(g.num_nodes());
  std::vector<std::shared_ptr<Node>> order;
  order.reserve(n);
  std::vector<uint32_t> refs = g.EntryRefCounts();  // graph outputs hold a reference forever
  for (uint32_t nid = 0; nid < begin; ++nid) {
    order.push_back(g[nid].node);
    for (const auto& e : g[nid].inputs)
      --refs[g.entry_id(e)];
  }
  // Unscheduled producers each node waits for, and who waits for each node.
  std::vector<uint32_t> waiting(n, 0);
  std::vector<std::vector<uint32_t>> users(n);
  std::vector<uint32_t> ready;
  for (uint32_t nid = begin; nid < n; ++nid) {
    std::unordered_set<uint32_t> deps;
    for (const auto& e : g[nid].inputs) {
      if (e.node_id >= begin) deps.insert(e.node_id);
    }
    for (uint32_t c : g[nid].control_deps) {
      if (c >= begin) deps.insert(c);
    }
    waiting[nid] = static_cast<uint32_t>(deps.size());
    for (uint32_t d : deps)
      users[d].push_back(nid);
    if (deps.empty()) ready.push_back(nid);
  }
  // Bytes `nid` allocates minus the bytes of inputs it reads for the last time.
  auto net = [&](uint32_t nid) {
    int64_t bytes = 0;
    for (uint32_t i = 0; i < g.num_outputs(nid); ++i)
      bytes += static_cast<int64_t>(entry_bytes[g.entry_id(nid, i)]);
    const auto& inputs = g[nid].inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const uint32_t eid = g.entry_id(inputs[i]);
      bool first = true;  // count each distinct input once
      uint32_t reads = 0;
      for (size_t j = 0; j < inputs.size(); ++j) {
        if (g.entry_id(inputs[j]) != eid) continue;
        first = first && j >= i;
        ++reads;
      }
      if (first && refs[eid] == reads) bytes -= static_cast<int64_t>(entry_bytes[eid]);
    }
    return bytes;
  };
  while (!ready.empty()) {
    size_t best = 0;
    int64_t best_net = std::numeric_limits<int64_t>::max();
    for (size_t k = 0; k < ready.size(); ++k) {
      const int64_t b = std::min<int64_t>(net(ready[k]), 0);
      if (b < best_net || (b == best_net && ready[k] < ready[best])) {
        best = k;
        best_net = b;
      }
    }
    const uint32_t nid = ready[best];
    ready[best] = ready.back();
    ready.pop_back();
    order.push_back(g[nid].node);
    for (const auto& e : g[nid].inputs)
      --refs[g.entry_id(e)];
    for (uint32_t u : users[nid]) {
      if (--waiting[u] == 0) ready.push_back(u);
    }
  }
  MX_INTERNAL_ASSERT(order.size() == n) << "schedule: the graph has a cycle";
  return order;
}

}  // namespace mixnet::sym::pass
