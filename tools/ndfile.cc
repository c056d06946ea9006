// mixnet_ndfile: inspects and rewrites MXNet NDArray list files (.params, .nd).
//   mixnet_ndfile dump FILE         JSON: names, and per array dtype, shape, none, data as hex
//   mixnet_ndfile resave IN OUT     loads IN and writes OUT with mixnet's writer
// Used by the MXNet interoperability tests; errors go to stderr with exit code 1.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "mixnet/ndarray/serialize.h"

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (c >= 0xF5 || len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  // Reject overlong forms, surrogates and code points above U+10FFFF.
  const unsigned char c1 = byte(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 >= 0x90)) {
    return 0;
  }
  return len;
}

// A JSON string literal. Names are bytes; a byte that is not part of valid UTF-8 is written as
// the code point of the same value so that the output is always valid JSON.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const size_t len = Utf8SequenceLength(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      ++i;
    }
  }
  return out + "\"";
}

std::string Hex(const void* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

void Dump(const std::string& path) {
  const mixnet::NDArrayList list = mixnet::LoadNDArrays(path);
  std::string out = "{\"names\": [";
  for (size_t i = 0; i < list.names.size(); ++i) {
    out += (i ? ", " : "") + JsonString(list.names[i]);
  }
  out += "], \"arrays\": [";
  for (size_t i = 0; i < list.arrays.size(); ++i) {
    const mixnet::NDArray& a = list.arrays[i];
    out += i ? ", " : "";
    if (a.is_none()) {
      out += R"({"dtype": null, "shape": null, "none": true, "hex": ""})";
      continue;
    }
    out += "{\"dtype\": \"" + std::string(mixnet::DTypeName(a.dtype())) + "\", \"shape\": [";
    for (int d = 0; d < a.shape().ndim(); ++d) {
      out += (d ? ", " : "") + std::to_string(a.shape()[d]);
    }
    a.WaitToRead();
    out += "], \"none\": false, \"hex\": \"" + Hex(a.RawData(), a.nbytes()) + "\"}";
  }
  std::cout << out << "]}\n";
}

int Usage() {
  std::cerr << "usage: mixnet_ndfile dump FILE\n"
               "       mixnet_ndfile resave IN OUT\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "dump" && argc == 3) {
      Dump(argv[2]);
    } else if (cmd == "resave" && argc == 4) {
      const mixnet::NDArrayList list = mixnet::LoadNDArrays(argv[2]);
      mixnet::SaveNDArrays(argv[3], list.arrays, list.names);
    } else {
      return Usage();
    }
  } catch (const std::exception& e) {
    std::cerr << "mixnet_ndfile: " << e.what() << "\n";
    return 1;
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}
