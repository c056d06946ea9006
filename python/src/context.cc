// mx.Context: the C++ Context with MXNet's Python face (device_type names, `with` scopes that
// set the thread's default context) and the dtype conversions every binding uses.
#include <nanobind/operators.h>
#include <nanobind/stl/string.h>

#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"

namespace mixnet::python {

namespace {
// `with mx.cpu(1):` pushes; the innermost is the default (per thread, as MXNet's).
thread_local std::vector<Context> t_context_stack;

// Context::ToString and FromString are the one place device names are spelled ("cpu(0)").
std::string DeviceTypeName(const Context& c) {
  const std::string s = c.ToString();
  return s.substr(0, s.find('('));
}

}  // namespace

nb::handle NumpyModule() {
  static nb::handle numpy = nb::module_::import_("numpy").release();
  return numpy;
}

Shape ShapeFrom(nb::handle h) {
  std::vector<int64_t> dims;
  if (PyLong_Check(h.ptr())) {
    dims.push_back(nb::cast<int64_t>(h));
  } else {
    MX_CHECK(PySequence_Check(h.ptr()) && !nb::isinstance<nb::str>(h), TypeError)
        << "shape: expected an int or a tuple of ints, got " << nb::str(h.type()).c_str();
    for (nb::handle d : nb::borrow<nb::sequence>(h))
      dims.push_back(nb::cast<int64_t>(d));
  }
  return Shape(std::span<const int64_t>(dims));
}

nb::tuple ShapeToTuple(const Shape& s) {
  // Built directly: `x.shape` is on every training loop's path.
  const int n = s.ndim() < 0 ? 0 : s.ndim();
  PyObject* t = PyTuple_New(n);
  if (t == nullptr) throw nb::python_error();
  for (int i = 0; i < n; ++i)
    PyTuple_SET_ITEM(t, i, PyLong_FromLongLong(s[i] < 0 ? 0 : s[i]));
  return nb::steal<nb::tuple>(t);
}

Context DefaultContext() {
  return t_context_stack.empty() ? Context::cpu() : t_context_stack.back();
}

Context ToContext(nb::handle h) {
  if (h.is_none()) return DefaultContext();
  Context* c = nullptr;
  if (nb::try_cast<Context*>(h, c) && c != nullptr) return *c;
  if (nb::isinstance<nb::str>(h)) return Context::FromString(nb::cast<std::string>(h));
  MX_THROW(TypeError) << "expected a Context (mx.cpu(), mx.gpu(0)) or None, got "
                      << nb::cast<std::string>(nb::str(h.type()));
}

DType ToDType(nb::handle h) {
  if (h.is_none()) return DType::kFloat32;
  if (nb::isinstance<nb::str>(h)) return DTypeFromName(nb::cast<std::string>(h));
  if (nb::isinstance<nb::int_>(h)) {
    const int flag = nb::cast<int>(h);
    MX_CHECK(IsValidDTypeFlag(flag), TypeError) << "dtype: no dtype has flag " << flag;
    return static_cast<DType>(flag);
  }
  // np.float32 (a type) or np.dtype('float32'): numpy names them.
  nb::object name = NumpyModule().attr("dtype")(h).attr("name");
  return DTypeFromName(nb::cast<std::string>(name));
}

nb::object DTypeToNumpy(DType t) {
  if (t == DType::kBFloat16) return nb::str("bfloat16");
  if (t == DType::kBool) return NumpyModule().attr("bool_");  // np.bool is gone in NumPy 1.24
  return NumpyModule().attr(DTypeName(t));  // MXNet's .dtype is the scalar type (np.float32)
}

namespace {
void BindContext(nb::module_& m) {
  nb::class_<Context>(m, "Context",
                      "A device and its id (mx.cpu(), mx.gpu(1)); `with ctx:` makes it the "
                      "thread's default context.")
      .def(
          "__init__",
          [](Context* self, nb::handle device_type, int device_id) {
            Context* other = nullptr;
            if (nb::try_cast<Context*>(device_type, other) && other != nullptr) {
              new (self) Context(*other);
              return;
            }
            new (self) Context(Context::FromString(nb::cast<std::string>(device_type) + "(" +
                                                   std::to_string(device_id) + ")"));
          },
          nb::arg("device_type"), nb::arg("device_id") = 0)
      .def_prop_ro("device_type", &DeviceTypeName)
      .def_prop_ro("device_typeid", [](const Context& c) { return static_cast<int>(c.dev_type); })
      .def_prop_ro("device_id", [](const Context& c) { return c.dev_id; })
      .def("__repr__", &Context::ToString)
      .def("__str__", &Context::ToString)
      .def("__hash__", [](const Context& c) { return std::hash<Context>()(c); })
      .def(nb::self == nb::self)
      .def("__eq__", [](const Context&, nb::handle) { return false; })
      .def("__enter__",
           [](const Context& c) {
             t_context_stack.push_back(c);
             return c;
           })
      .def(
          "__exit__", [](const Context&, nb::args) { t_context_stack.pop_back(); },
          "Restores the previous default context.")
      .def_static("default_ctx", &DefaultContext, "The thread's default context.");
  m.def("current_context", &DefaultContext, "The thread's default context (cpu(0) if none).");
}

}  // namespace
MIXNET_PY_BIND(10, BindContext);

}  // namespace mixnet::python
