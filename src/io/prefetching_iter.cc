// mx.io.PrefetchingIter: the next batch of every wrapped iterator is read on a thread.
#include <condition_variable>
#include <exception>
#include <mutex>

#include "mixnet/io/iterators.h"

namespace mixnet::io {

// NOTE [ PrefetchingIter's thread ]
// One thread reads one batch ahead: Next hands over the batch it read (waiting for it if
// needed) and asks for the following one. Reset and Stop first wait for the thread to be idle,
// so the wrapped iterators are never used by two threads at once. An error raised while
// reading is kept and raised by the Next that would have returned that batch. Iterators
// written in Python take the interpreter's lock themselves; the Python binding releases it
// while Next, Reset and Stop wait. The thread shares the State: if the iterator is dropped
// from the thread itself (Python's collector may run inside a Python iterator's next), Stop
// cannot wait for it, so it detaches the thread, which ends after its batch with the State.

struct PrefetchingIter::State {
  std::vector<std::shared_ptr<DataIter>> iters;
  std::mutex mu;
  std::condition_variable cv;
  bool requested = false, busy = false, stop = false, has_next = false;
  std::exception_ptr error;
  DataBatch next;
};

PrefetchingIter::PrefetchingIter(std::vector<std::shared_ptr<DataIter>> iters, Renames rename_data,
                                 Renames rename_label)
    : state_(std::make_shared<State>()),
      rename_data_(std::move(rename_data)),
      rename_label_(std::move(rename_label)) {
  state_->iters = std::move(iters);
  const auto& its = state_->iters;
  MX_CHECK(!its.empty(), ValueError) << "PrefetchingIter: iters is empty";
  for (const auto& it : its)
    MX_CHECK(it != nullptr, ValueError) << "PrefetchingIter: an iterator is None";
  MX_CHECK(rename_data_.empty() || rename_data_.size() == its.size(), ValueError)
      << "PrefetchingIter: rename_data has " << rename_data_.size() << " entries for " << its.size()
      << " iterators";
  MX_CHECK(rename_label_.empty() || rename_label_.size() == its.size(), ValueError)
      << "PrefetchingIter: rename_label has " << rename_label_.size() << " entries for "
      << its.size() << " iterators";
  const std::vector<DataDesc> data = provide_data();  // checks the renames
  provide_label();
  batch_size_ = data.empty() || data[0].shape.ndim() == 0 ? its[0]->batch_size()
                                                          : static_cast<int>(data[0].shape[0]);
  state_->requested = true;
  thread_ = std::thread([state = state_] { Run(state); });
}

void PrefetchingIter::Run(const std::shared_ptr<State>& st) {
  std::unique_lock<std::mutex> lock(st->mu);
  while (true) {
    st->cv.wait(lock, [&] { return st->requested || st->stop; });
    if (st->stop) return;
    st->requested = false;
    st->busy = true;
    lock.unlock();
    DataBatch batch;
    bool has = false;
    std::exception_ptr error;
    try {
      size_t ended = 0;
      for (const auto& it : st->iters) {
        if (!it->Next()) {
          ++ended;
          continue;
        }
        const DataBatch& b = it->Value();
        if (it == st->iters.front()) {
          batch.pad = b.pad;
          batch.index = b.index;
        }
        MX_CHECK(b.pad == batch.pad, ValueError)
            << "PrefetchingIter: Number of entry mismatches between iterators (pads " << batch.pad
            << " and " << b.pad << ")";
        batch.data.insert(batch.data.end(), b.data.begin(), b.data.end());
        batch.label.insert(batch.label.end(), b.label.begin(), b.label.end());
      }
      MX_CHECK(ended == 0 || ended == st->iters.size(), ValueError)
          << "PrefetchingIter: Number of entry mismatches between iterators (" << ended << " of "
          << st->iters.size() << " ended)";
      has = ended == 0;
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    st->next = std::move(batch);
    st->has_next = has;
    st->error = error;
    st->busy = false;
    st->cv.notify_all();
  }
}

void PrefetchingIter::WaitReady() {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->cv.wait(lock, [this] { return (!state_->requested && !state_->busy) || state_->stop; });
  MX_CHECK(!state_->stop, ValueError) << "PrefetchingIter: used after it was closed";
}

void PrefetchingIter::Request() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->requested = true;
  state_->cv.notify_all();
}

bool PrefetchingIter::Next() {
  WaitReady();
  if (state_->error) {
    std::exception_ptr e = std::exchange(state_->error, nullptr);
    Request();  // a later Next tries again, as MXNet's would
    std::rethrow_exception(e);
  }
  if (!state_->has_next) return false;  // the epoch is over until Reset
  current_ = std::move(state_->next);
  state_->has_next = false;
  Request();
  return true;
}

void PrefetchingIter::Reset() {
  WaitReady();
  state_->error = nullptr;
  for (const auto& it : state_->iters)
    it->Reset();
  Request();
}

void PrefetchingIter::Stop() {
  if (!thread_.joinable()) return;
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->stop = true;
  state_->cv.notify_all();
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();  // called from a batch being read: the thread ends after it
    return;
  }
  lock.unlock();
  thread_.join();
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
  return Renamed(state_->iters, rename_data_, false);
}
std::vector<DataDesc> PrefetchingIter::provide_label() const {
  return Renamed(state_->iters, rename_label_, true);
}

}  // namespace mixnet::io
