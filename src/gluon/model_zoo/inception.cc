// Inception v3 (mxnet/gluon/model_zoo/vision/inception.py).
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gluon/model_zoo/layers.h"

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

namespace {

// One (channels, kernel_size, strides, padding) setting; empty: the Conv2D default.
struct ConvSetting {
  int channels;
  std::vector<int> kernel, strides = {}, padding = {};
};

// _make_basic_conv: convolution (no bias), BatchNorm(epsilon=0.001), relu.
BlockPtr MakeBasicConv(const ConvSetting& s) {
  auto out = Sequential();
  out->Add(
      Conv(s.channels, s.kernel, {.strides = s.strides, .padding = s.padding, .use_bias = false}));
  out->Add(BatchNorm({.epsilon = 0.001}));
  out->Add(Relu());
  return out;
}

enum class BranchPool { kNone, kAvg, kMax };

// _make_branch: an optional pool, then basic convolutions.
BlockPtr MakeBranch(BranchPool pool, std::initializer_list<ConvSetting> settings) {
  auto out = Sequential();
  if (pool == BranchPool::kAvg) out->Add(AvgPool(3, 1, 1));
  if (pool == BranchPool::kMax) out->Add(MaxPool(3, 2));
  for (const auto& s : settings)
    out->Add(MakeBasicConv(s));
  return out;
}

constexpr auto kNone = BranchPool::kNone;

// The mixed blocks: branches concatenated on channels, named under `prefix` ("A1_").
BlockPtr MakeA(int pool_features, const std::string& prefix) {
  auto out = Concurrent(prefix);
  BlockScope scope(out.get());
  out->Add(MakeBranch(kNone, {{64, {1}}}));
  out->Add(MakeBranch(kNone, {{48, {1}}, {64, {5}, {}, {2}}}));
  out->Add(MakeBranch(kNone, {{64, {1}}, {96, {3}, {}, {1}}, {96, {3}, {}, {1}}}));
  out->Add(MakeBranch(BranchPool::kAvg, {{pool_features, {1}}}));
  return out;
}

BlockPtr MakeB(const std::string& prefix) {
  auto out = Concurrent(prefix);
  BlockScope scope(out.get());
  out->Add(MakeBranch(kNone, {{384, {3}, {2}}}));
  out->Add(MakeBranch(kNone, {{64, {1}}, {96, {3}, {}, {1}}, {96, {3}, {2}}}));
  out->Add(MakeBranch(BranchPool::kMax, {}));
  return out;
}

BlockPtr MakeC(int c7, const std::string& prefix) {
  auto out = Concurrent(prefix);
  BlockScope scope(out.get());
  out->Add(MakeBranch(kNone, {{192, {1}}}));
  out->Add(MakeBranch(kNone, {{c7, {1}}, {c7, {1, 7}, {}, {0, 3}}, {192, {7, 1}, {}, {3, 0}}}));
  out->Add(MakeBranch(kNone, {{c7, {1}},
                              {c7, {7, 1}, {}, {3, 0}},
                              {c7, {1, 7}, {}, {0, 3}},
                              {c7, {7, 1}, {}, {3, 0}},
                              {192, {1, 7}, {}, {0, 3}}}));
  out->Add(MakeBranch(BranchPool::kAvg, {{192, {1}}}));
  return out;
}

BlockPtr MakeD(const std::string& prefix) {
  auto out = Concurrent(prefix);
  BlockScope scope(out.get());
  out->Add(MakeBranch(kNone, {{192, {1}}, {320, {3}, {2}}}));
  out->Add(MakeBranch(
      kNone, {{192, {1}}, {192, {1, 7}, {}, {0, 3}}, {192, {7, 1}, {}, {3, 0}}, {192, {3}, {2}}}));
  out->Add(MakeBranch(BranchPool::kMax, {}));
  return out;
}

// The 1x3 and 3x1 convolutions side by side, on the output of `first`.
BlockPtr SplitBranch(BlockPtr first) {
  auto seq = Sequential();
  seq->Add(std::move(first));
  auto split = Concurrent();
  split->Add(MakeBranch(kNone, {{384, {1, 3}, {}, {0, 1}}}));
  split->Add(MakeBranch(kNone, {{384, {3, 1}, {}, {1, 0}}}));
  seq->Add(BlockPtr(split));
  return seq;
}

BlockPtr MakeE(const std::string& prefix) {
  // MXNet adds each container to `out` before filling it; the names only depend on the order
  // in which the convolutions are created, which is the same here.
  auto out = Concurrent(prefix);
  BlockScope scope(out.get());
  out->Add(MakeBranch(kNone, {{320, {1}}}));
  out->Add(SplitBranch(MakeBranch(kNone, {{384, {1}}})));
  out->Add(SplitBranch(MakeBranch(kNone, {{448, {1}}, {384, {3}, {}, {1}}})));
  out->Add(MakeBranch(BranchPool::kAvg, {{192, {1}}}));
  return out;
}

}  // namespace

Inception3::Inception3(int classes, BlockArgs args)
    : ImageClassifier("inception3", std::move(args)) {
  BlockScope scope(this);
  auto features = Sequential();
  features->Add(MakeBasicConv({32, {3}, {2}}));
  features->Add(MakeBasicConv({32, {3}}));
  features->Add(MakeBasicConv({64, {3}, {}, {1}}));
  features->Add(MaxPool(3, 2));
  features->Add(MakeBasicConv({80, {1}}));
  features->Add(MakeBasicConv({192, {3}}));
  features->Add(MaxPool(3, 2));
  features->Add(MakeA(32, "A1_"));
  features->Add(MakeA(64, "A2_"));
  features->Add(MakeA(64, "A3_"));
  features->Add(MakeB("B_"));
  features->Add(MakeC(128, "C1_"));
  features->Add(MakeC(160, "C2_"));
  features->Add(MakeC(160, "C3_"));
  features->Add(MakeC(192, "C4_"));
  features->Add(MakeD("D_"));
  features->Add(MakeE("E1_"));
  features->Add(MakeE("E2_"));
  features->Add(AvgPool(8, 8));
  features->Add(Dropout(0.5));
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(Dense(classes), "output");
}

}  // namespace mixnet::gluon::model_zoo::vision
