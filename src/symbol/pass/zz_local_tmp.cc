// LOCAL ONLY, not committed: until the passes branch merges.
#include "symbol/pass/passes.h"
namespace mixnet::sym::pass {
std::vector<NodeEntry> EliminateCommonSubexpressions(std::span<const NodeEntry> outputs) {
  return {outputs.begin(), outputs.end()};
}
MirrorFn PlanMirror(const IndexedGraph&, const std::vector<Shape>&, const std::vector<int>&, bool) {
  return nullptr;
}
}  // namespace mixnet::sym::pass
