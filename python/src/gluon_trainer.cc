// mx.gluon.Trainer: the C++ Trainer (mixnet/gluon/trainer.h) with MXNet 1.x's signature.
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>

#include "gluon.h"
#include "kvstore.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/trainer.h"
#include "mixnet/optimizer/lr_scheduler.h"

namespace mixnet::python {

using gluon::ParameterDict;
using gluon::ParameterPtr;
using gluon::Trainer;

namespace {

/*! \brief A ParameterDict, a dict of name -> Parameter, or a list of Parameters. */
ParameterDict ToParams(nb::handle params) {
  ParameterDict* d = nullptr;
  if (nb::try_cast<ParameterDict*>(params, d) && d != nullptr) return *d;
  ParameterDict out;
  nb::object values =
      nb::isinstance<nb::dict>(params) ? params.attr("values")() : nb::borrow(params);
  MX_CHECK(nb::hasattr(values, "__iter__"), ValueError)
      << "Trainer: params must be a ParameterDict, a dict or a list of Parameters, got "
      << nb::cast<std::string>(nb::str(params.type()));
  for (nb::handle p : values) {
    ParameterPtr param;
    MX_CHECK(nb::try_cast(p, param) && param, ValueError)
        << "Trainer: params must be Parameters, got " << nb::cast<std::string>(nb::str(p.type()));
    out.Add(param);
  }
  return out;
}

/*! \brief MXNet's kvstore / compression_params / update_on_kvstore arguments. kvstore: a
 * kind's name, None/False (no store), or an mx.kv.KVStore (its C++ store is shared). */
gluon::TrainerOptions ToTrainerOptions(nb::handle kvstore, nb::handle compression_params,
                                       nb::handle update_on_kvstore) {
  gluon::TrainerOptions o;
  KVStoreArg(kvstore, "Trainer", &o.kvstore, &o.kvstore_object);
  o.compression_params = CompressionParams(compression_params, "Trainer");
  if (!update_on_kvstore.is_none()) o.update_on_kvstore = nb::cast<bool>(update_on_kvstore);
  return o;
}

void InitTrainer(Trainer* self, nb::handle params, nb::handle optimizer,
                 nb::handle optimizer_params, const gluon::TrainerOptions& options) {
  ParameterDict dict = ToParams(params);
  std::shared_ptr<optimizer::Optimizer> bound;
  if (nb::try_cast(optimizer, bound) && bound) {
    MX_CHECK(optimizer_params.is_none() || nb::len(optimizer_params) == 0, ValueError)
        << "Trainer: optimizer_params must be None if optimizer is an instance of Optimizer "
           "instead of str";
    new (self) Trainer(std::move(dict), std::move(bound), options);
    return;
  }
  MX_CHECK(nb::isinstance<nb::str>(optimizer), TypeError)
      << "Trainer: optimizer must be a name ('sgd') or an mx.optimizer.Optimizer, got "
      << nb::cast<std::string>(nb::str(optimizer.type()));
  op::AttrDict attrs;
  std::shared_ptr<LRScheduler> scheduler;
  if (!optimizer_params.is_none()) {
    for (auto [k, v] : nb::borrow<nb::dict>(optimizer_params)) {
      const std::string key = nb::cast<std::string>(k);
      if (key == "lr_scheduler") {
        if (!v.is_none()) scheduler = nb::cast<std::shared_ptr<LRScheduler>>(v);
        continue;
      }
      if (v.is_none()) continue;  // MXNet's "not given"
      attrs.emplace_back(key, AttrString(v));
    }
  }
  new (self) Trainer(std::move(dict), nb::cast<std::string>(optimizer), std::move(attrs), options);
  if (scheduler) self->optimizer().SetLRScheduler(std::move(scheduler));
}

// The updates keep the GIL: an optimizer may be a Python subclass (mx.optimizer) whose
// methods do not take it themselves.
void BindTrainer(nb::module_& m) {
  nb::class_<Trainer>(m, "Trainer",
                      "Applies an Optimizer on a set of Parameters (gluon.Trainer). Trainer "
                      "should be used together with autograd.")
      .def(
          "__init__",
          [](Trainer* self, nb::handle params, nb::handle optimizer, nb::handle optimizer_params,
             nb::handle kvstore, nb::handle compression_params, nb::handle update_on_kvstore) {
            InitTrainer(self, params, optimizer, optimizer_params,
                        ToTrainerOptions(kvstore, compression_params, update_on_kvstore));
          },
          nb::arg("params"), nb::arg("optimizer"), nb::arg("optimizer_params").none() = nb::none(),
          nb::arg("kvstore").none() = "device", nb::arg("compression_params").none() = nb::none(),
          nb::arg("update_on_kvstore").none() = nb::none())
      .def("step", &Trainer::Step, nb::arg("batch_size"), nb::arg("ignore_stale_grad") = false,
           "Makes one step of parameter update; gradients are normalized by 1/batch_size.")
      .def("allreduce_grads", &Trainer::AllreduceGrads,
           "For each parameter, reduces the gradients from different contexts (and workers) "
           "through the kvstore.")
      .def("update", &Trainer::Update, nb::arg("batch_size"), nb::arg("ignore_stale_grad") = false,
           "Makes one step of parameter update without allreduce_grads.")
      .def_prop_ro("learning_rate", &Trainer::learning_rate)
      .def("set_learning_rate", &Trainer::SetLearningRate, nb::arg("lr"))
      .def_prop_ro(
          "optimizer", [](Trainer& t) -> optimizer::Optimizer& { return t.optimizer(); },
          nb::rv_policy::reference_internal)
      .def_prop_ro(
          "_optimizer", [](Trainer& t) -> optimizer::Optimizer& { return t.optimizer(); },
          nb::rv_policy::reference_internal)
      .def_prop_ro("_params", &Trainer::params)
      .def_prop_ro("_kvstore_handle", &Trainer::kvstore,
                   "The C++ KVStore once the first step made it (None if none is needed).")
      .def_prop_ro("_update_on_kvstore", &Trainer::update_on_kvstore)
      .def_prop_ro("_distributed", &Trainer::distributed)
      .def("save_states", &Trainer::SaveStates, nb::arg("fname"),
           "Saves the optimizer's states (an MXNet .nd list; MXNet pickles instead).")
      .def("load_states", &Trainer::LoadStates, nb::arg("fname"),
           "Loads states written by save_states.");
}

}  // namespace
MIXNET_PY_BIND(84, BindTrainer);

}  // namespace mixnet::python
