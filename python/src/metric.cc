// mx.metric: the C++ metrics as Python classes. _core.EvalMetric is the base users subclass (a
// trampoline sends update/get/reset to Python); the built-ins are C++ classes, so that any
// metric passes to a binding taking metric::EvalMetric& or a pointer to one (Module.fit,
// Module.score) as is. mixnet/metric.py adds MXNet's Python face (create, CustomMetric,
// CompositeEvalMetric, get_name_value, update_dict).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/metric/metric.h"

namespace mixnet::python {

namespace {

using metric::EvalMetric;
using metric::NameValues;

/*! \brief The protected accumulators, which Python subclasses update themselves (MXNet's). */
struct MetricAccess : EvalMetric {
  using EvalMetric::name_;
  using EvalMetric::num_inst_;
  using EvalMetric::sum_metric_;
};

/*! \brief MXNet's get(): (name, value) for one pair, else ([names], [values]). */
nb::object NameValuesToPython(const NameValues& nv) {
  if (nv.size() == 1) return nb::make_tuple(nv[0].first, nv[0].second);
  nb::list names, values;
  for (const auto& [n, v] : nv) {
    names.append(n);
    values.append(v);
  }
  return nb::make_tuple(names, values);
}

NameValues NameValuesFromPython(nb::handle r) {
  nb::sequence pair = nb::borrow<nb::sequence>(r);
  MX_CHECK(nb::len(pair) == 2, TypeError)
      << "EvalMetric.get: expected (name, value) or (names, values), got "
      << nb::cast<std::string>(nb::repr(r));
  nb::handle names = pair[0], values = pair[1];
  NameValues out;
  if (nb::isinstance<nb::str>(names)) {
    out.emplace_back(nb::cast<std::string>(names), nb::cast<double>(values));
    return out;
  }
  nb::sequence ns = nb::borrow<nb::sequence>(names), vs = nb::borrow<nb::sequence>(values);
  MX_CHECK(nb::len(ns) == nb::len(vs), ValueError)
      << "EvalMetric.get: " << nb::len(ns) << " names but " << nb::len(vs) << " values";
  for (size_t i = 0; i < nb::len(ns); ++i)
    out.emplace_back(nb::cast<std::string>(ns[i]), nb::cast<double>(vs[i]));
  return out;
}

/*! \brief Labels or predictions: one NDArray or a list/tuple of them (MXNet accepts both). */
std::vector<NDArray> ArrayList(nb::handle h, const char* what) {
  std::vector<NDArray> out;
  if (h.is_none()) return out;  // MXNet's Loss metric is updated with update(None, preds)
  NDArray* a = nullptr;
  if (nb::try_cast<NDArray*>(h, a) && a != nullptr) {
    out.push_back(*a);
    return out;
  }
  MX_CHECK(PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()), TypeError)
      << "EvalMetric.update: " << what << " must be an NDArray or a list of NDArrays, got "
      << nb::cast<std::string>(nb::str(h.type()));
  for (nb::handle item : nb::borrow<nb::sequence>(h)) {
    MX_CHECK(nb::try_cast<NDArray*>(item, a) && a != nullptr, TypeError)
        << "EvalMetric.update: " << what << " must hold NDArrays, got "
        << nb::cast<std::string>(nb::str(item.type()));
    out.push_back(*a);
  }
  return out;
}

/*! \brief A Python subclass of mx.metric.EvalMetric, seen from C++ (e.g. by Module.fit). */
class PyEvalMetric : public EvalMetric {
 public:
  NB_TRAMPOLINE(EvalMetric);
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override {
    nb::gil_scoped_acquire gil;  // C++ may update with the GIL released
    NB_OVERRIDE_PURE_NAME("update", update, labels, preds);
  }
  NameValues get() const override {
    nb::gil_scoped_acquire gil;
    // NB_OVERRIDE_NAME with MXNet's (name, value) result converted.
    nb::detail::ticket t(nb_trampoline, "get", nb::detail::str_hash("get"), false);
    if (t.key.is_valid()) return NameValuesFromPython(nb_trampoline.base().attr(t.key)());
    return EvalMetric::get();
  }
  void reset() override {
    nb::gil_scoped_acquire gil;
    NB_OVERRIDE_NAME("reset", reset);
  }
};

/*!
 * \brief A built-in metric with MXNet 1.x's global statistics: a second instance sees every
 * update and reset but not reset_local (what Speedometer's auto_reset calls), so get_global
 * covers the whole epoch while get covers the batches since the last reset_local.
 */
template <typename M>
class WithGlobal : public M {
 public:
  template <typename... A>
  explicit WithGlobal(const A&... args) : M(args...), global_(args...) {}
  void update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override {
    M::update(labels, preds);
    global_.update(labels, preds);
  }
  void reset() override {
    M::reset();
    global_.reset();
  }
  void reset_local() { M::reset(); }
  NameValues get_global() const { return global_.get(); }
  void set_name(const std::string& name) {
    this->name_ = name;
    global_.*& MetricAccess::name_ = name;
  }

 private:
  M global_;
};

template <typename M>
nb::class_<WithGlobal<M>, EvalMetric> BindBuiltin(nb::module_& m, const char* name) {
  using W = WithGlobal<M>;
  return nb::class_<W, EvalMetric>(m, name, nb::dynamic_attr())
      .def("reset_local", &W::reset_local, "Resets the local statistics (not the global ones).")
      .def(
          "get_global", [](const W& w) { return NameValuesToPython(w.get_global()); },
          "(name, value) over every update since the last reset().")
      .def_prop_rw(
          "name", [](const W& w) { return w.name(); }, &W::set_name);
}

void BindMetric(nb::module_& m) {
  nb::class_<EvalMetric, PyEvalMetric>(
      m, "EvalMetric",
      "The base class of metrics (mx.metric.EvalMetric): subclasses give update(labels, preds) "
      "and accumulate sum_metric and num_inst; get() reports their ratio.",
      nb::dynamic_attr())
      .def(nb::init<std::string>(), nb::arg("name"))
      .def(
          "update",
          [](EvalMetric& self, nb::handle labels, nb::handle preds) {
            std::vector<NDArray> l = ArrayList(labels, "labels"), p = ArrayList(preds, "preds");
            nb::gil_scoped_release release;  // reads the arrays on the host (waits for them)
            self.update(l, p);
          },
          nb::arg("labels").none(), nb::arg("preds"),
          "Accumulates one batch: labels[i] with preds[i] (labels may be None for Loss).")
      .def(
          "get", [](const EvalMetric& self) { return NameValuesToPython(self.get()); },
          "(name, value), or ([names], [values]) for a composite; NaN before any instance.")
      .def("reset", &EvalMetric::reset, "Resets the statistics.")
      .def_prop_rw(
          "name", [](const EvalMetric& e) { return e.name(); },
          [](EvalMetric& e, std::string n) { e.*& MetricAccess::name_ = std::move(n); })
      .def_prop_rw(
          "sum_metric", [](const EvalMetric& e) { return e.sum_metric(); },
          [](EvalMetric& e, double v) { e.*& MetricAccess::sum_metric_ = v; })
      .def_prop_rw(
          "num_inst", [](const EvalMetric& e) { return e.num_inst(); },
          [](EvalMetric& e, int64_t v) { e.*& MetricAccess::num_inst_ = v; });

  BindBuiltin<metric::Accuracy>(m, "Accuracy").def(nb::init<int>(), nb::arg("axis") = 1);
  BindBuiltin<metric::TopKAccuracy>(m, "TopKAccuracy").def(nb::init<int>(), nb::arg("top_k") = 1);
  BindBuiltin<metric::F1>(m, "F1").def(nb::init<std::string>(), nb::arg("average") = "macro");
  BindBuiltin<metric::MCC>(m, "MCC").def(nb::init<std::string>(), nb::arg("average") = "macro");
  BindBuiltin<metric::MAE>(m, "MAE").def(nb::init<>());
  BindBuiltin<metric::MSE>(m, "MSE").def(nb::init<>());
  BindBuiltin<metric::RMSE>(m, "RMSE").def(nb::init<>());
  BindBuiltin<metric::CrossEntropy>(m, "CrossEntropy")
      .def(nb::init<double>(), nb::arg("eps") = 1e-12);
  BindBuiltin<metric::NegativeLogLikelihood>(m, "NegativeLogLikelihood")
      .def(nb::init<double>(), nb::arg("eps") = 1e-12);
  BindBuiltin<metric::Perplexity>(m, "Perplexity")
      .def(nb::init<std::optional<int64_t>>(), nb::arg("ignore_label").none());
  BindBuiltin<metric::PearsonCorrelation>(m, "PearsonCorrelation")
      .def(nb::init<std::string>(), nb::arg("average") = "macro");
  BindBuiltin<metric::Loss>(m, "Loss").def(nb::init<std::string>(), nb::arg("name") = "loss");
}

}  // namespace
MIXNET_PY_BIND(38, BindMetric);

}  // namespace mixnet::python
