// mx.io.NDArrayIter: batches cut along axis 0 of whole arrays, with MXNet 1.9's cursor rules
// for the last batch (pad / discard / roll_over) and a reshuffle at every Reset.
#include <algorithm>
#include <random>
#include <set>

#include "mixnet/io/data_iter.h"
#include "mixnet/io/iterators.h"

namespace mixnet::io {
namespace {

// NOTE [ NDArrayIter batches as sample indices ]
// Every batch is a list of sample indices into the arrays as given: consecutive entries of
// the epoch's order, then (pad) entries from the start of the order, or (roll_over) the
// previous epoch's leftover samples first. One gather serves all cases, shuffled or not; a
// run of consecutive indices is a view of the source (MXNet slices too). MXNet instead
// permuted whole copies of the arrays at each shuffle and concatenated slices.

void CheckArrays(const NDArrayIter::Named& arrays, const char* what, int64_t* num,
                 std::string* first, std::set<std::string>* names) {
  for (const auto& [name, a] : arrays) {
    MX_CHECK(!name.empty(), ValueError) << "NDArrayIter: a " << what << " array has no name";
    MX_CHECK(names->insert(name).second, ValueError)
        << "NDArrayIter: the name '" << name << "' is given twice (data and label names must be "
        << "distinct)";
    MX_CHECK(!a.is_none() && a.shape().ndim() >= 1, ValueError)
        << "NDArrayIter: " << what << " '" << name << "' must be an array with a batch axis, got "
        << (a.is_none() ? std::string("none") : a.Describe());
    if (*num < 0) {
      *num = a.shape()[0];
      *first = name;
    }
    MX_CHECK(a.shape()[0] == *num, ValueError)
        << "NDArrayIter: " << what << " '" << name << "' has shape " << a.shape() << " but '"
        << *first << "' has " << *num << " samples; the first dimensions must agree";
  }
}

std::vector<DataDesc> Describe(const NDArrayIter::Named& arrays, int batch_size) {
  std::vector<DataDesc> out;
  for (const auto& [name, a] : arrays) {
    std::vector<int64_t> dims = {batch_size};
    for (int i = 1; i < a.shape().ndim(); ++i)
      dims.push_back(a.shape()[i]);
    out.push_back({name, Shape(dims), a.dtype()});
  }
  return out;
}

}  // namespace

NDArrayIter::NDArrayIter(Named data, Named label, int batch_size, bool shuffle,
                         LastBatch last_batch, uint64_t seed)
    : data_(std::move(data)),
      label_(std::move(label)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      last_batch_(last_batch),
      seed_(seed) {
  MX_CHECK(!data_.empty(), ValueError) << "NDArrayIter: data is empty; give at least one array";
  MX_CHECK(batch_size_ >= 1, ValueError)
      << "NDArrayIter: batch_size must be >= 1, got " << batch_size_;
  MX_CHECK(last_batch_ == LastBatch::kPad || last_batch_ == LastBatch::kDiscard ||
               last_batch_ == LastBatch::kRollOver,
           ValueError)
      << "NDArrayIter: last_batch_handle must be pad, discard or roll_over, got "
      << static_cast<int>(last_batch_);
  int64_t num = -1;
  std::string first;
  std::set<std::string> names;
  CheckArrays(data_, "data", &num, &first, &names);
  CheckArrays(label_, "label", &num, &first, &names);
  num_data_ = num;
  MX_CHECK(num_data_ >= 1, ValueError)
      << "NDArrayIter: data '" << first << "' has no samples (shape " << data_[0].second.shape()
      << ")";
  MX_CHECK(last_batch_ != LastBatch::kRollOver || batch_size_ <= num_data_, ValueError)
      << "NDArrayIter: last_batch_handle roll_over needs batch_size (" << batch_size_
      << ") <= the number of samples (" << num_data_ << ")";
  order_.resize(static_cast<size_t>(num_data_));
  for (int64_t i = 0; i < num_data_; ++i)
    order_[static_cast<size_t>(i)] = i;
  cursor_ = -batch_size_;
  Reset();  // shuffles the first epoch, as MXNet's constructor does
}

void NDArrayIter::Shuffle() {
  // Fisher-Yates on a generator seeded per shuffle (std::shuffle's algorithm is not fixed by
  // the standard, so the same seed would give other orders with another library).
  std::mt19937_64 rng(seed_ + 0x9E3779B97F4A7C15ull * ++epoch_);
  for (size_t i = order_.size(); i > 1; --i)
    std::swap(order_[i - 1], order_[rng() % i]);
}

void NDArrayIter::Reset() {
  if (shuffle_) Shuffle();
  const int64_t bs = batch_size_;
  // MXNet: after an incomplete last batch, roll_over starts the next epoch that many samples
  // early (a negative cursor); the cached samples fill the front of the first batch.
  if (last_batch_ == LastBatch::kRollOver && num_data_ - bs < cursor_ && cursor_ < num_data_) {
    cursor_ = cursor_ - num_data_ - bs;
  } else {
    cursor_ = -bs;
    cache_.clear();
  }
}

bool NDArrayIter::Next() {
  const int64_t bs = batch_size_;
  cursor_ += bs;
  if (cursor_ >= num_data_) return false;
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(bs));
  int pad = 0;
  auto take = [&](int64_t begin, int64_t end) {
    rows.insert(rows.end(), order_.begin() + begin, order_.begin() + end);
  };
  if (cursor_ < 0) {  // roll_over's first batch: last epoch's leftovers, then this epoch's
    rows = std::move(cache_);
    cache_.clear();
    take(0, cursor_ + bs);
  } else if (cursor_ + bs > num_data_) {
    if (last_batch_ != LastBatch::kPad) {  // discard, or keep for the next epoch (roll_over)
      cache_.assign(order_.begin() + cursor_, order_.end());
      if (last_batch_ == LastBatch::kDiscard) cache_.clear();
      return false;
    }
    take(cursor_, num_data_);
    pad = static_cast<int>(cursor_ + bs - num_data_);
    // Filler from the start of the epoch's order, repeated if the batch is bigger than the data.
    while (static_cast<int64_t>(rows.size()) < bs)
      take(0, std::min(num_data_, bs - static_cast<int64_t>(rows.size())));
  } else {
    take(cursor_, cursor_ + bs);
  }
  batch_.data.clear();
  batch_.label.clear();
  for (const auto& [name, a] : data_)
    batch_.data.push_back(Gather(a, rows));
  for (const auto& [name, a] : label_)
    batch_.label.push_back(Gather(a, rows));
  batch_.pad = pad;
  batch_.index = std::move(rows);
  return true;
}

NDArray NDArrayIter::Gather(const NDArray& all, const std::vector<int64_t>& rows) {
  return GatherRows(all, rows);
}

std::vector<DataDesc> NDArrayIter::provide_data() const {
  return Describe(data_, batch_size_);
}
std::vector<DataDesc> NDArrayIter::provide_label() const {
  return Describe(label_, batch_size_);
}

}  // namespace mixnet::io
