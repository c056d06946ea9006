// Storage: the pooled aligned CPU allocator and the per-context front end.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/storage/storage.h"
#include "storage/cpu_pooled_manager.h"
#include "test_util.h"

namespace mixnet {
namespace {

// Each test uses its own cpu(N) so that its statistics start from zero; the process-wide
// manager of cpu(0) is shared with the NDArray tests.
Storage* S() {
  return Storage::Get();
}

/*! \brief Sets an environment variable for a scope, restoring the previous state. */
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      unsetenv(name_);
    } else {
      setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

/*! \brief cpu(id) with a pooled manager, whatever MIXNET_CPU_MEM_POOL_TYPE says. */
Context PooledCpu(int id) {
  ScopedEnv env("MIXNET_CPU_MEM_POOL_TYPE", "Pooled");
  S()->Alloc(0, Context::cpu(id));  // creates the manager now
  return Context::cpu(id);
}

bool Aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kStorageAlign == 0;
}

TEST(Storage, SizeClasses) {
  using storage::CPUPooledManager;
  EXPECT_EQ(CPUPooledManager::RoundedSize(0, true), 0u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(1, true), 64u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(64, true), 64u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(65, true), 128u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(129, true), 192u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(257, true), 320u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(1000, true), 1024u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(1025, true), 1280u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(1 << 20, true), 1u << 20);
  EXPECT_EQ(CPUPooledManager::RoundedSize((1 << 20) + 1, true), (1u << 20) + (1u << 18));
  EXPECT_EQ(CPUPooledManager::RoundedSize(65, false), 128u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(1000, false), 1024u);
  EXPECT_EQ(CPUPooledManager::RoundedSize(1025, false), 1088u);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    const size_t s = 1 + rng() % (size_t{1} << (1 + rng() % 40));
    const size_t r = CPUPooledManager::RoundedSize(s, true);
    ASSERT_GE(r, s);
    ASSERT_EQ(r % kStorageAlign, 0u) << s;
    ASSERT_LT(r - s, std::max<size_t>(s / 4, kStorageAlign)) << s;  // at most 25% waste
  }
  // Four classes per power of two once a quarter is a multiple of 64.
  for (size_t p = 256; p <= (size_t{1} << 30); p *= 2) {
    std::vector<size_t> classes;
    for (size_t s : {p + 1, p + p / 4, p + p / 4 + 1, p + p / 2, p + p / 2 + 1, 2 * p}) {
      const size_t r = CPUPooledManager::RoundedSize(s, true);
      if (classes.empty() || classes.back() != r) classes.push_back(r);
    }
    EXPECT_EQ(classes, (std::vector<size_t>{p + p / 4, p + p / 2, p + 3 * p / 4, 2 * p}));
  }
}

TEST(Storage, EveryBlockIsAligned) {
  const Context ctx = Context::cpu(10);
  std::vector<StorageHandle> hs;
  for (size_t size : {1, 7, 63, 64, 65, 100, 1000, 4097, 12345, 1 << 20}) {
    StorageHandle h = S()->Alloc(size, ctx);
    ASSERT_NE(h.dptr, nullptr);
    EXPECT_TRUE(Aligned(h.dptr)) << size;
    EXPECT_EQ(h.size, size);
    EXPECT_EQ(h.ctx, ctx);
    std::memset(h.dptr, 0xab, size);  // the whole request is usable
    hs.push_back(h);
  }
  for (auto& h : hs)
    S()->Free(h);
  for (Context c : {Context::cpu_pinned(0), Context::cpu_shared(0)}) {
    StorageHandle h = S()->Alloc(100, c);
    EXPECT_TRUE(Aligned(h.dptr)) << c;
    EXPECT_EQ(h.ctx, c);
    S()->Free(h);
  }
}

TEST(Storage, ZeroBytesCostNothing) {
  const Context ctx = Context::cpu(11);
  const StorageStats before = S()->Stats(ctx);
  StorageHandle h = S()->Alloc(0, ctx);
  EXPECT_EQ(h.dptr, nullptr);
  EXPECT_EQ(h.size, 0u);
  S()->Free(h);
  S()->DirectFree(h);
  const StorageStats after = S()->Stats(ctx);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.num_allocs, before.num_allocs);
  EXPECT_EQ(after.bytes_pooled, before.bytes_pooled);
}

TEST(Storage, PoolReuse) {
  const Context ctx = PooledCpu(12);
  StorageHandle a = S()->Alloc(1000, ctx);
  void* p = a.dptr;
  S()->Free(a);
  StorageHandle b = S()->Alloc(1000, ctx);
  EXPECT_EQ(b.dptr, p);
  EXPECT_EQ(S()->Stats(ctx).num_pool_hits, 1u);
  S()->Free(b);
  // Same size class (1024), different request: still a hit on the same block.
  StorageHandle c = S()->Alloc(900, ctx);
  EXPECT_EQ(c.dptr, p);
  EXPECT_EQ(S()->Stats(ctx).num_pool_hits, 2u);
  // Another class is not served from this block.
  StorageHandle d = S()->Alloc(2000, ctx);
  EXPECT_NE(d.dptr, p);
  EXPECT_EQ(S()->Stats(ctx).num_pool_hits, 2u);
  EXPECT_EQ(S()->Stats(ctx).num_allocs, 4u);
  S()->Free(c);
  S()->Free(d);
  S()->EmptyCache(ctx);
}

TEST(Storage, Stats) {
  const Context ctx = PooledCpu(13);
  StorageStats st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.peak_bytes_in_use, 0u);
  EXPECT_EQ(st.bytes_pooled, 0u);
  EXPECT_EQ(st.num_allocs, 0u);

  StorageHandle a = S()->Alloc(1000, ctx);  // 1024
  StorageHandle b = S()->Alloc(100, ctx);   // 128
  st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_in_use, 1152u);
  EXPECT_EQ(st.peak_bytes_in_use, 1152u);
  EXPECT_EQ(st.num_allocs, 2u);
  EXPECT_EQ(st.num_pool_hits, 0u);

  S()->Free(a);
  st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_in_use, 128u);
  EXPECT_EQ(st.bytes_pooled, 1024u);
  EXPECT_EQ(st.peak_bytes_in_use, 1152u);

  S()->ResetPeak(ctx);
  EXPECT_EQ(S()->Stats(ctx).peak_bytes_in_use, 128u);

  S()->EmptyCache(ctx);  // mx.context.empty_cache
  st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_pooled, 0u);
  EXPECT_EQ(st.bytes_in_use, 128u);

  S()->DirectFree(b);  // bypasses the pool
  st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.bytes_pooled, 0u);

  StorageHandle c = S()->Alloc(5000, ctx);
  S()->Free(c);
  EXPECT_GT(S()->Stats(ctx).bytes_pooled, 0u);
  S()->EmptyCache();  // every context
  EXPECT_EQ(S()->Stats(ctx).bytes_pooled, 0u);
}

TEST(Storage, UnpooledPoolType) {
  const Context ctx = Context::cpu(14);
  StorageHandle a;
  {
    ScopedEnv env("MIXNET_CPU_MEM_POOL_TYPE", "Unpooled");
    a = S()->Alloc(100, ctx);  // first use of cpu(14): reads the variable now
  }
  EXPECT_TRUE(Aligned(a.dptr));
  EXPECT_EQ(S()->Stats(ctx).bytes_in_use, 128u);
  S()->Free(a);
  StorageStats st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.bytes_pooled, 0u);
  StorageHandle b = S()->Alloc(100, ctx);
  EXPECT_EQ(S()->Stats(ctx).num_pool_hits, 0u);
  S()->Free(b);

  {
    ScopedEnv env("MIXNET_CPU_MEM_POOL_TYPE", "Bogus");
    EXPECT_ERROR(S()->Alloc(8, Context::cpu(15)), ValueError, "MIXNET_CPU_MEM_POOL_TYPE", "Bogus");
  }
  StorageHandle c = S()->Alloc(8, Context::cpu(15));  // the failed creation left nothing behind
  S()->Free(c);
}

TEST(Storage, MXNetPoolTypeNamesPool) {
  // MXNet's "Naive" (exact-size) and "Round" pools are both served by the rounding pool.
  for (const char* type : {"Naive", "Round", "Pooled"}) {
    const Context ctx = Context::cpu(type[0] == 'N' ? 17 : type[0] == 'R' ? 18 : 19);
    {
      ScopedEnv env("MIXNET_CPU_MEM_POOL_TYPE", type);
      S()->Free(S()->Alloc(100, ctx));
    }
    S()->Free(S()->Alloc(100, ctx));
    EXPECT_EQ(S()->Stats(ctx).num_pool_hits, 1u) << type;
  }
}

TEST(Storage, ConcurrentAllocFree) {
  const Context ctx = PooledCpu(16);
  constexpr int kThreads = 4;
  constexpr int kIters = 3000;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<StorageHandle> live;
      for (int i = 0; i < kIters; ++i) {
        const size_t size = 1 + rng() % 5000;
        StorageHandle h = S()->Alloc(size, ctx);
        if (!Aligned(h.dptr)) ++failures[t];
        std::memset(h.dptr, t + 1, size);
        live.push_back(h);
        if (live.size() > 8 || rng() % 2) {
          const size_t k = rng() % live.size();
          const auto* bytes = static_cast<const unsigned char*>(live[k].dptr);
          for (size_t j = 0; j < live[k].size; ++j) {
            if (bytes[j] != t + 1) {
              ++failures[t];
              break;
            }
          }
          S()->Free(live[k]);
          live.erase(live.begin() + static_cast<ptrdiff_t>(k));
        }
      }
      for (auto& h : live)
        S()->Free(h);
    });
  }
  for (auto& th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  const StorageStats st = S()->Stats(ctx);
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.num_allocs, static_cast<size_t>(kThreads * kIters));
  EXPECT_GT(st.num_pool_hits, 0u);
  EXPECT_GT(st.peak_bytes_in_use, 0u);
  S()->EmptyCache(ctx);
  EXPECT_EQ(S()->Stats(ctx).bytes_pooled, 0u);
}

TEST(Storage, Errors) {
  EXPECT_ERROR(S()->Alloc(16, Context::gpu(0)), NotImplementedError, "gpu(0)",
               "no GPU backend is built");
  EXPECT_ERROR(S()->Alloc(0, Context::gpu(1)), NotImplementedError, "no GPU backend");
  EXPECT_ERROR(S()->Stats(Context::gpu(0)), NotImplementedError, "no GPU backend");
  EXPECT_ERROR(S()->Alloc(16, Context::cpu(-1)), ValueError, "cpu(-1)");
  EXPECT_ERROR(S()->Alloc(16, Context::cpu(64)), ValueError, "cpu(64)");
  EXPECT_ERROR(S()->Alloc(16, (Context{static_cast<DeviceType>(4), 0})), ValueError,
               "invalid device type 4");

  // A failed allocation raises and names the requested size; it never returns null.
  const Context ctx = Context::cpu(17);
  const size_t huge = size_t{1} << 50;  // beyond any address space of today's machines
  try {
    S()->Alloc(huge, ctx);
    ADD_FAILURE() << "no exception thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kError);
    EXPECT_NE(std::string(e.what()).find(std::to_string(huge)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cpu(17)"), std::string::npos) << e.what();
  }
  EXPECT_ERROR(S()->Alloc(SIZE_MAX, ctx), Error, std::to_string(SIZE_MAX));
  EXPECT_EQ(S()->Stats(ctx).bytes_in_use, 0u);
}

}  // namespace
}  // namespace mixnet
