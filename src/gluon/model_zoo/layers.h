// Shorthands the model-zoo files build their networks with (private to src/gluon/model_zoo).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/gluon/model_zoo.h"
#include "mixnet/gluon/nn.h"

namespace mixnet::gluon::model_zoo::vision::detail {

using SequentialPtr = std::shared_ptr<nn::HybridSequential>;
using ConcurrentPtr = std::shared_ptr<nn::HybridConcurrent>;

/*! \brief BlockArgs with MXNet's prefix= (nullopt: alias and counter). */
inline BlockArgs Prefix(std::optional<std::string> prefix) {
  BlockArgs args;
  args.prefix = std::move(prefix);
  return args;
}

/*! \brief nn.HybridSequential(prefix=prefix); MXNet's model zoo mostly passes prefix=''. */
inline SequentialPtr Sequential(std::optional<std::string> prefix = "") {
  return std::make_shared<nn::HybridSequential>(Prefix(std::move(prefix)));
}

/*! \brief contrib.nn.HybridConcurrent(axis=1, prefix=prefix). */
inline ConcurrentPtr Concurrent(std::string prefix = "") {
  return std::make_shared<nn::HybridConcurrent>(1, Prefix(std::move(prefix)));
}

inline BlockPtr Conv(int channels, std::vector<int> kernel, nn::ConvOptions options = {}) {
  return std::make_shared<nn::Conv2D>(channels, std::move(kernel), std::move(options));
}

inline BlockPtr BatchNorm(nn::BatchNormOptions options = {}) {
  return std::make_shared<nn::BatchNorm>(std::move(options));
}

inline BlockPtr Relu() {
  return std::make_shared<nn::Activation>("relu");
}

inline BlockPtr MaxPool(int size, int stride, int pad = 0, bool ceil_mode = false) {
  return std::make_shared<nn::MaxPool2D>(nn::PoolOptions{
      .pool_size = {size}, .strides = {stride}, .padding = {pad}, .ceil_mode = ceil_mode});
}

inline BlockPtr AvgPool(int size, int stride, int pad = 0) {
  return std::make_shared<nn::AvgPool2D>(
      nn::PoolOptions{.pool_size = {size}, .strides = {stride}, .padding = {pad}});
}

inline BlockPtr Dense(int units, nn::DenseOptions options = {}) {
  return std::make_shared<nn::Dense>(units, std::move(options));
}

inline BlockPtr Flatten() {
  return std::make_shared<nn::Flatten>();
}

inline BlockPtr Dropout(double rate) {
  return std::make_shared<nn::Dropout>(rate);
}

/*!
 * \brief Loads the pretrained weights of model `name` into `net` when options.pretrained (the
 * file PretrainedFile names, onto options.ctx); returns `net`.
 */
std::shared_ptr<HybridBlock> LoadPretrained(std::shared_ptr<HybridBlock> net,
                                            const std::string& name, const ModelOptions& options);

}  // namespace mixnet::gluon::model_zoo::vision::detail
