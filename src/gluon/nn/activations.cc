// Gluon activation layers (MXNet 1.9.1 gluon/nn/activations.py): each is one registered op
// (Activation, LeakyReLU with its act_type) except Swish, composed from three.
#include "mixnet/gluon/nn/activations.h"

#include "layer_util.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::nn {

using detail::CallOp;
using detail::SingleInput;

// NOTE [ Activation alias ]: MXNet's Activation names itself after its function
// (Activation._alias returns act_type), so nn.Activation('relu') has the prefix "relu0_".
Activation::Activation(std::string act_type, BlockArgs args)
    : HybridBlock(act_type, std::move(args)), act_type_(std::move(act_type)) {}

std::vector<NDArray> Activation::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("Activation", {SingleInput(inputs, "Activation")}, {{"act_type", act_type_}})};
}

std::string Activation::Repr() const {
  return "Activation(" + act_type_ + ")";
}

LeakyReLU::LeakyReLU(double alpha, BlockArgs args)
    : HybridBlock("leakyrelu", std::move(args)), alpha_(alpha) {
  MX_CHECK(alpha >= 0, ValueError) << "LeakyReLU: the slope alpha must be >= 0, got " << alpha;
}

std::vector<NDArray> LeakyReLU::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("LeakyReLU", {SingleInput(inputs, "LeakyReLU")},
                 {{"act_type", "leaky"}, {"slope", op::AttrValue(alpha_)}})};
}

std::string LeakyReLU::Repr() const {
  return "LeakyReLU(" + detail::FloatRepr(alpha_) + ")";
}

PReLU::PReLU(PReLUOptions options) : HybridBlock("prelu", options) {
  MX_CHECK(options.in_channels >= 1, ValueError)
      << "PReLU: in_channels must be >= 1, got " << options.in_channels;
  init::InitializerPtr init = options.alpha_initializer;
  if (!init) init = std::make_shared<init::Constant>(0.25);
  alpha_ = RegisterParameter("alpha", Shape{options.in_channels}, {.init = init});
}

std::vector<NDArray> PReLU::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "PReLU");
  return {CallOp("LeakyReLU", {x, alpha_->data(x.ctx())}, {{"act_type", "prelu"}})};
}

std::string PReLU::Repr() const {
  return detail::ChildrenRepr("PReLU", *this);
}

ELU::ELU(double alpha, BlockArgs args) : HybridBlock("elu", std::move(args)), alpha_(alpha) {}

std::vector<NDArray> ELU::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("LeakyReLU", {SingleInput(inputs, "ELU")},
                 {{"act_type", "elu"}, {"slope", op::AttrValue(alpha_)}})};
}

std::string ELU::Repr() const {
  return detail::ChildrenRepr("ELU", *this);
}

SELU::SELU(BlockArgs args) : HybridBlock("selu", std::move(args)) {}

std::vector<NDArray> SELU::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("LeakyReLU", {SingleInput(inputs, "SELU")}, {{"act_type", "selu"}})};
}

std::string SELU::Repr() const {
  return detail::ChildrenRepr("SELU", *this);
}

GELU::GELU(BlockArgs args) : HybridBlock("gelu", std::move(args)) {}

std::vector<NDArray> GELU::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("LeakyReLU", {SingleInput(inputs, "GELU")}, {{"act_type", "gelu"}})};
}

std::string GELU::Repr() const {
  return detail::ChildrenRepr("GELU", *this);
}

Swish::Swish(double beta, BlockArgs args) : HybridBlock("swish", std::move(args)), beta_(beta) {}

std::vector<NDArray> Swish::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "Swish");
  // x * sigmoid(beta * x), the ops MXNet's Swish records.
  const NDArray bx =
      CallOp("_mul_scalar", {x}, {{"scalar", op::AttrValue(beta_)}, {"is_int", "False"}});
  return {CallOp("elemwise_mul", {x, CallOp("sigmoid", {bx})})};
}

std::string Swish::Repr() const {
  return detail::ChildrenRepr("Swish", *this);
}

}  // namespace mixnet::gluon::nn
