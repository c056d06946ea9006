/*!
 * \file basic_layers.h
 * \brief Gluon basic layers (gluon.nn.basic_layers and gluon.contrib.nn): containers, Dense,
 * Dropout, the normalisations, Embedding, Flatten, Lambda, Identity and Concurrent.
 *
 *   auto net = std::make_shared<nn::HybridSequential>();
 *   {
 *     gluon::BlockScope scope(net.get());
 *     net->Add({std::make_shared<nn::Dense>(64, nn::DenseOptions{.activation = "relu"}),
 *               std::make_shared<nn::Dropout>(0.5),
 *               std::make_shared<nn::Dense>(10)});  // braces: created (named) in order
 *   }
 *   net->Initialize();                     // in_units are inferred on the first call
 *   NDArray y = (*net)(x);
 *
 * Names, parameter shapes, defaults and initializers follow MXNet 1.9.1, so prefixes
 * ("hybridsequential0_dense0_weight") and structural names ("0.weight") match its files.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "mixnet/gluon/block.h"
#include "mixnet/gluon/nn/activations.h"

namespace mixnet::gluon::nn {

/*!
 * \brief Add/operator[]/size of the sequential containers, over Block or HybridBlock.
 * Children are registered under their index ("0", "1", ...), as MXNet's add.
 */
template <typename Base>
class SequentialContainer : public Base {
 public:
  using Base::Base;
  /*! \brief Appends `block` (net.add(block)). */
  void Add(BlockPtr block) { this->RegisterChild(std::move(block)); }
  /*!
   * \brief net.add(a, b, c). A braced list is evaluated left to right, so blocks created in it
   * are named in order, as in MXNet (a variadic Add would not be: C++ leaves the order of
   * function arguments unspecified).
   */
  void Add(std::initializer_list<BlockPtr> blocks) {
    for (const BlockPtr& b : blocks)
      Add(b);
  }
  /*! \brief The i-th child; IndexError when out of range. */
  BlockPtr operator[](size_t i) const;
  size_t size() const { return this->children().size(); }
};

/*! \brief Runs its children one after another (gluon.nn.Sequential). */
class Sequential : public SequentialContainer<Block> {
 public:
  explicit Sequential(BlockArgs args = {}) : Sequential("sequential", std::move(args)) {}
  std::vector<NDArray> Forward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 protected:
  Sequential(std::string alias, BlockArgs args)
      : SequentialContainer<Block>(std::move(alias), std::move(args)) {}
};

/*! \brief Runs its (hybrid) children one after another (gluon.nn.HybridSequential). */
class HybridSequential : public SequentialContainer<HybridBlock> {
 public:
  explicit HybridSequential(BlockArgs args = {})
      : HybridSequential("hybridsequential", std::move(args)) {}
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 protected:
  HybridSequential(std::string alias, BlockArgs args)
      : SequentialContainer<HybridBlock>(std::move(alias), std::move(args)) {}
};

/*!
 * \brief Runs every child on the same input and concatenates their outputs on `axis`
 * (gluon.contrib.nn.Concurrent).
 */
class Concurrent : public Sequential {
 public:
  explicit Concurrent(int axis = -1, BlockArgs args = {});
  std::vector<NDArray> Forward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

/*! \brief The hybrid form of Concurrent (gluon.contrib.nn.HybridConcurrent). */
class HybridConcurrent : public HybridSequential {
 public:
  explicit HybridConcurrent(int axis = -1, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

/*! \brief Returns its input (gluon.contrib.nn.Identity). */
class Identity : public HybridBlock {
 public:
  explicit Identity(BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
};

using LambdaFunction = std::function<std::vector<NDArray>(const std::vector<NDArray>&)>;

/*! \brief Wraps a function of NDArrays as a Block (gluon.nn.Lambda). */
class Lambda : public Block {
 public:
  explicit Lambda(LambdaFunction function, BlockArgs args = {});
  std::vector<NDArray> Forward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  LambdaFunction function_;
};

/*!
 * \brief Wraps a function of NDArrays as a HybridBlock (gluon.nn.HybridLambda); the function
 * must call ops only (it is traced when hybridized). `alias` names the block's prefix.
 */
class HybridLambda : public HybridBlock {
 public:
  explicit HybridLambda(LambdaFunction function, std::string alias = "hybridlambda",
                        BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  LambdaFunction function_;
};

struct DenseOptions : BlockArgs {
  /*! \brief Activation applied to the output ("relu", ...); empty: none (linear). */
  std::string activation;
  bool use_bias = true;
  /*! \brief True: all but the first axis are collapsed; false: applies on the last axis. */
  bool flatten = true;
  DType dtype = DType::kFloat32;
  /*! \brief Null: weight uses the initializer given to Initialize, bias Zero (MXNet's). */
  init::InitializerPtr weight_initializer, bias_initializer;
  /*! \brief 0: inferred from the first input. */
  int in_units = 0;
};

/*! \brief Fully connected layer: activation(dot(x, weight.T) + bias) (gluon.nn.Dense). */
class Dense : public HybridBlock {
 public:
  explicit Dense(int units, DenseOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

  const ParameterPtr& weight() const { return weight_; }
  /*! \brief Null when use_bias is false. */
  const ParameterPtr& bias() const { return bias_; }

 private:
  int units_;
  bool flatten_;
  ParameterPtr weight_, bias_;
  std::shared_ptr<Activation> act_;
};

struct DropoutOptions : BlockArgs {
  /*! \brief Axes along which the mask is shared; empty: plain dropout. */
  std::vector<int> axes;
};

/*! \brief Zeroes each element with probability `rate` in training (gluon.nn.Dropout). */
class Dropout : public HybridBlock {
 public:
  explicit Dropout(double rate, DropoutOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  double rate_;
  std::vector<int> axes_;
};

struct BatchNormOptions : BlockArgs {
  int axis = 1;
  double momentum = 0.9, epsilon = 1e-5;
  /*! \brief center: add beta; scale: multiply by gamma (else gamma is fixed at 1). */
  bool center = true, scale = true, use_global_stats = false;
  /*! \brief 0: inferred from the first input. */
  int in_channels = 0;
  /*! \brief Null: MXNet's defaults (zeros, ones, zeros, ones). */
  init::InitializerPtr beta_initializer, gamma_initializer, running_mean_initializer,
      running_variance_initializer;
};

/*!
 * \brief Batch normalisation (gluon.nn.BatchNorm). Parameters gamma, beta, running_mean and
 * running_var; the running statistics take no gradient and are updated in training.
 */
class BatchNorm : public HybridBlock {
 public:
  explicit BatchNorm(BatchNormOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  /*! \brief As MXNet: float16 keeps float32 parameters. */
  void Cast(DType dtype) override;
  std::string Repr() const override;

 private:
  BatchNormOptions o_;
  ParameterPtr gamma_, beta_, running_mean_, running_var_;
};

struct LayerNormOptions : BlockArgs {
  int axis = -1;
  double epsilon = 1e-5;
  bool center = true, scale = true;
  init::InitializerPtr beta_initializer, gamma_initializer;
  int in_channels = 0;
};

/*! \brief Layer normalisation over `axis` (gluon.nn.LayerNorm). */
class LayerNorm : public HybridBlock {
 public:
  explicit LayerNorm(LayerNormOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  LayerNormOptions o_;
  ParameterPtr gamma_, beta_;
};

struct GroupNormOptions : BlockArgs {
  int num_groups = 1;
  double epsilon = 1e-5;
  bool center = true, scale = true;
  init::InitializerPtr beta_initializer, gamma_initializer;
};

/*!
 * \brief Group normalisation (gluon.nn.GroupNorm); as in MXNet 1.x gamma and beta have one
 * value per group, shape (num_groups,).
 */
class GroupNorm : public HybridBlock {
 public:
  explicit GroupNorm(GroupNormOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  GroupNormOptions o_;
  ParameterPtr gamma_, beta_;
};

struct InstanceNormOptions : BlockArgs {
  /*! \brief The channel axis (excluded from the normalisation, with axis 0). */
  int axis = 1;
  double epsilon = 1e-5;
  bool center = true, scale = false;
  init::InitializerPtr beta_initializer, gamma_initializer;
  int in_channels = 0;
};

/*! \brief Instance normalisation (gluon.nn.InstanceNorm). */
class InstanceNorm : public HybridBlock {
 public:
  explicit InstanceNorm(InstanceNormOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  InstanceNormOptions o_;
  ParameterPtr gamma_, beta_;
};

struct EmbeddingOptions : BlockArgs {
  DType dtype = DType::kFloat32;
  init::InitializerPtr weight_initializer;
  /*! \brief Accepted for MXNet compatibility; the gradient is dense. */
  bool sparse_grad = false;
};

/*! \brief Maps indices to rows of a (input_dim, output_dim) weight (gluon.nn.Embedding). */
class Embedding : public HybridBlock {
 public:
  Embedding(int input_dim, int output_dim, EmbeddingOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  int input_dim_, output_dim_;
  EmbeddingOptions o_;
  ParameterPtr weight_;
};

/*! \brief Collapses all but the first axis (gluon.nn.Flatten). */
class Flatten : public HybridBlock {
 public:
  explicit Flatten(BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
};

}  // namespace mixnet::gluon::nn
