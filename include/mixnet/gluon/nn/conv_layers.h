/*!
 * \file conv_layers.h
 * \brief Gluon convolution, pooling and padding layers (gluon.nn.conv_layers).
 *
 *   auto conv = std::make_shared<nn::Conv2D>(16, std::vector<int>{3},
 *                                            nn::ConvOptions{.padding = {1}});
 *   auto pool = std::make_shared<nn::MaxPool2D>();       // 2x2, stride 2
 *
 * Window arguments take one value per spatial dimension, or a single value used for all of
 * them; an empty vector means MXNet's default. As in MXNet, every convolution's alias is
 * "conv" and every pooling layer's "pool" (prefixes "conv0_", "pool0_").
 */
#pragma once

#include <string>
#include <vector>

#include "mixnet/gluon/block.h"
#include "mixnet/gluon/nn/activations.h"

namespace mixnet::gluon::nn {

struct ConvOptions : BlockArgs {
  /*! \brief Empty: 1, 0, 1, 0 per dimension; one value: the same for all. */
  std::vector<int> strides, padding, dilation, output_padding;
  int groups = 1;
  /*! \brief Empty: NCW, NCHW or NCDHW. */
  std::string layout;
  /*! \brief 0: inferred from the first input. */
  int in_channels = 0;
  /*! \brief Activation applied to the output; empty: none. */
  std::string activation;
  bool use_bias = true;
  /*! \brief Null: weight uses the initializer given to Initialize, bias Zero (MXNet's). */
  init::InitializerPtr weight_initializer, bias_initializer;
};

/*!
 * \brief The convolutions (MXNet's _Conv): Convolution, or Deconvolution for the transposed
 * forms. Weight (channels, in_channels / groups, *kernel) for a convolution and
 * (in_channels, channels / groups, *kernel) for a transposed one; bias (channels,).
 */
class ConvBase : public HybridBlock {
 public:
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

  const ParameterPtr& weight() const { return weight_; }
  const ParameterPtr& bias() const { return bias_; }

 protected:
  /*! \brief `ndim` spatial dimensions; `class_name` for Repr. */
  ConvBase(std::string class_name, int ndim, bool transpose, int channels,
           std::vector<int> kernel_size, ConvOptions options);

 private:
  Shape WeightShape(int64_t in_channels) const;

  std::string class_name_;
  bool transpose_;
  int channels_;
  std::vector<int> kernel_, strides_, padding_, dilation_, output_padding_;
  ConvOptions o_;
  ParameterPtr weight_, bias_;
  std::shared_ptr<Activation> act_;
};

#define MIXNET_GLUON_CONV_LAYER(Name, ndim, transpose)                                             \
  class Name : public ConvBase {                                                                   \
   public:                                                                                         \
    Name(int channels, std::vector<int> kernel_size, ConvOptions options = {})                     \
        : ConvBase(#Name, ndim, transpose, channels, std::move(kernel_size), std::move(options)) { \
    }                                                                                              \
  };
MIXNET_GLUON_CONV_LAYER(Conv1D, 1, false)
MIXNET_GLUON_CONV_LAYER(Conv2D, 2, false)
MIXNET_GLUON_CONV_LAYER(Conv3D, 3, false)
MIXNET_GLUON_CONV_LAYER(Conv1DTranspose, 1, true)
MIXNET_GLUON_CONV_LAYER(Conv2DTranspose, 2, true)
MIXNET_GLUON_CONV_LAYER(Conv3DTranspose, 3, true)
#undef MIXNET_GLUON_CONV_LAYER

struct PoolOptions : BlockArgs {
  /*! \brief Empty: 2 per dimension. */
  std::vector<int> pool_size;
  /*! \brief Empty: pool_size. */
  std::vector<int> strides;
  /*! \brief Empty: 0. */
  std::vector<int> padding;
  /*! \brief Round the output size up ("full" convention) instead of down. */
  bool ceil_mode = false;
  /*! \brief Empty: NCW, NCHW or NCDHW. */
  std::string layout;
  /*! \brief Average pooling only: whether padded positions count in the mean. */
  bool count_include_pad = true;
};

struct GlobalPoolOptions : BlockArgs {
  std::string layout;
};

/*! \brief The pooling layers (MXNet's _Pooling), over the Pooling op. */
class PoolBase : public HybridBlock {
 public:
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 protected:
  PoolBase(std::string class_name, int ndim, std::string pool_type, PoolOptions options);
  PoolBase(std::string class_name, int ndim, std::string pool_type, GlobalPoolOptions options);

 private:
  PoolBase(std::string class_name, int ndim, std::string pool_type, bool global_pool,
           PoolOptions options);

  std::string class_name_, pool_type_, layout_;
  bool global_pool_, ceil_mode_, count_include_pad_;
  std::vector<int> pool_size_, strides_, padding_;
};

#define MIXNET_GLUON_POOL_LAYER(Name, ndim, type, Options)                                   \
  class Name : public PoolBase {                                                             \
   public:                                                                                   \
    explicit Name(Options options = {}) : PoolBase(#Name, ndim, type, std::move(options)) {} \
  };
MIXNET_GLUON_POOL_LAYER(MaxPool1D, 1, "max", PoolOptions)
MIXNET_GLUON_POOL_LAYER(MaxPool2D, 2, "max", PoolOptions)
MIXNET_GLUON_POOL_LAYER(MaxPool3D, 3, "max", PoolOptions)
MIXNET_GLUON_POOL_LAYER(AvgPool1D, 1, "avg", PoolOptions)
MIXNET_GLUON_POOL_LAYER(AvgPool2D, 2, "avg", PoolOptions)
MIXNET_GLUON_POOL_LAYER(AvgPool3D, 3, "avg", PoolOptions)
MIXNET_GLUON_POOL_LAYER(GlobalMaxPool1D, 1, "max", GlobalPoolOptions)
MIXNET_GLUON_POOL_LAYER(GlobalMaxPool2D, 2, "max", GlobalPoolOptions)
MIXNET_GLUON_POOL_LAYER(GlobalMaxPool3D, 3, "max", GlobalPoolOptions)
MIXNET_GLUON_POOL_LAYER(GlobalAvgPool1D, 1, "avg", GlobalPoolOptions)
MIXNET_GLUON_POOL_LAYER(GlobalAvgPool2D, 2, "avg", GlobalPoolOptions)
MIXNET_GLUON_POOL_LAYER(GlobalAvgPool3D, 3, "avg", GlobalPoolOptions)
#undef MIXNET_GLUON_POOL_LAYER

/*!
 * \brief Reflection padding of the two spatial axes of NCHW input (gluon.nn.ReflectionPad2D).
 * `padding`: one value p for every side, or MXNet's 8 pad_width values.
 */
class ReflectionPad2D : public HybridBlock {
 public:
  explicit ReflectionPad2D(std::vector<int> padding = {0}, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  std::vector<int> padding_;
};

}  // namespace mixnet::gluon::nn
