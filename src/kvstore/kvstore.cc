// KVStore: the kind registry, string keys, updates on the store and the calls every kind shares.
#include "mixnet/kvstore/kvstore.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "kvstore/gradient_compression.h"
#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"

namespace mixnet::kvstore {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, KVStoreFactory> factories;
};

Registry& GetRegistry() {
  static Registry* r = new Registry();  // never destroyed: static registration runs anytime
  return *r;
}

std::string Known() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::string s;
  for (const auto& [name, f] : r.factories)
    s += (s.empty() ? "'" : ", '") + name + "'";
  return s;
}

void CheckSizes(size_t keys, size_t values, const char* func) {
  MX_CHECK(keys == values, ValueError)
      << "KVStore." << func << ": " << keys << " keys but " << values << " values";
}

}  // namespace

bool RegisterKVStoreType(const std::string& type, KVStoreFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[type] = std::move(factory);
  return true;
}

std::unique_ptr<KVStore> KVStore::Create(const std::string& type) {
  KVStoreFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(type);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    if (type.rfind("dist", 0) == 0) {
      const bool async = type.find("async") != std::string::npos;
      MX_THROW(ValueError) << "KVStore: kind '" << type << "' is not available: this mixnet was "
                           << "built without " << (async ? "ZeroMQ" : "MPI") << " (install "
                           << (async ? "libzmq3-dev" : "OpenMPI")
                           << " and rebuild), or it was not registered; known kinds: " << Known();
    }
    MX_THROW(ValueError) << "KVStore: unknown kind '" << type << "'; known kinds: " << Known();
  }
  std::unique_ptr<KVStore> kv = factory(type);
  MX_INTERNAL_ASSERT(kv != nullptr);
  return kv;
}

KVStore::~KVStore() = default;

bool KVStore::IsWorkerNode() {
  const char* role = std::getenv("DMLC_ROLE");
  return role == nullptr || std::strcmp(role, "worker") == 0;
}

std::string KVStore::KeyName(int key) const {
  if (const std::string* s = StrKeyOf(key)) return "'" + *s + "'";
  return std::to_string(key);
}

int KVStore::StrKey(const std::string& key, bool create) {
  auto it = str_key_index_.find(key);
  if (it != str_key_index_.end()) return it->second;
  MX_CHECK(create, ValueError) << type_ << ": key '" << key << "' has not been initialized";
  const int k = kStrKeyBase + static_cast<int>(str_keys_.size());
  str_keys_.push_back(key);
  str_key_index_.emplace(key, k);
  return k;
}

void KVStore::PushPull(const std::vector<int>& keys,
                       const std::vector<std::vector<NDArray>>& values,
                       const std::vector<std::vector<NDArray>>& outs, int priority) {
  CheckSizes(keys.size(), outs.size(), "pushpull");
  // The engine orders the pull's writes after the push's reads, so outs may alias values.
  Push(keys, values, priority);
  Pull(keys, outs, priority, true);
}

void KVStore::Broadcast(const std::vector<int>& keys, const std::vector<NDArray>& values,
                        const std::vector<std::vector<NDArray>>& outs, int priority) {
  Init(keys, values);
  Pull(keys, outs, priority, true);
}

void KVStore::RowSparsePull(const std::vector<int>& keys,
                            const std::vector<std::vector<NDArray>>& outs,
                            const std::vector<std::vector<NDArray>>& row_ids, int priority) {
  CheckSizes(keys.size(), outs.size(), "row_sparse_pull");
  CheckSizes(keys.size(), row_ids.size(), "row_sparse_pull (row_ids)");
  Pull(keys, outs, priority, false);
  for (size_t i = 0; i < keys.size(); ++i) {
    MX_CHECK(outs[i].size() == row_ids[i].size(), ValueError)
        << "KVStore.row_sparse_pull: key " << keys[i] << " has " << outs[i].size()
        << " outputs but " << row_ids[i].size() << " row_ids";
    for (size_t j = 0; j < outs[i].size(); ++j) {
      const NDArray& out = outs[i][j];
      MX_CHECK(out.shape().ndim() >= 1, ValueError)
          << "KVStore.row_sparse_pull: key " << keys[i] << " needs outputs of at least 1 dim";
      // Dense storage: keep the requested rows of the pulled value and zero the others.
      NDArray ids = row_ids[i][j];
      if (ids.dtype() != DType::kInt64) {  // float indices, as MXNet accepts: converted
        ids = NDArray(ids.shape(), ids.ctx(), DType::kInt64);
        row_ids[i][j].CopyTo(ids, priority);
      }
      const int64_t rows = out.shape()[0];
      out.BumpVersion();
      const VarHandle write = out.var();
      const VarHandle read = ids.var();
      Engine::Get()->PushSync(
          [o = out.data_ref(), r = ids.data_ref(), rows, nids = ids.Size(),
           row_bytes = out.nbytes() / static_cast<size_t>(std::max<int64_t>(rows, 1)),
           key = keys[i]](RunContext) {
            std::vector<char> keep(static_cast<size_t>(rows), 0);
            const int64_t* id = static_cast<const int64_t*>(r.Data());
            for (int64_t k = 0; k < nids; ++k) {
              MX_CHECK(id[k] >= 0 && id[k] < rows, IndexError)
                  << "KVStore.row_sparse_pull: row id " << id[k] << " of key " << key
                  << " is out of range [0, " << rows << ")";
              keep[static_cast<size_t>(id[k])] = 1;
            }
            char* base = static_cast<char*>(o.Data());
            for (int64_t k = 0; k < rows; ++k)
              if (!keep[static_cast<size_t>(k)])
                std::memset(base + k * row_bytes, 0, row_bytes);  // 0 bits: 0 in every dtype
          },
          out.ctx(), {&read, 1}, {&write, 1}, FnProperty::kNormal, priority, "RowSparsePull");
    }
  }
}

// ---- string keys ----

void KVStore::Init(const std::vector<std::string>& keys, const std::vector<NDArray>& values) {
  CheckSizes(keys.size(), values.size(), "init");
  std::vector<int> ik;
  ik.reserve(keys.size());
  for (const std::string& k : keys)
    ik.push_back(StrKey(k, true));
  Init(ik, values);
}

std::vector<int> KVStore::IntKeys(const std::vector<std::string>& keys) {
  std::vector<int> ik;
  ik.reserve(keys.size());
  for (const std::string& k : keys)
    ik.push_back(StrKey(k, false));
  return ik;
}

void KVStore::Push(const std::vector<std::string>& keys,
                   const std::vector<std::vector<NDArray>>& values, int priority) {
  Push(IntKeys(keys), values, priority);
}

void KVStore::Pull(const std::vector<std::string>& keys,
                   const std::vector<std::vector<NDArray>>& outs, int priority,
                   bool ignore_sparse) {
  Pull(IntKeys(keys), outs, priority, ignore_sparse);
}

void KVStore::PushPull(const std::vector<std::string>& keys,
                       const std::vector<std::vector<NDArray>>& values,
                       const std::vector<std::vector<NDArray>>& outs, int priority) {
  PushPull(IntKeys(keys), values, outs, priority);
}

void KVStore::Broadcast(const std::vector<std::string>& keys, const std::vector<NDArray>& values,
                        const std::vector<std::vector<NDArray>>& outs, int priority) {
  Init(keys, values);
  Pull(keys, outs, priority, true);
}

void KVStore::RowSparsePull(const std::vector<std::string>& keys,
                            const std::vector<std::vector<NDArray>>& outs,
                            const std::vector<std::vector<NDArray>>& row_ids, int priority) {
  RowSparsePull(IntKeys(keys), outs, row_ids, priority);
}

const std::string* KVStore::StrKeyOf(int key) const {
  const int64_t i = static_cast<int64_t>(key) - kStrKeyBase;
  if (i < 0 || static_cast<size_t>(i) >= str_keys_.size()) return nullptr;
  return &str_keys_[static_cast<size_t>(i)];
}

// ---- updates on the store ----

void KVStore::SetOptimizer(std::shared_ptr<optimizer::Optimizer> optimizer) {
  MX_CHECK(optimizer != nullptr, ValueError) << "KVStore.set_optimizer: the optimizer is null";
  optimizer_ = std::move(optimizer);
}

void KVStore::SetUpdater(Updater updater) {
  updater_ = std::move(updater);
}

void KVStore::SetUpdater(StrUpdater updater) {
  MX_CHECK(updater != nullptr, ValueError) << "KVStore.set_updater: the updater is empty";
  SetUpdater(Updater([this, u = std::move(updater)](int key, const NDArray& recv, NDArray* stored) {
    const std::string* s = StrKeyOf(key);
    u(s ? *s : std::to_string(key), recv, stored);
  }));
}

void KVStore::ApplyUpdate(int key, const NDArray& recv, NDArray* stored, int priority) {
  if (updater_) {
    updater_(key, recv, stored);
  } else if (optimizer_) {
    optimizer_->Update(key, *stored, recv);
  } else {
    recv.CopyTo(*stored, priority);  // MXNet: without an updater a push replaces the value
  }
}

void KVStore::SaveOptimizerStates(const std::string& path) const {
  MX_CHECK(optimizer_ != nullptr, ValueError)
      << "KVStore.save_optimizer_states: no optimizer; call set_optimizer first";
  optimizer_->SaveStatesFile(path, "KVStore.save_optimizer_states");
}

void KVStore::LoadOptimizerStates(const std::string& path) {
  MX_CHECK(optimizer_ != nullptr, ValueError)
      << "KVStore.load_optimizer_states: no optimizer; call set_optimizer first";
  optimizer_->LoadStatesFile(path, "KVStore.load_optimizer_states");
}

void KVStore::SetGradientCompression(const op::AttrDict& params) {
  // MXNet: "Gradient compression is not supported for this type of kvstore" for local.
  MX_CHECK(type_ == "device" || type_.rfind("dist", 0) == 0, ValueError)
      << "KVStore.set_gradient_compression: gradient compression is not supported for kvstore "
         "type '"
      << type_ << "' (MXNet supports it for 'device' and the dist kinds)";
  GradientCompression::Create(params);  // ValueError for a bad type or threshold
  compression_ = params;
}

void KVStore::Barrier() {
  Engine::Get()->WaitForAll();
}

}  // namespace mixnet::kvstore
