// mx.init: the C++ initializers as Python classes. _core.Initializer is the base users
// subclass (a trampoline sends the C++ virtuals InitWeight/InitBias/InitGamma/InitBeta to
// Python's _init_weight/_init_bias/...); the built-ins are their C++ classes, so that an
// initializer passes to any binding that takes init::InitializerPtr (shared_ptr) as is.
// mixnet/initializer.py adds MXNet's Python face (InitDesc, __call__, dumps, create, register).
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <memory>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/initializer/initializer.h"

namespace mixnet::python {

namespace {

using init::Initializer;

/*! \brief Makes the protected name rules callable from the binding (Python's super()). */
struct InitAccess : Initializer {
  using Initializer::InitBeta;
  using Initializer::InitBias;
  using Initializer::InitGamma;
};

/*!
 * \brief A Python subclass of mx.init.Initializer, seen from C++. Each override takes the GIL:
 * C++ (a Block's initialize, a Module's init_params) may call with it released.
 */
class PyInitializer : public Initializer {
 public:
  NB_TRAMPOLINE(Initializer);
  // A subclass that decides by name itself (mx.init.Load) defines _call_by_name(name, arr).
  void operator()(const std::string& name, NDArray* arr) const override {
    nb::gil_scoped_acquire gil;
    nb::detail::ticket t(nb_trampoline, "_call_by_name", nb::detail::str_hash("_call_by_name"),
                         false);
    if (t.key.is_valid()) {
      nb_trampoline.base().attr(t.key)(name, *arr);
      return;
    }
    Initializer::operator()(name, arr);
  }
  std::string ToString() const override {
    nb::gil_scoped_acquire gil;
    NB_OVERRIDE_PURE_NAME("dumps", ToString);
  }
  void InitWeight(const std::string& name, const NDArray& arr) const override {
    nb::gil_scoped_acquire gil;
    NB_OVERRIDE_PURE_NAME("_init_weight", InitWeight, name, arr);
  }
  void InitBias(const std::string& name, const NDArray& arr) const override {
    nb::gil_scoped_acquire gil;
    NB_OVERRIDE_NAME("_init_bias", InitBias, name, arr);
  }
  void InitGamma(const std::string& name, const NDArray& arr) const override {
    nb::gil_scoped_acquire gil;
    NB_OVERRIDE_NAME("_init_gamma", InitGamma, name, arr);
  }
  void InitBeta(const std::string& name, const NDArray& arr) const override {
    nb::gil_scoped_acquire gil;
    NB_OVERRIDE_NAME("_init_beta", InitBeta, name, arr);
  }
};

void BindInitializer(nb::module_& m) {
  nb::class_<Initializer, PyInitializer>(
      m, "Initializer",
      "The base class of initializers (mx.init.Initializer): subclasses give _init_weight and "
      "may override _init_bias, _init_gamma and _init_beta.")
      .def(nb::init<>())
      .def(
          "_call",
          [](const Initializer& self, const std::string& name, NDArray arr) { self(name, &arr); },
          nb::arg("name"), nb::arg("arr"),
          "Initializes `arr` in place as the parameter called `name` (MXNet's name rules).")
      .def(
          "_call_by_name",
          [](const Initializer& self, const std::string& name, NDArray arr) {
            self.Initializer::operator()(name, &arr);
          },
          nb::arg("name"), nb::arg("arr"),
          "MXNet's name rules (what a subclass overriding _call_by_name replaces).")
      .def("_init_weight", &Initializer::InitWeight, nb::arg("name"), nb::arg("arr"),
           "The initializer's own rule, whatever the name.")
      .def(
          "_init_bias",
          [](const Initializer& self, const std::string& name, const NDArray& arr) {
            (self.*&InitAccess::InitBias)(name, arr);
          },
          nb::arg("name"), nb::arg("arr"))
      .def(
          "_init_gamma",
          [](const Initializer& self, const std::string& name, const NDArray& arr) {
            (self.*&InitAccess::InitGamma)(name, arr);
          },
          nb::arg("name"), nb::arg("arr"))
      .def(
          "_init_beta",
          [](const Initializer& self, const std::string& name, const NDArray& arr) {
            (self.*&InitAccess::InitBeta)(name, arr);
          },
          nb::arg("name"), nb::arg("arr"))
      .def("_to_string", &Initializer::ToString);

  nb::class_<init::Zero, Initializer>(m, "Zero").def(nb::init<>());
  nb::class_<init::One, Initializer>(m, "One").def(nb::init<>());
  nb::class_<init::Constant, Initializer>(m, "Constant")
      .def(nb::init<double>(), nb::arg("value"))
      .def(nb::init<NDArray>(), nb::arg("value"));
  nb::class_<init::Uniform, Initializer>(m, "Uniform")
      .def(nb::init<double>(), nb::arg("scale") = 0.07);
  nb::class_<init::Normal, Initializer>(m, "Normal")
      .def(nb::init<double>(), nb::arg("sigma") = 0.01);
  nb::class_<init::Xavier, Initializer>(m, "Xavier")
      .def(nb::init<std::string, std::string, double>(), nb::arg("rnd_type") = "uniform",
           nb::arg("factor_type") = "avg", nb::arg("magnitude") = 3.0)
      .def(
          "_scale",
          [](const init::Xavier& x, const std::string& name, const std::vector<int64_t>& shape) {
            return x.Scale(name, Shape(std::span<const int64_t>(shape)));
          },
          nb::arg("name"), nb::arg("shape"),
          "The bound s of U(-s, s) (or the deviation of N(0, s^2)) for a weight of `shape`.")
      .def_ro("rnd_type", &init::Xavier::rnd_type_)
      .def_ro("factor_type", &init::Xavier::factor_type_)
      .def_ro("magnitude", &init::Xavier::magnitude_);
  nb::class_<init::MSRAPrelu, init::Xavier>(m, "MSRAPrelu")
      .def(nb::init<std::string, double>(), nb::arg("factor_type") = "avg",
           nb::arg("slope") = 0.25);
  nb::class_<init::Orthogonal, Initializer>(m, "Orthogonal")
      .def(nb::init<double, std::string>(), nb::arg("scale") = 1.414,
           nb::arg("rand_type") = "uniform");
  nb::class_<init::Bilinear, Initializer>(m, "Bilinear").def(nb::init<>());
  nb::class_<init::LSTMBias, Initializer>(m, "LSTMBias")
      .def(nb::init<double>(), nb::arg("forget_bias") = 1.0);
  nb::class_<init::Mixed, Initializer>(m, "Mixed")
      .def(nb::init<const std::vector<std::string>&, std::vector<init::InitializerPtr>>(),
           nb::arg("patterns"), nb::arg("initializers"));
}

}  // namespace
MIXNET_PY_BIND(35, BindInitializer);

}  // namespace mixnet::python
