/*!
 * \file attr_value.h
 * \brief Typed values to MXNet attribute strings, for the generated op functions (ops.h).
 */
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mixnet/op/attrs.h"

namespace mixnet::op {

inline std::string AttrValue(bool v) {
  return v ? "True" : "False";
}
inline std::string AttrValue(int64_t v) {
  return std::to_string(v);
}
inline std::string AttrValue(double v) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact text
  return std::string(buf, ptr);
}
inline std::string AttrValue(const std::string& v) {
  return v;
}
inline std::string AttrValue(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

/*! \brief Appends `name` to `attrs` if the caller set it; unset fields keep the op's default. */
template <typename T>
void SetAttr(AttrDict* attrs, const char* name, const std::optional<T>& v) {
  if (v) attrs->emplace_back(name, AttrValue(*v));
}

}  // namespace mixnet::op
