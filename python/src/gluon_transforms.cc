// gluon.data.vision.transforms' C++ blocks (mixnet/gluon/transforms.h): a DataLoader's workers
// run a tree of them without the GIL (NOTE [ Transforms in the workers ] in gluon_data.cc).
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "gluon.h"
#include "mixnet/gluon/transforms.h"

namespace mixnet::python {

namespace tf = gluon::transforms;
using gluon::BlockPtr;
using gluon::HybridBlock;

namespace {

/*! \brief A float or a sequence of floats (MXNet's mean= / std=) as a list of values. */
std::vector<double> FloatOrTuple(nb::handle h) {
  if (nb::isinstance<nb::float_>(h) || nb::isinstance<nb::int_>(h)) return {nb::cast<double>(h)};
  return nb::cast<std::vector<double>>(h);
}

void BindTransforms(nb::module_& root) {
  nb::module_ m = root.def_submodule(
      "transforms", "gluon.data.vision.transforms' C++ blocks (mx.gluon.data.vision.transforms).");
  BindPlain<tf::ToTensor>(m, "ToTensor",
                          "HWC (NHWC) images in [0, 255] to CHW (NCHW) float32 tensors in [0, 1].");
  nb::class_<tf::Normalize, HybridBlock>(m, "Normalize",
                                         "Normalizes CHW (NCHW) tensors with per-channel mean "
                                         "and standard deviation.")
      .def(
          "__init__",
          [](tf::Normalize* self, nb::handle mean, nb::handle std, nb::handle prefix,
             nb::handle params) {
            new (self)
                tf::Normalize(FloatOrTuple(mean), FloatOrTuple(std), ToBlockArgs(prefix, params));
          },
          nb::arg("mean") = 0.0, nb::arg("std") = 1.0, MIXNET_PY_BLOCK_ARGS)
      .def_prop_ro("_mean", &tf::Normalize::mean)
      .def_prop_ro("_std", &tf::Normalize::std);
  nb::class_<tf::Cast, HybridBlock>(m, "Cast", "Casts inputs to a specific data type.")
      .def(
          "__init__",
          [](tf::Cast* self, nb::handle dtype, nb::handle prefix, nb::handle params) {
            // A name or anything numpy.dtype takes (np.float16, np.dtype('float16')).
            nb::object np_dtype = nb::module_::import_("numpy").attr("dtype")(dtype);
            new (self)
                tf::Cast(nb::cast<std::string>(np_dtype.attr("name")), ToBlockArgs(prefix, params));
          },
          nb::arg("dtype") = "float32", MIXNET_PY_BLOCK_ARGS);
  nb::class_<tf::RandomFlip, HybridBlock>(m, "_RandomFlip");
  BindPlain<tf::RandomFlipLeftRight, tf::RandomFlip>(
      m, "RandomFlipLeftRight", "Randomly flips the input image left to right (p = 0.5).");
  BindPlain<tf::RandomFlipTopBottom, tf::RandomFlip>(
      m, "RandomFlipTopBottom", "Randomly flips the input image top to bottom (p = 0.5).");
  nb::class_<tf::Resize, HybridBlock>(m, "Resize",
                                      "Resizes an image or a batch of images to the given size.")
      .def(
          "__init__",
          [](tf::Resize* self, nb::handle size, bool keep_ratio, int interpolation,
             nb::handle prefix, nb::handle params) {
            std::vector<int> s = ToInts(size);
            new (self) tf::Resize(std::vector<int64_t>(s.begin(), s.end()), keep_ratio,
                                  interpolation, ToBlockArgs(prefix, params));
          },
          nb::arg("size"), nb::arg("keep_ratio") = false, nb::arg("interpolation") = 1,
          MIXNET_PY_BLOCK_ARGS);
  nb::class_<tf::Compose, gluon::nn::HybridSequential>(
      m, "Compose", "Sequentially composes transforms that are all C++ HybridBlocks.")
      .def(
          "__init__",
          [](tf::Compose* self, std::vector<BlockPtr> transforms, nb::handle prefix,
             nb::handle params) {
            new (self) tf::Compose(ToBlockArgs(prefix, params));
            for (BlockPtr& t : transforms)
              self->Add(std::move(t));
          },
          nb::arg("transforms"), MIXNET_PY_BLOCK_ARGS);
}

}  // namespace

MIXNET_PY_BIND(87, BindTransforms);

}  // namespace mixnet::python
