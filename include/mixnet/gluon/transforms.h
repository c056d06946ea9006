// gluon.data.vision.transforms as C++ HybridBlocks over the image ops (mx.nd.image.*), so that
// a DataLoader's workers run them without the GIL and a hybridized Compose traces them.
#pragma once

#include <string>
#include <vector>

#include "mixnet/gluon/block.h"
#include "mixnet/gluon/nn/basic_layers.h"

namespace mixnet::gluon::transforms {

/*! \brief HWC (NHWC) uint8/float32 in [0, 255] -> CHW (NCHW) float32 in [0, 1]. */
class ToTensor : public HybridBlock {
 public:
  explicit ToTensor(BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
};

/*! \brief (x - mean[c]) / std[c] on CHW (NCHW) float32; one value applies to every channel. */
class Normalize : public HybridBlock {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& std() const { return std_; }

 private:
  std::vector<double> mean_, std_;
};

/*! \brief Casts inputs to `dtype` (a DType name: "float32", "float16", ...). */
class Cast : public HybridBlock {
 public:
  explicit Cast(std::string dtype = "float32", BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  std::string dtype_;
};

/*! \brief Flips an HWC image (NHWC batch) left-right or top-bottom with probability 0.5. */
class RandomFlip : public HybridBlock {
 public:
  RandomFlip(bool left_right, BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  bool left_right_;
};

class RandomFlipLeftRight : public RandomFlip {
 public:
  explicit RandomFlipLeftRight(BlockArgs args = {}) : RandomFlip(true, std::move(args)) {}
};

class RandomFlipTopBottom : public RandomFlip {
 public:
  explicit RandomFlipTopBottom(BlockArgs args = {}) : RandomFlip(false, std::move(args)) {}
};

/*!
 * \brief Resizes HWC images (NHWC batches) to size = {width, height}, or {s}: s x s, or with
 * keep_ratio the short edge to s. interpolation: 0 nearest, 1 bilinear, 2 cubic, 3 area.
 */
class Resize : public HybridBlock {
 public:
  Resize(std::vector<int64_t> size, bool keep_ratio = false, int interpolation = 1,
         BlockArgs args = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;

 private:
  std::vector<int64_t> size_;
  bool keep_ratio_;
  int interpolation_;
};

/*! \brief Runs transforms in sequence (gluon's Compose when every transform is a HybridBlock). */
class Compose : public nn::HybridSequential {
 public:
  explicit Compose(BlockArgs args = {}) : nn::HybridSequential("compose", std::move(args)) {}
  std::string Repr() const override;
};

}  // namespace mixnet::gluon::transforms
