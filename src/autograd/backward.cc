// Backward and grad: the recorded graph's gradient ops, run through the engine.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "autograd/node.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "operator/gradient.h"
#include "operator/op_def.h"

namespace mixnet::autograd {
namespace {

/*! \brief Sets the flags for the duration of a backward pass. */
class PassFlags {
 public:
  PassFlags(bool recording, bool training)
      : recording_(SetRecording(recording)), training_(SetTraining(training)) {}
  ~PassFlags() {
    SetRecording(recording_);
    SetTraining(training_);
  }

 private:
  bool recording_, training_;
};

struct EntryKey {
  const Node* node;
  uint32_t index;
  bool operator==(const EntryKey&) const = default;
};
struct EntryHash {
  size_t operator()(const EntryKey& k) const {
    return std::hash<const void*>()(k.node) * 31 + k.index;
  }
};

NDArray Sum(const NDArray& a, const NDArray& b) {
  static const op::OpDef* add = op::GetOp("elemwise_add");
  const NDArray in[] = {a, b};
  return op::Invoke(add, in)[0];
}

/*!
 * \brief Records the gradient graph an op's gradient function builds, then runs only the calls
 * that the wanted gradients need: the gradient for conv1's input images, for one, is never
 * computed.
 */
class LazyGradBuilder final : public op::GradBuilder {
 public:
  explicit LazyGradBuilder(op::InvokeOptions options) : options_(options) {}
  op::GValue Add(const NDArray& a) {
    values_.push_back(a);
    producer_.push_back(-1);
    return op::GValue{static_cast<int>(values_.size()) - 1};
  }
  std::vector<op::GValue> Apply(std::string_view name, std::span<const op::GValue> inputs,
                                const op::AttrDict& attrs) override {
    const op::OpDef* def = op::GetOp(name);
    const size_t n = NumOutputs(*def, attrs);
    calls_.push_back(Call{def, {inputs.begin(), inputs.end()}, attrs, values_.size(), n});
    std::vector<op::GValue> out(n);
    for (op::GValue& v : out) {
      v.id = static_cast<int>(values_.size());
      values_.emplace_back();
      producer_.push_back(static_cast<int>(calls_.size()) - 1);
    }
    return out;
  }
  /*! \brief Runs, in order, the calls `wanted` depends on; none for invalid values. */
  std::vector<NDArray> Run(std::span<const op::GValue> wanted) {
    std::vector<bool> needed(calls_.size(), false);
    std::vector<int> stack;
    for (op::GValue v : wanted) {
      if (v.valid()) stack.push_back(v.id);
    }
    while (!stack.empty()) {
      const int p = producer_.at(static_cast<size_t>(stack.back()));
      stack.pop_back();
      if (p < 0 || needed[static_cast<size_t>(p)]) continue;
      needed[static_cast<size_t>(p)] = true;
      for (op::GValue v : calls_[static_cast<size_t>(p)].inputs) {
        if (v.valid()) stack.push_back(v.id);
      }
    }
    for (size_t c = 0; c < calls_.size(); ++c) {
      if (!needed[c]) continue;
      const Call& call = calls_[c];
      std::vector<NDArray> in;
      for (op::GValue v : call.inputs)
        in.push_back(values_.at(static_cast<size_t>(v.id)));
      std::vector<NDArray> out = op::Invoke(call.op, in, call.attrs, {}, options_);
      for (size_t k = 0; k < call.n_out; ++k)
        values_[call.first_out + k] = std::move(out[k]);
    }
    std::vector<NDArray> result;
    for (op::GValue v : wanted)
      result.push_back(v.valid() ? values_.at(static_cast<size_t>(v.id)) : NDArray());
    return result;
  }

 private:
  struct Call {
    const op::OpDef* op;
    std::vector<op::GValue> inputs;
    op::AttrDict attrs;
    size_t first_out, n_out;
  };
  op::InvokeOptions options_;
  std::vector<NDArray> values_;
  std::vector<int> producer_;  // the call that makes each value; -1 for given arrays
  std::vector<Call> calls_;
};

std::string InputName(const Node& n, size_t i) {
  if (n.op) return op::InputName(*n.attrs, i);
  return "input " + std::to_string(i);
}

void CheckVersions(const Node& n, const char* api) {
  auto check = [&](const NDArray& a, uint64_t recorded, const std::string& what) {
    if (a.is_none() || a.version() == recorded) return;
    MX_THROW(ValueError) << api << ": " << what << " of " << n.Name()
                         << " was modified in place after " << n.Name() << " was recorded (version "
                         << recorded << ", now " << a.version()
                         << "), and its gradient reads it; the gradient would be wrong. Write "
                            "into a new array instead, or copy the array before the write.";
  };
  for (size_t i = 0; i < n.saved_inputs.size(); ++i)
    check(n.saved_inputs[i], n.input_versions[i], "input '" + InputName(n, i) + "'");
  for (size_t j = 0; j < n.saved_outputs.size(); ++j)
    check(n.saved_outputs[j], n.output_versions[j], "output " + std::to_string(j));
}

void Free(Node* n) {
  n->saved_inputs.clear();
  n->saved_outputs.clear();
  n->function.reset();
  n->freed = true;
}

/*!
 * \brief The shared pass. `targets` are the entries whose gradients are wanted; returns them
 * in order (none where no gradient arrived).
 */
std::vector<NDArray> RunPass(const char* api, std::span<const NDArray> heads,
                             std::span<const NDArray> head_grads,
                             std::span<const NDArray::GradEntry> targets, bool create_graph,
                             bool retain_graph, bool train_mode) {
  MX_CHECK(!heads.empty(), ValueError) << api << ": no heads given";
  MX_CHECK(head_grads.empty() || head_grads.size() == heads.size(), ValueError)
      << api << ": " << heads.size() << " heads but " << head_grads.size() << " head_grads";
  for (size_t i = 0; i < heads.size(); ++i) {
    MX_CHECK(heads[i].grad_entry().node, ValueError)
        << api << ": head " << i << " ("
        << (heads[i].is_none() ? std::string("none") : heads[i].Describe())
        << ") is not part of a recorded graph. Compute it inside autograd::RecordScope "
           "(mx.autograd.record()) from arrays marked with AttachGrad/MarkVariables.";
    if (head_grads.empty() || head_grads[i].is_none()) continue;
    MX_CHECK(head_grads[i].shape() == heads[i].shape() && head_grads[i].dtype() == heads[i].dtype(),
             ValueError)
        << api << ": head_grads[" << i << "] is " << head_grads[i].Describe() << " but head " << i
        << " is " << heads[i].Describe() << "; they must have the same shape and dtype";
  }

  // The reachable nodes, each once.
  std::vector<std::shared_ptr<Node>> nodes;
  {
    std::unordered_set<const Node*> seen;
    std::vector<std::shared_ptr<Node>> stack;
    for (const NDArray& h : heads)
      stack.push_back(h.grad_entry().node);
    while (!stack.empty()) {
      std::shared_ptr<Node> n = std::move(stack.back());
      stack.pop_back();
      if (!seen.insert(n.get()).second) continue;
      MX_CHECK(!n->freed, ValueError)
          << api << ": the recorded graph through " << n->Name()
          << " was already freed by an earlier backward. Pass retain_graph=true to the first "
             "backward (or grad) to differentiate the same graph again.";
      for (const NDArray::GradEntry& e : n->inputs) {
        if (e.node && !seen.count(e.node.get())) stack.push_back(e.node);
      }
      nodes.push_back(std::move(n));
    }
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const auto& a, const auto& b) { return a->seq < b->seq; });

  // Which entries lead to a target: forward over the nodes in recording order.
  std::unordered_set<EntryKey, EntryHash> target_set;
  for (const NDArray::GradEntry& t : targets)
    target_set.insert({t.node.get(), t.index});
  std::unordered_set<const Node*> propagates;
  auto wanted = [&](const NDArray::GradEntry& e) {
    return e.node && (target_set.count({e.node.get(), e.index}) || propagates.count(e.node.get()));
  };
  for (const auto& n : nodes) {
    for (const NDArray::GradEntry& e : n->inputs) {
      if (wanted(e)) {
        propagates.insert(n.get());
        break;
      }
    }
  }
  for (size_t i = 0; i < heads.size(); ++i) {
    MX_CHECK(wanted(heads[i].grad_entry()), ValueError)
        << api << ": head " << i << " (" << heads[i].Describe()
        << ") does not depend on any variable that takes a gradient (marked with "
           "AttachGrad/MarkVariables, grad_req not 'null'"
        << (targets.empty() ? "" : ", among those asked for") << ")";
  }

  PassFlags flags(create_graph, train_mode);
  std::unordered_map<EntryKey, NDArray, EntryHash> grads;
  auto accumulate = [&](const NDArray::GradEntry& e, const NDArray& g) {
    auto [it, inserted] = grads.try_emplace(EntryKey{e.node.get(), e.index}, g);
    if (!inserted) it->second = Sum(it->second, g);
  };
  for (size_t i = 0; i < heads.size(); ++i) {
    const NDArray& h = heads[i];
    accumulate(h.grad_entry(), head_grads.empty() || head_grads[i].is_none()
                                   ? NDArray::Ones(h.shape(), h.dtype(), h.ctx())
                                   : head_grads[i]);
  }

  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const std::shared_ptr<Node>& n = *it;
    if (n->is_variable || !propagates.count(n.get())) continue;
    const size_t n_out = n->num_outputs();
    std::vector<NDArray> out_grads(n_out);
    bool any = false;
    for (size_t j = 0; j < n_out; ++j) {
      auto g = grads.find({n.get(), static_cast<uint32_t>(j)});
      if (g == grads.end()) continue;
      out_grads[j] = g->second;
      any = true;
      // Keep it only if it is itself a target.
      if (!target_set.count({n.get(), static_cast<uint32_t>(j)})) grads.erase(g);
    }
    if (!any) continue;
    CheckVersions(*n, api);
    for (size_t j = 0; j < n_out; ++j) {
      if (out_grads[j].is_none()) out_grads[j] = NDArray::Zeros(n->out_shapes[j], n->out_dtypes[j]);
    }

    std::vector<NDArray> in_grads;
    if (n->function) {
      in_grads = n->function->Backward(out_grads);
      MX_CHECK(in_grads.size() == n->inputs.size(), ValueError)
          << "autograd::Function::Backward returned " << in_grads.size() << " gradients for "
          << n->inputs.size() << " inputs";
    } else if (!n->op->gradient) {
      in_grads.assign(n->inputs.size(), NDArray());  // NOTE [ Ops without a gradient ]
    } else {
      op::InvokeOptions options;
      options.is_train = train_mode;
      LazyGradBuilder b(options);
      std::vector<op::GValue> in, out, og;
      for (const NDArray& a : n->saved_inputs)
        in.push_back(b.Add(a));
      for (size_t j = 0; j < n_out; ++j) {
        NDArray o = n->saved_outputs[j];
        // Put back the entry the saved copy was stripped of (NOTE [ Autograd tape ]).
        if (create_graph && !o.is_none()) o.set_grad_entry({n, static_cast<uint32_t>(j)});
        out.push_back(b.Add(o));
      }
      for (const NDArray& g : out_grads)
        og.push_back(b.Add(g));
      std::vector<op::GValue> grads = n->op->gradient(b, *n->attrs, in, out, og);
      grads.resize(n->inputs.size());
      for (size_t i = 0; i < grads.size(); ++i) {
        if (!wanted(n->inputs[i])) grads[i] = op::GValue{};
      }
      in_grads = b.Run(grads);
    }
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const NDArray::GradEntry& e = n->inputs[i];
      if (in_grads[i].is_none() || !wanted(e)) continue;
      accumulate(e, in_grads[i]);
    }
    if (!retain_graph) Free(n.get());
  }

  std::vector<NDArray> result;
  for (const NDArray::GradEntry& t : targets) {
    auto g = grads.find({t.node.get(), t.index});
    result.push_back(g == grads.end() ? NDArray() : g->second);
  }
  return result;
}

}  // namespace

namespace {
thread_local bool t_gradients_consumed_at_once = false;
}

bool Function::GradientsConsumedAtOnce() {
  return t_gradients_consumed_at_once;
}

void Backward(std::span<const NDArray> heads, std::span<const NDArray> head_grads,
              bool retain_graph, bool train_mode) {
  // Targets: every variable reached that takes a gradient.
  std::vector<NDArray::GradEntry> targets;
  std::vector<Node*> variables;
  {
    std::unordered_set<const Node*> seen;
    std::vector<Node*> stack;
    for (const NDArray& h : heads) {
      if (h.grad_entry().node) stack.push_back(h.grad_entry().node.get());
    }
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second) continue;
      for (const NDArray::GradEntry& e : n->inputs) {
        if (!e.node) continue;
        if (e.node->is_variable && e.node->req != GradReq::kNull && !seen.count(e.node.get())) {
          targets.push_back(e);
          variables.push_back(e.node.get());
          seen.insert(e.node.get());
        } else {
          stack.push_back(e.node.get());
        }
      }
    }
    // A head may itself be a variable.
    for (const NDArray& h : heads) {
      const auto& e = h.grad_entry();
      if (e.node && e.node->is_variable && e.node->req != GradReq::kNull &&
          std::find(variables.begin(), variables.end(), e.node.get()) == variables.end()) {
        targets.push_back(e);
        variables.push_back(e.node.get());
      }
    }
  }
  std::vector<NDArray> grads;
  {
    struct ConsumedAtOnce {  // see Function::GradientsConsumedAtOnce
      bool prev = t_gradients_consumed_at_once;
      ConsumedAtOnce() { t_gradients_consumed_at_once = true; }
      ~ConsumedAtOnce() { t_gradients_consumed_at_once = prev; }
    } scope;
    grads = RunPass("backward", heads, head_grads, targets, false, retain_graph, train_mode);
  }
  PassFlags flags(false, train_mode);
  static const op::OpDef* add = op::GetOp("elemwise_add");
  for (size_t k = 0; k < variables.size(); ++k) {
    Node* v = variables[k];
    const NDArray& g = grads[k];
    if (v->req == GradReq::kWrite) {
      if (g.is_none()) {
        v->grad.Fill(0);
      } else if (g.SharesStorageWith(v->grad) && g.byte_offset() == v->grad.byte_offset() &&
                 g.shape() == v->grad.shape()) {
        v->grad.BumpVersion();  // computed in place (a CachedOp writing the buffer): a write
      } else {
        g.CopyTo(v->grad);
      }
    } else if (!g.is_none()) {  // kAdd
      const NDArray in[] = {v->grad, g};
      const NDArray out[] = {v->grad};
      op::Invoke(add, in, {}, out);
    }
  }
}

std::vector<NDArray> Grad(std::span<const NDArray> heads, std::span<const NDArray> variables,
                          std::span<const NDArray> head_grads, bool create_graph, int retain_graph,
                          bool train_mode) {
  MX_CHECK(!variables.empty(), ValueError) << "grad: no variables given";
  std::vector<NDArray::GradEntry> targets;
  for (size_t i = 0; i < variables.size(); ++i) {
    MX_CHECK(variables[i].grad_entry().node, ValueError)
        << "grad: variable " << i << " ("
        << (variables[i].is_none() ? std::string("none") : variables[i].Describe())
        << ") is not in any recorded graph; mark it with AttachGrad/MarkVariables before "
           "recording";
    targets.push_back(variables[i].grad_entry());
  }
  const bool retain = retain_graph < 0 ? create_graph : retain_graph != 0;
  std::vector<NDArray> grads =
      RunPass("grad", heads, head_grads, targets, create_graph, retain, train_mode);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i].is_none())
      grads[i] = NDArray::Zeros(variables[i].shape(), variables[i].dtype(), variables[i].ctx());
  }
  return grads;
}

}  // namespace mixnet::autograd
