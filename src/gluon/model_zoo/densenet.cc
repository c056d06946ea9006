// DenseNet (mxnet/gluon/model_zoo/vision/densenet.py).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gluon/model_zoo/layers.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

namespace {

// _make_dense_layer: the input concatenated with growth_rate new feature maps.
BlockPtr MakeDenseLayer(int growth_rate, int bn_size, double dropout) {
  auto new_features = Sequential();
  new_features->Add(BatchNorm());
  new_features->Add(Relu());
  new_features->Add(Conv(bn_size * growth_rate, {1}, {.use_bias = false}));
  new_features->Add(BatchNorm());
  new_features->Add(Relu());
  new_features->Add(Conv(growth_rate, {3}, {.padding = {1}, .use_bias = false}));
  if (dropout != 0) new_features->Add(Dropout(dropout));
  auto out = Concurrent();
  out->Add(std::make_shared<nn::Identity>());
  out->Add(BlockPtr(new_features));
  return out;
}

// _make_dense_block
BlockPtr MakeDenseBlock(int num_layers, int bn_size, int growth_rate, double dropout,
                        int stage_index) {
  auto out = Sequential("stage" + std::to_string(stage_index) + "_");
  BlockScope scope(out.get());
  for (int i = 0; i < num_layers; ++i)
    out->Add(MakeDenseLayer(growth_rate, bn_size, dropout));
  return out;
}

// _make_transition
BlockPtr MakeTransition(int num_output_features) {
  auto out = Sequential();
  out->Add(BatchNorm());
  out->Add(Relu());
  out->Add(Conv(num_output_features, {1}, {.use_bias = false}));
  out->Add(AvgPool(2, 2));
  return out;
}

}  // namespace

DenseNet::DenseNet(int num_init_features, int growth_rate, std::vector<int> block_config,
                   int bn_size, double dropout, int classes, BlockArgs args)
    : ImageClassifier("densenet", std::move(args)) {
  BlockScope scope(this);
  auto features = Sequential();
  features->Add(Conv(num_init_features, {7}, {.strides = {2}, .padding = {3}, .use_bias = false}));
  features->Add(BatchNorm());
  features->Add(Relu());
  features->Add(MaxPool(3, 2, 1));
  int num_features = num_init_features;
  for (size_t i = 0; i < block_config.size(); ++i) {
    features->Add(
        MakeDenseBlock(block_config[i], bn_size, growth_rate, dropout, static_cast<int>(i) + 1));
    num_features += block_config[i] * growth_rate;
    if (i + 1 != block_config.size()) {
      features->Add(MakeTransition(num_features / 2));
      num_features /= 2;
    }
  }
  features->Add(BatchNorm());
  features->Add(Relu());
  features->Add(AvgPool(7, 7));
  features->Add(Flatten());
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(Dense(classes), "output");
}

std::shared_ptr<HybridBlock> GetDenseNet(int num_layers, const ModelOptions& options) {
  int num_init_features = 64, growth_rate = 32;
  std::vector<int> block_config;
  switch (num_layers) {
    case 121:
      block_config = {6, 12, 24, 16};
      break;
    case 161:
      num_init_features = 96;
      growth_rate = 48;
      block_config = {6, 12, 36, 24};
      break;
    case 169:
      block_config = {6, 12, 32, 32};
      break;
    case 201:
      block_config = {6, 12, 48, 32};
      break;
    default:
      MX_THROW(ValueError) << "GetDenseNet: invalid number of layers: " << num_layers
                           << ". Options are 121, 161, 169, 201";
  }
  auto net = std::make_shared<DenseNet>(num_init_features, growth_rate, block_config, 4, 0.0,
                                        options.classes, options);
  return LoadPretrained(net, "densenet" + std::to_string(num_layers), options);
}

}  // namespace mixnet::gluon::model_zoo::vision
