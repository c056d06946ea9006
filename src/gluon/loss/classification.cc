// Classification losses: SoftmaxCrossEntropyLoss, SigmoidBinaryCrossEntropyLoss, KLDivLoss,
// HingeLoss, SquaredHingeLoss, LogisticLoss (MXNet 1.x's formulas).
#include "gluon/loss/math.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/loss.h"

namespace mixnet::gluon::loss {

using namespace math;

namespace {
const std::vector<std::string> kPredLabel{"pred", "label", "sample_weight"};

/*! \brief -log(sigmoid(x)) * z - log(1 - sigmoid(x)) * (1 - z), without overflow. */
NDArray BCEFromLogits(const NDArray& x, const NDArray& z) {
  return Add(Sub(Unary("relu", x), Mul(x, z)), SoftRelu(Neg(Unary("abs", x))));
}

/*! \brief `axis` in [0, ndim); ValueError naming the loss otherwise. */
int NormalizeAxis(const char* loss, int axis, const NDArray& pred) {
  const int ndim = pred.shape().ndim();
  MX_CHECK(axis >= -ndim && axis < ndim, ValueError)
      << loss << ": axis " << axis << " is out of range for pred of shape " << pred.shape();
  return axis < 0 ? axis + ndim : axis;
}
}  // namespace

// ---------------------------------------------------------------- SoftmaxCrossEntropyLoss

SoftmaxCrossEntropyLoss::SoftmaxCrossEntropyLoss(SoftmaxCEOptions options)
    : Loss("SoftmaxCrossEntropyLoss", options),
      axis_(options.axis),
      sparse_label_(options.sparse_label),
      from_logits_(options.from_logits) {}

std::vector<NDArray> SoftmaxCrossEntropyLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  NDArray pred = inputs[0];
  const int axis = NormalizeAxis("SoftmaxCrossEntropyLoss", axis_, pred);
  const op::AttrDict axis_attr{{"axis", std::to_string(axis)}};
  if (!from_logits_) pred = Call("log_softmax", {pred}, axis_attr);
  NDArray loss;
  if (sparse_label_) {
    // One class index per position: pred's shape without `axis` (or with it as 1).
    const Shape& ps = pred.shape();
    const Shape& ls = inputs[1].shape();
    std::vector<int64_t> dims(ps.data(), ps.data() + ps.ndim());
    dims[static_cast<size_t>(axis)] = 1;
    const Shape kept(dims);
    dims.erase(dims.begin() + axis);
    const bool ok = ls == Shape(dims) || ls == kept;
    MX_CHECK(ok, ValueError) << "SoftmaxCrossEntropyLoss: sparse label has shape " << ls
                             << " but pred has shape " << ps
                             << ": the label must be pred's shape without axis " << axis;
    // The pick op wants the index in the shape of its output: keepdims only for a kept axis.
    const bool kept_label = ls == kept;
    loss = Call("pick", {pred, inputs[1]},
                {{"axis", std::to_string(axis)}, {"keepdims", op::AttrValue(kept_label)}});
    if (!kept_label) loss = Call("expand_dims", {loss}, {{"axis", std::to_string(axis)}});
    loss = Neg(loss);
  } else {
    const NDArray label = ReshapeLike(inputs[1], pred, "label");
    loss = Neg(Reduce("sum", Mul(pred, label), axis, true));
  }
  return {MeanPerSample(ApplyWeighting(loss, inputs, 2))};
}

// ---------------------------------------------------------------- SigmoidBinaryCrossEntropyLoss

SigmoidBinaryCrossEntropyLoss::SigmoidBinaryCrossEntropyLoss(SigmoidBCEOptions options)
    : Loss("SigmoidBinaryCrossEntropyLoss", options), from_sigmoid_(options.from_sigmoid) {}

std::vector<NDArray> SigmoidBinaryCrossEntropyLoss::HybridForward(
    const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, {"pred", "label", "sample_weight", "pos_weight"});
  const NDArray& pred = inputs[0];
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  const NDArray pos_weight = inputs.size() > 3 ? inputs[3] : NDArray();
  NDArray loss;
  if (!from_sigmoid_) {
    if (pos_weight.is_none()) {
      loss = BCEFromLogits(pred, label);
    } else {
      // 1 + (pos_weight - 1) * label scales the log(sigmoid) term of positive labels.
      const NDArray log_weight = Plus(Call("broadcast_mul", {Plus(pos_weight, -1.0), label}), 1.0);
      loss = Add(Sub(pred, Mul(pred, label)),
                 Mul(log_weight, Add(SoftRelu(Neg(Unary("abs", pred))), Unary("relu", Neg(pred)))));
    }
  } else {
    constexpr double kEps = 1e-12;
    NDArray pos = Mul(Unary("log", Plus(pred, kEps)), label);
    if (!pos_weight.is_none()) pos = Call("broadcast_mul", {pos, pos_weight});
    loss = Neg(Add(pos, Mul(Unary("log", Plus(RMinus(1.0, pred), kEps)), RMinus(1.0, label))));
  }
  return {MeanPerSample(ApplyWeighting(loss, inputs, 2))};
}

// ---------------------------------------------------------------- KLDivLoss

KLDivLoss::KLDivLoss(KLDivOptions options)
    : Loss("KLDivLoss", options), from_logits_(options.from_logits), axis_(options.axis) {}

std::vector<NDArray> KLDivLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  NDArray pred = inputs[0];
  if (!from_logits_) {
    const int axis = NormalizeAxis("KLDivLoss", axis_, pred);
    pred = Call("log_softmax", {pred}, {{"axis", std::to_string(axis)}});
  }
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  const NDArray loss = Mul(label, Sub(Unary("log", Plus(label, 1e-12)), pred));
  return {SumPerSample(ApplyWeighting(loss, inputs, 2))};
}

// ---------------------------------------------------------------- hinge and logistic

HingeLoss::HingeLoss(HingeOptions options) : Loss("HingeLoss", options), margin_(options.margin) {}

std::vector<NDArray> HingeLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  const NDArray& pred = inputs[0];
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  const NDArray loss = Unary("relu", RMinus(margin_, Mul(pred, label)));
  return {MeanPerSample(ApplyWeighting(loss, inputs, 2))};
}

SquaredHingeLoss::SquaredHingeLoss(HingeOptions options)
    : Loss("SquaredHingeLoss", options), margin_(options.margin) {}

std::vector<NDArray> SquaredHingeLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  const NDArray& pred = inputs[0];
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  const NDArray loss = Unary("square", Unary("relu", RMinus(margin_, Mul(pred, label))));
  return {MeanPerSample(ApplyWeighting(loss, inputs, 2))};
}

LogisticLoss::LogisticLoss(LogisticOptions options)
    : Loss("LogisticLoss", options), label_format_(options.label_format) {
  MX_CHECK(label_format_ == "signed" || label_format_ == "binary", ValueError)
      << "LogisticLoss: label_format can only be signed or binary, received '" << label_format_
      << "'";
}

std::vector<NDArray> LogisticLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  const NDArray& pred = inputs[0];
  NDArray label = ReshapeLike(inputs[1], pred, "label");
  if (label_format_ == "signed") label = Scale(Plus(label, 1.0), 0.5);  // {-1, 1} -> {0, 1}
  return {MeanPerSample(ApplyWeighting(BCEFromLogits(pred, label), inputs, 2))};
}

}  // namespace mixnet::gluon::loss
