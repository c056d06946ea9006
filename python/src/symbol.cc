// mx.sym.Symbol: the C++ sym::Symbol as a Python class, the op functions' entry point
// (create_op, called by the functions mixnet/symbol/__init__.py generates from the registry),
// arithmetic through the same registered ops as MXNet's Symbol, and inference and JSON.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "graph.h"
#include "mixnet/base/error.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::python {

namespace {

using sym::Symbol;

Symbol* AsSymbol(nb::handle h) {
  Symbol* s = nullptr;
  return nb::try_cast<Symbol*>(h, s) ? s : nullptr;
}

Symbol ToSymbol(nb::handle h, const std::string& what) {
  Symbol* s = AsSymbol(h);
  MX_CHECK(s != nullptr, TypeError)
      << what << ": expected a Symbol, got " << nb::str(h.type()).c_str();
  return *s;
}

/*! \brief mixnet.base._Null: "argument not given". */
nb::handle NullSentinel() {
  static nb::handle null = nb::object(nb::module_::import_("mixnet.base").attr("_Null")).release();
  return null;
}

bool IsHiddenKey(const std::string& k) {
  return k.size() > 4 && k.starts_with("__") && k.ends_with("__");
}

/*!
 * \brief create_op(op, input_names, inputs, attrs, name, attr, kwargs): `inputs` holds one
 * item per input of `input_names` (None when not given, a tuple for the variadic input);
 * `attrs` is a flat name, value tuple (_Null values left out); `attr` MXNet's attribute dict
 * (hidden `__key__` attributes go to the node; others are set on it afterwards); `kwargs` more
 * op parameters, or input symbols by name.
 */
Symbol CreateOp(const std::string& op, nb::tuple input_names, nb::tuple inputs, nb::tuple attrs,
                nb::handle name, nb::handle attr, nb::handle kwargs) {
  std::vector<Symbol> positional;  // the variadic input's symbols
  std::vector<std::pair<std::string, Symbol>> named;
  bool variadic = false;
  const size_t n = nb::len(inputs);
  for (size_t i = 0; i < n; ++i) {
    nb::handle v = inputs[i];
    if (v.is_none()) continue;
    const std::string in_name = nb::cast<std::string>(input_names[i]);
    if (PyTuple_Check(v.ptr()) || PyList_Check(v.ptr())) {
      variadic = true;
      for (nb::handle item : nb::borrow<nb::sequence>(v))
        positional.push_back(ToSymbol(item, op + ": input '" + in_name + "'"));
    } else {
      named.emplace_back(in_name, ToSymbol(v, op + ": input '" + in_name + "'"));
    }
  }
  op::AttrDict dict;
  for (size_t i = 0; i + 1 < nb::len(attrs); i += 2) {
    nb::handle v = attrs[i + 1];
    if (v.is(NullSentinel())) continue;
    dict.emplace_back(nb::cast<std::string>(attrs[i]), AttrString(v));
  }
  if (!kwargs.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(kwargs)) {
      if (Symbol* s = AsSymbol(v)) {
        named.emplace_back(nb::cast<std::string>(k), *s);
      } else if (!v.is(NullSentinel())) {
        dict.emplace_back(nb::cast<std::string>(k), AttrString(v));
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> later;  // non-hidden `attr` entries
  if (!attr.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(attr)) {
      std::string key = nb::cast<std::string>(k);
      (IsHiddenKey(key) ? dict : later).emplace_back(std::move(key), nb::str(v).c_str());
    }
  }
  const std::string node_name = name.is_none() ? std::string() : nb::cast<std::string>(name);
  Symbol out;
  if (variadic) {
    MX_CHECK(named.empty(), ValueError)
        << op << ": takes its inputs positionally; got inputs by name too";
    out = Symbol::Create(op, positional, dict, node_name);
  } else {
    out = Symbol::CreateNamed(op, named, dict, node_name);
  }
  for (const auto& [k, v] : later)
    out.SetAttr(k, v);
  return out;
}

/*! \brief Which ops a Python operator composes (MXNet's Symbol.__add__ and friends). */
struct SymArith {
  const char* symbol;   // self OP other, both symbols
  const char* scalar;   // self OP scalar
  const char* rscalar;  // scalar OP self (null when OP commutes)
};

bool IsNumber(nb::handle v) {
  if (PyFloat_Check(v.ptr()) || PyLong_Check(v.ptr())) return true;
  static nb::handle number = nb::object(nb::module_::import_("numbers").attr("Number")).release();
  return PyObject_IsInstance(v.ptr(), number.ptr()) == 1;
}

nb::object ApplySym(const SymArith& f, const Symbol& self, nb::handle other, bool reflected) {
  if (Symbol* o = AsSymbol(other)) {
    const Symbol in[2] = {reflected ? *o : self, reflected ? self : *o};
    return nb::cast(Symbol::Create(f.symbol, in));
  }
  if (!IsNumber(other)) return nb::borrow(Py_NotImplemented);
  const char* op = reflected && f.rscalar ? f.rscalar : f.scalar;
  return nb::cast(Symbol::Create(op, {self}, {{"scalar", AttrString(nb::float_(other))}}));
}

void DefSymArith(nb::class_<Symbol>& cls, const char* name, const char* rname, const SymArith* f) {
  cls.def(name, [f](const Symbol& a, nb::handle b) { return ApplySym(*f, a, b, false); });
  if (rname) {
    cls.def(rname, [f](const Symbol& a, nb::handle b) { return ApplySym(*f, a, b, true); });
  }
}

nb::list Shapes(const std::vector<Shape>& shapes) {
  nb::list l;
  for (const Shape& s : shapes)
    l.append(ShapeToTuple(s));
  return l;
}

nb::list DTypes(const std::vector<DType>& types) {
  nb::list l;
  for (DType t : types)
    l.append(DTypeToNumpy(t));
  return l;
}

void BindSymbol(nb::module_& root) {
  static const SymArith add{"_Plus", "_PlusScalar", nullptr};
  static const SymArith sub{"_Minus", "_MinusScalar", "_RMinusScalar"};
  static const SymArith mul{"_Mul", "_MulScalar", nullptr};
  static const SymArith div{"_Div", "_DivScalar", "_RDivScalar"};
  static const SymArith mod{"_Mod", "_ModScalar", "_RModScalar"};
  static const SymArith pow{"_Power", "_PowerScalar", "_RPowerScalar"};
  static const SymArith eq{"_equal", "_equal_scalar", nullptr};
  static const SymArith ne{"_not_equal", "_not_equal_scalar", nullptr};
  static const SymArith gt{"_greater", "_greater_scalar", "_lesser_scalar"};
  static const SymArith ge{"_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar"};
  static const SymArith lt{"_lesser", "_lesser_scalar", "_greater_scalar"};
  static const SymArith le{"_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar"};

  nb::module_ m = root.def_submodule("symbol", "mx.sym's C++ side");
  nb::class_<Symbol> cls(m, "Symbol",
                         "Symbol is symbolic graph of the mxnet (mx.sym.Symbol): a list of "
                         "outputs of operator nodes, composed before any data exists.");
  cls.def("__len__", &Symbol::NumOutputs)
      .def("_index", [](const Symbol& s, size_t i) { return s[i]; })
      .def("_by_name", [](const Symbol& s, const std::string& n) { return s[n]; })
      .def("list_arguments", &Symbol::ListArguments,
           "Lists all the arguments in the symbol (depth-first order).")
      .def("list_outputs", &Symbol::ListOutputs, "Lists all the outputs in the symbol.")
      .def("list_auxiliary_states", &Symbol::ListAuxiliaryStates,
           "Lists all the auxiliary states in the symbol (BatchNorm's moving statistics).")
      .def("list_inputs", &Symbol::ListInputs,
           "Lists all arguments and auxiliary states of the graph.")
      .def_prop_ro("name",
                   [](const Symbol& s) -> nb::object {
                     if (s.NumOutputs() != 1) return nb::none();  // a group has no name
                     return nb::str(s.name().c_str());
                   })
      .def("attr", &Symbol::Attr, nb::arg("key"),
           "The attribute string for the key, or None if it is not set.")
      .def(
          "list_attr",
          [](const Symbol& s, bool recursive) {
            MX_CHECK(!recursive, ValueError)
                << "Symbol.list_attr: recursive is removed in MXNet 1.x; use attr_dict()";
            return s.ListAttr();
          },
          nb::arg("recursive") = false, "The attributes of this symbol's node as a dict.")
      .def("attr_dict", &Symbol::AttrDict, "{node name: {key: value}} for every node.")
      .def(
          "_set_attr",
          [](Symbol& s, nb::kwargs kwargs) {
            for (auto [k, v] : kwargs)
              s.SetAttr(nb::cast<std::string>(k), nb::cast<std::string>(v));
          },
          "Sets attributes (strings) of this symbol's node.")
      .def("get_internals", &Symbol::GetInternals,
           "A symbol of every internal output: internals['fc1_output'].")
      .def(
          "get_children",
          [](const Symbol& s) -> nb::object {
            Symbol c = s.GetChildren();
            return c.NumOutputs() == 0 ? nb::none() : nb::cast(std::move(c));
          },
          "The inputs of this symbol's node as a group, or None for a variable.")
      .def("tojson", &Symbol::ToJSON, "The MXNet 1.x JSON of the graph.")
      .def(
          "save", [](const Symbol& s, const std::string& fname, bool) { s.Save(fname); },
          nb::arg("fname"), nb::arg("remove_amp_cast") = true,
          "Saves the symbol's JSON to a file (mx.sym.load reads it).")
      .def("debug_str", &Symbol::DebugStr)
      .def("__copy__", &Symbol::Copy)
      .def("__deepcopy__", [](const Symbol& s, nb::handle) { return s.Copy(); })
      .def("__hash__", [](nb::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); })
      .def("__neg__",
           [](const Symbol& s) {
             return Symbol::Create("_MulScalar", {s}, {{"scalar", "-1.0"}});
           })
      .def(
          "_infer_shape",
          [](const Symbol& s, nb::handle known) {
            auto r = s.InferShapePartial(ShapeMapFrom(known));
            return nb::make_tuple(Shapes(r.arg), Shapes(r.out), Shapes(r.aux), r.complete);
          },
          "(arg shapes, out shapes, aux shapes, complete) from {name: shape}; unknown "
          "shapes are ().")
      .def(
          "_infer_type",
          [](const Symbol& s, nb::handle known) {
            std::unordered_map<std::string, DType> types;
            for (auto [k, v] : nb::borrow<nb::dict>(known))
              types.emplace(nb::cast<std::string>(k), ToDType(v));
            auto r = s.InferType(types);
            return nb::make_tuple(DTypes(r.arg), DTypes(r.out), DTypes(r.aux));
          },
          "(arg dtypes, out dtypes, aux dtypes) from {name: dtype}.");
  DefSymArith(cls, "__add__", "__radd__", &add);
  DefSymArith(cls, "__sub__", "__rsub__", &sub);
  DefSymArith(cls, "__mul__", "__rmul__", &mul);
  DefSymArith(cls, "__truediv__", "__rtruediv__", &div);
  DefSymArith(cls, "__div__", "__rdiv__", &div);
  DefSymArith(cls, "__mod__", "__rmod__", &mod);
  DefSymArith(cls, "__pow__", "__rpow__", &pow);
  DefSymArith(cls, "__eq__", nullptr, &eq);
  DefSymArith(cls, "__ne__", nullptr, &ne);
  DefSymArith(cls, "__gt__", nullptr, &gt);
  DefSymArith(cls, "__ge__", nullptr, &ge);
  DefSymArith(cls, "__lt__", nullptr, &lt);
  DefSymArith(cls, "__le__", nullptr, &le);

  m.def(
      "var",
      [](const std::string& name, nb::handle attr, nb::handle shape, nb::handle lr_mult,
         nb::handle wd_mult, nb::handle dtype, nb::handle init, nb::handle stype,
         nb::handle kwargs) {
        sym::VariableOptions o;
        if (!shape.is_none()) o.shape = ShapeFrom(shape);
        if (!dtype.is_none()) o.dtype = ToDType(dtype);
        if (!lr_mult.is_none()) o.lr_mult = nb::cast<double>(lr_mult);
        if (!wd_mult.is_none()) o.wd_mult = nb::cast<double>(wd_mult);
        if (!init.is_none()) o.init = nb::cast<std::string>(init);
        if (!stype.is_none()) o.stype = nb::cast<std::string>(stype);
        for (nb::handle d : {attr, kwargs}) {
          if (d.is_none()) continue;
          for (auto [k, v] : nb::borrow<nb::dict>(d))
            o.attrs.emplace_back(nb::cast<std::string>(k), nb::cast<std::string>(nb::str(v)));
        }
        return Symbol::Variable(name, o);
      },
      nb::arg("name"), nb::arg("attr").none(), nb::arg("shape").none(), nb::arg("lr_mult").none(),
      nb::arg("wd_mult").none(), nb::arg("dtype").none(), nb::arg("init").none(),
      nb::arg("stype").none(), nb::arg("kwargs").none(),
      "A variable; `init` is an initializer's JSON.");
  m.def(
      "group",
      [](nb::handle symbols) {
        std::vector<Symbol> v;
        for (nb::handle h : nb::borrow<nb::sequence>(symbols))
          v.push_back(ToSymbol(h, "Group"));
        return Symbol::Group(v);
      },
      nb::arg("symbols"));
  m.def("load", &Symbol::Load, nb::arg("fname"), "Loads a symbol from a -symbol.json file.");
  m.def("load_json", &Symbol::FromJSON, nb::arg("json_str"),
        "Loads a symbol from MXNet JSON text.");
  m.def("create_op", &CreateOp, nb::arg("op"), nb::arg("input_names"), nb::arg("inputs"),
        nb::arg("attrs"), nb::arg("name").none(), nb::arg("attr").none(), nb::arg("kwargs").none(),
        "Composes op `op` on input symbols (mx.sym's op functions).");

  nb::class_<sym::NameScope>(m, "NameScope", "Automatic names' counters and prefix (mx.name).")
      .def(nb::init<std::string>(), nb::arg("prefix") = "");
  nb::class_<sym::AttrScope>(m, "AttrScope", "Attributes given to every node (mx.AttrScope).")
      .def("__init__", [](sym::AttrScope* self, nb::handle attrs) {
        op::AttrDict d;
        for (auto [k, v] : nb::borrow<nb::dict>(attrs))
          d.emplace_back(nb::cast<std::string>(k), nb::cast<std::string>(v));
        new (self) sym::AttrScope(std::move(d));
      });
}

}  // namespace
MIXNET_PY_BIND(50, BindSymbol);

}  // namespace mixnet::python
