// Conversions shared by the NDArray binding files (ndarray.cc, ndarray_index.cc,
// ndarray_io.cc): scalars as attribute strings, array-likes as NDArrays.
#pragma once

#include <string>

#include "bind.h"

namespace mixnet::python {

/*! \brief The NDArray `h` holds, or null. */
NDArray* AsNDArray(nb::handle h);
/*! \brief True for Python and NumPy numbers (numbers.Number), bools included. */
bool IsScalar(nb::handle v);
/*! \brief A number as an op's `scalar` attribute. */
std::string ScalarString(nb::handle v);
/*!
 * \brief A new NDArray copying an array-like (NumPy array, list, NumPy scalar) converted to
 * `dtype` on `ctx`; bfloat16 goes through float32.
 */
NDArray HostToNDArray(nb::handle value, DType dtype, Context ctx);
/*! \brief A NumPy copy of `a` (waits for it, interruptibly). */
nb::object AsNumpy(const NDArray& a);

}  // namespace mixnet::python
