/*!
 * \file random.h
 * \brief Seeding the random number generators that random ops use (mx.random.seed).
 *
 * Each context has one generator. Random ops declare it as a resource and the engine orders
 * them through the generator's variable, so a fixed seed and the same sequence of ops give
 * the same numbers, with any engine.
 */
#pragma once

#include <cstdint>
#include <optional>

#include "mixnet/base/context.h"

namespace mixnet::op {

/*!
 * \brief Reseeds the generator of `ctx`, or of every context when none is given (contexts
 * first used later start from this seed too). Ordered after random ops already pushed.
 */
void SeedRandom(uint64_t seed, std::optional<Context> ctx = std::nullopt);

}  // namespace mixnet::op
