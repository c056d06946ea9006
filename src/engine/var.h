// The engine variable: dependency queue state (threaded engine) plus version and error.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "engine/engine_error.h"
#include "mixnet/engine/engine.h"

namespace mixnet {

namespace engine {
struct OprBlock;

/*! \brief An op waiting in a var's queue. */
struct VarWaiter {
  OprBlock* opr = nullptr;
  bool write = false;
  VarWaiter* next = nullptr;
};
}  // namespace engine

/*!
 * NOTE [ Var dependency state ]
 * A var admits either any number of running reads or one running write. Ops that cannot start
 * wait in FIFO order in the var's queue. A read joins the running reads only if no write runs
 * and nothing waits (so a queued write is never starved); a write starts only if nothing runs
 * and nothing waits. When the last read ends, a waiting write at the head starts. When a write
 * ends, every consecutive read at the head starts, or else the next write.
 *
 * NOTE [ Var deletion ]
 * DeleteVariable on an idle var runs the deletion at once, in the caller. On a busy var it
 * stores the deletion here (`to_delete`, `on_delete`); the completion that leaves the var idle
 * runs it. No op can be queued behind it (the var must not be used after DeleteVariable), so
 * this is the order a pushed delete op would have had, without a trip through a worker queue:
 * every dropped NDArray deletes its chunk this way, so it would double the engine ops of an
 * eager call.
 */
struct EngineVar {
  std::mutex mu;  // guards the fields below (threaded engine)
  int running_reads = 0;
  bool write_running = false;
  engine::VarWaiter* head = nullptr;  // first waiting op
  engine::VarWaiter* tail = nullptr;
  bool to_delete = false;
  SyncFn on_delete;  // with to_delete: runs when the var becomes idle
  Context delete_ctx;

  std::atomic<uint64_t> version{0};  // completed writes
  engine::ErrorRef error;            // set by the last write that failed or was skipped;
                                     // ordered by the dependency rules, not by `mu`
  void Reset() {
    running_reads = 0;
    write_running = false;
    head = tail = nullptr;
    to_delete = false;
    on_delete.Reset();
    version.store(0, std::memory_order_relaxed);
    error.reset();
  }
};

}  // namespace mixnet
