#include "mixnet/base/env.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "mixnet/base/error.h"

namespace mixnet {
namespace {
const char* Lookup(const char* name, std::string* used) {
  if (const char* v = std::getenv(name)) {
    *used = name;
    return v;
  }
  constexpr const char kPrefix[] = "MIXNET_";
  if (std::strncmp(name, kPrefix, sizeof(kPrefix) - 1) == 0) {
    std::string twin = std::string("MXNET_") + (name + sizeof(kPrefix) - 1);
    if (const char* v = std::getenv(twin.c_str())) {
      *used = twin;
      return v;
    }
  }
  return nullptr;
}
}  // namespace

std::string GetEnvString(const char* name, const std::string& fallback) {
  std::string used;
  const char* v = Lookup(name, &used);
  return v ? std::string(v) : fallback;
}

int64_t GetEnvInt(const char* name, int64_t fallback) {
  std::string used;
  const char* v = Lookup(name, &used);
  if (!v || !*v) return fallback;
  int64_t out = 0;
  const char* end = v + std::strlen(v);
  auto [ptr, ec] = std::from_chars(v, end, out);
  MX_CHECK(ec == std::errc() && ptr == end, ValueError)
      << "environment variable " << used << "='" << v << "' is not an integer";
  return out;
}

double GetEnvDouble(const char* name, double fallback) {
  std::string used;
  const char* v = Lookup(name, &used);
  if (!v || !*v) return fallback;
  double out = 0;
  const char* end = v + std::strlen(v);
  auto [ptr, ec] = std::from_chars(v, end, out);
  MX_CHECK(ec == std::errc() && ptr == end && std::isfinite(out), ValueError)
      << "environment variable " << used << "='" << v << "' is not a number";
  return out;
}

}  // namespace mixnet
