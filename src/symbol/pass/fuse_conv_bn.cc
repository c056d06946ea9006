// Inference-only fusion: Convolution -> BatchNorm [-> relu] as one convolution whose output
// channels are scaled and shifted (and rectified) as it writes them.
//
// NOTE [ Conv BatchNorm folding ]
// In inference BatchNorm is a per-channel affine map of its input: y = x * scale + shift with
// scale = gamma / sqrt(moving_var + eps) (gamma taken as 1 under fix_gamma) and shift = beta -
// moving_mean * scale. Following a convolution it can be applied by the convolution itself,
// as oneDNN post-ops on the output still in registers (with a following ReLU as a third
// post-op): the separate BatchNorm and ReLU passes over the activations, ~9% of a ResNet-50
// forward, disappear. The scale and shift are computed in the graph from the current
// parameters by small registered ops (a few hundred floats per layer), not folded into the
// weights once, so a graph bound to parameters that training keeps changing stays exact. A
// convolution bias b folds into the shift: beta + (b - moving_mean) * scale. Only chains whose
// inner results nobody else reads are fused (the convolution output feeds only the
// BatchNorm, which outputs no mean or variance). The executor runs this pass only for graphs
// that never run in training mode and compute no gradient (ExecutorOptions::inference_only,
// set by CachedOp for predict-mode calls), where BatchNorm uses its moving statistics.
#include <string>
#include <unordered_map>

#include "operator/nn/conv_util.h"
#include "operator/param.h"
#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {
namespace {

bool IsOp(const Node& n, std::string_view name) {
  return !n.is_variable() && n.op->name == name;
}

bool IsRelu(const Node& n) {
  if (IsOp(n, "relu")) return true;
  const std::string* act = n.FindAttr("act_type");
  return IsOp(n, "Activation") && act && *act == "relu";
}

template <typename T>
T AttrOr(const Node& n, std::string_view key, T fallback) {
  const std::string* v = n.FindAttr(key);
  return v ? op::ValueCodec<T>::Parse(*v) : fallback;
}

/*! \brief A BatchNorm that normalises a convolution's output over channels (axis 1) and
 * shows only its normalised output. */
bool FoldableBatchNorm(const IndexedGraph& g, uint32_t nid, const std::vector<uint32_t>& refs) {
  const Node& bn = g.node(nid);
  if (!IsOp(bn, "BatchNorm") || AttrOr<int64_t>(bn, "axis", 1) != 1 ||
      AttrOr<bool>(bn, "output_mean_var", false)) {
    return false;
  }
  for (uint32_t i = 1; i < g.num_outputs(nid); ++i)
    if (refs[g.entry_id(nid, i)] != 0) return false;
  const IndexedGraph::Entry& in = g[nid].inputs[0];
  return IsOp(g.node(in.node_id), "Convolution") && in.index == 0 && refs[g.entry_id(in)] == 1;
}

}  // namespace

std::vector<NodeEntry> FuseConvBatchNorm(std::span<const NodeEntry> outputs) {
  const IndexedGraph g(outputs);
  const std::vector<uint32_t> refs = g.EntryRefCounts();
  // The BatchNorm of each fused chain, by the node that ends the chain (the BatchNorm itself
  // or the relu reading it); nodes whose work the chain's end takes over.
  std::unordered_map<uint32_t, uint32_t> tail_bn;
  std::vector<bool> absorbed(g.num_nodes(), false);
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (!FoldableBatchNorm(g, nid, refs)) continue;
    absorbed[g[nid].inputs[0].node_id] = true;
    tail_bn[nid] = nid;
  }
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (!IsRelu(g.node(nid)) || g[nid].inputs.size() != 1) continue;
    const IndexedGraph::Entry& in = g[nid].inputs[0];
    if (tail_bn.count(in.node_id) && in.index == 0 && refs[g.entry_id(in)] == 1) {
      tail_bn.erase(in.node_id);
      absorbed[in.node_id] = true;
      tail_bn[nid] = in.node_id;
    }
  }
  if (tail_bn.empty()) return {outputs.begin(), outputs.end()};

  std::vector<std::shared_ptr<Node>> survivor(g.num_nodes());
  auto entry = [&](const IndexedGraph::Entry& e) {
    return NodeEntry{survivor[e.node_id], e.index};
  };
  auto apply = [](const char* op, std::string name, std::vector<NodeEntry> in,
                  op::AttrDict attrs = {}) {
    return NodeEntry{
        Node::MakeOp(op::Registry::Get(op), std::move(name), std::move(attrs), std::move(in)), 0};
  };
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const std::shared_ptr<Node>& node = g[nid].node;
    if (absorbed[nid]) continue;
    auto it = tail_bn.find(nid);
    if (it == tail_bn.end()) {
      bool changed = false;
      std::vector<NodeEntry> inputs = node->inputs;
      for (size_t i = 0; i < inputs.size(); ++i) {
        inputs[i] = entry(g[nid].inputs[i]);
        changed = changed || inputs[i].node != node->inputs[i].node;
      }
      std::vector<std::shared_ptr<Node>> deps = node->control_deps;
      for (size_t i = 0; i < deps.size(); ++i) {
        changed = changed || survivor[g[nid].control_deps[i]] != deps[i];
        deps[i] = survivor[g[nid].control_deps[i]];
      }
      survivor[nid] = node;
      if (changed) {
        survivor[nid] = std::make_shared<Node>(*node);  // keeps the parsed parameters
        survivor[nid]->inputs = std::move(inputs);
        survivor[nid]->control_deps = std::move(deps);
      }
      continue;
    }
    const uint32_t bn_id = it->second;
    const Node& bn = g.node(bn_id);
    const auto& bn_in = g[bn_id].inputs;  // data, gamma, beta, moving_mean, moving_var
    const uint32_t conv_id = bn_in[0].node_id;
    const Node& conv = g.node(conv_id);
    const auto& conv_in = g[conv_id].inputs;
    const std::string& name = bn.name;
    // scale = gamma / sqrt(var + eps); shift = beta + (bias - mean) * scale.
    const op::AttrDict eps = {
        {"scalar", op::ValueCodec<double>::Print(AttrOr<double>(bn, "eps", 1e-3))}};
    NodeEntry scale = apply("rsqrt", name + "_inv_std",
                            {apply("_plus_scalar", name + "_var_eps", {entry(bn_in[4])}, eps)});
    if (!AttrOr<bool>(bn, "fix_gamma", true)) {
      scale = apply("elemwise_mul", name + "_scale", {entry(bn_in[1]), scale});
    }
    NodeEntry centre = apply("negative", name + "_neg_mean", {entry(bn_in[3])});
    if (!conv.parsed().param<op::nn::ConvParam>().no_bias) {
      centre = apply("elemwise_sub", name + "_bias_mean", {entry(conv_in[2]), entry(bn_in[3])});
    }
    const NodeEntry shift =
        apply("elemwise_add", name + "_shift",
              {entry(bn_in[2]), apply("elemwise_mul", name + "_centre_scale", {centre, scale})});
    op::AttrDict attrs;
    for (const auto& [k, v] : conv.attrs)
      if (k != "no_bias") attrs.emplace_back(k, v);
    attrs.emplace_back("no_bias", "True");
    const bool relu = bn_id != nid;
    survivor[nid] = Node::MakeOp(
        op::Registry::Get(relu ? "_conv_scale_shift_relu" : "_conv_scale_shift"), node->name,
        std::move(attrs), {entry(conv_in[0]), entry(conv_in[1]), scale, shift});
  }
  std::vector<NodeEntry> out;
  for (const auto& e : g.outputs())
    out.push_back(entry(e));
  return out;
}

}  // namespace mixnet::sym::pass
