// The per-context random generator that random ops request (OpDef::NeedsRandom).
#pragma once

#include <random>

#include "mixnet/base/context.h"
#include "mixnet/engine/engine.h"

namespace mixnet::op {

/*! \brief One context's generator; only touched by engine ops that write `var`. */
struct RandomResource {
  std::mt19937_64 engine;
  VarHandle var = nullptr;
};

/*! \brief The generator of `ctx`, created on first use from the current global seed. */
RandomResource& RandomFor(Context ctx);

}  // namespace mixnet::op
