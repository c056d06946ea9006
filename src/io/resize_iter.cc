// mx.io.ResizeIter: a fixed number of batches per epoch from another iterator.
#include "mixnet/io/iterators.h"

namespace mixnet::io {

ResizeIter::ResizeIter(std::shared_ptr<DataIter> inner, int64_t size, bool reset_internal)
    : inner_(std::move(inner)), size_(size), reset_internal_(reset_internal) {
  MX_CHECK(inner_ != nullptr, ValueError) << "ResizeIter: data_iter is None";
  MX_CHECK(size_ >= 0, ValueError) << "ResizeIter: size must be >= 0, got " << size_;
}

void ResizeIter::Reset() {
  cur_ = 0;
  if (reset_internal_) inner_->Reset();
}

bool ResizeIter::Next() {
  if (cur_ == size_) return false;
  if (!inner_->Next()) {  // the inner epoch ended: start another
    inner_->Reset();
    MX_CHECK(inner_->Next(), ValueError)
        << "ResizeIter: the wrapped iterator has no batches even after reset";
  }
  ++cur_;
  return true;
}

}  // namespace mixnet::io
