// Shared pieces of the Python extension mixnet._core (see docs/design.md, "Python").
// Each python/src/*.cc binds one area of the C++ API through a Bind* function called from
// module.cc; conversions every area needs live here.
#pragma once

#include <nanobind/nanobind.h>

#include <span>
#include <string>
#include <vector>

#include "mixnet/base/context.h"
#include "mixnet/base/dtype.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attrs.h"

namespace mixnet::python {

namespace nb = nanobind;

/*!
 * \brief Each binding file registers its Bind function at load time (MIXNET_PY_BIND); the
 * module runs them in `order` (errors 0, context 10, NDArray 20, ops 30, then the areas that
 * use them), so that a file is added without touching any other.
 */
using BindFn = void (*)(nb::module_&);
struct BindRegistration {
  BindRegistration(int order, BindFn fn);
};
/*! \brief Runs the registered Bind functions in order (module.cc). */
void BindAll(nb::module_& m);
#define MIXNET_PY_BIND_CONCAT_(a, b) a##b
#define MIXNET_PY_BIND_CONCAT(a, b) MIXNET_PY_BIND_CONCAT_(a, b)
#define MIXNET_PY_BIND(order, fn)                                                                \
  static ::mixnet::python::BindRegistration MIXNET_PY_BIND_CONCAT(mixnet_py_bind_, __COUNTER__)( \
      order, fn)

/*! \brief A context from mx.Context, "cpu(0)" or None (the default context). */
Context ToContext(nb::handle h);
/*! \brief The thread's default context (mx.Context's `with` scope, else cpu(0)). */
Context DefaultContext();
/*! \brief A dtype from a name, a NumPy dtype or type (np.float32), or None (float32). */
DType ToDType(nb::handle h);
/*! \brief A shape from an int or a sequence of ints; TypeError for anything else. */
Shape ShapeFrom(nb::handle h);
/*! \brief MXNet 1.x's spelling of a shape: a tuple, () when unknown, 0 for an unknown dim. */
nb::tuple ShapeToTuple(const Shape& s);
/*! \brief numpy, imported once (never released: the interpreter may be gone at exit). */
nb::handle NumpyModule();
/*! \brief NumPy's dtype object for `t` (bfloat16 has none: its name). */
nb::object DTypeToNumpy(DType t);

/*!
 * \brief Runs `wait` (a blocking engine wait) with the GIL released, in slices, so that
 * Ctrl-C raises KeyboardInterrupt in the caller (NOTE [ Interruptible waits ] in wait.cc).
 */
void WaitForArray(const NDArray& a, bool for_write = false);
void WaitForAllInterruptibly();

}  // namespace mixnet::python

namespace mixnet::op {
struct OpDef;
}

namespace mixnet::python {

/*! \brief MXNet's attribute string for a Python value: str(v) with MXNet's spellings (True,
 * (3, 3), None, float32 for a NumPy dtype, cpu(0) for a Context). */
std::string AttrString(nb::handle v);
/*! \brief op::Invoke with the GIL released when the inputs are large enough to matter. */
std::vector<NDArray> CallOp(const op::OpDef* op, std::span<const NDArray> inputs,
                            const op::AttrDict& attrs = {}, std::span<const NDArray> outputs = {});
/*! \brief What a Python op call returns: one NDArray, or a list for several visible outputs. */
nb::object WrapOutputs(const op::OpDef* op, std::vector<NDArray> outputs);

}  // namespace mixnet::python
