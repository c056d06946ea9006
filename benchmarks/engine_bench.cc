// Engine overhead per push (no-op functions), threaded vs naive, and the end-to-end cost of
// small NDArray operations. Goal: under 1 us per push amortised on the threaded engine.
//
//   build/benchmarks/engine_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <vector>

#include "mixnet/engine/engine.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/invoke.h"

namespace mixnet {
namespace {

constexpr int kBatch = 1000;

Engine::Kind KindArg(const benchmark::State& state) {
  return state.range(0) == 0 ? Engine::Kind::kNaive : Engine::Kind::kThreaded;
}

/*!
 * \brief One benchmark iteration is one push; every kBatch pushes wait for all, so the time per
 * iteration is the amortised cost of pushing, scheduling and running one op.
 */
template <typename PushFn>
void RunPushes(benchmark::State& state, Engine* engine, PushFn&& push) {
  int i = 0;
  for (auto _ : state) {
    push(i);
    if (++i % kBatch == 0) engine->WaitForAll();
  }
  engine->WaitForAll();
  state.SetLabel(engine->kind() == Engine::Kind::kNaive ? "naive" : "threaded");
  state.SetItemsProcessed(state.iterations());
}

/*! \brief Independent no-op pushes, each writing one of 64 vars, then one wait per batch. */
void BM_PushNoopIndependent(benchmark::State& state) {
  auto engine = Engine::Create(KindArg(state), 1);
  std::vector<VarHandle> vars;
  for (int i = 0; i < 64; ++i)
    vars.push_back(engine->NewVariable());
  RunPushes(state, engine.get(), [&](int i) {
    engine->PushSync([](RunContext) {}, Context::cpu(), {}, {vars[i & 63]}, FnProperty::kNormal, 0,
                     "noop");
  });
}
BENCHMARK(BM_PushNoopIndependent)->Arg(0)->Arg(1)->UseRealTime();

/*! \brief A dependency chain: every push reads the previous var and writes the next. */
void BM_PushNoopChain(benchmark::State& state) {
  auto engine = Engine::Create(KindArg(state), 1);
  std::vector<VarHandle> vars;
  for (int i = 0; i < 64; ++i)
    vars.push_back(engine->NewVariable());
  RunPushes(state, engine.get(), [&](int i) {
    engine->PushSync([](RunContext) {}, Context::cpu(), {vars[i & 63]}, {vars[(i + 1) & 63]},
                     FnProperty::kNormal, 0, "noop");
  });
}
BENCHMARK(BM_PushNoopChain)->Arg(0)->Arg(1)->UseRealTime();

/*! \brief The same chain pushed in bulks of 16 (one engine op per 16 pushes). */
void BM_PushNoopChainBulk16(benchmark::State& state) {
  auto engine = Engine::Create(KindArg(state), 1);
  std::vector<VarHandle> vars;
  for (int i = 0; i < 64; ++i)
    vars.push_back(engine->NewVariable());
  BulkScope bulk(16, engine.get());
  RunPushes(state, engine.get(), [&](int i) {
    engine->PushSync([](RunContext) {}, Context::cpu(), {vars[i & 63]}, {vars[(i + 1) & 63]},
                     FnProperty::kNormal, 0, "noop");
  });
}
BENCHMARK(BM_PushNoopChainBulk16)->Arg(0)->Arg(1)->UseRealTime();

/*!
 * \brief End to end on the process-wide engine: a small NDArray op (fill 16 floats, or copy
 * 16 floats into another array) including the dependency tracking and the kernel.
 */
void BM_NDArrayFillSmall(benchmark::State& state) {
  NDArray a = NDArray::Zeros(Shape{16});
  RunPushes(state, Engine::Get(), [&](int i) { a.Fill(static_cast<double>(i)); });
}
BENCHMARK(BM_NDArrayFillSmall)->UseRealTime();

void BM_NDArrayCopySmall(benchmark::State& state) {
  NDArray a = NDArray::Ones(Shape{16});
  NDArray b = NDArray::Zeros(Shape{16});
  RunPushes(state, Engine::Get(), [&](int) { a.CopyTo(b); });
}
BENCHMARK(BM_NDArrayCopySmall)->UseRealTime();

/*!
 * \brief Eager op invocation by name on 1000 floats, where the kernel is negligible: the
 * per-op overhead of lookup, attribute parsing, inference, output allocation and the push.
 */
void BM_InvokeSmall(benchmark::State& state, const char* op, int num_inputs) {
  std::vector<NDArray> in;
  for (int i = 0; i < num_inputs; ++i)
    in.push_back(NDArray::Ones(Shape{1000}));
  RunPushes(state, Engine::Get(), [&](int) { op::Invoke(op, in); });
}
BENCHMARK_CAPTURE(BM_InvokeSmall, elemwise_add, "elemwise_add", 2)->UseRealTime();
BENCHMARK_CAPTURE(BM_InvokeSmall, exp, "exp", 1)->UseRealTime();
BENCHMARK_CAPTURE(BM_InvokeSmall, sum, "sum", 1)->UseRealTime();

}  // namespace
}  // namespace mixnet

BENCHMARK_MAIN();
