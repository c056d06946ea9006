// gluon.data.vision's file readers: CIFAR-10/100 binary batches decoded in one pass.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/io/dataset.h"

namespace mixnet::io {

namespace {

constexpr int64_t kCifarSide = 32, kCifarPlane = kCifarSide * kCifarSide,
                  kCifarImage = 3 * kCifarPlane;

std::vector<uint8_t> ReadWholeFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  MX_CHECK(f != nullptr, ValueError) << "CIFAR: cannot open '" << path << "'";
  std::fseek(f.get(), 0, SEEK_END);
  const long size = std::ftell(f.get());
  std::fseek(f.get(), 0, SEEK_SET);
  std::vector<uint8_t> bytes(size > 0 ? static_cast<size_t>(size) : 0);
  MX_CHECK(std::fread(bytes.data(), 1, bytes.size(), f.get()) == bytes.size(), ValueError)
      << "CIFAR: short read from '" << path << "'";
  return bytes;
}

}  // namespace

std::pair<NDArray, NDArray> ReadCifarBinary(const std::vector<std::string>& files, int label_bytes,
                                            int label_index) {
  MX_CHECK(label_bytes >= 1 && label_index >= 0 && label_index < label_bytes, ValueError)
      << "ReadCifarBinary: label_index " << label_index
      << " must be in [0, label_bytes=" << label_bytes << ")";
  const int64_t record = label_bytes + kCifarImage;
  std::vector<std::vector<uint8_t>> contents;
  int64_t n = 0;
  for (const std::string& path : files) {
    contents.push_back(ReadWholeFile(path));
    const int64_t size = static_cast<int64_t>(contents.back().size());
    MX_CHECK(size % record == 0, ValueError)
        << "CIFAR: '" << path << "' holds " << size << " bytes, not a multiple of the " << record
        << "-byte record (" << label_bytes << " label byte(s) + 3x32x32 pixels)";
    n += size / record;
  }
  NDArray images = NDArray::Empty(Shape({n, kCifarSide, kCifarSide, 3}), DType::kUint8);
  NDArray labels = NDArray::Empty(Shape({n}), DType::kInt32);
  images.WaitToWrite();
  labels.WaitToWrite();
  auto* img = static_cast<uint8_t*>(images.RawData());
  auto* lab = static_cast<int32_t*>(labels.RawData());
  for (const std::vector<uint8_t>& bytes : contents) {
    for (size_t off = 0; off < bytes.size(); off += record, img += kCifarImage) {
      const uint8_t* rec = bytes.data() + off;
      *lab++ = rec[label_index];
      const uint8_t* planes = rec + label_bytes;
      // CHW planes to HWC pixels (MXNet's CIFAR10 transposes the same way).
      for (int64_t p = 0; p < kCifarPlane; ++p)
        for (int64_t c = 0; c < 3; ++c)
          img[p * 3 + c] = planes[c * kCifarPlane + p];
    }
  }
  return {images, labels};
}

}  // namespace mixnet::io
