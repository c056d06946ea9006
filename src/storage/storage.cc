#include "mixnet/storage/storage.h"

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "mixnet/base/env.h"
#include "mixnet/base/error.h"
#include "storage/cpu_pooled_manager.h"

namespace mixnet {
namespace {
/*! \brief MIXNET_CPU_MEM_POOL_TYPE: true for pooling. */
bool CPUPoolEnabled() {
  const std::string type = GetEnvString("MIXNET_CPU_MEM_POOL_TYPE", "Pooled");
  // MXNet 1.x's names: "Naive" (an exact-size pool) and "Round" both pool; one rounding pool
  // serves them. "Unpooled" frees at once.
  if (type == "Pooled" || type == "Naive" || type == "Round") return true;
  if (type == "Unpooled") return false;
  MX_THROW(ValueError) << "MIXNET_CPU_MEM_POOL_TYPE='" << type
                       << "' is unknown; use Pooled (also Naive, Round) or Unpooled";
}
}  // namespace

// Device types are small (context.h); slots cover every valid (type, id) pair.
constexpr size_t kMaxDeviceType = 8;

struct Storage::Impl {
  std::mutex mu;  // creation of managers
  std::map<Context, std::unique_ptr<StorageManager>> managers;
  // Every Alloc and Free looks its manager up: once created, without taking the mutex.
  std::array<std::atomic<StorageManager*>, kMaxDeviceType * Context::kMaxDevId> slots{};
};

Storage* Storage::Get() {
  // Never destroyed on purpose: arrays freed during static destruction (globals, late Python
  // objects) still return their memory here, after any destructor order.
  static Storage* storage = new Storage();
  return storage;
}

Storage::Storage() : impl_(std::make_unique<Impl>()) {}
Storage::~Storage() = default;

StorageManager* Storage::Manager(Context ctx) {
  MX_CHECK(Context::IsValidDeviceType(static_cast<int32_t>(ctx.dev_type)), ValueError)
      << "Storage: invalid device type " << static_cast<int32_t>(ctx.dev_type);
  MX_CHECK(ctx.dev_id >= 0 && ctx.dev_id < Context::kMaxDevId, ValueError)
      << "Storage: device id of " << ctx << " must be in [0, " << Context::kMaxDevId << ")";
  MX_CHECK(ctx.is_host(), NotImplementedError)
      << "Storage: cannot allocate on " << ctx << ": no GPU backend is built";
  const size_t type = static_cast<size_t>(ctx.dev_type);
  MX_INTERNAL_ASSERT(type < kMaxDeviceType) << "device type " << type << " has no storage slot";
  std::atomic<StorageManager*>& fast = impl_->slots[type * Context::kMaxDevId + ctx.dev_id];
  if (StorageManager* m = fast.load(std::memory_order_acquire)) return m;
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& slot = impl_->managers[ctx];
  if (!slot) {
    // cpu_pinned is plain host memory while no GPU backend exists (nothing to pin for), and
    // cpu_shared is process-private host memory until multi-process data loading needs more.
    slot = std::make_unique<storage::CPUPooledManager>(ctx, CPUPoolEnabled());
  }
  fast.store(slot.get(), std::memory_order_release);
  return slot.get();
}

StorageHandle Storage::Alloc(size_t size, Context ctx) {
  StorageManager* m = Manager(ctx);  // validates ctx even for zero bytes
  StorageHandle h;
  h.size = size;
  h.ctx = ctx;
  m->Alloc(&h);
  return h;
}

void Storage::Free(StorageHandle h) {
  if (h.dptr) Manager(h.ctx)->Free(h);
}

void Storage::DirectFree(StorageHandle h) {
  if (h.dptr) Manager(h.ctx)->DirectFree(h);
}

void Storage::EmptyCache() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& [ctx, m] : impl_->managers)
    m->ReleaseAll();
}

void Storage::EmptyCache(Context ctx) {
  Manager(ctx)->ReleaseAll();
}

StorageStats Storage::Stats(Context ctx) {
  return Manager(ctx)->Stats();
}

void Storage::ResetPeak(Context ctx) {
  Manager(ctx)->ResetPeak();
}

}  // namespace mixnet
