// Conversions shared by the graph-side bindings (autograd, symbol, executor, io, module):
// lists of arrays with optional holes, shapes as Python tuples, MXNet's grad_req spellings.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "bind.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/base/shape.h"

namespace mixnet::python {

/*!
 * \brief One NDArray or a list/tuple of them; None items become none arrays when `none_ok`
 * (a missing head gradient), else TypeError naming `what`. None itself is an empty list.
 */
std::vector<NDArray> ArraysFrom(nb::handle h, const char* what, bool none_ok = false);
/*! \brief A Python list of NDArrays (none arrays become None). */
nb::list ArrayList(const std::vector<NDArray>& arrays);
/*! \brief name -> NDArray as a Python dict, in the map's order. */
nb::dict ArrayDict(const std::map<std::string, NDArray>& arrays);

/*! \brief A shape from an int or a sequence of ints. */
Shape ShapeFrom(nb::handle h);
/*! \brief MXNet 1.x's spelling of a shape: a tuple, () when unknown, 0 for an unknown dim. */
nb::tuple ShapeToTuple(const Shape& s);
/*! \brief {name: shape} from a dict of name -> int sequence. */
std::unordered_map<std::string, Shape> ShapeMapFrom(nb::handle dict);

/*! \brief grad_req from a string ('write', 'add', 'null', 'inplace'). */
autograd::GradReq GradReqFrom(nb::handle h);

}  // namespace mixnet::python
