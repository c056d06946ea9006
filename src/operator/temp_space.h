// Temporary memory for one kernel call: the resource an op asks for with
// OpDef::NeedsTempSpace() (MXNet's kTempSpace request).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mixnet/storage/storage.h"

namespace mixnet::op {

/*!
 * \brief Scratch blocks from the pooled CPU storage, 64-byte aligned, returned to the pool when
 * the kernel call ends (when this object dies). Allocate outside parallel regions: it is not
 * thread-safe.
 */
class TempSpace {
 public:
  TempSpace() = default;
  ~TempSpace();
  TempSpace(const TempSpace&) = delete;
  TempSpace& operator=(const TempSpace&) = delete;

  /*! \brief A new block of `bytes`, valid until the call ends. */
  void* Alloc(size_t bytes);
  template <typename T>
  T* Alloc(int64_t n) {
    return static_cast<T*>(Alloc(static_cast<size_t>(n) * sizeof(T)));
  }

 private:
  std::vector<StorageHandle> blocks_;
};

}  // namespace mixnet::op
