// Helpers shared by the Gluon nn layers: input checks, op calls and MXNet-style reprs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mixnet/gluon/block.h"
#include "mixnet/gluon/nn/activations.h"
#include "mixnet/op/attr_value.h"
#include "mixnet/op/invoke.h"

namespace mixnet::gluon::nn::detail {

/*! \brief The single input of a layer; ValueError naming `layer` otherwise. */
const NDArray& SingleInput(const std::vector<NDArray>& inputs, std::string_view layer);

/*! \brief The first output of op `name` on `inputs`. */
NDArray CallOp(std::string_view name, const std::vector<NDArray>& inputs,
               const op::AttrDict& attrs = {});

/*! \brief `axis` (possibly negative) as an index into `ndim` axes; ValueError naming `layer`. */
int NormalizeAxis(int axis, int ndim, std::string_view layer);

/*! \brief A Python tuple's repr: "(3,)", "(3, 3)", "()". */
std::string TupleRepr(const std::vector<int>& v);
std::vector<int64_t> ToInt64(const std::vector<int>& v);

/*!
 * \brief MXNet's Block.__repr__: "Name(\n  (key): child\n)" with each child's repr indented;
 * "Name(\n\n)" for a block without children.
 */
std::string ChildrenRepr(const std::string& class_name, const Block& block);

/*! \brief `init`, or MXNet's default initializer of the parameter: One or Zero. */
init::InitializerPtr OrDefault(const init::InitializerPtr& init, bool one);

/*!
 * \brief The activation child of Dense and the convolutions, registered as "act" with the
 * prefix "<act>_" (MXNet's Activation(activation, prefix=activation + '_')); null if `act` is
 * empty. Call inside the layer's BlockScope.
 */
std::shared_ptr<Activation> RegisterActivation(Block* layer, const std::string& act);

/*! \brief Python's repr of a float: shortest round-trip text, "1.0" for a whole number. */
std::string FloatRepr(double v);

}  // namespace mixnet::gluon::nn::detail
