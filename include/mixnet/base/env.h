/*!
 * \file env.h
 * \brief Reading configuration from environment variables (MIXNET_*; MXNET_* accepted too).
 */
#pragma once

#include <cstdint>
#include <string>

namespace mixnet {

/*!
 * \brief Value of `name` (e.g. "MIXNET_ENGINE_TYPE"), else of its MXNET_ twin, else `fallback`.
 * Raises ValueError naming the variable when a numeric variable does not parse.
 */
std::string GetEnvString(const char* name, const std::string& fallback);
int64_t GetEnvInt(const char* name, int64_t fallback);
/*! \brief As GetEnvInt, for a (finite) floating-point value. */
double GetEnvDouble(const char* name, double fallback);

}  // namespace mixnet
