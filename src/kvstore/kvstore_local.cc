// The single-process store ("local", "device"), base of the distributed ones.
#include "kvstore/kvstore_local.h"

#include "mixnet/base/error.h"

namespace mixnet::kvstore {

namespace {

std::unique_ptr<KVStore> MakeLocal(const std::string& type) {
  return std::make_unique<KVStoreLocal>(type);
}

// MXNet's single-machine kinds. "local" reduces on the CPU, "device" on the devices (here the
// pushed values' first context, which is the same place for CPU contexts); MXNet's older
// aliases map onto them.
const bool kRegistered = RegisterKVStoreType("local", &MakeLocal) &&
                         RegisterKVStoreType("device", &MakeLocal) &&
                         RegisterKVStoreType("local_update_cpu", &MakeLocal) &&
                         RegisterKVStoreType("local_allreduce_cpu", &MakeLocal) &&
                         RegisterKVStoreType("local_allreduce_device", &MakeLocal);

}  // namespace

KVStoreLocal::KVStoreLocal(std::string type) : KVStore(std::move(type)) {
  (void)kRegistered;
}

KVStoreLocal::~KVStoreLocal() = default;

void KVStoreLocal::Init(const std::vector<int>& keys, const std::vector<NDArray>& values) {
  MX_CHECK(keys.size() == values.size(), ValueError)
      << "KVStore.init: " << keys.size() << " keys but " << values.size() << " values";
  for (size_t i = 0; i < keys.size(); ++i) {
    MX_CHECK(!values[i].is_none(), ValueError)
        << "KVStore.init: key " << KeyName(keys[i]) << " got a none array";
    MX_CHECK(store_.count(keys[i]) == 0, ValueError)
        << "KVStore.init: duplicate init of key " << KeyName(keys[i]);
    InitKey(keys[i], values[i]);
  }
}

void KVStoreLocal::InitKey(int key, const NDArray& value) {
  NDArray stored(value.shape(), value.ctx(), value.dtype());
  value.CopyTo(stored);
  store_.emplace(key, std::move(stored));
}

NDArray& KVStoreLocal::Stored(int key) {
  auto it = store_.find(key);
  MX_CHECK(it != store_.end(), ValueError)
      << type_ << ": key " << KeyName(key) << " has not been initialized";
  return it->second;
}

void KVStoreLocal::Push(const std::vector<int>& keys,
                        const std::vector<std::vector<NDArray>>& values, int priority) {
  MX_CHECK(keys.size() == values.size(), ValueError)
      << "KVStore.push: " << keys.size() << " keys but " << values.size() << " value lists";
  // Only "device" compresses between the devices of this process; the distributed stores
  // compress between workers instead (in their PushMerged).
  GradientCompression* gc = type_ == "device" ? gc_.get() : nullptr;
  for (size_t i = 0; i < keys.size(); ++i) {
    const int key = keys[i];
    const NDArray& stored = Stored(key);
    for (const NDArray& v : values[i]) {
      MX_CHECK(!v.is_none() && v.shape() == stored.shape() && v.dtype() == stored.dtype(),
               ValueError)
          << "KVStore.push: key " << KeyName(key) << " holds " << stored.shape() << ' '
          << DTypeName(stored.dtype()) << ", but a pushed value is "
          << (v.is_none() ? std::string("none") : v.Describe());
    }
    const NDArray merged = comm_.Reduce(key, values[i], priority, gc);
    PushMerged(key, merged, priority);
  }
}

void KVStoreLocal::PushMerged(int key, const NDArray& merged, int priority) {
  ApplyUpdate(key, merged, &Stored(key), priority);
}

void KVStoreLocal::Pull(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& outs,
                        int priority, bool ignore_sparse) {
  (void)ignore_sparse;  // dense storage only: nothing to ignore
  MX_CHECK(keys.size() == outs.size(), ValueError)
      << "KVStore.pull: " << keys.size() << " keys but " << outs.size() << " output lists";
  for (size_t i = 0; i < keys.size(); ++i)
    comm_.Broadcast(keys[i], PullSource(keys[i], priority), outs[i], priority);
}

const NDArray& KVStoreLocal::PullSource(int key, int priority) {
  (void)priority;
  return Stored(key);
}

void KVStoreLocal::SetGradientCompression(const op::AttrDict& params) {
  KVStore::SetGradientCompression(params);
  gc_ = GradientCompression::Create(params);
}

}  // namespace mixnet::kvstore
