#include "engine/naive_engine.h"

#include <condition_variable>
#include <mutex>

#include "engine/op_exec.h"

namespace mixnet::engine {
namespace {
thread_local int tls_bulk_size = 0;

/*! \brief Completion state of one async op run by the naive engine. */
struct AsyncDone {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;
};

void SignalDone(Engine*, void* param, std::exception_ptr* error) {
  auto* d = static_cast<AsyncDone*>(param);
  std::lock_guard<std::mutex> lock(d->mu);
  if (error) d->error = *error;
  d->done = true;
  d->cv.notify_all();
}
}  // namespace

VarHandle NaiveEngine::NewVariable() {
  EngineVar* v = ObjectPool<EngineVar>::New();
  v->Reset();
  return v;
}

void NaiveEngine::FreeVar(VarHandle var) {
  var->Reset();
  ObjectPool<EngineVar>::Delete(var);
}

template <typename Run>
void NaiveEngine::Execute(Run&& run, std::span<const VarHandle> const_vars,
                          std::span<const VarHandle> mutable_vars, FnProperty prop,
                          const char* opr_name) {
  ErrorRef outcome = RunsDespiteErrors(prop) ? nullptr : FirstActiveError(const_vars, mutable_vars);
  if (!outcome) {
    try {
      run();
    } catch (...) {
      outcome = CaptureOpError(opr_name);
      pending_errors_.Add(outcome);
    }
  }
  RecordWrites(mutable_vars, outcome);
}

void NaiveEngine::PushSync(SyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                           std::span<const VarHandle> mutable_vars, FnProperty prop, int,
                           const char* opr_name) {
  Execute([&] { fn(RunContext{ctx}); }, const_vars, mutable_vars, prop, opr_name);
}

void NaiveEngine::PushAsync(AsyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                            std::span<const VarHandle> mutable_vars, FnProperty prop, int,
                            const char* opr_name) {
  Execute(
      [&] {
        AsyncDone done;
        fn(RunContext{ctx}, MakeCallback(&SignalDone, &done));
        std::unique_lock<std::mutex> lock(done.mu);
        done.cv.wait(lock, [&] { return done.done; });
        if (done.error) std::rethrow_exception(done.error);
      },
      const_vars, mutable_vars, prop, opr_name);
}

void NaiveEngine::DeleteVariable(SyncFn fn, Context ctx, VarHandle var) {
  const VarHandle vars[] = {var};
  PushSync(std::move(fn), ctx, {}, vars, FnProperty::kDeleteVar, 0, "DeleteVariable");
  FreeVar(var);
}

void NaiveEngine::WaitForVar(VarHandle var) {
  RaiseOnce(var->error);
}

void NaiveEngine::WaitForAll() {
  pending_errors_.RaiseFirstAndClear();
}

int NaiveEngine::SetBulkSize(int size) {
  const int prev = tls_bulk_size;
  tls_bulk_size = size;
  return prev;
}

}  // namespace mixnet::engine
