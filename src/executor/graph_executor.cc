#include "executor/graph_executor.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "mixnet/base/env.h"
#include "symbol/node.h"

namespace mixnet::exec {
namespace {

using sym::IndexedGraph;
using sym::Node;
using sym::NodeEntry;

size_t Bytes(const Shape& s, int dtype) {
  return static_cast<size_t>(s.Size()) * DTypeSize(static_cast<DType>(dtype));
}

/*! \brief A planned buffer: float32 words, so any dtype's elements are aligned in it. */
NDArray NewBuffer(size_t bytes, Context ctx) {
  const int64_t words = static_cast<int64_t>((bytes + 3) / 4);
  return NDArray(Shape{std::max<int64_t>(words, 1)}, ctx, DType::kFloat32);
}

void AddVar(std::vector<VarHandle>* vars, VarHandle v) {
  if (std::find(vars->begin(), vars->end(), v) == vars->end()) vars->push_back(v);
}

/*! \brief Reads and writes of a step: written vars are not also read. */
void SetVars(Step* s, const std::vector<NDArray>& reads, const std::vector<NDArray>& writes) {
  for (const NDArray& a : writes) {
    AddVar(&s->writes, a.var());
    s->elements += a.Size();
  }
  for (const NDArray& a : reads) {
    s->elements += a.Size();
    if (std::find(s->writes.begin(), s->writes.end(), a.var()) == s->writes.end()) {
      AddVar(&s->reads, a.var());
    }
  }
}

}  // namespace

ExecutorOptions::ExecutorOptions()
    : plan_memory(GetEnvInt("MIXNET_EXEC_PLAN_MEMORY", 1) != 0),
      inplace(GetEnvInt("MXNET_EXEC_ENABLE_INPLACE", 1) != 0),
      cse(GetEnvInt("MIXNET_EXEC_CSE", 1) != 0),
      fuse_elemwise(GetEnvInt("MIXNET_EXEC_FUSE", 1) != 0),
      mirror(GetEnvInt("MXNET_BACKWARD_DO_MIRROR", 0) != 0),
      bulk_max_nodes(GetEnvInt("MXNET_EXEC_BULK_EXEC_TRAIN", 1) != 0
                         ? static_cast<int>(GetEnvInt("MXNET_EXEC_BULK_EXEC_MAX_NODE_TRAIN", 15))
                         : 1),
      serial_segment_elements(GetEnvInt("MIXNET_EXEC_SERIAL_ELEMENTS", 1 << 20)),
      fuse_conv_bn(GetEnvInt("MIXNET_EXEC_FUSE_CONV_BN", 1) != 0) {}

void Step::Run(RunContext rctx, bool is_train) {
  try {
    if (fused) {
      ptrs.clear();
      for (const auto& r : in_refs)
        ptrs.push_back(r.Data());
      for (const auto& r : out_refs)
        ptrs.push_back(r.Data());
      fused->Run(rctx, is_train, ptrs);
      return;
    }
    for (size_t i = 0; i < in_refs.size(); ++i)
      call.in[i].dptr = in_refs[i].Data();
    for (size_t i = 0; i < out_refs.size(); ++i)
      call.out[i].dptr = out_refs[i].Data();
    if (is_train || in_vars.empty()) {
      call.Run(rctx, is_train);
      return;
    }
    state.in = call.in;
    state.in_vars = in_vars;
    op::tl_step_state = &state;
    try {
      call.Run(rctx, is_train);
    } catch (...) {
      op::tl_step_state = nullptr;
      throw;
    }
    op::tl_step_state = nullptr;
  } catch (const Error& e) {
    ThrowError(e.kind(), name + ": " + e.what());
  }
}

GraphExecutor::GraphExecutor(const sym::Symbol& symbol, Context ctx, std::vector<NDArray> args,
                             std::vector<NDArray> arg_grads, std::vector<GradReq> grad_reqs,
                             std::vector<NDArray> aux_states, const GraphExecutor* shared,
                             const ExecutorOptions& options)
    : symbol_(symbol),
      ctx_(ctx),
      args_(std::move(args)),
      grads_(std::move(arg_grads)),
      aux_(std::move(aux_states)),
      reqs_(std::move(grad_reqs)),
      shared_(shared),
      options_(options) {
  const auto arg_names = symbol_.ListArguments();
  const auto aux_names = symbol_.ListAuxiliaryStates();
  MX_CHECK(args_.size() == arg_names.size(), ValueError)
      << "bind: the symbol has " << arg_names.size() << " arguments, got " << args_.size()
      << " arrays";
  MX_CHECK(aux_.size() == aux_names.size(), ValueError)
      << "bind: the symbol has " << aux_names.size() << " auxiliary states, got " << aux_.size()
      << " arrays";
  if (grads_.empty()) grads_.resize(args_.size());
  if (reqs_.empty()) {
    for (const NDArray& g : grads_)
      reqs_.push_back(g.is_none() ? GradReq::kNull : GradReq::kWrite);
  }
  MX_CHECK(grads_.size() == args_.size() && reqs_.size() == args_.size(), ValueError)
      << "bind: " << args_.size() << " arguments but " << grads_.size() << " gradient arrays and "
      << reqs_.size() << " grad_reqs";
  for (size_t i = 0; i < args_.size(); ++i) {
    MX_CHECK(!args_[i].is_none(), ValueError)
        << "bind: argument '" << arg_names[i] << "' has no array";
    if (reqs_[i] != GradReq::kNull) {
      MX_CHECK(!grads_[i].is_none(), ValueError)
          << "bind: argument '" << arg_names[i] << "' wants a gradient but has no gradient array";
      MX_CHECK(grads_[i].shape() == args_[i].shape(), ValueError)
          << "bind: gradient of '" << arg_names[i] << "' has shape " << grads_[i].shape()
          << " but the argument has " << args_[i].shape();
    }
  }
  for (size_t i = 0; i < aux_.size(); ++i) {
    MX_CHECK(!aux_[i].is_none(), ValueError)
        << "bind: auxiliary state '" << aux_names[i] << "' has no array";
  }
  Compile();
}

GraphExecutor::~GraphExecutor() {
  // Queued steps hold the program; buffers outlive them (NOTE [ Chunk lifetime ]).
}

void GraphExecutor::Compile() {
  namespace pass = sym::pass;
  // ---- the forward graph, its variables bound to the arrays ----
  IndexedGraph user(symbol_.outputs());
  std::unordered_map<const Node*, NDArray> bound;
  std::vector<NodeEntry> xs;
  std::vector<size_t> x_arg;  // argument index of each x
  {
    std::unordered_set<uint32_t> mut(user.mutable_input_nodes().begin(),
                                     user.mutable_input_nodes().end());
    size_t a = 0, x = 0;
    for (uint32_t nid : user.input_nodes()) {
      const auto& node = user[nid].node;
      if (mut.count(nid)) {
        bound[node.get()] = aux_[x++];
      } else {
        bound[node.get()] = args_[a];
        if (reqs_[a] != GradReq::kNull) {
          xs.push_back({node, 0});
          x_arg.push_back(a);
        }
        ++a;
      }
    }
  }
  std::vector<NodeEntry> forward = symbol_.outputs();
  if (options_.cse) forward = pass::EliminateCommonSubexpressions(forward);
  if (options_.inference_only && options_.fuse_conv_bn && xs.empty() && !monitor_) {
    forward = pass::FuseConvBatchNorm(forward);
  }
  const size_t num_outputs = forward.size();

  auto infer = [&](const IndexedGraph& g, const std::unordered_map<const Node*, NDArray>& known,
                   std::vector<Shape>* shapes, std::vector<int>* dtypes) {
    shapes->assign(g.num_entries(), Shape());
    dtypes->assign(g.num_entries(), -1);
    for (uint32_t nid : g.input_nodes()) {
      const NDArray& a = known.at(g[nid].node.get());
      (*shapes)[g.entry_id(nid, 0)] = a.shape();
      (*dtypes)[g.entry_id(nid, 0)] = static_cast<int>(a.dtype());
    }
    pass::InferShapes(g, shapes);
    pass::InferTypes(g, dtypes);
    for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
      for (uint32_t i = 0; i < g.num_outputs(nid); ++i) {
        const uint32_t eid = g.entry_id(nid, i);
        MX_CHECK((*shapes)[eid].is_known() && (*dtypes)[eid] >= 0, ValueError)
            << "bind: cannot infer the shape or dtype of output " << i << " of node '"
            << g.node(nid).name << "' from the bound arrays";
      }
    }
  };

  // ---- the gradient graph ----
  std::vector<NodeEntry> all = forward;
  head_grads_.assign(num_outputs, NDArray());
  head_grad_used_.assign(num_outputs, false);
  std::vector<std::shared_ptr<Node>> head_vars;
  size_t num_mirrored = 0;
  // Gradient entries written straight into the bound gradient arrays.
  std::vector<std::pair<NodeEntry, size_t>> grad_targets;
  std::vector<std::pair<NodeEntry, size_t>> grad_adds;  // grad_req add: summed after the pass
  if (!xs.empty()) {
    IndexedGraph fg(forward);
    std::vector<Shape> fshapes;
    std::vector<int> fdtypes;
    infer(fg, bound, &fshapes, &fdtypes);
    std::vector<NodeEntry> heads;
    const auto out_names = symbol_.ListOutputs();
    for (size_t i = 0; i < num_outputs; ++i) {
      auto v = Node::MakeVariable(out_names[i] + "_head_grad");
      head_vars.push_back(v);
      heads.push_back({v, 0});
      const uint32_t eid = fg.entry_id(fg.outputs()[i]);
      head_grads_[i] = NDArray(fshapes[eid], ctx_, static_cast<DType>(fdtypes[eid]));
      bound[v.get()] = head_grads_[i];
    }
    pass::MirrorFn mirror;
    std::unordered_set<const Node*> mirrored_nodes;
    const pass::MirrorFn planned = pass::PlanMirror(fg, fshapes, fdtypes, options_.mirror);
    if (planned) {
      for (uint32_t nid = 0; nid < fg.num_nodes(); ++nid) {
        if (!fg.node(nid).is_variable() && planned(fg.node(nid))) {
          mirrored_nodes.insert(&fg.node(nid));
        }
      }
      num_mirrored = mirrored_nodes.size();
      mirror = [mirrored_nodes](const Node& n) { return mirrored_nodes.count(&n) != 0; };
    }
    auto grads = pass::Gradient(forward, heads, xs, mirror);
    std::unordered_set<const Node*> forward_nodes;
    for (uint32_t nid = 0; nid < fg.num_nodes(); ++nid)
      forward_nodes.insert(fg[nid].node.get());
    std::set<std::pair<const Node*, uint32_t>> claimed;
    // Last argument first: the graph's depth-first order then walks the backward pass from
    // the output layer down, so each layer's gradients are made and freed in turn.
    for (size_t k = grads.size(); k-- > 0;) {
      NodeEntry e = grads[k];
      const size_t a = x_arg[k];
      const bool own = !e.node->is_variable() && !forward_nodes.count(e.node.get()) &&
                       !claimed.count({e.node.get(), e.index});
      if (reqs_[a] == GradReq::kAdd) {
        grad_adds.emplace_back(e, a);
        all.push_back(e);
        continue;
      }
      if (!own) {  // the entry is not ours to place in the gradient array: copy it there
        e = {Node::MakeOp(op::Registry::Get("_copy"), e.node->name + "_copy", {}, {e}), 0};
      }
      claimed.insert({e.node.get(), e.index});
      grad_targets.emplace_back(e, a);
      all.push_back(e);
    }
  }

  // ---- the whole graph: shapes, dtypes, groups, memory ----
  graph_ = std::make_unique<IndexedGraph>(all);
  num_forward_nodes_ = static_cast<uint32_t>(IndexedGraph(forward).num_nodes());
  infer(*graph_, bound, &shapes_, &dtypes_);
  if (options_.plan_memory && graph_->num_nodes() > num_forward_nodes_) {
    // The backward pass in an order that frees gradients early (NOTE [ Backward schedule ]);
    // variables and gradients written into bound arrays cost no planned bytes.
    const IndexedGraph& dfs = *graph_;
    std::vector<size_t> bytes(dfs.num_entries(), 0);
    for (uint32_t nid = 0; nid < dfs.num_nodes(); ++nid) {
      if (dfs.node(nid).is_variable()) continue;
      for (uint32_t i = 0; i < dfs.num_outputs(nid); ++i) {
        const uint32_t eid = dfs.entry_id(nid, i);
        bytes[eid] = Bytes(shapes_[eid], dtypes_[eid]);
      }
    }
    for (const auto& [e, a] : grad_targets)
      bytes[dfs.entry_id(dfs.node_id(e.node.get()), e.index)] = 0;
    const auto order = pass::ScheduleForMemory(dfs, num_forward_nodes_, bytes);
    graph_ = std::make_unique<IndexedGraph>(all, order);
    infer(*graph_, bound, &shapes_, &dtypes_);
  }
  const IndexedGraph& g = *graph_;

  std::vector<bool> skip(g.num_entries(), false), keep(g.num_entries(), false);
  entry_arrays_.assign(g.num_entries(), NDArray());
  for (uint32_t nid : g.input_nodes()) {
    skip[g.entry_id(nid, 0)] = true;
    entry_arrays_[g.entry_id(nid, 0)] = bound.at(g[nid].node.get());
  }
  for (size_t i = 0; i < num_outputs; ++i)
    keep[g.entry_id(g.outputs()[i])] = true;
  for (const auto& [e, a] : grad_targets) {
    const uint32_t eid = g.entry_id(g.node_id(e.node.get()), e.index);
    skip[eid] = true;
    entry_arrays_[eid] = grads_[a];
  }
  for (const auto& [e, a] : grad_adds)
    keep[g.entry_id(g.node_id(e.node.get()), e.index)] = true;
  for (size_t i = 0; i < head_vars.size(); ++i)
    head_grad_used_[i] = g.has_node(head_vars[i].get());

  // ---- elementwise fusion: a group's inner entries are never materialised ----
  std::vector<std::vector<uint32_t>> groups;
  if (options_.fuse_elemwise && !monitor_) {
    // Entries that must exist as arrays: outputs, bound gradients, and forward results the
    // backward pass reads (a group never spans the two passes).
    std::vector<bool> must(g.num_entries(), false);
    for (uint32_t eid = 0; eid < g.num_entries(); ++eid)
      must[eid] = keep[eid] || skip[eid];
    for (uint32_t nid = num_forward_nodes_; nid < g.num_nodes(); ++nid) {
      for (const auto& e : g[nid].inputs) {
        if (e.node_id < num_forward_nodes_) must[g.entry_id(e)] = true;
      }
    }
    groups = pass::FindElemwiseGroups(g, shapes_, dtypes_, must);
    for (const auto& group : groups) {
      for (size_t k = 0; k + 1 < group.size(); ++k) {
        for (uint32_t i = 0; i < g.num_outputs(group[k]); ++i)
          skip[g.entry_id(group[k], i)] = true;
      }
    }
  }

  sym::pass::MemoryPlanRequest req;
  req.graph = &g;
  req.shapes = &shapes_;
  req.dtypes = &dtypes_;
  req.skip = skip;
  req.keep = keep;
  req.groups = &groups;
  req.share = options_.plan_memory;
  req.inplace = options_.plan_memory && options_.inplace;
  plan_ = pass::PlanMemory(req);

  // Buffers: borrowed from the shared executor where big enough, else new.
  buffers_.clear();
  for (size_t sid = 0; sid < plan_.storage_bytes.size(); ++sid) {
    const size_t bytes = plan_.storage_bytes[sid];
    if (shared_ && sid < shared_->buffers().size() && shared_->buffers()[sid].nbytes() >= bytes &&
        shared_->context() == ctx_) {
      buffers_.push_back(shared_->buffers()[sid]);
    } else {
      buffers_.push_back(NewBuffer(bytes, ctx_));
    }
  }
  for (uint32_t eid = 0; eid < g.num_entries(); ++eid) {
    const int sid = plan_.storage_id[eid];
    if (sid >= 0) {
      entry_arrays_[eid] = buffers_[static_cast<size_t>(sid)].AsArray(
          shapes_[eid], static_cast<DType>(dtypes_[eid]));
    }
  }
  outputs_.clear();
  for (size_t i = 0; i < num_outputs; ++i)
    outputs_.push_back(entry_arrays_[g.entry_id(g.outputs()[i])]);

  // ---- steps and segments ----
  auto program = std::make_shared<Program>();
  std::vector<int> group_of(g.num_nodes(), -1);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    for (uint32_t nid : groups[gi])
      group_of[nid] = static_cast<int>(gi);
  }
  std::vector<uint32_t> step_nodes;  // the node each step runs at (a group's last node)
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (g.node(nid).is_variable()) continue;
    const int gi = group_of[nid];
    if (gi >= 0 && nid != groups[static_cast<size_t>(gi)].back()) continue;
    program->steps.push_back(gi >= 0 ? MakeFusedStep(groups[static_cast<size_t>(gi)])
                                     : MakeOpStep(nid));
    step_nodes.push_back(nid);
  }
  const size_t num_node_steps = program->steps.size();
  // grad_req add: gradient array += computed gradient, after the backward pass.
  for (const auto& [e, a] : grad_adds) {
    const NDArray& computed = entry_arrays_[g.entry_id(g.node_id(e.node.get()), e.index)];
    program->steps.push_back(MakeAccumulateStep(grads_[a], computed, a));
  }

  // Bulk segments over the node order, separately for the forward and the backward pass;
  // the gradient accumulations close the backward pass.
  const int bulk = monitor_ ? 1 : std::max(1, options_.bulk_max_nodes);
  std::vector<size_t> step_at(g.num_nodes(), SIZE_MAX);
  for (size_t si = 0; si < num_node_steps; ++si)
    step_at[step_nodes[si]] = si;
  auto segments = [&](uint32_t begin, uint32_t end, std::vector<Segment>* segs) {
    // A fused group's other members have no step: a run holds the steps of its nodes.
    auto runs = pass::BulkSegments(g, begin, end, bulk, nullptr);
    for (const auto& run : runs) {
      Segment seg;
      for (uint32_t nid : run) {
        if (step_at[nid] == SIZE_MAX) continue;
        seg.steps.push_back(step_at[nid]);
      }
      if (!seg.steps.empty()) segs->push_back(std::move(seg));
    }
  };
  segments(0, num_forward_nodes_, &program->forward);
  segments(num_forward_nodes_, static_cast<uint32_t>(g.num_nodes()), &program->backward);
  if (num_node_steps < program->steps.size()) {
    Segment seg;
    for (size_t si = num_node_steps; si < program->steps.size(); ++si)
      seg.steps.push_back(si);
    program->backward.push_back(std::move(seg));
  }
  for (auto* segs : {&program->forward, &program->backward}) {
    for (Segment& seg : *segs) {
      for (size_t si : seg.steps) {
        for (VarHandle v : program->steps[si].writes)
          AddVar(&seg.writes, v);
      }
      for (size_t si : seg.steps) {
        for (VarHandle v : program->steps[si].reads) {
          if (std::find(seg.writes.begin(), seg.writes.end(), v) == seg.writes.end()) {
            AddVar(&seg.reads, v);
          }
        }
      }
      seg.name =
          seg.steps.size() == 1 ? program->steps[seg.steps[0]].op_name : "executor bulk segment";
      int64_t elements = 0;
      for (size_t si : seg.steps)
        elements += program->steps[si].elements;
      seg.serial = elements <= options_.serial_segment_elements;
    }
  }
  program_ = std::move(program);

  report_ = MemoryReport{};
  report_.unplanned_bytes = plan_.unplanned_bytes;
  report_.planned_bytes = plan_.planned_bytes;
  report_.peak_live_bytes = plan_.peak_live_bytes;
  report_.inplace_entries = plan_.inplace_entries;
  report_.shared_entries = plan_.shared_entries;
  report_.num_buffers = plan_.storage_bytes.size();
  report_.mirrored_nodes = num_mirrored;
  report_.fused_groups = groups.size();
  report_.bulk_segments = program_->forward.size() + program_->backward.size();
}

std::string GraphExecutor::NodeLabel(uint32_t nid) const {
  const Node& n = graph_->node(nid);
  return "node '" + n.name + "' (" + n.op->name + ")";
}

Step GraphExecutor::MakeOpStep(uint32_t nid) const {
  const IndexedGraph& g = *graph_;
  const Node& n = g.node(nid);
  Step s;
  s.nid = nid;
  s.name = NodeLabel(nid);
  s.op_name = n.op->name.c_str();
  const std::vector<int> mutated = n.op->mutate_inputs(n.parsed());
  std::vector<op::TBlob> in, out;
  std::vector<NDArray> reads, writes;
  for (size_t i = 0; i < g[nid].inputs.size(); ++i) {
    const NDArray& a = entry_arrays_[g.entry_id(g[nid].inputs[i])];
    in.push_back(op::TBlob{nullptr, a.shape(), a.dtype()});
    s.in_refs.push_back(a.data_ref());
    s.in_vars.push_back(a.var());
    const bool is_mut =
        std::find(mutated.begin(), mutated.end(), static_cast<int>(i)) != mutated.end();
    (is_mut ? writes : reads).push_back(a);
  }
  for (uint32_t i = 0; i < g.num_outputs(nid); ++i) {
    const NDArray& a = entry_arrays_[g.entry_id(nid, i)];
    out.push_back(op::TBlob{nullptr, a.shape(), a.dtype()});
    s.out_refs.push_back(a.data_ref());
    writes.push_back(a);
  }
  try {
    s.call = op::PrepareOpCall(n.SharedParsed(), std::move(in), std::move(out), ctx_);
  } catch (const Error& e) {
    ThrowError(e.kind(), "bind: " + s.name + ": " + e.what());
  }
  SetVars(&s, reads, writes);
  if (s.call.random) AddVar(&s.writes, s.call.random->var);
  return s;
}

Step GraphExecutor::MakeFusedStep(const std::vector<uint32_t>& group) const {
  const IndexedGraph& g = *graph_;
  const uint32_t last = group.back();
  Step s;
  s.nid = last;
  s.name = "fused elementwise group of";
  s.op_name = "fused elementwise group";
  // Entries made inside the group live in tile slots; everything else is external.
  std::unordered_map<uint32_t, uint32_t> slot_of, input_of;
  for (size_t k = 0; k + 1 < group.size(); ++k) {
    for (uint32_t i = 0; i < g.num_outputs(group[k]); ++i) {
      const uint32_t next = static_cast<uint32_t>(slot_of.size());
      slot_of.emplace(g.entry_id(group[k], i), next);
    }
  }
  std::vector<NDArray> reads, writes;
  std::vector<FusedElemwise::Member> members;
  for (uint32_t nid : group) {
    const Node& n = g.node(nid);
    s.name += (nid == group.front() ? " " : ", ") + NodeLabel(nid);
    FusedElemwise::Member m;
    std::vector<op::TBlob> in, out;
    for (const auto& e : g[nid].inputs) {
      const uint32_t eid = g.entry_id(e);
      in.push_back(op::TBlob{nullptr, shapes_[eid], static_cast<DType>(dtypes_[eid])});
      if (auto it = slot_of.find(eid); it != slot_of.end()) {
        m.in.push_back({false, it->second});
        continue;
      }
      auto [it, fresh] = input_of.emplace(eid, static_cast<uint32_t>(input_of.size()));
      if (fresh) {
        s.in_refs.push_back(entry_arrays_[eid].data_ref());
        reads.push_back(entry_arrays_[eid]);
      }
      m.in.push_back({true, it->second});
    }
    for (uint32_t i = 0; i < g.num_outputs(nid); ++i) {
      const uint32_t eid = g.entry_id(nid, i);
      out.push_back(op::TBlob{nullptr, shapes_[eid], static_cast<DType>(dtypes_[eid])});
      if (nid == last) {
        m.out.push_back({true, static_cast<uint32_t>(s.out_refs.size())});  // after the inputs
        s.out_refs.push_back(entry_arrays_[eid].data_ref());
        writes.push_back(entry_arrays_[eid]);
      } else {
        m.out.push_back({false, slot_of.at(eid)});
      }
    }
    try {
      m.call = op::PrepareOpCall(n.SharedParsed(), std::move(in), std::move(out), ctx_);
    } catch (const Error& e) {
      ThrowError(e.kind(), "bind: " + NodeLabel(nid) + ": " + e.what());
    }
    members.push_back(std::move(m));
  }
  // Outputs follow the inputs in the pointer list Step::Run hands the group.
  const auto num_inputs = static_cast<uint32_t>(s.in_refs.size());
  for (FusedElemwise::Member& m : members) {
    for (auto& slot : m.out) {
      if (slot.external) slot.index += num_inputs;
    }
  }
  s.fused =
      std::make_unique<FusedElemwise>(std::move(members), static_cast<uint32_t>(slot_of.size()),
                                      shapes_[g.entry_id(last, 0)].Size());
  SetVars(&s, reads, writes);
  return s;
}

Step GraphExecutor::MakeAccumulateStep(const NDArray& grad, const NDArray& computed,
                                       size_t arg) const {
  Step s;
  s.nid = static_cast<uint32_t>(graph_->num_nodes() - 1);
  s.name =
      "gradient accumulation (grad_req add) of argument '" + symbol_.ListArguments()[arg] + "'";
  s.op_name = "elemwise_add";
  const op::OpDef& add = op::Registry::Get("elemwise_add");
  std::vector<op::TBlob> in = {op::TBlob{nullptr, grad.shape(), grad.dtype()},
                               op::TBlob{nullptr, computed.shape(), computed.dtype()}};
  std::vector<op::TBlob> out = {op::TBlob{nullptr, grad.shape(), grad.dtype()}};
  s.call = op::PrepareOpCall(std::make_shared<const op::Attrs>(add.ParseAttrs({})), in, out, ctx_);
  s.in_refs = {grad.data_ref(), computed.data_ref()};
  s.out_refs = {grad.data_ref()};
  SetVars(&s, {computed}, {grad});
  return s;
}

// NOTE [ Serial segments ]
// A small graph (LeNet at batch 1) spends more time waking threads than computing: each
// kernel's OpenMP team and each hand-off to an engine worker costs microseconds. The executor
// knows every shape at bind time, so a segment whose arrays are small in all runs as one
// FnProperty::kSmall push (in the pushing thread when its inputs are ready, no hand-off) with
// kernels limited to one OpenMP thread. Eager calls cannot do this: they see one op at a time.
void GraphExecutor::Push(const Segment& seg, bool is_train) {
  Engine::Get()->PushSync(
      [program = program_, seg = &seg, is_train](RunContext rctx) {
#if defined(_OPENMP)
        const int threads = omp_get_max_threads();
        if (seg->serial) omp_set_num_threads(1);
#endif
        try {
          for (size_t si : seg->steps)
            program->steps[si].Run(rctx, is_train);
        } catch (...) {
#if defined(_OPENMP)
          omp_set_num_threads(threads);
#endif
          throw;
        }
#if defined(_OPENMP)
        omp_set_num_threads(threads);
#endif
      },
      ctx_, seg.reads, seg.writes, seg.serial ? FnProperty::kSmall : FnProperty::kNormal, 0,
      seg.name);
}

void GraphExecutor::RunSegments(const std::vector<Segment>& segs, bool is_train) {
  const IndexedGraph& g = *graph_;
  for (const Segment& seg : segs) {
    Push(seg, is_train);
    if (!monitor_) continue;
    // Called between pushes: a callback that reads an array waits for this step only.
    for (size_t si : seg.steps) {
      const uint32_t nid = program_->steps[si].nid;
      if (monitor_all_) {
        for (const auto& e : g[nid].inputs)
          monitor_(EntryName(g.entry_id(e)), entry_arrays_[g.entry_id(e)]);
      }
      for (uint32_t i = 0; i < g.num_outputs(nid); ++i)
        monitor_(EntryName(g.entry_id(nid, i)), entry_arrays_[g.entry_id(nid, i)]);
    }
  }
}

void GraphExecutor::Forward(bool is_train) {
  MX_CHECK(!(is_train && options_.inference_only), ValueError)
      << "forward: this executor was bound for inference only (ExecutorOptions::inference_only)";
  RunSegments(program_->forward, is_train);
  trained_forward_ = is_train;
}

void GraphExecutor::Forward(bool is_train, const std::unordered_map<std::string, NDArray>& inputs) {
  const auto names = symbol_.ListArguments();
  for (const auto& [name, value] : inputs) {
    auto it = std::find(names.begin(), names.end(), name);
    MX_CHECK(it != names.end(), ValueError)
        << "forward: '" << name << "' is not an argument" << op::DidYouMean(name, names);
    const NDArray& dst = args_[static_cast<size_t>(it - names.begin())];
    MX_CHECK(value.shape() == dst.shape(), ValueError)
        << "forward: argument '" << name << "' has shape " << dst.shape() << " but the input has "
        << value.shape();
    value.CopyTo(dst);
  }
  Forward(is_train);
}

void GraphExecutor::Backward(std::span<const NDArray> out_grads) {
  if (program_->backward.empty()) return;
  MX_CHECK(trained_forward_, ValueError)
      << "backward: needs a Forward(is_train=true) first (the last forward ran in inference mode "
         "or none ran)";
  MX_CHECK(out_grads.empty() || out_grads.size() == outputs_.size(), ValueError)
      << "backward: the symbol has " << outputs_.size() << " outputs, got " << out_grads.size()
      << " output gradients";
  for (size_t i = 0; i < head_grads_.size(); ++i) {
    if (!head_grad_used_[i]) continue;
    if (out_grads.empty()) {
      head_grads_[i].Fill(1.0);
    } else {
      MX_CHECK(out_grads[i].shape() == head_grads_[i].shape(), ValueError)
          << "backward: gradient of output " << i << " has shape " << out_grads[i].shape()
          << " but the output has " << head_grads_[i].shape();
      out_grads[i].CopyTo(head_grads_[i]);
    }
  }
  RunSegments(program_->backward, true);
}

std::string GraphExecutor::EntryName(uint32_t eid) const {
  const IndexedGraph& g = *graph_;
  uint32_t nid = 0;
  while (nid + 1 < g.num_nodes() && g.row_ptr()[nid + 1] <= eid)
    ++nid;
  const Node& n = g.node(nid);
  if (n.is_variable()) return n.name;
  const auto names = n.op->output_names(n.parsed());
  const uint32_t i = eid - g.row_ptr()[nid];
  return n.name + "_" + (i < names.size() ? names[i] : "output" + std::to_string(i));
}

void GraphExecutor::SetMonitorCallback(MonitorCallback callback, bool monitor_all) {
  const bool recompile = static_cast<bool>(callback) != static_cast<bool>(monitor_);
  monitor_ = std::move(callback);
  monitor_all_ = monitor_all;
  if (recompile) {
    Engine::Get()->WaitForAll();
    Compile();
  }
}

std::string GraphExecutor::DebugStr() const {
  const IndexedGraph& g = *graph_;
  std::ostringstream os;
  os << "Symbol outputs: " << outputs_.size() << ", nodes: " << g.num_nodes() << " ("
     << num_forward_nodes_ << " forward), buffers: " << plan_.storage_bytes.size() << "\n";
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const Node& n = g.node(nid);
    os << (nid < num_forward_nodes_ ? "F " : "B ")
       << (n.is_variable() ? "Variable:" : "Op:" + n.op->name + ",") << " " << n.name;
    for (uint32_t i = 0; i < g.num_outputs(nid); ++i) {
      const uint32_t eid = g.entry_id(nid, i);
      os << " [" << shapes_[eid] << " buffer " << plan_.storage_id[eid]
         << (plan_.inplace[eid] ? " inplace" : "") << "]";
    }
    os << "\n";
  }
  os << "planned " << plan_.planned_bytes << " bytes of " << plan_.unplanned_bytes
     << " unplanned; at most " << plan_.peak_live_bytes << " alive at once\n";
  return os.str();
}

std::unique_ptr<Executor> GraphExecutor::Reshape(
    const std::unordered_map<std::string, Shape>& shapes, bool partial_shaping,
    bool allow_up_sizing) const {
  const auto arg_names = symbol_.ListArguments();
  const auto aux_names = symbol_.ListAuxiliaryStates();
  std::unordered_map<std::string, Shape> known = shapes;
  const auto inferred = symbol_.InferShapePartial(known);
  auto remap = [&](const NDArray& old, const Shape& want, const std::string& name,
                   bool given) -> NDArray {
    if (old.is_none()) return old;
    if (want.is_known() && want == old.shape()) return old;
    MX_CHECK(want.is_known(), ValueError)
        << "reshape: cannot infer the new shape of '" << name << "'";
    MX_CHECK(given || partial_shaping, ValueError)
        << "reshape: the shape of '" << name << "' changes from " << old.shape() << " to " << want
        << "; give it, or allow partial_shaping";
    const size_t bytes = Bytes(want, static_cast<int>(old.dtype()));
    if (bytes <= old.nbytes()) return old.AsArray(want, old.dtype());  // shares the memory
    MX_CHECK(allow_up_sizing, ValueError)
        << "reshape: '" << name << "' grows from " << old.shape() << " to " << want
        << "; set allow_up_sizing to allocate new memory";
    return NDArray(want, ctx_, old.dtype());
  };
  std::vector<NDArray> args, grads, aux;
  for (size_t i = 0; i < args_.size(); ++i) {
    const bool given = shapes.count(arg_names[i]) != 0;
    args.push_back(remap(args_[i], inferred.arg[i], arg_names[i], given));
    grads.push_back(remap(grads_[i], inferred.arg[i], arg_names[i], given));
  }
  for (size_t i = 0; i < aux_.size(); ++i)
    aux.push_back(remap(aux_[i], inferred.aux[i], aux_names[i], false));
  return std::make_unique<GraphExecutor>(symbol_, ctx_, std::move(args), std::move(grads), reqs_,
                                         std::move(aux), this, options_);
}

}  // namespace mixnet::exec
