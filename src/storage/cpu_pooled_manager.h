// Host-memory StorageManager: 64-byte-aligned blocks, optionally pooled by size class.
#pragma once

#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "mixnet/storage/storage.h"

namespace mixnet::storage {

/*!
 * \brief Allocator for cpu, cpu_pinned and cpu_shared contexts.
 *
 * NOTE [ CPU size classes ]
 * With pooling, a request is rounded up to a size class: 64 bytes at least, then four classes
 * per power of two (p + p/4, p + p/2, p + 3p/4, 2p), each a multiple of 64. Four classes bound
 * the waste to 25% while letting a freed block serve every request of nearby size, which exact
 * sizes would not (batch tails, varying sequence lengths). Without pooling (Unpooled) sizes are
 * only rounded to the 64-byte alignment and Free returns memory at once.
 */
class CPUPooledManager final : public StorageManager {
 public:
  CPUPooledManager(Context ctx, bool pooled) : ctx_(ctx), pooled_(pooled) {}
  ~CPUPooledManager() override;

  void Alloc(StorageHandle* h) override;
  void Free(StorageHandle h) override;
  void DirectFree(StorageHandle h) override;
  void ReleaseAll() override;
  StorageStats Stats() const override;
  void ResetPeak() override;

  /*! \brief Bytes actually reserved for a request of `size` bytes (0 for 0). */
  static size_t RoundedSize(size_t size, bool pooled);

 private:
  void CountAlloc(size_t bytes);  // with mu_ held

  const Context ctx_;
  const bool pooled_;
  mutable std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> free blocks (LIFO)
  StorageStats stats_;
};

}  // namespace mixnet::storage
