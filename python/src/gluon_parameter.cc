// mx.gluon.Parameter, Constant and ParameterDict: the C++ gluon parameters with MXNet 1.x's
// Python names, and the argument conversions every gluon binding shares (gluon.h).
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "gluon.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/parameter.h"
#include "mixnet/initializer/create.h"
#include "mixnet/symbol/symbol.h"

namespace mixnet::python {

using autograd::GradReq;
using gluon::Parameter;
using gluon::ParameterDict;
using gluon::ParameterPtr;

init::InitializerPtr ToInitializer(nb::handle h, const char* what) {
  if (h.is_none()) return nullptr;
  std::shared_ptr<init::Initializer> bound;
  if (nb::try_cast(h, bound)) return bound;
  if (nb::isinstance<nb::str>(h)) return init::CreateInitializer(nb::cast<std::string>(h));
  // MXNet's Initializer API: dumps() gives '["xavier", {"magnitude": 2.24, ...}]'.
  MX_CHECK(nb::hasattr(h, "dumps"), TypeError)
      << what << ": expected an Initializer, a registered name such as 'xavier', or None; got "
      << nb::cast<std::string>(nb::str(h.type()));
  return init::InitializerFromJSON(nb::cast<std::string>(h.attr("dumps")()));
}

NDArray ToNDArray(nb::handle h) {
  NDArray* a = nullptr;
  if (nb::try_cast<NDArray*>(h, a) && a != nullptr) return *a;
  static nb::handle array =
      nb::object(nb::module_::import_("mixnet.ndarray").attr("array")).release();
  return nb::cast<NDArray>(array(h));
}

std::vector<Context> ToContexts(nb::handle h) {
  if (h.is_none()) return {};
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr())) {
    std::vector<Context> out;
    for (nb::handle c : nb::borrow<nb::sequence>(h))
      out.push_back(ToContext(c));
    return out;
  }
  return {ToContext(h)};
}

std::vector<int> ToInts(nb::handle h) {
  if (h.is_none()) return {};
  if (PyLong_Check(h.ptr())) return {nb::cast<int>(h)};
  std::vector<int> out;
  for (nb::handle v : nb::borrow<nb::sequence>(h))
    out.push_back(nb::cast<int>(v));
  return out;
}

std::optional<double> ToOptionalFloat(nb::handle h) {
  if (h.is_none()) return std::nullopt;
  return nb::cast<double>(h);
}

const char* GradReqName(autograd::GradReq req) {
  switch (req) {
    case GradReq::kNull:
      return "null";
    case GradReq::kAdd:
      return "add";
    case GradReq::kWrite:
      break;
  }
  return "write";
}

gluon::BlockArgs ToBlockArgs(nb::handle prefix, nb::handle params) {
  gluon::BlockArgs args;
  if (!prefix.is_none()) args.prefix = nb::cast<std::string>(prefix);
  if (!params.is_none()) args.params = nb::cast<const ParameterDict&>(params);
  return args;
}

namespace {

Shape ToParamShape(nb::handle h) {
  if (h.is_none()) return Shape();
  std::vector<int64_t> dims;
  if (PyLong_Check(h.ptr())) {
    dims.push_back(nb::cast<int64_t>(h));
  } else {
    for (nb::handle d : nb::borrow<nb::sequence>(h))
      dims.push_back(d.is_none() ? 0 : nb::cast<int64_t>(d));  // None: unknown, as 0
  }
  return Shape(std::span<const int64_t>(dims));
}

// A parameter's shape as given: unlike ShapeToTuple (bind.h), negative dims stay as they are.
nb::tuple ParamShapeTuple(const Shape& s) {
  nb::list l;
  for (int i = 0; i < s.ndim(); ++i)
    l.append(s[i]);
  return nb::tuple(l);
}

/*! \brief Parameter(name, grad_req, shape, dtype, lr_mult, wd_mult, init, ...) keywords. */
gluon::ParameterOptions ToOptions(nb::handle grad_req, nb::handle dtype, double lr_mult,
                                  double wd_mult, nb::handle init, bool allow_deferred_init,
                                  bool differentiable) {
  gluon::ParameterOptions o;
  o.grad_req = autograd::GradReqFromString(nb::cast<std::string>(grad_req));
  o.dtype = ToDType(dtype);
  o.lr_mult = lr_mult;
  o.wd_mult = wd_mult;
  o.init = ToInitializer(init, "Parameter: init");
  o.allow_deferred_init = allow_deferred_init;
  o.differentiable = differentiable;
  return o;
}

/*! \brief MXNet's data(ctx=None): the only context, else the current one. */
Context ParamContext(const Parameter& p, nb::handle ctx) {
  if (!ctx.is_none()) return ToContext(ctx);
  const std::vector<Context> ctxs = p.list_ctx();
  return ctxs.size() == 1 ? ctxs[0] : DefaultContext();
}

nb::list ParamItems(const ParameterDict& d) {
  nb::list l;
  for (const auto& [n, p] : d)
    l.append(nb::make_tuple(n, p));
  return l;
}

void BindParameters(nb::module_& m) {
  nb::class_<Parameter>(m, "Parameter",
                        "A Container holding parameters (weights) of Blocks (gluon.Parameter): "
                        "one array and one gradient per context.")
      .def(
          "__init__",
          [](Parameter* self, const std::string& name, nb::handle grad_req, nb::handle shape,
             nb::handle dtype, double lr_mult, double wd_mult, nb::handle init,
             bool allow_deferred_init, bool differentiable) {
            new (self) Parameter(name, ToParamShape(shape),
                                 ToOptions(grad_req, dtype, lr_mult, wd_mult, init,
                                           allow_deferred_init, differentiable));
          },
          nb::arg("name"), nb::arg("grad_req") = "write", nb::arg("shape").none() = nb::none(),
          nb::arg("dtype").none() = "float32", nb::arg("lr_mult") = 1.0, nb::arg("wd_mult") = 1.0,
          nb::arg("init").none() = nb::none(), nb::arg("allow_deferred_init") = false,
          nb::arg("differentiable") = true)
      .def_prop_ro("name", &Parameter::name)
      .def_prop_rw(
          "shape",
          [](const Parameter& p) -> nb::object {
            if (p.shape().ndim() == 0 && !p.initialized()) return nb::none();
            return ParamShapeTuple(p.shape());
          },
          [](Parameter& p, nb::handle s) { p.SetShape(ToParamShape(s)); })
      .def_prop_rw(
          "dtype", [](const Parameter& p) { return DTypeToNumpy(p.dtype()); },
          [](Parameter& p, nb::handle t) { p.Cast(ToDType(t)); })
      .def_prop_rw(
          "grad_req", [](const Parameter& p) { return GradReqName(p.grad_req()); },
          [](Parameter& p, const std::string& r) { p.SetGradReq(autograd::GradReqFromString(r)); })
      .def_rw("lr_mult", &Parameter::lr_mult)
      .def_rw("wd_mult", &Parameter::wd_mult)
      .def_prop_ro("init",
                   [](const Parameter& p) -> nb::object {
                     if (!p.init()) return nb::none();
                     try {  // an mx.init.Initializer once that class is bound, else its name
                       return nb::cast(std::const_pointer_cast<init::Initializer>(p.init()));
                     } catch (const nb::cast_error&) {
                       return nb::str(p.init()->ToString().c_str());
                     }
                   })
      .def(
          "initialize",
          [](Parameter& p, nb::handle init, nb::handle ctx, nb::handle default_init,
             bool force_reinit) {
            p.Initialize(ToInitializer(init), ToContexts(ctx), ToInitializer(default_init),
                         force_reinit);
          },
          nb::arg("init").none() = nb::none(), nb::arg("ctx").none() = nb::none(),
          nb::arg("default_init").none() = nb::none(), nb::arg("force_reinit") = false,
          "Initializes the data (and gradient) arrays; deferred until the shape is known.")
      .def(
          "data", [](const Parameter& p, nb::handle ctx) { return p.data(ParamContext(p, ctx)); },
          nb::arg("ctx").none() = nb::none(), "The data array on ctx.")
      .def("list_data", &Parameter::list_data)
      .def(
          "grad", [](const Parameter& p, nb::handle ctx) { return p.grad(ParamContext(p, ctx)); },
          nb::arg("ctx").none() = nb::none(), "The gradient array on ctx.")
      .def("list_grad", &Parameter::list_grad)
      .def("list_ctx", &Parameter::list_ctx)
      .def(
          "set_data", [](Parameter& p, nb::handle data) { p.SetData(ToNDArray(data)); },
          nb::arg("data"), "Sets this parameter's value on all contexts.")
      .def("zero_grad", &Parameter::ZeroGrad)
      .def(
          "reset_ctx", [](Parameter& p, nb::handle ctx) { p.ResetCtx(ToContexts(ctx)); },
          nb::arg("ctx"))
      .def(
          "cast", [](Parameter& p, nb::handle dtype) { p.Cast(ToDType(dtype)); }, nb::arg("dtype"))
      .def("var", &Parameter::var, "The symbol variable for this parameter (mx.sym).")
      .def_prop_ro("_deferred", &Parameter::deferred)
      .def_prop_ro("_initialized", &Parameter::initialized)
      .def("_finish_deferred_init", &Parameter::FinishDeferredInit)
      .def("__repr__", &Parameter::Repr)
      .def("__eq__",
           [](const Parameter& a, nb::handle b) {
             Parameter* other = nullptr;
             return nb::try_cast<Parameter*>(b, other) && other == &a;
           })
      .def("__hash__", [](const Parameter& p) { return reinterpret_cast<intptr_t>(&p); });

  nb::class_<gluon::Constant, Parameter>(
      m, "GluonConstant", "A constant parameter: no gradient, never changed by a trainer.")
      .def(
          "__init__",
          [](gluon::Constant* self, const std::string& name, nb::handle value) {
            new (self) gluon::Constant(name, ToNDArray(value));
          },
          nb::arg("name"), nb::arg("value"))
      .def_prop_ro("value", &gluon::Constant::value);

  nb::class_<ParameterDict>(m, "ParameterDict",
                            "A dictionary managing a set of parameters by full name "
                            "(gluon.ParameterDict).")
      .def(
          "__init__",
          [](ParameterDict* self, const std::string& prefix, const ParameterDict* shared) {
            new (self) ParameterDict(
                prefix, shared ? std::make_shared<const ParameterDict>(*shared) : nullptr);
          },
          nb::arg("prefix") = "", nb::arg("shared").none() = nb::none())
      .def_prop_ro("prefix", &ParameterDict::prefix)
      .def(
          "get",
          [](ParameterDict& d, const std::string& name, nb::handle shape, nb::handle grad_req,
             nb::handle dtype, double lr_mult, double wd_mult, nb::handle init,
             bool allow_deferred_init, bool differentiable) {
            return d.Get(name, ToParamShape(shape),
                         ToOptions(grad_req, dtype, lr_mult, wd_mult, init, allow_deferred_init,
                                   differentiable));
          },
          nb::arg("name"), nb::arg("shape").none() = nb::none(), nb::arg("grad_req") = "write",
          nb::arg("dtype").none() = "float32", nb::arg("lr_mult") = 1.0, nb::arg("wd_mult") = 1.0,
          nb::arg("init").none() = nb::none(), nb::arg("allow_deferred_init") = true,
          nb::arg("differentiable") = true,
          "The parameter prefix + name, created with these attributes if missing.")
      .def(
          "get_constant",
          [](ParameterDict& d, const std::string& name, nb::handle value) {
            return d.GetConstant(name, ToNDArray(value));
          },
          nb::arg("name"), nb::arg("value"),
          "The constant prefix + name holding value, created if missing.")
      .def("_add", &ParameterDict::Add)
      .def("update", &ParameterDict::Update, nb::arg("other"))
      .def(
          "initialize",
          [](ParameterDict& d, nb::handle init, nb::handle ctx, bool verbose, bool force_reinit) {
            d.Initialize(ToInitializer(init), ToContexts(ctx), verbose, force_reinit);
          },
          nb::arg("init").none() = nb::none(), nb::arg("ctx").none() = nb::none(),
          nb::arg("verbose") = false, nb::arg("force_reinit") = false)
      .def("zero_grad", &ParameterDict::ZeroGrad)
      .def(
          "reset_ctx", [](ParameterDict& d, nb::handle ctx) { d.ResetCtx(ToContexts(ctx)); },
          nb::arg("ctx"))
      .def("save", &ParameterDict::Save, nb::arg("filename"), nb::arg("strip_prefix") = "")
      .def(
          "load",
          [](ParameterDict& d, const std::string& filename, nb::handle ctx, bool allow_missing,
             bool ignore_extra, const std::string& restore_prefix, bool cast_dtype,
             const std::string& /*dtype_source: the parameters' dtypes are kept*/) {
            d.Load(filename, ToContexts(ctx), allow_missing, ignore_extra, restore_prefix,
                   cast_dtype);
          },
          nb::arg("filename"), nb::arg("ctx").none() = nb::none(), nb::arg("allow_missing") = false,
          nb::arg("ignore_extra") = false, nb::arg("restore_prefix") = "",
          nb::arg("cast_dtype") = false, nb::arg("dtype_source") = "current")
      .def("_select", &ParameterDict::Select)
      .def("items", &ParamItems)
      .def("keys",
           [](const ParameterDict& d) {
             nb::list l;
             for (const auto& [n, p] : d)
               l.append(n);
             return l;
           })
      .def("values",
           [](const ParameterDict& d) {
             nb::list l;
             for (const auto& [n, p] : d)
               l.append(p);
             return l;
           })
      .def("__getitem__", &ParameterDict::at, nb::arg("key"))
      .def("__contains__",
           [](const ParameterDict& d, const std::string& k) { return d.Find(k) != nullptr; })
      .def("__len__", &ParameterDict::size)
      .def("__iter__",
           [](const ParameterDict& d) {
             nb::list l;
             for (const auto& [n, p] : d)
               l.append(n);
             return l.attr("__iter__")();
           })
      .def("__repr__", [](const ParameterDict& d) {
        std::string s = d.prefix().empty() ? "(\n" : d.prefix() + " (\n";
        for (const auto& [n, p] : d)
          s += "  " + p->Repr() + "\n";
        return s + ")";
      });
}

}  // namespace
MIXNET_PY_BIND(80, BindParameters);

}  // namespace mixnet::python
