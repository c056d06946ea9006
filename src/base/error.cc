#include "mixnet/base/error.h"

namespace mixnet {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kError:
      return "MXNetError";
    case ErrorKind::kValueError:
      return "ValueError";
    case ErrorKind::kTypeError:
      return "TypeError";
    case ErrorKind::kIndexError:
      return "IndexError";
    case ErrorKind::kNotImplementedError:
      return "NotImplementedError";
    case ErrorKind::kInternalError:
      return "InternalError";
  }
  return "MXNetError";
}

void ThrowError(ErrorKind kind, const std::string& msg) {
  switch (kind) {
    case ErrorKind::kValueError:
      throw ValueError(msg);
    case ErrorKind::kTypeError:
      throw TypeError(msg);
    case ErrorKind::kIndexError:
      throw IndexError(msg);
    case ErrorKind::kNotImplementedError:
      throw NotImplementedError(msg);
    case ErrorKind::kInternalError:
      throw InternalError(msg);
    case ErrorKind::kError:
      break;
  }
  throw Error(msg);
}

namespace detail {
void InternalThrower::operator=(const ErrorMessage& m) const {
  std::ostringstream os;
  os << "mixnet internal error: invariant '" << cond << "' failed at " << file << ":" << line;
  const std::string extra = m.str();
  if (!extra.empty()) os << ": " << extra;
  os << ". This is a bug in mixnet; please report it.";
  throw InternalError(os.str());
}
}  // namespace detail
}  // namespace mixnet
