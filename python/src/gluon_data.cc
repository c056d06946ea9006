// gluon.data's native parts: the CIFAR reader, row gathers, and the worker threads behind
// DataLoader(num_workers > 0) (mixnet/gluon/data/dataloader.py picks the loader).
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "gluon.h"
#include "mixnet/base/error.h"
#include "mixnet/io/dataset.h"

namespace mixnet::python {

namespace {

/*! \brief A strong reference that takes the GIL to drop itself (results die on any thread). */
class PyRef {
 public:
  PyRef() = default;
  explicit PyRef(nb::object o) : p_(o.release().ptr()) {}
  PyRef(PyRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  PyRef& operator=(PyRef&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~PyRef() {
    if (p_ == nullptr) return;
    nb::gil_scoped_acquire acquire;
    Py_DECREF(p_);
  }
  nb::object Take() { return nb::steal(std::exchange(p_, nullptr)); }
  nb::handle handle() const { return p_; }

 private:
  PyObject* p_ = nullptr;
};

// NOTE [ Loader threads and the GIL ]
// Python-backed workers take the GIL for each batch; the native ones never do. So every call
// that waits for workers (next, close, destruction) runs with the GIL released: a worker
// waiting for the GIL would otherwise never finish its task and join would hang. The waits
// are sliced so that Ctrl-C reaches the caller and `timeout` is enforced.
template <typename T>
class Loader {
 public:
  Loader(size_t num_tasks, int num_workers, int prefetch, std::function<T(size_t)> produce)
      : p_(std::make_unique<io::OrderedPrefetcher<T>>(num_tasks, num_workers, prefetch,
                                                      std::move(produce))) {}
  ~Loader() { Close(); }

  /*! \brief The next result; StopIteration at the end, TimeoutError after `timeout` s. */
  T Next(double timeout) {
    MX_CHECK(p_ != nullptr, ValueError) << "DataLoader iterator: used after close()";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    T out;
    for (;;) {
      bool done = false, got;
      {
        nb::gil_scoped_release release;
        got = p_->WaitNext(&out, &done, std::chrono::milliseconds(50));
      }
      if (got && done) throw nb::stop_iteration();
      if (got) return out;
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
      if (timeout > 0 && std::chrono::steady_clock::now() > deadline) {
        PyErr_Format(PyExc_TimeoutError,
                     "DataLoader: no batch within timeout=%g s (worker threads still running)",
                     timeout);
        throw nb::python_error();
      }
    }
  }
  void Close() {
    if (p_ == nullptr) return;
    std::unique_ptr<io::OrderedPrefetcher<T>> p = std::move(p_);
    nb::gil_scoped_release release;
    p.reset();
  }

 private:
  std::unique_ptr<io::OrderedPrefetcher<T>> p_;
};

// NOTE [ Transforms in the workers ]
// A gluon block given as the first field's transform is called per sample on the worker
// threads without the GIL: C++ blocks run as they are, and a Python-defined block's trampoline
// (or hook) takes the GIL itself. Blocks with parameters or a hybridized graph keep state that
// a call may update (deferred initialisation, the cached graphs), so such trees are called by
// one worker at a time; parameter-free, imperative trees (the image transforms) run in parallel.
bool NeedsSerialCalls(gluon::Block& b) {
  bool serial = false;
  b.Apply([&](gluon::Block& x) {
    auto* hybrid = dynamic_cast<gluon::HybridBlock*>(&x);
    if ((hybrid != nullptr && hybrid->hybridized()) || !x.reg_params().empty()) serial = true;
  });
  return serial;
}

/*! \brief What a native loader's workers share: the arrays, the epoch's batches, and the
 * first field's transform. */
struct NativeJob {
  std::vector<NDArray> arrays;
  std::vector<std::vector<int64_t>> batches;
  gluon::BlockPtr transform;
  bool serialize = false;
  std::mutex mu;

  std::vector<NDArray> Batch(size_t i) {
    const std::vector<int64_t>& rows = batches[i];
    std::vector<NDArray> out;
    for (size_t f = 0; f < arrays.size(); ++f) {
      if (f == 0 && transform) {
        out.push_back(Transformed(rows));
      } else {
        out.push_back(io::GatherRows(arrays[f], rows));
      }
    }
    return out;
  }

  NDArray Transformed(const std::vector<int64_t>& rows) {
    const NDArray& src = arrays[0];
    const std::span<const int64_t> dims = src.shape().dims();
    const Shape item(dims.subspan(1));
    std::vector<NDArray> items;
    for (int64_t r : rows) {
      NDArray x = io::GatherRows(src, std::span<const int64_t>(&r, 1)).Reshape(item);
      std::unique_lock lock(mu, std::defer_lock);
      if (serialize) lock.lock();
      items.push_back((*transform)(x));
    }
    return io::StackRows(items);
  }
};

using NativeLoader = Loader<std::vector<NDArray>>;
using PythonLoader = Loader<PyRef>;

template <typename L>
void DefLoader(nb::class_<L>& cls) {
  cls.def("close", &L::Close, "Stops the worker threads (after their current batch).");
}

void BindGluonData(nb::module_& root) {
  nb::module_ m = root.def_submodule("data", "gluon.data's C++ side");
  m.def(
      "cifar_read",
      [](const std::vector<std::string>& files, int label_bytes, int label_index) {
        nb::gil_scoped_release release;
        return io::ReadCifarBinary(files, label_bytes, label_index);
      },
      nb::arg("files"), nb::arg("label_bytes"), nb::arg("label_index"),
      "CIFAR binary batches -> (images (N, 32, 32, 3) uint8, labels (N,) int32).");
  m.def(
      "gather_rows",
      [](const NDArray& src, const std::vector<int64_t>& index) {
        nb::gil_scoped_release release;
        return io::GatherRows(src, index);
      },
      nb::arg("src"), nb::arg("index"), "Rows `index` of `src` stacked into a new array.");

  m.def(
      "native_batch",
      [](std::vector<NDArray> arrays, std::vector<int64_t> rows, gluon::BlockPtr transform) {
        NativeJob job;  // one batch, in this thread (num_workers=0), without the GIL
        job.arrays = std::move(arrays);
        job.batches.push_back(std::move(rows));
        job.transform = std::move(transform);
        nb::gil_scoped_release release;
        return job.Batch(0);
      },
      nb::arg("arrays"), nb::arg("rows"), nb::arg("transform").none() = nb::none(),
      "Rows `rows` of each array stacked, the first field through `transform` per sample (a "
      "tree of C++ blocks): what a native loader's worker makes, in the calling thread.");

  nb::class_<NativeLoader> native(m, "_NativeBatchLoader",
                                  "Batches gathered from host arrays by worker threads.");
  native
      .def(
          "__init__",
          [](NativeLoader* self, std::vector<NDArray> arrays,
             std::vector<std::vector<int64_t>> batches, int num_workers, int prefetch,
             gluon::BlockPtr transform) {
            for (const NDArray& a : arrays)
              MX_CHECK(a.ctx().is_host(), ValueError)
                  << "DataLoader: native batches need host arrays, got " << a.Describe();
            auto job = std::make_shared<NativeJob>();
            job->arrays = std::move(arrays);
            job->batches = std::move(batches);
            job->transform = std::move(transform);
            job->serialize = job->transform && NeedsSerialCalls(*job->transform);
            const size_t n = job->batches.size();
            new (self)
                NativeLoader(n, num_workers, prefetch, [job](size_t i) { return job->Batch(i); });
          },
          nb::arg("arrays"), nb::arg("batches"), nb::arg("num_workers"), nb::arg("prefetch"),
          nb::arg("transform").none() = nb::none())
      .def("next", &NativeLoader::Next, nb::arg("timeout"),
           "The next batch (a list of NDArrays, one per array).");
  DefLoader(native);

  nb::class_<PythonLoader> py(m, "_PyBatchLoader",
                              "Batches made by a Python function fetch(i) on worker threads.");
  py.def(
        "__init__",
        [](PythonLoader* self, nb::object fetch, size_t num_batches, int num_workers,
           int prefetch) {
          auto fn = std::make_shared<PyRef>(std::move(fetch));
          new (self) PythonLoader(num_batches, num_workers, prefetch, [fn](size_t i) {
            nb::gil_scoped_acquire acquire;
            return PyRef(fn->handle()(i));
          });
        },
        nb::arg("fetch"), nb::arg("num_batches"), nb::arg("num_workers"), nb::arg("prefetch"))
      .def(
          "next", [](PythonLoader& self, double timeout) { return self.Next(timeout).Take(); },
          nb::arg("timeout"), "The next batch, as fetch returned it.");
  DefLoader(py);
}

}  // namespace

MIXNET_PY_BIND(88, BindGluonData);

}  // namespace mixnet::python
