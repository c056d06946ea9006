// Learning-rate schedulers against rates worked out by hand from MXNet 1.9's formulas.
// (Named op_* to stay out of the ThreadSanitizer build, which has no optimizer layer.)
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "mixnet/base/error.h"
#include "mixnet/optimizer/lr_scheduler.h"
#include "test_util.h"

namespace mixnet {
namespace {

TEST(LRScheduler, FactorDecaysEveryStepAfterPassingIt) {
  FactorScheduler s(2, 0.5, 1e-8, 1.0);
  EXPECT_DOUBLE_EQ(s(1), 1.0);
  EXPECT_DOUBLE_EQ(s(2), 1.0);  // decays only once num_update > count + step
  EXPECT_DOUBLE_EQ(s(3), 0.5);
  EXPECT_DOUBLE_EQ(s(4), 0.5);
  EXPECT_DOUBLE_EQ(s(5), 0.25);
  EXPECT_DOUBLE_EQ(s(7), 0.125);
  EXPECT_DOUBLE_EQ(s.base_lr(), 0.125);
  // A jump (resumed training) applies every passed step at once.
  FactorScheduler jump(2, 0.5, 1e-8, 1.0);
  EXPECT_DOUBLE_EQ(jump(10), 1.0 / 16);
  // The decay never goes below stop_factor_lr.
  FactorScheduler floor(2, 0.1, 0.05, 1.0);
  EXPECT_DOUBLE_EQ(floor(3), 0.1);
  EXPECT_DOUBLE_EQ(floor(5), 0.05);
  EXPECT_DOUBLE_EQ(floor(50), 0.05);
}

TEST(LRScheduler, FactorWithWarmup) {
  FactorScheduler s(5, 0.5, 1e-8, 0.4, {4, 0.0, "linear"});
  EXPECT_DOUBLE_EQ(s(0), 0.0);
  EXPECT_DOUBLE_EQ(s(1), 0.1);
  EXPECT_DOUBLE_EQ(s(3), 0.3);
  EXPECT_DOUBLE_EQ(s(4), 0.4);
  EXPECT_DOUBLE_EQ(s(6), 0.2);
  EXPECT_DOUBLE_EQ(s(11), 0.1);
  FactorScheduler c(5, 0.5, 1e-8, 0.4, {4, 0.05, "constant"});
  EXPECT_DOUBLE_EQ(c(2), 0.05);
  EXPECT_DOUBLE_EQ(c(4), 0.4);
}

TEST(LRScheduler, MultiFactor) {
  MultiFactorScheduler s({2, 5}, 0.1, 1.0);
  EXPECT_DOUBLE_EQ(s(1), 1.0);
  EXPECT_DOUBLE_EQ(s(2), 1.0);
  EXPECT_NEAR(s(3), 0.1, 1e-15);
  EXPECT_NEAR(s(5), 0.1, 1e-15);
  EXPECT_NEAR(s(6), 0.01, 1e-15);
  EXPECT_NEAR(s(100), 0.01, 1e-15);
  MultiFactorScheduler w({3, 5}, 0.5, 1.0, {2, 0.5, "linear"});
  EXPECT_DOUBLE_EQ(w(0), 0.5);
  EXPECT_DOUBLE_EQ(w(1), 0.75);
  EXPECT_DOUBLE_EQ(w(2), 1.0);
  EXPECT_DOUBLE_EQ(w(4), 0.5);
  EXPECT_DOUBLE_EQ(w(9), 0.25);
}

TEST(LRScheduler, Poly) {
  PolyScheduler s(10, 1.0, 2, 0.1, {2, 0.0, "linear"});
  EXPECT_DOUBLE_EQ(s(1), 0.5);
  EXPECT_DOUBLE_EQ(s(2), 1.0);
  EXPECT_DOUBLE_EQ(s(6), 0.1 + 0.9 * 0.25);  // t = 4 / 8 after warm-up
  EXPECT_DOUBLE_EQ(s(10), 0.1);
  EXPECT_DOUBLE_EQ(s(12), 0.1);  // kept past max_update
  PolyScheduler linear(10, 2.0, 1);
  EXPECT_DOUBLE_EQ(linear(5), 1.0);
  EXPECT_DOUBLE_EQ(linear(8), 0.4);
}

TEST(LRScheduler, Cosine) {
  CosineScheduler s(10, 1.0, 0.0, {4, 0.2, "constant"});
  EXPECT_DOUBLE_EQ(s(3), 0.2);
  EXPECT_DOUBLE_EQ(s(4), 1.0);
  EXPECT_NEAR(s(5), (1 + std::sqrt(3.0) / 2) / 2, 1e-12);  // t = 1 / 6
  EXPECT_NEAR(s(7), 0.5, 1e-12);
  EXPECT_NEAR(s(10), 0.0, 1e-12);
  EXPECT_NEAR(s(20), 0.0, 1e-12);
  CosineScheduler f(4, 0.5, 0.1);
  EXPECT_NEAR(f(2), 0.3, 1e-12);
}

TEST(LRScheduler, BadArgumentsRaiseValueError) {
  EXPECT_ERROR(FactorScheduler(0), ValueError, "step");
  EXPECT_ERROR(FactorScheduler(1, 2.0), ValueError, "factor");
  EXPECT_ERROR(MultiFactorScheduler({3, 3}), ValueError, "increasing");
  EXPECT_ERROR(MultiFactorScheduler({}), ValueError, "empty");
  EXPECT_ERROR(PolyScheduler(0), ValueError, "strictly positive");
  EXPECT_ERROR(CosineScheduler(10, 0.1, 0.5), ValueError, "final_lr");
  EXPECT_ERROR(FactorScheduler(1, 1, 1e-8, 0.1, {2, 0.5, "linear"}), ValueError, "warmup_begin_lr");
  EXPECT_ERROR(FactorScheduler(1, 1, 1e-8, 0.1, {2, 0.0, "cubic"}), ValueError, "cubic");
}

}  // namespace
}  // namespace mixnet
