/*!
 * \file math.h
 * \brief Short names for the op calls the losses are written with. Each is one registered op,
 * so a loss traces into the graph MXNet's hybrid_forward builds.
 *
 * NOTE [ Ops by name in the library ]: the typed functions of mixnet/op/ops.h are generated
 * from the built library, so library code cannot include them; it calls op::Invoke by name.
 */
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attr_value.h"
#include "mixnet/op/invoke.h"

namespace mixnet::gluon::loss::math {

/*! \brief The first output of op `name`. */
inline NDArray Call(std::string_view name, std::initializer_list<NDArray> inputs,
                    const op::AttrDict& attrs = {}) {
  return op::Invoke(name, inputs, attrs)[0];
}
inline NDArray Add(const NDArray& a, const NDArray& b) {
  return Call("elemwise_add", {a, b});
}
inline NDArray Sub(const NDArray& a, const NDArray& b) {
  return Call("elemwise_sub", {a, b});
}
inline NDArray Mul(const NDArray& a, const NDArray& b) {
  return Call("elemwise_mul", {a, b});
}
inline NDArray Neg(const NDArray& a) {
  return Call("negative", {a});
}
/*! \brief One-input ops without attributes: "abs", "square", "relu", "log", "exp", ... */
inline NDArray Unary(std::string_view name, const NDArray& a) {
  return Call(name, {a});
}
/*! \brief Scalar ops ("_mul_scalar", "_plus_scalar", "_rminus_scalar", "_greater_scalar"...). */
inline NDArray Scalar(std::string_view name, const NDArray& a, double s) {
  return Call(name, {a}, {{"scalar", op::AttrValue(s)}, {"is_int", "False"}});
}
inline NDArray Scale(const NDArray& a, double s) {
  return Scalar("_mul_scalar", a, s);
}
inline NDArray Plus(const NDArray& a, double s) {
  return Scalar("_plus_scalar", a, s);
}
/*! \brief s - a. */
inline NDArray RMinus(double s, const NDArray& a) {
  return Scalar("_rminus_scalar", a, s);
}
/*! \brief log(1 + exp(x)). */
inline NDArray SoftRelu(const NDArray& x) {
  return Call("Activation", {x}, {{"act_type", "softrelu"}});
}
/*! \brief "sum" or "mean" over `axis` (keepdims) or, with exclude, over every other axis. */
inline NDArray Reduce(std::string_view name, const NDArray& x, int64_t axis, bool keepdims,
                      bool exclude = false) {
  return Call(name, {x},
              {{"axis", op::AttrValue(std::vector<int64_t>{axis})},
               {"keepdims", op::AttrValue(keepdims)},
               {"exclude", op::AttrValue(exclude)}});
}

}  // namespace mixnet::gluon::loss::math
