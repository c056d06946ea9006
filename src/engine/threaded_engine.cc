#include "engine/threaded_engine.h"

#include <algorithm>
#include <queue>
#include <thread>

#include "engine/op_exec.h"
#include "mixnet/base/env.h"
#include "mixnet/base/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MIXNET_CPU_RELAX() _mm_pause()
#else
#define MIXNET_CPU_RELAX() std::this_thread::yield()
#endif

namespace mixnet::engine {

/*!
 * \brief Worker threads of one device sharing a priority queue (higher priority first,
 * FIFO among equals).
 *
 * NOTE [ Worker spin ]
 * A worker that finds the queue empty polls it for a short while before sleeping on the
 * condition variable: a stream of small pushes then costs no futex wake per push, which is
 * what keeps the amortised push cost under a microsecond. The spin is bounded, so an idle
 * engine sleeps and leaves the cores to compute threads.
 *
 * Several ranks of an MPI job on one host (OpenMPI's OMPI_COMM_WORLD_LOCAL_SIZE, MPICH's
 * MPI_LOCALNRANKS) with fewer than two cores per rank do not spin: there a spinning worker
 * takes the core that the other rank's communication thread needs (2 ranks on 2 cores:
 * dist_sync pushpull of 4 KB, median 97 -> 12 us). MIXNET_ENGINE_SPIN=N sets the count.
 */
namespace {
int WorkerSpins() {
  static const int spins = [] {
    int64_t local = GetEnvInt("OMPI_COMM_WORLD_LOCAL_SIZE", GetEnvInt("MPI_LOCALNRANKS", 1));
    int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    return static_cast<int>(GetEnvInt("MIXNET_ENGINE_SPIN", local * 2 > cores ? 0 : 4000));
  }();
  return spins;
}
}  // namespace

class WorkerPool {
 public:
  WorkerPool(ThreadedEngine* engine, int nthreads) : engine_(engine) {
    for (int i = 0; i < nthreads; ++i)
      threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Stop(); }

  void Push(OprBlock* opr) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push(Entry{opr->priority, seq_++, opr});
      size_.store(queue_.size(), std::memory_order_release);
      wake = sleeping_ > 0;
    }
    if (wake) cv_.notify_one();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

 private:
  struct Entry {
    int priority;
    uint64_t seq;
    OprBlock* opr;
    bool operator<(const Entry& o) const {
      return priority != o.priority ? priority < o.priority : seq > o.seq;
    }
  };

  // Room for this many ready ops before the queue's storage grows (an allocation).
  static std::priority_queue<Entry> Reserved() {
    std::vector<Entry> storage;
    storage.reserve(4096);
    return std::priority_queue<Entry>(std::less<Entry>(), std::move(storage));
  }

  void Run() {
    const int kSpins = WorkerSpins();
    while (true) {
      for (int i = 0; i < kSpins && size_.load(std::memory_order_acquire) == 0; ++i) {
        MIXNET_CPU_RELAX();
      }
      OprBlock* opr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        while (queue_.empty() && !stop_) {
          ++sleeping_;
          cv_.wait(lock);
          --sleeping_;
        }
        if (queue_.empty()) return;  // stopping and drained
        opr = queue_.top().opr;
        queue_.pop();
        size_.store(queue_.size(), std::memory_order_release);
      }
      engine_->Execute(opr);
    }
  }

  ThreadedEngine* engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry> queue_;
  std::atomic<size_t> size_{0};
  uint64_t seq_ = 0;
  int sleeping_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

namespace {
std::atomic<uint64_t> g_next_engine_id{1};
thread_local BulkState tls_bulk;

template <typename T>
void Assign(std::vector<T>* dst, std::span<const T> src) {
  dst->assign(src.begin(), src.end());
}
}  // namespace

ThreadedEngine::ThreadedEngine(int cpu_workers)
    : id_(g_next_engine_id.fetch_add(1)), cpu_workers_(std::max(1, cpu_workers)) {}

ThreadedEngine::~ThreadedEngine() {
  Shutdown();
}

VarHandle ThreadedEngine::NewVariable() {
  return after_shutdown_.NewVariable();
}

// ---------------------------------------------------------------- dependency tracking

void ThreadedEngine::AppendRead(VarHandle var, OprBlock* opr) {
  VarWaiter* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(var->mu);
    if (!var->write_running && var->head == nullptr) {
      ++var->running_reads;
    } else {
      w = ObjectPool<VarWaiter>::New();
      *w = VarWaiter{opr, false, nullptr};
      (var->tail ? var->tail->next : var->head) = w;
      var->tail = w;
    }
  }
  if (!w) Ready(opr);
}

void ThreadedEngine::AppendWrite(VarHandle var, OprBlock* opr) {
  VarWaiter* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(var->mu);
    if (!var->write_running && var->running_reads == 0 && var->head == nullptr) {
      var->write_running = true;
    } else {
      w = ObjectPool<VarWaiter>::New();
      *w = VarWaiter{opr, true, nullptr};
      (var->tail ? var->tail->next : var->head) = w;
      var->tail = w;
    }
  }
  if (!w) Ready(opr);
}

void ThreadedEngine::CompleteRead(VarHandle var) {
  VarWaiter* w = nullptr;
  SyncFn deletion;
  {
    std::lock_guard<std::mutex> lock(var->mu);
    MX_INTERNAL_ASSERT(var->running_reads > 0);
    if (--var->running_reads == 0 && var->head != nullptr) {
      w = var->head;  // only a write can wait while reads run
      MX_INTERNAL_ASSERT(w->write);
      var->head = w->next;
      if (!var->head) var->tail = nullptr;
      var->write_running = true;
    }
    TakeDeletionIfIdle(var, &deletion);
  }
  if (w) {
    OprBlock* opr = w->opr;
    ObjectPool<VarWaiter>::Delete(w);
    Ready(opr);
  } else if (deletion) {
    RunDeletion(std::move(deletion), var->delete_ctx, var);
  }
}

void ThreadedEngine::CompleteWrite(VarHandle var) {
  VarWaiter* reads = nullptr;  // detached chain of reads to start
  VarWaiter* write = nullptr;
  SyncFn deletion;
  {
    std::lock_guard<std::mutex> lock(var->mu);
    MX_INTERNAL_ASSERT(var->write_running);
    var->write_running = false;
    VarWaiter* end = var->head;
    while (end && !end->write) {
      ++var->running_reads;
      end = end->next;
    }
    if (end != var->head) {
      reads = var->head;
      // Cut the chain just before `end`.
      VarWaiter* last = reads;
      while (last->next != end)
        last = last->next;
      last->next = nullptr;
      var->head = end;
      if (!end) var->tail = nullptr;
    } else if (end) {
      write = end;
      var->head = end->next;
      if (!var->head) var->tail = nullptr;
      var->write_running = true;
    }
    TakeDeletionIfIdle(var, &deletion);
  }
  if (deletion) {
    RunDeletion(std::move(deletion), var->delete_ctx, var);
    return;
  }
  while (reads) {
    VarWaiter* next = reads->next;
    OprBlock* opr = reads->opr;
    ObjectPool<VarWaiter>::Delete(reads);
    Ready(opr);
    reads = next;
  }
  if (write) {
    OprBlock* opr = write->opr;
    ObjectPool<VarWaiter>::Delete(write);
    Ready(opr);
  }
}

void ThreadedEngine::TakeDeletionIfIdle(VarHandle var, SyncFn* fn) {
  if (var->to_delete && !var->write_running && var->running_reads == 0 && var->head == nullptr) {
    *fn = std::move(var->on_delete);
  }
}

void ThreadedEngine::RunDeletion(SyncFn fn, Context ctx, VarHandle var) {
  try {
    fn(RunContext{ctx});
  } catch (...) {
    pending_errors_.Add(CaptureOpError("DeleteVariable"));
  }
  after_shutdown_.FreeVar(var);
}

// ---------------------------------------------------------------- pushing

namespace {
// Checked when pushing (not when a bulk is flushed), so the error points at the bad push.
void CheckContext(Context ctx, const char* opr_name) {
  MX_CHECK(ctx.dev_id >= 0 && ctx.dev_id < Context::kMaxDevId &&
               Context::IsValidDeviceType(static_cast<int32_t>(ctx.dev_type)),
           ValueError)
      << "engine: cannot push '" << opr_name << "' to context " << ctx
      << " (device ids must be in [0, " << Context::kMaxDevId << "))";
}
}  // namespace

OprBlock* ThreadedEngine::NewOpr(Context ctx, std::span<const VarHandle> const_vars,
                                 std::span<const VarHandle> mutable_vars, FnProperty prop,
                                 int priority, const char* opr_name) {
  OprBlock* opr = ObjectPool<OprBlock>::New();
  Assign(&opr->const_vars, const_vars);
  Assign(&opr->mutable_vars, mutable_vars);
  DedupVars(&opr->const_vars, &opr->mutable_vars);
  opr->ctx = ctx;
  opr->prop = prop;
  opr->priority = prop == FnProperty::kCPUPrioritized || prop == FnProperty::kGPUPrioritized
                      ? std::max(priority, 1 << 30)
                      : priority;
  opr->name = opr_name;
  opr->error.reset();
  opr->own_error = false;
  return opr;
}

void ThreadedEngine::Schedule(OprBlock* opr) {
  pending_.fetch_add(1, std::memory_order_relaxed);
  opr->wait.store(static_cast<int>(opr->const_vars.size() + opr->mutable_vars.size()) + 1,
                  std::memory_order_relaxed);
  for (VarHandle v : opr->const_vars)
    AppendRead(v, opr);
  for (VarHandle v : opr->mutable_vars)
    AppendWrite(v, opr);
  // Drop the push guard. Reaching zero here means every var was free at once.
  if (opr->wait.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (opr->prop == FnProperty::kSmall && opr->ctx.is_host()) {
      Execute(opr);  // NOTE [ Small ops inline ] in engine.h
    } else {
      Dispatch(opr);
    }
  }
}

void ThreadedEngine::PushAsync(AsyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                               std::span<const VarHandle> mutable_vars, FnProperty prop,
                               int priority, const char* opr_name) {
  if (shut_down_.load(std::memory_order_acquire)) {
    after_shutdown_.PushAsync(std::move(fn), ctx, const_vars, mutable_vars, prop, priority,
                              opr_name);
    return;
  }
  CheckContext(ctx, opr_name);
  FlushBulk();
  OprBlock* opr = NewOpr(ctx, const_vars, mutable_vars, prop, priority, opr_name);
  opr->async_fn = std::move(fn);
  Schedule(opr);
}

void ThreadedEngine::PushSync(SyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                              std::span<const VarHandle> mutable_vars, FnProperty prop,
                              int priority, const char* opr_name) {
  if (shut_down_.load(std::memory_order_acquire)) {
    after_shutdown_.PushSync(std::move(fn), ctx, const_vars, mutable_vars, prop, priority,
                             opr_name);
    return;
  }
  CheckContext(ctx, opr_name);
  BulkState& bulk = Bulk();
  if (bulk.size > 1 && (prop == FnProperty::kNormal || prop == FnProperty::kSmall)) {
    if (!bulk.items.empty() && bulk.ctx != ctx) FlushBulk();
    bulk.ctx = ctx;
    bulk.items.push_back(BulkItem{std::move(fn), opr_name});
    bulk.const_vars.insert(bulk.const_vars.end(), const_vars.begin(), const_vars.end());
    bulk.mutable_vars.insert(bulk.mutable_vars.end(), mutable_vars.begin(), mutable_vars.end());
    if (static_cast<int>(bulk.items.size()) >= bulk.size) FlushBulk();
    return;
  }
  FlushBulk();
  OprBlock* opr = NewOpr(ctx, const_vars, mutable_vars, prop, priority, opr_name);
  opr->sync_fn = std::move(fn);
  Schedule(opr);
}

void ThreadedEngine::DeleteVariable(SyncFn fn, Context ctx, VarHandle var) {
  if (shut_down_.load(std::memory_order_acquire)) {
    after_shutdown_.DeleteVariable(std::move(fn), ctx, var);
    return;
  }
  CheckContext(ctx, "DeleteVariable");
  FlushBulk();  // a pending bulk of this thread may use the var
  {
    std::lock_guard<std::mutex> lock(var->mu);
    if (var->write_running || var->running_reads > 0 || var->head != nullptr) {
      // The completion that leaves the var idle runs it (NOTE [ Var deletion ] in var.h).
      var->on_delete = std::move(fn);
      var->delete_ctx = ctx;
      var->to_delete = true;
      return;
    }
  }
  RunDeletion(std::move(fn), ctx, var);
}

// ---------------------------------------------------------------- bulk

BulkState& ThreadedEngine::Bulk() {
  if (tls_bulk.engine_id != id_) {
    // This thread's bulk belonged to another engine; that engine flushed it at every sync
    // point, and SetBulkSize/BulkScope flush on exit, so it must be empty.
    MX_INTERNAL_ASSERT(tls_bulk.items.empty()) << "bulk of another engine left pending";
    tls_bulk.engine_id = id_;
    tls_bulk.size = 0;
  }
  return tls_bulk;
}

int ThreadedEngine::SetBulkSize(int size) {
  FlushBulk();
  BulkState& bulk = Bulk();
  const int prev = bulk.size;
  bulk.size = size;
  return prev;
}

void ThreadedEngine::FlushBulk() {
  if (tls_bulk.engine_id != id_ || tls_bulk.items.empty()) return;
  BulkState& bulk = tls_bulk;
  if (bulk.items.size() == 1) {
    BulkItem item = std::move(bulk.items.front());
    bulk.items.clear();
    OprBlock* opr =
        NewOpr(bulk.ctx, bulk.const_vars, bulk.mutable_vars, FnProperty::kNormal, 0, item.name);
    opr->sync_fn = std::move(item.fn);
    bulk.const_vars.clear();
    bulk.mutable_vars.clear();
    Schedule(opr);
    return;
  }
  OprBlock* opr =
      NewOpr(bulk.ctx, bulk.const_vars, bulk.mutable_vars, FnProperty::kNormal, 0, "BulkExecution");
  opr->bulk.swap(bulk.items);  // both keep their capacity
  bulk.items.clear();
  bulk.const_vars.clear();
  bulk.mutable_vars.clear();
  Schedule(opr);
}

// ---------------------------------------------------------------- running

WorkerPool* ThreadedEngine::PoolFor(const OprBlock& opr) {
  int kind = 0;
  if (opr.prop == FnProperty::kCPUPrioritized || opr.prop == FnProperty::kGPUPrioritized) {
    kind = 1;
  } else if (opr.prop == FnProperty::kCopyFromGPU || opr.prop == FnProperty::kCopyToGPU) {
    kind = 2;
  }
  const int dev_type = static_cast<int>(opr.ctx.dev_type);
  const size_t slot =
      (static_cast<size_t>(dev_type) * Context::kMaxDevId + opr.ctx.dev_id) * kPoolKinds +
      static_cast<size_t>(kind);
  WorkerPool* pool = pools_[slot].load(std::memory_order_acquire);
  if (pool) return pool;
  std::lock_guard<std::mutex> lock(pools_mu_);
  pool = pools_[slot].load(std::memory_order_relaxed);
  if (!pool) {
    // Normal work gets the configured worker count; prioritized and copy work one thread.
    const int n = kind == 0 && opr.ctx.is_host() ? cpu_workers_ : 1;
    owned_pools_.push_back(std::make_unique<WorkerPool>(this, n));
    pool = owned_pools_.back().get();
    pools_[slot].store(pool, std::memory_order_release);
  }
  return pool;
}

void ThreadedEngine::Dispatch(OprBlock* opr) {
  PoolFor(*opr)->Push(opr);
}

void ThreadedEngine::Execute(OprBlock* opr) {
  if (!RunsDespiteErrors(opr->prop)) {
    opr->error = FirstActiveError(opr->const_vars, opr->mutable_vars);
    if (opr->error) {
      OnComplete(opr);
      return;
    }
  }
  const RunContext rctx{opr->ctx};
  if (opr->async_fn) {
    try {
      opr->async_fn(rctx, MakeCallback(&ThreadedEngine::AsyncDone, opr));
    } catch (...) {
      opr->error = CaptureOpError(opr->name);
      opr->own_error = true;
      OnComplete(opr);
    }
    return;
  }
  const char* running = opr->name;
  try {
    if (opr->bulk.empty()) {
      opr->sync_fn(rctx);
    } else {
      for (BulkItem& item : opr->bulk) {
        running = item.name;
        item.fn(rctx);
      }
    }
  } catch (...) {
    opr->error = CaptureOpError(running);
    opr->own_error = true;
  }
  OnComplete(opr);
}

void ThreadedEngine::AsyncDone(Engine* e, void* param, std::exception_ptr* error) {
  auto* engine = static_cast<ThreadedEngine*>(e);
  auto* opr = static_cast<OprBlock*>(param);
  // This may run on a thread the engine does not own and so cannot join: Shutdown waits for
  // the count to drop, and the decrement is the last touch of the engine here.
  engine->async_completing_.fetch_add(1, std::memory_order_acq_rel);
  if (error && *error) {
    opr->error = TagOpError(*error, opr->name);
    opr->own_error = true;
  }
  engine->OnComplete(opr);
  engine->async_completing_.fetch_sub(1, std::memory_order_acq_rel);
}

void ThreadedEngine::OnComplete(OprBlock* opr) {
  if (opr->own_error) pending_errors_.Add(opr->error);
  RecordWrites(opr->mutable_vars, opr->error);
  // Release captured state (e.g. array references) before dependants run.
  opr->sync_fn.Reset();
  opr->async_fn.Reset();
  opr->bulk.clear();
  opr->error.reset();
  for (VarHandle v : opr->const_vars)
    CompleteRead(v);
  if (opr->prop == FnProperty::kDeleteVar) {
    VarHandle v = opr->mutable_vars.front();
    {
      std::lock_guard<std::mutex> lock(v->mu);
      MX_INTERNAL_ASSERT(v->head == nullptr && v->running_reads == 0)
          << "variable used after DeleteVariable";
    }
    after_shutdown_.FreeVar(v);
  } else {
    for (VarHandle v : opr->mutable_vars)
      CompleteWrite(v);
  }
  ObjectPool<OprBlock>::Delete(opr);
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard<std::mutex> lock(finished_mu_);
    finished_cv_.notify_all();
  }
}

// ---------------------------------------------------------------- waiting

namespace {
struct VarWait {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  ErrorRef error;
};
}  // namespace

void ThreadedEngine::WaitForVar(VarHandle var) {
  if (shut_down_.load(std::memory_order_acquire)) {
    after_shutdown_.WaitForVar(var);
    return;
  }
  FlushBulk();
  {
    std::lock_guard<std::mutex> lock(var->mu);
    if (!var->write_running && var->head == nullptr) {
      ErrorRef e = var->error;  // no write runs or waits: stable
      RaiseOnce(e);
      return;
    }
  }
  VarWait w;
  const VarHandle vars[] = {var};
  OprBlock* opr = NewOpr(Context::cpu(), vars, {}, FnProperty::kNoSkip, 1 << 30, "WaitForVar");
  opr->sync_fn = [&w, var](RunContext) {
    std::lock_guard<std::mutex> lock(w.mu);
    w.error = var->error;  // read while holding a read grant on var
    w.done = true;
    w.cv.notify_all();
  };
  Schedule(opr);
  std::unique_lock<std::mutex> lock(w.mu);
  w.cv.wait(lock, [&] { return w.done; });
  RaiseOnce(w.error);
}

void ThreadedEngine::WaitForAll() {
  if (shut_down_.load(std::memory_order_acquire)) after_shutdown_.WaitForAll();
  FlushBulk();
  {
    std::unique_lock<std::mutex> lock(finished_mu_);
    finished_cv_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  }
  pending_errors_.RaiseFirstAndClear();
}

// Shutdown must not race with pushes from other threads (it runs at exit, or in tests).
void ThreadedEngine::Shutdown() {
  if (shut_down_.load(std::memory_order_acquire)) return;
  FlushBulk();
  {
    std::unique_lock<std::mutex> lock(finished_mu_);
    finished_cv_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  }
  while (async_completing_.load(std::memory_order_acquire) != 0)
    std::this_thread::yield();
  std::lock_guard<std::mutex> lock(pools_mu_);
  for (auto& p : owned_pools_)
    p->Stop();
  shut_down_.store(true, std::memory_order_release);
}

}  // namespace mixnet::engine
