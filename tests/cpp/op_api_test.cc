// The typed op functions generated from the registry (mixnet/op/ops.h).
#include <gtest/gtest.h>

#include <vector>

#include "mixnet/op/op_info.h"
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

TEST(OpApi, OpInfoDescribesInputsParamsAndVisibleOutputs) {
  const OpInfo fc = GetOpInfo("FullyConnected");
  EXPECT_EQ(fc.inputs, (std::vector<std::string>{"data", "weight", "bias?"}));
  bool has_num_hidden = false;
  for (const ParamInfo& p : fc.params) {
    if (p.name != "num_hidden") continue;
    has_num_hidden = true;
    EXPECT_FALSE(p.default_value.has_value());  // required
    EXPECT_EQ(p.type, "int");
  }
  EXPECT_TRUE(has_num_hidden);
  EXPECT_EQ(GetOpInfo("Concat").inputs, (std::vector<std::string>{"*data"}));
  // Dropout's mask is a hidden output: a call shows one.
  const OpInfo dropout = GetOpInfo("Dropout");
  EXPECT_EQ(dropout.outputs.size(), 2u);
  EXPECT_EQ(dropout.num_visible_outputs, 1);
  EXPECT_EQ(GetOpInfo("relu").name, "relu");
  EXPECT_ERROR(GetOpInfo("FullyConected"), ValueError, "FullyConnected");
  EXPECT_EQ(ListOpInfo().size(), ListOps().size());
}

}  // namespace
}  // namespace mixnet::op
