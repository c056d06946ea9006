/*!
 * \file invoke.h
 * \brief Running a registered operator on NDArrays by name, with MXNet string attributes.
 *
 *   auto y = mx::op::Invoke("Activation", {x}, {{"act_type", "relu"}})[0];
 *
 * This is the generic path the C API, symbol JSON and Python use. Shapes and dtypes are
 * inferred before anything is pushed, so a wrong shape, dtype or attribute raises at the call,
 * naming the op and the argument; the computation itself runs asynchronously in the engine.
 */
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attrs.h"

namespace mixnet::op {

/*! \brief Options of one call. */
struct InvokeOptions {
  /*! \brief Training mode (Dropout, BatchNorm statistics); autograd sets it when recording. */
  bool is_train = false;
  /*! \brief Run this kernel (by name) instead of the first that accepts the case; for tests
   * that compare kernels, and debugging. It must accept the case. */
  std::string_view kernel;
};

/*! \brief A registered operator (opaque here; see src/operator/op_def.h). */
struct OpDef;

/*!
 * \brief The op called `name` (or an alias), to invoke it without looking the name up on every
 * call; ValueError naming the nearest names if there is none. Handles live for the process.
 */
const OpDef* GetOp(std::string_view name);

/*!
 * \brief Runs op `name` (or an alias) on `inputs`. With `outputs` given, results are written
 * there (they must have the inferred shapes and dtypes); else new arrays are returned.
 *
 * Parsed attributes are cached per thread (equal strings parse once, NOTE [ Attribute cache ]
 * in src/operator/attrs_cache.h), and a warm call allocates little beyond its outputs.
 */
std::vector<NDArray> Invoke(std::string_view name, std::span<const NDArray> inputs,
                            const AttrDict& attrs = {}, std::span<const NDArray> outputs = {},
                            InvokeOptions options = {});
/*! \brief The same for an op resolved with GetOp. */
std::vector<NDArray> Invoke(const OpDef* op, std::span<const NDArray> inputs,
                            const AttrDict& attrs = {}, std::span<const NDArray> outputs = {},
                            InvokeOptions options = {});
inline std::vector<NDArray> Invoke(std::string_view name, std::initializer_list<NDArray> inputs,
                                   const AttrDict& attrs = {}) {
  return Invoke(name, std::span<const NDArray>(inputs.begin(), inputs.size()), attrs);
}

/*! \brief Names of all registered ops (without aliases), sorted. */
std::vector<std::string> ListOps();

}  // namespace mixnet::op
