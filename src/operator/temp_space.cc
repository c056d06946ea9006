#include "operator/temp_space.h"

namespace mixnet::op {

TempSpace::~TempSpace() {
  for (const StorageHandle& h : blocks_)
    Storage::Get()->Free(h);
}

void* TempSpace::Alloc(size_t bytes) {
  blocks_.push_back(Storage::Get()->Alloc(bytes, Context::cpu()));
  return blocks_.back().dptr;
}

}  // namespace mixnet::op
