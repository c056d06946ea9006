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

/*!
 * \brief Runs op `name` (or an alias) on `inputs`. With `outputs` given, results are written
 * there (they must have the inferred shapes and dtypes); else new arrays are returned.
 */
std::vector<NDArray> Invoke(std::string_view name, std::span<const NDArray> inputs,
                            const AttrDict& attrs = {}, std::span<const NDArray> outputs = {},
                            InvokeOptions options = {});
inline std::vector<NDArray> Invoke(std::string_view name, std::initializer_list<NDArray> inputs,
                                   const AttrDict& attrs = {}) {
  return Invoke(name, std::span<const NDArray>(inputs.begin(), inputs.size()), attrs);
}

/*! \brief Names of all registered ops (without aliases), sorted. */
std::vector<std::string> ListOps();

}  // namespace mixnet::op
