// mx.recordio: the C++ RecordIO writer/reader (mixnet/recordio.py gives them MXNet's
// MXRecordIO/MXIndexedRecordIO faces), .idx parsing and IRHeader pack/unpack.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/io/recordio.h"

namespace mixnet::python {

namespace {

std::string_view View(const nb::bytes& b) {
  return {b.c_str(), b.size()};
}

void BindRecordIO(nb::module_& m) {
  using io::RecordIOReader;
  using io::RecordIOWriter;

  nb::class_<RecordIOWriter>(m, "RecordIOWriter", "Writes MXNet RecordIO records to a file.")
      .def(nb::init<const std::string&>(), nb::arg("path"))
      .def(
          "write",
          [](RecordIOWriter& w, nb::bytes buf) {
            nb::gil_scoped_release release;
            w.Write(View(buf));
          },
          nb::arg("buf"), "Appends one record.")
      .def("tell", &RecordIOWriter::Tell, "Byte offset where the next record starts.")
      .def("close", &RecordIOWriter::Close);

  nb::class_<RecordIOReader>(m, "RecordIOReader",
                             "Reads MXNet RecordIO records from a file; with resync, skips "
                             "corrupted bytes to the next record start instead of raising.")
      .def(nb::init<const std::string&, bool>(), nb::arg("path"), nb::arg("resync") = false)
      .def(
          "read",
          [](RecordIOReader& r) -> nb::object {
            std::string rec;
            bool ok;
            {
              nb::gil_scoped_release release;
              ok = r.NextRecord(&rec);
            }
            if (!ok) return nb::none();
            return nb::bytes(rec.data(), rec.size());
          },
          "The next record's bytes, or None at the end of the file.")
      .def("seek", &RecordIOReader::Seek, nb::arg("pos"))
      .def("tell", &RecordIOReader::Tell)
      .def("close", &RecordIOReader::Close)
      .def_prop_ro("skipped_bytes", &RecordIOReader::skipped_bytes,
                   "Bytes skipped by resynchronisation so far.")
      .def_prop_ro("resync_count", &RecordIOReader::resync_count);

  m.def(
      "recordio_read_index",
      [](const std::string& path) {
        std::vector<std::pair<std::string, uint64_t>> out;
        for (io::IndexEntry& e : io::ReadRecordIOIndex(path))
          out.emplace_back(e.key, e.offset);
        return out;
      },
      nb::arg("idx_path"), "The (key, offset) lines of an .idx file, in file order.");

  m.def(
      "recordio_pack",
      [](float label, std::optional<std::vector<float>> labels, uint64_t id, uint64_t id2,
         nb::bytes s) {
        io::IRHeader h;
        h.label = label;
        h.id = id;
        h.id2 = id2;
        if (labels) h.labels = std::move(*labels);
        const std::string out = io::PackIRHeader(h, View(s));
        return nb::bytes(out.data(), out.size());
      },
      nb::arg("label"), nb::arg("labels").none(), nb::arg("id"), nb::arg("id2"), nb::arg("s"),
      "IRHeader bytes (flag = len(labels) when labels is given) followed by s.");
  m.def(
      "recordio_unpack",
      [](nb::bytes s) {
        std::string_view rest;
        const io::IRHeader h = io::UnpackIRHeader(View(s), &rest);
        const size_t label_bytes = 4 * h.labels.size();
        const char* labels_at = s.c_str() + io::IRHeader::kSize;
        return nb::make_tuple(h.flag, h.label, h.id, h.id2, nb::bytes(labels_at, label_bytes),
                              nb::bytes(rest.data(), rest.size()));
      },
      nb::arg("s"),
      "(flag, label, id, id2, label_vector_bytes, rest): the header of a packed record.");
}

}  // namespace
MIXNET_PY_BIND(62, BindRecordIO);

}  // namespace mixnet::python
