// mx.io.MNISTIter: idx files (gzipped or not, through zlib) loaded whole, then batches as views.
#include <zlib.h>

#include <algorithm>
#include <iostream>
#include <numeric>
#include <random>

#include "mixnet/io/iterators.h"

namespace mixnet::io {
namespace {

/*! \brief The bytes of a file, gunzipped when it is gzip (gzread passes other files through). */
std::vector<uint8_t> ReadAll(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  MX_CHECK(f != nullptr, ValueError) << "MNISTIter: cannot open '" << path << "'";
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  int n;
  while ((n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  int err = 0;
  const std::string msg = n < 0 ? gzerror(f, &err) : "";
  gzclose(f);
  MX_CHECK(n == 0, ValueError) << "MNISTIter: cannot read '" << path << "': " << msg;
  return out;
}

int64_t BigEndian(const std::vector<uint8_t>& b, size_t at) {
  return (int64_t{b[at]} << 24) | (int64_t{b[at + 1]} << 16) | (int64_t{b[at + 2]} << 8) |
         int64_t{b[at + 3]};
}

/*! \brief The idx header's dimensions, checked against the magic number and the file size. */
std::vector<int64_t> IdxDims(const std::vector<uint8_t>& b, int ndim, const std::string& path) {
  const size_t header = 4 * (1 + static_cast<size_t>(ndim));
  MX_CHECK(b.size() >= header && BigEndian(b, 0) == 0x800 + ndim, ValueError)
      << "MNISTIter: '" << path << "' is not an idx file of " << ndim
      << " dimensions of unsigned bytes (magic " << 0x800 + ndim << ")";
  std::vector<int64_t> dims;
  int64_t size = 1;
  for (int i = 0; i < ndim; ++i) {
    dims.push_back(BigEndian(b, 4 * (1 + static_cast<size_t>(i))));
    size *= dims.back();
  }
  MX_CHECK(static_cast<int64_t>(b.size() - header) >= size, ValueError)
      << "MNISTIter: '" << path << "' is truncated: " << b.size() - header << " bytes of data for "
      << size << " values";
  return dims;
}

// NOTE [ MNISTIter's shuffle ]
// MXNet shuffles once with std::shuffle over std::mt19937(seed) (common::RANDOM_ENGINE,
// kRandMagic 0). Its wheels were built with a libstdc++ whose std::shuffle swaps element i with
// one drawn from [0, i] by uniform_int_distribution's downscaling (rejecting draws past the
// last whole multiple of the range); newer libstdc++ draws two positions per call and gives
// other orders. Spelled out here, the order is MXNet 1.9.1's with any standard library.
void MXNetShuffle(std::vector<int64_t>* v, int seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  const uint64_t rng_range = std::mt19937::max() - std::mt19937::min();
  for (size_t i = 1; i < v->size(); ++i) {
    const uint64_t range = i + 1, scaling = rng_range / range, past = range * scaling;
    uint64_t draw;
    do {
      draw = rng() - std::mt19937::min();
    } while (draw >= past);
    std::swap((*v)[i], (*v)[draw / scaling]);
  }
}

}  // namespace

MNISTIter::MNISTIter(const MNISTParam& param) : param_(param) {
  MX_CHECK(param_.batch_size >= 1, ValueError)
      << "MNISTIter: batch_size must be >= 1, got " << param_.batch_size;
  MX_CHECK(param_.num_parts >= 1 && param_.part_index >= 0 && param_.part_index < param_.num_parts,
           ValueError)
      << "MNISTIter: part_index must be in [0, num_parts), got part_index " << param_.part_index
      << " and num_parts " << param_.num_parts;
  const std::vector<uint8_t> img = ReadAll(param_.image), lab = ReadAll(param_.label);
  const std::vector<int64_t> idims = IdxDims(img, 3, param_.image);
  const std::vector<int64_t> ldims = IdxDims(lab, 1, param_.label);
  MX_CHECK(idims[0] == ldims[0], ValueError)
      << "MNISTIter: '" << param_.image << "' has " << idims[0] << " images but '" << param_.label
      << "' has " << ldims[0] << " labels";
  // MXNet's GetPart: the part's bounds in double precision.
  const double per_part = static_cast<double>(idims[0]) / param_.num_parts;
  const auto begin = static_cast<int64_t>(per_part * param_.part_index);
  const auto end = static_cast<int64_t>(per_part * (param_.part_index + 1));
  const int64_t count = end - begin, pixels = idims[1] * idims[2];

  Shape sample = param_.flat ? Shape{pixels} : Shape{1, idims[1], idims[2]};
  if (param_.input_shape.ndim() > 0) {
    MX_CHECK(param_.input_shape.Size() == pixels, ValueError)
        << "MNISTIter: input_shape " << param_.input_shape << " does not hold the " << idims[1]
        << "x" << idims[2] << " images of '" << param_.image << "'";
    sample = param_.input_shape;
  }
  inst_.resize(static_cast<size_t>(count));
  std::iota(inst_.begin(), inst_.end(), 0);
  if (param_.shuffle) MXNetShuffle(&inst_, param_.seed);

  std::vector<float> pix(static_cast<size_t>(count * pixels)), labels(inst_.size());
  const uint8_t* src = img.data() + 16 + begin * pixels;
  for (size_t i = 0; i < inst_.size(); ++i) {
    const uint8_t* row = src + inst_[i] * pixels;
    float* dst = pix.data() + i * static_cast<size_t>(pixels);
    for (int64_t j = 0; j < pixels; ++j)
      dst[j] = static_cast<float>(row[j]) * (1.0f / 256.0f);  // MXNet's scaling, not 1/255
    labels[i] = lab[8 + static_cast<size_t>(begin + inst_[i])];
  }
  std::vector<int64_t> dims = {count};
  for (int i = 0; i < sample.ndim(); ++i)
    dims.push_back(sample[i]);
  images_ = NDArray::FromVector(pix, Shape(dims));
  labels_ = NDArray::FromVector(labels, Shape{count});
  if (!param_.silent) {
    std::cerr << "MNISTIter: load " << count << " images, shuffle=" << param_.shuffle
              << ", shape=" << provide_data()[0].shape << "\n";
  }
}

bool MNISTIter::Next() {
  const int64_t bs = param_.batch_size;
  if (loc_ + bs > num_samples()) return false;
  batch_.data = {images_.Slice(loc_, loc_ + bs)};
  batch_.label = {labels_.Slice(loc_, loc_ + bs)};
  batch_.pad = 0;
  batch_.index.assign(inst_.begin() + loc_, inst_.begin() + loc_ + bs);
  loc_ += bs;
  return true;
}

std::vector<DataDesc> MNISTIter::provide_data() const {
  std::vector<int64_t> dims = {param_.batch_size};
  for (int i = 1; i < images_.shape().ndim(); ++i)
    dims.push_back(images_.shape()[i]);
  return {{"data", Shape(dims)}};
}

std::vector<DataDesc> MNISTIter::provide_label() const {
  return {{"softmax_label", Shape{param_.batch_size}}};
}

}  // namespace mixnet::io
