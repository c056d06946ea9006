/*!
 * \file byte_reader.h
 * \brief Bounds-checked little-endian reader over a memory buffer or a stdio file.
 *
 * The total size is known up front, so every read is checked against the bytes that remain
 * before it happens: a corrupt length field yields a ValueError naming the source and the byte
 * offset, never a read past the end or an allocation of a size the input merely claims.
 */
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "mixnet/base/error.h"

namespace mixnet {

class ByteReader {
 public:
  ByteReader(std::string_view bytes, std::string source)
      : bytes_(bytes), size_(bytes.size()), source_(std::move(source)) {}
  /*! \brief Reads `size` bytes from `file`'s current position; the caller owns `file`. */
  ByteReader(FILE* file, size_t size, std::string source)
      : file_(file), size_(size), source_(std::move(source)) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& source() const { return source_; }

  /*! \brief Names what the following reads belong to ("array 3"), for error messages. */
  void SetItem(std::string item) { item_ = std::move(item); }

  /*! \brief Reads `n` bytes into `dst`; `what` says what they are ("the shape"). */
  void Read(void* dst, size_t n, std::string_view what) {
    if (n > remaining()) {
      Fail("truncated at byte " + std::to_string(pos_) + " while reading " + std::string(what) +
           (item_.empty() ? "" : " of " + item_) + " (need " + std::to_string(n) + " bytes, " +
           std::to_string(remaining()) + " remain)");
    }
    if (n == 0) return;
    if (file_ == nullptr) {
      std::memcpy(dst, bytes_.data() + pos_, n);
    } else if (std::fread(dst, 1, n, file_) != n) {
      // The size came from fstat; a short read means an I/O error or a file that shrank.
      MX_CHECK(!std::ferror(file_), Error)
          << source_ << ": read error at byte " << pos_ << ": " << std::strerror(errno);
      Fail("file shrank while reading " + std::string(what) + " at byte " + std::to_string(pos_));
    }
    pos_ += n;
  }

  template <typename T>
  T Read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    Read(&v, sizeof(T), what);
    return v;
  }

  /*! \brief Raises ValueError "<source>: <msg>"; `msg` should name the byte offset. */
  [[noreturn]] void Fail(const std::string& msg) const {
    MX_THROW(ValueError) << source_ << ": " << msg;
  }

 private:
  std::string_view bytes_;
  FILE* file_ = nullptr;
  size_t size_;
  size_t pos_ = 0;
  std::string source_;
  std::string item_;
};

}  // namespace mixnet
