// Fashion-MNIST (and MNIST) idx files for the examples and benchmarks: a tiny reader of the
// gzipped idx format and a shuffling batch iterator that yields NDArrays.
//
//   auto train = fashion_mnist::Load("/usr/share/datasets/fashion-mnist", "train");
//   fashion_mnist::BatchIter it(train, 128, /*shuffle=*/true, /*seed=*/42);
//   for (it.Reset(); it.Next();) { use(it.data(), it.label()); }   // (128,1,28,28), (128,)
//
// The idx format (http://yann.lecun.com/exdb/mnist/): a big-endian header, magic 0x00000803
// (unsigned bytes, 3 dimensions) for images and 0x00000801 for labels, one uint32 per
// dimension, then the bytes. Files are read through zlib, which also reads uncompressed files
// as they are. A bad file is a mixnet::ValueError naming the file and the byte offset.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/ndarray/ndarray.h"

namespace fashion_mnist {

/*! \brief Images as float pixel/255 (NCHW, C = 1) and labels as float class indices. */
struct Dataset {
  int64_t num = 0, rows = 0, cols = 0;
  std::vector<float> images;  // num * rows * cols
  std::vector<float> labels;  // num
};

/*! \brief The whole (decompressed) content of a gzip or plain file. */
inline std::vector<uint8_t> ReadGzipFile(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  MX_CHECK(f != nullptr, ValueError) << path << ": cannot open (" << std::strerror(errno) << ")";
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      MX_THROW(ValueError) << path << ": corrupt gzip stream after " << bytes.size()
                           << " decompressed bytes (" << msg << ")";
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  // gzread reports a truncated stream as a clean end of file; gzerror still tells.
  int code = 0;
  const std::string msg = gzerror(f, &code);
  gzclose(f);
  MX_CHECK(code == Z_OK || code == Z_STREAM_END, ValueError)
      << path << ": corrupt or truncated gzip stream after " << bytes.size()
      << " decompressed bytes (" << msg << ")";
  return bytes;
}

namespace detail {
inline uint32_t BigEndian32(const std::vector<uint8_t>& b, size_t offset, const std::string& path) {
  MX_CHECK(offset + 4 <= b.size(), ValueError)
      << path << ": file ends at byte " << b.size() << " inside the idx header (reading byte "
      << offset << ")";
  return (uint32_t{b[offset]} << 24) | (uint32_t{b[offset + 1]} << 16) |
         (uint32_t{b[offset + 2]} << 8) | uint32_t{b[offset + 3]};
}

/*! \brief Checks an idx file's magic and size; returns its dimensions (data at 4 + 4 * ndim). */
inline std::vector<int64_t> ParseIdxHeader(const std::vector<uint8_t>& b, int ndim,
                                           const std::string& path) {
  const uint32_t magic = BigEndian32(b, 0, path);
  const uint32_t want = 0x00000800u | static_cast<uint32_t>(ndim);
  MX_CHECK(magic == want, ValueError)
      << path << ": bad idx magic number at byte 0: 0x" << std::hex << magic << ", expected 0x"
      << want << " (unsigned bytes, " << std::dec << ndim << " dimensions)";
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int i = 0; i < ndim; ++i) {
    dims.push_back(BigEndian32(b, 4 + 4 * static_cast<size_t>(i), path));
    count *= dims.back();
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  MX_CHECK(b.size() == header + static_cast<size_t>(count), ValueError)
      << path << ": the header promises " << count << " data bytes from byte " << header
      << ", but the file has " << b.size() - header
      << (b.size() < header + static_cast<size_t>(count) ? " (truncated)" : " (trailing bytes)");
  return dims;
}
}  // namespace detail

/*!
 * \brief Loads `{dir}/{split}-images-idx3-ubyte.gz` and `{dir}/{split}-labels-idx1-ubyte.gz`
 * (split "train" or "t10k"), checking magic numbers, sizes, counts and label range.
 */
inline Dataset Load(const std::string& dir, const std::string& split) {
  const std::string ipath = dir + "/" + split + "-images-idx3-ubyte.gz";
  const std::string lpath = dir + "/" + split + "-labels-idx1-ubyte.gz";
  const std::vector<uint8_t> ib = ReadGzipFile(ipath), lb = ReadGzipFile(lpath);
  const auto idims = detail::ParseIdxHeader(ib, 3, ipath);
  const auto ldims = detail::ParseIdxHeader(lb, 1, lpath);
  MX_CHECK(idims[0] == ldims[0], ValueError) << ipath << " has " << idims[0] << " images but "
                                             << lpath << " has " << ldims[0] << " labels";
  Dataset d;
  d.num = idims[0];
  d.rows = idims[1];
  d.cols = idims[2];
  d.images.resize(ib.size() - 16);
  std::transform(ib.begin() + 16, ib.end(), d.images.begin(),
                 [](uint8_t p) { return static_cast<float>(p) / 255.0f; });
  d.labels.resize(static_cast<size_t>(d.num));
  for (int64_t i = 0; i < d.num; ++i) {
    const uint8_t l = lb[8 + static_cast<size_t>(i)];
    MX_CHECK(l < 10, ValueError) << lpath << ": label " << int{l} << " at byte " << 8 + i
                                 << " is not a class in [0, 10)";
    d.labels[static_cast<size_t>(i)] = l;
  }
  return d;
}

/*!
 * \brief Batches of a Dataset as (batch, 1, rows, cols) float images and (batch,) float labels.
 * Reset() starts an epoch (reshuffling with the iterator's own generator when `shuffle`); the
 * last partial batch is yielded unless `drop_last` (training drops it so that every step has
 * the same batch size; the next epoch's shuffle covers those samples).
 */
class BatchIter {
 public:
  /*! \brief `flip`: mirror each image left-right with probability 0.5 (augmentation). */
  BatchIter(const Dataset& d, int64_t batch, bool shuffle, uint64_t seed, bool drop_last,
            bool flip = false)
      : d_(d), batch_(batch), shuffle_(shuffle), drop_last_(drop_last), flip_(flip), rng_(seed) {
    order_.resize(static_cast<size_t>(d.num));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
  void Reset() {
    if (shuffle_) std::shuffle(order_.begin(), order_.end(), rng_);
    pos_ = 0;
  }
  /*! \brief Fills data() and label() with the next batch; false at the end of the epoch. */
  bool Next() {
    const int64_t n = std::min(batch_, d_.num - pos_);
    if (n <= 0 || (drop_last_ && n < batch_)) return false;
    const int64_t pixels = d_.rows * d_.cols;
    img_.resize(static_cast<size_t>(n * pixels));
    lab_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t s = order_[static_cast<size_t>(pos_ + i)];
      const float* src = d_.images.data() + s * pixels;
      float* dst = img_.data() + i * pixels;
      if (flip_ && (rng_() & 1)) {
        for (int64_t r = 0; r < d_.rows; ++r)
          std::reverse_copy(src + r * d_.cols, src + (r + 1) * d_.cols, dst + r * d_.cols);
      } else {
        std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(pixels));
      }
      lab_[static_cast<size_t>(i)] = d_.labels[static_cast<size_t>(s)];
    }
    pos_ += n;
    data_ =
        mixnet::NDArray::FromHost(img_.data(), {n, 1, d_.rows, d_.cols}, mixnet::DType::kFloat32);
    label_ = mixnet::NDArray::FromHost(lab_.data(), {n}, mixnet::DType::kFloat32);
    return true;
  }
  const mixnet::NDArray& data() const { return data_; }
  const mixnet::NDArray& label() const { return label_; }
  int64_t batches_per_epoch() const {
    return drop_last_ ? d_.num / batch_ : (d_.num + batch_ - 1) / batch_;
  }

 private:
  const Dataset& d_;
  int64_t batch_;
  bool shuffle_, drop_last_, flip_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
  int64_t pos_ = 0;
  std::vector<float> img_, lab_;
  mixnet::NDArray data_, label_;
};

}  // namespace fashion_mnist
