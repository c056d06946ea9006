// mx.kv: the C++ KVStore (mixnet/kvstore/kvstore.h). python/mixnet/kvstore.py turns MXNet's
// argument forms (one key or a list, one array or a list per key) into the lists taken here.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <vector>

#include "kvstore.h"
#include "mixnet/base/error.h"
#include "mixnet/kvstore/kvstore.h"

namespace mixnet::python {

using kvstore::KVStore;
using Lists = std::vector<std::vector<NDArray>>;

namespace {

/*! \brief Keys as the C++ store takes them: all ints or all strs (TypeError otherwise). */
struct Keys {
  std::vector<int> ints;
  std::vector<std::string> strs;
  bool is_str = false;
};

Keys ToKeys(const nb::list& keys) {
  Keys k;
  for (size_t i = 0; i < keys.size(); ++i) {
    nb::handle h = keys[i];
    const bool s = nb::isinstance<nb::str>(h);
    MX_CHECK(s || (nb::isinstance<nb::int_>(h) && !PyBool_Check(h.ptr())), TypeError)
        << "KVStore: keys must be int or str, got " << nb::cast<std::string>(nb::str(h.type()));
    if (i == 0) k.is_str = s;
    MX_CHECK(s == k.is_str, TypeError)
        << "KVStore: the keys of one call must be all int or all str";
    if (s)
      k.strs.push_back(nb::cast<std::string>(h));
    else
      k.ints.push_back(nb::cast<int>(h));
  }
  return k;
}

/*! \brief Calls `f` with the int or the str keys. */
template <typename F>
void WithKeys(const nb::list& keys, F&& f) {
  Keys k = ToKeys(keys);
  if (k.is_str)
    f(k.strs);
  else
    f(k.ints);
}

/*! \brief A Python callable kept by C++: released with the GIL, whichever thread drops it. */
std::shared_ptr<nb::object> KeepCallable(nb::handle fn) {
  return std::shared_ptr<nb::object>(new nb::object(nb::borrow(fn)), [](nb::object* o) {
    nb::gil_scoped_acquire gil;
    delete o;
  });
}

void BindKVStore(nb::module_& m) {
  nb::class_<KVStore>(m, "KVStore",
                      "A key-value store for synchronizing arrays over devices and machines "
                      "(the C++ store behind mx.kv.KVStore).")
      .def_prop_ro("type", &KVStore::type)
      .def_prop_ro("rank", &KVStore::rank)
      .def_prop_ro("num_workers", &KVStore::num_workers)
      .def("_init",
           [](KVStore& kv, const nb::list& keys, const std::vector<NDArray>& values) {
             WithKeys(keys, [&](const auto& k) { kv.Init(k, values); });
           })
      // Pushes and pulls only enqueue engine work; an optimizer that is a Python subclass
      // takes the GIL itself when it runs.
      .def("_push",
           [](KVStore& kv, const nb::list& keys, const Lists& values, int priority) {
             WithKeys(keys, [&](const auto& k) {
               nb::gil_scoped_release release;
               kv.Push(k, values, priority);
             });
           })
      .def("_pull",
           [](KVStore& kv, const nb::list& keys, const Lists& outs, int priority,
              bool ignore_sparse) {
             WithKeys(keys, [&](const auto& k) {
               nb::gil_scoped_release release;
               kv.Pull(k, outs, priority, ignore_sparse);
             });
           })
      .def("_pushpull",
           [](KVStore& kv, const nb::list& keys, const Lists& values, const Lists& outs,
              int priority) {
             WithKeys(keys, [&](const auto& k) {
               nb::gil_scoped_release release;
               kv.PushPull(k, values, outs, priority);
             });
           })
      .def("_broadcast",
           [](KVStore& kv, const nb::list& keys, const std::vector<NDArray>& values,
              const Lists& outs, int priority) {
             WithKeys(keys, [&](const auto& k) { kv.Broadcast(k, values, outs, priority); });
           })
      .def("_row_sparse_pull",
           [](KVStore& kv, const nb::list& keys, const Lists& outs, const Lists& row_ids,
              int priority) {
             WithKeys(keys, [&](const auto& k) { kv.RowSparsePull(k, outs, row_ids, priority); });
           })
      .def("_set_optimizer",
           [](KVStore& kv, std::shared_ptr<optimizer::Optimizer> opt) {
             kv.SetOptimizer(std::move(opt));
           })
      .def("_set_updater",
           [](KVStore& kv, nb::handle fn) {
             MX_CHECK(PyCallable_Check(fn.ptr()), TypeError)
                 << "KVStore._set_updater: the updater must be callable";
             // Called where the store applies a push (the pushing thread for local stores, a
             // communication thread for distributed ones): it takes the GIL.
             kv.SetUpdater(kvstore::Updater(
                 [&kv, f = KeepCallable(fn)](int key, const NDArray& recv, NDArray* stored) {
                   nb::gil_scoped_acquire gil;
                   const std::string* s = kv.StrKeyOf(key);
                   nb::object k = s ? nb::object(nb::str(s->c_str())) : nb::object(nb::int_(key));
                   (*f)(k, recv, *stored);
                 }));
           })
      .def("_set_gradient_compression",
           [](KVStore& kv, const op::AttrDict& params) { kv.SetGradientCompression(params); })
      .def("_save_optimizer_states", &KVStore::SaveOptimizerStates)
      .def("_load_optimizer_states", &KVStore::LoadOptimizerStates)
      .def(
          "_barrier", [](KVStore& kv) { kv.Barrier(); }, nb::call_guard<nb::gil_scoped_release>());
  m.def(
      "_kvstore_create",
      [](const std::string& name) { return std::shared_ptr<KVStore>(KVStore::Create(name)); },
      nb::arg("name"));
  m.def("_kvstore_is_worker_node", &KVStore::IsWorkerNode);
}

}  // namespace
MIXNET_PY_BIND(39, BindKVStore);

void KVStoreArg(nb::handle kvstore, const char* what, std::string* kind,
                std::shared_ptr<KVStore>* object) {
  if (kvstore.is_none() || (PyBool_Check(kvstore.ptr()) && kvstore.ptr() == Py_False)) {
    *kind = "none";
  } else if (nb::isinstance<nb::str>(kvstore)) {
    *kind = nb::cast<std::string>(kvstore);
  } else {
    nb::handle h = nb::hasattr(kvstore, "handle") ? nb::handle(kvstore.attr("handle")) : kvstore;
    MX_CHECK(nb::try_cast(h, *object) && *object, TypeError)
        << what << ": kvstore must be KVStore, str or None, got "
        << nb::cast<std::string>(nb::str(kvstore.type()));
  }
}

op::AttrDict CompressionParams(nb::handle params, const char* what) {
  op::AttrDict out;
  if (params.is_none()) return out;
  MX_CHECK(nb::isinstance<nb::dict>(params), TypeError)
      << what << ": compression_params must be a dict";
  for (auto [k, v] : nb::borrow<nb::dict>(params))
    out.emplace_back(nb::cast<std::string>(nb::str(k)), AttrString(v));
  return out;
}

}  // namespace mixnet::python
