// gluon.data.vision.transforms' C++ blocks: each calls one image op (src/operator/image).
#include "mixnet/gluon/transforms.h"

#include "mixnet/op/attr_value.h"
#include "nn/layer_util.h"

namespace mixnet::gluon::transforms {

using nn::detail::CallOp;
using nn::detail::FloatRepr;
using nn::detail::SingleInput;

namespace {

/*! \brief "(0.5, 0.25)" as the op's tuple attribute and Python's repr of the tuple. */
std::string TupleText(const std::vector<double>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + FloatRepr(v[i]);
  return out + (v.size() == 1 ? ",)" : ")");
}

std::string IntTuple(const std::vector<int64_t>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + std::to_string(v[i]);
  return out + (v.size() == 1 ? ",)" : ")");
}

}  // namespace

ToTensor::ToTensor(BlockArgs args) : HybridBlock("totensor", std::move(args)) {}

std::vector<NDArray> ToTensor::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("_image_to_tensor", {SingleInput(inputs, "ToTensor")})};
}

std::string ToTensor::Repr() const {
  return nn::detail::ChildrenRepr("ToTensor", *this);
}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std, BlockArgs args)
    : HybridBlock("normalize", std::move(args)), mean_(std::move(mean)), std_(std::move(std)) {
  MX_CHECK(!mean_.empty() && !std_.empty(), ValueError)
      << "Normalize: mean and std need at least one value each";
}

std::vector<NDArray> Normalize::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("_image_normalize", {SingleInput(inputs, "Normalize")},
                 {{"mean", TupleText(mean_)}, {"std", TupleText(std_)}})};
}

std::string Normalize::Repr() const {
  return "Normalize(mean=" + TupleText(mean_) + ", std=" + TupleText(std_) + ")";
}

Cast::Cast(std::string dtype, BlockArgs args)
    : HybridBlock("cast", std::move(args)), dtype_(std::move(dtype)) {}

std::vector<NDArray> Cast::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("Cast", {SingleInput(inputs, "Cast")}, {{"dtype", dtype_}})};
}

std::string Cast::Repr() const {
  return "Cast(dtype=" + dtype_ + ")";
}

RandomFlip::RandomFlip(bool left_right, BlockArgs args)
    : HybridBlock(left_right ? "randomflipleftright" : "randomfliptopbottom", std::move(args)),
      left_right_(left_right) {}

std::vector<NDArray> RandomFlip::HybridForward(const std::vector<NDArray>& inputs) {
  const char* name = left_right_ ? "RandomFlipLeftRight" : "RandomFlipTopBottom";
  return {CallOp(left_right_ ? "_image_random_flip_left_right" : "_image_random_flip_top_bottom",
                 {SingleInput(inputs, name)})};
}

std::string RandomFlip::Repr() const {
  return nn::detail::ChildrenRepr(left_right_ ? "RandomFlipLeftRight" : "RandomFlipTopBottom",
                                  *this);
}

Resize::Resize(std::vector<int64_t> size, bool keep_ratio, int interpolation, BlockArgs args)
    : HybridBlock("resize", std::move(args)),
      size_(std::move(size)),
      keep_ratio_(keep_ratio),
      interpolation_(interpolation) {
  MX_CHECK(size_.size() == 1 || size_.size() == 2, ValueError)
      << "Resize: size must be an int or (width, height), got " << size_.size() << " values";
}

std::vector<NDArray> Resize::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("_image_resize", {SingleInput(inputs, "Resize")},
                 {{"size", IntTuple(size_)},
                  {"keep_ratio", keep_ratio_ ? "true" : "false"},
                  {"interp", std::to_string(interpolation_)}})};
}

std::string Resize::Repr() const {
  const std::string size = size_.size() == 1 ? std::to_string(size_[0]) : IntTuple(size_);
  return "Resize(size=" + size + ", keep_ratio=" + (keep_ratio_ ? "True" : "False") +
         ", interpolation=" + std::to_string(interpolation_) + ")";
}

std::string Compose::Repr() const {
  return nn::detail::ChildrenRepr("Compose", *this);
}

}  // namespace mixnet::gluon::transforms
