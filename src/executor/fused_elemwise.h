// A chain of elementwise ops run as one loop over tiles (the executor's half of elementwise
// fusion; the pass that finds the chains is src/symbol/pass/fuse_elemwise.cc).
//
// NOTE [ Fused elementwise groups ]
// Each member's kernel runs on one tile of the arrays at a time, as a 1-d blob (OpDef::
// elementwise promises kernels accept any contiguous range). Entries produced and consumed
// inside the group live only in per-thread tile buffers that stay in cache; only the group's
// inputs are read from memory and only its last output is written. Tiles are spread over the
// OpenMP team, so the members' own kernels run serially inside a tile.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "operator/op_call.h"

namespace mixnet::exec {

class FusedElemwise {
 public:
  /*! \brief Where a member reads or writes: the group's external array `index`, or tile slot. */
  struct Slot {
    bool external = false;
    uint32_t index = 0;
  };
  struct Member {
    op::OpCall call;  // prepared on the full shapes (kernel choice); run on tiles
    std::vector<Slot> in, out;
  };

  /*!
   * \brief `size` elements per array; `num_slots` tile buffers; external arrays are the
   * group's inputs then its outputs, in the order of the pointers Run receives.
   */
  FusedElemwise(std::vector<Member> members, uint32_t num_slots, int64_t size);

  /*! \brief Runs the group; `external[i]` is the data of external array i. */
  void Run(RunContext rctx, bool is_train, std::span<void* const> external) const;

  size_t num_members() const { return members_.size(); }

 private:
  void RunTile(RunContext rctx, bool is_train, std::span<void* const> external, int64_t begin,
               int64_t n, std::byte* slots) const;

  std::vector<Member> members_;
  uint32_t num_slots_;
  int64_t size_;
};

}  // namespace mixnet::exec
