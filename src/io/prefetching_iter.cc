// mx.io.PrefetchingIter: the next batch of every wrapped iterator is read on a thread.
#include "mixnet/io/iterators.h"

namespace mixnet::io {

// NOTE [ PrefetchingIter's thread ]
// One thread reads one batch ahead: Next hands over the batch it read (waiting for it if
// needed) and asks for the following one. Reset and Stop first wait for the thread to be idle,
// so the wrapped iterators are never used by two threads at once. An error raised while
// reading is kept and raised by the Next that would have returned that batch. Iterators
// written in Python take the interpreter's lock themselves; the Python binding releases it
// while Next, Reset and Stop wait.

PrefetchingIter::PrefetchingIter(std::vector<std::shared_ptr<DataIter>> iters, Renames rename_data,
                                 Renames rename_label)
    : iters_(std::move(iters)),
      rename_data_(std::move(rename_data)),
      rename_label_(std::move(rename_label)) {
  MX_CHECK(!iters_.empty(), ValueError) << "PrefetchingIter: iters is empty";
  for (const auto& it : iters_)
    MX_CHECK(it != nullptr, ValueError) << "PrefetchingIter: an iterator is None";
  MX_CHECK(rename_data_.empty() || rename_data_.size() == iters_.size(), ValueError)
      << "PrefetchingIter: rename_data has " << rename_data_.size() << " entries for "
      << iters_.size() << " iterators";
  MX_CHECK(rename_label_.empty() || rename_label_.size() == iters_.size(), ValueError)
      << "PrefetchingIter: rename_label has " << rename_label_.size() << " entries for "
      << iters_.size() << " iterators";
  const std::vector<DataDesc> data = provide_data();  // checks the renames
  provide_label();
  batch_size_ = data.empty() || data[0].shape.ndim() == 0 ? iters_[0]->batch_size()
                                                          : static_cast<int>(data[0].shape[0]);
  requested_ = true;
  thread_ = std::thread([this] { Run(); });
}

void PrefetchingIter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    busy_ = true;
    lock.unlock();
    DataBatch batch;
    bool has = false;
    std::exception_ptr error;
    try {
      size_t ended = 0;
      for (const auto& it : iters_) {
        if (!it->Next()) {
          ++ended;
          continue;
        }
        const DataBatch& b = it->Value();
        if (it == iters_.front()) {
          batch.pad = b.pad;
          batch.index = b.index;
        }
        MX_CHECK(b.pad == batch.pad, ValueError)
            << "PrefetchingIter: Number of entry mismatches between iterators (pads " << batch.pad
            << " and " << b.pad << ")";
        batch.data.insert(batch.data.end(), b.data.begin(), b.data.end());
        batch.label.insert(batch.label.end(), b.label.begin(), b.label.end());
      }
      MX_CHECK(ended == 0 || ended == iters_.size(), ValueError)
          << "PrefetchingIter: Number of entry mismatches between iterators (" << ended << " of "
          << iters_.size() << " ended)";
      has = ended == 0;
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    next_ = std::move(batch);
    has_next_ = has;
    error_ = error;
    busy_ = false;
    cv_.notify_all();
  }
}

void PrefetchingIter::WaitReady() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return (!requested_ && !busy_) || stop_; });
  MX_CHECK(!stop_, ValueError) << "PrefetchingIter: used after it was closed";
}

void PrefetchingIter::Request() {
  std::lock_guard<std::mutex> lock(mu_);
  requested_ = true;
  cv_.notify_all();
}

bool PrefetchingIter::Next() {
  WaitReady();
  if (error_) {
    std::exception_ptr e = std::exchange(error_, nullptr);
    Request();  // a later Next tries again, as MXNet's would
    std::rethrow_exception(e);
  }
  if (!has_next_) return false;  // the epoch is over until Reset
  current_ = std::move(next_);
  has_next_ = false;
  Request();
  return true;
}

void PrefetchingIter::Reset() {
  WaitReady();
  error_ = nullptr;
  for (const auto& it : iters_)
    it->Reset();
  Request();
}

void PrefetchingIter::Stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !busy_; });
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

namespace {
std::vector<DataDesc> Renamed(const std::vector<std::shared_ptr<DataIter>>& iters,
                              const PrefetchingIter::Renames& renames, bool label) {
  std::vector<DataDesc> out;
  for (size_t i = 0; i < iters.size(); ++i) {
    for (DataDesc d : label ? iters[i]->provide_label() : iters[i]->provide_data()) {
      if (!renames.empty()) {
        auto r = renames[i].find(d.name);
        MX_CHECK(r != renames[i].end(), ValueError)
            << "PrefetchingIter: " << (label ? "rename_label" : "rename_data") << "[" << i
            << "] has no entry for '" << d.name << "'";
        d.name = r->second;
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}
}  // namespace

std::vector<DataDesc> PrefetchingIter::provide_data() const {
  return Renamed(iters_, rename_data_, false);
}
std::vector<DataDesc> PrefetchingIter::provide_label() const {
  return Renamed(iters_, rename_label_, true);
}

}  // namespace mixnet::io
