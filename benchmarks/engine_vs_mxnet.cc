// Engine push cost, mixnet vs MXNet 1.9.1, side by side in one process.
//
// MXNet is reached through the C API of the libmxnet.so that its pip wheel ships (loaded with
// dlopen; nothing of MXNet is linked): MXEnginePushSync with a no-op C callback. Both engines
// run with one CPU worker thread (MXNet's default, and mixnet's). Each figure is the median
// over repetitions of the wall time per push, amortised over a batch that ends in a wait.
//
//   engine_vs_mxnet [--mxnet-lib PATH/libmxnet.so] [--pushes N] [--reps R]
// Without a loadable libmxnet.so the MXNet column is skipped with the reason.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mixnet/engine/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kVars = 64;

// ---- MXNet 1.9.1 C API, the few entry points used (signatures from its c_api.h).
using MXHandle = void*;
using EngineSyncFunc = void (*)(void* rctx, void* param);
struct MXContext {  // mxnet::Context: DeviceType (int) then int32 dev_id
  int32_t dev_type;
  int32_t dev_id;
};
struct MXNetApi {
  int (*create_ex)(const uint32_t*, uint32_t, int, int, int, int, MXHandle*);
  int (*free_nd)(MXHandle);
  int (*wait_all)();
  int (*set_bulk)(int, int*);
  int (*push_sync_nd)(EngineSyncFunc, void*, void (*)(void*), MXHandle, MXHandle*, int, MXHandle*,
                      int, MXHandle, int, const char*);
  const char* (*last_error)();
};

void NoopCallback(void*, void*) {}

std::string LoadMXNet(const std::string& path, MXNetApi* api) {
  if (path.empty()) return "no libmxnet.so given (--mxnet-lib or MIXNET_MXNET_LIB)";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) return std::string("dlopen failed: ") + dlerror();
  auto sym = [&](const char* name) { return dlsym(lib, name); };
  api->create_ex = reinterpret_cast<decltype(api->create_ex)>(sym("MXNDArrayCreateEx"));
  api->free_nd = reinterpret_cast<decltype(api->free_nd)>(sym("MXNDArrayFree"));
  api->wait_all = reinterpret_cast<decltype(api->wait_all)>(sym("MXNDArrayWaitAll"));
  api->set_bulk = reinterpret_cast<decltype(api->set_bulk)>(sym("MXEngineSetBulkSize"));
  api->push_sync_nd = reinterpret_cast<decltype(api->push_sync_nd)>(sym("MXEnginePushSyncND"));
  api->last_error = reinterpret_cast<decltype(api->last_error)>(sym("MXGetLastError"));
  if (!api->create_ex || !api->free_nd || !api->wait_all || !api->set_bulk || !api->push_sync_nd ||
      !api->last_error) {
    return "libmxnet.so lacks the engine C API (MXNet >= 1.5 needed)";
  }
  return "";
}

/*! \brief One workload: push `n` no-op ops; `i` selects the vars. Returns ns per push. */
struct Runner {
  std::function<void(int i)> push;
  std::function<void()> wait;
  std::function<void(int)> set_bulk;
};

enum class Workload { kIndependent, kChain, kChainBulk16 };
const char* Name(Workload w) {
  switch (w) {
    case Workload::kIndependent:
      return "no-op push, independent vars";
    case Workload::kChain:
      return "no-op push, dependency chain";
    case Workload::kChainBulk16:
      return "no-op push, chain, bulk of 16";
  }
  return "";
}

double MedianNsPerPush(Runner& r, Workload w, int pushes, int reps) {
  r.set_bulk(w == Workload::kChainBulk16 ? 16 : 0);
  std::vector<double> samples;
  for (int rep = 0; rep < reps + 1; ++rep) {  // the first repetition warms up
    const auto t0 = Clock::now();
    for (int i = 0; i < pushes; ++i)
      r.push(i);
    r.wait();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    if (rep > 0) samples.push_back(ns / pushes);
  }
  r.set_bulk(0);
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_lib = std::getenv("MIXNET_MXNET_LIB");
  std::string mxnet_lib = env_lib ? env_lib : "";
  int pushes = 200000, reps = 7;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--mxnet-lib") && i + 1 < argc) {
      mxnet_lib = argv[++i];
    } else if (!std::strcmp(argv[i], "--pushes") && i + 1 < argc) {
      pushes = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--mxnet-lib PATH] [--pushes N] [--reps R]\n", argv[0]);
      return 2;
    }
  }
  // Equal thread counts: one CPU worker each (both engines read these before starting).
  setenv("MXNET_CPU_WORKER_NTHREADS", "1", 1);
  setenv("MXNET_ENGINE_TYPE", "ThreadedEnginePerDevice", 1);
  setenv("OMP_NUM_THREADS", "1", 1);

  using mixnet::Engine;
  auto engine = Engine::Create(Engine::Kind::kThreaded, 1);
  auto naive = Engine::Create(Engine::Kind::kNaive);
  auto mixnet_runner = [&](Engine* e) {
    auto vars = std::make_shared<std::vector<mixnet::VarHandle>>();
    for (int i = 0; i < kVars; ++i)
      vars->push_back(e->NewVariable());
    return [e, vars](Workload w) {
      Runner r;
      r.wait = [e] { e->WaitForAll(); };
      r.set_bulk = [e](int n) { e->SetBulkSize(n); };
      if (w == Workload::kIndependent) {
        r.push = [e, vars](int i) {
          e->PushSync([](mixnet::RunContext) {}, mixnet::Context::cpu(), {}, {(*vars)[i % kVars]},
                      mixnet::FnProperty::kNormal, 0, "noop");
        };
      } else {
        r.push = [e, vars](int i) {
          e->PushSync([](mixnet::RunContext) {}, mixnet::Context::cpu(), {(*vars)[i % kVars]},
                      {(*vars)[(i + 1) % kVars]}, mixnet::FnProperty::kNormal, 0, "noop");
        };
      }
      return r;
    };
  };
  auto threaded_workload = mixnet_runner(engine.get());
  auto naive_workload = mixnet_runner(naive.get());

  MXNetApi mx{};
  const std::string why_not = LoadMXNet(mxnet_lib, &mx);
  std::vector<MXHandle> nds;
  MXContext mx_ctx{1, 0};
  if (why_not.empty()) {
    const uint32_t shape[1] = {1};
    for (int i = 0; i < kVars; ++i) {
      MXHandle h = nullptr;
      if (mx.create_ex(shape, 1, 1, 0, 1, 0, &h) != 0) {
        std::fprintf(stderr, "MXNDArrayCreateEx failed: %s\n", mx.last_error());
        return 1;
      }
      nds.push_back(h);
    }
  }
  auto mxnet_workload = [&](Workload w) {
    Runner r;
    r.wait = [&] { mx.wait_all(); };
    r.set_bulk = [&](int n) {
      int prev = 0;
      mx.set_bulk(n, &prev);
    };
    const bool chain = w != Workload::kIndependent;
    r.push = [&, chain](int i) {
      MXHandle reads[1] = {nds[i % kVars]};
      MXHandle writes[1] = {nds[(i + (chain ? 1 : 0)) % kVars]};
      mx.push_sync_nd(&NoopCallback, nullptr, nullptr, &mx_ctx, reads, chain ? 1 : 0, writes, 1,
                      nullptr, 0, "noop");
    };
    return r;
  };

  std::printf("Engine cost per push (median of %d x %d pushes, one worker thread each)\n", reps,
              pushes);
  if (!why_not.empty()) std::printf("MXNet 1.9.1 skipped: %s\n", why_not.c_str());
  std::printf(
      "\n| workload | mixnet threaded ns | mixnet naive ns | MXNet 1.9.1 threaded ns | "
      "MXNet / mixnet |\n|---|---:|---:|---:|---:|\n");
  for (Workload w : {Workload::kIndependent, Workload::kChain, Workload::kChainBulk16}) {
    Runner t = threaded_workload(w), n = naive_workload(w);
    const double ours = MedianNsPerPush(t, w, pushes, reps);
    const double ours_naive = MedianNsPerPush(n, w, pushes, reps);
    if (why_not.empty()) {
      Runner m = mxnet_workload(w);
      const double theirs = MedianNsPerPush(m, w, pushes, reps);
      std::printf("| %s | %.0f | %.0f | %.0f | %.2fx |\n", Name(w), ours, ours_naive, theirs,
                  theirs / ours);
    } else {
      std::printf("| %s | %.0f | %.0f | skipped | - |\n", Name(w), ours, ours_naive);
    }
  }
  for (MXHandle h : nds)
    mx.free_nd(h);
  if (why_not.empty()) mx.wait_all();
  return 0;
}
