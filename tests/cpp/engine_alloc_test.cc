// The push path of the threaded engine allocates nothing once warm (NOTE [ Allocation-free
// push ]). Counts global operator new calls made by any thread while pushing and running.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

#include "mixnet/engine/engine.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_news{0};
}  // namespace

// malloc/free back the replaced operators; GCC cannot see that they pair up.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace mixnet {
namespace {

void PushBatch(Engine* engine, const std::vector<VarHandle>& vars, int n, int* sink) {
  for (int i = 0; i < n; ++i) {
    const VarHandle r = vars[i % vars.size()];
    const VarHandle w = vars[(i * 7 + 3) % vars.size()];
    engine->PushSync([sink](RunContext) { ++*sink; }, Context::cpu(), {r}, {w}, FnProperty::kNormal,
                     0, "noop");
  }
  engine->WaitForAll();
}

TEST(EngineAlloc, SteadyStatePushesDoNotAllocate) {
  auto engine = Engine::Create(Engine::Kind::kThreaded, 1);
  std::vector<VarHandle> vars;
  for (int i = 0; i < 16; ++i)
    vars.push_back(engine->NewVariable());
  int sink = 0;
  {
    // Warm the pools deterministically: with the worker held, 1000 ops queue on one var, so
    // 1000 op blocks and queue nodes exist, far more than the measured rounds keep in flight.
    std::atomic<bool> open{false};
    engine->PushSync(
        [&](RunContext) {
          while (!open)
            std::this_thread::yield();
        },
        Context::cpu(), {}, {vars[0]});
    for (int i = 0; i < 1000; ++i) {
      engine->PushSync([&sink](RunContext) { ++sink; }, Context::cpu(), {vars[1]}, {vars[0]});
    }
    open = true;
    engine->WaitForAll();
  }
  PushBatch(engine.get(), vars, 4000, &sink);
  {  // the counter itself works: a capture too large for the inline buffer is counted
    struct Big {
      char bytes[256];
    };
    g_news = 0;
    g_counting = true;
    SyncFn heavy = [big = Big{}](RunContext) { (void)big; };
    g_counting = false;
    ASSERT_EQ(g_news.load(), 1);
  }
  g_news = 0;
  g_counting = true;
  for (int round = 0; round < 20; ++round)
    PushBatch(engine.get(), vars, 100, &sink);
  g_counting = false;
  EXPECT_EQ(g_news.load(), 0) << "allocations during 2000 steady-state pushes";
  EXPECT_EQ(sink, 7000);
}

}  // namespace
}  // namespace mixnet
