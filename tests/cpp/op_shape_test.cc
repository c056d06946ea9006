// Shape and layout ops beyond the registry-wide test: MXNet's documented examples with
// hand-computed values, integer and half dtypes, zero-size arrays and error messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

NDArray Iota(const Shape& shape, DType dtype = DType::kFloat32) {
  return NDArray::Arange(0, static_cast<double>(shape.Size()), 1, 1, dtype).Reshape(shape);
}

std::vector<double> Doubles(const NDArray& a) {
  NDArray d(a.shape(), a.ctx(), DType::kFloat64);
  a.CopyTo(d);
  return d.ToVector<double>();
}

NDArray Op1(std::string_view op, std::initializer_list<NDArray> in, const AttrDict& attrs = {}) {
  return Invoke(op, in, attrs)[0];
}

Shape ReshapeTo(const Shape& from, const char* codes, bool reverse = false) {
  return Op1("Reshape", {NDArray::Zeros(from)},
             {{"shape", codes}, {"reverse", reverse ? "True" : "False"}})
      .shape();
}

TEST(OpShape, ReshapeCodesFromMXNetDocs) {
  const Shape s{2, 3, 4};
  EXPECT_EQ(ReshapeTo(s, "(4, 0, 2)"), (Shape{4, 3, 2}));
  EXPECT_EQ(ReshapeTo(s, "(2, 0, 0)"), (Shape{2, 3, 4}));
  EXPECT_EQ(ReshapeTo(s, "(6, 1, -1)"), (Shape{6, 1, 4}));
  EXPECT_EQ(ReshapeTo(s, "(3, -1, 8)"), (Shape{3, 1, 8}));
  EXPECT_EQ(ReshapeTo(s, "(-1,)"), (Shape{24}));
  EXPECT_EQ(ReshapeTo(s, "(-2,)"), (Shape{2, 3, 4}));
  EXPECT_EQ(ReshapeTo(s, "(2, -2)"), (Shape{2, 3, 4}));
  EXPECT_EQ(ReshapeTo(s, "(-2, 1, 1)"), (Shape{2, 3, 4, 1, 1}));
  EXPECT_EQ(ReshapeTo(s, "(-3, 4)"), (Shape{6, 4}));
  EXPECT_EQ(ReshapeTo(Shape{2, 3, 4, 5}, "(-3, -3)"), (Shape{6, 20}));
  EXPECT_EQ(ReshapeTo(s, "(0, -3)"), (Shape{2, 12}));
  EXPECT_EQ(ReshapeTo(s, "(-3, -2)"), (Shape{6, 4}));
  EXPECT_EQ(ReshapeTo(s, "(-4, 1, 2, -2)"), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(ReshapeTo(s, "(2, -4, -1, 3, -2)"), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(ReshapeTo(Shape{10, 5, 4}, "(-1, 0)"), (Shape{40, 5}));
  EXPECT_EQ(ReshapeTo(Shape{10, 5, 4}, "(-1, 0)", true), (Shape{50, 4}));
  // The elements keep their order; the alias and the legacy target_shape work too.
  const NDArray y = Op1("reshape", {Iota(s)}, {{"shape", "(4, 0, 2)"}});
  EXPECT_EQ(Doubles(y), Doubles(Iota(s)));
  EXPECT_EQ(Op1("Reshape", {Iota(s)}, {{"target_shape", "(0, 4)"}}).shape(), (Shape{6, 4}));
  EXPECT_EQ(Op1("Reshape", {Iota(s)}, {{"target_shape", "(0,)"}, {"keep_highest", "True"}}).shape(),
            (Shape{2, 12}));
  EXPECT_ERROR(ReshapeTo(Shape{2, 3}, "(4,)"), ValueError, "Reshape", "'shape'", "(4,)", "(2, 3)");
  EXPECT_ERROR(ReshapeTo(Shape{2, 3}, "(-1, -1)"), ValueError, "Reshape", "'shape'", "-1");
}

TEST(OpShape, FlattenSqueezeExpandDims) {
  EXPECT_EQ(Op1("Flatten", {Iota({2, 3, 4})}).shape(), (Shape{2, 12}));
  EXPECT_EQ(Op1("flatten", {Iota({5})}).shape(), (Shape{5, 1}));
  EXPECT_EQ(Op1("squeeze", {Iota({1, 3, 1})}).shape(), (Shape{3}));
  EXPECT_EQ(Op1("squeeze", {Iota({1, 1})}).shape(), (Shape{1}));  // MXNet 1.x keeps one dim
  EXPECT_EQ(Op1("squeeze", {Iota({1, 3, 1})}, {{"axis", "(-1,)"}}).shape(), (Shape{1, 3}));
  EXPECT_ERROR(Op1("squeeze", {Iota({1, 3, 1})}, {{"axis", "1"}}), ValueError, "squeeze", "axis",
               "(1, 3, 1)", "size is 3");
  EXPECT_EQ(Op1("expand_dims", {Iota({2, 3})}, {{"axis", "1"}}).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(Op1("expand_dims", {Iota({2, 3})}, {{"axis", "-1"}}).shape(), (Shape{2, 3, 1}));
  EXPECT_ERROR(Op1("expand_dims", {Iota({2, 3})}, {{"axis", "3"}}), ValueError, "expand_dims",
               "axis 3", "(2, 3)");
  EXPECT_EQ(Op1("reshape_like", {Iota({6}), Iota({3, 2})}).shape(), (Shape{3, 2}));
  EXPECT_ERROR(Op1("reshape_like", {Iota({6}), Iota({4, 2})}), ValueError, "reshape_like", "(6,)",
               "(4, 2)");
}

TEST(OpShape, TransposeValuesAndAxesErrors) {
  const NDArray x = Iota({2, 3});
  const NDArray t = Op1("transpose", {x});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(Doubles(t), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  const NDArray t3 = Op1("transpose", {Iota({2, 3, 4}, DType::kInt32)}, {{"axes", "(2, 0, 1)"}});
  EXPECT_EQ(t3.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(t3.dtype(), DType::kInt32);
  EXPECT_EQ(t3.ToVector<int32_t>()[1], 4);  // (0, 0, 1) <- x[0, 1, 0]
  EXPECT_EQ(Doubles(Op1("swapaxes", {x}, {{"dim1", "0"}, {"dim2", "1"}})), Doubles(t));
  EXPECT_ERROR(Op1("transpose", {Iota({2, 3, 4})}, {{"axes", "(0, 1)"}}), ValueError, "transpose",
               "axes (0, 1)", "(2, 3, 4)");
  EXPECT_ERROR(Op1("transpose", {Iota({2, 3, 4})}, {{"axes", "(0, 0, 1)"}}), ValueError,
               "transpose", "repeats axis 0");
  EXPECT_ERROR(Op1("transpose", {Iota({2, 3, 4})}, {{"axes", "(0, 1, 3)"}}), ValueError,
               "transpose", "axes entry 3", "(2, 3, 4)");
  EXPECT_EQ(Op1("transpose", {NDArray::Zeros({0, 3})}).shape(), (Shape{3, 0}));
}

TEST(OpShape, DepthToSpaceRoundTrip) {
  const NDArray x = Iota({1, 4, 2, 3});
  const NDArray d = Op1("depth_to_space", {x}, {{"block_size", "2"}});
  EXPECT_EQ(d.shape(), (Shape{1, 1, 4, 6}));
  // out[0, 0, 0, :] takes channels 0 and 1 at (0, 0), (0, 1), (0, 2).
  const auto v = Doubles(d);
  EXPECT_EQ(std::vector<double>(v.begin(), v.begin() + 6), (std::vector<double>{0, 6, 1, 7, 2, 8}));
  EXPECT_EQ(Doubles(Op1("space_to_depth", {d}, {{"block_size", "2"}})), Doubles(x));
  EXPECT_ERROR(Op1("depth_to_space", {Iota({1, 3, 2, 2})}, {{"block_size", "2"}}), ValueError,
               "depth_to_space", "(1, 3, 2, 2)", "block_size");
  EXPECT_ERROR(Op1("space_to_depth", {Iota({3, 2, 2})}, {{"block_size", "2"}}), ValueError,
               "space_to_depth", "4-D", "(3, 2, 2)");
}

TEST(OpShape, SliceWithNoneAndNegativeSteps) {
  const NDArray x = Iota({3, 4});
  auto slice = [&](const char* b, const char* e, const char* s) {
    return Op1("slice", {x}, {{"begin", b}, {"end", e}, {"step", s}});
  };
  const NDArray a = slice("(None, None)", "(None, None)", "(-1, -2)");
  EXPECT_EQ(a.shape(), (Shape{3, 2}));
  EXPECT_EQ(Doubles(a), (std::vector<double>{11, 9, 7, 5, 3, 1}));
  EXPECT_EQ(Doubles(slice("(2,)", "(None,)", "(-2,)")),
            (std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3}));
  EXPECT_EQ(slice("(-1,)", "(-4,)", "(-1,)").shape(), (Shape{3, 4}));
  EXPECT_EQ(Doubles(slice("(1, 1)", "(-1, None)", "()")), (std::vector<double>{5, 6, 7}));
  EXPECT_EQ(slice("(5,)", "(None,)", "(1,)").shape(), (Shape{0, 4}));
  EXPECT_EQ(slice("(None,)", "(0,)", "(-1,)").shape(), (Shape{2, 4}));
  EXPECT_ERROR(slice("(0,)", "(2,)", "(0,)"), ValueError, "slice", "step (0,)", "axis 0");
  EXPECT_ERROR(slice("(0, 1)", "(2,)", "()"), ValueError, "slice", "begin (0, 1)", "end (2,)");
  EXPECT_ERROR(Op1("slice", {x}, {{"begin", "(0, x)"}, {"end", "(1, 2)"}}), ValueError, "slice",
               "'begin'", "(0, x)");
  EXPECT_EQ(Doubles(Op1("slice_axis", {x}, {{"axis", "1"}, {"begin", "-3"}, {"end", "-1"}})),
            (std::vector<double>{1, 2, 5, 6, 9, 10}));
  EXPECT_ERROR(Op1("slice_axis", {x}, {{"axis", "0"}, {"begin", "2"}, {"end", "1"}}), ValueError,
               "slice_axis", "begin 2", "end 1", "(3, 4)");
  EXPECT_EQ(Doubles(Op1("slice_like", {x, NDArray::Zeros({2, 2})}, {{"axes", "(0,)"}})),
            (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(Doubles(Op1("flip", {x}, {{"axis", "1"}}))[0], 3);
  // Zero-size input, integer dtype.
  const NDArray empty = NDArray::Zeros({0, 3}, DType::kInt32);
  EXPECT_EQ(Op1("slice", {empty}, {{"begin", "(None, 1)"}, {"end", "(None, None)"}}).shape(),
            (Shape{0, 2}));
}

TEST(OpShape, SplitWithSqueezeAxis) {
  const NDArray x = Iota({2, 3}, DType::kInt64);
  const auto parts =
      Invoke("split", {x}, {{"num_outputs", "3"}, {"axis", "1"}, {"squeeze_axis", "True"}});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].shape(), (Shape{2}));
  EXPECT_EQ(parts[0].ToVector<int64_t>(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(parts[2].ToVector<int64_t>(), (std::vector<int64_t>{2, 5}));
  const auto halves = Invoke("SliceChannel", {Iota({4, 2})}, {{"num_outputs", "2"}, {"axis", "0"}});
  EXPECT_EQ(Doubles(halves[1]), (std::vector<double>{4, 5, 6, 7}));
  EXPECT_ERROR(Invoke("split", {x}, {{"num_outputs", "2"}, {"axis", "1"}}), ValueError,
               "SliceChannel", "(2, 3)", "num_outputs=2", "axis 1");
  EXPECT_ERROR(Invoke("split", {Iota({2, 4})}, {{"num_outputs", "2"}, {"squeeze_axis", "1"}}),
               ValueError, "SliceChannel", "squeeze_axis", "(2, 4)");
}

TEST(OpShape, ConcatOfMixedSizesAndStack) {
  const NDArray a = Iota({2, 1});
  const NDArray b = NDArray::Full({2, 3}, 7);
  const NDArray c = Op1("concat", {a, b}, {{"num_args", "2"}, {"dim", "1"}});
  EXPECT_EQ(c.shape(), (Shape{2, 4}));
  EXPECT_EQ(Doubles(c), (std::vector<double>{0, 7, 7, 7, 1, 7, 7, 7}));
  const NDArray rows =
      Op1("Concat", {a, Iota({3, 1}), NDArray::Zeros({0, 1})}, {{"num_args", "3"}, {"dim", "0"}});
  EXPECT_EQ(Doubles(rows), (std::vector<double>{0, 1, 0, 1, 2}));
  EXPECT_ERROR(Op1("Concat", {a, Iota({3, 2})}, {{"num_args", "2"}}), ValueError, "Concat", "arg1",
               "(3, 2)", "(2, 1)");
  EXPECT_ERROR(Op1("Concat", {a, b}, {{"num_args", "3"}}), ValueError, "Concat takes 3 input(s)",
               "arg0, arg1, arg2");
  EXPECT_ERROR(Op1("Concat", {a, b}, {{"num_args", "2"}, {"dim", "2"}}), ValueError, "Concat",
               "dim 2", "(2, 1)");
  const NDArray s = Op1("stack", {Iota({2}, DType::kInt32), NDArray::Full({2}, 9, DType::kInt32)},
                        {{"num_args", "2"}, {"axis", "1"}});
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(s.ToVector<int32_t>(), (std::vector<int32_t>{0, 9, 1, 9}));
  EXPECT_ERROR(Op1("stack", {Iota({2}), Iota({3})}, {{"num_args", "2"}}), ValueError, "stack",
               "arg1", "(3,)", "(2,)");
}

TEST(OpShape, RepeatAndTile) {
  const NDArray x = Iota({2, 2});
  EXPECT_EQ(Doubles(Op1("repeat", {x}, {{"repeats", "2"}})),
            (std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(Doubles(Op1("repeat", {x}, {{"repeats", "2"}, {"axis", "0"}})),
            (std::vector<double>{0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(Op1("repeat", {x}, {{"repeats", "0"}, {"axis", "1"}}).shape(), (Shape{2, 0}));
  const NDArray t = Op1("tile", {x}, {{"reps", "(2, 1, 2)"}});
  EXPECT_EQ(t.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(Doubles(t), (std::vector<double>{0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(Op1("tile", {x}, {{"reps", "(3,)"}}).shape(), (Shape{2, 6}));
  EXPECT_ERROR(Op1("tile", {x}, {{"reps", "(-1,)"}}), ValueError, "tile", "reps (-1,)", "(2, 2)");
}

TEST(OpShape, CastBetweenIntFloatAndHalf) {
  const NDArray f = NDArray::FromVector<float>({1.7f, -1.7f, 300.5f, 0.0f}, {4});
  const NDArray i = Op1("Cast", {f}, {{"dtype", "int32"}});
  EXPECT_EQ(i.dtype(), DType::kInt32);
  EXPECT_EQ(i.ToVector<int32_t>(), (std::vector<int32_t>{1, -1, 300, 0}));
  const NDArray h = Op1("cast", {i}, {{"dtype", "float16"}});
  EXPECT_EQ(h.dtype(), DType::kFloat16);
  EXPECT_EQ(Doubles(h), (std::vector<double>{1, -1, 300, 0}));
  const NDArray bf = Op1("Cast", {h}, {{"dtype", "'bfloat16'"}});
  EXPECT_EQ(Doubles(bf), (std::vector<double>{1, -1, 300, 0}));
  EXPECT_EQ(Op1("Cast", {f}, {{"dtype", "uint8"}}).ToVector<uint8_t>()[0], 1);
  const NDArray b = Op1("Cast", {f}, {{"dtype", "bool"}});
  EXPECT_EQ(Doubles(b), (std::vector<double>{1, 1, 1, 0}));
  EXPECT_EQ(Op1("Cast", {b}, {{"dtype", "int64"}}).ToVector<int64_t>(),
            (std::vector<int64_t>{1, 1, 1, 0}));
  const NDArray d =
      Op1("Cast", {NDArray::FromVector<int64_t>({-3, 1LL << 40}, {2})}, {{"dtype", "float64"}});
  EXPECT_EQ(d.ToVector<double>(), (std::vector<double>{-3, 1099511627776.0}));
  EXPECT_ERROR(Op1("Cast", {f}, {{"dtype", "float33"}}), ValueError, "Cast", "'dtype'",
               "did you mean 'float32'");
  EXPECT_ERROR(Op1("Cast", {f}), ValueError, "Cast", "required argument 'dtype'");
}

TEST(OpShape, ClipAndFillsOnIntegers) {
  const NDArray x = NDArray::FromVector<int32_t>({-5, 0, 7}, {3});
  EXPECT_EQ(Op1("clip", {x}, {{"a_min", "-3.5"}, {"a_max", "4"}}).ToVector<int32_t>(),
            (std::vector<int32_t>{-3, 0, 4}));
  EXPECT_EQ(Op1("clip", {x}, {{"a_min", "-1e30"}, {"a_max", "1e30"}}).ToVector<int32_t>(),
            (std::vector<int32_t>{-5, 0, 7}));
  EXPECT_EQ(Op1("ones_like", {x}).ToVector<int32_t>(), (std::vector<int32_t>{1, 1, 1}));
  EXPECT_EQ(Op1("zeros_like", {x}).ToVector<int32_t>(), (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(Op1("identity", {x}).ToVector<int32_t>(), (std::vector<int32_t>{-5, 0, 7}));
  EXPECT_EQ(Op1("stop_gradient", {x}).ToVector<int32_t>(), (std::vector<int32_t>{-5, 0, 7}));
}

}  // namespace
}  // namespace mixnet::op
