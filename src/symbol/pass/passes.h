// Graph passes, one file each (src/symbol/pass/*.cc). They read an IndexedGraph with per-entry
// attributes in flat vectors, or rewrite a graph into new nodes (never editing nodes that a
// Symbol may still reach, NOTE [ Symbol nodes ]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "mixnet/base/shape.h"
#include "symbol/indexed_graph.h"

namespace mixnet::sym::pass {

// ---- infer_shape.cc / infer_type.cc ----
/*!
 * \brief Fills unknown entries of `shapes` (one per entry; variables' known shapes preset) by
 * running each op's shape inference forwards, then backwards through the graph, until nothing
 * changes. Conflicts raise ValueError naming the node, its op, the argument and both shapes.
 * Returns how many entries stay unknown.
 */
size_t InferShapes(const IndexedGraph& g, std::vector<Shape>* shapes);
/*! \brief The same for dtypes (-1 unknown); TypeError on conflicts. */
size_t InferTypes(const IndexedGraph& g, std::vector<int>* dtypes);

// ---- gradient.cc ----
/*! \brief Whether a forward node is recomputed for the backward pass instead of kept. */
using MirrorFn = std::function<bool(const Node&)>;
/*!
 * \brief The gradient graph (NOTE [ Gradients as op graphs ]): the gradients of
 * sum_i <ys[i], head_grads[i]> with respect to each of `xs`, built from the ops' gradient
 * functions as new nodes named after the forward node ("fc1_backward_dot"). Gradients
 * reaching one entry from several uses are summed (add_n). An x that no y depends on gets a
 * zeros_like node. With `mirror`, backward nodes read recomputed copies of mirrored forward
 * nodes (and of their mirrored inputs) instead of the forward results.
 */
std::vector<NodeEntry> Gradient(std::span<const NodeEntry> ys,
                                std::span<const NodeEntry> head_grads,
                                std::span<const NodeEntry> xs, const MirrorFn& mirror = nullptr);

// ---- mirror.cc ----
/*!
 * \brief Which forward nodes to recompute (MXNet's memonger): nodes with attribute
 * `__force_mirroring__` = True always; with `auto_plan`, a sqrt(N) plan that keeps only the
 * outputs of ~sqrt(N) stage boundaries (nodes with a `__mirror_stage__` attribute start a
 * stage; else stages of equal activation bytes). Expensive ops (Convolution,
 * FullyConnected, Deconvolution, dot, RNN), random ops and variables are never mirrored.
 */
MirrorFn PlanMirror(const IndexedGraph& forward, const std::vector<Shape>& shapes,
                    const std::vector<int>& dtypes, bool auto_plan);

// ---- cse.cc ----
/*!
 * \brief Merges nodes that apply the same op with the same parameters to the same inputs
 * (random ops and ops that write inputs are kept apart). Returns the new outputs; nodes
 * are shared where nothing changed.
 */
std::vector<NodeEntry> EliminateCommonSubexpressions(std::span<const NodeEntry> outputs);

// ---- fuse_conv_bn.cc ----
/*!
 * \brief For graphs run only in inference: Convolution -> BatchNorm [-> relu] chains whose
 * inner results nobody else reads become one `_conv_scale_shift[_relu]` node, its per-channel
 * scale and shift computed from the BatchNorm's parameters by small ops (NOTE [ Conv
 * BatchNorm folding ]). Returns the new outputs; nodes are shared where nothing changed.
 */
std::vector<NodeEntry> FuseConvBatchNorm(std::span<const NodeEntry> outputs);

// ---- fuse_elemwise.cc ----
/*!
 * \brief Chains of elementwise ops (OpDef::elementwise) to run as one loop: each group is a
 * list of node ids in topological order, all of one output shape and dtype, where every
 * entry produced inside the group except the last node's is read only inside the group and
 * not in `keep` (entries that must be materialised: graph outputs, entries the backward pass
 * reads, monitored entries). Groups have at least two nodes.
 */
std::vector<std::vector<uint32_t>> FindElemwiseGroups(const IndexedGraph& g,
                                                      const std::vector<Shape>& shapes,
                                                      const std::vector<int>& dtypes,
                                                      const std::vector<bool>& keep);

// ---- schedule.cc ----
/*!
 * \brief A topological order of `g`'s nodes that keeps nodes [0, begin) as they are and
 * orders the rest (the backward pass) for memory (NOTE [ Backward schedule ]): of the nodes
 * whose inputs are computed, one that frees more bytes than it allocates runs first, else
 * the lowest node id. `entry_bytes` is each entry's size, 0 for entries stored outside the
 * plan. Feed it to IndexedGraph's ordered constructor.
 */
std::vector<std::shared_ptr<Node>> ScheduleForMemory(const IndexedGraph& g, uint32_t begin,
                                                     const std::vector<size_t>& entry_bytes);

// ---- plan_memory.cc ----
struct MemoryPlanRequest {
  const IndexedGraph* graph = nullptr;
  const std::vector<Shape>* shapes = nullptr;
  const std::vector<int>* dtypes = nullptr;
  /*! \brief Per entry: bound from outside (arguments, aux states, gradient outputs) or not
   * materialised (inside a fused group); such entries get no storage. */
  std::vector<bool> skip;
  /*! \brief Per entry: must stay valid after the run (graph outputs). */
  std::vector<bool> keep;
  /*! \brief Fused groups (FindElemwiseGroups): each runs at its last node, so every member's
   * inputs stay alive until then; the other members' outputs must be skipped. */
  const std::vector<std::vector<uint32_t>>* groups = nullptr;
  bool share = true;    // reuse dead entries' buffers
  bool inplace = true;  // outputs take a dying input's buffer (OpDef::in_place)
};
struct MemoryPlan {
  std::vector<int> storage_id;        // per entry; -1 when skipped
  std::vector<size_t> storage_bytes;  // per buffer
  std::vector<bool> inplace;          // per entry: took its input's buffer in place
  size_t unplanned_bytes = 0, planned_bytes = 0, inplace_entries = 0, shared_entries = 0;
  /*! \brief The most bytes of entries alive at once: what a perfect packing would need. */
  size_t peak_live_bytes = 0;
};
/*!
 * \brief Assigns buffers in node order: an entry's buffer is freed after its last reader;
 * an op output takes the buffer of an input it may overwrite (in-place pair) when that input
 * dies at this op; else the smallest free buffer at least as big (within a factor), else a
 * new one.
 */
MemoryPlan PlanMemory(const MemoryPlanRequest& request);

// ---- bulk_segments.cc ----
/*!
 * \brief Splits op nodes [begin, end) (variables skipped) into runs of at most `max_nodes`
 * pushed as one engine op each; `must_break(nid)` forces a node into a run of its own.
 */
std::vector<std::vector<uint32_t>> BulkSegments(const IndexedGraph& g, uint32_t begin, uint32_t end,
                                                int max_nodes,
                                                const std::function<bool(uint32_t)>& must_break);

}  // namespace mixnet::sym::pass
