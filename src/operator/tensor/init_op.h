// Shared by ops without inputs (init ops, random samplers): MXNet's shape, ctx and dtype
// attributes, and filling an output of any dtype.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "operator/op_def.h"

namespace mixnet::op {

/*! \brief dtype names in type-flag order, so an Enum field's index is the DType flag. */
inline std::vector<std::string> DTypeFlagNames() {
  return {"float32", "float64", "float16", "uint8",  "int32",  "int8",    "int64",
          "bool",    "int16",   "uint16",  "uint32", "uint64", "bfloat16"};
}

/*!
 * \brief Output 0 takes `shape`. An empty tuple (MXNet's default) leaves the shape to the
 * caller or the graph, as MXNet 1.x's legacy shape semantics do.
 */
inline void AssignParamShape(const Attrs& attrs, const std::vector<int64_t>& shape,
                             std::vector<Shape>* out) {
  if (!shape.empty()) AssignShape(attrs, "shape", &(*out)[0], Shape(std::span(shape)));
}

/*! \brief A double converted to element type T (16-bit floats go through float). */
template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>) {
    return T(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

}  // namespace mixnet::op
