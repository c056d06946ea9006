/*!
 * \file error.h
 * \brief Typed errors. Each kind maps 1:1 to a Python exception (MXNetError subclasses).
 *
 * User mistakes raise ValueError/TypeError/IndexError/NotImplementedError through
 * MX_CHECK; broken internal invariants raise InternalError through MX_INTERNAL_ASSERT.
 */
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace mixnet {

/*! \brief The error kinds; the C API and Python map them to exception classes. */
enum class ErrorKind : int {
  kError = 0,  ///< generic MXNetError
  kValueError = 1,
  kTypeError = 2,
  kIndexError = 3,
  kNotImplementedError = 4,
  kInternalError = 5,  ///< an invariant of mixnet itself is broken: a bug to report
};

/*! \brief Name of the Python exception class for a kind ("ValueError", ...). */
const char* ErrorKindName(ErrorKind kind);

/*! \brief Base of all mixnet errors. */
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, ErrorKind kind = ErrorKind::kError)
      : std::runtime_error(msg), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

#define MIXNET_DEFINE_ERROR(Name)                                             \
  class Name : public Error {                                                 \
   public:                                                                    \
    explicit Name(const std::string& msg) : Error(msg, ErrorKind::k##Name) {} \
  };
MIXNET_DEFINE_ERROR(ValueError)
MIXNET_DEFINE_ERROR(TypeError)
MIXNET_DEFINE_ERROR(IndexError)
MIXNET_DEFINE_ERROR(NotImplementedError)
MIXNET_DEFINE_ERROR(InternalError)
#undef MIXNET_DEFINE_ERROR

/*! \brief Builds an error of the same kind as `kind` with message `msg`. */
[[noreturn]] void ThrowError(ErrorKind kind, const std::string& msg);

namespace detail {
/*! \brief Collects a message with operator<<; see MX_CHECK. */
class ErrorMessage {
 public:
  template <typename T>
  ErrorMessage& operator<<(const T& v) {
    os_ << v;
    return *this;
  }
  std::string str() const { return os_.str(); }

 private:
  std::ostringstream os_;
};

/*! \brief `thrower = message` throws; `=` binds after `<<`, so the message is complete. */
template <typename E>
struct ErrorThrower {
  [[noreturn]] void operator=(const ErrorMessage& m) const { throw E(m.str()); }
};

struct InternalThrower {
  const char* file;
  int line;
  const char* cond;
  [[noreturn]] void operator=(const ErrorMessage& m) const;
};
}  // namespace detail
}  // namespace mixnet

/*!
 * \brief Raise a typed user error unless `cond` holds:
 *   MX_CHECK(ndim >= 0, ValueError) << "reshape: bad ndim " << ndim;
 */
#define MX_CHECK(cond, Kind) \
  if (cond) {                \
  } else                     \
    ::mixnet::detail::ErrorThrower<::mixnet::Kind>{} = ::mixnet::detail::ErrorMessage()

/*! \brief Raise a typed user error unconditionally: MX_THROW(IndexError) << "...". */
#define MX_THROW(Kind) \
  ::mixnet::detail::ErrorThrower<::mixnet::Kind>{} = ::mixnet::detail::ErrorMessage()

/*! \brief Invariant of mixnet itself; failure is a bug and raises InternalError. */
#define MX_INTERNAL_ASSERT(cond) \
  if (cond) {                    \
  } else                         \
    ::mixnet::detail::InternalThrower{__FILE__, __LINE__, #cond} = ::mixnet::detail::ErrorMessage()
