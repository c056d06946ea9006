// AlexNet (mxnet/gluon/model_zoo/vision/alexnet.py).
#include <utility>

#include "gluon/model_zoo/layers.h"

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

AlexNet::AlexNet(int classes, BlockArgs args) : ImageClassifier("alexnet", std::move(args)) {
  BlockScope scope(this);
  // MXNet's `with self.features.name_scope():` is a no-op for a block made with prefix=''
  // (_BlockScope.__enter__ returns early), so the layers are counted in this block's scope.
  auto features = Sequential();
  {
    features->Add(Conv(64, {11}, {.strides = {4}, .padding = {2}, .activation = "relu"}));
    features->Add(MaxPool(3, 2));
    features->Add(Conv(192, {5}, {.padding = {2}, .activation = "relu"}));
    features->Add(MaxPool(3, 2));
    features->Add(Conv(384, {3}, {.padding = {1}, .activation = "relu"}));
    features->Add(Conv(256, {3}, {.padding = {1}, .activation = "relu"}));
    features->Add(Conv(256, {3}, {.padding = {1}, .activation = "relu"}));
    features->Add(MaxPool(3, 2));
    features->Add(Flatten());
    features->Add(Dense(4096, {.activation = "relu"}));
    features->Add(Dropout(0.5));
    features->Add(Dense(4096, {.activation = "relu"}));
    features->Add(Dropout(0.5));
  }
  RegisterChild(BlockPtr(features), "features");
  RegisterChild(Dense(classes), "output");
}

}  // namespace mixnet::gluon::model_zoo::vision
