// Embedding losses: TripletLoss and CosineEmbeddingLoss (MXNet 1.x's formulas).
#include <algorithm>
#include <limits>

#include "gluon/loss/math.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/loss.h"

namespace mixnet::gluon::loss {

using namespace math;

TripletLoss::TripletLoss(HingeOptions options)
    : Loss("TripletLoss", options), margin_(options.margin) {}

std::vector<NDArray> TripletLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 3, {"pred", "positive", "negative"});
  const NDArray& pred = inputs[0];
  const NDArray positive = ReshapeLike(inputs[1], pred, "positive");
  const NDArray negative = ReshapeLike(inputs[2], pred, "negative");
  const NDArray gap =
      SumPerSample(Sub(Unary("square", Sub(positive, pred)), Unary("square", Sub(negative, pred))));
  const NDArray loss = Unary("relu", Plus(gap, margin_));
  return {ApplyWeighting(loss, inputs, std::numeric_limits<size_t>::max())};  // no sample_weight
}

CosineEmbeddingLoss::CosineEmbeddingLoss(CosineEmbeddingOptions options)
    : Loss("CosineEmbeddingLoss", options), margin_(options.margin) {}

std::vector<NDArray> CosineEmbeddingLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 3, {"input1", "input2", "label", "sample_weight"});
  const NDArray& input2 = inputs[1];
  const NDArray input1 = ReshapeLike(inputs[0], input2, "input1", "input2");
  MX_CHECK(input2.shape().ndim() >= 1, ValueError)
      << "CosineEmbeddingLoss: inputs must have at least one axis, got shape " << input2.shape();
  const Shape& shape = input2.shape();
  const int64_t rows = input2.Size() / std::max<int64_t>(shape[shape.ndim() - 1], 1);
  MX_CHECK(inputs[2].Size() == rows, ValueError)
      << "CosineEmbeddingLoss: label has shape " << inputs[2].shape() << " but the inputs of shape "
      << input2.shape() << " hold " << rows << " vectors (one label each)";
  const op::AttrDict column{{"shape", "(-1, 1)"}};
  const auto norm = [&](const NDArray& x) {
    return Call("Reshape", {Call("norm", {x}, {{"axis", "(-1,)"}})}, column);
  };
  const NDArray dot = Call("Reshape", {Reduce("sum", Mul(input1, input2), -1, false)}, column);
  const NDArray cos = Call(
      "elemwise_div", {dot, Scalar("_maximum_scalar", Mul(norm(input1), norm(input2)), 1e-12)});
  const NDArray label = Call("Reshape", {inputs[2]}, column);
  const NDArray similar = Mul(RMinus(1.0, cos), Scalar("_equal_scalar", label, 1.0));
  // MXNet's broadcast_maximum(0, ...) is a relu.
  const NDArray dissimilar =
      Unary("relu", Mul(Scalar("_equal_scalar", label, -1.0), Plus(cos, -margin_)));
  return {ApplyWeighting(Add(similar, dissimilar), inputs, 3)};
}

}  // namespace mixnet::gluon::loss
