// mx.io: the C++ NDArrayIter (mixnet/io/io.py wraps it in MXNet's DataIter protocol), data
// descriptions, and the adapter that lets C++ (Module.fit) read a Python data iterator.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "graph.h"
#include "mixnet/base/error.h"
#include "mixnet/io/data_iter.h"

namespace mixnet::python {

std::vector<io::DataDesc> DescsFrom(nb::handle descs, const char* what) {
  std::vector<io::DataDesc> out;
  if (descs.is_none()) return out;
  for (nb::handle d : nb::borrow<nb::sequence>(descs)) {
    MX_CHECK(PySequence_Check(d.ptr()) && nb::len(d) >= 2, TypeError)
        << what << ": expected DataDesc or (name, shape) items, got " << nb::str(d).c_str();
    io::DataDesc desc;
    desc.name = nb::cast<std::string>(d[0]);
    desc.shape = ShapeFrom(d[1]);
    if (nb::hasattr(d, "dtype")) desc.dtype = ToDType(d.attr("dtype"));
    if (nb::hasattr(d, "layout") && !d.attr("layout").is_none()) {
      desc.layout = nb::cast<std::string>(d.attr("layout"));
    }
    out.push_back(std::move(desc));
  }
  return out;
}

nb::list DescsToPython(const std::vector<io::DataDesc>& descs) {
  static nb::handle cls =
      nb::object(nb::module_::import_("mixnet.io.io").attr("DataDesc")).release();
  nb::list l;
  for (const io::DataDesc& d : descs)
    l.append(cls(d.name, ShapeToTuple(d.shape), DTypeToNumpy(d.dtype), d.layout));
  return l;
}

io::DataBatch BatchFrom(nb::handle b) {
  io::DataBatch batch;
  batch.data = ArraysFrom(b.attr("data"), "DataBatch.data");
  batch.label = ArraysFrom(nb::getattr(b, "label", nb::none()), "DataBatch.label");
  nb::object pad = nb::getattr(b, "pad", nb::none());
  batch.pad = pad.is_none() ? 0 : nb::cast<int>(pad);
  nb::object index = nb::getattr(b, "index", nb::none());
  if (!index.is_none()) {
    for (nb::handle i : nb::iter(index))
      batch.index.push_back(nb::cast<int64_t>(nb::int_(i)));
  }
  return batch;
}

namespace {

/*! \brief A Python data iterator seen from C++ (MXNet's DataIter protocol). */
class PyDataIter : public io::DataIter {
 public:
  explicit PyDataIter(nb::handle it) : it_(nb::borrow(it)) {
    next_ = it_.attr(nb::hasattr(it_, "next") ? "next" : "__next__");
    nb::object bs = nb::getattr(it_, "batch_size", nb::none());
    if (!bs.is_none()) batch_size_ = nb::cast<int>(bs);
  }
  ~PyDataIter() override {
    nb::gil_scoped_acquire acquire;
    next_.reset();
    it_.reset();
  }

  void Reset() override {
    nb::gil_scoped_acquire acquire;
    it_.attr("reset")();
  }
  bool Next() override {
    nb::gil_scoped_acquire acquire;
    nb::object b;
    try {
      b = next_();
    } catch (nb::python_error& e) {
      if (e.matches(PyExc_StopIteration)) return false;
      throw;
    }
    batch_ = BatchFrom(b);
    return true;
  }
  const io::DataBatch& Value() const override { return batch_; }
  std::vector<io::DataDesc> provide_data() const override {
    nb::gil_scoped_acquire acquire;
    return DescsFrom(it_.attr("provide_data"), "DataIter.provide_data");
  }
  std::vector<io::DataDesc> provide_label() const override {
    nb::gil_scoped_acquire acquire;
    return DescsFrom(nb::getattr(it_, "provide_label", nb::none()), "DataIter.provide_label");
  }
  int batch_size() const override { return batch_size_; }

 private:
  nb::object it_, next_;
  io::DataBatch batch_;
  int batch_size_ = 0;
};

io::LastBatch LastBatchFrom(const std::string& s) {
  if (s == "pad") return io::LastBatch::kPad;
  if (s == "discard") return io::LastBatch::kDiscard;
  if (s == "roll_over") return io::LastBatch::kRollOver;
  MX_THROW(ValueError) << "NDArrayIter: last_batch_handle must be 'pad', 'discard' or "
                          "'roll_over', got '"
                       << s << "'";
}

io::NDArrayIter::Named NamedFrom(nb::handle pairs, const char* what) {
  io::NDArrayIter::Named out;
  for (nb::handle p : nb::borrow<nb::sequence>(pairs)) {
    NDArray* a = nullptr;
    MX_CHECK(nb::len(p) == 2 && nb::try_cast<NDArray*>(p[1], a) && a != nullptr, TypeError)
        << "NDArrayIter: " << what << " must be (name, NDArray) pairs";
    out.emplace_back(nb::cast<std::string>(p[0]), *a);
  }
  return out;
}

void BindIO(nb::module_& root) {
  nb::module_ m = root.def_submodule("io", "mx.io's C++ side");
  nb::class_<io::DataIter>(m, "DataIter", "A C++ data iterator.")
      .def("reset", &io::DataIter::Reset)
      .def("next", &io::DataIter::Next, "Moves to the next batch; False at the end.")
      .def_prop_ro("provide_data",
                   [](const io::DataIter& it) { return DescsToPython(it.provide_data()); })
      .def_prop_ro("provide_label",
                   [](const io::DataIter& it) { return DescsToPython(it.provide_label()); })
      .def_prop_ro("batch_size", &io::DataIter::batch_size)
      .def(
          "value",
          [](const io::DataIter& it) {
            const io::DataBatch& b = it.Value();
            return nb::make_tuple(ArrayList(b.data), ArrayList(b.label), b.pad, nb::cast(b.index));
          },
          "The current batch as (data, label, pad, index).");
  nb::class_<io::NDArrayIter, io::DataIter>(m, "NDArrayIter",
                                            "Batches from whole arrays (mx.io.NDArrayIter).")
      .def(
          "__init__",
          [](io::NDArrayIter* self, nb::handle data, nb::handle label, int batch_size, bool shuffle,
             const std::string& last_batch, uint64_t seed) {
            new (self) io::NDArrayIter(NamedFrom(data, "data"), NamedFrom(label, "label"),
                                       batch_size, shuffle, LastBatchFrom(last_batch), seed);
          },
          nb::arg("data"), nb::arg("label"), nb::arg("batch_size"), nb::arg("shuffle"),
          nb::arg("last_batch_handle"), nb::arg("seed"))
      .def_prop_ro("num_data", &io::NDArrayIter::num_data);
}

}  // namespace

io::DataIter* AsDataIter(nb::handle it, std::unique_ptr<io::DataIter>* holder) {
  io::DataIter* cpp = nullptr;
  nb::object own = nb::getattr(it, "_cpp_iter", nb::none());
  if (!own.is_none() && nb::try_cast<io::DataIter*>(own, cpp) && cpp != nullptr) return cpp;
  if (nb::try_cast<io::DataIter*>(it, cpp) && cpp != nullptr) return cpp;
  MX_CHECK(nb::hasattr(it, "reset") && nb::hasattr(it, "provide_data"), TypeError)
      << "expected a data iterator (mx.io.DataIter), got " << nb::str(it.type()).c_str();
  *holder = std::make_unique<PyDataIter>(it);
  return holder->get();
}

MIXNET_PY_BIND(60, BindIO);

}  // namespace mixnet::python
