// Conversions shared by the graph-side bindings (autograd, symbol, executor, io, module):
// lists of arrays with optional holes, shapes as Python tuples, MXNet's grad_req spellings.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bind.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/base/shape.h"
#include "mixnet/io/data_iter.h"

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

/*! \brief {name: shape} from a dict of name -> int sequence. */
std::unordered_map<std::string, Shape> ShapeMapFrom(nb::handle dict);

/*! \brief grad_req from a string ('write', 'add', 'null', 'inplace'). */
autograd::GradReq GradReqFrom(nb::handle h);

// ---- io (io.cc) ----
/*! \brief Data descriptions from a list of mx.io.DataDesc or (name, shape) pairs (None: empty);
 * dtype and layout are read from DataDesc attributes when present. */
std::vector<io::DataDesc> DescsFrom(nb::handle descs, const char* what);
/*! \brief The arrays of an mx.io.DataBatch (data, label, pad; a None label is none). */
io::DataBatch BatchFrom(nb::handle batch);
/*! \brief A list of mx.io.DataDesc. */
nb::list DescsToPython(const std::vector<io::DataDesc>& descs);
/*!
 * \brief The C++ iterator behind a Python data iterator: mx.io.NDArrayIter's own, or (for any
 * other object with reset(), next() raising StopIteration, provide_data and provide_label, as
 * MXNet's DataIter) an adapter kept in *holder that calls it, taking the GIL.
 */
io::DataIter* AsDataIter(nb::handle it, std::unique_ptr<io::DataIter>* holder);

}  // namespace mixnet::python
