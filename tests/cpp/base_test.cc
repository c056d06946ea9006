// Unit tests of the base layer: DType, float16/bfloat16, Context, Shape, InferReshape, env.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "mixnet/base/context.h"
#include "mixnet/base/dtype.h"
#include "mixnet/base/env.h"
#include "mixnet/base/error.h"
#include "mixnet/base/half.h"
#include "mixnet/base/shape.h"
#include "test_util.h"

namespace mixnet {
namespace {

Shape Infer(const Shape& src, std::initializer_list<int64_t> codes, bool reverse = false) {
  return InferReshape(src, std::span<const int64_t>(codes.begin(), codes.size()), reverse);
}

// ---------------------------------------------------------------- errors

TEST(Error, KindsAndMessages) {
  EXPECT_STREQ(ErrorKindName(ErrorKind::kValueError), "ValueError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kError), "MXNetError");
  EXPECT_ERROR(ThrowError(ErrorKind::kIndexError, "idx"), IndexError, "idx");
  EXPECT_ERROR(MX_CHECK(1 + 1 == 3, TypeError) << "math " << 42, TypeError, "math 42");
  try {
    MX_INTERNAL_ASSERT(false) << "detail";
    FAIL();
  } catch (const InternalError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternalError);
    EXPECT_NE(std::string(e.what()).find("detail"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("bug"), std::string::npos);
  }
}

// ---------------------------------------------------------------- dtype

TEST(DType, FlagsSizesNames) {
  struct Row {
    DType t;
    int flag;
    size_t size;
    const char* name;
    bool floating;
  };
  const Row rows[] = {
      {DType::kFloat32, 0, 4, "float32", true},    {DType::kFloat64, 1, 8, "float64", true},
      {DType::kFloat16, 2, 2, "float16", true},    {DType::kUint8, 3, 1, "uint8", false},
      {DType::kInt32, 4, 4, "int32", false},       {DType::kInt8, 5, 1, "int8", false},
      {DType::kInt64, 6, 8, "int64", false},       {DType::kBool, 7, 1, "bool", false},
      {DType::kInt16, 8, 2, "int16", false},       {DType::kUint16, 9, 2, "uint16", false},
      {DType::kUint32, 10, 4, "uint32", false},    {DType::kUint64, 11, 8, "uint64", false},
      {DType::kBFloat16, 12, 2, "bfloat16", true},
  };
  ASSERT_EQ(std::size(rows), static_cast<size_t>(kNumDTypes));
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(static_cast<int>(r.t), r.flag);
    EXPECT_EQ(DTypeSize(r.t), r.size);
    EXPECT_STREQ(DTypeName(r.t), r.name);
    EXPECT_EQ(DTypeFromName(r.name), r.t);
    EXPECT_EQ(IsFloatingDType(r.t), r.floating);
    EXPECT_TRUE(IsValidDTypeFlag(r.flag));
    // DispatchDType hands over the C++ type whose DTypeOf is this flag.
    DispatchDType(r.t, [&](auto tag) {
      using T = typename decltype(tag)::type;
      EXPECT_EQ(DTypeOf<T>::value, r.t);
      EXPECT_EQ(sizeof(T), r.size);
    });
  }
  EXPECT_FALSE(IsValidDTypeFlag(-1));
  EXPECT_FALSE(IsValidDTypeFlag(13));
  EXPECT_EQ(DTypeFromName("float"), DType::kFloat32);
  EXPECT_EQ(DTypeFromName("double"), DType::kFloat64);
  EXPECT_EQ(DTypeFromName("half"), DType::kFloat16);
}

TEST(DType, Errors) {
  EXPECT_ERROR(DTypeFromName("floa32"), TypeError, "floa32", "float32");
  EXPECT_ERROR(DTypeFromName(""), TypeError, "unknown dtype");
  EXPECT_ERROR(DTypeSize(static_cast<DType>(13)), TypeError, "13");
  EXPECT_ERROR(DTypeName(static_cast<DType>(-1)), TypeError, "-1");
  EXPECT_ERROR(DispatchDType(static_cast<DType>(42), [](auto) {}), TypeError, "42");
}

// ---------------------------------------------------------------- float16 / bfloat16

float F16(uint16_t bits) {
  return float16_t::ToFloat(bits);
}
uint16_t ToF16(float f) {
  return float16_t::FromFloat(f);
}

TEST(Half, Float16ExactValues) {
  EXPECT_EQ(ToF16(0.0f), 0x0000);
  EXPECT_EQ(ToF16(-0.0f), 0x8000);
  EXPECT_EQ(ToF16(1.0f), 0x3c00);
  EXPECT_EQ(ToF16(-2.0f), 0xc000);
  EXPECT_EQ(ToF16(0.5f), 0x3800);
  EXPECT_EQ(ToF16(65504.0f), 0x7bff);                  // largest finite
  EXPECT_EQ(ToF16(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
  EXPECT_EQ(ToF16(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
  EXPECT_EQ(ToF16(std::ldexp(1023.0f, -24)), 0x03ff);  // largest subnormal
  EXPECT_EQ(F16(0x3c00), 1.0f);
  EXPECT_EQ(F16(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(F16(0x7bff), 65504.0f);
  EXPECT_TRUE(std::signbit(F16(0x8000)));
  float16_t h = 3.5f;
  EXPECT_EQ(static_cast<float>(h), 3.5f);
  EXPECT_EQ(float16_t::FromBits(0x4200).bits, 0x4200);
}

TEST(Half, Float16RoundTripsEveryValue) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = F16(static_cast<uint16_t>(b));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(F16(ToF16(f)))) << b;
    } else {
      ASSERT_EQ(ToF16(f), b) << "bits " << b << " value " << f;
    }
  }
}

TEST(Half, Float16RoundsToNearestEven) {
  const float ulp = std::ldexp(1.0f, -10);                           // spacing of halves in [1, 2)
  EXPECT_EQ(ToF16(1.0f + ulp / 2), 0x3c00);                          // tie -> even (down)
  EXPECT_EQ(ToF16(1.0f + 3 * ulp / 2), 0x3c02);                      // tie -> even (up)
  EXPECT_EQ(ToF16(1.0f + ulp / 2 + std::ldexp(1.0f, -20)), 0x3c01);  // above the tie
  EXPECT_EQ(ToF16(1.0f + ulp / 2 - std::ldexp(1.0f, -20)), 0x3c00);  // below the tie
  EXPECT_EQ(ToF16(-(1.0f + 3 * ulp / 2)), 0xbc02);
  // Subnormals: units of 2^-24.
  const float sub = std::ldexp(1.0f, -24);
  EXPECT_EQ(ToF16(sub / 2), 0x0000);      // tie with zero -> even
  EXPECT_EQ(ToF16(sub * 0.75f), 0x0001);  // above the tie
  EXPECT_EQ(ToF16(sub * 1.5f), 0x0002);   // tie between 1 and 2 -> 2
  EXPECT_EQ(ToF16(sub * 2.5f), 0x0002);   // tie between 2 and 3 -> 2
  EXPECT_EQ(ToF16(sub * 0.25f), 0x0000);
  EXPECT_EQ(ToF16(std::ldexp(2047.0f, -25)), 0x0400);  // largest subnormal rounds up to normal
}

TEST(Half, Float16InfNanOverflow) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ToF16(inf), 0x7c00);
  EXPECT_EQ(ToF16(-inf), 0xfc00);
  EXPECT_EQ(ToF16(65519.0f), 0x7bff);  // rounds down to the largest finite
  EXPECT_EQ(ToF16(65520.0f), 0x7c00);  // tie between 65504 and 65536 -> even = inf
  EXPECT_EQ(ToF16(1e10f), 0x7c00);
  EXPECT_EQ(ToF16(-1e10f), 0xfc00);
  EXPECT_TRUE(std::isinf(F16(0x7c00)));
  EXPECT_TRUE(std::isnan(F16(ToF16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(F16(0x7e00)));
  EXPECT_TRUE(std::isnan(F16(0x7c01)));
}

TEST(Half, BFloat16) {
  auto to = [](float f) { return bfloat16_t(f).bits; };
  auto from = [](uint16_t b) { return static_cast<float>(bfloat16_t::FromBits(b)); };
  EXPECT_EQ(to(1.0f), 0x3f80);
  EXPECT_EQ(to(-2.0f), 0xc000);
  EXPECT_EQ(to(0.0f), 0x0000);
  EXPECT_EQ(to(-0.0f), 0x8000);
  EXPECT_EQ(from(0x3f80), 1.0f);
  EXPECT_EQ(to(1.5f + 0.0078125f), 0x3fc1);  // 8 significant bits: exact
  const float ulp = std::ldexp(1.0f, -7);
  EXPECT_EQ(to(1.0f + ulp / 2), 0x3f80);      // tie -> even (down)
  EXPECT_EQ(to(1.0f + 3 * ulp / 2), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(to(1.0f + ulp / 2 + std::ldexp(1.0f, -20)), 0x3f81);
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(to(inf), 0x7f80);
  EXPECT_EQ(to(-inf), 0xff80);
  EXPECT_EQ(to(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to inf
  EXPECT_TRUE(std::isnan(from(to(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload sits in the low half must not become infinity.
  EXPECT_TRUE(std::isnan(from(to(std::bit_cast<float>(0x7f800001u)))));
  // Subnormals are kept exactly when representable.
  const float sub = std::bit_cast<float>(0x00010000u);
  EXPECT_EQ(to(sub), 0x0001);
  EXPECT_EQ(from(0x0001), sub);
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = from(static_cast<uint16_t>(b));
    if (!std::isnan(f)) {
      ASSERT_EQ(to(f), b);
    }
  }
}

// ---------------------------------------------------------------- context

TEST(Context, ToStringFromString) {
  EXPECT_EQ(Context::cpu().ToString(), "cpu(0)");
  EXPECT_EQ(Context::gpu(1).ToString(), "gpu(1)");
  EXPECT_EQ(Context::cpu_pinned(0).ToString(), "cpu_pinned(0)");
  EXPECT_EQ(Context::cpu_shared(2).ToString(), "cpu_shared(2)");
  for (Context c :
       {Context::cpu(3), Context::gpu(7), Context::cpu_pinned(1), Context::cpu_shared(0)}) {
    EXPECT_EQ(Context::FromString(c.ToString()), c);
  }
  std::ostringstream os;
  os << Context::gpu(2);
  EXPECT_EQ(os.str(), "gpu(2)");
}

TEST(Context, FromStringErrors) {
  EXPECT_ERROR(Context::FromString("cpu"), ValueError, "'cpu'");
  EXPECT_ERROR(Context::FromString("cpu("), ValueError, "'cpu('");
  EXPECT_ERROR(Context::FromString(""), ValueError, "invalid context");
  EXPECT_ERROR(Context::FromString("tpu(0)"), ValueError, "tpu(0)", "device type");
  EXPECT_ERROR(Context::FromString("cpu(-1)"), ValueError, "device id", "cpu(-1)");
  EXPECT_ERROR(Context::FromString("cpu(x)"), ValueError, "device id");
  EXPECT_ERROR(Context::FromString("cpu(1)x"), ValueError, "cpu(1)x");
}

TEST(Context, EqualityOrderHash) {
  EXPECT_EQ(static_cast<int>(DeviceType::kCPU), 1);
  EXPECT_EQ(static_cast<int>(DeviceType::kGPU), 2);
  EXPECT_EQ(static_cast<int>(DeviceType::kCPUPinned), 3);
  EXPECT_EQ(static_cast<int>(DeviceType::kCPUShared), 5);
  EXPECT_EQ(Context::cpu(), Context{});
  EXPECT_NE(Context::cpu(0), Context::cpu(1));
  EXPECT_NE(Context::cpu(0), Context::gpu(0));
  EXPECT_LT(Context::cpu(5), Context::gpu(0));
  EXPECT_LT(Context::gpu(0), Context::gpu(1));
  EXPECT_FALSE(Context::gpu(1) < Context::gpu(1));
  EXPECT_TRUE(Context::cpu().is_host());
  EXPECT_TRUE(Context::cpu_pinned().is_host());
  EXPECT_TRUE(Context::cpu_shared().is_host());
  EXPECT_FALSE(Context::gpu().is_host());
  for (int t : {1, 2, 3, 5})
    EXPECT_TRUE(Context::IsValidDeviceType(t)) << t;
  for (int t : {0, 4, 6, -1})
    EXPECT_FALSE(Context::IsValidDeviceType(t)) << t;
  std::unordered_set<Context> set{Context::cpu(0), Context::cpu(1), Context::gpu(0),
                                  Context::cpu(0)};
  EXPECT_EQ(set.size(), 3u);
}

// ---------------------------------------------------------------- shape

TEST(Shape, UnknownScalarZeroSize) {
  Shape unknown;
  EXPECT_EQ(unknown.ndim(), -1);
  EXPECT_TRUE(unknown.is_unknown());
  EXPECT_FALSE(unknown.is_known());
  EXPECT_EQ(unknown.ToString(), "None");
  EXPECT_EQ(unknown, Shape::Unknown());
  EXPECT_EQ(unknown.begin(), unknown.end());
  EXPECT_ERROR(unknown.Size(), ValueError, "None", "not known");

  Shape partial{2, -1};
  EXPECT_FALSE(partial.is_unknown());
  EXPECT_FALSE(partial.is_known());
  EXPECT_EQ(partial.ToString(), "(2, -1)");
  EXPECT_ERROR(partial.Size(), ValueError, "(2, -1)");

  Shape scalar = Shape::Scalar();
  EXPECT_EQ(scalar.ndim(), 0);
  EXPECT_TRUE(scalar.is_known());
  EXPECT_EQ(scalar.Size(), 1);
  EXPECT_EQ(scalar.ToString(), "()");
  EXPECT_NE(scalar, unknown);

  Shape zero{3, 0, 2};
  EXPECT_TRUE(zero.is_known());
  EXPECT_EQ(zero.Size(), 0);
  EXPECT_EQ(zero.ProdDims(0, 1), 3);
  EXPECT_EQ(zero.ProdDims(1, 3), 0);
}

TEST(Shape, ConstructAccessPrint) {
  Shape s{2, 3};
  EXPECT_EQ(s.ndim(), 2);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s.at(-1), 3);
  EXPECT_EQ(s.Size(), 6);
  EXPECT_EQ(s.ToString(), "(2, 3)");
  EXPECT_EQ(Shape({5}).ToString(), "(5,)");
  EXPECT_EQ(Shape(3, 7), Shape({7, 7, 7}));
  EXPECT_EQ(Shape(0, 7), Shape::Scalar());
  std::vector<int64_t> v{4, 5, 6};
  EXPECT_EQ(Shape(std::span<const int64_t>(v)), Shape({4, 5, 6}));
  EXPECT_NE(Shape({2, 3}), Shape({3, 2}));
  EXPECT_NE(Shape({2, 3}), Shape({2, 3, 1}));
  s[1] = 4;
  EXPECT_EQ(s, Shape({2, 4}));
  EXPECT_ERROR(s.at(2), IndexError, "axis 2", "(2, 4)");
  EXPECT_ERROR(s.at(-3), IndexError, "axis -3");
  EXPECT_ERROR(Shape(-2, 1), ValueError, "rank -2");
  EXPECT_ERROR(Shape(Shape::kMaxDims + 1, 1), ValueError, "33");
  EXPECT_ERROR((Shape{int64_t{1} << 40, int64_t{1} << 40}.Size()), ValueError, "overflow");
  // A zero dim anywhere means zero elements, even after dims whose product would overflow.
  EXPECT_EQ((Shape{int64_t{1} << 40, int64_t{1} << 40, 0}.Size()), 0);
  std::ostringstream os;
  os << Shape{1, 2};
  EXPECT_EQ(os.str(), "(1, 2)");
}

TEST(Shape, InlineAndHeapStorage) {
  const Shape six{1, 2, 3, 4, 5, 6};
  const Shape ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(six.ndim(), Shape::kInlineDims);
  EXPECT_EQ(ten.ndim(), 10);
  EXPECT_EQ(ten.Size(), 3628800);
  EXPECT_EQ(ten.ToString(), "(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)");

  Shape copy = ten;  // deep copy
  EXPECT_EQ(copy, ten);
  EXPECT_NE(copy.data(), ten.data());
  copy[9] = 11;
  EXPECT_EQ(ten[9], 10);

  Shape moved = std::move(copy);
  EXPECT_EQ(moved[9], 11);
  EXPECT_TRUE(copy.is_unknown());  // NOLINT(bugprone-use-after-move): documented state

  // Assignment across the inline/heap boundary in both directions.
  Shape s = six;
  s = ten;
  EXPECT_EQ(s, ten);
  s = six;
  EXPECT_EQ(s, six);
  s = Shape{1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(s.ndim(), 7);
  s = ten;  // grows the heap block
  EXPECT_EQ(s, ten);
  s = std::move(moved);
  EXPECT_EQ(s[9], 11);
  Shape self = ten;
  const Shape& alias = self;
  self = alias;
  EXPECT_EQ(self, ten);

  std::vector<int64_t> big(Shape::kMaxDims, 1);
  EXPECT_EQ(Shape(std::span<const int64_t>(big)).Size(), 1);
  big.push_back(1);
  EXPECT_ERROR(Shape(std::span<const int64_t>(big)), ValueError, "33");
}

TEST(Shape, FromString) {
  EXPECT_EQ(Shape::FromString("(2, 3)"), Shape({2, 3}));
  EXPECT_EQ(Shape::FromString("[2,3]"), Shape({2, 3}));
  EXPECT_EQ(Shape::FromString("(2L, 3L)"), Shape({2, 3}));
  EXPECT_EQ(Shape::FromString(" ( 2 , 3 ) "), Shape({2, 3}));
  EXPECT_EQ(Shape::FromString("(5,)"), Shape({5}));
  EXPECT_EQ(Shape::FromString("5"), Shape({5}));
  EXPECT_EQ(Shape::FromString("()"), Shape::Scalar());
  EXPECT_EQ(Shape::FromString("[]"), Shape::Scalar());
  EXPECT_EQ(Shape::FromString("None"), Shape::Unknown());
  EXPECT_EQ(Shape::FromString("(None, 3)"), Shape({-1, 3}));
  EXPECT_EQ(Shape::FromString("(0, 3)"), Shape({0, 3}));
  for (const Shape& s : {Shape{2, 3}, Shape{5}, Shape::Scalar(), Shape{1, 2, 3, 4, 5, 6, 7, 8}}) {
    EXPECT_EQ(Shape::FromString(s.ToString()), s);
  }
  for (const char* bad : {"(2, x)", "(2,,3)", "(2, 3", "[2, 3)", "abc", "(,)", "(2.5)"}) {
    EXPECT_ERROR(Shape::FromString(bad), ValueError, "invalid shape", bad);
  }
  std::string many = "(";
  for (int i = 0; i < 40; ++i)
    many += "1,";
  many += ")";
  EXPECT_ERROR(Shape::FromString(many), ValueError, "more than 32 dims");
}

// ---------------------------------------------------------------- InferReshape

TEST(InferReshape, SpecialCodes) {
  const Shape s{2, 3, 4};
  // Examples from MXNet's Reshape documentation.
  EXPECT_EQ(Infer(s, {4, 0, 2}), Shape({4, 3, 2}));
  EXPECT_EQ(Infer(s, {2, 0, 0}), Shape({2, 3, 4}));
  EXPECT_EQ(Infer(s, {6, 1, -1}), Shape({6, 1, 4}));
  EXPECT_EQ(Infer(s, {3, -1, 8}), Shape({3, 1, 8}));
  EXPECT_EQ(Infer(s, {-1}), Shape({24}));
  EXPECT_EQ(Infer(s, {2, -1}), Shape({2, 12}));
  EXPECT_EQ(Infer(s, {-2}), Shape({2, 3, 4}));
  EXPECT_EQ(Infer(s, {2, -2}), Shape({2, 3, 4}));
  EXPECT_EQ(Infer(s, {-2, 1, 1}), Shape({2, 3, 4, 1, 1}));
  EXPECT_EQ(Infer(s, {-3, 4}), Shape({6, 4}));
  EXPECT_EQ(Infer(Shape{2, 3, 4, 5}, {-3, -3}), Shape({6, 20}));
  EXPECT_EQ(Infer(s, {0, -3}), Shape({2, 12}));
  EXPECT_EQ(Infer(s, {-3, -2}), Shape({6, 4}));
  EXPECT_EQ(Infer(s, {-4, 1, 2, -2}), Shape({1, 2, 3, 4}));
  EXPECT_EQ(Infer(s, {2, -4, -1, 3, -2}), Shape({2, 1, 3, 4}));
  EXPECT_EQ(Infer(Shape{10, 5, 4}, {-1, 0}), Shape({40, 5}));
  EXPECT_EQ(Infer(Shape{10, 5, 4}, {-1, 0}, true), Shape({50, 4}));
  EXPECT_EQ(Infer(Shape{6}, {-4, -1, 2}), Shape({3, 2}));
  EXPECT_EQ(Infer(Shape::Scalar(), {1, 1}), Shape({1, 1}));
  EXPECT_EQ(Infer(Shape{1}, {}), Shape::Scalar());
  EXPECT_EQ(Infer(Shape{0, 3}, {-1, 0}), Shape({0, 3}));
  // A partly known source gives a partly known target.
  EXPECT_EQ(Infer(Shape{2, -1, 4}, {0, -1}), Shape({2, -1}));
}

TEST(InferReshape, Errors) {
  const Shape s{2, 3, 4};
  EXPECT_ERROR(Infer(s, {5, 5}), ValueError, "reshape", "(2, 3, 4)", "(5, 5)", "25", "24");
  EXPECT_ERROR(Infer(s, {-1, -1}), ValueError, "(2, 3, 4)", "only one dim can be -1");
  EXPECT_ERROR(Infer(s, {5, -1}), ValueError, "(5, -1)", "not divisible");
  EXPECT_ERROR(Infer(s, {-4, 1}), ValueError, "-4 must be followed by two dims");
  EXPECT_ERROR(Infer(s, {-4, 3, 3, -2}), ValueError, "do not multiply", "2");
  EXPECT_ERROR(Infer(s, {-4, -1, -1, -2}), ValueError, "cannot both be -1");
  EXPECT_ERROR(Infer(s, {-4, 0, 2, -2}), ValueError, "positive or -1");
  EXPECT_ERROR(Infer(s, {0, 0, -3}), ValueError, "-3 needs two input dims");
  EXPECT_ERROR(Infer(s, {0, 0, 0, 0}), ValueError, "code 0 has no input dim");
  EXPECT_ERROR(Infer(s, {-5}), ValueError, "invalid code -5");
  EXPECT_ERROR(Infer(Shape{2, 0}, {-1, 0}), ValueError, "cannot infer the -1 dim");
  EXPECT_ERROR(Infer(Shape(), {-1}), ValueError, "source shape is unknown");
  EXPECT_ERROR(Infer(Shape{10, 5, 4}, {3, -1}, true), ValueError, "reverse=True");
}

// ---------------------------------------------------------------- env

TEST(Env, Parsing) {
  unsetenv("MIXNET_BASE_TEST_INT");
  unsetenv("MXNET_BASE_TEST_INT");
  EXPECT_EQ(GetEnvInt("MIXNET_BASE_TEST_INT", 7), 7);
  EXPECT_EQ(GetEnvString("MIXNET_BASE_TEST_INT", "dflt"), "dflt");
  setenv("MIXNET_BASE_TEST_INT", "42", 1);
  EXPECT_EQ(GetEnvInt("MIXNET_BASE_TEST_INT", 7), 42);
  EXPECT_EQ(GetEnvString("MIXNET_BASE_TEST_INT", "dflt"), "42");
  setenv("MIXNET_BASE_TEST_INT", "-3", 1);
  EXPECT_EQ(GetEnvInt("MIXNET_BASE_TEST_INT", 7), -3);
  setenv("MIXNET_BASE_TEST_INT", "", 1);
  EXPECT_EQ(GetEnvInt("MIXNET_BASE_TEST_INT", 7), 7);
  for (const char* bad : {"abc", "12x", "1.5", " 4"}) {
    setenv("MIXNET_BASE_TEST_INT", bad, 1);
    EXPECT_ERROR(GetEnvInt("MIXNET_BASE_TEST_INT", 7), ValueError, "MIXNET_BASE_TEST_INT", bad);
  }
  // The MXNET_ twin is read when the MIXNET_ name is not set, and named in errors.
  unsetenv("MIXNET_BASE_TEST_INT");
  setenv("MXNET_BASE_TEST_INT", "5", 1);
  EXPECT_EQ(GetEnvInt("MIXNET_BASE_TEST_INT", 7), 5);
  setenv("MXNET_BASE_TEST_INT", "five", 1);
  EXPECT_ERROR(GetEnvInt("MIXNET_BASE_TEST_INT", 7), ValueError, "MXNET_BASE_TEST_INT", "five");
  setenv("MIXNET_BASE_TEST_INT", "9", 1);  // MIXNET_ wins
  EXPECT_EQ(GetEnvInt("MIXNET_BASE_TEST_INT", 7), 9);
  unsetenv("MIXNET_BASE_TEST_INT");
  unsetenv("MXNET_BASE_TEST_INT");
}

TEST(Env, ParsingDouble) {
  unsetenv("MIXNET_BASE_TEST_DOUBLE");
  EXPECT_EQ(GetEnvDouble("MIXNET_BASE_TEST_DOUBLE", 2.5), 2.5);
  setenv("MIXNET_BASE_TEST_DOUBLE", "0.25", 1);
  EXPECT_EQ(GetEnvDouble("MIXNET_BASE_TEST_DOUBLE", 2.5), 0.25);
  setenv("MIXNET_BASE_TEST_DOUBLE", "120", 1);
  EXPECT_EQ(GetEnvDouble("MIXNET_BASE_TEST_DOUBLE", 2.5), 120.0);
  for (const char* bad : {"abc", "1.5s", "nan", "inf", " 4"}) {
    setenv("MIXNET_BASE_TEST_DOUBLE", bad, 1);
    EXPECT_ERROR(GetEnvDouble("MIXNET_BASE_TEST_DOUBLE", 2.5), ValueError,
                 "MIXNET_BASE_TEST_DOUBLE", bad);
  }
  unsetenv("MIXNET_BASE_TEST_DOUBLE");
}

}  // namespace
}  // namespace mixnet
