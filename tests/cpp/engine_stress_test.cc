// Engine stress: thousands of random read/write pushes over random vars from several threads.
//
// Pushing threads race, so the global push order differs from run to run. Each push is made
// under a lock that also appends it to a log; the log is then the order the engine received.
// Replaying the log sequentially (plain loop) and through the naive engine must give the same
// final values, and every op checks that no write overlapped another access to its vars.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "mixnet/engine/engine.h"

namespace mixnet {
namespace {

constexpr int kVars = 48;

struct OpSpec {
  std::vector<int> reads;
  std::vector<int> writes;
  uint64_t salt = 0;
  bool async = false;
};

/*! \brief Values plus per-var access counters that detect a broken exclusion. */
struct State {
  std::vector<uint64_t> values = std::vector<uint64_t>(kVars, 1);
  std::unique_ptr<std::atomic<int>[]> readers { new std::atomic<int>[ kVars ]() };
  std::unique_ptr<std::atomic<int>[]> writers { new std::atomic<int>[ kVars ]() };
  std::atomic<int> violations{0};
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
  Apply(op, &s->values);
  for (int w : op.writes)
    --s->writers[w];
  for (int r : op.reads)
    --s->readers[r];
}

OpSpec RandomOp(std::mt19937_64& rng, int first_var, int end_var) {
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
          RunChecked(op, s);
          done();
        },
        Context::cpu(), reads, writes, FnProperty::kAsync, 0, "stress_async");
  } else {
    engine->PushSync([&op, s](RunContext) { RunChecked(op, s); }, Context::cpu(), reads, writes,
                     FnProperty::kNormal, 0, "stress_sync");
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
Outcome StressThreaded(int threads, int ops_per_thread, int bulk, std::vector<const OpSpec*>* log,
                       std::vector<std::unique_ptr<OpSpec>>* specs) {
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
            bulk > 1 ? RandomOp(rng, t * kVars / threads, (t + 1) * kVars / threads)
                     : RandomOp(rng, 0, kVars));
        {
          std::lock_guard<std::mutex> lock(push_mu);
          log->push_back(slot.get());
          Push(engine.get(), vars, *slot, &state);
        }
        if (rng() % 64 == 0) engine->WaitForVar(vars[rng() % kVars]);
      }
      engine->SetBulkSize(prev);  // flushes this thread's bulk
    });
  }
  for (auto& p : pushers)
    p.join();
  engine->WaitForAll();
  return {state.values, state.violations.load()};
}

std::vector<uint64_t> ReplayNaive(const std::vector<const OpSpec*>& log) {
  auto engine = Engine::Create(Engine::Kind::kNaive);
  std::vector<VarHandle> vars;
  for (int i = 0; i < kVars; ++i)
    vars.push_back(engine->NewVariable());
  State state;
  for (const OpSpec* op : log)
    Push(engine.get(), vars, *op, &state);
  engine->WaitForAll();
  EXPECT_EQ(state.violations.load(), 0);
  return state.values;
}

std::vector<uint64_t> ReplaySequential(const std::vector<const OpSpec*>& log) {
  std::vector<uint64_t> values(kVars, 1);
  for (const OpSpec* op : log)
    Apply(*op, &values);
  return values;
}

void CheckStress(int threads, int ops_per_thread, int bulk) {
  std::vector<const OpSpec*> log;
  std::vector<std::unique_ptr<OpSpec>> specs;
  Outcome threaded = StressThreaded(threads, ops_per_thread, bulk, &log, &specs);
  ASSERT_EQ(log.size(), static_cast<size_t>(threads * ops_per_thread));
  EXPECT_EQ(threaded.violations, 0) << "a write overlapped another access";
  EXPECT_EQ(threaded.values, ReplaySequential(log));
  EXPECT_EQ(threaded.values, ReplayNaive(log));
}

TEST(EngineStress, RandomPushesFromFourThreads) {
  CheckStress(4, 10000, 0);
}

TEST(EngineStress, RandomPushesInBulk) {
  CheckStress(3, 6000, 8);
}

TEST(EngineStress, ManyShortEnginesShutDownCleanly) {
  for (int round = 0; round < 50; ++round) {
    std::vector<const OpSpec*> log;
    std::vector<std::unique_ptr<OpSpec>> specs;
    Outcome out = StressThreaded(2, 40, round % 3 == 0 ? 4 : 0, &log, &specs);
    ASSERT_EQ(out.values, ReplaySequential(log)) << "round " << round;
  }
}

}  // namespace
}  // namespace mixnet
