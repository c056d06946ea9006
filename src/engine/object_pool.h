// A free-list pool so that steady-state pushes allocate nothing (NOTE [ Allocation-free push ]).
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <vector>

namespace mixnet::engine {

/*!
 * \brief Process-wide recycler of T objects. New() default-constructs once and then reuses;
 * Delete() returns an object with its members intact (so vectors inside keep their capacity).
 *
 * Each thread keeps a small cache and trades with a shared list in batches: the pusher
 * allocates op blocks and a worker frees them, so a single locked list would bounce between
 * the two cores on every push. Objects are never given back to the system; the pool holds
 * as many as were ever alive at once.
 */
template <typename T>
class ObjectPool {
 public:
  static T* New() {
    Cache& c = LocalCache();
    if (c.items.empty()) c.Refill();
    T* t = c.items.back();
    c.items.pop_back();
    return t;
  }
  static void Delete(T* t) {
    Cache& c = LocalCache();
    c.items.push_back(t);
    if (c.items.size() >= 2 * kBatch) c.Spill(kBatch);
  }

 private:
  static constexpr size_t kBatch = 64;

  struct Shared {
    std::mutex mu;
    std::vector<T*> items;  // capacity >= objects ever made, so spilling never reallocates
    size_t created = 0;
  };
  // Never destroyed: thread caches spill into it at thread exit, in any order.
  static Shared& SharedList() {
    static Shared* shared = new Shared;
    return *shared;
  }

  struct Cache {
    std::vector<T*> items;
    Cache() { items.reserve(2 * kBatch); }
    ~Cache() { Spill(items.size()); }
    void Refill() {
      Shared& s = SharedList();
      std::lock_guard<std::mutex> lock(s.mu);
      const size_t n = std::min(kBatch, s.items.size());
      items.insert(items.end(), s.items.end() - static_cast<std::ptrdiff_t>(n), s.items.end());
      s.items.resize(s.items.size() - n);
      if (items.size() < kBatch) {  // the pool grows: the only time it allocates
        s.created += kBatch - items.size();
        s.items.reserve(s.created);
        while (items.size() < kBatch)
          items.push_back(new T());
      }
    }
    void Spill(size_t n) {
      Shared& s = SharedList();
      std::lock_guard<std::mutex> lock(s.mu);
      s.items.insert(s.items.end(), items.end() - static_cast<std::ptrdiff_t>(n), items.end());
      items.resize(items.size() - n);
    }
  };
  static Cache& LocalCache() {
    thread_local Cache cache;
    return cache;
  }
};

}  // namespace mixnet::engine
