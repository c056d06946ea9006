// VGG (mxnet/gluon/model_zoo/vision/vgg.py).
#include <memory>
#include <utility>
#include <vector>

#include "gluon/model_zoo/layers.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

namespace {

// VGG's own initialisation: He-style Gaussian convolutions, N(0, 0.01²) dense weights, zero
// biases (used by Initialize unless a parameter's init is overridden).
BlockPtr VGGDense(int units, const std::string& activation) {
  return Dense(units, {.activation = activation,
                       .weight_initializer = std::make_shared<init::Normal>(),
                       .bias_initializer = std::make_shared<init::Zero>()});
}

// VGG._make_features
std::shared_ptr<nn::HybridSequential> MakeFeatures(const std::vector<int>& layers,
                                                   const std::vector<int>& filters,
                                                   bool batch_norm) {
  auto featurizer = Sequential();
  for (size_t i = 0; i < layers.size(); ++i) {
    for (int j = 0; j < layers[i]; ++j) {
      featurizer->Add(
          Conv(filters[i], {3},
               {.padding = {1},
                .weight_initializer = std::make_shared<init::Xavier>("gaussian", "out", 2.0),
                .bias_initializer = std::make_shared<init::Zero>()}));
      if (batch_norm) featurizer->Add(BatchNorm());
      featurizer->Add(Relu());
    }
    featurizer->Add(MaxPool(2, 2));
  }
  return featurizer;
}

}  // namespace

VGG::VGG(std::vector<int> layers, std::vector<int> filters, int classes, bool batch_norm,
         BlockArgs args)
    : ImageClassifier("vgg", std::move(args)) {
  MX_CHECK(layers.size() == filters.size(), ValueError)
      << "VGG: layers and filters need one entry per stage, got " << layers.size() << " and "
      << filters.size();
  BlockScope scope(this);
  auto features = MakeFeatures(layers, filters, batch_norm);
  features->Add(VGGDense(4096, "relu"));
  features->Add(Dropout(0.5));
  features->Add(VGGDense(4096, "relu"));
  features->Add(Dropout(0.5));
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(VGGDense(classes, ""), "output");
}

std::shared_ptr<HybridBlock> GetVGG(int num_layers, bool batch_norm, const ModelOptions& options) {
  std::vector<int> layers;
  switch (num_layers) {
    case 11:
      layers = {1, 1, 2, 2, 2};
      break;
    case 13:
      layers = {2, 2, 2, 2, 2};
      break;
    case 16:
      layers = {2, 2, 3, 3, 3};
      break;
    case 19:
      layers = {2, 2, 4, 4, 4};
      break;
    default:
      MX_THROW(ValueError) << "GetVGG: invalid number of layers: " << num_layers
                           << ". Options are 11, 13, 16, 19";
  }
  auto net = std::make_shared<VGG>(layers, std::vector<int>{64, 128, 256, 512, 512},
                                   options.classes, batch_norm, options);
  const std::string name = "vgg" + std::to_string(num_layers) + (batch_norm ? "_bn" : "");
  return detail::LoadPretrained(net, name, options);
}

}  // namespace mixnet::gluon::model_zoo::vision
