// mixnet.tools.im2rec: MXNet's im2rec lists and records (mixnet/io/im2rec.h), run without the
// GIL; the options arrive as im2rec.py's argparse names.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bind.h"
#include "mixnet/io/im2rec.h"

namespace mixnet::python {
namespace {

io::Im2RecOptions Options(const std::string& prefix, const std::string& root,
                          const std::vector<std::string>& exts, int chunks, double train_ratio,
                          double test_ratio, bool recursive, bool shuffle, bool pass_through,
                          int resize, bool center_crop, int quality, int num_thread, int color,
                          const std::string& encoding, bool pack_label) {
  io::Im2RecOptions o;
  o.prefix = prefix;
  o.root = root;
  o.exts = exts;
  o.chunks = chunks;
  o.train_ratio = train_ratio;
  o.test_ratio = test_ratio;
  o.recursive = recursive;
  o.shuffle = shuffle;
  o.pass_through = pass_through;
  o.resize = resize;
  o.center_crop = center_crop;
  o.quality = quality;
  o.num_thread = num_thread;
  o.color = color;
  o.encoding = encoding;
  o.pack_label = pack_label;
  return io::Im2RecNormalize(std::move(o));
}

void BindIm2Rec(nb::module_& m) {
  using namespace nb::literals;
  const io::Im2RecOptions d;
  m.def(
      "im2rec_make_list",
      [](const std::string& prefix, const std::string& root, const std::vector<std::string>& exts,
         int chunks, double train_ratio, double test_ratio, bool recursive, bool shuffle) {
        const io::Im2RecOptions o =
            Options(prefix, root, exts, chunks, train_ratio, test_ratio, recursive, shuffle, false,
                    0, false, 95, 1, 1, ".jpg", false);
        nb::gil_scoped_release release;
        return io::Im2RecMakeList(o);
      },
      "prefix"_a, "root"_a, "exts"_a = d.exts, "chunks"_a = d.chunks,
      "train_ratio"_a = d.train_ratio, "test_ratio"_a = d.test_ratio, "recursive"_a = d.recursive,
      "shuffle"_a = d.shuffle,
      "Writes PREFIX.lst (or its chunks and splits) for the images under ROOT; returns the "
      "(folder, label) pairs of a recursive walk.");
  m.def(
      "im2rec_make_records",
      [](const std::string& prefix, const std::string& root, bool pass_through, int resize,
         bool center_crop, int quality, int num_thread, int color, const std::string& encoding,
         bool pack_label) {
        const io::Im2RecOptions o =
            Options(prefix, root, io::Im2RecOptions{}.exts, 1, 1.0, 0.0, false, true, pass_through,
                    resize, center_crop, quality, num_thread, color, encoding, pack_label);
        std::ostringstream out, err;
        nb::gil_scoped_release release;
        const int64_t n = io::Im2RecMakeRecords(o, out, err);
        return std::make_tuple(n, out.str(), err.str());
      },
      "prefix"_a, "root"_a, "pass_through"_a = d.pass_through, "resize"_a = d.resize,
      "center_crop"_a = d.center_crop, "quality"_a = d.quality, "num_thread"_a = d.num_thread,
      "color"_a = d.color, "encoding"_a = d.encoding, "pack_label"_a = d.pack_label,
      "Packs every PREFIX*.lst into a .rec and .idx; returns (records written, progress text, "
      "errors text).");
}

}  // namespace

MIXNET_PY_BIND(63, BindIm2Rec);

}  // namespace mixnet::python
