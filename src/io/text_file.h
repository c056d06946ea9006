// Text files read line by line for CSVIter and LibSVMIter (src/io/csv_iter.cc, libsvm_iter.cc).
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/base/shape.h"

namespace mixnet::io {

/*! \brief The whole file; ValueError naming `who` and the file when it cannot be read. */
inline std::string ReadTextFile(const std::string& path, const char* who) {
  std::ifstream f(path, std::ios::binary);
  MX_CHECK(f.good(), ValueError) << who << ": cannot open '" << path << "'";
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

/*!
 * \brief Calls fn(line, number, offset) for each line that is not blank (without its "\r\n"),
 * `number` counted from 1 and `offset` the byte where the line starts.
 */
template <typename Fn>
void ForEachLine(const std::string& text, Fn&& fn) {
  size_t start = 0;
  for (int64_t number = 1; start < text.size(); ++number) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) fn(line, number, start);
    start = end + 1;
  }
}

/*! \brief The number at the front of `s` (leading blanks skipped), or false. */
inline bool ParseNumber(std::string_view s, double* out, size_t* used) {
  const std::string buf(s);  // strtod needs a terminated string
  const char* begin = buf.c_str();
  char* end = nullptr;
  *out = std::strtod(begin, &end);
  *used = static_cast<size_t>(end - begin);
  return end != begin;
}

}  // namespace mixnet::io
