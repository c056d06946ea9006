// Op calls from Python: the functions of mx.nd (and their submodules) are generated in Python
// from op_info() with real signatures, and each calls invoke() below with the op's handle, its
// inputs and its attributes. This is the path whose cost per call is measured by
// benchmarks/python_dispatch.py, so it avoids Python objects it does not need.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <charconv>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/op_info.h"

namespace mixnet::python {

namespace {

// The sentinel the generated functions use for "not given" (mixnet.base._Null).
PyObject* g_null = nullptr;

/*! \brief A registered op, resolved once by name (the handle the generated functions hold). */
struct OpHandle {
  const op::OpDef* def;
  std::string name;
};

void AppendAttr(std::string* out, nb::handle v) {
  if (nb::isinstance<nb::str>(v)) {
    *out += nb::borrow<nb::str>(v).c_str();
  } else if (PyBool_Check(v.ptr())) {
    *out += v.ptr() == Py_True ? "True" : "False";
  } else if (PyLong_CheckExact(v.ptr())) {
    *out += std::to_string(PyLong_AsLongLong(v.ptr()));
  } else if (PyFloat_CheckExact(v.ptr())) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), PyFloat_AS_DOUBLE(v.ptr()));
    out->append(buf, r.ptr);
  } else if (v.is_none()) {
    *out += "None";
  } else if (PyTuple_Check(v.ptr()) || PyList_Check(v.ptr())) {
    nb::sequence seq = nb::borrow<nb::sequence>(v);
    const size_t n = nb::len(seq);
    *out += '(';
    for (size_t i = 0; i < n; ++i) {
      if (i) *out += ", ";
      AppendAttr(out, seq[i]);
    }
    if (n == 1) *out += ',';
    *out += ')';
  } else if (Context* c = nullptr; nb::try_cast<Context*>(v, c) && c != nullptr) {
    *out += c->ToString();
  } else if (nb::isinstance<nb::type_object>(v) || nb::hasattr(v, "char")) {
    *out += DTypeName(ToDType(v));  // np.float32, np.dtype('float32')
  } else {
    *out += nb::str(v).c_str();  // numpy scalars, anything else with a str()
  }
}

void AddInput(std::vector<NDArray>* inputs, nb::handle h, const OpHandle& op) {
  if (h.is_none()) return;
  NDArray* a = nullptr;
  if (nb::try_cast<NDArray*>(h, a) && a != nullptr) {
    inputs->push_back(*a);
    return;
  }
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr())) {  // a variadic input given as a list
    for (nb::handle item : nb::borrow<nb::sequence>(h))
      AddInput(inputs, item, op);
    return;
  }
  MX_THROW(TypeError) << op.name << ": inputs must be NDArrays, got " << nb::str(h.type()).c_str();
}

void AddOutputs(std::vector<NDArray>* outputs, nb::handle out, const OpHandle& op) {
  if (out.is_none()) return;
  NDArray* a = nullptr;
  if (nb::try_cast<NDArray*>(out, a) && a != nullptr) {
    outputs->push_back(*a);
    return;
  }
  MX_CHECK(PyList_Check(out.ptr()) || PyTuple_Check(out.ptr()), TypeError)
      << op.name << ": out must be an NDArray or a list of them, got "
      << nb::str(out.type()).c_str();
  for (nb::handle item : nb::borrow<nb::sequence>(out))
    AddOutputs(outputs, item, op);
}

/*!
 * \brief invoke(op, inputs, attrs, out, kwargs): `inputs` a tuple (None items are left out,
 * lists are spliced), `attrs` a flat tuple name, value, name, value ... (values that are the
 * _Null sentinel are left out), `kwargs` further attributes by name (or None).
 */
nb::object Invoke(const OpHandle& op, nb::tuple inputs, nb::tuple attrs, nb::handle out,
                  nb::handle kwargs) {
  std::vector<NDArray> in;
  in.reserve(nb::len(inputs));
  for (nb::handle h : inputs)
    AddInput(&in, h, op);
  op::AttrDict dict;
  const size_t n = nb::len(attrs);
  for (size_t i = 0; i + 1 < n; i += 2) {
    nb::handle v = attrs[i + 1];
    if (v.ptr() == g_null) continue;
    std::string s;
    AppendAttr(&s, v);
    dict.emplace_back(nb::borrow<nb::str>(attrs[i]).c_str(), std::move(s));
  }
  if (!kwargs.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(kwargs)) {
      std::string s;
      AppendAttr(&s, v);
      dict.emplace_back(nb::borrow<nb::str>(k).c_str(), std::move(s));
    }
  }
  std::vector<NDArray> outs;
  AddOutputs(&outs, out, op);
  std::vector<NDArray> result = CallOp(op.def, in, dict, outs);
  if (!out.is_none()) return nb::borrow(out);  // MXNet returns `out` itself
  return WrapOutputs(op.def, std::move(result));
}

nb::dict InfoDict(const op::OpInfo& info) {
  nb::dict d;
  d["name"] = info.name;
  d["aliases"] = info.aliases;
  d["doc"] = info.doc;
  d["inputs"] = info.inputs;
  nb::list params;
  for (const op::ParamInfo& p : info.params)
    params.append(nb::make_tuple(p.name, p.type, p.default_value, p.doc));
  d["params"] = params;
  d["outputs"] = info.outputs;
  d["num_visible_outputs"] = info.num_visible_outputs;
  return d;
}

}  // namespace

std::string AttrString(nb::handle v) {
  std::string s;
  AppendAttr(&s, v);
  return s;
}

std::vector<NDArray> CallOp(const op::OpDef* op, std::span<const NDArray> inputs,
                            const op::AttrDict& attrs, std::span<const NDArray> outputs) {
  // Pushing is quick, but inferring or running a big op (the naive engine, serial segments)
  // in this thread should let other Python threads run.
  int64_t elements = 0;
  for (const NDArray& a : inputs)
    elements += a.Size();
  if (elements < kSmallOpElements) return op::Invoke(op, inputs, attrs, outputs);
  nb::gil_scoped_release release;
  return op::Invoke(op, inputs, attrs, outputs);
}

nb::object WrapOutputs(const op::OpDef* op, std::vector<NDArray> outputs) {
  const int visible = op::NumVisibleOutputs(op, static_cast<int>(outputs.size()));
  if (visible == 1) return nb::cast(std::move(outputs[0]));
  nb::list l;
  for (int i = 0; i < visible; ++i)
    l.append(nb::cast(std::move(outputs[i])));
  return l;
}

namespace {
void BindOps(nb::module_& m) {
  nb::class_<OpHandle>(m, "OpHandle", "A registered operator, resolved by name once.")
      .def_ro("name", &OpHandle::name)
      .def("__repr__", [](const OpHandle& h) { return "<OpHandle " + h.name + ">"; });
  m.def(
      "get_op",
      [](const std::string& name) {
        return OpHandle{op::GetOp(name), name};
      },
      nb::arg("name"), "The handle of op `name` (or an alias); ValueError naming near names.");
  m.def(
      "op_info", [](const std::string& name) { return InfoDict(op::GetOpInfo(name)); },
      nb::arg("name"), "The registry's description of op `name`.");
  m.def(
      "list_op_info",
      [] {
        nb::list l;
        for (const op::OpInfo& info : op::ListOpInfo())
          l.append(InfoDict(info));
        return l;
      },
      "Every op's description (for generating mx.nd and mx.sym functions).");
  m.def(
      "_set_null", [](nb::handle null) { g_null = null.inc_ref().ptr(); },
      "Registers the sentinel meaning 'argument not given' (mixnet.base._Null).");
  m.def("invoke", &Invoke, nb::arg("op"), nb::arg("inputs"), nb::arg("attrs"),
        nb::arg("out").none(), nb::arg("kwargs").none(),
        "Runs `op` on NDArray inputs with attributes (a flat name, value tuple).");
}

}  // namespace
MIXNET_PY_BIND(30, BindOps);

}  // namespace mixnet::python
