// NOTE [ Interruptible waits ]
// A wait on the engine can last as long as the work before it. Python runs signal handlers
// only in the interpreter, so a plain blocking wait would keep Ctrl-C pending until the work
// is done. Waits here release the GIL and block on a condition in 50 ms slices; between
// slices they take the GIL back and run the signal handlers, so KeyboardInterrupt is raised at
// once. The completion signal is an engine op (kNoSkip: it runs even after a failure) that
// reads the array's var; the real wait runs afterwards, returning at once and raising the
// op's error if one reached the array.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "bind.h"
#include "mixnet/engine/engine.h"

namespace mixnet::python {

namespace {
struct Signal {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;  // WaitForAll's, raised by the caller that takes it

  void Set() {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  }
};

/*! \brief Waits for `s` with the GIL released, raising KeyboardInterrupt on a signal. */
void WaitForSignal(Signal& s) {
  nb::gil_scoped_release release;
  std::unique_lock<std::mutex> lock(s.mu);
  while (!s.cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return s.done; })) {
    lock.unlock();
    {
      nb::gil_scoped_acquire acquire;
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
    }
    lock.lock();
  }
}
}  // namespace

void WaitForArray(const NDArray& a, bool for_write) {
  if (a.is_none()) return;
  auto signal = std::make_shared<Signal>();
  const VarHandle var = a.var();
  Engine* engine = Engine::Get();
  const VarHandle vars[] = {var};
  std::span<const VarHandle> none;
  engine->PushSync([signal](RunContext) { signal->Set(); }, a.ctx(),
                   for_write ? none : std::span<const VarHandle>(vars),
                   for_write ? std::span<const VarHandle>(vars) : none, FnProperty::kNoSkip, 0,
                   "WaitToRead");
  engine->FlushBulk();
  WaitForSignal(*signal);
  nb::gil_scoped_release release;
  if (for_write) {
    a.WaitToWrite();
  } else {
    a.WaitToRead();
  }
}

void WaitForAllInterruptibly() {
  // WaitForAll has no op to hang a signal on: a helper thread does the blocking wait and hands
  // its error over. A waiter left running by Ctrl-C stays `inflight`: the next call joins it
  // and takes its error (each error is raised once, by one caller), then waits again for the
  // work pushed since it started.
  static std::mutex inflight_mu;
  static std::shared_ptr<Signal> inflight;
  std::shared_ptr<Signal> signal;
  bool joined = false;
  {
    std::lock_guard<std::mutex> lock(inflight_mu);
    if (inflight) {
      signal = inflight;
      joined = true;
    } else {
      signal = inflight = std::make_shared<Signal>();
      std::thread([signal] {
        std::exception_ptr error;
        try {
          Engine::Get()->WaitForAll();
        } catch (...) {
          error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(signal->mu);
        signal->error = error;
        signal->done = true;
        signal->cv.notify_all();
      }).detach();
    }
  }
  WaitForSignal(*signal);  // on Ctrl-C the waiter stays inflight
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(inflight_mu);
    if (inflight == signal) inflight.reset();
    std::lock_guard<std::mutex> slock(signal->mu);
    error = std::exchange(signal->error, nullptr);
  }
  if (error) std::rethrow_exception(error);
  if (joined) WaitForAllInterruptibly();
}

}  // namespace mixnet::python
