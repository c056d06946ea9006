// Engine contract, run against both engines: ordering, async completion, errors, bulk,
// priorities, deletion and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"

namespace mixnet {
namespace {

using Kind = Engine::Kind;
const Context kCpu = Context::cpu();

class EngineTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override { engine_ = Engine::Create(GetParam(), 2); }
  Engine* e() { return engine_.get(); }
  std::unique_ptr<Engine> engine_;
};

std::string KindName(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kNaive ? "Naive" : "Threaded";
}

template <typename F>
std::string ErrorText(F&& f) {
  try {
    f();
  } catch (const Error& err) {
    return err.what();
  }
  return "";
}

TEST_P(EngineTest, WritesRunInPushOrder) {
  VarHandle v = e()->NewVariable();
  std::vector<int> log;
  for (int i = 0; i < 200; ++i) {
    e()->PushSync([&log, i](RunContext) { log.push_back(i); }, kCpu, {}, {v});
  }
  e()->WaitForVar(v);
  ASSERT_EQ(log.size(), 200u);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(log[i], i);
  EXPECT_EQ(e()->VarVersion(v), 200u);
}

TEST_P(EngineTest, ReadSeesPrecedingWriteAndNextWriteWaitsForReads) {
  VarHandle v = e()->NewVariable();
  VarHandle out = e()->NewVariable();
  int value = 0;
  int seen = -1;
  e()->PushSync(
      [&](RunContext) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        value = 7;
      },
      kCpu, {}, {v});
  e()->PushSync(
      [&](RunContext) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        seen = value;
      },
      kCpu, {v}, {out});
  e()->PushSync([&](RunContext) { value = 9; }, kCpu, {}, {v});
  e()->WaitForVar(out);
  EXPECT_EQ(seen, 7);
  e()->WaitForAll();
  EXPECT_EQ(value, 9);
}

TEST(ThreadedEngine, ConcurrentReadsOverlap) {
  auto engine = Engine::Create(Kind::kThreaded, 2);
  Engine* e = engine.get();
  VarHandle v = e->NewVariable();
  std::atomic<int> inside{0}, max_inside{0};
  for (int i = 0; i < 2; ++i) {
    e->PushSync(
        [&](RunContext) {
          int now = ++inside;
          int prev = max_inside.load();
          while (now > prev && !max_inside.compare_exchange_weak(prev, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          --inside;
        },
        kCpu, {v}, {});
  }
  e->WaitForAll();
  EXPECT_EQ(max_inside.load(), 2);
}

TEST_P(EngineTest, AsyncOpCompletesFromAnotherThread) {
  VarHandle v = e()->NewVariable();
  std::atomic<int> value{0};
  std::thread helper;
  e()->PushAsync(
      [&](RunContext, CallbackOnComplete done) {
        helper = std::thread([&value, done] {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          value = 5;
          done();
        });
        if (GetParam() == Kind::kNaive) helper.join();  // naive waits for completion inline
      },
      kCpu, {}, {v}, FnProperty::kAsync, 0, "async_op");
  int seen = 0;
  e()->PushSync([&](RunContext) { seen = value; }, kCpu, {v}, {});
  e()->WaitForAll();
  if (helper.joinable()) helper.join();
  EXPECT_EQ(seen, 5);
}

TEST_P(EngineTest, ErrorTravelsAlongDependenciesAndNamesTheOp) {
  VarHandle x = e()->NewVariable(), y = e()->NewVariable(), z = e()->NewVariable();
  VarHandle unrelated = e()->NewVariable();
  std::atomic<bool> b_ran{false}, c_ran{false}, other_ran{false};
  e()->PushSync([](RunContext) { throw ValueError("bad value 42"); }, kCpu, {}, {x},
                FnProperty::kNormal, 0, "failing_op");
  e()->PushSync([&](RunContext) { b_ran = true; }, kCpu, {x}, {y}, FnProperty::kNormal, 0, "b");
  e()->PushSync([&](RunContext) { c_ran = true; }, kCpu, {y}, {z}, FnProperty::kNormal, 0, "c");
  e()->PushSync([&](RunContext) { other_ran = true; }, kCpu, {}, {unrelated});
  try {
    e()->WaitForVar(z);
    FAIL() << "WaitForVar did not raise";
  } catch (const ValueError& err) {  // the kind survives the trip
    EXPECT_NE(std::string(err.what()).find("failing_op"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("bad value 42"), std::string::npos) << err.what();
  }
  EXPECT_FALSE(b_ran);
  EXPECT_FALSE(c_ran);
  e()->WaitForVar(unrelated);
  EXPECT_TRUE(other_ran);
  // Raised once, as in MXNet: neither the other poisoned vars nor WaitForAll raise it again.
  EXPECT_NO_THROW(e()->WaitForVar(x));
  EXPECT_NO_THROW(e()->WaitForAll());
  // Later work on the vars runs normally.
  bool ran = false;
  e()->PushSync([&](RunContext) { ran = true; }, kCpu, {x}, {y});
  e()->WaitForVar(y);
  EXPECT_TRUE(ran);
}

TEST_P(EngineTest, WaitForAllRaisesUnobservedError) {
  VarHandle x = e()->NewVariable();
  e()->PushSync([](RunContext) { throw std::runtime_error("disk on fire"); }, kCpu, {}, {x},
                FnProperty::kNormal, 0, "io_op");
  const std::string msg = ErrorText([&] { e()->WaitForAll(); });
  EXPECT_NE(msg.find("Operator 'io_op' failed: disk on fire"), std::string::npos) << msg;
  EXPECT_NO_THROW(e()->WaitForAll());
  EXPECT_NO_THROW(e()->WaitForVar(x));
}

TEST_P(EngineTest, ErrorKindsArePreserved) {
  VarHandle x = e()->NewVariable();
  e()->PushSync([](RunContext) { throw IndexError("index 9 out of range"); }, kCpu, {}, {x});
  EXPECT_THROW(e()->WaitForVar(x), IndexError);
  e()->PushSync([](RunContext) { throw TypeError("bad dtype"); }, kCpu, {}, {x});
  EXPECT_THROW(e()->WaitForAll(), TypeError);
  e()->PushSync([](RunContext) { throw 17; }, kCpu, {}, {x}, FnProperty::kNormal, 0, "odd");
  const std::string msg = ErrorText([&] { e()->WaitForVar(x); });
  EXPECT_NE(msg.find("'odd' failed: unknown exception"), std::string::npos) << msg;
}

TEST_P(EngineTest, AsyncCompletionWithError) {
  VarHandle x = e()->NewVariable();
  e()->PushAsync(
      [](RunContext, CallbackOnComplete done) {
        done(std::make_exception_ptr(NotImplementedError("no kernel")));
      },
      kCpu, {}, {x}, FnProperty::kAsync, 0, "async_fail");
  const std::string msg = ErrorText([&] { e()->WaitForVar(x); });
  EXPECT_NE(msg.find("'async_fail' failed: no kernel"), std::string::npos) << msg;
}

TEST_P(EngineTest, AsyncCompletionWithNullErrorFinishes) {
  // Communication threads hand their outcome on as one exception_ptr: null is success.
  VarHandle x = e()->NewVariable();
  int ran = 0;
  e()->PushAsync([](RunContext, CallbackOnComplete done) { done(std::exception_ptr()); }, kCpu, {},
                 {x}, FnProperty::kAsync, 0, "async_null");
  e()->PushSync([&](RunContext) { ++ran; }, kCpu, {x}, {}, FnProperty::kNormal, 0, "after");
  e()->WaitForVar(x);
  e()->WaitForAll();
  EXPECT_EQ(ran, 1);
}

TEST_P(EngineTest, NoSkipOpsRunDespiteErrors) {
  VarHandle x = e()->NewVariable(), y = e()->NewVariable();
  bool cleanup_ran = false;
  e()->PushSync([](RunContext) { throw ValueError("x"); }, kCpu, {}, {x});
  e()->PushSync([&](RunContext) { cleanup_ran = true; }, kCpu, {x}, {y}, FnProperty::kNoSkip);
  EXPECT_THROW(e()->WaitForAll(), ValueError);
  EXPECT_TRUE(cleanup_ran);
}

TEST_P(EngineTest, DeleteVariableRunsAfterPendingUses) {
  VarHandle v = e()->NewVariable();
  std::vector<int> log;
  std::mutex mu;
  auto add = [&](int i) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(i);
  };
  e()->PushSync(
      [&](RunContext) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        add(1);
      },
      kCpu, {}, {v});
  e()->PushSync([&](RunContext) { add(2); }, kCpu, {v}, {});
  e()->DeleteVariable([&](RunContext) { add(3); }, kCpu, v);
  e()->WaitForAll();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
}

TEST_P(EngineTest, DeleteVariableOfAnIdleVarRunsAtOnce) {
  VarHandle v = e()->NewVariable();
  int value = 0;
  e()->PushSync([&](RunContext) { value = 1; }, kCpu, {}, {v});
  e()->WaitForAll();  // WaitForVar may return while its own read of v is still completing
  bool deleted = false;
  e()->DeleteVariable([&](RunContext) { deleted = value == 1; }, kCpu, v);
  EXPECT_TRUE(deleted);  // nothing pending: no trip through a worker
}

TEST_P(EngineTest, DeleteVariableWaitsForPendingReads) {
  VarHandle v = e()->NewVariable();
  std::atomic<int> reads_done{0};
  for (int i = 0; i < 3; ++i) {
    e()->PushSync(
        [&](RunContext) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          ++reads_done;
        },
        kCpu, {v}, {});
  }
  int seen = -1;
  e()->DeleteVariable([&](RunContext) { seen = reads_done.load(); }, kCpu, v);
  e()->WaitForAll();
  EXPECT_EQ(seen, 3);
}

TEST_P(EngineTest, SmallOpsKeepTheContract) {
  // NOTE [ Small ops inline ]: a small op may run in the pusher, but never out of var order,
  // and its error is raised at the sync point, not by the push.
  VarHandle v = e()->NewVariable();
  std::vector<int> log;
  e()->PushSync(
      [&](RunContext) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        log.push_back(1);
      },
      kCpu, {}, {v});
  e()->PushSync([&](RunContext) { log.push_back(2); }, kCpu, {v}, {}, FnProperty::kSmall);
  e()->WaitForVar(v);
  e()->WaitForAll();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_NO_THROW(e()->PushSync([](RunContext) { throw ValueError("small failure"); }, kCpu, {},
                                {v}, FnProperty::kSmall, 0, "small_op"));
  const std::string text = ErrorText([&] { e()->WaitForVar(v); });
  EXPECT_NE(text.find("Operator 'small_op' failed"), std::string::npos) << text;
}

TEST(ThreadedEngine, SmallOpWithFreeVarsRunsInThePusher) {
  auto engine = Engine::Create(Kind::kThreaded, 1);
  VarHandle v = engine->NewVariable();
  std::thread::id ran_on;
  engine->PushSync([&](RunContext) { ran_on = std::this_thread::get_id(); }, kCpu, {}, {v},
                   FnProperty::kSmall);
  EXPECT_EQ(ran_on, std::this_thread::get_id());  // done before the push returned
  engine->WaitForAll();
}

TEST_P(EngineTest, DuplicateVarsCountAsWrites) {
  VarHandle v = e()->NewVariable();
  uint64_t value = 0;
  for (int i = 0; i < 50; ++i) {
    const VarHandle vars[] = {v, v};
    e()->PushSync([&](RunContext) { value = value * 2 + 1; }, kCpu, vars, vars);
  }
  e()->WaitForVar(v);
  EXPECT_EQ(e()->VarVersion(v), 50u);
  EXPECT_EQ(value, (uint64_t{1} << 50) - 1);
}

TEST_P(EngineTest, BulkRunsInOrderAndNamesFailingInnerOp) {
  VarHandle a = e()->NewVariable(), b = e()->NewVariable();
  std::vector<int> log;
  {
    BulkScope bulk(4, e());
    for (int i = 0; i < 10; ++i) {
      e()->PushSync([&log, i](RunContext) { log.push_back(i); }, kCpu, {i % 2 ? a : b},
                    {i % 2 ? b : a});
    }
    e()->WaitForVar(a);  // a sync point flushes the partial bulk
  }
  EXPECT_EQ(log.size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(log[i], i);
  {
    BulkScope bulk(8, e());
    e()->PushSync([](RunContext) {}, kCpu, {}, {a}, FnProperty::kNormal, 0, "first");
    e()->PushSync([](RunContext) { throw ValueError("in bulk"); }, kCpu, {}, {a},
                  FnProperty::kNormal, 0, "second");
    e()->PushSync([](RunContext) {}, kCpu, {}, {b}, FnProperty::kNormal, 0, "third");
  }
  const std::string msg = ErrorText([&] { e()->WaitForVar(a); });
  EXPECT_NE(msg.find("'second' failed: in bulk"), std::string::npos) << msg;
}

TEST(ThreadedEngine, PrioritizedWorkRunsFirst) {
  auto engine = Engine::Create(Kind::kThreaded, 1);
  VarHandle gate = engine->NewVariable();
  std::atomic<bool> open{false};
  std::vector<int> log;
  std::mutex mu;
  // Occupy the only worker so that the next pushes queue up together.
  engine->PushSync(
      [&](RunContext) {
        while (!open)
          std::this_thread::yield();
      },
      kCpu, {}, {gate});
  std::vector<VarHandle> vars;
  for (int i = 0; i < 5; ++i) {
    vars.push_back(engine->NewVariable());
    engine->PushSync(
        [&, i](RunContext) {
          std::lock_guard<std::mutex> lock(mu);
          log.push_back(i);
        },
        kCpu, {}, {vars.back()}, FnProperty::kNormal, /*priority=*/i);
  }
  open = true;
  engine->WaitForAll();
  EXPECT_EQ(log, (std::vector<int>{4, 3, 2, 1, 0}));
}

TEST_P(EngineTest, ShutdownDrainsPendingWorkThenRunsInline) {
  std::atomic<int> done{0};
  VarHandle v = e()->NewVariable();
  for (int i = 0; i < 100; ++i) {
    e()->PushSync(
        [&](RunContext) {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
          ++done;
        },
        kCpu, {}, {v});
  }
  e()->Shutdown();
  EXPECT_EQ(done.load(), 100);
  e()->PushSync([&](RunContext) { ++done; }, kCpu, {}, {v});
  EXPECT_EQ(done.load(), 101);  // ran synchronously
  e()->Shutdown();              // idempotent
}

TEST_P(EngineTest, DestructorWaitsForPendingWork) {
  std::atomic<int> done{0};
  {
    auto engine = Engine::Create(GetParam(), 2);
    std::vector<VarHandle> vars;
    for (int i = 0; i < 8; ++i)
      vars.push_back(engine->NewVariable());
    for (int i = 0; i < 64; ++i) {
      engine->PushSync(
          [&](RunContext) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            ++done;
          },
          kCpu, {vars[i % 8]}, {vars[(i + 1) % 8]});
    }
  }
  EXPECT_EQ(done.load(), 64);
}

TEST(ThreadedEngine, BadContextIsRejected) {
  auto engine = Engine::Create(Kind::kThreaded, 1);
  VarHandle v = engine->NewVariable();
  const std::string msg = ErrorText([&] {
    engine->PushSync([](RunContext) {}, Context::cpu(1000), {}, {v}, FnProperty::kNormal, 0, "op");
  });
  EXPECT_NE(msg.find("cpu(1000)"), std::string::npos) << msg;
  // In bulk mode too the push itself fails, not a later flush at some unrelated sync point.
  BulkScope bulk(8, engine.get());
  const std::string bulk_msg = ErrorText([&] {
    engine->PushSync([](RunContext) {}, Context::cpu(-1), {}, {v}, FnProperty::kNormal, 0,
                     "bulked_op");
  });
  EXPECT_NE(bulk_msg.find("'bulked_op'"), std::string::npos) << bulk_msg;
  EXPECT_NO_THROW(engine->WaitForVar(v));
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineTest, ::testing::Values(Kind::kNaive, Kind::kThreaded),
                         KindName);

TEST(Engine, KindFromName) {
  EXPECT_EQ(Engine::KindFromName("NaiveEngine"), Engine::Kind::kNaive);
  EXPECT_EQ(Engine::KindFromName("ThreadedEnginePerDevice"), Engine::Kind::kThreaded);
  EXPECT_EQ(Engine::KindFromName("ThreadedEngine"), Engine::Kind::kThreaded);
  EXPECT_THROW(Engine::KindFromName("Turbo"), ValueError);
}

TEST(Engine, InlineFunctionKeepsSmallCapturesInline) {
  struct Big {
    char bytes[200];
  };
  Big big{};
  big.bytes[199] = 3;
  int hits = 0;
  SyncFn small = [&hits](RunContext) { ++hits; };
  SyncFn large = [big, &hits](RunContext) { hits += big.bytes[199]; };
  SyncFn moved = std::move(large);
  small(RunContext{});
  moved(RunContext{});
  EXPECT_EQ(hits, 4);
  EXPECT_FALSE(static_cast<bool>(large));  // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace mixnet
