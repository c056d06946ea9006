#include "storage/cpu_pooled_manager.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mixnet/base/error.h"

namespace mixnet::storage {
namespace {
// Larger requests cannot be rounded without overflow and could never be satisfied anyway.
constexpr size_t kMaxRequest = SIZE_MAX / 4;

[[noreturn]] void ThrowOutOfMemory(size_t size, Context ctx) {
  throw Error("Storage: failed to allocate " + std::to_string(size) + " bytes on " +
              ctx.ToString() + " (out of memory)");
}
}  // namespace

CPUPooledManager::~CPUPooledManager() {
  ReleaseAll();
}

size_t CPUPooledManager::RoundedSize(size_t size, bool pooled) {
  if (size == 0) return 0;
  if (!pooled || size <= kStorageAlign) {
    return (size + kStorageAlign - 1) / kStorageAlign * kStorageAlign;
  }
  // NOTE [ CPU size classes ]: the largest power of two below `size`, in quarters.
  const size_t p = std::bit_floor(size - 1);
  const size_t step = std::max(p / 4, kStorageAlign);
  return (size + step - 1) / step * step;
}

void CPUPooledManager::Alloc(StorageHandle* h) {
  h->ctx = ctx_;
  h->dptr = nullptr;
  if (h->size == 0) return;
  if (h->size > kMaxRequest) ThrowOutOfMemory(h->size, ctx_);
  const size_t bytes = RoundedSize(h->size, pooled_);
  if (pooled_) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(bytes);
    if (it != free_.end() && !it->second.empty()) {  // a hit: one lock for all of it
      h->dptr = it->second.back();
      it->second.pop_back();
      stats_.bytes_pooled -= bytes;
      ++stats_.num_pool_hits;
      CountAlloc(bytes);
      return;
    }
  }
  // Outside the lock: the system allocator is thread-safe and may be slow.
  void* p = std::aligned_alloc(kStorageAlign, bytes);
  if (!p) {
    // Cached blocks of other sizes may be what stands in the way; drop them and retry.
    ReleaseAll();
    p = std::aligned_alloc(kStorageAlign, bytes);
    if (!p) ThrowOutOfMemory(h->size, ctx_);
  }
  std::lock_guard<std::mutex> lock(mu_);
  CountAlloc(bytes);
  h->dptr = p;
}

void CPUPooledManager::CountAlloc(size_t bytes) {
  ++stats_.num_allocs;
  stats_.bytes_in_use += bytes;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
}

void CPUPooledManager::Free(StorageHandle h) {
  if (!pooled_) return DirectFree(h);
  if (!h.dptr) return;
  const size_t bytes = RoundedSize(h.size, true);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.bytes_in_use -= bytes;
  stats_.bytes_pooled += bytes;
  free_[bytes].push_back(h.dptr);
}

void CPUPooledManager::DirectFree(StorageHandle h) {
  if (!h.dptr) return;
  const size_t bytes = RoundedSize(h.size, pooled_);
  std::free(h.dptr);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.bytes_in_use -= bytes;
}

void CPUPooledManager::ReleaseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [bytes, blocks] : free_) {
    for (void* p : blocks)
      std::free(p);
  }
  free_.clear();
  stats_.bytes_pooled = 0;
}

StorageStats CPUPooledManager::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CPUPooledManager::ResetPeak() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

}  // namespace mixnet::storage
