/*!
 * \file engine.h
 * \brief The asynchronous dependency engine (MXNet's contract).
 *
 * Work is pushed as a function together with the variables it reads (const_vars) and the
 * variables it writes (mutable_vars). The engine runs a function once every earlier function
 * that writes one of its vars, or reads one of its mutable vars, has finished. Reads of the
 * same var run concurrently; writes are exclusive and ordered by push order.
 *
 * NOTE [ Engine errors ]
 * An exception thrown by a pushed function is captured, tagged with the op's name, and stored
 * on every var the op writes. Later ops that read or write such a var are skipped and pass the
 * same error on to the vars they write. The error is raised at the next sync point that
 * observes it: WaitForVar on any var it reached, or WaitForAll. As in MXNet 1.x, an error is
 * raised once: after it was thrown, dependants pushed later run normally.
 *
 * NOTE [ Small ops inline ]
 * Handing a function to a worker moves the op's state, its vars' queues and the completion
 * between two cores: about a microsecond, more than a kernel on a thousand floats takes. A
 * push marked FnProperty::kSmall whose vars are all free when it is pushed therefore runs at
 * once in the pushing thread, through the same path a worker would take: it holds its vars
 * while it runs, and an error it raises is stored and raised at the next sync point, as for
 * any op. Only the thread differs, and that the push returns after the function ran. A small
 * function that has to wait for a var is queued for a worker as usual. Functions that block
 * on other threads must not be marked small (the caller would wait for itself).
 *
 * The engine type comes from MIXNET_ENGINE_TYPE (MXNET_ENGINE_TYPE accepted): "NaiveEngine"
 * runs every push synchronously in the caller; "ThreadedEnginePerDevice" (default) and
 * "ThreadedEngine" run pushes on per-device worker pools.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "mixnet/base/context.h"

namespace mixnet {

/*! \brief Opaque engine variable; one per independently tracked piece of state. */
struct EngineVar;
using VarHandle = EngineVar*;

/*! \brief Scheduling property of a pushed function (MXNet's FnProperty). */
enum class FnProperty : int {
  kNormal = 0,
  kCopyFromGPU = 1,
  kCopyToGPU = 2,
  kCPUPrioritized = 3,  ///< runs ahead of normal work on its device
  kAsync = 4,           ///< completes by calling on_complete, possibly from another thread
  kDeleteVar = 5,       ///< internal: deletes its mutable var afterwards
  kGPUPrioritized = 6,
  kNoSkip = 7,  ///< runs even if an input carries an error (cleanup work)
  /// A normal function that is short and never waits on other work: the threaded engine runs
  /// it in the pushing thread when its vars are free at once (NOTE [ Small ops inline ]).
  kSmall = 8,
};

/*! \brief What a running function learns about where it runs. */
struct RunContext {
  Context ctx;
  void* stream = nullptr;  ///< device stream (GPU backends); null on CPU
};

/*!
 * \brief A move-only callable with inline storage, so that pushing does not allocate.
 * Captures up to kInlineBytes live inside; larger ones go to the heap.
 */
template <typename Sig>
class InlineFunction;

template <typename R, typename... Args>
class InlineFunction<R(Args...)> {
 public:
  static constexpr size_t kInlineBytes = 64;

  InlineFunction() = default;
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction>>>
  InlineFunction(F&& f) {  // NOLINT(google-explicit-constructor)
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInlineBytes && alignof(Fn) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<Fn>) {
      new (buf_) Fn(std::forward<F>(f));
      ops_ = &InlineOps<Fn>::kOps;
    } else {
      *reinterpret_cast<Fn**>(buf_) = new Fn(std::forward<F>(f));
      ops_ = &HeapOps<Fn>::kOps;
    }
  }
  InlineFunction(InlineFunction&& o) noexcept { MoveFrom(o); }
  InlineFunction& operator=(InlineFunction&& o) noexcept {
    if (this != &o) {
      Reset();
      MoveFrom(o);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { Reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  R operator()(Args... args) { return ops_->call(buf_, std::forward<Args>(args)...); }
  void Reset() {
    if (ops_) ops_->destroy(buf_);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    R (*call)(void*, Args&&...);
    void (*move)(void* dst, void* src);
    void (*destroy)(void*);
  };
  template <typename Fn>
  struct InlineOps {
    static R Call(void* p, Args&&... a) { return (*static_cast<Fn*>(p))(std::forward<Args>(a)...); }
    static void Move(void* d, void* s) {
      new (d) Fn(std::move(*static_cast<Fn*>(s)));
      static_cast<Fn*>(s)->~Fn();
    }
    static void Destroy(void* p) { static_cast<Fn*>(p)->~Fn(); }
    static constexpr Ops kOps{&Call, &Move, &Destroy};
  };
  template <typename Fn>
  struct HeapOps {
    static R Call(void* p, Args&&... a) {
      return (**static_cast<Fn**>(p))(std::forward<Args>(a)...);
    }
    static void Move(void* d, void* s) { *static_cast<Fn**>(d) = *static_cast<Fn**>(s); }
    static void Destroy(void* p) { delete *static_cast<Fn**>(p); }
    static constexpr Ops kOps{&Call, &Move, &Destroy};
  };
  void MoveFrom(InlineFunction& o) {
    if (o.ops_) {
      o.ops_->move(buf_, o.buf_);
      ops_ = o.ops_;
      o.ops_ = nullptr;
    }
  }

  alignas(std::max_align_t) unsigned char buf_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

class Engine;

/*! \brief Completion callback handed to async functions; call exactly once. */
class CallbackOnComplete {
 public:
  /*! \brief Marks the op finished. */
  void operator()() const { fn_(engine_, param_, nullptr); }
  /*! \brief Marks the op failed with `error` (as if it had thrown it); finished if null. */
  void operator()(std::exception_ptr error) const { fn_(engine_, param_, &error); }

 private:
  friend class Engine;
  using Fn = void (*)(Engine*, void*, std::exception_ptr*);
  CallbackOnComplete(Fn fn, Engine* e, void* p) : fn_(fn), engine_(e), param_(p) {}
  Fn fn_;
  Engine* engine_;
  void* param_;
};

using SyncFn = InlineFunction<void(RunContext)>;
using AsyncFn = InlineFunction<void(RunContext, CallbackOnComplete)>;

/*! \brief The engine interface. Thread-safe: any thread may push and wait. */
class Engine {
 public:
  enum class Kind { kNaive, kThreaded };

  /*! \brief The process-wide engine, of the kind MIXNET_ENGINE_TYPE selects. */
  static Engine* Get();
  /*! \brief A private engine (tests, benchmarks). `cpu_workers` 0 means the default. */
  static std::unique_ptr<Engine> Create(Kind kind, int cpu_workers = 0);
  /*! \brief Parses MIXNET_ENGINE_TYPE's value; raises ValueError for unknown names. */
  static Kind KindFromName(const std::string& name);

  virtual ~Engine() = default;
  virtual Kind kind() const = 0;

  /*! \brief A new variable. */
  virtual VarHandle NewVariable() = 0;
  /*!
   * \brief Runs `fn` after all pending uses of `var`, then frees the var: at once in the
   * caller if none is pending, else on the thread that completes the last one. The var must
   * not be used in pushes after this call.
   */
  virtual void DeleteVariable(SyncFn fn, Context ctx, VarHandle var) = 0;

  /*!
   * \brief Pushes an asynchronous function. `opr_name` must outlive the op (a literal or a
   * registry string). A var may appear in both lists; it then counts as written.
   */
  virtual void PushAsync(AsyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                         std::span<const VarHandle> mutable_vars,
                         FnProperty prop = FnProperty::kNormal, int priority = 0,
                         const char* opr_name = "unnamed") = 0;
  void PushAsync(AsyncFn fn, Context ctx, std::initializer_list<VarHandle> const_vars,
                 std::initializer_list<VarHandle> mutable_vars,
                 FnProperty prop = FnProperty::kNormal, int priority = 0,
                 const char* opr_name = "unnamed") {
    PushAsync(std::move(fn), ctx, std::span<const VarHandle>(const_vars.begin(), const_vars.size()),
              std::span<const VarHandle>(mutable_vars.begin(), mutable_vars.size()), prop, priority,
              opr_name);
  }
  /*! \brief Pushes a synchronous function (may be bulked, see SetBulkSize). */
  virtual void PushSync(SyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                        std::span<const VarHandle> mutable_vars,
                        FnProperty prop = FnProperty::kNormal, int priority = 0,
                        const char* opr_name = "unnamed") = 0;
  void PushSync(SyncFn fn, Context ctx, std::initializer_list<VarHandle> const_vars,
                std::initializer_list<VarHandle> mutable_vars,
                FnProperty prop = FnProperty::kNormal, int priority = 0,
                const char* opr_name = "unnamed") {
    PushSync(std::move(fn), ctx, std::span<const VarHandle>(const_vars.begin(), const_vars.size()),
             std::span<const VarHandle>(mutable_vars.begin(), mutable_vars.size()), prop, priority,
             opr_name);
  }

  /*! \brief Blocks until every pushed op writing `var` has finished; raises its error. */
  virtual void WaitForVar(VarHandle var) = 0;
  /*! \brief Blocks until all pushed ops have finished; raises the first unraised error. */
  virtual void WaitForAll() = 0;

  /*!
   * \brief Bulk mode for the calling thread: up to `size` consecutive PushSync calls of
   * normal (or small) ops on one context run as a single engine op. 0 or 1 turns it off. Returns
   * the previous size. A sync point or a push that cannot join flushes the pending bulk.
   */
  virtual int SetBulkSize(int size) = 0;
  /*! \brief Pushes the calling thread's pending bulk, if any. */
  virtual void FlushBulk() = 0;

  /*! \brief Number of times `var` has been written (for tests and debugging). */
  virtual uint64_t VarVersion(VarHandle var) = 0;

  /*!
   * \brief Waits for all work, stops the workers. Later pushes run synchronously. Called by
   * the process-wide engine at exit; idempotent.
   */
  virtual void Shutdown() = 0;

 protected:
  CallbackOnComplete MakeCallback(CallbackOnComplete::Fn fn, void* param) {
    return CallbackOnComplete(fn, this, param);
  }
};

/*! \brief RAII bulk scope: `BulkScope s(16);` restores the previous size on exit. */
class BulkScope {
 public:
  explicit BulkScope(int size, Engine* engine = Engine::Get())
      : engine_(engine), prev_(engine->SetBulkSize(size)) {}
  ~BulkScope() { engine_->SetBulkSize(prev_); }
  BulkScope(const BulkScope&) = delete;
  BulkScope& operator=(const BulkScope&) = delete;

 private:
  Engine* engine_;
  int prev_;
};

}  // namespace mixnet
