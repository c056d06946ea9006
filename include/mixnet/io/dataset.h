/*!
 * \file dataset.h
 * \brief gluon.data's native pieces: dataset file readers (CIFAR binary batches), row gathers
 * for array-backed datasets, and the ordered prefetcher behind DataLoader's worker threads.
 *
 *   auto [images, labels] = io::ReadCifarBinary({"data_batch_1.bin"}, 1, 0);   // (N,32,32,3) u8
 *   io::OrderedPrefetcher<std::vector<NDArray>> p(num_batches, 2, 4, [&](size_t i) {
 *     return std::vector<NDArray>{io::GatherRows(images, batches[i])};
 *   });
 *   for (std::vector<NDArray> b; p.Next(&b);) use(b);
 */
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/ndarray/ndarray.h"

namespace mixnet::io {

/*!
 * \brief Reads CIFAR-10/100 binary batches (each record: `label_bytes` label bytes, then
 * 3x32x32 uint8 planes R, G, B) into images (N, 32, 32, 3) uint8 HWC and labels (N,) int32
 * (label byte `label_index`: CIFAR-100 has coarse 0, fine 1). ValueError on a missing or
 * truncated file.
 */
std::pair<NDArray, NDArray> ReadCifarBinary(const std::vector<std::string>& files, int label_bytes,
                                            int label_index);

/*!
 * \brief Rows `index` of `src` (on the host) stacked into a new array of shape
 * (index.size(), src.shape[1:]): one memcpy per row. Waits for pending writes to `src`.
 */
NDArray GatherRows(const NDArray& src, std::span<const int64_t> index);

/*!
 * \brief Stacks arrays of one shape and dtype (on the host) into (items.size(), shape...):
 * MXNet's default batchify of NDArrays. ValueError naming the first item that differs.
 */
NDArray StackRows(const std::vector<NDArray>& items);

/*!
 * \brief Runs `produce(0..num_tasks-1)` on `num_workers` threads and hands the results out in
 * task order, at most `prefetch` tasks ahead of the consumer. An exception thrown by
 * `produce` is rethrown by Next() at that task's turn. Destruction (or Close()) stops the
 * workers after their current task and joins them.
 */
template <typename T>
class OrderedPrefetcher {
 public:
  OrderedPrefetcher(size_t num_tasks, int num_workers, int prefetch,
                    std::function<T(size_t)> produce)
      : num_tasks_(num_tasks),
        prefetch_(prefetch < 1 ? 1 : prefetch),
        produce_(std::move(produce)) {
    MX_CHECK(num_workers >= 1, ValueError)
        << "OrderedPrefetcher: num_workers must be >= 1, got " << num_workers;
    for (int i = 0; i < num_workers; ++i)
      workers_.emplace_back([this] { Work(); });
  }
  ~OrderedPrefetcher() { Close(); }
  OrderedPrefetcher(const OrderedPrefetcher&) = delete;
  OrderedPrefetcher& operator=(const OrderedPrefetcher&) = delete;

  /*!
   * \brief Waits up to `timeout` for the next result. Returns false on timeout (call again),
   * true with `*done` set when every task has been consumed, else true with `*out` filled.
   */
  template <typename Rep, typename Period>
  bool WaitNext(T* out, bool* done, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    *done = false;
    if (next_out_ >= num_tasks_ || closed_) {
      *done = true;
      return true;
    }
    if (!cv_out_.wait_for(lock, timeout, [&] { return results_.count(next_out_) > 0; }))
      return false;
    auto node = results_.extract(next_out_);
    ++next_out_;
    cv_in_.notify_all();
    lock.unlock();
    Slot& slot = node.mapped();
    if (slot.error) std::rethrow_exception(slot.error);
    *out = std::move(*slot.value);
    return true;
  }
  /*! \brief Blocking form of WaitNext: false when every task has been consumed. */
  bool Next(T* out) {
    bool done = false;
    while (!WaitNext(out, &done, std::chrono::seconds(1))) {
    }
    return !done;
  }
  /*! \brief Stops the workers after their current task and joins them; drops pending results. */
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_in_.notify_all();
    for (std::thread& t : workers_)
      if (t.joinable()) t.join();
    workers_.clear();
    std::lock_guard lock(mu_);
    results_.clear();
  }

 private:
  struct Slot {
    std::optional<T> value;
    std::exception_ptr error;
  };

  void Work() {
    for (;;) {
      size_t task;
      {
        std::unique_lock lock(mu_);
        cv_in_.wait(lock, [&] {
          return closed_ || next_in_ >= num_tasks_ || next_in_ < next_out_ + prefetch_;
        });
        if (closed_ || next_in_ >= num_tasks_) return;
        task = next_in_++;
      }
      Slot slot;
      try {
        slot.value.emplace(produce_(task));
      } catch (...) {
        slot.error = std::current_exception();
      }
      std::lock_guard lock(mu_);
      if (closed_) return;  // `slot` is dropped outside of results_ (NOTE in the binding)
      results_.emplace(task, std::move(slot));
      cv_out_.notify_all();
    }
  }

  const size_t num_tasks_;
  const size_t prefetch_;
  std::function<T(size_t)> produce_;
  std::mutex mu_;
  std::condition_variable cv_in_, cv_out_;
  std::map<size_t, Slot> results_;
  size_t next_in_ = 0, next_out_ = 0;
  bool closed_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mixnet::io
