// Inference-only folding of Convolution -> BatchNorm [-> relu] (NOTE [ Conv BatchNorm
// folding ]): the folded graph computes what the unfused one does, chains whose inner results
// are read elsewhere stay apart, and an inference-only executor refuses a training forward.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "mixnet/executor/executor.h"
#include "test_util.h"

namespace mixnet {
namespace {

using exec::Executor;
using exec::ExecutorOptions;
using exec::GradReq;
using sym::Symbol;

/*! \brief conv1 -> bn1 -> relu -> conv2(bias) -> bn2, and conv3 read by bn3 and an add. */
Symbol Net() {
  Symbol data = Symbol::Variable("data");
  auto conv = [](const Symbol& x, const char* name, const char* kernel, const char* pad,
                 const char* filters, bool bias) {
    return Symbol::Create("Convolution", {x},
                          {{"kernel", kernel},
                           {"pad", pad},
                           {"num_filter", filters},
                           {"no_bias", bias ? "False" : "True"}},
                          name);
  };
  Symbol c1 = conv(data, "conv1", "(3, 3)", "(1, 1)", "4", false);
  Symbol b1 = Symbol::Create("BatchNorm", {c1}, {{"fix_gamma", "False"}, {"eps", "1e-5"}}, "bn1");
  Symbol r1 = Symbol::Create("Activation", {b1}, {{"act_type", "relu"}}, "relu1");
  Symbol c2 = conv(r1, "conv2", "(1, 1)", "(0, 0)", "5", true);
  Symbol b2 = Symbol::Create("BatchNorm", {c2}, {}, "bn2");
  Symbol c3 = conv(r1, "conv3", "(1, 1)", "(0, 0)", "4", false);
  Symbol b3 = Symbol::Create("BatchNorm", {c3}, {{"fix_gamma", "False"}}, "bn3");
  Symbol sum = Symbol::Create("elemwise_add", {b3, c3}, {}, "sum");
  return Symbol::Group({b2, sum});
}

void FillRandom(const NDArray& a, std::mt19937* rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(a.shape().Size()));
  for (float& x : v)
    x = u(*rng);
  NDArray::FromVector(v, a.shape()).CopyTo(a);
}

TEST(ExecConvBnFusion, FoldedGraphMatchesUnfused) {
  const Symbol net = Net();
  ExecutorOptions fused_opts;
  fused_opts.inference_only = true;
  fused_opts.fuse_conv_bn = true;
  auto ref =
      Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{2, 3, 6, 6}}}, {}, GradReq::kNull);
  auto fused = Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{2, 3, 6, 6}}}, {},
                                    GradReq::kNull, {}, nullptr, fused_opts);
  std::mt19937 rng(7);
  for (const auto& [name, a] : ref->arg_dict()) {
    FillRandom(a, &rng, -1.0f, 1.0f);
    a.CopyTo(fused->arg_dict().at(name));
  }
  for (const auto& [name, a] : ref->aux_dict()) {
    FillRandom(a, &rng, 0.5f, 1.5f);  // moving variances must be positive; means any
    a.CopyTo(fused->aux_dict().at(name));
  }
  ref->Forward(false);
  fused->Forward(false);
  ASSERT_EQ(ref->outputs().size(), fused->outputs().size());
  for (size_t i = 0; i < ref->outputs().size(); ++i) {
    const auto got = fused->outputs()[i].ToVector<float>();
    const auto want = ref->outputs()[i].ToVector<float>();
    testing_util::ExpectNear({got.begin(), got.end()}, {want.begin(), want.end()}, 1e-4);
  }
  const std::string graph = fused->DebugStr();
  EXPECT_NE(graph.find("Op:_conv_scale_shift_relu, relu1"), std::string::npos) << graph;
  EXPECT_NE(graph.find("Op:_conv_scale_shift, bn2"), std::string::npos) << graph;
  // conv3's output is read twice: its chain stays apart.
  EXPECT_NE(graph.find("Op:BatchNorm, bn3"), std::string::npos) << graph;
  EXPECT_EQ(graph.find("Op:Convolution, conv1"), std::string::npos) << graph;
  EXPECT_EQ(ref->DebugStr().find("_conv_scale_shift"), std::string::npos);
  EXPECT_THROW(fused->Forward(true), ValueError);
}

}  // namespace
}  // namespace mixnet
