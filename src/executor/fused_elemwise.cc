#include "executor/fused_elemwise.h"

#include <algorithm>
#include <memory>

#include "operator/parallel.h"

namespace mixnet::exec {
namespace {
// Elements per tile: 32 KiB of float32 per slot, so a few slots stay in L2.
constexpr int64_t kTile = 8192;
constexpr size_t kSlotBytes = kTile * 8;  // room for any dtype up to 8 bytes
}  // namespace

FusedElemwise::FusedElemwise(std::vector<Member> members, uint32_t num_slots, int64_t size)
    : members_(std::move(members)), num_slots_(num_slots), size_(size) {}

void FusedElemwise::RunTile(RunContext rctx, bool is_train, std::span<void* const> external,
                            int64_t begin, int64_t n, std::byte* slots) const {
  std::vector<op::TBlob> in, out;
  auto blob = [&](const Slot& s, const op::TBlob& meta) {
    std::byte* base = s.external ? static_cast<std::byte*>(external[s.index]) +
                                       begin * static_cast<int64_t>(DTypeSize(meta.dtype))
                                 : slots + s.index * kSlotBytes;
    return op::TBlob{base, Shape{n}, meta.dtype};
  };
  for (const Member& m : members_) {
    in.clear();
    out.clear();
    for (size_t i = 0; i < m.in.size(); ++i)
      in.push_back(blob(m.in[i], m.call.in[i]));
    for (size_t i = 0; i < m.out.size(); ++i)
      out.push_back(blob(m.out[i], m.call.out[i]));
    m.call.RunOn(rctx, is_train, in, out);
  }
}

void FusedElemwise::Run(RunContext rctx, bool is_train, std::span<void* const> external) const {
  const int64_t tiles = (size_ + kTile - 1) / kTile;
  const int64_t grain = std::max<int64_t>(1, op::kElementwiseGrain / kTile);
  op::ParallelFor(tiles, grain, [&](int64_t b, int64_t e) {
    // Per chunk, not per thread: chunks are few (one per thread) and the buffer is small.
    auto slots = std::make_unique_for_overwrite<std::byte[]>(num_slots_ * kSlotBytes);
    for (int64_t t = b; t < e; ++t) {
      const int64_t begin = t * kTile;
      RunTile(rctx, is_train, external, begin, std::min(kTile, size_ - begin), slots.get());
    }
  });
}

}  // namespace mixnet::exec
