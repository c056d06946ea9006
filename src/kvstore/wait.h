/*!
 * \file wait.h
 * \brief What the distributed stores share about waiting: completion callbacks of their
 * communication threads, blocking on one, and how long to wait for peers.
 */
#pragma once

#include <exception>
#include <functional>
#include <future>
#include <memory>

#include "mixnet/base/env.h"
#include "mixnet/base/error.h"

namespace mixnet::kvstore {

/*! \brief Called once with a request's outcome (null: success). */
using Done = std::function<void(std::exception_ptr)>;

/*! \brief Calls start(done) and blocks until `done` has been called; rethrows its error. */
template <typename Start>
void WaitDone(Start&& start) {
  auto finished = std::make_shared<std::promise<void>>();
  std::future<void> result = finished->get_future();
  start(Done([finished](std::exception_ptr e) {
    if (e) {
      finished->set_exception(e);
    } else {
      finished->set_value();
    }
  }));
  result.get();
}

/*! \brief A positive number of seconds from environment variable `name`, else `fallback`. */
inline double EnvSeconds(const char* name, double fallback) {
  const double s = GetEnvDouble(name, fallback);
  MX_CHECK(s > 0, ValueError) << "environment variable " << name << " must be a positive "
                              << "number of seconds, got " << s;
  return s;
}

/*! \brief MIXNET_KVSTORE_TIMEOUT: how long a distributed store waits for its peers before a
 * request fails (default 120 s). */
inline double TimeoutSeconds() {
  return EnvSeconds("MIXNET_KVSTORE_TIMEOUT", 120);
}

}  // namespace mixnet::kvstore
