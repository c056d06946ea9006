// Conversions shared by the mx.gluon bindings (python/src/gluon_*.cc): MXNet's Python
// argument forms (an initializer by name, a context or a list of them, an int or a tuple) to
// the C++ gluon options, and the nested call arguments and results of blocks.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/shared_ptr.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/gluon/block.h"
#include "mixnet/initializer/initializer.h"

namespace mixnet::python {

/*!
 * \brief An initializer from None (null: the layer's default), a bound mx.init.Initializer, or
 * one of MXNet's registered names with default arguments ('zeros', 'ones', 'xavier',
 * 'uniform', 'normal', 'orthogonal', 'msraprelu', 'bilinear', 'lstmbias').
 */
init::InitializerPtr ToInitializer(nb::handle h, const char* what = "initializer");
/*! \brief An NDArray, or a copy of anything mx.nd.array takes (NumPy arrays, lists). */
NDArray ToNDArray(nb::handle h);
/*! \brief None: {} (the default); a Context, "cpu(0)", or a list of them. */
std::vector<Context> ToContexts(nb::handle h);
/*! \brief An int (one value for every dimension) or a tuple/list of ints; None: {}. */
std::vector<int> ToInts(nb::handle h);
/*! \brief "write", "add", "null" (MXNet's grad_req). */
const char* GradReqName(autograd::GradReq req);
/*! \brief MXNet's prefix= and params= (a ParameterDict or None). */
gluon::BlockArgs ToBlockArgs(nb::handle prefix, nb::handle params);
/*! \brief The prefix= and params= keyword arguments of a bound block's __init__. */
#define MIXNET_PY_BLOCK_ARGS \
  nb::arg("prefix").none() = nb::none(), nb::arg("params").none() = nb::none()
/*! \brief None or a float. */
std::optional<double> ToOptionalFloat(nb::handle h);

/*!
 * \brief Flattens nested call arguments (NDArrays, None, lists and tuples of them) into
 * `flat` (None as a none array); anything else is kept in the returned format only (a
 * constant). Regroup rebuilds the structure from the format and the arrays.
 */
nb::object FlattenArrays(nb::handle value, std::vector<NDArray>* flat, bool* has_constants);
nb::object Regroup(const std::vector<NDArray>& flat, nb::handle format);
/*! \brief What a C++ block's call returns to Python: one array, or a tuple for several. */
nb::object OutputsToPython(std::vector<NDArray> outputs);

/*!
 * \brief The Python face of a block: the object owning `block`, or a wrapper for a block
 * created in C++ (a hook's or a container's child).
 */
nb::object BlockToPython(gluon::Block& block);

/*! \brief A layer whose constructor takes only prefix= and params=. */
template <typename T, typename Base = gluon::HybridBlock>
void BindPlain(nb::module_& m, const char* name, const char* doc) {
  nb::class_<T, Base>(m, name, doc)
      .def(
          "__init__",
          [](T* self, nb::handle prefix, nb::handle params) {
            new (self) T(ToBlockArgs(prefix, params));
          },
          MIXNET_PY_BLOCK_ARGS);
}

}  // namespace mixnet::python
