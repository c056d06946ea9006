// Mirroring (MXNet's memonger): forward results recomputed in the backward pass instead of
// kept alive from the forward pass to their gradient.
//
// NOTE [ Mirror plan ]
// Gradient() reads, for every mirrored forward node, a `_mirror` copy made from the copies of
// its mirrored inputs, down to the nearest nodes that are not mirrored; only those nodes'
// outputs stay alive between forward and backward. The plan:
//  - never mirrored: variables; expensive ops (Convolution, Deconvolution, FullyConnected,
//    dot, batch_dot, RNN), whose recomputation costs as much as the pass saves; ops drawing
//    random numbers (a second Dropout would draw another mask); ops writing their inputs
//    (BatchNorm in training updates the moving stats: recomputing would update them twice);
//  - `__force_mirroring__` = True/1 mirrors a node, False/0 keeps it, whatever the plan;
//  - with the automatic plan, the forward op nodes (in topological order) are cut into
//    stages; the last node of a stage is its boundary and is kept, every other node of the
//    stage is mirrored. The backward pass of a stage then recomputes the stage from the
//    previous boundary (and from the kept expensive ops inside it), so only the boundaries'
//    outputs, the never-mirrored nodes' outputs and one stage of recomputed results are alive
//    at once. Nodes with a `__mirror_stage__` attribute (True/1) are the boundaries when the
//    graph has any; else the nodes are cut into round(sqrt(N)) stages of about equal output
//    bytes (N forward op nodes), which minimises kept plus recomputed bytes for a chain
//    (Chen et al., "Training deep nets with sublinear memory cost"). Nodes producing graph
//    outputs are kept by the executor anyway and are not mirrored by the automatic plan.
#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_set>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {
namespace {

/*! \brief An attribute read as a flag: nullopt when absent. */
std::optional<bool> Flag(const Node& n, std::string_view key) {
  const std::string* v = n.FindAttr(key);
  if (!v) return std::nullopt;
  if (*v == "True" || *v == "true" || *v == "1") return true;
  if (*v == "False" || *v == "false" || *v == "0") return false;
  MX_THROW(ValueError) << "mirror: node '" << n.name << "' has " << key << " = '" << *v
                       << "'; expected True, False, 1 or 0";
}

bool MayMirror(const Node& n) {
  if (n.is_variable() || n.op->needs_random || !n.op->mutate_inputs(n.parsed()).empty()) {
    return false;
  }
  static const std::unordered_set<std::string_view> kExpensive = {
      "Convolution", "Deconvolution", "FullyConnected", "dot", "batch_dot", "RNN"};
  return kExpensive.count(n.op->name) == 0;
}

/*! \brief The automatic plan's stage boundaries, per node id. */
std::vector<bool> StageBoundaries(const IndexedGraph& g, const std::vector<Shape>& shapes,
                                  const std::vector<int>& dtypes) {
  std::vector<bool> boundary(g.num_nodes(), false);
  std::vector<uint32_t> ops;
  bool marked = false;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (g.node(nid).is_variable()) continue;
    ops.push_back(nid);
    if (Flag(g.node(nid), "__mirror_stage__").value_or(false)) boundary[nid] = marked = true;
  }
  if (marked || ops.empty()) return boundary;
  // Output bytes per node; unknown shapes count as one byte so that stages still form.
  std::vector<double> bytes;
  double total = 0;
  for (uint32_t nid : ops) {
    double b = 0;
    for (uint32_t i = 0; i < g.num_outputs(nid); ++i) {
      const uint32_t eid = g.entry_id(nid, i);
      const bool known =
          eid < shapes.size() && shapes[eid].is_known() && eid < dtypes.size() && dtypes[eid] >= 0;
      b += known ? static_cast<double>(shapes[eid].Size()) *
                       static_cast<double>(DTypeSize(static_cast<DType>(dtypes[eid])))
                 : 1.0;
    }
    bytes.push_back(b);
    total += b;
  }
  const auto stages = std::max<size_t>(
      1, static_cast<size_t>(std::lround(std::sqrt(static_cast<double>(ops.size())))));
  double cum = 0;
  size_t next = 1;  // the stage whose end comes next
  for (size_t k = 0; k < ops.size() && next < stages; ++k) {
    cum += bytes[k];
    if (cum * static_cast<double>(stages) >= total * static_cast<double>(next)) {
      boundary[ops[k]] = true;
      while (next < stages &&
             cum * static_cast<double>(stages) >= total * static_cast<double>(next))
        ++next;
    }
  }
  return boundary;
}

}  // namespace

MirrorFn PlanMirror(const IndexedGraph& forward, const std::vector<Shape>& shapes,
                    const std::vector<int>& dtypes, bool auto_plan) {
  const IndexedGraph& g = forward;
  std::vector<bool> boundary;
  if (auto_plan) boundary = StageBoundaries(g, shapes, dtypes);
  std::vector<bool> is_output(g.num_nodes(), false);
  for (const auto& e : g.outputs())
    is_output[e.node_id] = true;

  // The nodes are held so that the set's pointers stay valid as long as the function lives.
  std::vector<std::shared_ptr<Node>> mirrored;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const Node& n = g.node(nid);
    if (!MayMirror(n)) continue;
    const std::optional<bool> force = Flag(n, "__force_mirroring__");
    const bool mirror = force ? *force : auto_plan && !boundary[nid] && !is_output[nid];
    if (mirror) mirrored.push_back(g[nid].node);
  }
  if (mirrored.empty()) return nullptr;
  std::unordered_set<const Node*> set;
  for (const auto& n : mirrored)
    set.insert(n.get());
  return [set = std::move(set), hold = std::move(mirrored)](const Node& n) {
    return set.count(&n) != 0;
  };
}

}  // namespace mixnet::sym::pass
