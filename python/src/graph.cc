// The conversions of graph.h.
#include "graph.h"

#include <string>
#include <vector>

#include "mixnet/base/error.h"

namespace mixnet::python {

std::vector<NDArray> ArraysFrom(nb::handle h, const char* what, bool none_ok) {
  std::vector<NDArray> out;
  if (h.is_none()) return out;
  NDArray* a = nullptr;
  if (nb::try_cast<NDArray*>(h, a) && a != nullptr) {
    out.push_back(*a);
    return out;
  }
  MX_CHECK(PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()), TypeError)
      << what << ": expected an NDArray or a list of NDArrays, got " << nb::str(h.type()).c_str();
  for (nb::handle item : nb::borrow<nb::sequence>(h)) {
    if (item.is_none()) {
      MX_CHECK(none_ok, TypeError) << what << ": item " << out.size() << " is None";
      out.emplace_back();
      continue;
    }
    MX_CHECK(nb::try_cast<NDArray*>(item, a) && a != nullptr, TypeError)
        << what << ": item " << out.size() << " is a " << nb::str(item.type()).c_str()
        << ", not an NDArray";
    out.push_back(*a);
  }
  return out;
}

nb::list ArrayList(const std::vector<NDArray>& arrays) {
  nb::list l;
  for (const NDArray& a : arrays)
    l.append(a.is_none() ? nb::none() : nb::cast(a));
  return l;
}

nb::dict ArrayDict(const std::map<std::string, NDArray>& arrays) {
  nb::dict d;
  for (const auto& [name, a] : arrays)
    d[name.c_str()] = a.is_none() ? nb::none() : nb::cast(a);
  return d;
}

std::unordered_map<std::string, Shape> ShapeMapFrom(nb::handle dict) {
  std::unordered_map<std::string, Shape> out;
  if (dict.is_none()) return out;
  for (auto [k, v] : nb::borrow<nb::dict>(dict))
    out.emplace(nb::cast<std::string>(k), ShapeFrom(v));
  return out;
}

autograd::GradReq GradReqFrom(nb::handle h) {
  MX_CHECK(nb::isinstance<nb::str>(h), TypeError)
      << "grad_req: expected 'write', 'add', 'null' or 'inplace', got "
      << nb::str(h.type()).c_str();
  return autograd::GradReqFromString(nb::borrow<nb::str>(h).c_str());
}

}  // namespace mixnet::python
