// mixnet._core: the nanobind extension under `import mixnet as mx`. The Python package holds
// idioms only (names, signatures, context managers); every computation is a C++ call.
#include <algorithm>
#include <utility>
#include <vector>

#include "bind.h"

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
  for (const auto& [order, fn] : r)
    fn(m);
}

}  // namespace mixnet::python

NB_MODULE(_core, m) {
  m.doc() = "mixnet's C++ core (import mixnet as mx for the MXNet 1.x API)";
  mixnet::python::BindAll(m);
}
