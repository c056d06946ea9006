// init::CreateInitializer and InitializerFromJSON: MXNet's registered names and JSON form.
#include <gtest/gtest.h>

#include "mixnet/base/error.h"
#include "mixnet/initializer/create.h"
#include "test_util.h"

namespace mixnet {
namespace {

TEST(InitializerCreate, NamesWithArgumentsAndDefaults) {
  EXPECT_EQ(init::CreateInitializer("Xavier", {{"magnitude", "2.24"}, {"rnd_type", "gaussian"}})
                ->ToString(),
            "Xavier(rnd_type=gaussian, factor_type=avg, magnitude=2.24)");
  EXPECT_EQ(init::CreateInitializer("uniform")->ToString(), "Uniform(scale=0.07)");
  EXPECT_EQ(init::CreateInitializer("zeros")->ToString(), init::Zero().ToString());
  EXPECT_EQ(init::CreateInitializer("one")->ToString(), init::One().ToString());
  EXPECT_EQ(init::CreateInitializer("normal", {{"sigma", "0.5"}})->ToString(), "Normal(sigma=0.5)");
}

TEST(InitializerCreate, FromJSONAndBareNames) {
  EXPECT_EQ(init::InitializerFromJSON(R"(["constant", {"value": 0.5}])")->ToString(),
            "Constant(value=0.5)");
  EXPECT_EQ(
      init::InitializerFromJSON(R"(["xavier", {"factor_type": "in", "magnitude": 2}])")->ToString(),
      "Xavier(rnd_type=uniform, factor_type=in, magnitude=2)");
  EXPECT_EQ(init::InitializerFromJSON("zeros")->ToString(), init::Zero().ToString());
}

TEST(InitializerCreate, Errors) {
  EXPECT_ERROR(init::CreateInitializer("nosuch"), NotImplementedError, "nosuch", "xavier");
  EXPECT_ERROR(init::CreateInitializer("uniform", {{"scale", "big"}}), ValueError, "scale", "big");
  EXPECT_ERROR(init::InitializerFromJSON("[\"xavier\""), ValueError, "not JSON");
  EXPECT_ERROR(init::InitializerFromJSON("[1, 2]"), ValueError, "initializer name");
}

}  // namespace
}  // namespace mixnet
