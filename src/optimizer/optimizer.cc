// The optimizer base: MXNet 1.9's Optimizer bookkeeping (update counts, rates, multipliers)
// and Updater (states on first use, groups by weight dtype, multi_precision master copies),
// plus the registry behind CreateOptimizer.
#include "mixnet/optimizer/optimizer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>

#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/invoke.h"

namespace mixnet::optimizer {
namespace {

/*! \brief Pushes of one Update call run as one engine op, up to this many. */
constexpr int kUpdateBulkSize = 16;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Registry {
  std::mutex mu;
  std::map<std::string, OptimizerFactory> factories;
};
Registry& GetRegistry();

}  // namespace

// ---- construction and kwargs ----

Optimizer::Optimizer(std::string name, const op::AttrDict& kwargs, double default_lr)
    : name_(std::move(name)), kwargs_(kwargs) {
  lr_ = Float("learning_rate", default_lr);
  wd_ = Float("wd", 0.0);
  rescale_grad_ = Float("rescale_grad", 1.0);
  clip_gradient_ = OptionalFloat("clip_gradient");
  multi_precision_ = Bool("multi_precision", false);
  begin_num_update_ = Int("begin_num_update", 0);
  num_update_ = begin_num_update_;
  Require(lr_ >= 0, "learning_rate", "must be >= 0");
  Require(wd_ >= 0, "wd", "must be >= 0");
}

Optimizer::~Optimizer() = default;

void Optimizer::Require(bool ok, std::string_view key, std::string_view what) const {
  MX_CHECK(ok, ValueError) << "optimizer '" << name_ << "': argument '" << key << "' " << what;
}

namespace {
/*! \brief The kwarg's value, or nullptr; later duplicates win as in a Python call's dict. */
const std::string* Find(const op::AttrDict& kwargs, std::string_view key) {
  const std::string* v = nullptr;
  for (const auto& [k, val] : kwargs) {
    if (k == key) v = &val;
  }
  return v;
}
}  // namespace

std::optional<double> Optimizer::OptionalFloat(std::string_view key) {
  used_.insert(std::string(key));
  const std::string* v = Find(kwargs_, key);
  if (v == nullptr || *v == "None") return std::nullopt;
  double x = 0;
  const char* end = v->data() + v->size();
  const auto r = std::from_chars(v->data(), end, x);
  Require(r.ec == std::errc() && r.ptr == end && !v->empty(), key,
          "expects a number, got '" + *v + "'");
  Require(std::isfinite(x), key, "must be finite, got '" + *v + "'");
  return x;
}

double Optimizer::Float(std::string_view key, double fallback) {
  return OptionalFloat(key).value_or(fallback);
}

int64_t Optimizer::Int(std::string_view key, int64_t fallback) {
  const auto x = OptionalFloat(key);
  if (!x) return fallback;
  Require(*x == std::floor(*x), key, "expects an integer");
  return static_cast<int64_t>(*x);
}

bool Optimizer::Bool(std::string_view key, bool fallback) {
  used_.insert(std::string(key));
  const std::string* v = Find(kwargs_, key);
  if (v == nullptr) return fallback;
  const std::string s = Lower(*v);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  Require(false, key, "expects True or False, got '" + *v + "'");
  return fallback;
}

// ---- rates ----

void Optimizer::SetLRScheduler(std::shared_ptr<LRScheduler> scheduler) {
  scheduler_ = std::move(scheduler);
  if (scheduler_) scheduler_->set_base_lr(lr_);
}

void Optimizer::SetLrMult(std::map<std::string, double> lr_mult) {
  lr_mult_ = std::move(lr_mult);
}
void Optimizer::SetWdMult(std::map<std::string, double> wd_mult) {
  wd_mult_ = std::move(wd_mult);
}
void Optimizer::SetParamNames(std::map<int, std::string> idx2name) {
  idx2name_ = std::move(idx2name);
}

double Optimizer::learning_rate() const {
  return scheduler_ ? (*scheduler_)(num_update_) : lr_;
}

void Optimizer::set_learning_rate(double lr) {
  MX_CHECK(!scheduler_, ValueError)
      << "optimizer '" << name_
      << "': set_learning_rate cannot change the rate while an LRScheduler is set";
  Require(lr >= 0, "learning_rate", "must be >= 0");
  lr_ = lr;
}

int64_t Optimizer::update_count(int index) const {
  const auto it = counts_.find(index);
  return it == counts_.end() ? begin_num_update_ : it->second;
}

void Optimizer::Count(int index) {
  auto [it, fresh] = counts_.try_emplace(index, begin_num_update_);
  num_update_ = std::max(++it->second, num_update_);
}

double Optimizer::LrOf(int index, double base_lr) const {
  const auto name = idx2name_.find(index);
  if (name == idx2name_.end()) return base_lr;
  const auto m = lr_mult_.find(name->second);
  return m == lr_mult_.end() ? base_lr : base_lr * m->second;
}

double Optimizer::WdOf(int index) const {
  const auto name = idx2name_.find(index);
  if (name == idx2name_.end()) return wd_;
  const auto m = wd_mult_.find(name->second);
  if (m != wd_mult_.end()) return wd_ * m->second;
  // MXNet's set_wd_mult: named parameters other than weights and gammas get no decay.
  const bool decayed = EndsWith(name->second, "_weight") || EndsWith(name->second, "_gamma");
  return decayed ? wd_ : 0.0;
}

// ---- updates ----

void Optimizer::Update(int index, const NDArray& weight, const NDArray& grad) {
  Update(std::span<const int>(&index, 1), std::span<const NDArray>(&weight, 1),
         std::span<const NDArray>(&grad, 1));
}

void Optimizer::Update(std::span<const int> indices, std::span<const NDArray> weights,
                       std::span<const NDArray> grads) {
  MX_CHECK(indices.size() == weights.size() && indices.size() == grads.size(), ValueError)
      << "optimizer '" << name_ << "': Update got " << indices.size() << " indices, "
      << weights.size() << " weights and " << grads.size() << " gradients";
  for (size_t i = 0; i < indices.size(); ++i) {
    MX_CHECK(weights[i].shape() == grads[i].shape(), ValueError)
        << "optimizer '" << name_ << "': parameter " << indices[i] << " has weight shape "
        << weights[i].shape() << " but gradient shape " << grads[i].shape();
    if (const auto it = states_.find(indices[i]); it != states_.end()) {
      if (it->second.loaded) CheckLoaded(indices[i], it->second, weights[i]);
      continue;
    }
    ParamState& st = states_[indices[i]];
    if (multi_precision_ && weights[i].dtype() == DType::kFloat16) {
      st.master = op::Invoke("Cast", {weights[i]}, {{"dtype", "float32"}})[0];
      st.arrays = CreateState(st.master);
    } else {
      st.arrays = CreateState(weights[i]);
    }
  }
  // Several parameters per engine push for every optimizer: the fused ops of this call join
  // engine bulks (the multi-tensor ops of SGD make fewer, larger pushes still).
  BulkScope bulk(kUpdateBulkSize);
  // As MXNet's Updater: group by weight dtype (first-seen order), then chunks of aggregate_num.
  std::vector<DType> dtypes;
  for (const NDArray& w : weights) {
    if (std::find(dtypes.begin(), dtypes.end(), w.dtype()) == dtypes.end())
      dtypes.push_back(w.dtype());
  }
  for (DType dtype : dtypes) {
    std::vector<int> idx;
    std::vector<NDArray> ws, gs;
    for (size_t i = 0; i < indices.size(); ++i) {
      if (weights[i].dtype() != dtype) continue;
      idx.push_back(indices[i]);
      ws.push_back(weights[i]);
      gs.push_back(grads[i]);
    }
    const size_t step = static_cast<size_t>(std::max(1, aggregate_num_));
    for (size_t lo = 0; lo < idx.size(); lo += step) {
      const size_t n = std::min(step, idx.size() - lo);
      UpdateChunk(std::span(idx).subspan(lo, n), std::span(ws).subspan(lo, n),
                  std::span(gs).subspan(lo, n));
    }
  }
}

void Optimizer::CheckLoaded(int index, ParamState& st, const NDArray& weight) {
  const bool mp = multi_precision_ && weight.dtype() == DType::kFloat16;
  MX_CHECK(mp == !st.master.is_none(), ValueError)
      << "optimizer '" << name_ << "': loaded states of parameter " << index
      << (mp ? " lack" : " have") << " a float32 master copy but the weight is "
      << DTypeName(weight.dtype()) << " with multi_precision " << (multi_precision_ ? "on" : "off");
  const NDArray& ref = mp ? st.master : weight;
  const std::vector<NDArray> want = CreateState(ref);
  bool ok = want.size() == st.arrays.size() && (!mp || st.master.shape() == weight.shape());
  for (size_t k = 0; ok && k < want.size(); ++k)
    ok = want[k].shape() == st.arrays[k].shape() && want[k].dtype() == st.arrays[k].dtype();
  MX_CHECK(ok, ValueError) << "optimizer '" << name_ << "': loaded states of parameter " << index
                           << " (" << st.arrays.size() << " arrays) do not fit a weight of shape "
                           << weight.shape() << " and dtype " << DTypeName(weight.dtype())
                           << " (expected " << want.size() << " arrays of that shape)";
  st.loaded = false;
}

void Optimizer::UpdateChunk(std::span<const int> indices, std::span<const NDArray> weights,
                            std::span<const NDArray> grads) {
  // MXNet counts the whole group before reading the rate at the new num_update.
  for (int index : indices)
    Count(index);
  const double base_lr = learning_rate();
  std::vector<Item> items;
  for (size_t i = 0; i < indices.size(); ++i) {
    ParamState& st = states_.at(indices[i]);
    Item item{indices[i],
              weights[i],
              grads[i],
              &st.arrays,
              LrOf(indices[i], base_lr),
              WdOf(indices[i]),
              counts_.at(indices[i])};
    if (!st.master.is_none()) {
      item.weight = st.master;
      item.grad = op::Invoke("Cast", {grads[i]}, {{"dtype", "float32"}})[0];
    }
    items.push_back(std::move(item));
  }
  UpdateGroup(items);
  for (size_t i = 0; i < indices.size(); ++i) {
    const ParamState& st = states_.at(indices[i]);
    if (!st.master.is_none()) {
      op::Invoke("Cast", std::span<const NDArray>(&st.master, 1), {{"dtype", "float16"}},
                 std::span<const NDArray>(&weights[i], 1));
    }
  }
}

std::vector<NDArray> Optimizer::states(int index) const {
  const auto it = states_.find(index);
  if (it == states_.end()) return {};
  std::vector<NDArray> out = it->second.arrays;
  if (!it->second.master.is_none()) out.push_back(it->second.master);
  return out;
}

// ---- saving ----

std::string Optimizer::SaveStates() const {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  for (const auto& [index, st] : states_) {
    for (size_t k = 0; k < st.arrays.size(); ++k) {
      arrays.push_back(st.arrays[k]);
      names.push_back(std::to_string(index) + ":" + std::to_string(k));
    }
    if (!st.master.is_none()) {
      arrays.push_back(st.master);
      names.push_back(std::to_string(index) + ":master");
    }
  }
  std::vector<int64_t> counts;
  for (const auto& [index, c] : counts_) {
    counts.push_back(index);
    counts.push_back(c);
  }
  // Indices with a state but no count yet cannot occur: Update counts every index it states.
  arrays.push_back(NDArray::FromVector(counts, Shape{static_cast<int64_t>(counts_.size()), 2}));
  names.push_back("__counts__");
  std::vector<double> scalars{static_cast<double>(num_update_)};
  for (double x : SaveScalars())
    scalars.push_back(x);
  arrays.push_back(NDArray::FromVector(scalars, Shape{static_cast<int64_t>(scalars.size())}));
  names.push_back("__scalars__");
  return SaveNDArraysToBytes(arrays, names);
}

void Optimizer::SaveStatesFile(const std::string& path, std::string_view caller) const {
  const std::string bytes = SaveStates();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    MX_CHECK(f.good(), ValueError) << caller << ": cannot write '" << tmp << "'";
  }
  MX_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, ValueError)
      << caller << ": cannot rename '" << tmp << "' to '" << path << "'";
}

void Optimizer::LoadStatesFile(const std::string& path, std::string_view caller) {
  std::ifstream f(path, std::ios::binary);
  MX_CHECK(f.good(), ValueError) << caller << ": cannot open '" << path << "'";
  LoadStates(std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()));
}

void Optimizer::LoadStates(std::string_view bytes) {
  NDArrayList list = LoadNDArraysFromBytes(bytes, Context::cpu(), "optimizer states");
  auto bad = [&](const std::string& why) {
    MX_THROW(ValueError) << "optimizer '" << name_ << "': LoadStates: " << why;
  };
  if (list.names.size() != list.arrays.size()) bad("expected named arrays");
  std::map<int, ParamState> states;
  std::map<int, int64_t> counts;
  std::vector<double> scalars;
  for (size_t i = 0; i < list.arrays.size(); ++i) {
    const std::string& n = list.names[i];
    const NDArray& a = list.arrays[i];
    if (n == "__counts__") {
      const auto v = a.ToVector<int64_t>();
      if (v.size() % 2) bad("malformed __counts__");
      for (size_t k = 0; k < v.size(); k += 2)
        counts[static_cast<int>(v[k])] = v[k + 1];
      continue;
    }
    if (n == "__scalars__") {
      scalars = a.ToVector<double>();
      continue;
    }
    const size_t colon = n.find(':');
    int index = 0;
    const auto r = std::from_chars(n.data(), n.data() + colon, index);
    if (colon == std::string::npos || r.ec != std::errc() || r.ptr != n.data() + colon)
      bad("unexpected array name '" + n + "'");
    const std::string slot = n.substr(colon + 1);
    ParamState& st = states[index];
    st.loaded = true;
    if (slot == "master") {
      st.master = a;
    } else {
      const size_t k = std::stoul(slot);
      if (st.arrays.size() <= k) st.arrays.resize(k + 1);
      st.arrays[k] = a;
    }
  }
  if (scalars.empty()) bad("missing __scalars__");
  for (const auto& [index, st] : states) {
    for (const NDArray& a : st.arrays) {
      if (a.is_none()) bad("state arrays of index " + std::to_string(index) + " have a gap");
    }
  }
  // Indices counted but without arrays (SGD without momentum) still need an entry.
  for (const auto& [index, c] : counts)
    states.try_emplace(index).first->second.loaded = true;
  states_ = std::move(states);
  counts_ = std::move(counts);
  num_update_ = static_cast<int64_t>(scalars[0]);
  LoadScalars(std::span(scalars).subspan(1));
}

// ---- registry ----

void AddBuiltinOptimizers(std::map<std::string, OptimizerFactory>& factories);  // optimizers.cc

namespace {
Registry& GetRegistry() {
  static Registry* r = [] {
    auto* reg = new Registry;  // never destroyed: usable during static destruction
    AddBuiltinOptimizers(reg->factories);
    return reg;
  }();
  return *r;
}
}  // namespace

void RegisterOptimizer(std::string name, OptimizerFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.factories[Lower(name)] = std::move(factory);
}

std::vector<std::string> ListOptimizers() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.factories)
    names.push_back(n);
  return names;
}

std::unique_ptr<Optimizer> CreateOptimizer(std::string_view name, const op::AttrDict& kwargs) {
  OptimizerFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard lock(r.mu);
    const auto it = r.factories.find(Lower(name));
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const std::string& n : ListOptimizers())
      known += (known.empty() ? "" : ", ") + n;
    MX_THROW(ValueError) << "Cannot find optimizer '" << name << "' (known: " << known << ")";
  }
  std::unique_ptr<Optimizer> opt = factory(kwargs);
  for (const auto& [key, value] : kwargs) {
    MX_CHECK(opt->used_.count(key), ValueError)
        << "optimizer '" << opt->name_ << "' got an unexpected argument '" << key << "'";
  }
  return opt;
}

}  // namespace mixnet::optimizer
