// Row gathers for array-backed datasets (DataLoader's native batches).
#include <cstring>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/io/dataset.h"

namespace mixnet::io {

NDArray GatherRows(const NDArray& src, std::span<const int64_t> index) {
  MX_CHECK(!src.is_none() && src.shape().ndim() >= 1, ValueError)
      << "GatherRows: needs an array of at least one dimension, got " << src.Describe();
  MX_CHECK(src.ctx().is_host(), ValueError)
      << "GatherRows: needs a host array, got " << src.Describe();
  const int64_t rows = src.shape()[0];
  std::vector<int64_t> dims(src.shape().begin(), src.shape().end());
  dims[0] = static_cast<int64_t>(index.size());
  NDArray out = NDArray::Empty(Shape(std::span<const int64_t>(dims)), src.dtype());
  const size_t row_bytes = rows > 0 ? src.nbytes() / static_cast<size_t>(rows) : 0;
  src.WaitToRead();
  out.WaitToWrite();
  const auto* from = static_cast<const char*>(src.RawData());
  auto* to = static_cast<char*>(out.RawData());
  for (size_t i = 0; i < index.size(); ++i) {
    MX_CHECK(index[i] >= 0 && index[i] < rows, IndexError)
        << "GatherRows: index " << index[i] << " out of range for " << rows << " rows";
    std::memcpy(to + i * row_bytes, from + index[i] * row_bytes, row_bytes);
  }
  return out;
}

NDArray StackRows(const std::vector<NDArray>& items) {
  MX_CHECK(!items.empty(), ValueError) << "StackRows: no items to stack";
  const NDArray& first = items[0];
  for (size_t i = 0; i < items.size(); ++i) {
    MX_CHECK(items[i].shape() == first.shape() && items[i].dtype() == first.dtype(), ValueError)
        << "batchify: item " << i << " is " << items[i].Describe() << ", item 0 "
        << first.Describe() << " (items of a batch must have one shape and dtype)";
    MX_CHECK(items[i].ctx().is_host(), ValueError)
        << "batchify: needs host arrays, got " << items[i].Describe();
  }
  std::vector<int64_t> dims{static_cast<int64_t>(items.size())};
  dims.insert(dims.end(), first.shape().begin(), first.shape().end());
  NDArray out = NDArray::Empty(Shape(std::span<const int64_t>(dims)), first.dtype());
  out.WaitToWrite();
  auto* to = static_cast<char*>(out.RawData());
  const size_t bytes = first.nbytes();
  for (const NDArray& item : items) {
    item.WaitToRead();
    std::memcpy(to, item.RawData(), bytes);
    to += bytes;
  }
  return out;
}

}  // namespace mixnet::io
