#include "mixnet/engine/engine.h"

#include <thread>

#include "engine/naive_engine.h"
#include "engine/threaded_engine.h"
#include "mixnet/base/env.h"
#include "mixnet/base/error.h"

namespace mixnet {
namespace {
/*!
 * NOTE [ Engine lifetime ]
 * The process-wide engine is created on first use and never destroyed: arrays that outlive
 * main() (statics, Python objects freed late) still push their deletions. A static holder
 * calls Shutdown() at exit, which drains pending work and joins the workers deterministically;
 * pushes after that run synchronously.
 */
struct GlobalEngine {
  Engine* engine;
  GlobalEngine() {
    const std::string name = GetEnvString("MIXNET_ENGINE_TYPE", "ThreadedEnginePerDevice");
    const int workers = static_cast<int>(GetEnvInt("MIXNET_CPU_WORKER_NTHREADS", 0));
    engine = Engine::Create(Engine::KindFromName(name), workers).release();
  }
  ~GlobalEngine() { engine->Shutdown(); }
};
}  // namespace

Engine* Engine::Get() {
  static GlobalEngine global;
  return global.engine;
}

std::unique_ptr<Engine> Engine::Create(Kind kind, int cpu_workers) {
  if (kind == Kind::kNaive) return std::make_unique<engine::NaiveEngine>();
  // One worker by default: kernels parallelise with their own threads (OpenMP), and
  // several workers times several kernel threads would oversubscribe the cores.
  return std::make_unique<engine::ThreadedEngine>(cpu_workers > 0 ? cpu_workers : 1);
}

Engine::Kind Engine::KindFromName(const std::string& name) {
  if (name == "NaiveEngine" || name == "naive") return Kind::kNaive;
  if (name == "ThreadedEnginePerDevice" || name == "ThreadedEngine" || name == "threaded") {
    return Kind::kThreaded;
  }
  MX_THROW(ValueError) << "MIXNET_ENGINE_TYPE='" << name
                       << "' is unknown; use NaiveEngine, ThreadedEngine or "
                          "ThreadedEnginePerDevice";
}

}  // namespace mixnet
