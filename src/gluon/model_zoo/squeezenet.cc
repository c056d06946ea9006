// SqueezeNet 1.0 and 1.1 (mxnet/gluon/model_zoo/vision/squeezenet.py).
#include <string>
#include <utility>

#include "gluon/model_zoo/layers.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::model_zoo::vision {

using namespace detail;  // NOLINT(build/namespaces)

namespace {

// _make_fire_conv
BlockPtr MakeFireConv(int channels, int kernel_size, int padding = 0) {
  auto out = Sequential();
  out->Add(Conv(channels, {kernel_size}, {.padding = {padding}}));
  out->Add(Relu());
  return out;
}

// _make_fire: squeeze, then 1x1 and 3x3 expansions side by side.
BlockPtr MakeFire(int squeeze_channels, int expand1x1_channels, int expand3x3_channels) {
  auto out = Sequential();
  out->Add(MakeFireConv(squeeze_channels, 1));
  auto paths = Concurrent();
  paths->Add(MakeFireConv(expand1x1_channels, 1));
  paths->Add(MakeFireConv(expand3x3_channels, 3, 1));
  out->Add(BlockPtr(paths));
  return out;
}

BlockPtr CeilMaxPool() {
  return MaxPool(3, 2, 0, /*ceil_mode=*/true);
}

}  // namespace

SqueezeNet::SqueezeNet(const std::string& version, int classes, BlockArgs args)
    : ImageClassifier("squeezenet", std::move(args)) {
  MX_CHECK(version == "1.0" || version == "1.1", ValueError)
      << "SqueezeNet: unsupported version " << version << ": 1.0 or 1.1 expected";
  BlockScope scope(this);
  auto features = Sequential();
  if (version == "1.0") {
    features->Add(Conv(96, {7}, {.strides = {2}}));
    features->Add(Relu());
    features->Add(CeilMaxPool());
    features->Add(MakeFire(16, 64, 64));
    features->Add(MakeFire(16, 64, 64));
    features->Add(MakeFire(32, 128, 128));
    features->Add(CeilMaxPool());
    features->Add(MakeFire(32, 128, 128));
    features->Add(MakeFire(48, 192, 192));
    features->Add(MakeFire(48, 192, 192));
    features->Add(MakeFire(64, 256, 256));
    features->Add(CeilMaxPool());
    features->Add(MakeFire(64, 256, 256));
  } else {
    features->Add(Conv(64, {3}, {.strides = {2}}));
    features->Add(Relu());
    features->Add(CeilMaxPool());
    features->Add(MakeFire(16, 64, 64));
    features->Add(MakeFire(16, 64, 64));
    features->Add(CeilMaxPool());
    features->Add(MakeFire(32, 128, 128));
    features->Add(MakeFire(32, 128, 128));
    features->Add(CeilMaxPool());
    features->Add(MakeFire(48, 192, 192));
    features->Add(MakeFire(48, 192, 192));
    features->Add(MakeFire(64, 256, 256));
    features->Add(MakeFire(64, 256, 256));
  }
  features->Add(Dropout(0.5));
  RegisterChild(BlockPtr(features), "features");
  auto output = Sequential();
  output->Add(Conv(classes, {1}));
  output->Add(Relu());
  output->Add(AvgPool(13, 13));
  output->Add(Flatten());
  RegisterChild(BlockPtr(output), "output");
}

}  // namespace mixnet::gluon::model_zoo::vision
