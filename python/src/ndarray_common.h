// Conversions shared by the NDArray binding files (ndarray.cc, ndarray_index.cc,
// ndarray_io.cc): shapes as tuples, scalars as attribute strings, array-likes as NDArrays.
#pragma once

#include <string>

#include "bind.h"

namespace mixnet::python {

/*! \brief A shape from an int or a sequence of ints. */
Shape ToShape(nb::handle h);
/*! \brief A shape as a Python tuple. */
nb::tuple ShapeTuple(const Shape& s);
/*! \brief The NDArray `h` holds, or null. */
NDArray* AsNDArray(nb::handle h);
/*! \brief True for Python and NumPy numbers (numbers.Number), bools included. */
bool IsScalar(nb::handle v);
/*! \brief A number as an op's `scalar` attribute. */
std::string ScalarString(nb::handle v);
/*! \brief numpy, imported once. */
nb::handle NumpyModule();
/*!
 * \brief A new NDArray copying an array-like (NumPy array, list, NumPy scalar) converted to
 * `dtype` on `ctx`; bfloat16 goes through float32.
 */
NDArray HostToNDArray(nb::handle value, DType dtype, Context ctx);
/*! \brief A NumPy copy of `a` (waits for it, interruptibly). */
nb::object AsNumpy(const NDArray& a);

}  // namespace mixnet::python
