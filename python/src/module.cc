// mixnet._core: the nanobind extension under `import mixnet as mx`. The Python package holds
// idioms only (names, signatures, context managers); every computation is a C++ call.
#include <algorithm>
#include <utility>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"

namespace mixnet::python {

namespace {
std::vector<std::pair<int, BindFn>>& Registrations() {
  static std::vector<std::pair<int, BindFn>> r;
  return r;
}
}  // namespace

BindRegistration::BindRegistration(int order, BindFn fn) {
  Registrations().emplace_back(order, fn);
}

void BindAll(nb::module_& m) {
  auto r = Registrations();
  std::stable_sort(r.begin(), r.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Two files binding one name would silently leave only the later one (gluon.Constant and
  // mx.init.Constant once did): refuse at import instead.
  for (const auto& [order, fn] : r) {
    nb::dict before = nb::borrow<nb::dict>(nb::object(m.attr("__dict__")).attr("copy")());
    fn(m);
    for (auto [name, obj] : before) {
      MX_CHECK(m.attr("__dict__")[name].is(obj), InternalError)
          << "mixnet._core: '" << nb::str(name).c_str() << "' is bound twice";
    }
  }
}

}  // namespace mixnet::python

NB_MODULE(_core, m) {
  m.doc() = "mixnet's C++ core (import mixnet as mx for the MXNet 1.x API)";
  mixnet::python::BindAll(m);
}
