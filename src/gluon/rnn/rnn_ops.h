// Calling registered ops by name from the rnn blocks. The typed functions of
// mixnet/op/ops.h are generated from the built library, so library code cannot include them;
// these wrap op::Invoke with MXNet's attribute text instead.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mixnet/base/dtype.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attr_value.h"
#include "mixnet/op/invoke.h"

namespace mixnet::gluon::rnn::detail {

/*! \brief An attribute's text: Attr(int64_t{2}), Attr(0.5), Attr(true), Attr(dims). */
inline std::string Attr(int64_t v) {
  return op::AttrValue(v);
}
inline std::string Attr(double v) {
  return op::AttrValue(v);
}
inline std::string Attr(bool v) {
  return op::AttrValue(v);
}
inline std::string Attr(const std::vector<int64_t>& v) {
  return op::AttrValue(v);
}

/*! \brief The first output of op `name`. */
inline NDArray Op(std::string_view name, std::span<const NDArray> inputs,
                  const op::AttrDict& attrs = {}) {
  return op::Invoke(name, inputs, attrs)[0];
}
inline NDArray Op(std::string_view name, std::initializer_list<NDArray> inputs,
                  const op::AttrDict& attrs = {}) {
  return Op(name, std::span<const NDArray>(inputs.begin(), inputs.size()), attrs);
}

/*! \brief Zeros of `shape` made by an op, so that a trace records them. */
inline NDArray Zeros(const Shape& shape, Context ctx, DType dtype) {
  return Op("_zeros", {},
            {{"shape", Attr(std::vector<int64_t>(shape.begin(), shape.end()))},
             {"ctx", ctx.ToString()},
             {"dtype", DTypeName(dtype)}});
}

inline NDArray SwapTimeBatch(const NDArray& x) {
  return Op("SwapAxis", {x}, {{"dim1", "0"}, {"dim2", "1"}});
}

inline NDArray Reshape(const NDArray& x, const std::vector<int64_t>& shape) {
  return Op("Reshape", {x}, {{"shape", Attr(shape)}});
}

/*! \brief Concat (dim) or stack (axis) of `xs`. */
inline NDArray Join(std::string_view name, std::span<const NDArray> xs, int64_t axis) {
  return Op(name, xs,
            {{"num_args", Attr(static_cast<int64_t>(xs.size()))},
             {name == "Concat" ? "dim" : "axis", Attr(axis)}});
}

/*! \brief split(x, num_outputs = x.shape[axis], axis, squeeze_axis=True). */
inline std::vector<NDArray> Unstack(const NDArray& x, int64_t axis) {
  return op::Invoke("SliceChannel", {x},
                    {{"num_outputs", Attr(x.shape()[static_cast<int>(axis)])},
                     {"axis", Attr(axis)},
                     {"squeeze_axis", "True"}});
}

}  // namespace mixnet::gluon::rnn::detail
