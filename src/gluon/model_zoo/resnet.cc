// ResNet v1 and v2 (mxnet/gluon/model_zoo/vision/resnet.py).
#include <string>
#include <utility>
#include <vector>

#include "gluon/model_zoo/layers.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"

// NOTE [ Model zoo names ]
// MXNet names a block when it is constructed: inside `with parent.name_scope():` a block gets
// parent.prefix + (its prefix, or alias + the parent's counter for that alias), outside any
// scope alias + a global counter. The zoo's Python code relies on that: the residual blocks are
// built with prefix='' and never enter their own name scope, so their convolutions are counted
// by the stage ("resnetv10_stage1_conv3_weight"), and the helper functions build
// HybridSequential(prefix='') containers that add nothing to the names. Each constructor here
// creates the same blocks in the same order, with the same prefixes and BlockScopes, and
// registers children under MXNet's attribute names ("features", "body", "downsample"), so both
// the prefixed names and the structural names ("features.5.0.body.0.weight") come out as
// MXNet's.

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

namespace {

// _conv3x3
BlockPtr Conv3x3(int channels, int stride, int in_channels) {
  return Conv(channels, {3},
              {.strides = {stride}, .padding = {1}, .in_channels = in_channels, .use_bias = false});
}

BlockPtr Conv1x1(int channels, int stride, int in_channels = 0, bool use_bias = true) {
  return Conv(channels, {1},
              {.strides = {stride}, .in_channels = in_channels, .use_bias = use_bias});
}

// The library cannot use the generated op functions (they are generated from it).
NDArray Relu(const NDArray& x) {
  return op::Invoke("Activation", {x}, {{"act_type", "relu"}})[0];
}

NDArray Add(const NDArray& a, const NDArray& b) {
  return op::Invoke("elemwise_add", {a, b})[0];
}

}  // namespace

void ResidualV1::RegisterBody(BlockPtr body, int channels, int stride, bool downsample,
                              int in_channels) {
  body_ = RegisterChild(std::move(body), "body");
  if (downsample) {
    auto seq = Sequential();
    seq->Add(Conv1x1(channels, stride, in_channels, /*use_bias=*/false));
    seq->Add(BatchNorm());
    downsample_ = RegisterChild(BlockPtr(seq), "downsample");
  }
}

std::vector<NDArray> ResidualV1::HybridForward(const std::vector<NDArray>& inputs) {
  NDArray residual = inputs[0];
  NDArray x = (*body_)(inputs[0]);
  if (downsample_) residual = (*downsample_)(residual);
  return {Relu(Add(x, residual))};
}

BasicBlockV1::BasicBlockV1(int channels, int stride, bool downsample, int in_channels,
                           BlockArgs args)
    : ResidualV1("basicblockv1", std::move(args)) {
  auto body = Sequential();
  body->Add(Conv3x3(channels, stride, in_channels));
  body->Add(BatchNorm());
  body->Add(detail::Relu());
  body->Add(Conv3x3(channels, 1, channels));
  body->Add(BatchNorm());
  RegisterBody(body, channels, stride, downsample, in_channels);
}

BottleneckV1::BottleneckV1(int channels, int stride, bool downsample, int in_channels,
                           BlockArgs args)
    : ResidualV1("bottleneckv1", std::move(args)) {
  auto body = Sequential();
  body->Add(Conv1x1(channels / 4, stride));
  body->Add(BatchNorm());
  body->Add(detail::Relu());
  body->Add(Conv3x3(channels / 4, 1, channels / 4));
  body->Add(BatchNorm());
  body->Add(detail::Relu());
  body->Add(Conv1x1(channels, 1));
  body->Add(BatchNorm());
  RegisterBody(body, channels, stride, downsample, in_channels);
}

BasicBlockV2::BasicBlockV2(int channels, int stride, bool downsample, int in_channels,
                           BlockArgs args)
    : HybridBlock("basicblockv2", std::move(args)) {
  bn1_ = RegisterChild(BatchNorm(), "bn1");
  conv1_ = RegisterChild(Conv3x3(channels, stride, in_channels), "conv1");
  bn2_ = RegisterChild(BatchNorm(), "bn2");
  conv2_ = RegisterChild(Conv3x3(channels, 1, channels), "conv2");
  if (downsample) {
    downsample_ = RegisterChild(Conv1x1(channels, stride, in_channels, false), "downsample");
  }
}

std::vector<NDArray> BasicBlockV2::HybridForward(const std::vector<NDArray>& inputs) {
  NDArray residual = inputs[0];
  NDArray x = Relu((*bn1_)(inputs[0]));
  if (downsample_) residual = (*downsample_)(x);
  x = (*conv1_)(x);
  x = Relu((*bn2_)(x));
  x = (*conv2_)(x);
  return {Add(x, residual)};
}

BottleneckV2::BottleneckV2(int channels, int stride, bool downsample, int in_channels,
                           BlockArgs args)
    : HybridBlock("bottleneckv2", std::move(args)) {
  bn1_ = RegisterChild(BatchNorm(), "bn1");
  conv1_ = RegisterChild(Conv1x1(channels / 4, 1, 0, false), "conv1");
  bn2_ = RegisterChild(BatchNorm(), "bn2");
  conv2_ = RegisterChild(Conv3x3(channels / 4, stride, channels / 4), "conv2");
  bn3_ = RegisterChild(BatchNorm(), "bn3");
  conv3_ = RegisterChild(Conv1x1(channels, 1, 0, false), "conv3");
  if (downsample) {
    downsample_ = RegisterChild(Conv1x1(channels, stride, in_channels, false), "downsample");
  }
}

std::vector<NDArray> BottleneckV2::HybridForward(const std::vector<NDArray>& inputs) {
  NDArray residual = inputs[0];
  NDArray x = Relu((*bn1_)(inputs[0]));
  if (downsample_) residual = (*downsample_)(x);
  x = (*conv1_)(x);
  x = Relu((*bn2_)(x));
  x = (*conv2_)(x);
  x = Relu((*bn3_)(x));
  x = (*conv3_)(x);
  return {Add(x, residual)};
}

namespace {

BlockPtr MakeResidualBlock(int version, ResidualBlock kind, int channels, int stride,
                           bool downsample, int in_channels) {
  const BlockArgs args = Prefix("");
  if (version == 1) {
    if (kind == ResidualBlock::kBasic) {
      return std::make_shared<BasicBlockV1>(channels, stride, downsample, in_channels, args);
    }
    return std::make_shared<BottleneckV1>(channels, stride, downsample, in_channels, args);
  }
  if (kind == ResidualBlock::kBasic) {
    return std::make_shared<BasicBlockV2>(channels, stride, downsample, in_channels, args);
  }
  return std::make_shared<BottleneckV2>(channels, stride, downsample, in_channels, args);
}

// ResNetV1/V2._make_layer: a stage "stageN_" of `layers` blocks, the first one strided.
BlockPtr MakeStage(int version, ResidualBlock kind, int layers, int channels, int stride,
                   int stage_index, int in_channels) {
  auto stage = Sequential("stage" + std::to_string(stage_index) + "_");
  BlockScope scope(stage.get());
  stage->Add(
      MakeResidualBlock(version, kind, channels, stride, channels != in_channels, in_channels));
  for (int i = 1; i < layers; ++i) {
    stage->Add(MakeResidualBlock(version, kind, channels, 1, false, channels));
  }
  return stage;
}

void CheckSpec(const char* what, const std::vector<int>& layers, const std::vector<int>& channels) {
  MX_CHECK(layers.size() + 1 == channels.size(), ValueError)
      << what << ": channels needs one entry more than layers (the stem's), got " << layers.size()
      << " layers and " << channels.size() << " channels";
}

// The stem both versions share: a 7x7/2 convolution, BatchNorm, relu and a 3x3/2 max pool, or
// the 3x3 convolution alone for thumbnails.
void AddStem(nn::HybridSequential* features, int channels, bool thumbnail) {
  if (thumbnail) {
    features->Add(Conv3x3(channels, 1, 0));
    return;
  }
  features->Add(Conv(channels, {7}, {.strides = {2}, .padding = {3}, .use_bias = false}));
  features->Add(BatchNorm());
  features->Add(detail::Relu());
  features->Add(MaxPool(3, 2, 1));
}

}  // namespace

ResNetV1::ResNetV1(ResidualBlock block, std::vector<int> layers, std::vector<int> channels,
                   int classes, bool thumbnail, BlockArgs args)
    : ImageClassifier("resnetv1", std::move(args)) {
  CheckSpec("ResNetV1", layers, channels);
  BlockScope scope(this);
  auto features = Sequential();
  AddStem(features.get(), channels[0], thumbnail);
  for (size_t i = 0; i < layers.size(); ++i) {
    features->Add(MakeStage(1, block, layers[i], channels[i + 1], i == 0 ? 1 : 2,
                            static_cast<int>(i) + 1, channels[i]));
  }
  features->Add(std::make_shared<nn::GlobalAvgPool2D>());
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(Dense(classes, {.in_units = channels.back()}), "output");
}

ResNetV2::ResNetV2(ResidualBlock block, std::vector<int> layers, std::vector<int> channels,
                   int classes, bool thumbnail, BlockArgs args)
    : ImageClassifier("resnetv2", std::move(args)) {
  CheckSpec("ResNetV2", layers, channels);
  BlockScope scope(this);
  auto features = Sequential();
  features->Add(BatchNorm({.center = false, .scale = false}));
  AddStem(features.get(), channels[0], thumbnail);
  int in_channels = channels[0];
  for (size_t i = 0; i < layers.size(); ++i) {
    features->Add(MakeStage(2, block, layers[i], channels[i + 1], i == 0 ? 1 : 2,
                            static_cast<int>(i) + 1, in_channels));
    in_channels = channels[i + 1];
  }
  features->Add(BatchNorm());
  features->Add(detail::Relu());
  features->Add(std::make_shared<nn::GlobalAvgPool2D>());
  features->Add(Flatten());
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(Dense(classes, {.in_units = in_channels}), "output");
}

std::shared_ptr<HybridBlock> GetResNet(int version, int num_layers, const ModelOptions& options) {
  struct Spec {
    int num_layers;
    ResidualBlock block;
    std::vector<int> layers, channels;
  };
  static const std::vector<Spec> specs = {
      {18, ResidualBlock::kBasic, {2, 2, 2, 2}, {64, 64, 128, 256, 512}},
      {34, ResidualBlock::kBasic, {3, 4, 6, 3}, {64, 64, 128, 256, 512}},
      {50, ResidualBlock::kBottleneck, {3, 4, 6, 3}, {64, 256, 512, 1024, 2048}},
      {101, ResidualBlock::kBottleneck, {3, 4, 23, 3}, {64, 256, 512, 1024, 2048}},
      {152, ResidualBlock::kBottleneck, {3, 8, 36, 3}, {64, 256, 512, 1024, 2048}}};
  const Spec* spec = nullptr;
  for (const auto& s : specs) {
    if (s.num_layers == num_layers) spec = &s;
  }
  MX_CHECK(spec != nullptr, ValueError) << "GetResNet: invalid number of layers: " << num_layers
                                        << ". Options are 18, 34, 50, 101, 152";
  MX_CHECK(version == 1 || version == 2, ValueError)
      << "GetResNet: invalid resnet version: " << version << ". Options are 1 and 2.";
  const BlockArgs& args = options;
  std::shared_ptr<HybridBlock> net;
  if (version == 1) {
    net = std::make_shared<ResNetV1>(spec->block, spec->layers, spec->channels, options.classes,
                                     options.thumbnail, args);
  } else {
    net = std::make_shared<ResNetV2>(spec->block, spec->layers, spec->channels, options.classes,
                                     options.thumbnail, args);
  }
  return LoadPretrained(net, "resnet" + std::to_string(num_layers) + "_v" + std::to_string(version),
                        options);
}

}  // namespace mixnet::gluon::model_zoo::vision
