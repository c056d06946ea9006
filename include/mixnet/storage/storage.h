/*!
 * \file storage.h
 * \brief Device memory: one manager per context, a pooled 64-byte-aligned CPU allocator.
 *
 * NDArray chunks get their bytes from Storage::Get()->Alloc(size, ctx) and hand them back
 * with Free(). Freed blocks stay in the manager's pool (bucketed by rounded size) until
 * EmptyCache(); MIXNET_CPU_MEM_POOL_TYPE=Unpooled disables the pool.
 */
#pragma once

#include <cstddef>
#include <memory>

#include "mixnet/base/context.h"

namespace mixnet {

/*! \brief A block of device memory. `dptr` is null for zero-byte blocks. */
struct StorageHandle {
  void* dptr = nullptr;
  size_t size = 0;  ///< bytes requested
  Context ctx;
};

/*! \brief Counters of one context's manager, in bytes. */
struct StorageStats {
  size_t bytes_in_use = 0;       ///< handed out and not yet freed (rounded block sizes)
  size_t peak_bytes_in_use = 0;  ///< maximum of bytes_in_use since start or ResetPeak()
  size_t bytes_pooled = 0;       ///< freed blocks kept for reuse
  size_t num_allocs = 0;         ///< Alloc calls
  size_t num_pool_hits = 0;      ///< Alloc calls served from the pool
};

/*! \brief Allocator for one context. A GPU manager implements the same interface. */
class StorageManager {
 public:
  virtual ~StorageManager() = default;
  virtual void Alloc(StorageHandle* h) = 0;
  virtual void Free(StorageHandle h) = 0;
  /*! \brief Frees immediately, bypassing the pool. */
  virtual void DirectFree(StorageHandle h) = 0;
  /*! \brief Returns all pooled blocks to the system. */
  virtual void ReleaseAll() = 0;
  virtual StorageStats Stats() const = 0;
  virtual void ResetPeak() = 0;
};

/*! \brief Alignment of every CPU block; enough for AVX-512 loads and a cache line. */
inline constexpr size_t kStorageAlign = 64;

/*! \brief Process-wide storage front end: routes to per-context managers. Thread-safe. */
class Storage {
 public:
  static Storage* Get();

  /*! \brief Allocates `size` bytes on `ctx`. GPU contexts raise NotImplementedError. */
  StorageHandle Alloc(size_t size, Context ctx);
  /*! \brief Returns a block to its manager's pool. */
  void Free(StorageHandle h);
  void DirectFree(StorageHandle h);
  /*! \brief Frees pooled blocks of every context (`mx.context.empty_cache`). */
  void EmptyCache();
  /*! \brief Frees pooled blocks of one context. */
  void EmptyCache(Context ctx);
  StorageStats Stats(Context ctx);
  void ResetPeak(Context ctx);

  ~Storage();

 private:
  Storage();
  StorageManager* Manager(Context ctx);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mixnet
