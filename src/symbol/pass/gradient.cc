// The symbolic gradient pass: each op's gradient function (NOTE [ Gradients as op graphs ])
// run through a builder that makes graph nodes instead of computing.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "mixnet/base/env.h"
#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {
namespace {

/*! \brief Composes registered ops as new nodes named after the forward node they serve. */
class SymbolGradBuilder final : public op::GradBuilder {
 public:
  op::GValue Add(NodeEntry e) {
    values_.push_back(std::move(e));
    return op::GValue{static_cast<int>(values_.size()) - 1};
  }
  const NodeEntry& Get(op::GValue v) const { return values_.at(static_cast<size_t>(v.id)); }
  void SetPrefix(const std::string& forward_name) {
    prefix_ = forward_name + "_backward";
    count_ = 0;
  }

  std::vector<op::GValue> Apply(std::string_view name, std::span<const op::GValue> inputs,
                                const op::AttrDict& attrs) override {
    const op::OpDef& def = op::Registry::Get(name);
    std::vector<NodeEntry> in;
    for (op::GValue v : inputs)
      in.push_back(Get(v));
    std::string node_name = prefix_ + (count_ ? std::to_string(count_) : "");
    ++count_;
    auto node = Node::MakeOp(def, std::move(node_name), attrs, std::move(in));
    std::vector<op::GValue> out;
    for (uint32_t i = 0; i < node->num_outputs(); ++i)
      out.push_back(Add({node, i}));
    return out;
  }

 private:
  std::vector<NodeEntry> values_;
  std::string prefix_;
  int count_ = 0;
};

std::shared_ptr<Node> MakeNamed(const char* op, const std::string& name, op::AttrDict attrs,
                                std::vector<NodeEntry> inputs) {
  return Node::MakeOp(op::Registry::Get(op), name, std::move(attrs), std::move(inputs));
}

/*!
 * \brief The sum of a gradient's contributions, as MXNet's AggregateGradient: one add_n for a
 * few; above MXNET_EXEC_INPLACE_GRAD_SUM_CAP (8) a chain of elemwise_add in the order the
 * contributions are made, so each is added (in place) and freed as soon as it exists instead
 * of all of them living until one big sum (a weight shared by 35 LSTM steps: 35 gradients).
 */
NodeEntry Sum(const std::vector<NodeEntry>& parts, const std::string& name) {
  if (parts.size() == 1) return parts[0];
  static const size_t cap =
      static_cast<size_t>(std::max<int64_t>(2, GetEnvInt("MXNET_EXEC_INPLACE_GRAD_SUM_CAP", 8)));
  if (parts.size() <= cap) {
    return {MakeNamed("add_n", name + "_sum", {{"num_args", std::to_string(parts.size())}}, parts),
            0};
  }
  NodeEntry acc = parts[0];
  for (size_t i = 1; i < parts.size(); ++i)
    acc = {MakeNamed("elemwise_add", name + "_sum" + std::to_string(i), {}, {acc, parts[i]}), 0};
  return acc;
}

/*! \brief Recomputed copies of mirrored forward nodes, made once each. */
class Mirror {
 public:
  explicit Mirror(const MirrorFn& fn) : fn_(fn) {}
  NodeEntry operator()(const NodeEntry& e) {
    if (!fn_ || e.node->is_variable() || !fn_(*e.node)) return e;
    auto it = copies_.find(e.node.get());
    if (it == copies_.end()) {
      auto copy = std::make_shared<Node>(*e.node);
      copy->name += "_mirror";
      copy->control_deps.clear();
      for (size_t i = 0; i < copy->inputs.size(); ++i) {
        NodeEntry& in = copy->inputs[i];
        if (IsMutatedInput(*copy, i)) {
          // NOTE [ Mirrored state writers ]: a recomputed BatchNorm would update the moving
          // statistics a second time; the copy writes into a scratch copy of them instead
          // (its outputs do not depend on them in training mode).
          in = {MakeNamed("_copy", copy->name + "_state" + std::to_string(i), {}, {in}), 0};
        } else {
          in = (*this)(in);
        }
      }
      it = copies_.emplace(e.node.get(), std::move(copy)).first;
    }
    return {it->second, e.index};
  }

 private:
  const MirrorFn& fn_;
  std::unordered_map<const Node*, std::shared_ptr<Node>> copies_;
};

}  // namespace

std::vector<NodeEntry> Gradient(std::span<const NodeEntry> ys,
                                std::span<const NodeEntry> head_grads,
                                std::span<const NodeEntry> xs, const MirrorFn& mirror) {
  MX_INTERNAL_ASSERT(ys.size() == head_grads.size());
  IndexedGraph g(ys);
  // Which entries depend on some x: only their producers need gradient functions.
  std::vector<bool> needs(g.num_entries(), false);
  for (const NodeEntry& x : xs) {
    if (g.has_node(x.node.get())) needs[g.entry_id(g.node_id(x.node.get()), x.index)] = true;
  }
  std::vector<bool> node_needs(g.num_nodes(), false);
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (g.node(nid).is_variable()) continue;
    for (const auto& e : g[nid].inputs)
      node_needs[nid] = node_needs[nid] || needs[g.entry_id(e)];
    if (node_needs[nid]) {
      for (uint32_t i = 0; i < g.num_outputs(nid); ++i)
        needs[g.entry_id(nid, i)] = true;
    }
  }

  std::vector<std::vector<NodeEntry>> contributions(g.num_entries());
  for (size_t i = 0; i < ys.size(); ++i) {
    const auto& y = g.outputs()[i];
    if (needs[g.entry_id(y)]) contributions[g.entry_id(y)].push_back(head_grads[i]);
  }

  Mirror mirrored(mirror);
  SymbolGradBuilder b;
  for (uint32_t nid = static_cast<uint32_t>(g.num_nodes()); nid-- > 0;) {
    if (!node_needs[nid]) continue;
    const Node& n = g.node(nid);
    const std::shared_ptr<Node>& node_ptr = g[nid].node;
    const bool loss = n.op->loss_layer;
    bool any = loss;
    for (uint32_t i = 0; i < g.num_outputs(nid); ++i)
      any = any || !contributions[g.entry_id(nid, i)].empty();
    if (!any) continue;             // nothing flows back through this node
    if (!n.op->gradient) continue;  // NOTE [ Ops without a gradient ]
    b.SetPrefix(n.name);
    std::vector<op::GValue> in_v, out_v, dout_v;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      in_v.push_back(b.Add(mirrored(n.inputs[i])));
    for (uint32_t i = 0; i < g.num_outputs(nid); ++i) {
      const NodeEntry out{node_ptr, i};
      out_v.push_back(b.Add(mirrored(out)));
      auto& parts = contributions[g.entry_id(nid, i)];
      if (!parts.empty()) {
        dout_v.push_back(b.Add(Sum(parts, n.name + "_out" + std::to_string(i) + "_grad")));
      } else if (loss) {
        dout_v.push_back(op::GValue{});  // a loss layer ignores the gradient of its output
      } else {
        dout_v.push_back(
            b.Add({MakeNamed("zeros_like", n.name + "_out" + std::to_string(i) + "_zero_grad", {},
                             {mirrored(out)}),
                   0}));
      }
    }
    const auto grads = n.op->gradient(b, n.parsed(), in_v, out_v, dout_v);
    MX_INTERNAL_ASSERT(grads.size() == n.inputs.size())
        << n.op->name << "'s gradient returned " << grads.size() << " values for "
        << n.inputs.size() << " inputs";
    for (size_t i = 0; i < grads.size(); ++i) {
      const uint32_t eid = g.entry_id(g[nid].inputs[i]);
      if (grads[i].valid() && needs[eid]) contributions[eid].push_back(b.Get(grads[i]));
    }
  }

  std::vector<NodeEntry> out;
  for (const NodeEntry& x : xs) {
    std::vector<NodeEntry>* parts = nullptr;
    if (g.has_node(x.node.get()))
      parts = &contributions[g.entry_id(g.node_id(x.node.get()), x.index)];
    if (parts && !parts->empty()) {
      out.push_back(Sum(*parts, x.node->name + "_grad"));
    } else {
      out.push_back({MakeNamed("zeros_like", x.node->name + "_zero_grad", {}, {x}), 0});
    }
  }
  return out;
}

}  // namespace mixnet::sym::pass
