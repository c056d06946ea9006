/*!
 * \file activations.h
 * \brief Gluon activation layers (gluon.nn.Activation, LeakyReLU, PReLU, ELU, SELU, GELU, Swish).
 *
 *   auto act = std::make_shared<nn::Activation>("relu");   // prefix "relu0_", as MXNet
 *   NDArray y = (*act)(x);
 */
#pragma once

#include <string>

#include "mixnet/gluon/block.h"

namespace mixnet::gluon::nn {

/*! \brief An element-wise activation (the Activation op); its alias is the act_type. */
class Activation : public HybridBlock {
 public:
  explicit Activation(std::string act_type, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
  const std::string& act_type() const { return act_type_; }

 private:
  std::string act_type_;
};

/*! \brief Leaky ReLU with a fixed slope `alpha` (>= 0) for negative inputs. */
class LeakyReLU : public HybridBlock {
 public:
  explicit LeakyReLU(double alpha, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  double alpha_;
};

struct PReLUOptions : BlockArgs {
  /*! \brief Initializer of alpha; null: Constant(0.25), as MXNet. */
  init::InitializerPtr alpha_initializer;
  /*! \brief Number of slopes: 1 (shared) or the channels of axis 1. */
  int in_channels = 1;
};

/*! \brief Parametric ReLU: a learned slope "alpha" of shape (in_channels,). */
class PReLU : public HybridBlock {
 public:
  explicit PReLU(PReLUOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  ParameterPtr alpha_;
};

/*! \brief Exponential linear unit: x > 0 ? x : alpha * (exp(x) - 1). */
class ELU : public HybridBlock {
 public:
  explicit ELU(double alpha = 1.0, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  double alpha_;
};

/*! \brief Scaled exponential linear unit (Klambauer et al.). */
class SELU : public HybridBlock {
 public:
  explicit SELU(BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
};

/*! \brief Gaussian error linear unit (the erf form). */
class GELU : public HybridBlock {
 public:
  explicit GELU(BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
};

/*! \brief Swish: x * sigmoid(beta * x). */
class Swish : public HybridBlock {
 public:
  explicit Swish(double beta = 1.0, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  double beta_;
};

}  // namespace mixnet::gluon::nn
