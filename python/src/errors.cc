// C++ errors become the Python exceptions of mixnet.base (MXNetError and its subclasses that
// are also ValueError, TypeError, ...); the classes are defined in Python and handed over at
// import, so that `except ValueError` and `except mx.base.MXNetError` both catch them.
#include <array>

#include "bind.h"
#include "mixnet/base/error.h"

namespace mixnet::python {

namespace {
// Indexed by ErrorKind; set once by mixnet.base at import (kept alive by the module).
std::array<PyObject*, 6> g_error_classes{};

void Translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const Error& e) {
    PyObject* cls = g_error_classes[static_cast<size_t>(e.kind())];
    PyErr_SetString(cls != nullptr ? cls : PyExc_RuntimeError, e.what());
  }
}
}  // namespace

namespace {
void BindErrors(nb::module_& m) {
  m.def(
      "_set_error_classes",
      [](nb::dict classes) {
        for (int k = 0; k < static_cast<int>(g_error_classes.size()); ++k) {
          const char* name = ErrorKindName(static_cast<ErrorKind>(k));
          nb::object cls = classes[name];
          g_error_classes[k] = cls.inc_ref().ptr();  // held for the process
        }
      },
      "Registers the Python classes raised for each C++ error kind (mixnet.base does this).");
  nb::register_exception_translator(Translate);
}

}  // namespace
MIXNET_PY_BIND(0, BindErrors);

}  // namespace mixnet::python
