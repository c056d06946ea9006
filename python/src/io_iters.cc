// mx.io's file iterators (MNISTIter, CSVIter, LibSVMIter) and wrappers (ResizeIter,
// PrefetchingIter) on their C++ classes; python/mixnet/io/iters.py gives them MXNet's
// signatures.
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <vector>

#include "bind.h"
#include "graph.h"
#include "mixnet/io/iterators.h"

namespace mixnet::python {
namespace {

/*!
 * \brief Shared ownership of a Python data iterator's C++ side: an adapter calling the Python
 * object (owned here), or a C++ iterator owned by its Python object, which the Python wrapper
 * keeps alive for as long as this one (it holds a reference to it).
 */
std::shared_ptr<io::DataIter> SharedIter(nb::handle it) {
  std::unique_ptr<io::DataIter> holder;
  io::DataIter* cpp = AsDataIter(it, &holder);
  if (holder) return std::shared_ptr<io::DataIter>(std::move(holder));
  return std::shared_ptr<io::DataIter>(cpp, [](io::DataIter*) {});
}

Shape OptionalShape(nb::handle h) {
  return h.is_none() ? Shape() : ShapeFrom(h);
}

using Release = nb::call_guard<nb::gil_scoped_release>;

void BindIOIters(nb::module_& root) {
  nb::module_ m = nb::borrow<nb::module_>(root.attr("io"));
  nb::class_<io::MNISTIter, io::DataIter>(m, "MNISTIter", "mx.io.MNISTIter's C++ side.")
      .def(
          "__init__",
          [](io::MNISTIter* self, const std::string& image, const std::string& label,
             int batch_size, bool shuffle, bool flat, int seed, bool silent, int num_parts,
             int part_index, nb::handle input_shape) {
            io::MNISTParam p{image, label,  batch_size, shuffle,    flat,
                             seed,  silent, num_parts,  part_index, OptionalShape(input_shape)};
            nb::gil_scoped_release release;  // reads and decompresses the files
            new (self) io::MNISTIter(p);
          },
          nb::arg("image"), nb::arg("label"), nb::arg("batch_size"), nb::arg("shuffle"),
          nb::arg("flat"), nb::arg("seed"), nb::arg("silent"), nb::arg("num_parts"),
          nb::arg("part_index"), nb::arg("input_shape").none())
      .def_prop_ro("num_samples", &io::MNISTIter::num_samples);
  nb::class_<io::RowBatchIter, io::DataIter>(m, "RowBatchIter", "Batches of rows in memory.")
      .def_prop_ro("num_samples", &io::RowBatchIter::num_samples);
  nb::class_<io::CSVIter, io::RowBatchIter>(m, "CSVIter", "mx.io.CSVIter's C++ side.")
      .def(
          "__init__",
          [](io::CSVIter* self, const std::string& data_csv, nb::handle data_shape,
             const std::string& label_csv, nb::handle label_shape, int batch_size, bool round_batch,
             nb::handle dtype) {
            io::CSVParam p{data_csv,   ShapeFrom(data_shape), label_csv,     ShapeFrom(label_shape),
                           batch_size, round_batch,           ToDType(dtype)};
            nb::gil_scoped_release release;
            new (self) io::CSVIter(p);
          },
          nb::arg("data_csv"), nb::arg("data_shape"), nb::arg("label_csv"), nb::arg("label_shape"),
          nb::arg("batch_size"), nb::arg("round_batch"), nb::arg("dtype").none());
  nb::class_<io::LibSVMIter, io::RowBatchIter>(m, "LibSVMIter", "mx.io.LibSVMIter's C++ side.")
      .def(
          "__init__",
          [](io::LibSVMIter* self, const std::string& data_libsvm, nb::handle data_shape,
             const std::string& label_libsvm, nb::handle label_shape, int batch_size,
             bool round_batch, int num_parts, int part_index) {
            io::LibSVMParam p{
                data_libsvm, ShapeFrom(data_shape), label_libsvm, ShapeFrom(label_shape),
                batch_size,  round_batch,           num_parts,    part_index};
            nb::gil_scoped_release release;
            new (self) io::LibSVMIter(p);
          },
          nb::arg("data_libsvm"), nb::arg("data_shape"), nb::arg("label_libsvm"),
          nb::arg("label_shape"), nb::arg("batch_size"), nb::arg("round_batch"),
          nb::arg("num_parts"), nb::arg("part_index"));
  nb::class_<io::ResizeIter, io::DataIter>(m, "ResizeIter", "mx.io.ResizeIter's C++ side.")
      .def(
          "__init__",
          [](io::ResizeIter* self, nb::handle data_iter, int64_t size, bool reset_internal) {
            new (self) io::ResizeIter(SharedIter(data_iter), size, reset_internal);
          },
          nb::arg("data_iter"), nb::arg("size"), nb::arg("reset_internal"));
  nb::class_<io::PrefetchingIter, io::DataIter>(m, "PrefetchingIter",
                                                "mx.io.PrefetchingIter's C++ side.")
      .def(
          "__init__",
          [](io::PrefetchingIter* self, nb::handle iters,
             const io::PrefetchingIter::Renames& rename_data,
             const io::PrefetchingIter::Renames& rename_label) {
            std::vector<std::shared_ptr<io::DataIter>> shared;
            for (nb::handle it : nb::borrow<nb::sequence>(iters))
              shared.push_back(SharedIter(it));
            new (self) io::PrefetchingIter(std::move(shared), rename_data, rename_label);
          },
          nb::arg("iters"), nb::arg("rename_data"), nb::arg("rename_label"))
      // The thread may be inside a Python iterator, which needs the GIL: waits release it.
      .def("next", &io::PrefetchingIter::Next, Release())
      .def("reset", &io::PrefetchingIter::Reset, Release())
      .def("stop", &io::PrefetchingIter::Stop, Release());
}

}  // namespace

MIXNET_PY_BIND(61, BindIOIters);

}  // namespace mixnet::python
