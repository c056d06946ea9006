// mx.gluon.Block, HybridBlock and SymbolBlock: the C++ blocks, subclassable from Python.
//
// NOTE [ Python blocks ]
// A Python subclass of Block or HybridBlock is a C++ block whose Forward / HybridForward is a
// nanobind trampoline (PyBlock, PyHybrid below) calling the Python forward / hybrid_forward.
// Everything else stays in C++: naming (the alias is the lowercased class name), children and
// parameters (registered by mixnet/gluon/block.py's __setattr__), hybridization, export,
// checkpoints. hybrid_forward gets F = mx.nd and this block's registered parameters, as
// keyword arguments, on the input's context: mixnet traces NDArray calls when hybridized
// (NOTE [ Hybridize ] in src/gluon/hybrid_block.cc), where MXNet passed F = mx.sym instead.
// A C++ container holds a Python block through nanobind's shared_ptr, whose deleter owns a
// reference to the Python object, so the Python object (its __dict__ and methods) lives as
// long as any C++ owner.
//
// Calls: __call__ flattens nested arguments (lists of arrays, None) into the C++ block's
// array list and remembers the structure; the trampoline rebuilds it for the Python forward
// and remembers the structure of what forward returned, so that __call__ gives it back as
// MXNet does (a tuple, a nested list), also when a hybridized block replays its graph.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gluon.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/block.h"
#include "mixnet/gluon/loss.h"

namespace mixnet::python {

using gluon::Block;
using gluon::BlockPtr;
using gluon::HybridBlock;
using gluon::ParameterPtr;

nb::object FlattenArrays(nb::handle value, std::vector<NDArray>* flat, bool* has_constants) {
  NDArray* a = nullptr;
  if (value.is_none() || (nb::try_cast<NDArray*>(value, a) && a != nullptr)) {
    flat->push_back(a != nullptr ? *a : NDArray());
    return nb::int_(flat->size() - 1);
  }
  const bool is_list = PyList_Check(value.ptr());
  if (is_list || PyTuple_Check(value.ptr())) {
    nb::list fmt;
    for (nb::handle item : nb::borrow<nb::sequence>(value))
      fmt.append(FlattenArrays(item, flat, has_constants));
    return is_list ? nb::object(fmt) : nb::object(nb::tuple(fmt));
  }
  *has_constants = true;
  return nb::make_tuple("__const__", value);
}

nb::object Regroup(const std::vector<NDArray>& flat, nb::handle format) {
  if (PyLong_Check(format.ptr())) {
    const NDArray& a = flat.at(nb::cast<size_t>(format));
    return a.is_none() ? nb::none() : nb::cast(a);
  }
  nb::sequence seq = nb::borrow<nb::sequence>(format);
  if (PyTuple_Check(format.ptr()) && nb::len(seq) == 2 && nb::isinstance<nb::str>(seq[0]) &&
      nb::cast<std::string>(seq[0]) == "__const__")
    return seq[1];
  nb::list out;
  for (nb::handle f : seq)
    out.append(Regroup(flat, f));
  return PyList_Check(format.ptr()) ? nb::object(out) : nb::object(nb::tuple(out));
}

nb::object OutputsToPython(std::vector<NDArray> outputs) {
  if (outputs.size() == 1)
    return outputs[0].is_none() ? nb::none() : nb::cast(std::move(outputs[0]));
  nb::list l;
  for (NDArray& a : outputs)
    l.append(a.is_none() ? nb::none() : nb::cast(std::move(a)));
  return nb::tuple(l);
}

nb::object BlockToPython(Block& block) {
  nb::object found = nb::find(&block);
  if (found.is_valid()) return found;
  return nb::cast(block.shared_from_this());
}

namespace {

/*! \brief The Python class name of `self` ("Net"). */
std::string ClassNameOf(nb::handle self) {
  return nb::cast<std::string>(self.type().attr("__name__"));
}

/*! \brief What a Python block carries between __call__ and its trampoline (NOTE above). */
struct PyBlockState {
  virtual ~PyBlockState() = default;
  nb::object in_format;   // the structure of the current __call__'s arguments, if any
  nb::object out_format;  // the structure of what the Python forward returned
};

/*! \brief The Python forward's arguments: the call's structure, or one per array. */
nb::list ForwardArgs(const std::vector<NDArray>& inputs, const PyBlockState& st) {
  if (st.in_format.is_valid() && nb::len(st.in_format) > 0) {
    nb::object args = Regroup(inputs, st.in_format);
    return nb::list(args);
  }
  nb::list args;
  for (const NDArray& x : inputs)
    args.append(x.is_none() ? nb::none() : nb::cast(x));
  return args;
}

std::vector<NDArray> TakeOutputs(const Block& b, nb::handle result, PyBlockState* st) {
  std::vector<NDArray> flat;
  bool constants = false;
  nb::object fmt = FlattenArrays(result, &flat, &constants);
  MX_CHECK(!constants, TypeError) << "Block '" << b.name()
                                  << "': forward must return NDArrays (or lists/tuples of "
                                     "them), got "
                                  << nb::cast<std::string>(nb::repr(result));
  st->out_format = fmt;
  return flat;
}

/*! \brief MXNet's Block.__repr__ for a Python block: "Net(\n  (fc1): Dense(...)\n)". */
std::string PythonRepr(const Block& b) {
  std::string s = b.ClassName() + "(\n";
  bool first = true;
  for (const auto& [n, c] : b.children()) {
    std::string r = c->Repr();
    for (size_t pos = r.find('\n'); pos != std::string::npos; pos = r.find('\n', pos + 1))
      r.insert(pos + 1, "  ");
    s += (first ? "" : "\n") + std::string("  (") + n + "): " + r;
    first = false;
  }
  return s + "\n)";
}

uint64_t Hash(const char* s) {
  return nb::detail::str_hash(s);
}

/*! \brief A Python block's repr: its class's own __repr__ if it defines one, else MXNet's. */
std::string TrampolineRepr(const nb::detail::trampoline& tr, const Block& b) {
  nb::gil_scoped_acquire gil;
  nb::detail::ticket t(tr, "__repr__", Hash("__repr__"), false);
  if (t.key.is_valid()) return nb::cast<std::string>(tr.base().attr(t.key)());
  return PythonRepr(b);
}

std::string TrampolineClassName(const nb::detail::trampoline& tr) {
  nb::gil_scoped_acquire gil;
  return ClassNameOf(tr.base());
}

/*! \brief A Python subclass of Block: Forward calls its forward. */
class PyBlock : public Block, public PyBlockState {
 public:
  NB_TRAMPOLINE(Block);

  std::vector<NDArray> Forward(const std::vector<NDArray>& inputs) override {
    nb::gil_scoped_acquire gil;
    nb::detail::ticket t(nb_trampoline, "forward", Hash("forward"), true);
    nb::list args = ForwardArgs(inputs, *this);
    nb::object r = nb_trampoline.base().attr(t.key)(*args);
    return TakeOutputs(*this, r, this);
  }
  std::string Repr() const override { return TrampolineRepr(nb_trampoline, *this); }
  std::string ClassName() const override { return TrampolineClassName(nb_trampoline); }
};

/*!
 * \brief A Python subclass of HybridBlock (or of a C++ HybridBlock base such as loss.Loss):
 * HybridForward calls hybrid_forward(F, *inputs, **params), or forward(*inputs) when the
 * class defines that instead (it is traced all the same).
 */
template <typename Base>
class PyHybrid : public Base, public PyBlockState {
 public:
  NB_TRAMPOLINE(Base);

  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override {
    nb::gil_scoped_acquire gil;
    nb::list args = ForwardArgs(inputs, *this);
    {
      nb::detail::ticket t(nb_trampoline, "hybrid_forward", Hash("hybrid_forward"), false);
      if (t.key.is_valid()) {
        static nb::handle F = nb::module_::import_("mixnet.ndarray").release();
        Context ctx = DefaultContext();
        for (const NDArray& x : inputs) {
          if (!x.is_none()) {
            ctx = x.ctx();
            break;
          }
        }
        nb::dict kwargs;
        for (const auto& [n, p] : this->reg_params())
          kwargs[n.c_str()] = p->data(ctx);
        nb::list full;
        full.append(F);
        full.extend(args);
        nb::object r = nb_trampoline.base().attr(t.key)(*full, **kwargs);
        return TakeOutputs(*this, r, this);
      }
    }
    nb::detail::ticket f(nb_trampoline, "forward", Hash("forward"), false);
    MX_CHECK(f.key.is_valid(), NotImplementedError)
        << "HybridBlock '" << this->name() << "' (" << ClassNameOf(nb_trampoline.base())
        << "): define hybrid_forward(self, F, x, ...) or forward(self, x, ...)";
    nb::object r = nb_trampoline.base().attr(f.key)(*args);
    return TakeOutputs(*this, r, this);
  }

  void InferShape(const std::vector<NDArray>& inputs) override {
    nb::gil_scoped_acquire gil;
    nb::detail::ticket t(nb_trampoline, "infer_shape", Hash("infer_shape"), false);
    if (!t.key.is_valid()) return Base::InferShape(inputs);
    nb::list args = ForwardArgs(inputs, *this);
    nb_trampoline.base().attr(t.key)(*args);
  }

  std::string Repr() const override { return TrampolineRepr(nb_trampoline, *this); }
  std::string ClassName() const override { return TrampolineClassName(nb_trampoline); }
};

/*! \brief Reaches Block::SetRegisteredParams (protected) for __setattr__ of a Parameter. */
struct BlockAccess : Block {
  using Block::SetRegisteredParams;
};

void RegisterParam(Block& b, const std::string& name, const ParameterPtr& p) {
  std::vector<std::pair<std::string, ParameterPtr>> reg = b.reg_params();
  bool replaced = false;
  for (auto& [n, q] : reg) {
    if (n == name) {
      q = p;
      replaced = true;
    }
  }
  if (!replaced) reg.emplace_back(name, p);
  (b.*(&BlockAccess::SetRegisteredParams))(std::move(reg));
  if (b.params().Find(p->name()) == nullptr) b.params().Add(p);
}

/*! \brief A Python reference that C++ may drop without the GIL (a hook kept by a block). */
std::shared_ptr<PyObject> HoldPython(nb::handle h) {
  return std::shared_ptr<PyObject>(h.inc_ref().ptr(), [](PyObject* o) {
    if (!Py_IsInitialized()) return;
    nb::gil_scoped_acquire gil;
    Py_DECREF(o);
  });
}

nb::tuple ArraysToTuple(const std::vector<NDArray>& v) {
  nb::list l;
  for (const NDArray& a : v)
    l.append(a.is_none() ? nb::none() : nb::cast(a));
  return nb::tuple(l);
}

/*! \brief The arrays of a call's (nested) arguments. */
std::vector<NDArray> ArgArrays(nb::handle args) {
  std::vector<NDArray> flat;
  bool constants = false;
  FlattenArrays(args, &flat, &constants);
  MX_CHECK(!constants, TypeError) << "expected NDArrays (or lists of them), got "
                                  << nb::cast<std::string>(nb::repr(args));
  return flat;
}

/*! \brief block(*args): see NOTE [ Python blocks ]. */
nb::object CallBlock(Block& b, nb::args args, nb::kwargs kwargs) {
  MX_CHECK(nb::len(kwargs) == 0, TypeError)
      << "Block '" << b.name() << "': call it with positional arguments only";
  std::vector<NDArray> flat;
  bool constants = false;
  nb::object fmt = FlattenArrays(args, &flat, &constants);
  auto* st = dynamic_cast<PyBlockState*>(&b);
  MX_CHECK(st != nullptr || !constants, TypeError)
      << "Block '" << b.name() << "': inputs must be NDArrays (or lists of them), got "
      << nb::cast<std::string>(nb::repr(args));
  // The forward keeps the GIL: it may call Python objects that do not take it themselves
  // (an mx.init initializer defined in Python, on deferred initialisation).
  auto run = [&] { return b(flat); };
  std::vector<NDArray> out;
  if (st == nullptr) return OutputsToPython(run());
  nb::object saved = std::exchange(st->in_format, fmt);
  try {
    out = run();
  } catch (...) {
    st->in_format = std::move(saved);
    throw;
  }
  st->in_format = std::move(saved);
  if (st->out_format.is_valid()) return Regroup(out, st->out_format);
  return OutputsToPython(std::move(out));
}

/*! \brief `with block.name_scope():` */
struct NameScope {
  nb::object block;
  std::unique_ptr<gluon::BlockScope> scope;
};

/*! \brief Constructs trampoline `T` in a Python subclass instance of its base `Base`. */
template <typename T, typename Base>
void InitPython(nb::pointer_and_handle<Base> self, nb::handle prefix, nb::handle params) {
  std::string alias = ClassNameOf(self.h);
  for (char& c : alias)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  new (static_cast<void*>(self.p)) T(alias, ToBlockArgs(prefix, params));
}

void BindBlocks(nb::module_& m) {
  // NOTE [ Leak warnings at exit ]: a C++ container's reference to a Python block is invisible
  // to Python's garbage collector. A module-level container holding one forms a cycle the
  // collector cannot see (container -> block -> its class -> the module's globals ->
  // container), so at exit that module's objects are left to the OS and nanobind would list
  // them as leaked. During a run, dropping the last Python reference releases such a
  // container and its blocks at once (tests/python/test_gluon.py checks it).
  nb::set_leak_warnings(false);
  m.def(
      "_block_ready", [](nb::handle h) { return nb::inst_ready(h); },
      "Whether a block's C++ part is constructed (Block.__init__ ran).");
  m.def("_reset_block_names", &gluon::ResetBlockNames,
        "Restarts this thread's top-level block counters (dense0, dense1, ...); for tests.");
  nb::class_<NameScope>(m, "_BlockScope")
      .def("__enter__",
           [](NameScope& s) {
             s.scope = std::make_unique<gluon::BlockScope>(nb::cast<Block*>(s.block));
           })
      .def("__exit__", [](NameScope& s, nb::args) { s.scope.reset(); });

  nb::class_<Block, PyBlock>(m, "Block",
                             "Base class for all neural network layers and models "
                             "(gluon.Block). Subclasses define forward(self, x, ...).")
      .def(
          "__init__",
          [](nb::pointer_and_handle<Block> self, nb::handle prefix, nb::handle params) {
            InitPython<PyBlock>(self, prefix, params);
          },
          nb::arg("prefix").none() = nb::none(), nb::arg("params").none() = nb::none())
      .def_prop_ro("prefix", &Block::prefix, "Prefix of this block ('dense0_').")
      .def_prop_ro("name", &Block::name, "Name of this block, without the '_' in the end.")
      .def_prop_ro("_alias", &Block::alias)
      .def_prop_ro(
          "params", [](Block& b) -> gluon::ParameterDict& { return b.params(); },
          nb::rv_policy::reference_internal, "This block's own ParameterDict (not its children's).")
      .def(
          "name_scope",
          [](nb::handle self) {
            return NameScope{nb::borrow(self), nullptr};
          },
          "Returns a name space object managing a child Block and parameter names; use it in "
          "a with statement.")
      .def(
          "collect_params",
          [](const Block& b, nb::handle select) {
            return b.CollectParams(select.is_none() ? "" : nb::cast<std::string>(select));
          },
          nb::arg("select").none() = nb::none(),
          "A ParameterDict of this block's and its children's parameters; select is a regular "
          "expression on their names.")
      .def("_collect_params_with_prefix", &Block::CollectParamsWithPrefix, nb::arg("prefix") = "")
      .def(
          "register_child",
          [](Block& b, BlockPtr block, nb::handle name) {
            b.RegisterChild(std::move(block), name.is_none() ? "" : nb::cast<std::string>(name));
          },
          nb::arg("block"), nb::arg("name").none() = nb::none())
      .def("_register_param", &RegisterParam)
      .def_prop_ro("_children",
                   [](const Block& b) {
                     nb::dict d;
                     for (const auto& [n, c] : b.children())
                       d[n.c_str()] = BlockToPython(*c);
                     return d;
                   })
      .def_prop_ro("_reg_params",
                   [](const Block& b) {
                     nb::dict d;
                     for (const auto& [n, p] : b.reg_params())
                       d[n.c_str()] = p;
                     return d;
                   })
      .def(
          "initialize",
          [](Block& b, nb::handle init, nb::handle ctx, bool verbose, bool force_reinit) {
            b.Initialize(ToInitializer(init), ToContexts(ctx), verbose, force_reinit);
          },
          nb::arg("init").none() = nb::none(), nb::arg("ctx").none() = nb::none(),
          nb::arg("verbose") = false, nb::arg("force_reinit") = false,
          "Initializes the parameters of this block and its children (default init: "
          "Uniform).")
      .def(
          "hybridize",
          [](Block& b, bool active, bool static_alloc, bool static_shape, nb::kwargs) {
            b.Hybridize(active, gluon::HybridizeOptions{static_alloc, static_shape});
          },
          nb::arg("active") = true, nb::arg("static_alloc") = false,
          nb::arg("static_shape") = false, nb::arg("kwargs"),
          "Activates or deactivates HybridBlocks recursively (static_alloc and static_shape "
          "are accepted: mixnet always keeps one bound graph per input signature).")
      .def(
          "cast", [](Block& b, nb::handle dtype) { b.Cast(ToDType(dtype)); }, nb::arg("dtype"),
          "Casts this block's parameters to dtype.")
      .def(
          "apply",
          [](nb::handle self, nb::handle fn) {
            nb::cast<Block&>(self).Apply([&](Block& x) { fn(BlockToPython(x)); });
            return nb::borrow(self);
          },
          nb::arg("fn"), "Applies fn recursively to every child block and self; returns self.")
      .def("zero_grad", &Block::ZeroGrad, "Sets all parameters' gradients to zero.")
      .def(
          "save_parameters",
          [](const Block& b, const std::string& filename, bool deduplicate) {
            nb::gil_scoped_release release;
            b.SaveParameters(filename, deduplicate);
          },
          nb::arg("filename"), nb::arg("deduplicate") = false,
          "Saves parameters under structural names ('features.0.weight').")
      .def(
          "load_parameters",
          [](Block& b, const std::string& filename, nb::handle ctx, bool allow_missing,
             bool ignore_extra, bool cast_dtype, const std::string&) {
            b.LoadParameters(filename, ToContexts(ctx), allow_missing, ignore_extra, cast_dtype);
          },
          nb::arg("filename"), nb::arg("ctx").none() = nb::none(), nb::arg("allow_missing") = false,
          nb::arg("ignore_extra") = false, nb::arg("cast_dtype") = false,
          nb::arg("dtype_source") = "current",
          "Loads parameters saved by save_parameters (or MXNet's save_params).")
      .def("__call__", &CallBlock, "Calls forward (with the hooks).")
      .def(
          "forward",
          [](Block& b, nb::args args) { return OutputsToPython(b.Forward(ArgArrays(args))); },
          "Runs this block's computation (without the hooks).")
      .def("_register_forward_hook",
           [](Block& b, nb::handle hook) {
             auto h = HoldPython(hook);
             return b.RegisterForwardHook(
                 [h](Block& blk, const std::vector<NDArray>& in, const std::vector<NDArray>& out) {
                   nb::gil_scoped_acquire gil;
                   nb::handle(h.get())(BlockToPython(blk), ArraysToTuple(in), OutputsToPython(out));
                 });
           })
      .def("_register_forward_pre_hook",
           [](Block& b, nb::handle hook) {
             auto h = HoldPython(hook);
             return b.RegisterForwardPreHook([h](Block& blk, const std::vector<NDArray>& in) {
               nb::gil_scoped_acquire gil;
               nb::handle(h.get())(BlockToPython(blk), ArraysToTuple(in));
             });
           })
      .def("_remove_hook", &Block::RemoveHook)
      .def(
          "_summary", [](Block& b, nb::args inputs) { return b.Summary(ArgArrays(inputs)); },
          "MXNet's summary table for these inputs.")
      .def("__repr__", &Block::Repr);

  nb::class_<HybridBlock, Block, PyHybrid<HybridBlock>>(
      m, "HybridBlock",
      "A Block that can be hybridized: traced into a graph and replayed (gluon.HybridBlock). "
      "Subclasses define hybrid_forward(self, F, x, *args, **params); F is mx.nd.")
      .def(
          "__init__",
          [](nb::pointer_and_handle<HybridBlock> self, nb::handle prefix, nb::handle params) {
            InitPython<PyHybrid<HybridBlock>>(self, prefix, params);
          },
          nb::arg("prefix").none() = nb::none(), nb::arg("params").none() = nb::none())
      .def(
          "hybrid_forward",
          [](HybridBlock& b, nb::args, nb::kwargs) {
            MX_THROW(NotImplementedError)
                << "HybridBlock '" << b.name() << "': hybrid_forward is not defined";
          },
          "Overridden by subclasses: hybrid_forward(self, F, x, *args, **params).")
      .def_prop_ro("_active", &HybridBlock::hybridized)
      .def_prop_ro("_num_traces", &HybridBlock::num_traces)
      .def(
          "export",
          [](const HybridBlock& b, const std::string& path, int epoch, bool) {
            auto files = b.Export(path, epoch);
            return nb::make_tuple(files.first, files.second);
          },
          nb::arg("path"), nb::arg("epoch") = 0, nb::arg("remove_amp_cast") = true,
          "Writes path-symbol.json and path-%04d.params (epoch) from the last call's graph; "
          "hybridize and call the block first.")
      .def(
          "infer_shape", [](HybridBlock& b, nb::args args) { b.InferShape(ArgArrays(args)); },
          "Infers the shapes of this block's own parameters from the inputs.");

  nb::class_<gluon::SymbolBlock, HybridBlock>(
      m, "SymbolBlock",
      "Constructs a block from a symbol graph (gluon.SymbolBlock): variables named in inputs "
      "are the block's inputs, the others its parameters.")
      .def(
          "__init__",
          [](gluon::SymbolBlock* self, nb::handle outputs, nb::handle inputs, nb::handle params) {
            sym::Symbol out;
            if (PyList_Check(outputs.ptr()) || PyTuple_Check(outputs.ptr())) {
              std::vector<sym::Symbol> syms;
              for (nb::handle s : nb::borrow<nb::sequence>(outputs))
                syms.push_back(nb::cast<sym::Symbol>(s));
              out = sym::Symbol::Group(syms);
            } else {
              out = nb::cast<sym::Symbol>(outputs);
            }
            std::vector<std::string> names;
            auto add = [&](nb::handle s) {
              names.push_back(nb::isinstance<nb::str>(s) ? nb::cast<std::string>(s)
                                                         : nb::cast<sym::Symbol>(s).name());
            };
            if (PyList_Check(inputs.ptr()) || PyTuple_Check(inputs.ptr())) {
              for (nb::handle s : nb::borrow<nb::sequence>(inputs))
                add(s);
            } else {
              add(inputs);
            }
            gluon::BlockArgs args;
            if (!params.is_none()) args.params = nb::cast<const gluon::ParameterDict&>(params);
            new (self) gluon::SymbolBlock(std::move(out), std::move(names), std::move(args));
          },
          nb::arg("outputs"), nb::arg("inputs"), nb::arg("params").none() = nb::none())
      .def_static(
          "imports",
          [](const std::string& symbol_file, nb::handle input_names, nb::handle param_file,
             nb::handle ctx) {
            std::vector<std::string> names;
            if (nb::isinstance<nb::str>(input_names)) {
              names.push_back(nb::cast<std::string>(input_names));
            } else {
              for (nb::handle n : nb::borrow<nb::sequence>(input_names))
                names.push_back(nb::cast<std::string>(n));
            }
            return gluon::SymbolBlock::Imports(
                symbol_file, names, param_file.is_none() ? "" : nb::cast<std::string>(param_file),
                ToContexts(ctx));
          },
          nb::arg("symbol_file"), nb::arg("input_names"), nb::arg("param_file").none() = nb::none(),
          nb::arg("ctx").none() = nb::none(),
          "Imports a model exported by HybridBlock.export (or MXNet): symbol JSON and params.");

  // gluon.loss.Loss, subclassable the same way (custom losses define hybrid_forward).
  nb::class_<gluon::loss::Loss, HybridBlock, PyHybrid<gluon::loss::Loss>>(
      m, "GluonLoss", "Base class for losses (gluon.loss.Loss).")
      .def(
          "__init__",
          [](nb::pointer_and_handle<gluon::loss::Loss> self, nb::handle weight, int batch_axis,
             nb::handle prefix, nb::handle params) {
            gluon::loss::LossOptions o;
            static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
            o.weight = ToOptionalFloat(weight);
            o.batch_axis = batch_axis;
            new (static_cast<void*>(self.p)) PyHybrid<gluon::loss::Loss>(ClassNameOf(self.h), o);
          },
          nb::arg("weight").none(), nb::arg("batch_axis"), nb::arg("prefix").none() = nb::none(),
          nb::arg("params").none() = nb::none())
      .def_prop_ro("_weight",
                   [](const gluon::loss::Loss& l) -> nb::object {
                     if (!l.weight()) return nb::none();
                     return nb::float_(*l.weight());
                   })
      .def_prop_ro("_batch_axis", &gluon::loss::Loss::batch_axis);
}

}  // namespace
MIXNET_PY_BIND(81, BindBlocks);

}  // namespace mixnet::python
