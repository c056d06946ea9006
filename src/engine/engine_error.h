// Errors inside the engine: capture, tag with the op's name, raise once (NOTE [ Engine errors ]).
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

namespace mixnet::engine {

/*! \brief One failure, shared by every var it reached. Raised at most once. */
struct ErrorCell {
  std::exception_ptr error;
  std::atomic<bool> raised{false};
  /*! \brief True while the error still poisons vars (not yet raised). */
  bool active() const { return !raised.load(std::memory_order_acquire); }
};
using ErrorRef = std::shared_ptr<ErrorCell>;

/*!
 * \brief Turns the exception in flight into an error of the same kind whose message starts
 * with "Operator 'NAME' failed: ". Call from a catch block.
 */
ErrorRef CaptureOpError(const char* opr_name);
/*! \brief The same for an exception handed to an async completion callback. */
ErrorRef TagOpError(std::exception_ptr e, const char* opr_name);

/*! \brief Errors not raised yet, for WaitForAll. */
class PendingErrors {
 public:
  void Add(const ErrorRef& e) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back(e);
  }
  /*! \brief Raises the first error not raised elsewhere; forgets them all. */
  void RaiseFirstAndClear();

 private:
  std::mutex mu_;
  std::vector<ErrorRef> errors_;
};

/*! \brief Raises `e` if it is still active; marks it raised. */
void RaiseOnce(const ErrorRef& e);

}  // namespace mixnet::engine
