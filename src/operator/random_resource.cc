#include "operator/random_resource.h"

#include <map>
#include <memory>
#include <mutex>

#include "mixnet/op/random.h"

namespace mixnet::op {
namespace {
struct Generators {
  std::mutex mu;
  uint64_t seed = 0;  // MXNet's default seed is fixed too: runs are reproducible by default
  std::map<Context, std::unique_ptr<RandomResource>> by_ctx;
};
// Never destroyed, like the engine: generators may be used by ops pushed during exit.
Generators& GetGenerators() {
  static Generators* g = new Generators;
  return *g;
}

/*! \brief A context's stream: the seed mixed with the device, so contexts differ. */
uint64_t StreamSeed(uint64_t seed, Context ctx) {
  return seed * 0x9E3779B97F4A7C15ULL +
         (static_cast<uint64_t>(ctx.dev_type) << 32 | static_cast<uint32_t>(ctx.dev_id));
}

void Reseed(RandomResource* r, uint64_t seed, Context ctx) {
  Engine::Get()->PushSync([r, s = StreamSeed(seed, ctx)](RunContext) { r->engine.seed(s); }, ctx,
                          {}, {r->var}, FnProperty::kNormal, 0, "SeedRandom");
}
}  // namespace

RandomResource& RandomFor(Context ctx) {
  Generators& g = GetGenerators();
  std::lock_guard<std::mutex> lock(g.mu);
  auto& slot = g.by_ctx[ctx];
  if (!slot) {
    slot = std::make_unique<RandomResource>();
    slot->engine.seed(StreamSeed(g.seed, ctx));
    slot->var = Engine::Get()->NewVariable();
  }
  return *slot;
}

void SeedRandom(uint64_t seed, std::optional<Context> ctx) {
  if (ctx) {
    RandomResource& r = RandomFor(*ctx);
    Reseed(&r, seed, *ctx);
    return;
  }
  Generators& g = GetGenerators();
  std::lock_guard<std::mutex> lock(g.mu);
  g.seed = seed;
  for (auto& [c, r] : g.by_ctx)
    Reseed(r.get(), seed, c);
}

}  // namespace mixnet::op
