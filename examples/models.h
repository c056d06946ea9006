// The two Fashion-MNIST models of the examples, written imperatively on NDArray ops; shared by
// examples/train_*.cc and benchmarks/train_vs_torch.cc so that both train the same network.
//
//   MLP:   784 -> FC 256 -> act -> FC 128 -> act -> FC 10
//   LeNet: MXNet's classic (example/image-classification/symbols/lenet.py):
//          conv 5x5x20 -> act -> maxpool 2/2 -> conv 5x5x50 -> act -> maxpool 2/2
//          -> FC 500 -> act -> FC 10
// Both return logits; the loss is softmax_cross_entropy (the sum over the batch).
#pragma once

#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/initializer/initializer.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/ops.h"

namespace models {

using mixnet::NDArray;
using mixnet::Shape;
namespace op = mixnet::op;

/*! \brief Named parameters, in the order the optimizer indexes them. */
struct Params {
  std::vector<std::string> names;
  std::vector<NDArray> arrays;
  std::vector<NDArray> grads;  // after AttachGrads

  /*! \brief Adds a parameter; returns its index. Models read params.arrays[index] at each
   * call rather than keeping copies, so that they see the arrays AttachGrads marked. */
  size_t Add(const std::string& name, const Shape& shape) {
    names.push_back(name);
    arrays.push_back(NDArray::Zeros(shape));
    return arrays.size() - 1;
  }
  /*! \brief MXNet's name-based initialisation: weights by `init`, biases zero. */
  void Init(const mixnet::init::Initializer& init) {
    for (size_t i = 0; i < arrays.size(); ++i)
      init(names[i], &arrays[i]);
  }
  void AttachGrads() {
    grads.clear();
    for (NDArray& a : arrays) {
      mixnet::autograd::AttachGrad(&a);
      grads.push_back(mixnet::autograd::GetGrad(a));
    }
  }
  int64_t Count() const {
    int64_t n = 0;
    for (const NDArray& a : arrays)
      n += a.Size();
    return n;
  }
};

class Model {
 public:
  virtual ~Model() = default;
  /*! \brief Logits (batch, 10) of images (batch, 1, 28, 28). */
  virtual NDArray Forward(const NDArray& x) const = 0;
  virtual std::string Describe() const = 0;
  Params params;

 protected:
  const NDArray& P(size_t i) const { return params.arrays[i]; }
};

class MLP : public Model {
 public:
  explicit MLP(std::string act = "relu") : act_(std::move(act)) {
    int64_t in = 28 * 28;
    for (int64_t h : hidden_) {
      const std::string n = "fc" + std::to_string(w_.size() + 1);
      w_.push_back(params.Add(n + "_weight", {h, in}));
      b_.push_back(params.Add(n + "_bias", {h}));
      in = h;
    }
  }
  NDArray Forward(const NDArray& x) const override {
    NDArray h = x;
    for (size_t i = 0; i < w_.size(); ++i) {
      h = op::FullyConnected(h, P(w_[i]), P(b_[i]), {.num_hidden = hidden_[i]});
      if (i + 1 < w_.size()) h = op::Activation(h, {.act_type = act_});
    }
    return h;
  }
  std::string Describe() const override { return "MLP 784-256-128-10 (" + act_ + ")"; }

 private:
  std::string act_;
  std::vector<int64_t> hidden_{256, 128, 10};
  std::vector<size_t> w_, b_;
};

class LeNet : public Model {
 public:
  explicit LeNet(std::string act = "relu") : act_(std::move(act)) {
    c1w_ = params.Add("conv1_weight", {20, 1, 5, 5});
    c1b_ = params.Add("conv1_bias", {20});
    c2w_ = params.Add("conv2_weight", {50, 20, 5, 5});
    c2b_ = params.Add("conv2_bias", {50});
    f1w_ = params.Add("fc1_weight", {500, 50 * 4 * 4});
    f1b_ = params.Add("fc1_bias", {500});
    f2w_ = params.Add("fc2_weight", {10, 500});
    f2b_ = params.Add("fc2_bias", {10});
  }
  NDArray Forward(const NDArray& x) const override {
    const auto pool = [](const NDArray& h) {
      return op::Pooling(h, {.kernel = {{2, 2}}, .pool_type = "max", .stride = {{2, 2}}});
    };
    NDArray h = op::Convolution(x, P(c1w_), P(c1b_), {.kernel = {{5, 5}}, .num_filter = 20});
    h = pool(op::Activation(h, {.act_type = act_}));
    h = op::Convolution(h, P(c2w_), P(c2b_), {.kernel = {{5, 5}}, .num_filter = 50});
    h = pool(op::Activation(h, {.act_type = act_}));
    h = op::Activation(op::FullyConnected(h, P(f1w_), P(f1b_), {.num_hidden = 500}),
                       {.act_type = act_});  // FullyConnected flattens (N, 50, 4, 4)
    return op::FullyConnected(h, P(f2w_), P(f2b_), {.num_hidden = 10});
  }
  std::string Describe() const override {
    return "LeNet conv5x5x20-pool-conv5x5x50-pool-fc500-fc10 (" + act_ + ")";
  }

 private:
  std::string act_;
  size_t c1w_, c1b_, c2w_, c2b_, f1w_, f1b_, f2w_, f2b_;
};

}  // namespace models
