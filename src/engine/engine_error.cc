#include "engine/engine_error.h"

#include <new>
#include <stdexcept>
#include <string>

#include "mixnet/base/error.h"

namespace mixnet::engine {
namespace {
ErrorRef Make(std::exception_ptr e) {
  auto cell = std::make_shared<ErrorCell>();
  cell->error = std::move(e);
  return cell;
}

std::exception_ptr Tagged(ErrorKind kind, const char* opr_name, const char* what) {
  try {
    ThrowError(kind, std::string("Operator '") + opr_name + "' failed: " + what);
  } catch (...) {
    return std::current_exception();
  }
}
}  // namespace

ErrorRef TagOpError(std::exception_ptr e, const char* opr_name) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    return Make(Tagged(err.kind(), opr_name, err.what()));
  } catch (const std::bad_alloc&) {
    return Make(Tagged(ErrorKind::kError, opr_name, "out of memory"));
  } catch (const std::invalid_argument& err) {
    return Make(Tagged(ErrorKind::kValueError, opr_name, err.what()));
  } catch (const std::out_of_range& err) {
    return Make(Tagged(ErrorKind::kIndexError, opr_name, err.what()));
  } catch (const std::exception& err) {
    return Make(Tagged(ErrorKind::kError, opr_name, err.what()));
  } catch (...) {
    return Make(Tagged(ErrorKind::kError, opr_name, "unknown exception"));
  }
}

ErrorRef CaptureOpError(const char* opr_name) {
  return TagOpError(std::current_exception(), opr_name);
}

void RaiseOnce(const ErrorRef& e) {
  if (e && !e->raised.exchange(true, std::memory_order_acq_rel)) {
    std::rethrow_exception(e->error);
  }
}

void PendingErrors::RaiseFirstAndClear() {
  std::vector<ErrorRef> errors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    errors.swap(errors_);
  }
  for (const auto& e : errors)
    RaiseOnce(e);
}

}  // namespace mixnet::engine
