// Convolution, Deconvolution, Pooling, UpSampling and Pad: output shapes and their errors, and
// values of tiny cases computed by hand (the registry test covers kernels and gradients).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mixnet/op/invoke.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

NDArray Seq(Shape shape) {
  std::vector<float> v(static_cast<size_t>(shape.Size()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i + 1);
  return NDArray::FromVector(v, shape);
}

/*! \brief Runs `op` with each named kernel and expects `want` from all of them. */
void ExpectValues(const char* op, std::initializer_list<NDArray> inputs, const AttrDict& attrs,
                  const std::vector<float>& want, std::initializer_list<const char*> kernels) {
  const std::vector<NDArray> in(inputs);
  for (const char* k : kernels) {
    SCOPED_TRACE(k);
    const NDArray y = Invoke(op, in, attrs, {}, {.kernel = k})[0];
    EXPECT_EQ(y.ToVector<float>(), want);
  }
}

TEST(OpConv, OutputShapes) {
  auto conv = [](Shape data, Shape weight, AttrDict attrs, bool bias = true) {
    if (bias) {
      return Invoke("Convolution",
                    {NDArray::Zeros(data), NDArray::Zeros(weight), NDArray::Zeros({weight[0]})},
                    attrs)[0]
          .shape();
    }
    attrs.emplace_back("no_bias", "True");
    return Invoke("Convolution", {NDArray::Zeros(data), NDArray::Zeros(weight)}, attrs)[0].shape();
  };
  EXPECT_EQ(
      conv({2, 3, 7, 7}, {8, 3, 3, 3},
           {{"kernel", "(3, 3)"}, {"num_filter", "8"}, {"stride", "(2, 2)"}, {"pad", "(1, 1)"}}),
      (Shape{2, 8, 4, 4}));
  EXPECT_EQ(conv({1, 3, 7, 7}, {8, 3, 3, 3},
                 {{"kernel", "(3, 3)"}, {"num_filter", "8"}, {"dilate", "(2, 2)"}}, false),
            (Shape{1, 8, 3, 3}));
  EXPECT_EQ(conv({1, 4, 5, 5}, {6, 2, 3, 3},
                 {{"kernel", "(3, 3)"}, {"num_filter", "6"}, {"num_group", "2"}}),
            (Shape{1, 6, 3, 3}));
  EXPECT_EQ(conv({2, 3, 10}, {5, 3, 4}, {{"kernel", "(4,)"}, {"num_filter", "5"}, {"stride", "3"}}),
            (Shape{2, 5, 3}));
  EXPECT_EQ(conv({1, 2, 4, 5, 6}, {3, 2, 2, 3, 3},
                 {{"kernel", "(2, 3, 3)"}, {"num_filter", "3"}, {"pad", "(0, 1, 1)"}}),
            (Shape{1, 3, 3, 5, 6}));
  // A zero-size batch works, forward and backward.
  EXPECT_EQ(conv({0, 3, 5, 5}, {4, 3, 3, 3}, {{"kernel", "(3, 3)"}, {"num_filter", "4"}}),
            (Shape{0, 4, 3, 3}));
  const NDArray dw = Invoke("_convolution_backward_weight",
                            {NDArray::Zeros({0, 4, 3, 3}), NDArray::Zeros({0, 3, 5, 5})},
                            {{"kernel", "(3, 3)"}, {"num_filter", "4"}})[0];
  EXPECT_EQ(dw.ToVector<float>(), std::vector<float>(4 * 3 * 9, 0.0f));
}

TEST(OpConv, ErrorsNameTheOpAndTheShapes) {
  const NDArray x = NDArray::Zeros({1, 1, 2, 2});
  EXPECT_ERROR(
      Invoke("Convolution", {x, NDArray::Zeros({1, 1, 5, 5})},
             {{"kernel", "(5, 5)"}, {"num_filter", "1"}, {"pad", "(1, 1)"}, {"no_bias", "True"}}),
      ValueError, "Convolution", "kernel (5, 5)", "larger than the padded input", "(1, 1, 2, 2)");
  EXPECT_ERROR(Invoke("Convolution", {x, NDArray::Zeros({2, 1, 3, 3}), NDArray::Zeros({2})},
                      {{"kernel", "(2, 2)"}, {"num_filter", "2"}}),
               ValueError, "Convolution", "weight", "(2, 1, 3, 3)", "(2, 1, 2, 2)");
  EXPECT_ERROR(
      Invoke("Convolution", {NDArray::Zeros({1, 3, 4, 4}), NDArray::Zeros({2, 1, 1, 1})},
             {{"kernel", "(1, 1)"}, {"num_filter", "2"}, {"num_group", "2"}, {"no_bias", "1"}}),
      ValueError, "Convolution", "num_group 2", "(1, 3, 4, 4)");
  EXPECT_ERROR(Invoke("Convolution", {x, NDArray::Zeros({1, 1, 1, 1})},
                      {{"kernel", "(1,)"}, {"num_filter", "1"}, {"no_bias", "True"}}),
               ValueError, "Convolution", "(1, 1, 2, 2)", "1-D kernel");
  EXPECT_ERROR(Invoke("Convolution", {x, NDArray::Zeros({1, 1, 1, 1})},
                      {{"kernel", "(1, 1)"},
                       {"num_filter", "1"},
                       {"stride", "(1, 1, 1)"},
                       {"no_bias", "True"}}),
               ValueError, "Convolution", "stride (1, 1, 1)");
  EXPECT_ERROR(
      Invoke("Convolution", {x, NDArray::Zeros({1, 1, 1, 1})},
             {{"kernel", "(1, 1)"}, {"num_filter", "1"}, {"layout", "NHWC"}, {"no_bias", "True"}}),
      NotImplementedError, "Convolution", "NHWC");
  EXPECT_ERROR(Invoke("Convolution", {x}, {{"kernel", "(1, 1)"}, {"num_filter", "1"}}), ValueError,
               "Convolution takes 3 input(s)", "data, weight, bias");
}

TEST(OpConv, TinyValuesByHand) {
  const NDArray x = Seq({1, 1, 3, 3});  // 1..9
  const NDArray w = Seq({1, 1, 2, 2});  // 1..4
  const NDArray b = NDArray::FromVector<float>({1}, {1});
  ExpectValues("Convolution", {x, w, b}, {{"kernel", "(2, 2)"}, {"num_filter", "1"}},
               {38, 48, 68, 78}, {"im2col_gemm", "reference"});
  ExpectValues("Convolution", {x, w},
               {{"kernel", "(2, 2)"},
                {"num_filter", "1"},
                {"stride", "(2, 2)"},
                {"pad", "(1, 1)"},
                {"no_bias", "True"}},
               {4, 18, 36, 77}, {"im2col_gemm", "reference"});
  // Two groups of one channel each: each output sees only its own channel.
  const NDArray x2 = NDArray::FromVector<float>({1, 2, 3, 10, 20, 30}, {1, 2, 3});
  const NDArray w2 = NDArray::FromVector<float>({1, 1, 2, -1}, {2, 1, 2});
  ExpectValues("Convolution", {x2, w2},
               {{"kernel", "(2,)"}, {"num_filter", "2"}, {"num_group", "2"}, {"no_bias", "True"}},
               {3, 5, 0, 10}, {"im2col_gemm", "reference"});
}

TEST(OpDeconv, ShapesAndTinyValuesByHand) {
  const NDArray x = Seq({1, 1, 2, 2});
  const NDArray w = Seq({1, 1, 2, 2});
  // A full correlation: every input pixel stamps the kernel at its position.
  ExpectValues("Deconvolution", {x, w}, {{"kernel", "(2, 2)"}, {"num_filter", "1"}},
               {1, 4, 4, 6, 20, 16, 9, 24, 16}, {"gemm_col2im", "reference"});
  ExpectValues("Deconvolution", {Seq({1, 1, 2}), NDArray::FromVector<float>({1, 10}, {1, 1, 2})},
               {{"kernel", "(2,)"}, {"num_filter", "1"}, {"stride", "(2,)"}}, {1, 10, 2, 20},
               {"gemm_col2im", "reference"});
  auto shape = [](AttrDict attrs) {
    return Invoke("Deconvolution", {NDArray::Zeros({1, 1, 3, 3}), NDArray::Zeros({1, 2, 3, 3})},
                  attrs)[0]
        .shape();
  };
  AttrDict base = {{"kernel", "(3, 3)"}, {"num_filter", "2"}, {"stride", "(2, 2)"}};
  auto with = [&](AttrDict extra) {
    AttrDict a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  EXPECT_EQ(shape(base), (Shape{1, 2, 7, 7}));
  EXPECT_EQ(shape(with({{"pad", "(1, 1)"}, {"adj", "(1, 0)"}})), (Shape{1, 2, 6, 5}));
  EXPECT_EQ(shape(with({{"target_shape", "(6, 7)"}})), (Shape{1, 2, 6, 7}));
  EXPECT_EQ(shape(with({{"dilate", "(2, 1)"}})), (Shape{1, 2, 9, 7}));
  EXPECT_ERROR(shape(with({{"adj", "(2, 0)"}})), ValueError, "Deconvolution", "adj (2, 0)",
               "smaller than stride");
  EXPECT_ERROR(shape(with({{"target_shape", "(9, 9)"}})), ValueError, "Deconvolution",
               "target_shape (9, 9)", "(1, 1, 3, 3)");
}

TEST(OpPooling, ConventionsAndGlobal) {
  auto shape = [](Shape data, AttrDict attrs) {
    return Invoke("Pooling", {NDArray::Zeros(data)}, attrs)[0].shape();
  };
  const AttrDict k2s2 = {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}};
  AttrDict full = k2s2;
  full.emplace_back("pooling_convention", "full");
  EXPECT_EQ(shape({1, 1, 5, 5}, k2s2), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(shape({1, 1, 5, 5}, full), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(shape({1, 1, 6, 6}, full), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(shape({2, 3, 7}, {{"kernel", "(3,)"}}), (Shape{2, 3, 5}));  // stride defaults to 1
  EXPECT_EQ(
      shape({1, 1, 7}, {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"pooling_convention", "same"}}),
      (Shape{1, 1, 4}));
  EXPECT_EQ(shape({0, 2, 4, 4}, k2s2), (Shape{0, 2, 2, 2}));
  EXPECT_EQ(shape({2, 3, 4, 5, 6}, {{"global_pool", "True"}}), (Shape{2, 3, 1, 1, 1}));
  EXPECT_ERROR(shape({1, 1, 4, 4}, {}), ValueError, "Pooling", "kernel is required");
  EXPECT_ERROR(shape({1, 1, 2, 2}, {{"kernel", "(3, 3)"}}), ValueError, "Pooling", "kernel (3, 3)",
               "(1, 1, 2, 2)");

  const NDArray x = Seq({1, 2, 2, 3});
  ExpectValues("Pooling", {x}, {{"global_pool", "True"}, {"kernel", "(1, 1)"}}, {6, 12},
               {"onednn", "planar", "reference"});
  ExpectValues("Pooling", {x}, {{"global_pool", "True"}, {"pool_type", "avg"}}, {3.5, 9.5},
               {"onednn", "planar", "reference"});
  ExpectValues("Pooling", {x}, {{"global_pool", "True"}, {"pool_type", "sum"}}, {21, 57},
               {"planar", "reference"});
}

TEST(OpPooling, CountIncludePad) {
  const NDArray ones = NDArray::Ones({1, 1, 2, 2});
  const AttrDict attrs = {{"kernel", "(2, 2)"}, {"pad", "(1, 1)"}, {"pool_type", "avg"}};
  ExpectValues("Pooling", {ones}, attrs, {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25},
               {"onednn", "planar", "reference"});
  AttrDict exclude = attrs;
  exclude.emplace_back("count_include_pad", "False");
  ExpectValues("Pooling", {ones}, exclude, std::vector<float>(9, 1.0f),
               {"onednn", "planar", "reference"});
}

TEST(OpPooling, MaxGradientGoesToTheFirstMax) {
  const NDArray x = NDArray::FromVector<float>({3, 3, 1, 3}, {1, 1, 4});
  const AttrDict attrs = {{"kernel", "(2,)"}};
  const NDArray y = Invoke("Pooling", {x}, attrs)[0];
  EXPECT_EQ(y.ToVector<float>(), (std::vector<float>{3, 3, 3}));
  const NDArray dy = NDArray::FromVector<float>({1, 2, 4}, {1, 1, 3});
  const NDArray dx = Invoke("_pooling_backward", {dy, x, y}, attrs)[0];
  EXPECT_EQ(dx.ToVector<float>(), (std::vector<float>{1, 2, 0, 4}));
  const NDArray tie = NDArray::Ones({1, 1, 2, 2});
  const AttrDict k2 = {{"kernel", "(2, 2)"}};
  const NDArray ty = Invoke("Pooling", {tie}, k2)[0];
  const NDArray tdx = Invoke("_pooling_backward", {NDArray::Ones({1, 1, 1, 1}), tie, ty}, k2)[0];
  EXPECT_EQ(tdx.ToVector<float>(), (std::vector<float>{1, 0, 0, 0}));
}

// Every kernel that takes a case against the reference, forward and backward; inputs are
// rounded to quarters so max windows hold ties (the gradient goes to the first max).
TEST(OpPooling, KernelsMatchTheReference) {
  struct Case {
    Shape data;
    AttrDict attrs;
  };
  const std::vector<Case> cases = {
      {{2, 3, 9, 8}, {{"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"pad", "(1, 1)"}}},
      {{2, 3, 9, 8},
       {{"kernel", "(3, 2)"}, {"stride", "(2, 2)"}, {"pad", "(1, 0)"}, {"pool_type", "avg"}}},
      {{2, 3, 9, 8},
       {{"kernel", "(3, 3)"},
        {"stride", "(2, 2)"},
        {"pad", "(1, 1)"},
        {"pool_type", "avg"},
        {"count_include_pad", "False"}}},
      {{1, 2, 7, 7}, {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pooling_convention", "full"}}},
      {{1, 2, 7, 7},
       {{"kernel", "(3, 3)"},
        {"stride", "(2, 2)"},
        {"pooling_convention", "full"},
        {"pool_type", "avg"}}},
      {{2, 4, 11}, {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"pool_type", "avg"}}},
      {{1, 2, 4, 5, 6}, {{"kernel", "(2, 3, 2)"}, {"stride", "(2, 1, 2)"}}},
      {{2, 3, 5, 6}, {{"global_pool", "True"}, {"pool_type", "avg"}}},
  };
  const auto run = [](const char* op, std::vector<NDArray> in, const AttrDict& attrs,
                      const char* kernel) {
    return Invoke(op, in, attrs, {}, {.kernel = kernel})[0];
  };
  const auto doubles = [](const NDArray& a) {
    const std::vector<float> v = a.ToVector<float>();
    return std::vector<double>(v.begin(), v.end());
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.attrs));
    std::vector<float> xv(static_cast<size_t>(c.data.Size()));
    const std::vector<double> r = testing_util::Random(xv.size(), 7);
    for (size_t i = 0; i < xv.size(); ++i)
      xv[i] = std::round(static_cast<float>(r[i]) * 4) / 4;
    const NDArray x = NDArray::FromVector(xv, c.data);
    const NDArray want_y = run("Pooling", {x}, c.attrs, "reference");
    const std::vector<double> dyv = testing_util::Random(static_cast<size_t>(want_y.Size()), 8);
    const NDArray dy =
        NDArray::FromVector(std::vector<float>(dyv.begin(), dyv.end()), want_y.shape());
    const NDArray want_dx = run("_pooling_backward", {dy, x, want_y}, c.attrs, "reference");
    for (const char* k : {"onednn", "planar"}) {
      SCOPED_TRACE(k);
      const OpDef& def = Registry::Get("Pooling");
      const Attrs attrs = def.ParseAttrs(c.attrs);
      const auto kernel = std::find_if(def.kernels.begin(), def.kernels.end(),
                                       [&](const KernelDef& d) { return d.name == k; });
      ASSERT_NE(kernel, def.kernels.end());
      TBlob xb{nullptr, c.data, DType::kFloat32}, yb{nullptr, want_y.shape(), DType::kFloat32};
      if (kernel->supports && !kernel->supports(attrs, {&xb, 1}, {&yb, 1}).empty()) continue;
      const NDArray y = run("Pooling", {x}, c.attrs, k);
      testing_util::ExpectNear(doubles(y), doubles(want_y), 1e-6);
      const NDArray dx = run("_pooling_backward", {dy, x, y}, c.attrs, k);
      testing_util::ExpectNear(doubles(dx), doubles(want_dx), 1e-6);
    }
  }
}

TEST(OpUpSamplingPad, Values) {
  ExpectValues("UpSampling", {Seq({1, 1, 1, 2})},
               {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "1"}},
               {1, 1, 2, 2, 1, 1, 2, 2}, {"reference"});
  EXPECT_ERROR(Invoke("UpSampling", {Seq({1, 1, 1, 2})},
                      {{"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "2"}}),
               NotImplementedError, "UpSampling", "num_args 2");
  EXPECT_EQ(
      Invoke(
          "UpSampling", {NDArray::Zeros({1, 3, 4, 5}), NDArray::Zeros({3, 1, 5, 5})},
          {{"scale", "3"}, {"sample_type", "bilinear"}, {"num_args", "2"}, {"num_filter", "3"}})[0]
          .shape(),
      (Shape{1, 3, 12, 15}));

  const NDArray x = Seq({1, 1, 1, 3});
  const std::string width = "(0, 0, 0, 0, 0, 0, 2, 2)";
  ExpectValues("Pad", {x}, {{"mode", "constant"}, {"pad_width", width}, {"constant_value", "-1"}},
               {-1, -1, 1, 2, 3, -1, -1}, {"reference"});
  ExpectValues("Pad", {x}, {{"mode", "edge"}, {"pad_width", width}}, {1, 1, 1, 2, 3, 3, 3},
               {"reference"});
  ExpectValues("pad", {x}, {{"mode", "reflect"}, {"pad_width", width}}, {3, 2, 1, 2, 3, 2, 1},
               {"reference"});
  EXPECT_ERROR(Invoke("Pad", {x}, {{"pad_width", "(1, 0, 0, 0, 0, 0, 0, 0)"}}), NotImplementedError,
               "Pad", "(1, 0, 0, 0, 0, 0, 0, 0)");
  EXPECT_ERROR(Invoke("Pad", {x}, {{"pad_width", "(0, 0, 1, 1)"}}), ValueError, "Pad",
               "(1, 1, 1, 3)", "8 values");
}

}  // namespace
}  // namespace mixnet::op
