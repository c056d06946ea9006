// mx.gluon.model_zoo.vision: the C++ zoo (mixnet/gluon/model_zoo.h). No downloads: pretrained
// weights are read from MXNet's model store folder (root=) or a given file.
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <utility>

#include "gluon.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/model_zoo.h"

namespace mixnet::python {

namespace vision = gluon::model_zoo::vision;

namespace {

vision::ModelOptions ToModelOptions(int classes, bool pretrained, nb::handle ctx, nb::handle root,
                                    nb::handle file, bool thumbnail, nb::handle prefix,
                                    nb::handle params) {
  vision::ModelOptions o;
  static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
  o.classes = classes;
  o.pretrained = pretrained;
  o.ctx = ToContexts(ctx);
  if (!root.is_none()) o.root = nb::cast<std::string>(nb::str(root));
  if (!file.is_none()) o.file = nb::cast<std::string>(nb::str(file));
  o.thumbnail = thumbnail;
  return o;
}

/*! \brief A residual block's constructor: (channels, stride, downsample, in_channels). */
template <typename T, typename Base>
void BindResidualBlock(nb::module_& m, const char* name, const char* doc) {
  nb::class_<T, Base>(m, name, doc)
      .def(
          "__init__",
          [](T* self, int channels, int stride, bool downsample, int in_channels, nb::handle prefix,
             nb::handle params) {
            new (self) T(channels, stride, downsample, in_channels, ToBlockArgs(prefix, params));
          },
          nb::arg("channels"), nb::arg("stride"), nb::arg("downsample") = false,
          nb::arg("in_channels") = 0, MIXNET_PY_BLOCK_ARGS);
}

/*! \brief ResNetV1/V2(block, layers, channels, classes, thumbnail): `block` is one of the
 * block classes (BasicBlockV1 ...), as in MXNet; basic or bottleneck is all it decides. */
template <typename T>
void BindResNet(nb::module_& m, const char* name, const char* doc) {
  nb::class_<T, vision::ImageClassifier>(m, name, doc)
      .def(
          "__init__",
          [m](T* self, nb::handle block, std::vector<int> layers, std::vector<int> channels,
              int classes, bool thumbnail, nb::handle prefix, nb::handle params) {
            vision::ResidualBlock kind;
            if (block.is(m.attr("BasicBlockV1")) || block.is(m.attr("BasicBlockV2"))) {
              kind = vision::ResidualBlock::kBasic;
            } else if (block.is(m.attr("BottleneckV1")) || block.is(m.attr("BottleneckV2"))) {
              kind = vision::ResidualBlock::kBottleneck;
            } else {
              MX_THROW(TypeError) << "ResNet: block must be BasicBlockV1, BottleneckV1, "
                                     "BasicBlockV2 or BottleneckV2, got "
                                  << nb::cast<std::string>(nb::repr(block));
            }
            new (self) T(kind, std::move(layers), std::move(channels), classes, thumbnail,
                         ToBlockArgs(prefix, params));
          },
          nb::arg("block"), nb::arg("layers"), nb::arg("channels"), nb::arg("classes") = 1000,
          nb::arg("thumbnail") = false, MIXNET_PY_BLOCK_ARGS);
}

void BindModelZoo(nb::module_& root) {
  nb::module_ m = root.def_submodule("model_zoo", "The C++ gluon vision model zoo.");
  nb::class_<vision::ImageClassifier, gluon::HybridBlock>(m, "ImageClassifier");
  nb::class_<vision::ResidualV1, gluon::HybridBlock>(m, "ResidualV1");
  BindResidualBlock<vision::BasicBlockV1, vision::ResidualV1>(
      m, "BasicBlockV1", "BasicBlock V1 from \"Deep Residual Learning for Image Recognition\".");
  BindResidualBlock<vision::BottleneckV1, vision::ResidualV1>(
      m, "BottleneckV1", "Bottleneck V1 from \"Deep Residual Learning for Image Recognition\".");
  BindResidualBlock<vision::BasicBlockV2, gluon::HybridBlock>(
      m, "BasicBlockV2", "BasicBlock V2 from \"Identity Mappings in Deep Residual Networks\".");
  BindResidualBlock<vision::BottleneckV2, gluon::HybridBlock>(
      m, "BottleneckV2", "Bottleneck V2 from \"Identity Mappings in Deep Residual Networks\".");
  BindResNet<vision::ResNetV1>(m, "ResNetV1",
                               "ResNet V1: `layers` blocks per stage, `channels` the stem's and "
                               "each stage's widths; thumbnail: a 3x3 stem for small images.");
  BindResNet<vision::ResNetV2>(m, "ResNetV2", "ResNet V2 (pre-activation), arguments as ResNetV1.");
  m.def("model_names", &vision::ModelNames, "The names get_model accepts.");
  m.def(
      "get_model",
      [](const std::string& name, int classes, bool pretrained, nb::handle ctx, nb::handle root,
         nb::handle file, bool thumbnail, nb::handle prefix, nb::handle params) {
        return vision::GetModel(
            name, ToModelOptions(classes, pretrained, ctx, root, file, thumbnail, prefix, params));
      },
      nb::arg("name"), nb::arg("classes") = 1000, nb::arg("pretrained") = false,
      nb::arg("ctx").none() = nb::none(), nb::arg("root").none() = nb::none(),
      nb::arg("file").none() = nb::none(), nb::arg("thumbnail") = false,
      nb::arg("prefix").none() = nb::none(), nb::arg("params").none() = nb::none());
  m.def(
      "pretrained_file",
      [](const std::string& name, nb::handle root, nb::handle file) {
        return vision::PretrainedFile(name, ToModelOptions(1000, true, nb::none(), root, file,
                                                           false, nb::none(), nb::none()));
      },
      nb::arg("name"), nb::arg("root").none() = nb::none(), nb::arg("file").none() = nb::none());
}

}  // namespace
MIXNET_PY_BIND(86, BindModelZoo);

}  // namespace mixnet::python
