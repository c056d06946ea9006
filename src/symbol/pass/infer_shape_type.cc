// Shape and dtype inference over a whole graph, from the ops' own inference functions (the
// same ones eager calls run, NOTE [ Op definitions ]).
#include <sstream>

#include "symbol/pass/passes.h"

namespace mixnet::sym::pass {
namespace {

bool Known(const Shape& s) {
  return s.is_known();
}
bool Known(int t) {
  return t >= 0;
}

template <typename T, typename Fn>
size_t Infer(const IndexedGraph& g, std::vector<T>* values, Fn infer_fn) {
  MX_INTERNAL_ASSERT(values->size() == g.num_entries());
  std::vector<T> in, out;
  auto run_node = [&](uint32_t nid) -> bool {
    const Node& n = g.node(nid);
    if (n.is_variable()) return false;
    const auto& inputs = g[nid].inputs;
    in.clear();
    for (const auto& e : inputs)
      in.push_back((*values)[g.entry_id(e)]);
    out.assign(values->begin() + g.entry_id(nid, 0),
               values->begin() + g.entry_id(nid, 0) + g.num_outputs(nid));
    try {
      infer_fn(n, &in, &out);
    } catch (const Error& e) {
      std::ostringstream where;
      where << "node '" << n.name << "' (" << n.op->name << ", inputs:";
      for (size_t i = 0; i < inputs.size(); ++i)
        where << (i ? ", " : " ") << g.node(inputs[i].node_id).name;
      where << "): " << e.what();
      if (e.kind() == ErrorKind::kTypeError) MX_THROW(TypeError) << where.str();
      MX_THROW(ValueError) << where.str();
    }
    bool changed = false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      T& v = (*values)[g.entry_id(inputs[i])];
      if (!Known(v) && Known(in[i])) {
        v = in[i];
        changed = true;
      } else if (!(v == in[i]) && Known(in[i])) {
        v = in[i];  // partly known dimensions filled in
        changed = true;
      }
    }
    for (size_t i = 0; i < out.size(); ++i) {
      T& v = (*values)[g.entry_id(nid, static_cast<uint32_t>(i))];
      if (!(v == out[i])) {
        v = out[i];
        changed = true;
      }
    }
    return changed;
  };
  // Forward sweeps, then backward sweeps (outputs decide inputs, e.g. a weight's shape), until
  // nothing changes; each sweep can only add knowledge, so this ends.
  for (int round = 0; round < 16; ++round) {
    bool changed = false;
    for (uint32_t nid = 0; nid < g.num_nodes(); ++nid)
      changed |= run_node(nid);
    for (uint32_t nid = static_cast<uint32_t>(g.num_nodes()); nid-- > 0;)
      changed |= run_node(nid);
    if (!changed) break;
  }
  size_t unknown = 0;
  for (const T& v : *values)
    unknown += Known(v) ? 0 : 1;
  return unknown;
}

}  // namespace

size_t InferShapes(const IndexedGraph& g, std::vector<Shape>* shapes) {
  return Infer(g, shapes, [](const Node& n, std::vector<Shape>* in, std::vector<Shape>* out) {
    if (n.op->infer_shape) n.op->infer_shape(n.parsed(), in, out);
  });
}

size_t InferTypes(const IndexedGraph& g, std::vector<int>* dtypes) {
  return Infer(g, dtypes, [](const Node& n, std::vector<int>* in, std::vector<int>* out) {
    if (n.op->infer_type) n.op->infer_type(n.parsed(), in, out);
  });
}

}  // namespace mixnet::sym::pass
