// The oneDNN convolution passes against the direct-loop reference: plain and blocked layouts
// (NOTE [ oneDNN kernels ]), 1-D to 3-D, groups, dilation, strides that leave input rows
// unread, OpReq::kAdd, a second call that reuses the cached primitive, and the training
// forward's layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "operator/nn/conv_util.h"
#include "test_util.h"

namespace mixnet::op::nn {
namespace {

struct Case {
  std::string name;
  int nd;
  int64_t batch, in_c, out_c, groups;
  std::array<int64_t, 3> in, k, s, p, d;
};

ConvGeom Geom(const Case& c) {
  ConvGeom g;
  g.batch = c.batch;
  g.in_c = c.in_c;
  g.out_c = c.out_c;
  g.groups = c.groups;
  g.w.nd = c.nd;
  g.w.k = c.k;
  g.w.s = c.s;
  g.w.p = c.p;
  g.w.d = c.d;
  g.in = c.in;
  for (int i = 0; i < 3; ++i)
    g.out[i] = (c.in[i] + 2 * c.p[i] - (c.d[i] * (c.k[i] - 1) + 1)) / c.s[i] + 1;
  return g;
}

std::vector<float> RandomFloats(int64_t n, uint64_t seed) {
  const std::vector<double> d = testing_util::Random(static_cast<size_t>(n), seed);
  return std::vector<float>(d.begin(), d.end());
}

TBlob Blob(std::vector<float>& v, const Shape& s) {
  return TBlob{v.data(), s, DType::kFloat32};
}

class OpConvDnnl : public ::testing::TestWithParam<Case> {};

/*! \brief Sets MIXNET_CONV_LAYOUT for one scope (NOTE [ Conv layouts ]). */
class LayoutScope {
 public:
  explicit LayoutScope(const char* layout) { setenv("MIXNET_CONV_LAYOUT", layout, 1); }
  ~LayoutScope() { unsetenv("MIXNET_CONV_LAYOUT"); }
};

void ExpectMatchesReference(const ConvGeom& g);

TEST_P(OpConvDnnl, MatchesTheReferenceInEachLayout) {
  const ConvGeom g = Geom(GetParam());
  for (const char* layout : {"plain", "blocked", "auto"}) {
    SCOPED_TRACE(layout);
    LayoutScope scope(layout);
    ExpectMatchesReference(g);
  }
}

TEST(OpConvDnnl, BadLayoutVariableIsNamed) {
  const ConvGeom g =
      Geom(Case{"", 2, 1, 1, 1, 1, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}});
  std::vector<float> x(9), w(1), y(9);
  LayoutScope scope("nhwc");
  TempSpace temp;
  EXPECT_ERROR(
      RunConvPass(ConvPass::kForward, ConvAlgo::kOneDnn, g, Blob(x, {1, 1, 3, 3}),
                  Blob(w, {1, 1, 1, 1}), OpReq::kWrite, Blob(y, {1, 1, 3, 3}), nullptr, &temp),
      ValueError, "MIXNET_CONV_LAYOUT", "nhwc", "auto, blocked or plain");
}

// NOTE [ Conv layouts ]: the first call's timing of both layouts leaves nothing in the storage
// pool beyond what a call with the cached choice leaves, and its result is the plain layout's.
TEST(OpConvDnnl, LayoutTimingLeavesNoPooledScratch) {
  const ConvGeom g =
      Geom(Case{"", 2, 4, 16, 48, 1, {1, 30, 30}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, {1, 1, 1}});
  const Shape xs = ConvInShape(g), ys = ConvOutShape(g), ws = ConvWeightShape(g);
  std::vector<float> x = RandomFloats(xs.Size(), 5), w = RandomFloats(ws.Size(), 6);
  auto forward = [&](const char* layout) {
    LayoutScope scope(layout);
    std::vector<float> y(static_cast<size_t>(ys.Size()), 7.0f);
    TempSpace temp;
    RunConvPass(ConvPass::kForward, ConvAlgo::kOneDnn, g, Blob(x, xs), Blob(w, ws), OpReq::kWrite,
                Blob(y, ys), nullptr, &temp);
    return std::vector<double>(y.begin(), y.end());
  };
  const std::vector<double> plain = forward("plain");
  std::vector<size_t> pooled;
  for (int call = 0; call < 2; ++call) {  // timed, then cached
    Storage::Get()->EmptyCache(Context::cpu());
    testing_util::ExpectNear(forward("auto"), plain, 1e-4);
    pooled.push_back(Storage::Get()->Stats(Context::cpu()).bytes_pooled);
  }
  EXPECT_GT(pooled[1], 0u);  // the blocked or plain run's scratch is pooled for reuse
  EXPECT_EQ(pooled[0], pooled[1]);
}

void ExpectMatchesReference(const ConvGeom& g) {
  TempSpace temp;
  const Shape xs = ConvInShape(g), ys = ConvOutShape(g), ws = ConvWeightShape(g);
  std::vector<float> x = RandomFloats(xs.Size(), 1), w = RandomFloats(ws.Size(), 2);
  std::vector<float> dy = RandomFloats(ys.Size(), 3), bias = RandomFloats(g.out_c, 4);
  struct Pass {
    ConvPass pass;
    TBlob a, b;
    Shape out;
    const TBlob* bias;
  };
  const TBlob bias_blob = Blob(bias, Shape{g.out_c});
  const Pass passes[] = {
      {ConvPass::kForward, Blob(x, xs), Blob(w, ws), ys, &bias_blob},
      {ConvPass::kBackwardData, Blob(dy, ys), Blob(w, ws), xs, nullptr},
      {ConvPass::kBackwardWeight, Blob(x, xs), Blob(dy, ys), ws, nullptr},
  };
  for (const Pass& p : passes) {
    SCOPED_TRACE("pass " + std::to_string(static_cast<int>(p.pass)));
    const size_t n = static_cast<size_t>(p.out.Size());
    std::vector<float> want(n), got(n, 7.0f);
    RunConvPass(p.pass, ConvAlgo::kReference, g, p.a, p.b, OpReq::kWrite, Blob(want, p.out),
                p.bias);
    const std::vector<double> want_d(want.begin(), want.end());
    // Training forwards take their own blocked layout (NOTE [ Training forward layout ]).
    for (bool training : {false, true}) {
      SCOPED_TRACE(training ? "training" : "inference");
      for (int call = 0; call < 2; ++call) {  // the second call reuses the cached primitive
        std::fill(got.begin(), got.end(), 7.0f);
        RunConvPass(p.pass, ConvAlgo::kOneDnn, g, p.a, p.b, OpReq::kWrite, Blob(got, p.out), p.bias,
                    &temp, training);
        testing_util::ExpectNear(std::vector<double>(got.begin(), got.end()), want_d, 1e-4);
      }
    }
    // kAdd accumulates onto what the output held.
    std::vector<float> acc(n, 0.5f);
    RunConvPass(p.pass, ConvAlgo::kOneDnn, g, p.a, p.b, OpReq::kAdd, Blob(acc, p.out), p.bias,
                &temp);
    std::vector<double> want_acc(want_d);
    for (double& v : want_acc)
      v += 0.5;
    testing_util::ExpectNear(std::vector<double>(acc.begin(), acc.end()), want_acc, 1e-4);
  }
}

// (name, nd, batch, in_c, out_c, groups, in, k, s, p, d); 1-D and 2-D use the trailing dims.
INSTANTIATE_TEST_SUITE_P(
    Shapes, OpConvDnnl,
    ::testing::Values(
        Case{"plain_2d", 2, 2, 3, 4, 1, {1, 7, 6}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1}, {1, 1, 1}},
        Case{"blocked_3x3", 2, 2, 64, 64, 1, {1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, {1, 1, 1}},
        Case{"blocked_strided_grouped",
             2,
             1,
             64,
             128,
             2,
             {1, 9, 10},
             {1, 5, 5},
             {1, 2, 2},
             {0, 2, 1},
             {1, 1, 1}},
        Case{"plain_1x1_unread_rows",
             2,
             2,
             256,
             8,
             1,
             {1, 6, 6},
             {1, 1, 1},
             {1, 2, 2},
             {0, 0, 0},
             {1, 1, 1}},
        Case{"dilated_1d", 1, 2, 4, 6, 2, {1, 1, 11}, {1, 1, 3}, {1, 1, 1}, {0, 0, 1}, {1, 1, 2}},
        Case{"depthwise", 2, 2, 8, 8, 8, {1, 5, 5}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, {1, 1, 1}},
        // Above the timing threshold: "auto" times both layouts on the first call.
        Case{"timed_3x3", 2, 1, 64, 64, 1, {1, 17, 17}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, {1, 1, 1}},
        Case{"volumetric", 3, 1, 3, 4, 1, {4, 5, 3}, {2, 3, 2}, {2, 1, 1}, {1, 0, 1}, {1, 1, 1}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace mixnet::op::nn
