#include "mixnet/storage/storage.h"

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

struct Storage::Impl {
  std::mutex mu;
  std::map<Context, std::unique_ptr<StorageManager>> managers;
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
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& slot = impl_->managers[ctx];
  if (!slot) {
    // cpu_pinned is plain host memory while no GPU backend exists (nothing to pin for), and
    // cpu_shared is process-private host memory until multi-process data loading needs more.
    slot = std::make_unique<storage::CPUPooledManager>(ctx, CPUPoolEnabled());
  }
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
