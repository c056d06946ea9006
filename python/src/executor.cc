// mx.executor.Executor: the C++ exec::Executor (a symbol bound to arrays and compiled once).
// Symbol.bind/simple_bind (mixnet/symbol/symbol.py) turn MXNet's argument forms into the
// lists and maps below. Forward/Backward release the GIL: small segments run inline.
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bind.h"
#include "graph.h"
#include "mixnet/base/error.h"
#include "mixnet/executor/executor.h"

namespace mixnet::python {

namespace {

using exec::Executor;

std::vector<autograd::GradReq> GradReqList(nb::handle reqs) {
  std::vector<autograd::GradReq> out;
  for (nb::handle r : nb::borrow<nb::sequence>(reqs))
    out.push_back(GradReqFrom(r));
  return out;
}

std::unique_ptr<Executor> Bind(const sym::Symbol& symbol, nb::handle ctx, nb::handle args,
                               nb::handle args_grad, nb::handle grad_reqs, nb::handle aux_states,
                               const Executor* shared) {
  const Context c = ToContext(ctx);
  std::vector<NDArray> a = ArraysFrom(args, "bind: args");
  std::vector<NDArray> g = ArraysFrom(args_grad, "bind: args_grad", true);
  std::vector<NDArray> aux = ArraysFrom(aux_states, "bind: aux_states");
  std::vector<autograd::GradReq> reqs = GradReqList(grad_reqs);
  nb::gil_scoped_release release;
  return Executor::Bind(symbol, c, std::move(a), std::move(g), std::move(reqs), std::move(aux),
                        shared);
}

std::unique_ptr<Executor> SimpleBind(const sym::Symbol& symbol, nb::handle ctx, nb::handle shapes,
                                     nb::handle dtypes, nb::handle grad_req, nb::handle grad_reqs,
                                     const Executor* shared) {
  const Context c = ToContext(ctx);
  const auto shape_map = ShapeMapFrom(shapes);
  std::unordered_map<std::string, DType> dtype_map;
  if (!dtypes.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(dtypes))
      dtype_map.emplace(nb::cast<std::string>(k), ToDType(v));
  }
  std::unordered_map<std::string, autograd::GradReq> req_map;
  if (!grad_reqs.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(grad_reqs))
      req_map.emplace(nb::cast<std::string>(k), GradReqFrom(v));
  }
  const autograd::GradReq req = GradReqFrom(grad_req);
  nb::gil_scoped_release release;
  return Executor::SimpleBind(symbol, c, shape_map, dtype_map, req, req_map, shared);
}

nb::list Forward(Executor& e, bool is_train, nb::handle inputs) {
  std::unordered_map<std::string, NDArray> in;
  if (!inputs.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(inputs)) {
      NDArray* a = nullptr;
      MX_CHECK(nb::try_cast<NDArray*>(v, a) && a != nullptr, TypeError)
          << "Executor.forward: input '" << nb::cast<std::string>(k) << "' is a "
          << nb::str(v.type()).c_str() << ", not an NDArray";
      in.emplace(nb::cast<std::string>(k), *a);
    }
  }
  {
    nb::gil_scoped_release release;
    if (in.empty()) {
      e.Forward(is_train);
    } else {
      e.Forward(is_train, in);
    }
  }
  return ArrayList(e.outputs());
}

void BindExecutor(nb::module_& root) {
  nb::module_ m = root.def_submodule("executor", "mx.executor's C++ side");
  nb::class_<Executor>(m, "Executor",
                       "Executor is the object providing efficient symbolic graph execution "
                       "(mx.executor.Executor); made by Symbol.bind and Symbol.simple_bind.")
      .def("_forward", &Forward, nb::arg("is_train"), nb::arg("inputs").none())
      .def(
          "_backward",
          [](Executor& e, nb::handle out_grads) {
            const std::vector<NDArray> g = ArraysFrom(out_grads, "Executor.backward: out_grads");
            nb::gil_scoped_release release;
            e.Backward(g);
          },
          nb::arg("out_grads").none())
      .def_prop_ro("outputs", [](const Executor& e) { return ArrayList(e.outputs()); })
      .def_prop_ro("arg_arrays", [](const Executor& e) { return ArrayList(e.arg_arrays()); })
      .def_prop_ro("grad_arrays", [](const Executor& e) { return ArrayList(e.grad_arrays()); })
      .def_prop_ro("aux_arrays", [](const Executor& e) { return ArrayList(e.aux_arrays()); })
      .def_prop_ro("arg_dict", [](const Executor& e) { return ArrayDict(e.arg_dict()); })
      .def_prop_ro("grad_dict", [](const Executor& e) { return ArrayDict(e.grad_dict()); })
      .def_prop_ro("aux_dict", [](const Executor& e) { return ArrayDict(e.aux_dict()); })
      .def_prop_ro("output_dict", [](const Executor& e) { return ArrayDict(e.output_dict()); })
      .def_prop_ro("_symbol", &Executor::symbol)
      .def_prop_ro("_ctx", &Executor::context)
      .def(
          "_reshape",
          [](const Executor& e, nb::handle shapes, bool partial_shaping, bool allow_up_sizing) {
            const auto shape_map = ShapeMapFrom(shapes);
            nb::gil_scoped_release release;
            return e.Reshape(shape_map, partial_shaping, allow_up_sizing);
          },
          nb::arg("shapes"), nb::arg("partial_shaping"), nb::arg("allow_up_sizing"),
          nb::keep_alive<0, 1>())
      .def(
          "set_monitor_callback",
          [](Executor& e, nb::object callback, bool monitor_all) {
            // Called from engine threads as outputs are computed: take the GIL there.
            auto cb = std::make_shared<nb::object>(std::move(callback));
            e.SetMonitorCallback(
                [cb](const std::string& name, const NDArray& a) {
                  nb::gil_scoped_acquire acquire;
                  (*cb)(name, a);
                },
                monitor_all);
          },
          nb::arg("callback"), nb::arg("monitor_all") = false,
          "Calls callback(name, array) for each output as it is computed.")
      .def("debug_str", &Executor::DebugStr);
  m.def("bind", &Bind, nb::arg("symbol"), nb::arg("ctx").none(), nb::arg("args"),
        nb::arg("args_grad").none(), nb::arg("grad_reqs"), nb::arg("aux_states").none(),
        nb::arg("shared_exec").none(), nb::keep_alive<0, 7>());
  m.def("simple_bind", &SimpleBind, nb::arg("symbol"), nb::arg("ctx").none(), nb::arg("shapes"),
        nb::arg("dtypes").none(), nb::arg("grad_req"), nb::arg("grad_reqs").none(),
        nb::arg("shared_exec").none(), nb::keep_alive<0, 7>());
}

}  // namespace
MIXNET_PY_BIND(55, BindExecutor);

}  // namespace mixnet::python
