// Gradients written as graphs of registered ops.
//
// NOTE [ Gradients as op graphs ]
// An op's gradient function does not compute numbers: it composes registered ops through a
// GradBuilder. Autograd runs the builder eagerly on NDArrays (and records it again for
// higher-order gradients); the symbolic gradient pass inserts the same ops as graph nodes.
// So one definition serves every mode, and a fused backward kernel is just another op.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attrs.h"
#include "mixnet/op/invoke.h"

namespace mixnet::op {

struct Attrs;

/*! \brief A value inside a GradBuilder; an invalid one means "no gradient" (zero). */
struct GValue {
  int id = -1;
  bool valid() const { return id >= 0; }
};

class GradBuilder {
 public:
  virtual ~GradBuilder() = default;
  /*! \brief Applies registered op `name` to `inputs`; returns all its outputs. */
  virtual std::vector<GValue> Apply(std::string_view name, std::span<const GValue> inputs,
                                    const AttrDict& attrs) = 0;
  GValue Apply1(std::string_view name, std::initializer_list<GValue> inputs,
                const AttrDict& attrs = {}) {
    return Apply(name, std::span<const GValue>(inputs.begin(), inputs.size()), attrs).at(0);
  }
};

/*!
 * \brief Returns one gradient per input (invalid for inputs without one), given the op's
 * inputs, its outputs and the gradients flowing into its outputs.
 */
using GradientFn = std::function<std::vector<GValue>(
    GradBuilder& g, const Attrs& attrs, std::span<const GValue> inputs,
    std::span<const GValue> outputs, std::span<const GValue> out_grads)>;

/*!
 * \brief Runs a GradBuilder's ops at once on NDArrays, in the mode of the pass being
 * differentiated (`options.is_train`: BatchNorm's backward, for one, depends on it).
 */
class EagerGradBuilder final : public GradBuilder {
 public:
  explicit EagerGradBuilder(InvokeOptions options = {}) : options_(options) {}
  GValue Add(const NDArray& a) {
    values_.push_back(a);
    return GValue{static_cast<int>(values_.size()) - 1};
  }
  const NDArray& Get(GValue v) const { return values_.at(static_cast<size_t>(v.id)); }
  std::vector<GValue> Apply(std::string_view name, std::span<const GValue> inputs,
                            const AttrDict& attrs) override;

 private:
  InvokeOptions options_;
  std::vector<NDArray> values_;
};

}  // namespace mixnet::op
