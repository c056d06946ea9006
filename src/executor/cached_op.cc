// CachedOp: executors per input signature, and the autograd node of a recorded call.
//
// NOTE [ CachedOp executors ]
// An executor keeps the intermediate results of its last forward for its backward, so a call
// that autograd records holds its executor (the Slot is "busy") until the tape node is freed,
// and a second call with the same signature meanwhile binds another executor. Parameters
// (static inputs) are bound as given, so their values are read in place and auxiliary states
// (BatchNorm statistics) are updated in place; data inputs are copied into the executor's own
// arrays, which nobody else writes. Outputs are copied out: the executor overwrites its arrays
// on the next call, while a caller may keep them indefinitely.
// Gradients: a parameter with grad_req write has its gradient computed straight into its
// buffer, by one executor per buffer (two calls in one recording would overwrite each other's
// contribution), and autograd::Backward counts that as its write instead of copying. Other
// gradients are lent to autograd::Backward, which reads them before it returns (ops pushed
// earlier run earlier). autograd::Grad and create_graph may keep what they get: they get
// copies, and the parameters' buffers are put back as they were.
#include "mixnet/executor/cached_op.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>

#include "mixnet/autograd/autograd.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "symbol/indexed_graph.h"
#include "symbol/node.h"

namespace mixnet::exec {

struct CachedOp::Slot {
  std::unique_ptr<Executor> exec;
  std::vector<NDArray> bound;  // per input: the array the executor reads (arg or aux)
  std::vector<bool> need_grad;
  // Per input: the variable's own gradient buffer when the executor writes it directly (a
  // parameter with grad_req write), else none.
  std::vector<NDArray> direct_grad;
  bool busy = false;  // guarded by Impl::mu
};

struct CachedOp::Impl {
  ExecutorOptions options;
  std::vector<bool> static_inputs;
  std::vector<int> arg_index, aux_index;  // per input: its place among args / aux (or -1)
  size_t num_args = 0, num_aux = 0;
  mutable std::mutex mu;
  std::map<std::string, std::vector<std::shared_ptr<Slot>>> slots;  // by signature
};

namespace {

bool SameArray(const NDArray& a, const NDArray& b) {
  return a.SharesStorageWith(b) && a.byte_offset() == b.byte_offset() && a.shape() == b.shape() &&
         a.dtype() == b.dtype();
}

bool IsFloat(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 ||
         t == DType::kBFloat16;
}

/*! \brief Autograd's node for one recorded call: backward runs the executor's backward. */
class RecordedCall final : public autograd::Function {
 public:
  // Holds the Impl too: the tape may outlive the CachedOp (a block's cache cleared between
  // forward and backward).
  RecordedCall(std::shared_ptr<CachedOp::Slot> slot, std::shared_ptr<const CachedOp::Impl> impl)
      : slot_(std::move(slot)), impl_(std::move(impl)) {}
  ~RecordedCall() override {
    std::lock_guard<std::mutex> lock(impl_->mu);
    slot_->busy = false;
  }
  std::vector<NDArray> Forward(std::span<const NDArray>) override {
    slot_->exec->Forward(true);
    std::vector<NDArray> out;
    for (const NDArray& o : slot_->exec->outputs())
      out.push_back(o.Copy(o.ctx()));
    return out;
  }
  std::vector<NDArray> Backward(std::span<const NDArray> output_grads) override {
    const std::vector<NDArray>& outs = slot_->exec->outputs();
    std::vector<NDArray> og(outs.size());
    for (size_t i = 0; i < outs.size(); ++i)
      og[i] = output_grads[i].is_none() ? NDArray::Zeros(outs[i].shape(), outs[i].dtype())
                                        : output_grads[i];
    // The executor's own gradient arrays when autograd reads them at once (NOTE [ CachedOp
    // executors ]); copies when they may be kept (autograd::Grad, create_graph), and then the
    // variables' buffers the executor writes directly keep their values.
    const bool lend = GradientsConsumedAtOnce();
    std::vector<NDArray> kept(slot_->direct_grad.size());
    if (!lend) {
      for (size_t i = 0; i < kept.size(); ++i)
        if (!slot_->direct_grad[i].is_none())
          kept[i] = slot_->direct_grad[i].Copy(slot_->direct_grad[i].ctx());
    }
    slot_->exec->Backward(og);
    std::vector<NDArray> grads(slot_->need_grad.size());
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!slot_->need_grad[i]) continue;
      const NDArray& g = slot_->exec->grad_arrays()[static_cast<size_t>(impl_->arg_index[i])];
      grads[i] = lend ? g : g.Copy(g.ctx());
      if (!kept[i].is_none()) kept[i].CopyTo(g);
    }
    return grads;
  }

 private:
  std::shared_ptr<CachedOp::Slot> slot_;
  std::shared_ptr<const CachedOp::Impl> impl_;
};

}  // namespace

CachedOp::CachedOp(sym::Symbol symbol, std::vector<bool> static_inputs,
                   const ExecutorOptions& options)
    : symbol_(std::move(symbol)), impl_(std::make_shared<Impl>()) {
  input_names_ = symbol_.ListInputs();
  const std::vector<std::string> args = symbol_.ListArguments();
  const std::vector<std::string> aux = symbol_.ListAuxiliaryStates();
  MX_CHECK(static_inputs.empty() || static_inputs.size() == input_names_.size(), ValueError)
      << "CachedOp: " << static_inputs.size() << " static_inputs flags for " << input_names_.size()
      << " inputs";
  impl_->options = options;
  impl_->static_inputs =
      static_inputs.empty() ? std::vector<bool>(input_names_.size(), false) : static_inputs;
  impl_->num_args = args.size();
  impl_->num_aux = aux.size();
  for (const std::string& name : input_names_) {
    auto a = std::find(args.begin(), args.end(), name);
    auto x = std::find(aux.begin(), aux.end(), name);
    impl_->arg_index.push_back(a == args.end() ? -1 : static_cast<int>(a - args.begin()));
    impl_->aux_index.push_back(x == aux.end() ? -1 : static_cast<int>(x - aux.begin()));
    is_aux_.push_back(x != aux.end());
  }
}

CachedOp::~CachedOp() = default;

size_t CachedOp::num_executors() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  size_t n = 0;
  for (const auto& [key, v] : impl_->slots)
    n += v.size();
  return n;
}

std::vector<NDArray> CachedOp::Replay(std::span<const NDArray> inputs) const {
  std::vector<sym::NodeEntry> heads(symbol_.outputs().begin(), symbol_.outputs().end());
  std::map<const sym::Node*, std::vector<NDArray>> values;
  sym::DFSVisit(heads, [&](const std::shared_ptr<sym::Node>& n) {
    if (n->is_variable()) {
      auto it = std::find(input_names_.begin(), input_names_.end(), n->name);
      values[n.get()] = {inputs[static_cast<size_t>(it - input_names_.begin())]};
      return;
    }
    std::vector<NDArray> in;
    for (const sym::NodeEntry& e : n->inputs)
      in.push_back(values.at(e.node.get()).at(e.index));
    values[n.get()] = op::Invoke(n->op, in, n->parsed().dict);
  });
  std::vector<NDArray> out;
  for (const sym::NodeEntry& e : heads)
    out.push_back(values.at(e.node.get()).at(e.index));
  return out;
}

bool CachedOp::WritesGradBuffer(const NDArray& buf) const {
  // Two executors writing one variable's buffer would overwrite each other's contribution when
  // both calls are in one recorded graph (a block used twice): only the first one does.
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& [key, list] : impl_->slots)
    for (const auto& slot : list)
      for (const NDArray& d : slot->direct_grad)
        if (!d.is_none() && SameArray(d, buf)) return true;
  return false;
}

std::vector<NDArray> CachedOp::operator()(std::span<const NDArray> inputs) {
  MX_CHECK(inputs.size() == input_names_.size(), ValueError)
      << "CachedOp: the graph has " << input_names_.size() << " inputs (" <<
      [&] {
        std::ostringstream os;
        for (size_t i = 0; i < input_names_.size(); ++i)
          os << (i ? ", " : "") << input_names_[i];
        return os.str();
      }()
      << "), got " << inputs.size();
  const bool recording = autograd::IsRecording();
  const bool training = autograd::IsTraining();
  std::vector<bool> need_grad(inputs.size(), false);
  bool any_grad = false;
  std::ostringstream key;
  key << training;
  for (size_t i = 0; i < inputs.size(); ++i) {
    MX_CHECK(!inputs[i].is_none(), ValueError)
        << "CachedOp: input '" << input_names_[i] << "' is a none array";
    need_grad[i] =
        recording && !is_aux_[i] && IsFloat(inputs[i].dtype()) && autograd::HasGraph(inputs[i]);
    any_grad = any_grad || need_grad[i];
    key << '|' << inputs[i].shape() << DTypeName(inputs[i].dtype()) << need_grad[i];
  }
  if (any_grad && !training) return Replay(inputs);  // see the header
  const Context ctx = inputs.empty() ? Context::cpu() : inputs[0].ctx();
  key << '@' << static_cast<int>(ctx.dev_type) << ':' << ctx.dev_id;

  // Take a free slot whose parameters are the arrays given, or bind a new one.
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::vector<std::shared_ptr<Slot>>& list = impl_->slots[key.str()];
    for (auto it = list.begin(); it != list.end() && !slot;) {
      if ((*it)->busy) {
        ++it;
        continue;
      }
      bool same = true;
      for (size_t i = 0; i < inputs.size() && same; ++i) {
        same = !impl_->static_inputs[i] || SameArray((*it)->bound[i], inputs[i]);
        // A parameter whose gradient buffer was replaced (Cast, grad_req): bind anew.
        if (same && !(*it)->direct_grad[i].is_none()) {
          GradReq req = GradReq::kNull;
          const NDArray buf = autograd::VariableGrad(inputs[i], &req);
          same = req == GradReq::kWrite && SameArray(buf, (*it)->direct_grad[i]);
        }
      }
      if (same) {
        slot = *it;
      } else {
        it = list.erase(it);  // a parameter was replaced (Cast, new context): bind anew
      }
    }
    if (!slot) {
      slot = std::make_shared<Slot>();
      list.push_back(slot);
    }
    slot->busy = true;
  }
  if (!slot->exec) {
    std::vector<NDArray> args(impl_->num_args), grads(impl_->num_args), aux(impl_->num_aux);
    std::vector<GradReq> reqs(impl_->num_args, GradReq::kNull);
    slot->bound.resize(inputs.size());
    slot->direct_grad.assign(inputs.size(), NDArray());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const NDArray& in = inputs[i];
      const NDArray b = impl_->static_inputs[i] ? in : NDArray(in.shape(), ctx, in.dtype());
      slot->bound[i] = autograd::Detach(b);
      if (is_aux_[i]) {
        aux[static_cast<size_t>(impl_->aux_index[i])] = slot->bound[i];
      } else {
        const auto a = static_cast<size_t>(impl_->arg_index[i]);
        args[a] = slot->bound[i];
        if (need_grad[i]) {
          // A parameter with grad_req write gets its gradient written straight into its
          // buffer (autograd then skips its copy); anything else into an array of our own.
          GradReq req = GradReq::kNull;
          const NDArray buf =
              impl_->static_inputs[i] ? autograd::VariableGrad(in, &req) : NDArray();
          if (!buf.is_none() && req == GradReq::kWrite && buf.shape() == in.shape() &&
              buf.dtype() == in.dtype() && !WritesGradBuffer(buf)) {
            grads[a] = buf;
            slot->direct_grad[i] = buf;
          } else {
            grads[a] = NDArray::Zeros(in.shape(), in.dtype(), ctx);
          }
          reqs[a] = GradReq::kWrite;
        }
      }
    }
    slot->need_grad = need_grad;
    try {
      ExecutorOptions options = impl_->options;
      options.inference_only = !training;  // no gradients either (Replay above)
      slot->exec = Executor::Bind(symbol_, ctx, std::move(args), std::move(grads), std::move(reqs),
                                  std::move(aux), nullptr, options);
    } catch (...) {
      std::lock_guard<std::mutex> lock(impl_->mu);
      std::vector<std::shared_ptr<Slot>>& list = impl_->slots[key.str()];
      list.erase(std::find(list.begin(), list.end(), slot));
      throw;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!impl_->static_inputs[i]) inputs[i].CopyTo(slot->bound[i]);

  auto call = std::make_shared<RecordedCall>(slot, impl_);
  std::vector<NDArray> out;
  if (any_grad) {
    out = (*call)(inputs);  // one tape node, holding the slot until the tape frees it
  } else {
    slot->exec->Forward(training);
    for (const NDArray& o : slot->exec->outputs())
      out.push_back(o.Copy(o.ctx()));
  }
  // Non-static auxiliary inputs were copied in: hand what the graph wrote back.
  for (size_t i = 0; i < inputs.size(); ++i)
    if (is_aux_[i] && !impl_->static_inputs[i]) slot->bound[i].CopyTo(inputs[i]);
  return out;
}

}  // namespace mixnet::exec
