// mx.gluon.model_zoo.vision: the C++ zoo (mixnet/gluon/model_zoo.h). No downloads: pretrained
// weights are read from MXNet's model store folder (root=) or a given file.
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>

#include "gluon.h"
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

void BindModelZoo(nb::module_& root) {
  nb::module_ m = root.def_submodule("model_zoo", "The C++ gluon vision model zoo.");
  nb::class_<vision::ImageClassifier, gluon::HybridBlock>(m, "ImageClassifier");
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
