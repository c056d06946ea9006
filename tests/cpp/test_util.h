// Helpers shared by the C++ suites.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace mixnet::testing_util {

/*! \brief Runs `f`, expects it to throw `E` whose message contains every part. */
template <typename E, typename F>
void ExpectError(F&& f, std::initializer_list<std::string> parts, int line) {
  SCOPED_TRACE("checked at line " + std::to_string(line));
  try {
    f();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) {
      EXPECT_NE(msg.find(p), std::string::npos) << "message '" << msg << "' lacks '" << p << "'";
    }
  }
}

}  // namespace mixnet::testing_util

/*! \brief EXPECT_ERROR(statement, ValueError, "part of the message", ...). */
#define EXPECT_ERROR(stmt, Kind, ...) \
  ::mixnet::testing_util::ExpectError<Kind>([&] { stmt; }, {__VA_ARGS__}, __LINE__)
