// Engine stress: thousands of random read/write pushes over random vars from several threads.
//
// Pushing threads race, so the global push order differs from run to run. Each push is made
// under a lock that also appends it to a log; the log is then the order the engine received.
// Replaying the log sequentially (plain loop) and through the naive engine must give the same
// final values, and every op checks that no write overlapped another access to its vars.
// Some ops are asynchronous and completed by another thread. In the failure variant some ops
// throw: which ops are then skipped is a pure function of the log (dataflow), so the values
// must still agree with a sequential replay that applies the same rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"

namespace mixnet {
namespace {

constexpr int kVars = 48;

struct OpSpec {
  std::vector<int> reads;
  std::vector<int> writes;
  uint64_t salt = 0;
  bool async = false;
  bool fails = false;
  bool small = false;  // pushed as FnProperty::kSmall: may run in the pushing thread
};

/*! \brief A thread that runs the bodies of async ops and calls their completion. */
class Completer {
 public:
  Completer() : thread_([this] { Loop(); }) {}
  ~Completer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> job) {
    // Notify under the lock: once the job runs, its op may complete and let the test destroy
    // this object, so nothing may touch it after the lock is released.
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

/*! \brief Values plus per-var access counters that detect a broken exclusion. */
struct State {
  std::vector<uint64_t> values = std::vector<uint64_t>(kVars, 1);
  std::unique_ptr<std::atomic<int>[]> readers { new std::atomic<int>[ kVars ]() };
  std::unique_ptr<std::atomic<int>[]> writers { new std::atomic<int>[ kVars ]() };
  std::atomic<int> violations{0};
  Completer completer;
};

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

/*! \brief The op's effect: each written var absorbs the read values and the salt. */
void Apply(const OpSpec& op, std::vector<uint64_t>* values) {
  uint64_t acc = op.salt;
  for (int r : op.reads)
    acc = Mix(acc + (*values)[r]);
  for (int w : op.writes)
    (*values)[w] = Mix((*values)[w] * 31 + acc);
}

void RunChecked(const OpSpec& op, State* s) {
  for (int r : op.reads) {
    if (s->writers[r].load() != 0) ++s->violations;
    ++s->readers[r];
  }
  for (int w : op.writes) {
    if (s->writers[w].fetch_add(1) != 0 || s->readers[w].load() != 0) ++s->violations;
  }
  if (!op.fails) Apply(op, &s->values);
  for (int w : op.writes)
    --s->writers[w];
  for (int r : op.reads)
    --s->readers[r];
  if (op.fails) throw ValueError("injected failure");
}

OpSpec RandomOp(std::mt19937_64& rng, int first_var, int end_var, bool failures) {
  OpSpec op;
  std::uniform_int_distribution<int> var(first_var, end_var - 1);
  const int nreads = static_cast<int>(rng() % 4);
  const int nwrites = 1 + static_cast<int>(rng() % 2);
  for (int i = 0; i < nreads; ++i)
    op.reads.push_back(var(rng));
  for (int i = 0; i < nwrites; ++i)
    op.writes.push_back(var(rng));
  // A var both read and written is a write; keep the spec in the engine's terms.
  std::erase_if(op.reads, [&](int r) {
    return std::find(op.writes.begin(), op.writes.end(), r) != op.writes.end();
  });
  std::sort(op.writes.begin(), op.writes.end());
  op.writes.erase(std::unique(op.writes.begin(), op.writes.end()), op.writes.end());
  std::sort(op.reads.begin(), op.reads.end());
  op.reads.erase(std::unique(op.reads.begin(), op.reads.end()), op.reads.end());
  op.salt = rng();
  op.async = rng() % 8 == 0;
  op.fails = failures && rng() % 40 == 0;
  op.small = (op.salt >> 7) & 1;  // from the salt: the same op stream as without the flag
  return op;
}

void Push(Engine* engine, const std::vector<VarHandle>& vars, const OpSpec& op, State* s) {
  std::vector<VarHandle> reads, writes;
  for (int r : op.reads)
    reads.push_back(vars[r]);
  for (int w : op.writes)
    writes.push_back(vars[w]);
  if (op.async) {
    engine->PushAsync(
        [&op, s](RunContext, CallbackOnComplete done) {
          s->completer.Post([&op, s, done] {
            try {
              RunChecked(op, s);
              done();
            } catch (...) {
              done(std::current_exception());
            }
          });
        },
        Context::cpu(), reads, writes, FnProperty::kAsync, 0, "stress_async");
  } else {
    engine->PushSync([&op, s](RunContext) { RunChecked(op, s); }, Context::cpu(), reads, writes,
                     op.small ? FnProperty::kSmall : FnProperty::kNormal, 0, "stress_sync");
  }
}

struct Outcome {
  std::vector<uint64_t> values;
  int violations;
};

/*!
 * \brief Several threads push random ops and wait on random vars. A bulk is scheduled when it
 * is flushed, not when its ops are pushed, so with bulking each thread keeps to its own vars
 * (the log order then still orders every conflicting pair).
 */
struct Config {
  int threads = 4;
  int ops_per_thread = 1000;
  int bulk = 0;
  bool failures = false;  // some ops throw; nobody waits on single vars (that would raise)
};

/*! \brief WaitForAll, which raises an injected failure if any op failed. */
void WaitForAllExpecting(Engine* engine, bool failures) {
  try {
    engine->WaitForAll();
  } catch (const ValueError& e) {
    EXPECT_TRUE(failures) << e.what();
    EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos) << e.what();
  }
}

Outcome StressThreaded(const Config& cfg, std::vector<const OpSpec*>* log,
                       std::vector<std::unique_ptr<OpSpec>>* specs) {
  const int threads = cfg.threads, ops_per_thread = cfg.ops_per_thread, bulk = cfg.bulk;
  auto engine = Engine::Create(Engine::Kind::kThreaded, 3);
  std::vector<VarHandle> vars;
  for (int i = 0; i < kVars; ++i)
    vars.push_back(engine->NewVariable());
  State state;
  std::mutex push_mu;
  specs->resize(static_cast<size_t>(threads * ops_per_thread));
  std::vector<std::thread> pushers;
  for (int t = 0; t < threads; ++t) {
    pushers.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      const int prev = engine->SetBulkSize(bulk);
      for (int i = 0; i < ops_per_thread; ++i) {
        auto& slot = (*specs)[static_cast<size_t>(t * ops_per_thread + i)];
        slot = std::make_unique<OpSpec>(
            bulk > 1 ? RandomOp(rng, t * kVars / threads, (t + 1) * kVars / threads, cfg.failures)
                     : RandomOp(rng, 0, kVars, cfg.failures));
        {
          std::lock_guard<std::mutex> lock(push_mu);
          log->push_back(slot.get());
          Push(engine.get(), vars, *slot, &state);
        }
        if (!cfg.failures && rng() % 64 == 0) engine->WaitForVar(vars[rng() % kVars]);
      }
      engine->SetBulkSize(prev);  // flushes this thread's bulk
    });
  }
  for (auto& p : pushers)
    p.join();
  WaitForAllExpecting(engine.get(), cfg.failures);
  return {state.values, state.violations.load()};
}

std::vector<uint64_t> ReplayNaive(const std::vector<const OpSpec*>& log) {
  auto engine = Engine::Create(Engine::Kind::kNaive);
  std::vector<VarHandle> vars;
  for (int i = 0; i < kVars; ++i)
    vars.push_back(engine->NewVariable());
  State state;
  bool failures = false;
  for (const OpSpec* op : log) {
    failures |= op->fails;
    Push(engine.get(), vars, *op, &state);
  }
  WaitForAllExpecting(engine.get(), failures);
  EXPECT_EQ(state.violations.load(), 0);
  return state.values;
}

/*!
 * \brief The plain loop: a failed op poisons what it writes; an op touching a poisoned var is
 * skipped and poisons what it writes (NOTE [ Engine errors ], with no sync point raising).
 */
std::vector<uint64_t> ReplaySequential(const std::vector<const OpSpec*>& log) {
  std::vector<uint64_t> values(kVars, 1);
  std::vector<bool> poisoned(kVars, false);
  for (const OpSpec* op : log) {
    bool skip = op->fails;
    for (int v : op->reads)
      skip = skip || poisoned[v];
    for (int v : op->writes)
      skip = skip || poisoned[v];
    if (!skip) Apply(*op, &values);
    for (int v : op->writes)
      poisoned[v] = skip;
  }
  return values;
}

void CheckStress(const Config& cfg) {
  std::vector<const OpSpec*> log;
  std::vector<std::unique_ptr<OpSpec>> specs;
  Outcome threaded = StressThreaded(cfg, &log, &specs);
  ASSERT_EQ(log.size(), static_cast<size_t>(cfg.threads * cfg.ops_per_thread));
  const auto failed =
      std::count_if(log.begin(), log.end(), [](const OpSpec* op) { return op->fails; });
  EXPECT_EQ(failed > 50, cfg.failures) << failed << " injected failures";
  EXPECT_EQ(threaded.violations, 0) << "a write overlapped another access";
  EXPECT_EQ(threaded.values, ReplaySequential(log));
  EXPECT_EQ(threaded.values, ReplayNaive(log));
}

TEST(EngineStress, RandomPushesFromFourThreads) {
  CheckStress({.threads = 4, .ops_per_thread = 10000});
}

TEST(EngineStress, RandomPushesInBulk) {
  CheckStress({.threads = 3, .ops_per_thread = 6000, .bulk = 8});
}

TEST(EngineStress, RandomFailuresSkipTheSameOpsAsSequentialDataflow) {
  // Not bulked: a failure inside a bulk poisons every var the whole bulk writes.
  CheckStress({.threads = 4, .ops_per_thread = 5000, .failures = true});
}

TEST(EngineStress, ManyShortEnginesShutDownCleanly) {
  for (int round = 0; round < 50; ++round) {
    std::vector<const OpSpec*> log;
    std::vector<std::unique_ptr<OpSpec>> specs;
    Outcome out = StressThreaded({.threads = 2, .ops_per_thread = 40, .bulk = round % 3 ? 0 : 4},
                                 &log, &specs);
    ASSERT_EQ(out.values, ReplaySequential(log)) << "round " << round;
  }
}

}  // namespace
}  // namespace mixnet
