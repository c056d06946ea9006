// MobileNet v1 and v2 (mxnet/gluon/model_zoo/vision/mobilenet.py).
#include <memory>
#include <utility>
#include <vector>

#include "gluon/model_zoo/layers.h"
#include "mixnet/op/invoke.h"

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

RELU6::RELU6(BlockArgs args) : HybridBlock("relu6", std::move(args)) {}

std::vector<NDArray> RELU6::HybridForward(const std::vector<NDArray>& inputs) {
  return {op::Invoke("clip", {inputs[0]}, {{"a_min", "0"}, {"a_max", "6"}})[0]};
}

std::string RELU6::Repr() const {
  return "RELU6(\n\n)";
}

namespace {

// _add_conv: convolution (no bias), BatchNorm, then relu or relu6 unless `active` is false.
struct ConvSpec {
  int channels = 1, kernel = 1, stride = 1, pad = 0, num_group = 1;
  bool active = true, relu6 = false;
};

void AddConv(nn::HybridSequential* out, const ConvSpec& s) {
  out->Add(
      Conv(s.channels, {s.kernel},
           {.strides = {s.stride}, .padding = {s.pad}, .groups = s.num_group, .use_bias = false}));
  out->Add(BatchNorm({.scale = true}));
  if (s.active) out->Add(s.relu6 ? BlockPtr(std::make_shared<RELU6>()) : Relu());
}

// _add_conv_dw: a depthwise 3x3 then a pointwise 1x1.
void AddConvDw(nn::HybridSequential* out, int dw_channels, int channels, int stride) {
  AddConv(
      out,
      {.channels = dw_channels, .kernel = 3, .stride = stride, .pad = 1, .num_group = dw_channels});
  AddConv(out, {.channels = channels});
}

std::vector<int> Scaled(const std::vector<int>& widths, double multiplier) {
  std::vector<int> out;
  for (int w : widths)
    out.push_back(static_cast<int>(w * multiplier));
  return out;
}

// [a] * n + [b] * m + ... as in the Python lists.
std::vector<int> Repeat(std::initializer_list<std::pair<int, int>> runs) {
  std::vector<int> out;
  for (const auto& [value, count] : runs)
    out.insert(out.end(), count, value);
  return out;
}

}  // namespace

LinearBottleneck::LinearBottleneck(int in_channels, int channels, int t, int stride, BlockArgs args)
    : HybridBlock("linearbottleneck", std::move(args)),
      use_shortcut_(stride == 1 && in_channels == channels) {
  BlockScope scope(this);
  auto out = Sequential(std::nullopt);
  AddConv(out.get(), {.channels = in_channels * t, .relu6 = true});
  AddConv(out.get(), {.channels = in_channels * t,
                      .kernel = 3,
                      .stride = stride,
                      .pad = 1,
                      .num_group = in_channels * t,
                      .relu6 = true});
  AddConv(out.get(), {.channels = channels, .active = false, .relu6 = true});
  out_ = RegisterChild(BlockPtr(out), "out");
}

std::vector<NDArray> LinearBottleneck::HybridForward(const std::vector<NDArray>& inputs) {
  NDArray out = (*out_)(inputs[0]);
  if (use_shortcut_) out = op::Invoke("elemwise_add", {out, inputs[0]})[0];
  return {out};
}

MobileNet::MobileNet(double multiplier, int classes, BlockArgs args)
    : ImageClassifier("mobilenet", std::move(args)) {
  BlockScope scope(this);
  // As AlexNet's: `with self.features.name_scope():` does nothing for prefix=''.
  auto features = Sequential();
  {
    AddConv(features.get(),
            {.channels = static_cast<int>(32 * multiplier), .kernel = 3, .stride = 2, .pad = 1});
    const auto dw_channels =
        Scaled(Repeat({{32, 1}, {64, 1}, {128, 2}, {256, 2}, {512, 6}, {1024, 1}}), multiplier);
    const auto channels =
        Scaled(Repeat({{64, 1}, {128, 2}, {256, 2}, {512, 6}, {1024, 2}}), multiplier);
    const std::vector<int> strides = {1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
    for (size_t i = 0; i < strides.size(); ++i) {
      AddConvDw(features.get(), dw_channels[i], channels[i], strides[i]);
    }
    features->Add(std::make_shared<nn::GlobalAvgPool2D>());
    features->Add(Flatten());
  }
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(Dense(classes), "output");
}

MobileNetV2::MobileNetV2(double multiplier, int classes, BlockArgs args)
    : ImageClassifier("mobilenetv2", std::move(args)) {
  BlockScope scope(this);
  auto features = Sequential("features_");
  {
    BlockScope inner(features.get());
    AddConv(features.get(), {.channels = static_cast<int>(32 * multiplier),
                             .kernel = 3,
                             .stride = 2,
                             .pad = 1,
                             .relu6 = true});
    const auto in_channels_group = Scaled(
        Repeat({{32, 1}, {16, 1}, {24, 2}, {32, 3}, {64, 4}, {96, 3}, {160, 3}}), multiplier);
    const auto channels_group = Scaled(
        Repeat({{16, 1}, {24, 2}, {32, 3}, {64, 4}, {96, 3}, {160, 3}, {320, 1}}), multiplier);
    const auto ts = Repeat({{1, 1}, {6, 16}});
    const std::vector<int> strides = {1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1};
    for (size_t i = 0; i < strides.size(); ++i) {
      features->Add(std::make_shared<LinearBottleneck>(in_channels_group[i], channels_group[i],
                                                       ts[i], strides[i]));
    }
    const int last_channels = multiplier > 1.0 ? static_cast<int>(1280 * multiplier) : 1280;
    AddConv(features.get(), {.channels = last_channels, .relu6 = true});
    features->Add(std::make_shared<nn::GlobalAvgPool2D>());
  }
  RegisterChild(BlockPtr(features), "features");
  auto output = Sequential("output_");
  {
    BlockScope inner(output.get());
    nn::ConvOptions pred{.use_bias = false};
    pred.prefix = "pred_";
    output->Add(Conv(classes, {1}, pred));
    output->Add(Flatten());
  }
  RegisterChild(BlockPtr(output), "output");
}

}  // namespace mixnet::gluon::model_zoo::vision
