// mx.io.ImageRecordIter's C++ side; python/mixnet/io/image_record.py gives it MXNet's
// signature. Construction (an index scan) and next/reset (waits for the decode threads) run
// without the GIL.
#include <nanobind/stl/string.h>

#include <string>

#include "bind.h"
#include "graph.h"
#include "mixnet/io/image_record_iter.h"

namespace mixnet::python {
namespace {

using Release = nb::call_guard<nb::gil_scoped_release>;

void BindIOImageRecord(nb::module_& root) {
  nb::module_ m = nb::borrow<nb::module_>(root.attr("io"));
  nb::class_<io::ImageRecordParam>(m, "ImageRecordParam", "ImageRecordIter's parameters.")
      .def(nb::init<>())
      .def_rw("path_imgrec", &io::ImageRecordParam::path_imgrec)
      .def_rw("path_imgidx", &io::ImageRecordParam::path_imgidx)
      .def_prop_rw(
          "data_shape", [](const io::ImageRecordParam& p) { return ShapeToTuple(p.data_shape); },
          [](io::ImageRecordParam& p, nb::handle s) { p.data_shape = ShapeFrom(s); })
      .def_prop_rw(
          "dtype", [](const io::ImageRecordParam& p) { return std::string(DTypeName(p.dtype)); },
          [](io::ImageRecordParam& p, nb::handle d) { p.dtype = ToDType(d); })
#define MIXNET_FIELD(name) .def_rw(#name, &io::ImageRecordParam::name)
          MIXNET_FIELD(label_width) MIXNET_FIELD(batch_size) MIXNET_FIELD(shuffle) MIXNET_FIELD(
              seed) MIXNET_FIELD(round_batch) MIXNET_FIELD(preprocess_threads)
              MIXNET_FIELD(prefetch_buffer) MIXNET_FIELD(num_parts) MIXNET_FIELD(part_index)
                  MIXNET_FIELD(mean_r) MIXNET_FIELD(mean_g) MIXNET_FIELD(mean_b) MIXNET_FIELD(std_r)
                      MIXNET_FIELD(std_g) MIXNET_FIELD(std_b) MIXNET_FIELD(scale)
                          MIXNET_FIELD(resize) MIXNET_FIELD(rand_crop) MIXNET_FIELD(rand_mirror)
                              MIXNET_FIELD(random_resized_crop) MIXNET_FIELD(min_random_area)
                                  MIXNET_FIELD(max_random_area) MIXNET_FIELD(min_aspect_ratio)
                                      MIXNET_FIELD(max_aspect_ratio) MIXNET_FIELD(brightness)
                                          MIXNET_FIELD(contrast) MIXNET_FIELD(saturation)
                                              MIXNET_FIELD(pca_noise) MIXNET_FIELD(data_name)
                                                  MIXNET_FIELD(label_name);
#undef MIXNET_FIELD
  nb::class_<io::ImageRecordIter, io::DataIter>(m, "ImageRecordIter",
                                                "mx.io.ImageRecordIter's C++ side.")
      .def(nb::init<const io::ImageRecordParam&>(), nb::arg("param"), Release())
      .def("next", &io::ImageRecordIter::Next, Release())
      .def("reset", &io::ImageRecordIter::Reset, Release())
      .def_prop_ro("num_records", &io::ImageRecordIter::num_records);
}

}  // namespace

MIXNET_PY_BIND(64, BindIOImageRecord);

}  // namespace mixnet::python
