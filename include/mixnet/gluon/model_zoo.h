/*!
 * \file model_zoo.h
 * \brief The Gluon vision model zoo (mx.gluon.model_zoo.vision): ResNet v1/v2, VGG, AlexNet,
 * DenseNet, SqueezeNet, MobileNet v1/v2 and Inception v3, with MXNet 1.9.1's parameter names
 * and structure, so that MXNet's model-zoo .params files load into them.
 *
 *   namespace vision = mixnet::gluon::model_zoo::vision;
 *   auto net = vision::GetModel("resnet18_v1", {.classes = 10});
 *   net->Initialize();
 *   // or the weights MXNet's get_model_file stored (no downloads here):
 *   auto pre = vision::GetModel("resnet18_v1", {.pretrained = true, .root = "~/.mxnet/models"});
 *
 * Names: a network built at the top level gets MXNet's prefixes ("resnetv10_conv0_weight" from
 * CollectParams) and structural names ("features.0.weight" from SaveParameters), because each
 * constructor creates its children in the same order, under the same name scopes and with the
 * same prefixes as MXNet's Python code (NOTE [ Model zoo names ] in src/gluon/model_zoo/resnet.cc).
 */
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mixnet/gluon/block.h"
#include "mixnet/gluon/nn.h"

namespace mixnet::gluon::model_zoo::vision {

/*!
 * \brief The arguments of MXNet's get_model(name, **kwargs), plus `file`. With `pretrained`,
 * the weights are loaded from `file`, else from root/NAME-HASH.params (the file name MXNet's
 * model store uses, HASH being the first 8 hex digits of its SHA-1); nothing is downloaded and
 * the SHA-1 is not checked. `prefix`/`params` (BlockArgs) name the network as in MXNet.
 */
struct ModelOptions : BlockArgs {
  int classes = 1000;
  bool pretrained = false;
  /*! \brief The directory holding MXNet's model-store files (MXNet's root=; "~" expands). */
  std::string root;
  /*! \brief A .params file to load (structural or prefixed names); overrides root. */
  std::string file;
  /*! \brief Where the pretrained weights go (MXNet's ctx=); default cpu. */
  std::vector<Context> ctx;
  /*! \brief ResNet only: the 3x3 stem for small images (MXNet's thumbnail=). */
  bool thumbnail = false;
};

/*! \brief The names GetModel accepts, sorted (MXNet's get_model keys). */
std::vector<std::string> ModelNames();

/*!
 * \brief MXNet's vision.get_model: builds the network `name` (case-insensitive), loading the
 * pretrained weights when asked. ValueError for an unknown name (listing the known ones), for
 * `pretrained` without `file` or `root`, and for a weight file that does not exist (naming it).
 */
std::shared_ptr<HybridBlock> GetModel(const std::string& name, const ModelOptions& options = {});

/*!
 * \brief The path pretrained weights of `name` are read from under `options` (ValueError as
 * GetModel's when there is none).
 */
std::string PretrainedFile(const std::string& name, const ModelOptions& options);

/*!
 * \brief What every zoo network computes: output(features(x)). `features` and `output` are
 * the children registered under those names by the subclass (MXNet's self.features /
 * self.output), looked up at each call: registering another block under one of the names
 * replaces it, as assigning net.output = nn.Dense(2) does in MXNet's fine-tuning recipes.
 */
class ImageClassifier : public HybridBlock {
 public:
  using HybridBlock::HybridBlock;
  BlockPtr features() const { return Child("features"); }
  BlockPtr output() const { return Child("output"); }
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  BlockPtr Child(const char* name) const;
};

// ---- ResNet ----

/*!
 * \brief What the V1 residual blocks share: relu(body(x) + shortcut), the shortcut being x or,
 * with downsampling, a strided 1x1 convolution and BatchNorm of x (registered as "body" and
 * "downsample", as MXNet's attributes).
 */
class ResidualV1 : public HybridBlock {
 public:
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 protected:
  using HybridBlock::HybridBlock;
  void RegisterBody(BlockPtr body, int channels, int stride, bool downsample, int in_channels);

 private:
  BlockPtr body_, downsample_;  // downsample_ null without downsampling
};

/*! \brief Residual blocks (resnet.py); `in_channels` 0 means inferred. */
class BasicBlockV1 : public ResidualV1 {
 public:
  BasicBlockV1(int channels, int stride, bool downsample = false, int in_channels = 0,
               BlockArgs args = {});
};

class BottleneckV1 : public ResidualV1 {
 public:
  BottleneckV1(int channels, int stride, bool downsample = false, int in_channels = 0,
               BlockArgs args = {});
};

class BasicBlockV2 : public HybridBlock {
 public:
  BasicBlockV2(int channels, int stride, bool downsample = false, int in_channels = 0,
               BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  BlockPtr bn1_, conv1_, bn2_, conv2_, downsample_;
};

class BottleneckV2 : public HybridBlock {
 public:
  BottleneckV2(int channels, int stride, bool downsample = false, int in_channels = 0,
               BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  BlockPtr bn1_, conv1_, bn2_, conv2_, bn3_, conv3_, downsample_;
};

/*! \brief Which residual block a ResNet stacks: basic (18, 34 layers) or bottleneck. */
enum class ResidualBlock { kBasic, kBottleneck };

/*! \brief `layers` blocks per stage; `channels` has one more entry (the stem's). */
class ResNetV1 : public ImageClassifier {
 public:
  ResNetV1(ResidualBlock block, std::vector<int> layers, std::vector<int> channels,
           int classes = 1000, bool thumbnail = false, BlockArgs args = {});
};

class ResNetV2 : public ImageClassifier {
 public:
  ResNetV2(ResidualBlock block, std::vector<int> layers, std::vector<int> channels,
           int classes = 1000, bool thumbnail = false, BlockArgs args = {});
};

/*! \brief get_resnet: version 1 or 2, num_layers 18, 34, 50, 101 or 152. */
std::shared_ptr<HybridBlock> GetResNet(int version, int num_layers,
                                       const ModelOptions& options = {});

// ---- VGG, AlexNet ----

class VGG : public ImageClassifier {
 public:
  /*! \brief `layers[i]` 3x3 convolutions of `filters[i]` channels, then a max pool. */
  VGG(std::vector<int> layers, std::vector<int> filters, int classes = 1000,
      bool batch_norm = false, BlockArgs args = {});
};

/*! \brief get_vgg: num_layers 11, 13, 16 or 19. */
std::shared_ptr<HybridBlock> GetVGG(int num_layers, bool batch_norm,
                                    const ModelOptions& options = {});

class AlexNet : public ImageClassifier {
 public:
  explicit AlexNet(int classes = 1000, BlockArgs args = {});
};

// ---- DenseNet ----

class DenseNet : public ImageClassifier {
 public:
  DenseNet(int num_init_features, int growth_rate, std::vector<int> block_config, int bn_size = 4,
           double dropout = 0, int classes = 1000, BlockArgs args = {});
};

/*! \brief get_densenet: num_layers 121, 161, 169 or 201. */
std::shared_ptr<HybridBlock> GetDenseNet(int num_layers, const ModelOptions& options = {});

// ---- SqueezeNet ----

class SqueezeNet : public ImageClassifier {
 public:
  /*! \brief `version` "1.0" or "1.1". */
  explicit SqueezeNet(const std::string& version, int classes = 1000, BlockArgs args = {});
};

// ---- MobileNet ----

/*! \brief clip(x, 0, 6) (mobilenet.py's RELU6). */
class RELU6 : public HybridBlock {
 public:
  explicit RELU6(BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  /*! \brief MXNet's Block.__repr__ with no children: "RELU6(\n\n)". */
  std::string Repr() const override;
};

/*! \brief MobileNet v2's inverted residual: expand by `t`, depthwise, project. */
class LinearBottleneck : public HybridBlock {
 public:
  LinearBottleneck(int in_channels, int channels, int t, int stride, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  bool use_shortcut_;
  BlockPtr out_;
};

class MobileNet : public ImageClassifier {
 public:
  explicit MobileNet(double multiplier = 1.0, int classes = 1000, BlockArgs args = {});
};

class MobileNetV2 : public ImageClassifier {
 public:
  explicit MobileNetV2(double multiplier = 1.0, int classes = 1000, BlockArgs args = {});
};

// ---- Inception ----

/*! \brief Inception v3 (input 299x299 at least: the last pool is 8x8). */
class Inception3 : public ImageClassifier {
 public:
  explicit Inception3(int classes = 1000, BlockArgs args = {});
};

}  // namespace mixnet::gluon::model_zoo::vision
