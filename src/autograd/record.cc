// Recording: the operator layer's hook (every op call while recording), NDArray views, custom
// Functions, and which arrays a node must keep (NOTE [ Autograd tape ] in node.h).
#include <algorithm>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "autograd/node.h"
#include "mixnet/base/error.h"
#include "operator/attrs_cache.h"
#include "operator/gradient.h"
#include "operator/op_def.h"
#include "operator/record_hook.h"

namespace mixnet::autograd {
namespace {

/*! \brief Which inputs and outputs an op's gradient reads. */
struct GradUsage {
  std::vector<bool> inputs, outputs;
};

/*!
 * \brief A GradBuilder that computes nothing: it numbers values and notes which of the op's
 * inputs and outputs the gradient graph reads (or returns as a gradient).
 */
class UsageTracer final : public op::GradBuilder {
 public:
  UsageTracer(size_t n_in, size_t n_out) : n_in_(n_in), n_out_(n_out), next_(n_in + 2 * n_out) {
    usage_.inputs.assign(n_in, false);
    usage_.outputs.assign(n_out, false);
  }
  std::vector<op::GValue> Apply(std::string_view name, std::span<const op::GValue> inputs,
                                const op::AttrDict& attrs) override {
    for (op::GValue v : inputs)
      Use(v);
    std::vector<op::GValue> out(NumOutputs(op::Registry::Get(name), attrs));
    for (op::GValue& v : out)
      v.id = static_cast<int>(next_++);
    return out;
  }
  void Use(op::GValue v) {
    if (!v.valid()) return;
    const auto id = static_cast<size_t>(v.id);
    if (id < n_in_) {
      usage_.inputs[id] = true;
    } else if (id < n_in_ + n_out_) {
      usage_.outputs[id - n_in_] = true;
    }
  }
  GradUsage Take() { return std::move(usage_); }

 private:
  size_t n_in_, n_out_, next_;
  GradUsage usage_;
};

GradUsage TraceUsage(const op::OpDef& def, const op::Attrs& attrs, size_t n_in, size_t n_out) {
  UsageTracer tracer(n_in, n_out);
  std::vector<op::GValue> in(n_in), out(n_out), og(n_out);
  for (size_t i = 0; i < n_in; ++i)
    in[i].id = static_cast<int>(i);
  for (size_t j = 0; j < n_out; ++j) {
    out[j].id = static_cast<int>(n_in + j);
    og[j].id = static_cast<int>(n_in + n_out + j);
  }
  for (op::GValue g : def.gradient(tracer, attrs, in, out, og))
    tracer.Use(g);
  return tracer.Take();
}

/*!
 * \brief The usage for this op and these attributes, traced once per thread. Keyed by the
 * cached Attrs object, which the entry pins so that its address is not reused.
 */
const GradUsage& UsageOf(const op::OpDef& def, const std::shared_ptr<const op::Attrs>& attrs,
                         size_t n_in, size_t n_out) {
  struct Cached {
    std::shared_ptr<const op::Attrs> pin;
    size_t n_in;
    GradUsage usage;
  };
  thread_local std::unordered_map<const op::Attrs*, Cached> cache;
  auto it = cache.find(attrs.get());
  if (it != cache.end() && it->second.n_in == n_in) return it->second.usage;
  if (cache.size() >= 4096) cache.clear();
  Cached c{attrs, n_in, TraceUsage(def, *attrs, n_in, n_out)};
  return cache.insert_or_assign(attrs.get(), std::move(c)).first->second.usage;
}

/*! \brief True if any of the arrays has a place in a recorded graph. */
bool AnyInGraph(std::span<const NDArray> arrays) {
  return std::any_of(arrays.begin(), arrays.end(), [](const NDArray& a) { return HasGraph(a); });
}

void Record(const op::RecordedCall& call) {
  if (call.outputs_given) {
    for (size_t j = 0; j < call.outputs.size(); ++j) {
      const NDArray::GradEntry& e = call.outputs[j].grad_entry();
      MX_CHECK(!e.node, ValueError)
          << call.op.name << ": writing in place (out=) into an array that is part of the graph "
          << "being recorded (" << (e.node->is_variable ? "a variable" : "an output of ")
          << (e.node->is_variable ? "" : e.node->Name())
          << ") would make its gradients wrong. Write into a new array, or do this write "
             "outside autograd::RecordScope (after backward).";
    }
  }
  if (!AnyInGraph(call.inputs)) return;  // a constant: nothing to differentiate

  auto node = std::make_shared<Node>();
  node->op = &call.op;
  node->attrs = call.attrs;
  node->is_train = call.is_train;
  const size_t n_in = call.inputs.size(), n_out = call.outputs.size();
  node->inputs.reserve(n_in);
  for (const NDArray& a : call.inputs)
    node->inputs.push_back(a.grad_entry());
  node->saved_inputs.resize(n_in);
  node->input_versions.resize(n_in);
  node->saved_outputs.resize(n_out);
  node->output_versions.resize(n_out);
  if (call.op.gradient) {
    const GradUsage& usage = UsageOf(call.op, call.attrs, n_in, n_out);
    for (size_t i = 0; i < n_in; ++i) {
      if (!usage.inputs[i]) continue;
      node->saved_inputs[i] = call.inputs[i];
      // The version after this call's own writes: a mutated input (BatchNorm's moving
      // statistics) is expected to change once.
      const bool mutated = std::find(call.mutated_inputs.begin(), call.mutated_inputs.end(),
                                     static_cast<int>(i)) != call.mutated_inputs.end();
      node->input_versions[i] = call.inputs[i].version() + (mutated ? 1 : 0);
    }
    for (size_t j = 0; j < n_out; ++j) {
      if (!usage.outputs[j]) continue;
      node->saved_outputs[j] = Detach(call.outputs[j]);
      node->output_versions[j] = call.outputs[j].version() + (call.outputs_given ? 1 : 0);
    }
  }
  for (const NDArray& o : call.outputs) {
    node->out_shapes.push_back(o.shape());
    node->out_dtypes.push_back(o.dtype());
  }
  AttachOutputs(node, call.outputs);
}

/*! \brief Views of recorded arrays become slice_axis / Reshape nodes. */
void RecordView(const NDArray& source, NDArray* view, NDArray::ViewKind kind) {
  if (!IsRecording()) return;
  const op::ViewOp v = op::DescribeView(source, *view, kind);
  const std::shared_ptr<const op::Attrs> attrs = op::CachedAttrs(*v.op, v.attrs);
  const NDArray inputs[] = {source};
  Record(
      op::RecordedCall{*v.op, attrs, inputs, std::span<NDArray>(view, 1), false, {}, IsTraining()});
}

}  // namespace

size_t NumOutputs(const op::OpDef& def, const op::AttrDict& attrs) {
  return def.static_outputs ? def.static_outputs->size()
                            : static_cast<size_t>(def.NumOutputs(*op::CachedAttrs(def, attrs)));
}

void AttachOutputs(const std::shared_ptr<Node>& node, std::span<NDArray> outputs) {
  for (size_t j = 0; j < outputs.size(); ++j)
    outputs[j].set_grad_entry({node, static_cast<uint32_t>(j)});
}

void InstallHooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    op::SetRecordFn(Record);
    NDArray::SetViewRecorder(RecordView);
  });
}

std::vector<NDArray> Function::operator()(std::span<const NDArray> inputs) {
  MX_CHECK(!called_, ValueError)
      << "autograd::Function: this Function object was already called; create a new one for "
         "each call (it holds that call's saved arrays)";
  called_ = true;
  std::shared_ptr<Function> self;
  try {
    self = shared_from_this();
  } catch (const std::bad_weak_ptr&) {
    MX_THROW(ValueError) << "autograd::Function: the object must be owned by a std::shared_ptr "
                            "(std::make_shared<YourFunction>(...)) to be called";
  }
  std::vector<NDArray> outputs;
  const bool recording = IsRecording();
  {
    PauseScope pause(IsTraining());
    outputs = Forward(inputs);
  }
  if (!recording || !AnyInGraph(inputs)) return outputs;
  auto node = std::make_shared<Node>();
  node->function = std::move(self);
  node->is_train = IsTraining();
  for (const NDArray& a : inputs)
    node->inputs.push_back(a.grad_entry());
  for (size_t j = 0; j < outputs.size(); ++j) {
    MX_CHECK(!outputs[j].is_none(), ValueError)
        << "autograd::Function: Forward returned a none array as output " << j;
    node->out_shapes.push_back(outputs[j].shape());
    node->out_dtypes.push_back(outputs[j].dtype());
  }
  AttachOutputs(node, outputs);
  return outputs;
}

}  // namespace mixnet::autograd
