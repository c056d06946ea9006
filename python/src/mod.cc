// mx.mod.Module: the C++ mod::Module (binding, parameters, optimizer, the fit loop, scoring,
// prediction, checkpoints); mixnet/module/module.py normalizes MXNet's argument forms.
//
// NOTE [ Python objects in Module.fit ]
// fit runs in C++ with the GIL released. Everything it calls back into Python takes the GIL
// first: callbacks, a Python data iterator (AsDataIter), the logger; a check for Ctrl-C runs
// after every batch. Initializers, optimizers and metrics are C++ objects: given by name
// ('xavier', 'sgd', 'acc'), by an initializer's JSON (MXNet's dumps()), or as the C++ objects
// that mx.init / mx.optimizer / mx.metric bind (shared with the caller while the module uses
// them).
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "graph.h"
#include "kvstore.h"
#include "mixnet/base/error.h"
#include "mixnet/initializer/create.h"
#include "mixnet/module/module.h"

namespace mixnet::python {

namespace {

using mod::Module;
using mod::ParamDict;

/*! \brief A Python object released with the GIL held (for C++ callbacks that outlive a call). */
struct GilObject {
  nb::object obj;
  explicit GilObject(nb::object o) : obj(std::move(o)) {}
  ~GilObject() {
    nb::gil_scoped_acquire acquire;
    obj.reset();
  }
};

std::optional<ParamDict> ParamsFrom(nb::handle h, const char* what) {
  if (h.is_none()) return std::nullopt;
  ParamDict out;
  for (auto [k, v] : nb::borrow<nb::dict>(h)) {
    NDArray* a = nullptr;
    MX_CHECK(nb::try_cast<NDArray*>(v, a) && a != nullptr, TypeError)
        << what << ": '" << nb::cast<std::string>(k) << "' is a " << nb::str(v.type()).c_str()
        << ", not an NDArray";
    out.emplace(nb::cast<std::string>(k), *a);
  }
  return out;
}

const ParamDict* Ptr(const std::optional<ParamDict>& p) {
  return p ? &*p : nullptr;
}

/*! \brief An initializer: None (the module's default), a name, an object with dumps(), or a
 * C++ init::Initializer bound by mx.init. */
init::InitializerPtr InitializerFrom(nb::handle h) {
  if (h.is_none()) return nullptr;
  std::shared_ptr<init::Initializer> cpp;
  if (nb::try_cast(h, cpp) && cpp) return cpp;
  if (nb::isinstance<nb::str>(h)) return init::InitializerFromJSON(nb::cast<std::string>(h));
  MX_CHECK(nb::hasattr(h, "dumps"), TypeError)
      << "initializer: expected a name ('xavier'), an mx.init.Initializer or its JSON, got "
      << nb::str(h.type()).c_str();
  return init::InitializerFromJSON(nb::cast<std::string>(h.attr("dumps")()));
}

/*! \brief An eval_metric: a name, a list of names (a composite), or a C++ metric::EvalMetric. */
std::shared_ptr<metric::EvalMetric> MetricFrom(nb::handle h) {
  if (nb::isinstance<nb::str>(h)) return metric::CreateMetric(nb::cast<std::string>(h));
  std::shared_ptr<metric::EvalMetric> cpp;
  if (nb::try_cast(h, cpp) && cpp) return cpp;
  MX_CHECK(PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()), TypeError)
      << "eval_metric: expected a metric name ('acc'), a list of names or an "
         "mx.metric.EvalMetric, got "
      << nb::str(h.type()).c_str();
  auto composite = std::make_shared<metric::CompositeEvalMetric>();
  for (nb::handle item : nb::borrow<nb::sequence>(h))
    composite->add(metric::CreateMetric(nb::cast<std::string>(item)));
  return composite;
}

nb::list NameValues(const metric::NameValues& values) {
  nb::list l;
  for (const auto& [name, value] : values)
    l.append(nb::make_tuple(name, value));
  return l;
}

/*! \brief What a batch-end callback sees as eval_metric: the caller's metric object when
 * there is one, the bound C++ metric (mx.metric), else a snapshot of its values. */
nb::object MetricForCallback(const metric::EvalMetric* m, nb::handle given) {
  if (!given.is_none() && !nb::isinstance<nb::str>(given)) return nb::borrow(given);
  if (m == nullptr) return nb::none();
  try {
    return nb::cast(const_cast<metric::EvalMetric*>(m), nb::rv_policy::reference);
  } catch (const nb::cast_error&) {
    static nb::handle snapshot =
        nb::object(nb::module_::import_("mixnet.model").attr("_MetricSnapshot")).release();
    return snapshot(NameValues(m->get()));
  }
}

std::vector<mod::BatchEndCallback> BatchCallbacks(nb::handle callbacks, nb::handle given_metric) {
  std::vector<mod::BatchEndCallback> out;
  if (callbacks.is_none()) return out;
  auto metric = std::make_shared<GilObject>(nb::borrow(given_metric));
  for (nb::handle cb : nb::borrow<nb::sequence>(callbacks)) {
    auto fn = std::make_shared<GilObject>(nb::borrow(cb));
    out.push_back([fn, metric](const mod::BatchEndParam& p) {
      nb::gil_scoped_acquire acquire;
      static nb::handle param_cls =
          nb::object(nb::module_::import_("mixnet.model").attr("BatchEndParam")).release();
      fn->obj(
          param_cls(p.epoch, p.nbatch, MetricForCallback(p.eval_metric, metric->obj), nb::none()));
    });
  }
  return out;
}

/*! \brief After every batch: raises KeyboardInterrupt (through C++) on Ctrl-C. */
void CheckSignals(const mod::BatchEndParam&) {
  nb::gil_scoped_acquire acquire;
  if (PyErr_CheckSignals() != 0) throw nb::python_error();
}

op::AttrDict AttrsFrom(nb::handle params) {
  op::AttrDict out;
  if (params.is_none()) return out;
  for (auto [k, v] : nb::borrow<nb::dict>(params))
    out.emplace_back(nb::cast<std::string>(k), AttrString(v));
  return out;
}

mod::KVStoreConfig KVStoreConfigFrom(nb::handle kvstore, nb::handle compression_params) {
  mod::KVStoreConfig c;
  KVStoreArg(kvstore, "Module", &c.kind, &c.object);
  c.compression_params = CompressionParams(compression_params, "Module");
  return c;
}

void InitOptimizer(Module& m, nb::handle optimizer, nb::handle params, bool force_init,
                   nb::handle kvstore, nb::handle compression_params) {
  const mod::KVStoreConfig kv = KVStoreConfigFrom(kvstore, compression_params);
  if (nb::isinstance<nb::str>(optimizer)) {
    const op::AttrDict attrs = AttrsFrom(params);
    m.InitOptimizer(nb::cast<std::string>(optimizer), attrs, force_init, kv);
    return;
  }
  std::shared_ptr<optimizer::Optimizer> opt;
  MX_CHECK(nb::try_cast(optimizer, opt) && opt, TypeError)
      << "init_optimizer: expected an optimizer name ('sgd') or an mx.optimizer.Optimizer, got "
      << nb::str(optimizer.type()).c_str();
  m.InitOptimizer(std::move(opt), force_init, kv);
}

void Fit(Module& m, nb::handle train_data, nb::handle eval_data, nb::handle eval_metric,
         nb::handle epoch_end_callback, nb::handle batch_end_callback, nb::handle optimizer,
         nb::handle optimizer_params, nb::handle eval_batch_end_callback, nb::handle initializer,
         nb::handle arg_params, nb::handle aux_params, bool allow_missing, bool force_rebind,
         bool force_init, int begin_epoch, int num_epoch, nb::handle kvstore,
         nb::handle compression_params) {
  std::unique_ptr<io::DataIter> train_holder, eval_holder;
  io::DataIter* train = AsDataIter(train_data, &train_holder);
  mod::FitOptions o;
  if (!eval_data.is_none()) o.eval_data = AsDataIter(eval_data, &eval_holder);
  o.eval_metric_object = MetricFrom(eval_metric);
  o.batch_end_callback = BatchCallbacks(batch_end_callback, eval_metric);
  o.batch_end_callback.push_back(&CheckSignals);
  o.eval_batch_end_callback = BatchCallbacks(eval_batch_end_callback, eval_metric);
  if (!epoch_end_callback.is_none()) {
    for (nb::handle cb : nb::borrow<nb::sequence>(epoch_end_callback)) {
      auto fn = std::make_shared<GilObject>(nb::borrow(cb));
      o.epoch_end_callback.push_back(
          [fn](int epoch, const sym::Symbol& symbol, const ParamDict& arg, const ParamDict& aux) {
            nb::gil_scoped_acquire acquire;
            fn->obj(epoch, symbol, ArrayDict(arg), ArrayDict(aux));
          });
    }
  }
  if (nb::isinstance<nb::str>(optimizer)) {
    o.optimizer = nb::cast<std::string>(optimizer);
    o.optimizer_params = AttrsFrom(optimizer_params);
  } else {
    MX_CHECK(nb::try_cast(optimizer, o.optimizer_object) && o.optimizer_object, TypeError)
        << "fit: expected an optimizer name ('sgd') or an mx.optimizer.Optimizer, got "
        << nb::str(optimizer.type()).c_str();
  }
  o.initializer = InitializerFrom(initializer);
  const auto args = ParamsFrom(arg_params, "fit: arg_params");
  const auto auxs = ParamsFrom(aux_params, "fit: aux_params");
  o.arg_params = Ptr(args);
  o.aux_params = Ptr(auxs);
  o.allow_missing = allow_missing;
  o.force_rebind = force_rebind;
  o.force_init = force_init;
  o.begin_epoch = begin_epoch;
  o.num_epoch = num_epoch;
  o.kvstore = KVStoreConfigFrom(kvstore, compression_params);
  nb::gil_scoped_release release;
  m.Fit(*train, o);
}

nb::list Score(Module& m, nb::handle eval_data, nb::handle eval_metric, int num_batch,
               nb::handle batch_end_callback, bool reset, int epoch) {
  std::unique_ptr<io::DataIter> holder;
  io::DataIter* it = AsDataIter(eval_data, &holder);
  std::shared_ptr<metric::EvalMetric> metric = MetricFrom(eval_metric);
  auto callbacks = BatchCallbacks(batch_end_callback, eval_metric);
  callbacks.push_back(&CheckSignals);
  metric::NameValues res;
  {
    nb::gil_scoped_release release;
    res = m.Score(*it, *metric, num_batch, reset, epoch, callbacks);
  }
  return NameValues(res);
}

/*! \brief `context` as the module takes it: a list of contexts (mixnet.module normalizes a
 * single Context or None to a list of one). */
std::vector<Context> ContextsFrom(nb::handle contexts) {
  std::vector<Context> out;
  for (nb::handle c : nb::borrow<nb::sequence>(contexts))
    out.push_back(ToContext(c));
  return out;
}

/*! \brief MXNet's merge_multi_context: merged arrays, or per array a list over the contexts. */
nb::list MaybeMerged(const Module& self, bool merge, bool outputs) {
  if (merge) return ArrayList(outputs ? self.GetOutputs() : self.GetInputGrads());
  nb::list out;
  for (const auto& per : outputs ? self.GetOutputsPerContext() : self.GetInputGradsPerContext())
    out.append(ArrayList(per));
  return out;
}

nb::tuple Params(const std::pair<ParamDict, ParamDict>& p) {
  return nb::make_tuple(ArrayDict(p.first), ArrayDict(p.second));
}

void BindModule(nb::module_& root) {
  nb::module_ m = root.def_submodule("module", "mx.mod's C++ side");
  nb::class_<Module>(m, "Module", "A symbol bound to an executor, trained by an optimizer.")
      .def(
          "__init__",
          [](Module* self, const sym::Symbol& symbol, std::vector<std::string> data_names,
             std::vector<std::string> label_names, nb::handle ctx,
             std::vector<std::string> fixed_param_names) {
            new (self) Module(symbol, std::move(data_names), std::move(label_names),
                              ContextsFrom(ctx), std::move(fixed_param_names));
          },
          nb::arg("symbol"), nb::arg("data_names"), nb::arg("label_names"), nb::arg("context"),
          nb::arg("fixed_param_names"))
      .def(
          "bind",
          [](Module& self, nb::handle data_shapes, nb::handle label_shapes, bool for_training,
             bool inputs_need_grad, bool force_rebind, const Module* shared_module,
             nb::handle grad_req) {
            const auto data = DescsFrom(data_shapes, "bind: data_shapes");
            const auto label = DescsFrom(label_shapes, "bind: label_shapes");
            const auto req = GradReqFrom(grad_req);
            nb::gil_scoped_release release;
            self.Bind(data, label, for_training, inputs_need_grad, force_rebind, shared_module,
                      req);
          },
          nb::arg("data_shapes"), nb::arg("label_shapes").none(), nb::arg("for_training"),
          nb::arg("inputs_need_grad"), nb::arg("force_rebind"), nb::arg("shared_module").none(),
          nb::arg("grad_req"))
      .def(
          "init_params",
          [](Module& self, nb::handle initializer, nb::handle arg_params, nb::handle aux_params,
             bool allow_missing, bool force_init, bool allow_extra) {
            const auto init = InitializerFrom(initializer);
            const auto args = ParamsFrom(arg_params, "init_params: arg_params");
            const auto auxs = ParamsFrom(aux_params, "init_params: aux_params");
            self.InitParams(init.get(), Ptr(args), Ptr(auxs), allow_missing, force_init,
                            allow_extra);
          },
          nb::arg("initializer").none(), nb::arg("arg_params").none(), nb::arg("aux_params").none(),
          nb::arg("allow_missing"), nb::arg("force_init"), nb::arg("allow_extra"))
      .def(
          "set_params",
          [](Module& self, nb::handle arg_params, nb::handle aux_params, bool allow_missing,
             bool force_init, bool allow_extra) {
            const auto args = ParamsFrom(arg_params, "set_params: arg_params");
            const auto auxs = ParamsFrom(aux_params, "set_params: aux_params");
            self.SetParams(args.value_or(ParamDict{}), auxs.value_or(ParamDict{}), allow_missing,
                           force_init, allow_extra);
          },
          nb::arg("arg_params").none(), nb::arg("aux_params").none(), nb::arg("allow_missing"),
          nb::arg("force_init"), nb::arg("allow_extra"))
      .def("get_params", [](const Module& self) { return Params(self.GetParams()); })
      .def("init_optimizer", &InitOptimizer, nb::arg("optimizer"),
           nb::arg("optimizer_params").none(), nb::arg("force_init"),
           nb::arg("kvstore").none() = "local", nb::arg("compression_params").none() = nb::none())
      .def_prop_ro("_kvstore_handle", &Module::kvstore)
      .def_prop_ro("_update_on_kvstore", &Module::update_on_kvstore)
      .def(
          "forward",
          [](Module& self, nb::handle batch, nb::handle is_train) {
            const io::DataBatch b = BatchFrom(batch);
            std::optional<bool> train;
            if (!is_train.is_none()) train = nb::cast<bool>(is_train);
            nb::gil_scoped_release release;
            self.Forward(b, train);
          },
          nb::arg("data_batch"), nb::arg("is_train").none())
      .def(
          "backward",
          [](Module& self, nb::handle out_grads) {
            const auto g = ArraysFrom(out_grads, "Module.backward: out_grads");
            nb::gil_scoped_release release;
            self.Backward(g);
          },
          nb::arg("out_grads").none())
      .def("update",
           [](Module& self) {
             nb::gil_scoped_release release;
             self.Update();
           })
      .def(
          "get_outputs",
          [](const Module& self, bool merge) { return MaybeMerged(self, merge, true); },
          nb::arg("merge_multi_context") = true)
      .def(
          "get_input_grads",
          [](const Module& self, bool merge) { return MaybeMerged(self, merge, false); },
          nb::arg("merge_multi_context") = true)
      .def(
          "update_metric",
          [](const Module& self, nb::handle metric, nb::handle labels) {
            std::shared_ptr<metric::EvalMetric> cpp;
            MX_CHECK(nb::try_cast(metric, cpp) && cpp, TypeError)
                << "update_metric: expected an mx.metric.EvalMetric";
            self.UpdateMetric(*cpp, ArraysFrom(labels, "update_metric: labels"));
          },
          nb::arg("eval_metric"), nb::arg("labels").none())
      .def("fit", &Fit, nb::arg("train_data"), nb::arg("eval_data").none(), nb::arg("eval_metric"),
           nb::arg("epoch_end_callback").none(), nb::arg("batch_end_callback").none(),
           nb::arg("optimizer"), nb::arg("optimizer_params").none(),
           nb::arg("eval_batch_end_callback").none(), nb::arg("initializer").none(),
           nb::arg("arg_params").none(), nb::arg("aux_params").none(), nb::arg("allow_missing"),
           nb::arg("force_rebind"), nb::arg("force_init"), nb::arg("begin_epoch"),
           nb::arg("num_epoch"), nb::arg("kvstore").none() = "local",
           nb::arg("compression_params").none() = nb::none())
      .def("score", &Score, nb::arg("eval_data"), nb::arg("eval_metric"), nb::arg("num_batch"),
           nb::arg("batch_end_callback").none(), nb::arg("reset"), nb::arg("epoch"))
      .def(
          "predict",
          [](Module& self, nb::handle eval_data, int num_batch, bool reset) {
            std::unique_ptr<io::DataIter> holder;
            io::DataIter* it = AsDataIter(eval_data, &holder);
            std::vector<NDArray> out;
            {
              nb::gil_scoped_release release;
              out = self.Predict(*it, num_batch, reset);
            }
            return ArrayList(out);
          },
          nb::arg("eval_data"), nb::arg("num_batch"), nb::arg("reset"))
      .def(
          "save_checkpoint",
          [](const Module& self, const std::string& prefix, int epoch, bool states) {
            nb::gil_scoped_release release;
            self.SaveCheckpoint(prefix, epoch, states);
          },
          nb::arg("prefix"), nb::arg("epoch"), nb::arg("save_optimizer_states"))
      .def_static(
          "load",
          [](const std::string& prefix, int epoch, bool load_optimizer_states,
             std::vector<std::string> data_names, std::vector<std::string> label_names,
             nb::handle ctx) {
            return Module::Load(prefix, epoch, load_optimizer_states, std::move(data_names),
                                std::move(label_names), ContextsFrom(ctx));
          },
          nb::arg("prefix"), nb::arg("epoch"), nb::arg("load_optimizer_states"),
          nb::arg("data_names"), nb::arg("label_names"), nb::arg("context"))
      .def("save_optimizer_states", &Module::SaveOptimizerStates, nb::arg("fname"))
      .def("load_optimizer_states", &Module::LoadOptimizerStates, nb::arg("fname"))
      .def(
          "set_logger",
          [](Module& self, nb::object log) {
            auto fn = std::make_shared<GilObject>(std::move(log));
            self.set_logger([fn](const std::string& line) {
              nb::gil_scoped_acquire acquire;
              fn->obj(line);
            });
          },
          nb::arg("log"), "Routes progress lines and warnings to log(line).")
      .def_prop_ro("symbol", &Module::symbol)
      .def_prop_ro("binded", &Module::binded)
      .def_prop_ro("params_initialized", &Module::params_initialized)
      .def_prop_ro("optimizer_initialized", &Module::optimizer_initialized)
      .def_prop_ro("data_shapes",
                   [](const Module& self) { return DescsToPython(self.data_shapes()); })
      .def_prop_ro("label_shapes",
                   [](const Module& self) { return DescsToPython(self.label_shapes()); })
      .def_prop_ro("output_names", &Module::output_names)
      .def_prop_ro("executor", &Module::executor, nb::rv_policy::reference_internal);

  m.def(
      "load_checkpoint",
      [](const std::string& prefix, int epoch) {
        auto [symbol, arg, aux] = mod::LoadCheckpoint(prefix, epoch);
        return nb::make_tuple(symbol, ArrayDict(arg), ArrayDict(aux));
      },
      nb::arg("prefix"), nb::arg("epoch"));
  m.def(
      "save_checkpoint",
      [](const std::string& prefix, int epoch, const sym::Symbol& symbol, nb::handle arg_params,
         nb::handle aux_params) {
        const auto args = ParamsFrom(arg_params, "save_checkpoint: arg_params");
        const auto auxs = ParamsFrom(aux_params, "save_checkpoint: aux_params");
        mod::SaveCheckpoint(prefix, epoch, symbol, args.value_or(ParamDict{}),
                            auxs.value_or(ParamDict{}));
      },
      nb::arg("prefix"), nb::arg("epoch"), nb::arg("symbol"), nb::arg("arg_params").none(),
      nb::arg("aux_params").none());
}

}  // namespace
MIXNET_PY_BIND(70, BindModule);

}  // namespace mixnet::python
