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
  std::exception_ptr error;  // WaitForAll's, raised by the waiting caller
  bool abandoned = false;    // the caller left on Ctrl-C: park the error instead

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
  // its error over. After Ctrl-C the thread finishes alone and parks its error for the next
  // waitall, so that no error is lost.
  static std::mutex parked_mu;
  static std::exception_ptr parked;
  {
    std::lock_guard<std::mutex> lock(parked_mu);
    if (parked) std::rethrow_exception(std::exchange(parked, nullptr));
  }
  auto signal = std::make_shared<Signal>();
  std::thread([signal] {
    std::exception_ptr error;
    try {
      Engine::Get()->WaitForAll();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(signal->mu);
    if (signal->abandoned && error) {
      std::lock_guard<std::mutex> plock(parked_mu);
      parked = error;
    }
    signal->error = error;
    signal->done = true;
    signal->cv.notify_all();
  }).detach();
  try {
    WaitForSignal(*signal);
  } catch (...) {
    std::lock_guard<std::mutex> lock(signal->mu);
    signal->abandoned = true;
    if (signal->done && signal->error) {  // finished just before: park what it found
      std::lock_guard<std::mutex> plock(parked_mu);
      parked = signal->error;
    }
    throw;
  }
  if (signal->error) std::rethrow_exception(signal->error);
}

}  // namespace mixnet::python
