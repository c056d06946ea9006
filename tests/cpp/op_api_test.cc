// The typed op functions generated from the registry (mixnet/op/ops.h).
#include <gtest/gtest.h>

#include <vector>

#include "mixnet/op/ops.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

TEST(OpApi, TypedFunctionsRunTheRegisteredOps) {
  const NDArray a = NDArray::FromVector<float>({1, 2, 3, 4}, {2, 2});
  const NDArray b = NDArray::FromVector<float>({4, 3, 2, 1}, {2, 2});
  EXPECT_EQ(elemwise_add(a, b).ToVector<float>(), (std::vector<float>{5, 5, 5, 5}));
  EXPECT_EQ(elemwise_mul(a, b).ToVector<float>(), (std::vector<float>{4, 6, 6, 4}));
  // Aliases are functions too, and fields left unset keep the op's defaults.
  EXPECT_EQ(_mul_scalar(a, {.scalar = 0.5}).ToVector<float>(),
            (std::vector<float>{0.5, 1, 1.5, 2}));
  EXPECT_EQ(_plus_scalar(a).ToVector<float>(), (std::vector<float>{2, 3, 4, 5}));  // scalar=1
  EXPECT_EQ(negative(square(a)).ToVector<float>(), (std::vector<float>{-1, -4, -9, -16}));
}

TEST(OpApi, ArgumentStructsConvertToMXNetAttributes) {
  const PowerScalarArgs args{.scalar = 2.5, .is_int = false};
  EXPECT_EQ(args.ToAttrs(), (AttrDict{{"scalar", "2.5"}, {"is_int", "False"}}));
  EXPECT_TRUE(PowerScalarArgs{}.ToAttrs().empty());
  EXPECT_EQ(AttrValue(std::vector<int64_t>{3, 3}), "(3, 3)");
  EXPECT_EQ(AttrValue(std::vector<int64_t>{3}), "(3,)");
  EXPECT_EQ(AttrValue(1e-5), "1e-05");
}

TEST(OpApi, ErrorsComeFromTheOpDefinition) {
  const NDArray a = NDArray::Zeros({2, 3});
  const NDArray b = NDArray::Zeros({3, 2});
  EXPECT_ERROR(elemwise_add(a, b), ValueError, "elemwise_add", "rhs", "(3, 2)", "(2, 3)");
}

}  // namespace
}  // namespace mixnet::op
