// Helpers shared by the C++ suites.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

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

/*! \brief n doubles drawn uniformly from [lo, hi) with a fixed seed. */
inline std::vector<double> Random(size_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (double& x : v)
    x = d(rng);
  return v;
}

/*! \brief Element-wise EXPECT_NEAR over equal-length vectors. */
inline void ExpectNear(const std::vector<double>& got, const std::vector<double>& want,
                       double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

}  // namespace mixnet::testing_util

/*! \brief EXPECT_ERROR(statement, ValueError, "part of the message", ...). */
#define EXPECT_ERROR(stmt, Kind, ...) \
  ::mixnet::testing_util::ExpectError<Kind>([&] { stmt; }, {__VA_ARGS__}, __LINE__)
