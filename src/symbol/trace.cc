// Deferred compute: every op called while a TraceScope is active is also recorded as a symbol
// node (NOTE [ Deferred compute ]).
//
// NOTE [ Deferred compute ]
// Tracing runs the code for real and records alongside, so the first call of a hybridized block
// gives eager results (and eager autograd), and every shape is known when the graph is built.
// Each NDArray object carries the node output that produced it (NDArray::TraceEntry) together
// with the trace's id: an entry from another (older) trace is as foreign as no entry at all,
// so arrays kept from an earlier trace never splice stale nodes into a new graph. An op reading
// a foreign array gets a placeholder variable that remembers the op; GetSymbol refuses a graph
// that reaches one, since replaying it would read a value frozen at trace time.
#include "mixnet/symbol/trace.h"

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "mixnet/base/error.h"
#include "operator/record_hook.h"
#include "symbol/node.h"

namespace mixnet::sym {
namespace {

thread_local TraceScope* t_current = nullptr;
std::atomic<uint64_t> g_next_trace_id{1};

}  // namespace

struct TraceScope::State {
  uint64_t id = 0;
  std::unordered_map<std::string, std::shared_ptr<Node>> variables;  // by name
  // Placeholders for arrays read from outside the trace -> the op that read them.
  std::unordered_map<const Node*, std::string> foreign;
};

namespace {

NodeEntry EntryOf(TraceScope::State& st, const NDArray& a, const std::string& reader) {
  const NDArray::TraceEntry& e = a.trace_entry();
  if (e.node && e.trace_id == st.id) return {e.node, e.index};
  auto node = Node::MakeVariable("__foreign" + std::to_string(st.foreign.size()) + "__");
  st.foreign.emplace(node.get(), reader);
  return {node, 0};
}

void TraceCall(const op::RecordedCall& call) {
  TraceScope* t = TraceScope::Current();
  if (!t) return;
  TraceScope::State& st = t->state();
  std::vector<Symbol> inputs;
  inputs.reserve(call.inputs.size());
  for (const NDArray& a : call.inputs)
    inputs.emplace_back(std::vector<SymbolOutput>{EntryOf(st, a, call.op.name)});
  const Symbol s = Symbol::Create(call.op.name, inputs, call.attrs->dict);
  const std::shared_ptr<Node>& node = s.outputs().at(0).node;
  for (size_t i = 0; i < call.outputs.size(); ++i)
    call.outputs[i].set_trace_entry({node, static_cast<uint32_t>(i), st.id});
}

void TraceView(const NDArray& source, NDArray* view, NDArray::ViewKind kind) {
  TraceScope* t = TraceScope::Current();
  if (!t) return;
  const op::ViewOp v = op::DescribeView(source, *view, kind);
  TraceScope::State& st = t->state();
  const Symbol in(std::vector<SymbolOutput>{EntryOf(st, source, v.op->name)});
  const Symbol s = Symbol::Create(v.op->name, {in}, v.attrs);
  view->set_trace_entry({s.outputs().at(0).node, 0, st.id});
}

}  // namespace

TraceScope::TraceScope() : prev_(t_current), state_(std::make_unique<State>()) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    op::SetTraceFn(TraceCall);
    NDArray::SetViewTracer(TraceView);
  });
  state_->id = g_next_trace_id.fetch_add(1, std::memory_order_relaxed);
  t_current = this;
  op::t_tracing = true;
}

TraceScope::~TraceScope() {
  t_current = prev_;
  op::t_tracing = prev_ != nullptr;
}

TraceScope* TraceScope::Current() {
  return t_current;
}

NDArray TraceScope::Variable(const NDArray& x, const std::string& name,
                             const VariableOptions& options) {
  MX_CHECK(!x.is_none(), ValueError) << "TraceScope::Variable: '" << name << "' is a none array";
  std::shared_ptr<Node>& node = state_->variables[name];
  if (!node) {
    node = Symbol::Variable(name, options).outputs().at(0).node;
    variables_.emplace_back(name, x);
  }
  NDArray out = x;
  out.set_trace_entry({node, 0, state_->id});
  return out;
}

Symbol TraceScope::GetSymbol(std::span<const NDArray> outputs) const {
  std::vector<SymbolOutput> outs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NDArray::TraceEntry& e = outputs[i].trace_entry();
    MX_CHECK(e.node && e.trace_id == state_->id, ValueError)
        << "hybridized forward: output " << i << " (" << outputs[i].Describe()
        << ") was not computed from the inputs and parameters inside the traced forward";
    outs.push_back({e.node, e.index});
  }
  // Refuse graphs that read arrays from outside the trace (NOTE [ Deferred compute ]).
  std::vector<const Node*> stack;
  std::unordered_set<const Node*> seen;
  for (const SymbolOutput& o : outs)
    stack.push_back(o.node.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    auto f = state_->foreign.find(n);
    MX_CHECK(f == state_->foreign.end(), ValueError)
        << "hybridized forward: operator '" << f->second
        << "' reads an array that is neither an input of the block nor a Parameter, nor computed "
           "inside the forward; a hybridized graph cannot replay it. Pass it as an input, "
           "register it as a parameter or constant (Block::RegisterConstant), or create it inside "
           "the forward with an op (op::zeros, op::_ones, op::_full), not NDArray::Zeros";
    for (const NodeEntry& in : n->inputs)
      stack.push_back(in.node.get());
  }
  return Symbol(std::move(outs));
}

}  // namespace mixnet::sym
