// mx.optimizer: every Python optimizer is a C++ optimizer::Optimizer (a PyOptimizer), so that
// it passes to any binding taking std::shared_ptr<optimizer::Optimizer> as is.
//
// NOTE [ Python optimizers ]
// The built-ins live in the C++ registry as hidden classes. To give each its MXNet class
// (mx.optimizer.SGD, a Python subclass users may check with isinstance), a PyOptimizer keeps
// the bookkeeping (counts, rates, multipliers, states) itself and hands the two optimizer-
// specific virtuals, CreateState and UpdateGroup, to the registry's optimizer (`inner_`). A
// Python subclass of mx.optimizer.Optimizer has no inner one: UpdateGroup calls its Python
// `_step`, which runs the subclass's update(index, weight, grad, state) with the rate and decay
// C++ computed (mixnet/optimizer/optimizer.py). Either way Optimizer::Update is the one entry
// point, for Python (the Updater, opt.update) and for C++ (Module, Trainer) alike.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "mixnet/optimizer/optimizer.h"

namespace mixnet::python {

namespace {

using optimizer::Optimizer;

/*! \brief The protected members the binding reads (pointers to members of Optimizer). */
struct OptimizerAccess : Optimizer {
  using Optimizer::aggregate_num_;
  using Optimizer::begin_num_update_;
  using Optimizer::clip_gradient_;
  using Optimizer::CreateState;
  using Optimizer::LoadScalars;
  using Optimizer::lr_;
  using Optimizer::multi_precision_;
  using Optimizer::SaveScalars;
  using Optimizer::UpdateGroup;
  using Optimizer::wd_;
};

class PyOptimizer : public Optimizer {
 public:
  NB_TRAMPOLINE(Optimizer);

  /*! \brief A built-in (`inner` from the registry) or, with no inner, a Python subclass. */
  PyOptimizer(std::string name, const op::AttrDict& kwargs, double default_lr,
              std::unique_ptr<Optimizer> inner)
      : Optimizer(std::move(name), kwargs, default_lr), inner_(std::move(inner)) {
    if (inner_) aggregate_num_ = inner_.get()->*&OptimizerAccess::aggregate_num_;
  }

  void set_aggregate_num(int n) { aggregate_num_ = n; }

  /*! \brief The index's next CreateState returns `states` (MXNet's create_state, then update). */
  void SetPending(std::vector<NDArray> states) { pending_ = std::move(states); }

  std::vector<NDArray> CreateState(const NDArray& weight) override {
    if (!inner_) return {};  // a Python subclass keeps its states in Python
    std::vector<NDArray> fresh = (inner_.get()->*&OptimizerAccess::CreateState)(weight);
    if (!pending_) return fresh;
    std::vector<NDArray> given = std::exchange(pending_, std::nullopt).value();
    bool ok = given.size() == fresh.size();
    for (size_t k = 0; ok && k < given.size(); ++k)
      ok = given[k].shape() == fresh[k].shape() && given[k].dtype() == fresh[k].dtype();
    MX_CHECK(ok, ValueError) << "optimizer '" << name_ << "': update: the state given ("
                             << given.size() << " arrays) does not fit a weight of shape "
                             << weight.shape() << " and dtype " << DTypeName(weight.dtype())
                             << " (create_state gives " << fresh.size() << ")";
    return given;
  }

  void UpdateGroup(std::span<const Item> items) override {
    if (inner_) {
      inner_->set_rescale_grad(rescale_grad_);  // Trainer and users set it on this one
      (inner_.get()->*&OptimizerAccess::UpdateGroup)(items);
      return;
    }
    nb::gil_scoped_acquire gil;  // C++ (Module, Trainer) may update with the GIL released
    nb::object step = nb_trampoline.base().attr("_step");
    for (const Item& it : items)
      step(it.index, it.weight, it.grad, it.lr, it.wd, it.t);
  }

  std::vector<double> SaveScalars() const override {
    return inner_ ? (inner_.get()->*&OptimizerAccess::SaveScalars)() : std::vector<double>{};
  }
  void LoadScalars(std::span<const double> s) override {
    if (inner_) (inner_.get()->*&OptimizerAccess::LoadScalars)(s);
  }

 private:
  std::unique_ptr<Optimizer> inner_;
  std::optional<std::vector<NDArray>> pending_;
};

/*! \brief MXNet's shape of a state: None, one NDArray, or a tuple of them. */
nb::object StateToPython(std::vector<NDArray> s) {
  if (s.empty()) return nb::none();
  if (s.size() == 1) return nb::cast(std::move(s[0]));
  nb::list l;
  for (NDArray& a : s)
    l.append(nb::cast(std::move(a)));
  return nb::tuple(l);
}

void FlattenState(nb::handle h, std::vector<NDArray>* out) {
  if (h.is_none()) return;
  NDArray* a = nullptr;
  if (nb::try_cast<NDArray*>(h, a) && a != nullptr) {
    out->push_back(*a);
    return;
  }
  MX_CHECK(PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()), TypeError)
      << "optimizer update: a state is None, an NDArray or a tuple of them, got "
      << nb::cast<std::string>(nb::str(h.type()));
  for (nb::handle item : nb::borrow<nb::sequence>(h))
    FlattenState(item, out);
}

/*!
 * \brief opt.update(index, weight, grad, state) for a built-in: the first update of an index
 * adopts `state` (from create_state) as the index's state; later ones must pass the same arrays.
 */
void UpdateWithState(PyOptimizer& opt, int index, const NDArray& weight, const NDArray& grad,
                     nb::handle state) {
  std::vector<NDArray> given;
  FlattenState(state, &given);
  if (!given.empty()) {
    const std::vector<NDArray> current = opt.states(index);
    if (current.empty()) {
      opt.SetPending(std::move(given));
    } else {
      bool same = current.size() >= given.size();
      for (size_t k = 0; same && k < given.size(); ++k)
        same = current[k].SharesStorageWith(given[k]);
      MX_CHECK(same, ValueError)
          << "optimizer '" << opt.name() << "': update: parameter " << index
          << " already has states (adopted on its first update); pass those same arrays";
    }
  }
  nb::gil_scoped_release release;
  opt.Update(index, weight, grad);
}

/*! \brief `opt` as made by mx.optimizer (TypeError for one made by C++ alone). */
PyOptimizer& AsPy(Optimizer& opt) {
  auto* py = dynamic_cast<PyOptimizer*>(&opt);
  MX_CHECK(py != nullptr, TypeError)
      << "optimizer '" << opt.name() << "' was made in C++; make it with mx.optimizer.create";
  return *py;
}

op::AttrDict ToAttrs(const std::map<std::string, std::string>& kwargs) {
  return op::AttrDict(kwargs.begin(), kwargs.end());
}

void BindOptimizer(nb::module_& m) {
  nb::class_<Optimizer, PyOptimizer>(
      m, "Optimizer",
      "A C++ optimizer (mx.optimizer.Optimizer subclasses this): the update counts, rates, "
      "multipliers and states of MXNet's Optimizer and Updater.")
      .def(
          "__init__",
          [](Optimizer* self, std::optional<std::string> builtin, std::string name,
             const std::map<std::string, std::string>& kwargs) {
            const op::AttrDict attrs = ToAttrs(kwargs);
            if (builtin) {
              std::unique_ptr<Optimizer> inner = optimizer::CreateOptimizer(*builtin, attrs);
              const double lr = inner->learning_rate();
              name = inner->name();
              new (static_cast<void*>(self)) PyOptimizer(name, attrs, lr, std::move(inner));
            } else {
              new (static_cast<void*>(self)) PyOptimizer(name, attrs, 0.01, nullptr);
            }
          },
          nb::arg("builtin").none(), nb::arg("name"), nb::arg("kwargs"),
          "`builtin`: the registry name of a built-in, None for a Python subclass; `kwargs`: "
          "MXNet's arguments as strings.")
      .def(
          "_update",
          [](Optimizer& opt, const std::vector<int>& indices, const std::vector<NDArray>& weights,
             const std::vector<NDArray>& grads) { opt.Update(indices, weights, grads); },
          nb::arg("indices"), nb::arg("weights"), nb::arg("grads"),
          nb::call_guard<nb::gil_scoped_release>(),
          "Updates the weights in place (states created on an index's first update).")
      .def(
          "_update_with_state",
          [](Optimizer& opt, int index, const NDArray& weight, const NDArray& grad,
             nb::handle state) { UpdateWithState(AsPy(opt), index, weight, grad, state); },
          nb::arg("index"), nb::arg("weight"), nb::arg("grad"), nb::arg("state").none())
      .def(
          "create_state",
          [](Optimizer& opt, int /*index*/, const NDArray& weight) {
            return StateToPython((opt.*&OptimizerAccess::CreateState)(weight));
          },
          nb::arg("index"), nb::arg("weight"),
          "New (zero) states for a weight: None, an NDArray or a tuple of NDArrays.")
      .def(
          "create_state_multi_precision",
          [](Optimizer& opt, int /*index*/, const NDArray& weight) {
            // The float32 master copy stays inside the optimizer; the state is made for it.
            const bool mp =
                opt.*&OptimizerAccess::multi_precision_ && weight.dtype() == DType::kFloat16;
            const NDArray ref =
                mp ? op::Invoke("Cast", {weight}, {{"dtype", "float32"}})[0] : weight;
            return StateToPython((opt.*&OptimizerAccess::CreateState)(ref));
          },
          nb::arg("index"), nb::arg("weight"))
      .def(
          "_states", [](const Optimizer& opt, int index) { return opt.states(index); },
          nb::arg("index"),
          "The index's states as kept by the optimizer (a float32 master copy last).")
      .def("_save_states",
           [](const Optimizer& opt) {
             std::string s;
             {
               nb::gil_scoped_release release;
               s = opt.SaveStates();
             }
             return nb::bytes(s.data(), s.size());
           })
      .def(
          "_load_states",
          [](Optimizer& opt, nb::bytes b) {
            opt.LoadStates(std::string_view(static_cast<const char*>(b.data()), b.size()));
          },
          nb::arg("states"))
      .def("_set_lr_mult", &Optimizer::SetLrMult, nb::arg("lr_mult"))
      .def("_set_wd_mult", &Optimizer::SetWdMult, nb::arg("wd_mult"))
      .def("set_learning_rate", &Optimizer::set_learning_rate, nb::arg("lr"),
           "Sets the fixed learning rate (ValueError while an lr_scheduler is set).")
      .def_prop_ro("name", &Optimizer::name)
      .def_prop_ro("learning_rate", &Optimizer::learning_rate,
                   "The scheduler's rate at num_update, or the fixed rate.")
      .def_prop_rw(
          "lr", [](const Optimizer& o) { return o.*&OptimizerAccess::lr_; },
          [](Optimizer& o, double lr) { o.set_learning_rate(lr); })
      .def_prop_rw("wd", &Optimizer::wd,
                   [](Optimizer& o, double wd) {
                     MX_CHECK(wd >= 0, ValueError)
                         << "optimizer '" << o.name() << "': wd must be >= 0";
                     o.*& OptimizerAccess::wd_ = wd;
                   })
      .def_prop_rw("rescale_grad", &Optimizer::rescale_grad, &Optimizer::set_rescale_grad)
      .def_prop_ro("clip_gradient",
                   [](const Optimizer& o) { return o.*&OptimizerAccess::clip_gradient_; })
      .def_prop_ro("multi_precision",
                   [](const Optimizer& o) { return o.*&OptimizerAccess::multi_precision_; })
      .def_prop_ro("begin_num_update",
                   [](const Optimizer& o) { return o.*&OptimizerAccess::begin_num_update_; })
      .def_prop_ro("num_update", &Optimizer::num_update)
      .def_prop_rw("aggregate_num", &Optimizer::aggregate_num,
                   [](Optimizer& o, int n) {
                     MX_CHECK(n >= 1, ValueError)
                         << "optimizer '" << o.name() << "': aggregate_num must be >= 1, got " << n;
                     AsPy(o).set_aggregate_num(n);
                   })
      .def_prop_rw(
          "lr_scheduler", [](const Optimizer& o) { return o.lr_scheduler(); },
          [](Optimizer& o, std::shared_ptr<LRScheduler> s) { o.SetLRScheduler(std::move(s)); },
          nb::arg("scheduler").none(),
          "The schedule (None: the fixed rate); setting one gives it this optimizer's rate.")
      .def_prop_rw("idx2name", &Optimizer::param_names, &Optimizer::SetParamNames,
                   "MXNet's param_idx2name: the names lr_mult and wd_mult are looked up by.");
  m.def("list_optimizers", &optimizer::ListOptimizers, "The C++ registry's optimizer names.");
}

}  // namespace
MIXNET_PY_BIND(37, BindOptimizer);

}  // namespace mixnet::python
