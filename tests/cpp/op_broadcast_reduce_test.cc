// Broadcasting and reductions beyond the registry-wide samples: shape rules and their errors,
// axis/keepdims/exclude combinations against hand-computed values, large inputs that take the
// multithreaded paths, zero-size arrays and argmax ties.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "mixnet/op/invoke.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

NDArray Apply(std::string_view op, std::vector<NDArray> in, const AttrDict& attrs = {}) {
  return Invoke(op, in, attrs)[0];
}

NDArray Iota(const Shape& s) {  // 0, 1, 2, ...
  std::vector<float> v(static_cast<size_t>(s.Size()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i);
  return NDArray::FromVector(v, s);
}

TEST(OpBroadcast, ShapesAlignRightAndStretchOnes) {
  const NDArray a = Iota({2, 1, 3});
  const NDArray b = NDArray::FromVector<float>({10, 20, 30, 40}, {4, 1});
  const NDArray c = Apply("broadcast_add", {a, b});
  EXPECT_EQ(c.shape(), (Shape{2, 4, 3}));
  const auto v = c.ToVector<float>();
  EXPECT_EQ(v[0], 10);
  EXPECT_EQ(v[1 * 3 + 2], 22);           // a[0,0,2] + b[1]
  EXPECT_EQ(v[1 * 12 + 3 * 3 + 1], 44);  // a[1,0,1] + b[3]
  EXPECT_EQ(Apply("broadcast_plus", {Iota({3}), Iota(Shape::Scalar())}).shape(), (Shape{3}));
  EXPECT_EQ(Apply("broadcast_mul", {Iota({0, 1}), Iota({1, 5})}).shape(), (Shape{0, 5}));
  EXPECT_EQ(Apply("broadcast_sub", {Iota({0}), Iota({1})}).shape(), (Shape{0}));
}

TEST(OpBroadcast, ErrorsNameTheOpTheInputsAndTheShapes) {
  EXPECT_ERROR(Apply("broadcast_add", {Iota({2, 3}), Iota({4})}), ValueError, "broadcast_add",
               "lhs of shape (2, 3)", "rhs of shape (4,)", "cannot be broadcast");
  EXPECT_ERROR(Apply("broadcast_to", {Iota({2, 3})}, {{"shape", "(4, 3)"}}), ValueError,
               "broadcast_to", "(2, 3)", "(4, 3)");
  EXPECT_ERROR(Apply("broadcast_to", {Iota({3})}, {{"shape", "(2, 3)"}}), ValueError,
               "broadcast_to", "(3,)", "(2, 3)");
  EXPECT_ERROR(Apply("broadcast_axis", {Iota({2, 3})}, {{"axis", "1"}, {"size", "4"}}), ValueError,
               "broadcast_axis", "size 1");
  EXPECT_ERROR(Apply("broadcast_like", {Iota({2, 1}), Iota({3})}), ValueError, "broadcast_like",
               "(2, 1)", "(3,)");
  EXPECT_ERROR(Apply("sum", {Iota({2, 3})}, {{"axis", "2"}}), ValueError, "sum", "axis 2",
               "(2, 3)");
  EXPECT_ERROR(Apply("sum", {Iota({2, 3})}, {{"axis", "(0, -2)"}}), ValueError, "sum", "repeated");
  EXPECT_ERROR(Apply("argmax", {Iota({2, 0})}, {{"axis", "1"}}), ValueError, "argmax", "empty");
}

TEST(OpBroadcast, ModTakesTheDivisorsSign) {
  const NDArray a = NDArray::FromVector<double>({7, -7, 7, -7, 3}, {5});
  const NDArray b = NDArray::FromVector<double>({3, 3, -3, -3, 0}, {5});
  EXPECT_EQ(Apply("broadcast_mod", {a, b}).ToVector<double>(),
            (std::vector<double>{1, 2, -2, -1, 0}));
  EXPECT_EQ(Apply("_mod", {a, b}).ToVector<double>(), (std::vector<double>{1, 2, -2, -1, 0}));
  EXPECT_EQ(Apply("_rmod_scalar", {b}, {{"scalar", "-7"}}).ToVector<double>(),
            (std::vector<double>{2, 2, -1, -1, 0}));
}

TEST(OpBroadcast, ComparisonsAndLogicalGiveOnesAndZerosInTheInputDType) {
  const NDArray a = NDArray::FromVector<float>({0, 1, 2}, {3});
  const NDArray b = NDArray::FromVector<float>({0, 2}, {2, 1});
  const NDArray eq = Apply("broadcast_equal", {a, b});
  EXPECT_EQ(eq.dtype(), DType::kFloat32);
  EXPECT_EQ(eq.ToVector<float>(), (std::vector<float>{1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Apply("broadcast_logical_and", {a, b}).ToVector<float>(),
            (std::vector<float>{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(Apply("broadcast_logical_xor", {a, b}).ToVector<float>(),
            (std::vector<float>{0, 1, 1, 1, 0, 0}));
  EXPECT_EQ(Apply("_lesser_equal", {a, a}).ToVector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(Apply("_logical_or_scalar", {a}, {{"scalar", "0"}}).ToVector<float>(),
            (std::vector<float>{0, 1, 1}));
}

TEST(OpReduce, AxisKeepdimsExcludeCombinations) {
  const NDArray x = Iota({2, 3, 4});  // x[i,j,k] = 12i + 4j + k
  const NDArray all = Apply("sum", {x});
  EXPECT_EQ(all.shape(), (Shape{1}));  // MXNet 1.x: reducing everything gives (1,)
  EXPECT_EQ(all.ToVector<float>(), (std::vector<float>{276}));
  EXPECT_EQ(Apply("sum", {x}, {{"keepdims", "True"}}).shape(), (Shape{1, 1, 1}));
  const NDArray s1 = Apply("sum", {x}, {{"axis", "1"}});
  EXPECT_EQ(s1.shape(), (Shape{2, 4}));
  EXPECT_EQ(s1.ToVector<float>(), (std::vector<float>{12, 15, 18, 21, 48, 51, 54, 57}));
  const NDArray s02 = Apply("sum_axis", {x}, {{"axis", "(0, 2)"}, {"keepdims", "True"}});
  EXPECT_EQ(s02.shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(s02.ToVector<float>(), (std::vector<float>{60, 92, 124}));
  const NDArray ex = Apply("sum", {x}, {{"axis", "1"}, {"exclude", "True"}});
  EXPECT_EQ(ex.shape(), (Shape{3}));
  EXPECT_EQ(ex.ToVector<float>(), (std::vector<float>{60, 92, 124}));
  EXPECT_EQ(Apply("mean", {x}, {{"axis", "-1"}}).ToVector<float>(),
            (std::vector<float>{1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
  EXPECT_EQ(Apply("max", {x}, {{"axis", "(0, 1)"}}).ToVector<float>(),
            (std::vector<float>{20, 21, 22, 23}));
  EXPECT_EQ(Apply("min_axis", {x}, {{"axis", "0"}, {"exclude", "True"}}).ToVector<float>(),
            (std::vector<float>{0, 12}));
  EXPECT_EQ(Apply("prod", {Iota({2, 3})}, {{"axis", "1"}}).ToVector<float>(),
            (std::vector<float>{0, 60}));
  EXPECT_EQ(Apply("norm", {Iota({2, 2})}, {{"ord", "1"}, {"axis", "0"}}).ToVector<float>(),
            (std::vector<float>{2, 4}));
  EXPECT_FLOAT_EQ(Apply("norm", {Iota({2, 2})}).ToVector<float>()[0], std::sqrt(14.0f));
}

TEST(OpReduce, NanVariantsSkipNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const NDArray x = NDArray::FromVector<double>({1, nan, 3, nan}, {2, 2});
  EXPECT_EQ(Apply("nansum", {x}, {{"axis", "1"}}).ToVector<double>(), (std::vector<double>{1, 3}));
  EXPECT_EQ(Apply("nanprod", {x}).ToVector<double>(), (std::vector<double>{3}));
  EXPECT_TRUE(std::isnan(Apply("sum", {x}).ToVector<double>()[0]));
  EXPECT_TRUE(std::isnan(Apply("max", {x}, {{"axis", "0"}}).ToVector<double>()[1]));
}

TEST(OpReduce, ZeroSizeArrays) {
  const NDArray x = NDArray::Zeros({0, 3});
  EXPECT_EQ(Apply("sum", {x}, {{"axis", "0"}}).ToVector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(Apply("prod", {x}, {{"axis", "0"}}).ToVector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(Apply("sum", {x}, {{"axis", "1"}}).shape(), (Shape{0}));
  EXPECT_EQ(Apply("argmax", {x}, {{"axis", "1"}}).shape(), (Shape{0}));
  EXPECT_EQ(Apply("broadcast_to", {x}, {{"shape", "(0, 3)"}}).shape(), (Shape{0, 3}));
  EXPECT_EQ(Apply("add_n", {x, x}, {{"num_args", "2"}}).shape(), (Shape{0, 3}));
}

TEST(OpReduce, ArgmaxTiesGiveTheFirstIndex) {
  const NDArray x = NDArray::FromVector<float>({1, 3, 3, 0, 2, 2, 2, 2}, {2, 4});
  const NDArray am = Apply("argmax", {x}, {{"axis", "1"}});
  EXPECT_EQ(am.dtype(), DType::kFloat32);
  EXPECT_EQ(am.ToVector<float>(), (std::vector<float>{1, 0}));
  EXPECT_EQ(Apply("argmin", {x}, {{"axis", "1"}}).ToVector<float>(), (std::vector<float>{3, 0}));
  EXPECT_EQ(Apply("argmax", {x}, {{"axis", "0"}, {"keepdims", "True"}}).ToVector<float>(),
            (std::vector<float>{1, 0, 0, 1}));
  const NDArray flat = Apply("argmax", {x});
  EXPECT_EQ(flat.shape(), (Shape{1}));
  EXPECT_EQ(flat.ToVector<float>(), (std::vector<float>{1}));
}

TEST(OpReduce, LargeInputsMatchASimpleLoop) {
  // 2^20 elements: the chunked (multithreaded) paths for one output and for many outputs.
  const int64_t n = 1 << 20;
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<double>((i * 7919) % 1000) - 499.5;
  const NDArray x = NDArray::FromVector(v, {n});
  double want = 0;
  for (double e : v)
    want += e;
  EXPECT_DOUBLE_EQ(Apply("sum", {x}).ToVector<double>()[0], want);

  const NDArray m = NDArray::FromVector(v, {1024, 1024});
  const auto rows = Apply("sum", {m}, {{"axis", "1"}}).ToVector<double>();
  const auto cols = Apply("sum", {m}, {{"axis", "0"}}).ToVector<double>();
  const auto argmax = Apply("argmax", {x}).ToVector<double>();
  for (int64_t i = 0; i < 1024; i += 97) {
    double r = 0, c = 0;
    for (int64_t j = 0; j < 1024; ++j) {
      r += v[static_cast<size_t>(i * 1024 + j)];
      c += v[static_cast<size_t>(j * 1024 + i)];
    }
    EXPECT_DOUBLE_EQ(rows[static_cast<size_t>(i)], r) << "row " << i;
    EXPECT_DOUBLE_EQ(cols[static_cast<size_t>(i)], c) << "column " << i;
  }
  int64_t first = 0;
  for (int64_t i = 1; i < n; ++i)
    first = v[static_cast<size_t>(i)] > v[static_cast<size_t>(first)] ? i : first;
  EXPECT_EQ(argmax[0], static_cast<double>(first));

  const NDArray row = NDArray::FromVector(std::vector<double>(v.begin(), v.begin() + 1024), {1024});
  const auto added = Apply("broadcast_add", {m, row}).ToVector<double>();
  const auto scaled =
      Apply("broadcast_mul", {NDArray::FromVector(v, {1024, 1, 1024}),
                              NDArray::FromVector(std::vector<double>{2.0, -1.0}, {2, 1})})
          .ToVector<double>();
  ASSERT_EQ(scaled.size(), static_cast<size_t>(2 * n));
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    ASSERT_EQ(added[k], v[k] + v[k % 1024]) << i;
    const size_t outer = k / 1024, inner = k % 1024;
    ASSERT_EQ(scaled[outer * 2048 + inner], 2.0 * v[k]) << i;
    ASSERT_EQ(scaled[outer * 2048 + 1024 + inner], -v[k]) << i;
  }
}

TEST(OpReduce, GradientsSumBroadcastDimsBack) {
  // d(sum(broadcast_mul(a, b)))/da sums b over the stretched dims.
  const NDArray a = NDArray::FromVector<double>({1, 2}, {2, 1});
  const NDArray b = NDArray::FromVector<double>({1, 2, 3}, {3});
  const Attrs attrs = Registry::Get("broadcast_mul").ParseAttrs({});
  EagerGradBuilder g;
  const GValue va = g.Add(a), vb = g.Add(b);
  const NDArray out = Apply("broadcast_mul", {a, b});
  const GValue vo = g.Add(out), d = g.Add(NDArray::Ones({2, 3}, DType::kFloat64));
  const GValue ins[] = {va, vb};
  const auto grads = attrs.op->gradient(g, attrs, ins, {&vo, 1}, {&d, 1});
  EXPECT_EQ(g.Get(grads[0]).ToVector<double>(), (std::vector<double>{6, 6}));
  EXPECT_EQ(g.Get(grads[1]).ToVector<double>(), (std::vector<double>{3, 3, 3}));
}

}  // namespace
}  // namespace mixnet::op
