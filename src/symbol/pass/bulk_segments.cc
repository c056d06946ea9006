// Bulk execution: consecutive op nodes pushed to the engine as one op, so that a graph of
// small ops pays the engine's per-push cost once per run of nodes (MXNet's bulk segments,
// MXNET_EXEC_BULK_EXEC_MAX_NODE_TRAIN).
#include <algorithm>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {

std::vector<std::vector<uint32_t>> BulkSegments(const IndexedGraph& g, uint32_t begin, uint32_t end,
                                                int max_nodes,
                                                const std::function<bool(uint32_t)>& must_break) {
  MX_INTERNAL_ASSERT(begin <= end && end <= g.num_nodes())
      << "bulk segments over nodes [" << begin << ", " << end << ") of " << g.num_nodes();
  const size_t limit = static_cast<size_t>(std::max(1, max_nodes));
  std::vector<std::vector<uint32_t>> segments;
  std::vector<uint32_t> run;
  auto flush = [&] {
    if (!run.empty()) segments.push_back(std::move(run));
    run.clear();
  };
  for (uint32_t nid = begin; nid < end; ++nid) {
    if (g.node(nid).is_variable()) continue;
    if (must_break && must_break(nid)) {
      flush();
      run.push_back(nid);
      flush();
      continue;
    }
    run.push_back(nid);
    if (run.size() == limit) flush();
  }
  flush();
  return segments;
}

}  // namespace mixnet::sym::pass
