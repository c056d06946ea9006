// Short names for composing gradients out of registered ops (NOTE [ Gradients as op graphs ]).
#pragma once

#include <string>

#include "operator/gradient.h"
#include "operator/param.h"

namespace mixnet::op::grad {

inline AttrDict Scalar(double s) {
  return {{"scalar", ValueCodec<double>::Print(s)}};
}

inline GValue Add(GradBuilder& g, GValue a, GValue b) {
  return g.Apply1("elemwise_add", {a, b});
}
inline GValue Sub(GradBuilder& g, GValue a, GValue b) {
  return g.Apply1("elemwise_sub", {a, b});
}
inline GValue Mul(GradBuilder& g, GValue a, GValue b) {
  return g.Apply1("elemwise_mul", {a, b});
}
inline GValue Div(GradBuilder& g, GValue a, GValue b) {
  return g.Apply1("elemwise_div", {a, b});
}
inline GValue Neg(GradBuilder& g, GValue a) {
  return g.Apply1("negative", {a});
}
inline GValue AddScalar(GradBuilder& g, GValue a, double s) {
  return g.Apply1("_plus_scalar", {a}, Scalar(s));
}
inline GValue MulScalar(GradBuilder& g, GValue a, double s) {
  return g.Apply1("_mul_scalar", {a}, Scalar(s));
}
/*! \brief s - a */
inline GValue RSubScalar(GradBuilder& g, GValue a, double s) {
  return g.Apply1("_rminus_scalar", {a}, Scalar(s));
}
inline GValue Unary(GradBuilder& g, const char* op, GValue a) {
  return g.Apply1(op, {a});
}

}  // namespace mixnet::op::grad
