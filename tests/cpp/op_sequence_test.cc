// SequenceMask, SequenceLast, SequenceReverse and _rnn_param_concat against values from MXNet
// 1.9.1 (mx.nd.Sequence*(x, L, use_sequence_length=True) on x = arange(24) * 0.5 - 3 and
// L = [2, 4, 1]); gradients, shapes and second-order checks run on the registry samples.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/op/invoke.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

using testing_util::ExpectNear;

/*! \brief arange(24) * 0.5 - 3 in `shape`. */
NDArray Ramp(const Shape& shape) {
  std::vector<double> v(24);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<double>(i) * 0.5 - 3;
  return NDArray::FromVector(v, shape);
}

const AttrDict kUseLen{{"use_sequence_length", "True"}};

AttrDict With(AttrDict a, const char* k, const char* v) {
  a.emplace_back(k, v);
  return a;
}

std::vector<double> Values0(const char* op, const std::vector<NDArray>& in, const AttrDict& attrs) {
  return Invoke(op, in, attrs)[0].ToVector<double>();
}

TEST(OpSequence, MaskMatchesMXNet) {
  const NDArray len = NDArray::FromVector(std::vector<double>{2, 4, 1}, Shape{3});
  ExpectNear(Values0("SequenceMask", {Ramp({4, 3, 2}), len}, With(kUseLen, "value", "-1")),
             {-3, -2.5, -2, -1.5, -1, -0.5, 0,  0.5, 1, 1.5, -1, -1,
              -1, -1,   4,  4.5,  -1, -1,   -1, -1,  7, 7.5, -1, -1},
             0);
  ExpectNear(Values0("SequenceMask", {Ramp({3, 4, 2}), len}, With(kUseLen, "axis", "1")),
             {-3, -2.5, -2, -1.5, 0,   0,   0,   0,   1, 1.5, 2, 2.5,
              3,  3.5,  4,  4.5,  5.0, 5.5, 0.0, 0.0, 0, 0,   0, 0},
             0);
  // Without use_sequence_length the op takes data only and is the identity.
  EXPECT_EQ(Registry::Get("SequenceMask").NumInputs(Registry::Get("SequenceMask").ParseAttrs({})),
            1);
  ExpectNear(Values0("SequenceMask", {Ramp({4, 3, 2})}, {}), Ramp({4, 3, 2}).ToVector<double>(), 0);
  // Lengths are truncated to integers: 1.5 keeps one step, 2.7 two.
  const NDArray frac = NDArray::FromVector(std::vector<double>{1.5, 2.7, 0}, Shape{3});
  const auto y = Values0("SequenceMask", {Ramp({4, 3, 2}), frac}, kUseLen);
  std::vector<double> first;
  for (size_t i = 0; i < y.size(); i += 2)
    first.push_back(y[i]);
  ExpectNear(first, {-3, -2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, 0);
}

TEST(OpSequence, MaskWritesValueOverNaN) {
  std::vector<double> x = Ramp({4, 3, 2}).ToVector<double>();
  for (size_t i = 18; i < 24; ++i)
    x[i] = std::numeric_limits<double>::quiet_NaN();
  const NDArray len = NDArray::FromVector(std::vector<double>{2, 4, 1}, Shape{3});
  const auto y = Values0("SequenceMask", {NDArray::FromVector(x, Shape{4, 3, 2}), len}, kUseLen);
  // MXNet: [0, 0, nan, nan, 0, 0] at the last step; only sequence 1 reaches it.
  EXPECT_EQ(y[18], 0);
  EXPECT_EQ(y[19], 0);
  EXPECT_TRUE(std::isnan(y[20]) && std::isnan(y[21]));
  EXPECT_EQ(y[22], 0);
  EXPECT_EQ(y[23], 0);
}

TEST(OpSequence, LastMatchesMXNet) {
  const NDArray len = NDArray::FromVector(std::vector<double>{2, 4, 1}, Shape{3});
  const auto a0 = Invoke("SequenceLast", {Ramp({4, 3, 2}), len}, kUseLen)[0];
  EXPECT_EQ(a0.shape(), Shape({3, 2}));
  ExpectNear(a0.ToVector<double>(), {0, 0.5, 7, 7.5, -1, -0.5}, 0);
  ExpectNear(Values0("SequenceLast", {Ramp({3, 4, 2}), len}, With(kUseLen, "axis", "1")),
             {-2, -1.5, 4, 4.5, 5, 5.5}, 0);
  ExpectNear(Values0("SequenceLast", {Ramp({4, 3, 2})}, {}), {6, 6.5, 7, 7.5, 8, 8.5}, 0);
  const NDArray frac = NDArray::FromVector(std::vector<double>{1.5, 2.7, 1}, Shape{3});
  ExpectNear(Values0("SequenceLast", {Ramp({4, 3, 2}), frac}, kUseLen),
             {-3, -2.5, 1, 1.5, -1, -0.5}, 0);
}

TEST(OpSequence, ReverseMatchesMXNet) {
  const NDArray len = NDArray::FromVector(std::vector<double>{2, 4, 1}, Shape{3});
  ExpectNear(Values0("SequenceReverse", {Ramp({4, 3, 2}), len}, kUseLen),
             {0, 0.5, 7, 7.5, -1, -0.5, -3, -2.5, 4,  4.5,  2, 2.5,
              3, 3.5, 1, 1.5, 5,  5.5,  6,  6.5,  -2, -1.5, 8, 8.5},
             0);
  ExpectNear(Values0("SequenceReverse", {Ramp({4, 3, 2})}, {}),
             {6, 6.5, 7, 7.5, 8, 8.5, 3,  3.5,  4,  4.5,  5,  5.5,
              0, 0.5, 1, 1.5, 2, 2.5, -3, -2.5, -2, -1.5, -1, -0.5},
             0);
}

TEST(OpSequence, GradientsMatchMXNet) {
  // d/dx sum(op(x, L) * w) with w = arange(1, size + 1), as MXNet's autograd gives it.
  const NDArray len = NDArray::FromVector(std::vector<double>{2, 4, 1}, Shape{3});
  const std::vector<std::pair<const char*, std::vector<double>>> cases{
      {"SequenceMask",
       {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 15, 16, 0, 0, 0, 0, 21, 22, 0, 0}},
      {"SequenceLast", {0, 0, 0, 0, 5, 6, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0}},
      {"SequenceReverse",
       {7, 8, 21, 22, 5, 6, 1, 2, 15, 16, 11, 12, 13, 14, 9, 10, 17, 18, 19, 20, 3, 4, 23, 24}}};
  for (const auto& [op, want] : cases) {
    SCOPED_TRACE(op);
    NDArray x = Ramp({4, 3, 2});
    autograd::AttachGrad(&x);
    NDArray z;
    {
      autograd::RecordScope record;
      const AttrDict attrs =
          op == std::string("SequenceMask") ? With(kUseLen, "value", "-1") : kUseLen;
      const NDArray y = Invoke(op, {x, len}, attrs)[0];
      std::vector<double> w(static_cast<size_t>(y.Size()));
      for (size_t i = 0; i < w.size(); ++i)
        w[i] = static_cast<double>(i + 1);
      z = Invoke("sum", {Invoke("elemwise_mul", {y, NDArray::FromVector(w, y.shape())}, {})[0]},
                 {})[0];
    }
    autograd::Backward({z});
    ExpectNear(autograd::GetGrad(x).ToVector<double>(), want, 0);
  }
}

TEST(OpSequence, ErrorsNameTheArgument) {
  const NDArray len = NDArray::FromVector(std::vector<double>{2, 0, 1}, Shape{3});
  EXPECT_ERROR(Invoke("SequenceLast", {Ramp({4, 3, 2}), len}, kUseLen)[0].WaitToRead(), ValueError,
               "SequenceLast", "sequence_length[1]", "[1, 4]");
  EXPECT_ERROR(Invoke("SequenceReverse", {Ramp({3, 4, 2}), len}, With(kUseLen, "axis", "1")),
               ValueError, "SequenceReverse", "axis");
  EXPECT_ERROR(
      Invoke("SequenceMask",
             {Ramp({4, 3, 2}), NDArray::FromVector(std::vector<double>{1, 2}, Shape{2})}, kUseLen),
      ValueError, "SequenceMask", "sequence_length", "(3,)");
}

TEST(OpSequence, RnnParamConcatJoinsAndInfersTheMissingPart) {
  const NDArray a = NDArray::FromVector(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const NDArray b = NDArray::FromVector(std::vector<double>{7, 8, 9}, Shape{1, 3});
  const AttrDict attrs{{"num_args", "2"}, {"dim", "0"}};
  const auto y = Invoke("_rnn_param_concat", {a, b}, attrs)[0];
  EXPECT_EQ(y.shape(), Shape({3, 3}));
  ExpectNear(y.ToVector<double>(), {1, 2, 3, 4, 5, 6, 7, 8, 9}, 0);
  // The RNN op gives the joined size; the one input not yet known takes the rest.
  const OpDef& op = Registry::Get("_rnn_param_concat");
  const Attrs parsed = op.ParseAttrs(attrs);
  std::vector<Shape> in{Shape{6}, Shape()}, out{Shape{10}};
  op.infer_shape(parsed, &in, &out);
  EXPECT_EQ(in[1], Shape({4}));
  in = {Shape{6}, Shape{4}};
  out = {Shape()};
  op.infer_shape(parsed, &in, &out);
  EXPECT_EQ(out[0], Shape({10}));
}

}  // namespace
}  // namespace mixnet::op
