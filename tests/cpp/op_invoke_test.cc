// Operator parameters, registry lookups and the generic invoke: parsing MXNet's attribute
// syntax, and errors that name the op, the argument and the shapes.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/op/invoke.h"
#include "mixnet/storage/storage.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

struct ConvLikeParam {
  std::vector<int64_t> kernel;
  std::vector<int64_t> stride;
  int64_t num_filter = 0;
  bool no_bias = false;
  int layout = 0;
  double eps = 1e-5;
  std::optional<int64_t> axis;
  static void Declare(ParamDecl<ConvLikeParam>& d) {
    d.Field("kernel", &ConvLikeParam::kernel).Doc("Kernel size.");
    d.Field("stride", &ConvLikeParam::stride).Default({}).Doc("Stride.");
    d.Field("num_filter", &ConvLikeParam::num_filter).Range(1, 100000).Doc("Output channels.");
    d.Field("no_bias", &ConvLikeParam::no_bias).Default(false);
    d.Field("layout", &ConvLikeParam::layout).Enum({"NCHW", "NHWC"}).Default("NCHW");
    d.Field("eps", &ConvLikeParam::eps).Default(1e-5).Lower(0.0);
    d.Field("axis", &ConvLikeParam::axis).Default(std::nullopt);
  }
};

const ParamParser& Parser() {
  return ParamParserFor<ConvLikeParam>();
}

ConvLikeParam Parse(const AttrDict& attrs) {
  return *static_cast<const ConvLikeParam*>(Parser().Parse(attrs, "Conv").get());
}

TEST(OpParam, ParsesMXNetSyntax) {
  const ConvLikeParam p = Parse({{"kernel", "(3, 3)"},
                                 {"num_filter", "64"},
                                 {"no_bias", "True"},
                                 {"layout", "NHWC"},
                                 {"eps", "2e-5"},
                                 {"axis", "-1"},
                                 {"__lr_mult__", "2.0"}});  // hidden graph attrs are ignored
  EXPECT_EQ(p.kernel, (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(p.stride.empty());
  EXPECT_EQ(p.num_filter, 64);
  EXPECT_TRUE(p.no_bias);
  EXPECT_EQ(p.layout, 1);
  EXPECT_DOUBLE_EQ(p.eps, 2e-5);
  EXPECT_EQ(p.axis, std::optional<int64_t>(-1));
  const ConvLikeParam q = Parse({{"kernel", "[5,5]"},
                                 {"num_filter", "8L"},
                                 {"axis", "None"},
                                 {"no_bias", "0"},
                                 {"stride", "2"}});
  EXPECT_EQ(q.kernel, (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(q.stride, (std::vector<int64_t>{2}));
  EXPECT_EQ(q.num_filter, 8);
  EXPECT_FALSE(q.no_bias);
  EXPECT_FALSE(q.axis.has_value());
}

TEST(OpParam, PrintsCanonicalValuesThatParseBack) {
  const auto parsed = Parser().Parse({{"kernel", "(3,3)"}, {"num_filter", "4"}}, "Conv");
  const AttrDict printed = Parser().Print(parsed.get());
  EXPECT_EQ(printed, (AttrDict{{"kernel", "(3, 3)"},
                               {"stride", "()"},
                               {"num_filter", "4"},
                               {"no_bias", "False"},
                               {"layout", "NCHW"},
                               {"eps", "1e-05"},
                               {"axis", "None"}}));
  const ConvLikeParam back = Parse(printed);
  EXPECT_EQ(back.kernel, (std::vector<int64_t>{3, 3}));
  EXPECT_DOUBLE_EQ(back.eps, 1e-5);
}

TEST(OpParam, FieldInfoForDocs) {
  const auto& fields = Parser().Fields();
  ASSERT_EQ(fields.size(), 7u);
  EXPECT_EQ(fields[0].name, "kernel");
  EXPECT_EQ(fields[0].type_name, "tuple of int");
  EXPECT_FALSE(fields[0].default_value.has_value());  // required
  EXPECT_EQ(fields[4].type_name, "{'NCHW', 'NHWC'}");
  EXPECT_EQ(fields[4].default_value, std::optional<std::string>("'NCHW'"));
  EXPECT_EQ(fields[6].type_name, "int or None");
}

TEST(OpParam, ErrorsNameOpArgumentAndValue) {
  EXPECT_ERROR(Parse({{"num_filter", "4"}}), ValueError, "Conv", "required argument 'kernel'",
               "Kernel size");
  EXPECT_ERROR(Parse({{"kernel", "(3, x)"}, {"num_filter", "4"}}), ValueError, "Conv", "'(3, x)'",
               "'kernel'", "tuple");
  EXPECT_ERROR(Parse({{"kernel", "3"}, {"num_filter", "0"}}), ValueError, "'num_filter'",
               "[1, 100000]");
  EXPECT_ERROR(Parse({{"kernel", "3"}, {"num_filter", "4"}, {"no_bias", "yes"}}), ValueError,
               "'no_bias'", "True or False");
  EXPECT_ERROR(Parse({{"kernel", "3"}, {"num_filter", "4"}, {"layout", "NCHX"}}), ValueError,
               "'layout'", "did you mean 'NCHW'");
  EXPECT_ERROR(Parse({{"kernel", "3"}, {"num_filter", "4"}, {"eps", "-1"}}), ValueError, "'eps'",
               ">= 0");
  EXPECT_ERROR(Parse({{"kernel", "3"}, {"num_filter", "99999999999"}}), ValueError, "'num_filter'");
  // An unknown name is a TypeError, as for an unexpected Python keyword argument.
  EXPECT_ERROR(Parse({{"kernel", "3"}, {"num_filtr", "4"}}), TypeError,
               "unexpected argument 'num_filtr'", "did you mean 'num_filter'");
}

TEST(OpParam, NearestNames) {
  const std::vector<std::string> names = {"Convolution", "Deconvolution", "Concat", "Cast"};
  EXPECT_EQ(NearestNames("Convolutoin", names), (std::vector<std::string>{"Convolution"}));
  EXPECT_EQ(NearestNames("zzzz", names), (std::vector<std::string>{}));
  EXPECT_EQ(DidYouMean("Cat", names), " (did you mean 'Cast'?)");
}

TEST(OpRegistry, LookupByNameAndAlias) {
  EXPECT_EQ(&Registry::Get("_plus"), &Registry::Get("elemwise_add"));
  EXPECT_EQ(Registry::Find("no_such_op"), nullptr);
  EXPECT_ERROR(Registry::Get("elemwise_ad"), ValueError, "unknown operator 'elemwise_ad'",
               "did you mean 'elemwise_add'");
  const auto ops = ListOps();
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "elemwise_add"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "_plus"), 0);  // aliases are not listed
}

TEST(OpInvoke, RunsAsynchronouslyAndWritesGivenOutputs) {
  const NDArray a = NDArray::FromVector<float>({1, 2, 3, 4}, {2, 2});
  const NDArray b = NDArray::FromVector<float>({10, 20, 30, 40}, {2, 2});
  const NDArray sum = Invoke("elemwise_add", {a, b})[0];
  EXPECT_EQ(sum.ToVector<float>(), (std::vector<float>{11, 22, 33, 44}));
  // out= semantics: the given array receives the result; in-place on an input works too.
  const NDArray out = NDArray::Zeros({2, 2});
  const NDArray ab[] = {a, b};
  Invoke("_mul", ab, {}, std::span<const NDArray>(&out, 1));
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{10, 40, 90, 160}));
  Invoke("_plus_scalar", std::span<const NDArray>(&a, 1), {{"scalar", "0.5"}},
         std::span<const NDArray>(&a, 1));
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{1.5, 2.5, 3.5, 4.5}));
}

TEST(OpInvoke, ErrorsNameTheOpTheArgumentAndTheShapes) {
  const NDArray a = NDArray::Zeros({2, 3});
  const NDArray b = NDArray::Zeros({2, 4});
  const NDArray i = NDArray::Zeros({2, 3}, DType::kInt32);
  EXPECT_ERROR(Invoke("elemwise_add", {a, b}), ValueError, "elemwise_add", "rhs", "(2, 4)",
               "(2, 3)");
  EXPECT_ERROR(Invoke("elemwise_add", {a}), ValueError, "elemwise_add takes 2 input(s)", "lhs, rhs",
               "got 1");
  EXPECT_ERROR(Invoke("sin", {i}), TypeError, "sin", "data", "int32");
  EXPECT_ERROR(Invoke("elemwise_add", {a, i}), TypeError, "elemwise_add", "rhs", "int32",
               "float32");
  EXPECT_ERROR(Invoke("_plus_scalar", {a}, {{"scalr", "1"}}), TypeError, "_plus_scalar", "'scalr'",
               "did you mean 'scalar'");
  EXPECT_ERROR(Invoke("sinn", {a}), ValueError, "unknown operator 'sinn'", "'sin'");
  const NDArray wrong_out = NDArray::Zeros({3, 2});
  const NDArray ins[] = {a, a};
  EXPECT_ERROR(Invoke("elemwise_add", ins, {}, std::span<const NDArray>(&wrong_out, 1)), ValueError,
               "elemwise_add", "output", "(3, 2)", "(2, 3)");
  EXPECT_ERROR(Invoke("sin", std::span<const NDArray>(&a, 1), {}, {}, {.kernel = "fastest"}),
               ValueError, "sin has no kernel 'fastest'");
}

TEST(OpInvoke, ZeroSizeAndHalfPrecision) {
  const NDArray empty = NDArray::Zeros({0, 3});
  EXPECT_EQ(Invoke("exp", {empty})[0].shape(), (Shape{0, 3}));
  const NDArray h = NDArray::Ones({4}, DType::kFloat16);
  const NDArray y = Invoke("_mul_scalar", {h}, {{"scalar", "3"}})[0];
  EXPECT_EQ(y.dtype(), DType::kFloat16);
  NDArray f(y.shape(), Context::cpu(), DType::kFloat32);
  y.CopyTo(f);
  EXPECT_EQ(f.ToVector<float>(), (std::vector<float>{3, 3, 3, 3}));
}

TEST(OpInvoke, CachedAttributesFollowTheStrings) {
  // Parsed attributes are cached per (op, strings): alternating values must not be mixed up.
  const NDArray a = NDArray::FromVector<float>({1, 2}, {2});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Invoke("_plus_scalar", {a}, {{"scalar", "1"}})[0].ToVector<float>(),
              (std::vector<float>{2, 3}));
    EXPECT_EQ(Invoke("_plus_scalar", {a}, {{"scalar", "10"}})[0].ToVector<float>(),
              (std::vector<float>{11, 12}));
    EXPECT_EQ(Invoke("_minus_scalar", {a}, {{"scalar", "1"}})[0].ToVector<float>(),
              (std::vector<float>{0, 1}));
  }
  // A bad value raises every time: failures are not cached.
  for (int i = 0; i < 2; ++i) {
    EXPECT_ERROR(Invoke("_plus_scalar", {a}, {{"scalar", "one"}}), ValueError, "_plus_scalar",
                 "scalar", "'one'");
  }
}

TEST(OpInvoke, ByHandle) {
  const OpDef* add = GetOp("_plus");  // an alias resolves to its op
  EXPECT_EQ(add, &Registry::Get("elemwise_add"));
  const NDArray a = NDArray::FromVector<float>({1, 2}, {2});
  const NDArray ab[] = {a, a};
  EXPECT_EQ(Invoke(add, ab)[0].ToVector<float>(), (std::vector<float>{2, 4}));
  EXPECT_ERROR(GetOp("elemwise_ad"), ValueError, "unknown operator 'elemwise_ad'");
}

TEST(OpInvoke, CallerMayDropArraysWhileTheOpIsPending) {
  // The pushed op holds no references: the engine deletes a dropped array's chunk only after
  // the ops already pushed on it (NOTE [ Chunk lifetime ]).
  const NDArray out = NDArray::Zeros({1000});
  std::atomic<bool> open{Engine::Get()->kind() == Engine::Kind::kNaive};  // naive: no waiting
  {
    const std::vector<NDArray> in = {NDArray::Ones({1000}), NDArray::Ones({1000})};
    // Hold the first input so that the ops below wait until the arrays have been dropped.
    Engine::Get()->PushSync(
        [&open](RunContext) {
          while (!open)
            std::this_thread::yield();
        },
        Context::cpu(), {}, {in[0].var()});
    Invoke("elemwise_add", in, {}, std::span<const NDArray>(&out, 1));
    Invoke("elemwise_add", in);  // its output is dropped at once
  }
  open = true;
  EXPECT_EQ(out.ToVector<float>(), std::vector<float>(1000, 2.0f));
}

TEST(OpTempSpace, BlocksAreAlignedDistinctAndReturnToThePool) {
  Engine::Get()->WaitForAll();
  const size_t before = Storage::Get()->Stats(Context::cpu()).bytes_in_use;
  {
    TempSpace temp;
    auto* a = static_cast<char*>(temp.Alloc(100));
    float* b = temp.Alloc<float>(1000);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % kStorageAlign, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % kStorageAlign, 0u);
    EXPECT_TRUE(a + 100 <= reinterpret_cast<char*>(b) || reinterpret_cast<char*>(b + 1000) <= a);
    EXPECT_GE(Storage::Get()->Stats(Context::cpu()).bytes_in_use, before + 4100);
  }
  EXPECT_EQ(Storage::Get()->Stats(Context::cpu()).bytes_in_use, before);
}

TEST(OpTempSpace, DeclaredByTheOpsWhoseKernelsUseIt) {
  for (const char* op : {"Convolution", "_convolution_backward_weight", "Deconvolution", "Pooling",
                         "_pooling_backward", "LayerNorm", "_layer_norm_backward", "LRN"}) {
    EXPECT_TRUE(Registry::Get(op).needs_temp_space) << op;
  }
  EXPECT_FALSE(Registry::Get("elemwise_add").needs_temp_space);
}

}  // namespace
}  // namespace mixnet::op
