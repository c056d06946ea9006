// mx.lr_scheduler: the C++ schedules with MXNet's argument names. _core.LRScheduler is the base
// users subclass (overriding __call__); an optimizer holds any of them as the
// std::shared_ptr<LRScheduler> that Optimizer::SetLRScheduler takes.
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/optimizer/lr_scheduler.h"

namespace mixnet::python {

namespace {

/*! \brief The protected warm-up settings, for the attributes MXNet exposes. */
struct SchedulerAccess : LRScheduler {
  using LRScheduler::warmup_;
  using LRScheduler::warmup_final_lr_;
  using LRScheduler::WarmupLR;
};

/*! \brief A Python subclass of mx.lr_scheduler.LRScheduler, seen from C++. */
class PyLRScheduler : public LRScheduler {
 public:
  NB_TRAMPOLINE(LRScheduler);
  PyLRScheduler(double base_lr, const WarmupConfig& warmup) : LRScheduler(base_lr, warmup) {}
  double operator()(int64_t num_update) override {
    nb::gil_scoped_acquire gil;  // C++ may ask for a rate with the GIL released
    NB_OVERRIDE_PURE_NAME("__call__", operator(), num_update);
  }
};

WarmupConfig Warmup(int64_t steps, double begin_lr, std::string mode) {
  return WarmupConfig{steps, begin_lr, std::move(mode)};
}

const WarmupConfig& WarmupOf(const LRScheduler& s) {
  return s.*&SchedulerAccess::warmup_;
}

void BindLRScheduler(nb::module_& m) {
  nb::class_<LRScheduler, PyLRScheduler>(
      m, "LRScheduler",
      "The base class of learning-rate schedules (mx.lr_scheduler.LRScheduler): subclasses "
      "give __call__(num_update).")
      .def(
          "__init__",
          [](LRScheduler* self, double base_lr, int64_t warmup_steps, double warmup_begin_lr,
             std::string warmup_mode) {
            new (static_cast<void*>(self))
                PyLRScheduler(base_lr, Warmup(warmup_steps, warmup_begin_lr, warmup_mode));
          },
          nb::arg("base_lr") = 0.01, nb::arg("warmup_steps") = 0, nb::arg("warmup_begin_lr") = 0.0,
          nb::arg("warmup_mode") = "linear")
      .def(
          "__call__", [](LRScheduler& s, int64_t num_update) { return s(num_update); },
          nb::arg("num_update"), "The learning rate for update `num_update`.")
      .def_prop_rw("base_lr", &LRScheduler::base_lr, &LRScheduler::set_base_lr)
      .def_prop_ro("warmup_steps", [](const LRScheduler& s) { return WarmupOf(s).steps; })
      .def_prop_ro("warmup_begin_lr", [](const LRScheduler& s) { return WarmupOf(s).begin_lr; })
      .def_prop_ro("warmup_mode", [](const LRScheduler& s) { return WarmupOf(s).mode; })
      .def_prop_ro("warmup_final_lr",
                   [](const LRScheduler& s) { return s.*&SchedulerAccess::warmup_final_lr_; })
      .def(
          "get_warmup_lr",
          [](const LRScheduler& s, int64_t num_update) {
            return (s.*&SchedulerAccess::WarmupLR)(num_update);
          },
          nb::arg("num_update"), "The warm-up rate at `num_update` (< warmup_steps).");

  nb::class_<FactorScheduler, LRScheduler>(m, "FactorScheduler")
      .def(
          "__init__",
          [](FactorScheduler* self, int64_t step, double factor, double stop_factor_lr,
             double base_lr, int64_t warmup_steps, double warmup_begin_lr,
             std::string warmup_mode) {
            new (self) FactorScheduler(step, factor, stop_factor_lr, base_lr,
                                       Warmup(warmup_steps, warmup_begin_lr, warmup_mode));
          },
          nb::arg("step"), nb::arg("factor") = 1.0, nb::arg("stop_factor_lr") = 1e-8,
          nb::arg("base_lr") = 0.01, nb::arg("warmup_steps") = 0, nb::arg("warmup_begin_lr") = 0.0,
          nb::arg("warmup_mode") = "linear");
  nb::class_<MultiFactorScheduler, LRScheduler>(m, "MultiFactorScheduler")
      .def(
          "__init__",
          [](MultiFactorScheduler* self, std::vector<int64_t> step, double factor, double base_lr,
             int64_t warmup_steps, double warmup_begin_lr, std::string warmup_mode) {
            new (self) MultiFactorScheduler(std::move(step), factor, base_lr,
                                            Warmup(warmup_steps, warmup_begin_lr, warmup_mode));
          },
          nb::arg("step"), nb::arg("factor") = 1.0, nb::arg("base_lr") = 0.01,
          nb::arg("warmup_steps") = 0, nb::arg("warmup_begin_lr") = 0.0,
          nb::arg("warmup_mode") = "linear");
  nb::class_<PolyScheduler, LRScheduler>(m, "PolyScheduler")
      .def(
          "__init__",
          [](PolyScheduler* self, int64_t max_update, double base_lr, double pwr, double final_lr,
             int64_t warmup_steps, double warmup_begin_lr, std::string warmup_mode) {
            new (self) PolyScheduler(max_update, base_lr, pwr, final_lr,
                                     Warmup(warmup_steps, warmup_begin_lr, warmup_mode));
          },
          nb::arg("max_update"), nb::arg("base_lr") = 0.01, nb::arg("pwr") = 2.0,
          nb::arg("final_lr") = 0.0, nb::arg("warmup_steps") = 0, nb::arg("warmup_begin_lr") = 0.0,
          nb::arg("warmup_mode") = "linear");
  nb::class_<CosineScheduler, LRScheduler>(m, "CosineScheduler")
      .def(
          "__init__",
          [](CosineScheduler* self, int64_t max_update, double base_lr, double final_lr,
             int64_t warmup_steps, double warmup_begin_lr, std::string warmup_mode) {
            new (self) CosineScheduler(max_update, base_lr, final_lr,
                                       Warmup(warmup_steps, warmup_begin_lr, warmup_mode));
          },
          nb::arg("max_update"), nb::arg("base_lr") = 0.01, nb::arg("final_lr") = 0.0,
          nb::arg("warmup_steps") = 0, nb::arg("warmup_begin_lr") = 0.0,
          nb::arg("warmup_mode") = "linear");
}

}  // namespace
MIXNET_PY_BIND(36, BindLRScheduler);

}  // namespace mixnet::python
