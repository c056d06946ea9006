// gluon.Trainer (MXNet 1.x): parameter indices, rescaling, gradient reduction through a
// KVStore, stale gradient detection, per-parameter multipliers and state files.
#include "mixnet/gluon/trainer.h"

#include <algorithm>
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

// NOTE [ Trainer kvstore ]: MXNet 1.9's rules. The store is made when the trainer is created
// if every parameter is initialized, else at the first step (MXNet always waits for the first
// step, so its first forward runs on each context's own values): a KVStore given by the caller is
// used as it is; a kind's name makes one, except that one context with a non-distributed kind needs
// none; "none" never. update_on_kvstore defaults to false (the trainer updates each context with
// the reduced gradient), to true for dist_async, which cannot run otherwise. Each parameter is
// init'ed on the store from its first context and pulled into all contexts once it is
// initialized, so every context, and every worker of a distributed store, starts from the
// same values (rank 0's). Each step pushpulls parameter i with priority -i: its gradients
// back into the gradients, or, with update_on_kvstore, into the weights.
//
// NOTE [ Reverse pushpull order ]: the pushpulls are issued last parameter first. dist_sync
// communicates in call order, the same order on every rank, and backward produces the last
// layer's gradient first, so this order lets the first reductions start while backward still
// computes the earlier layers' gradients; priority -i still lets the engine run the first
// layers' updates (needed first by the next forward) ahead when several are ready.

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
  MX_CHECK(options.kvstore_object != nullptr || kv != "dist_async" ||
               options.update_on_kvstore.value_or(true),
           ValueError)
      << "Trainer: please set update_on_kvstore to True when training in async mode "
         "(kvstore 'dist_async')";
  options_ = std::move(options);

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
  // NOTE [ Trainer kvstore ]: made now when every parameter has its values, so that the first
  // forward already runs on the first context's (rank 0's) values.
  if (std::all_of(params_.begin(), params_.end(),
                  [](const ParameterPtr& p) { return p->initialized(); }))
    InitKVStore();
}

void Trainer::Rescale(const char* what, int batch_size) {
  MX_CHECK(batch_size > 0, ValueError)
      << "Trainer." << what << ": batch_size must be > 0, got " << batch_size;
  optimizer_->set_rescale_grad(scale_ / batch_size);
}

void Trainer::Step(int batch_size, bool ignore_stale_grad) {
  Rescale("Step", batch_size);
  InitKVStore();
  if (!update_on_kv_) {
    AllreduceGrads();
    UpdateParams(ignore_stale_grad);
    return;
  }
  // The store's optimizer updates its copy with the summed gradient; the weights are pulled.
  const std::vector<size_t> fresh = CollectFresh(ignore_stale_grad);
  for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {  // NOTE [ Reverse pushpull order ]
    const int i = static_cast<int>(*it);
    const Parameter& p = *params_[*it];
    kv_->PushPull(std::vector<int>{i}, {p.list_grad()}, {p.list_data()}, -i);
  }
  for (size_t i : fresh) {
    const std::vector<NDArray> g = params_[i]->list_grad();
    for (size_t c = 0; c < g.size(); ++c)
      MarkConsumed(i, c, g[c]);
  }
}

void Trainer::Update(int batch_size, bool ignore_stale_grad) {
  InitKVStore();
  MX_CHECK(!update_on_kv_, ValueError)
      << "Trainer.update: update() when parameters are updated on kvstore is not supported. "
         "Try setting `update_on_kvstore` to False when creating trainer.";
  Rescale("Update", batch_size);
  UpdateParams(ignore_stale_grad);
}

void Trainer::InitKVStore() {
  if (!kv_initialized_) {
    size_t num_ctx = 1;
    for (const ParameterPtr& p : params_)
      if (p->initialized() || p->deferred()) {
        num_ctx = p->list_ctx().size();
        break;
      }
    const std::string& kind = options_.kvstore;
    if (options_.kvstore_object) {
      kv_ = options_.kvstore_object;
    } else if (!kind.empty() && kind != "none" &&
               (num_ctx > 1 || kind.find("dist") != std::string::npos)) {
      kv_ = std::shared_ptr<kvstore::KVStore>(kvstore::KVStore::Create(kind));
    }
    if (kv_) {
      const bool async =
          kv_->type().rfind("dist", 0) == 0 && kv_->type().find("async") != std::string::npos;
      MX_CHECK(!async || options_.update_on_kvstore.value_or(true), ValueError)
          << "Trainer: please set update_on_kvstore to True when training in async mode "
             "(kvstore '"
          << kv_->type() << "')";
      update_on_kv_ = options_.update_on_kvstore.value_or(async);
      if (!options_.compression_params.empty())
        kv_->SetGradientCompression(options_.compression_params);
      if (update_on_kv_) kv_->SetOptimizer(optimizer_);
    }
    on_kv_.assign(params_.size(), false);
    kv_initialized_ = true;
  }
  if (!kv_) return;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (on_kv_[i] || !params_[i]->initialized()) continue;  // deferred: at a later step
    const std::vector<NDArray> data = params_[i]->list_data();
    const int key = static_cast<int>(i);
    kv_->Init(key, data[0]);
    kv_->Pull(key, data, -key);
    on_kv_[i] = true;
  }
}

const std::shared_ptr<kvstore::KVStore>& Trainer::kvstore() {
  InitKVStore();
  return kv_;
}

bool Trainer::update_on_kvstore() {
  InitKVStore();
  return update_on_kv_;
}

bool Trainer::distributed() {
  InitKVStore();
  return kv_ && kv_->type().rfind("dist", 0) == 0;
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
  InitKVStore();
  MX_CHECK(!update_on_kv_, ValueError)
      << "Trainer.allreduce_grads: allreduce_grads() when parameters are updated on kvstore is "
         "not supported. Try setting `update_on_kvstore` to False when creating trainer.";
  if (!kv_) return;
  std::vector<bool> fresh;
  for (size_t n = params_.size(); n-- > 0;) {  // NOTE [ Reverse pushpull order ]
    const Parameter& p = *params_[n];
    if (p.grad_req() == GradReq::kNull || !p.initialized()) continue;
    const std::vector<NDArray> grads = p.list_grad();
    fresh.clear();
    for (size_t c = 0; c < grads.size(); ++c)
      fresh.push_back(Fresh(n, c, grads[c]));
    const int key = static_cast<int>(n);
    kv_->PushPull(std::vector<int>{key}, {grads}, {grads}, -key);
    // Writing the sum must not make a stale gradient look fresh.
    for (size_t c = 0; c < grads.size(); ++c)
      if (!fresh[c]) MarkConsumed(n, c, grads[c]);
  }
}

std::vector<size_t> Trainer::CollectFresh(bool ignore_stale_grad) {
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
    if (fresh) updated.push_back(i);  // else skipped, and stays stale
  }
  optimizer_->SetLrMult(std::move(lr_mult));
  optimizer_->SetWdMult(std::move(wd_mult));
  return updated;
}

void Trainer::UpdateParams(bool ignore_stale_grad) {
  const std::vector<size_t> updated = CollectFresh(ignore_stale_grad);
  std::vector<int> indices;
  std::vector<NDArray> weights, grads;
  for (size_t i : updated) {
    indices.push_back(static_cast<int>(i));
    weights.push_back(params_[i]->list_data()[0]);
    grads.push_back(params_[i]->list_grad()[0]);
  }
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

void Trainer::SaveStates(const std::string& path) {
  InitKVStore();
  if (update_on_kv_) {  // MXNet: the store's optimizer holds the states
    kv_->SaveOptimizerStates(path);
    return;
  }
  optimizer_->SaveStatesFile(path, "Trainer.SaveStates");
}

void Trainer::LoadStates(const std::string& path) {
  InitKVStore();
  if (update_on_kv_) {
    kv_->LoadOptimizerStates(path);
    return;
  }
  optimizer_->LoadStatesFile(path, "Trainer.LoadStates");
}

}  // namespace mixnet::gluon
