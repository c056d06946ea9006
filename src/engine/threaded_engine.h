// ThreadedEngine: versioned per-var queues feeding per-device worker pools.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/engine_error.h"
#include "engine/naive_engine.h"
#include "engine/object_pool.h"
#include "engine/var.h"
#include "mixnet/engine/engine.h"

namespace mixnet::engine {

class ThreadedEngine;
class WorkerPool;

/*! \brief One pushed function of a bulk. */
struct BulkItem {
  SyncFn fn;
  const char* name = nullptr;
};

/*! \brief A pushed op. Pooled: vectors keep their capacity across reuse. */
struct OprBlock {
  // Room for typical var lists, so only growth of the pool allocates, not a block's reuse.
  OprBlock() {
    const_vars.reserve(8);
    mutable_vars.reserve(8);
  }

  SyncFn sync_fn;
  AsyncFn async_fn;
  std::vector<BulkItem> bulk;  // non-empty for a bulk of sync functions
  std::vector<VarHandle> const_vars;
  std::vector<VarHandle> mutable_vars;
  Context ctx;
  FnProperty prop = FnProperty::kNormal;
  int priority = 0;
  const char* name = nullptr;
  std::atomic<int> wait{0};  // vars not yet granted, plus one while pushing
  ErrorRef error;            // inherited from an input, or this op's own failure
  bool own_error = false;
};

/*! \brief Per-thread pending bulk (see Engine::SetBulkSize). */
struct BulkState {
  uint64_t engine_id = 0;
  int size = 0;
  Context ctx;
  std::vector<BulkItem> items;
  std::vector<VarHandle> const_vars;
  std::vector<VarHandle> mutable_vars;
};

class ThreadedEngine final : public Engine {
 public:
  explicit ThreadedEngine(int cpu_workers);
  ~ThreadedEngine() override;
  Kind kind() const override { return Kind::kThreaded; }

  VarHandle NewVariable() override;
  void DeleteVariable(SyncFn fn, Context ctx, VarHandle var) override;
  void PushAsync(AsyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                 std::span<const VarHandle> mutable_vars, FnProperty prop, int priority,
                 const char* opr_name) override;
  void PushSync(SyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                std::span<const VarHandle> mutable_vars, FnProperty prop, int priority,
                const char* opr_name) override;
  void WaitForVar(VarHandle var) override;
  void WaitForAll() override;
  int SetBulkSize(int size) override;
  void FlushBulk() override;
  uint64_t VarVersion(VarHandle var) override { return var->version.load(); }
  void Shutdown() override;

  /*! \brief Runs a dispatched op on a worker thread. */
  void Execute(OprBlock* opr);

 private:
  OprBlock* NewOpr(Context ctx, std::span<const VarHandle> const_vars,
                   std::span<const VarHandle> mutable_vars, FnProperty prop, int priority,
                   const char* opr_name);
  void Schedule(OprBlock* opr);  // registers dependencies; dispatches when ready
  void Dispatch(OprBlock* opr);
  void OnComplete(OprBlock* opr);
  static void AsyncDone(Engine* e, void* opr, std::exception_ptr* error);

  void AppendRead(VarHandle var, OprBlock* opr);
  void AppendWrite(VarHandle var, OprBlock* opr);
  void CompleteRead(VarHandle var);
  void CompleteWrite(VarHandle var);
  /*! \brief With var->mu held: moves out the deletion DeleteVariable left, if now idle. */
  static void TakeDeletionIfIdle(VarHandle var, SyncFn* fn);
  /*! \brief Runs a var's deletion function, then frees the var (NOTE [ Var deletion ]). */
  void RunDeletion(SyncFn fn, Context ctx, VarHandle var);
  void Ready(OprBlock* opr) {
    if (opr->wait.fetch_sub(1, std::memory_order_acq_rel) == 1) Dispatch(opr);
  }

  BulkState& Bulk();
  WorkerPool* PoolFor(const OprBlock& opr);

  static constexpr int kPoolKinds = 3;  // normal, prioritized, copy
  const uint64_t id_;
  const int cpu_workers_;
  std::mutex pools_mu_;
  std::array<std::atomic<WorkerPool*>, 6 * Context::kMaxDevId * kPoolKinds> pools_{};
  std::vector<std::unique_ptr<WorkerPool>> owned_pools_;

  PendingErrors pending_errors_;

  std::atomic<int64_t> pending_{0};
  std::atomic<int> async_completing_{0};  // async completions in progress on any thread
  std::mutex finished_mu_;
  std::condition_variable finished_cv_;

  std::atomic<bool> shut_down_{false};
  NaiveEngine after_shutdown_;  // owns the vars; runs pushes inline once workers are gone
};

}  // namespace mixnet::engine
