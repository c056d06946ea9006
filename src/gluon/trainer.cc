// gluon.Trainer (MXNet 1.x): parameter indices, rescaling, local gradient reduction, stale
// gradient detection, per-parameter multipliers and state files.
#include "mixnet/gluon/trainer.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <utility>

#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"

namespace mixnet::gluon {

// NOTE [ Stale gradients ]: MXNet flags each array whose gradient backward wrote
// (_fresh_grad) and clears the flag when the trainer consumes it; a step that finds a clear flag
// means the parameter took no part in the last backward. Here the flag is the gradient array's
// write count (NDArray::version): a gradient is fresh when its count moved since this trainer
// last consumed it. A gradient array the trainer has not seen yet (the first step, or new
// buffers after deferred initialisation, ResetCtx or Cast) is fresh when it was written after
// its creation, which zeroes it (one write, as NDArray::Zeros). Unlike MXNet, ZeroGrad counts
// as a write, so a zeroed gradient is not reported as stale.

namespace {

/*! \brief The write count of a freshly created (zeroed) gradient buffer. */
uint64_t NewGradVersion() {
  static const uint64_t v = NDArray::Zeros({1}).version();
  return v;
}

std::string ContextList(const std::vector<Context>& ctxs) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < ctxs.size(); ++i)
    os << (i ? ", " : "") << ctxs[i];
  os << ']';
  return os.str();
}

}  // namespace

Trainer::Trainer(ParameterDict params, std::string optimizer, op::AttrDict optimizer_params,
                 TrainerOptions options)
    : optimizer_(optimizer::CreateOptimizer(optimizer, optimizer_params)) {
  Init(std::move(params), std::move(options));
}

Trainer::Trainer(ParameterDict params, std::shared_ptr<optimizer::Optimizer> optimizer,
                 TrainerOptions options)
    : optimizer_(std::move(optimizer)) {
  MX_CHECK(optimizer_ != nullptr, ValueError) << "Trainer: the optimizer is null";
  Init(std::move(params), std::move(options));
}

Trainer::~Trainer() = default;

void Trainer::Init(ParameterDict params, TrainerOptions options) {
  const std::string& kv = options.kvstore;
  // NOTE: until mixnet has a KVStore, "device" and "local" reduce on this machine only (a
  // no-op for one context, a local sum for several); distributed kinds cannot run yet.
  MX_CHECK(kv.rfind("dist", 0) != 0 && kv != "horovod" && kv != "byteps", NotImplementedError)
      << "Trainer: kvstore '" << kv
      << "' needs a distributed KVStore, which mixnet does not have yet; use 'device' or 'local'";
  MX_CHECK(kv == "device" || kv == "local" || kv.empty() || kv == "none", ValueError)
      << "Trainer: unknown kvstore '" << kv << "' (expected 'device', 'local' or 'none')";
  reduce_ = !kv.empty() && kv != "none";

  // MXNet takes a dict's parameters in sorted name order: index i is the i-th name.
  std::vector<std::pair<std::string, ParameterPtr>> items(params.begin(), params.end());
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<int, std::string> names;
  const Parameter* first_init = nullptr;
  for (auto& [name, p] : items) {
    MX_CHECK(p != nullptr, ValueError) << "Trainer: parameter '" << name << "' is null";
    if (p->initialized() || p->deferred()) {
      MX_CHECK(first_init == nullptr || first_init->list_ctx() == p->list_ctx(), ValueError)
          << "Trainer: all parameters must be initialized on the same set of contexts, but "
             "parameter '"
          << p->name() << "' is initialized on " << ContextList(p->list_ctx())
          << " while parameter '" << first_init->name() << "' is initialized on "
          << ContextList(first_init->list_ctx());
      if (!first_init) first_init = p.get();
    }
    names[static_cast<int>(params_.size())] = p->name();
    params_.push_back(p);
  }
  optimizer_->SetParamNames(std::move(names));
  scale_ = optimizer_->rescale_grad();
  consumed_.resize(params_.size());
}

void Trainer::Rescale(const char* what, int batch_size) {
  MX_CHECK(batch_size > 0, ValueError)
      << "Trainer." << what << ": batch_size must be > 0, got " << batch_size;
  optimizer_->set_rescale_grad(scale_ / batch_size);
}

void Trainer::Step(int batch_size, bool ignore_stale_grad) {
  Rescale("Step", batch_size);
  AllreduceGrads();
  UpdateParams(ignore_stale_grad);
}

void Trainer::Update(int batch_size, bool ignore_stale_grad) {
  Rescale("Update", batch_size);
  UpdateParams(ignore_stale_grad);
}

bool Trainer::Fresh(size_t index, size_t ctx, const NDArray& grad) const {
  const auto& marks = consumed_[index];
  if (ctx >= marks.size() || marks[ctx].var != grad.var()) return grad.version() > NewGradVersion();
  return grad.version() != marks[ctx].version;
}

void Trainer::MarkConsumed(size_t index, size_t ctx, const NDArray& grad) {
  auto& marks = consumed_[index];
  if (marks.size() <= ctx) marks.resize(ctx + 1);
  marks[ctx] = {grad.var(), grad.version()};
}

void Trainer::AllreduceGrads() {
  if (!reduce_) return;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = *params_[i];
    if (p.grad_req() == GradReq::kNull || !p.initialized()) continue;
    const std::vector<NDArray> grads = p.list_grad();
    if (grads.size() < 2) continue;  // one context: nothing to reduce
    // The sum lands on the first context and is copied back to every context, as the
    // single-machine KVStore's pushpull does.
    std::vector<NDArray> parts;
    std::vector<bool> fresh;
    for (size_t c = 0; c < grads.size(); ++c) {
      parts.push_back(grads[c].AsInContext(grads[0].ctx()));
      fresh.push_back(Fresh(i, c, grads[c]));
    }
    const NDArray sum = op::Invoke("add_n", parts, {{"num_args", std::to_string(parts.size())}})[0];
    for (size_t c = 0; c < grads.size(); ++c) {
      sum.CopyTo(grads[c]);
      // Writing the sum must not make a stale gradient look fresh.
      if (!fresh[c]) MarkConsumed(i, c, grads[c]);
    }
  }
}

void Trainer::UpdateParams(bool ignore_stale_grad) {
  std::vector<int> indices;
  std::vector<NDArray> weights, grads;
  std::vector<size_t> updated;
  std::map<std::string, double> lr_mult, wd_mult;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = *params_[i];
    // Gluon's rule (the optimizer's param_dict): every parameter's own multipliers, read now.
    lr_mult[p.name()] = p.lr_mult;
    wd_mult[p.name()] = p.wd_mult;
    if (p.grad_req() == GradReq::kNull) continue;
    MX_CHECK(p.initialized(), ValueError)
        << "Trainer: parameter '" << p.name() << "' has not been initialized"
        << (p.deferred() ? ": its initialization was deferred until its shape is known; pass "
                           "one batch through the network first"
                         : "; call Initialize on it (or on the block's CollectParams())");
    const std::vector<NDArray> g = p.list_grad();
    bool fresh = true;
    for (size_t c = 0; c < g.size() && fresh; ++c) {
      fresh = Fresh(i, c, g[c]);
      MX_CHECK(fresh || ignore_stale_grad, ValueError)
          << "Trainer: the gradient of parameter '" << p.name() << "' on context " << g[c].ctx()
          << " has not been updated by backward since the last step. This could mean a bug in "
             "your model that made it only use a subset of the parameters (blocks) for this "
             "iteration. If you are intentionally only using a subset, call Step with "
             "ignore_stale_grad=true to skip updating parameters with stale gradients";
    }
    if (!fresh) continue;  // skipped, and stays stale
    indices.push_back(static_cast<int>(i));
    weights.push_back(p.list_data()[0]);
    grads.push_back(g[0]);
    updated.push_back(i);
  }
  optimizer_->SetLrMult(std::move(lr_mult));
  optimizer_->SetWdMult(std::move(wd_mult));
  optimizer_->Update(indices, weights, grads);
  // NOTE: every context holds the same weight and, after AllreduceGrads, the same gradient, so
  // MXNet's per-context updaters compute the same update with the same states and counts; it
  // runs once, on the first context, and is copied to the others.
  for (size_t i : updated) {
    const std::vector<NDArray> data = params_[i]->list_data();
    for (size_t c = 1; c < data.size(); ++c)
      data[0].CopyTo(data[c]);
    const std::vector<NDArray> g = params_[i]->list_grad();
    for (size_t c = 0; c < g.size(); ++c)
      MarkConsumed(i, c, g[c]);
  }
}

double Trainer::learning_rate() const {
  return optimizer_->learning_rate();
}

void Trainer::SetLearningRate(double lr) {
  optimizer_->set_learning_rate(lr);
}

void Trainer::SaveStates(const std::string& path) const {
  const std::string bytes = optimizer_->SaveStates();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    MX_CHECK(f.good(), ValueError) << "Trainer.SaveStates: cannot write '" << tmp << "'";
  }
  MX_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, ValueError)
      << "Trainer.SaveStates: cannot rename '" << tmp << "' to '" << path << "'";
}

void Trainer::LoadStates(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  MX_CHECK(f.good(), ValueError) << "Trainer.LoadStates: cannot open '" << path << "'";
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  optimizer_->LoadStates(bytes);
}

}  // namespace mixnet::gluon
