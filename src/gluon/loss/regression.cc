// Regression losses: L2Loss, L1Loss, HuberLoss, PoissonNLLLoss (MXNet 1.x's formulas).
#include <numbers>

#include "gluon/loss/math.h"
#include "mixnet/gluon/loss.h"

namespace mixnet::gluon::loss {

using namespace math;

namespace {
const std::vector<std::string> kPredLabel{"pred", "label", "sample_weight"};

LossOptions WithWeight(LossOptions o, double fallback) {
  if (!o.weight) o.weight = fallback;
  return o;
}
}  // namespace

L2Loss::L2Loss(LossOptions options) : Loss("L2Loss", WithWeight(std::move(options), 1.0)) {}

std::vector<NDArray> L2Loss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  const NDArray& pred = inputs[0];
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  const NDArray loss = Unary("square", Sub(label, pred));
  return {MeanPerSample(ApplyWeighting(loss, inputs, 2, *weight_ / 2))};
}

L1Loss::L1Loss(LossOptions options) : Loss("L1Loss", options) {}

std::vector<NDArray> L1Loss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  const NDArray& pred = inputs[0];
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  return {MeanPerSample(ApplyWeighting(Unary("abs", Sub(label, pred)), inputs, 2))};
}

HuberLoss::HuberLoss(HuberOptions options) : Loss("HuberLoss", options), rho_(options.rho) {
  MX_CHECK(rho_ > 0, ValueError) << "HuberLoss: rho must be > 0, got " << rho_;
}

std::vector<NDArray> HuberLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, kPredLabel);
  const NDArray& pred = inputs[0];
  const NDArray label = ReshapeLike(inputs[1], pred, "label");
  const NDArray d = Unary("abs", Sub(label, pred));
  const NDArray loss = Call("where", {Scalar("_greater_scalar", d, rho_), Plus(d, -0.5 * rho_),
                                      Scale(Unary("square", d), 0.5 / rho_)});
  return {MeanPerSample(ApplyWeighting(loss, inputs, 2))};
}

PoissonNLLLoss::PoissonNLLLoss(PoissonNLLOptions options)
    : Loss("PoissonNLLLoss", options),
      from_logits_(options.from_logits),
      compute_full_(options.compute_full) {}

std::vector<NDArray> PoissonNLLLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, {"pred", "target", "sample_weight"});
  const NDArray& pred = inputs[0];
  const NDArray target = ReshapeLike(inputs[1], pred, "target");
  constexpr double kEpsilon = 1e-08;
  NDArray loss = from_logits_ ? Sub(Unary("exp", pred), Mul(target, pred))
                              : Sub(pred, Mul(target, Unary("log", Plus(pred, kEpsilon))));
  if (compute_full_) {
    // Stirling's log(target!) ~ t log t - t + 0.5 log(2 pi t), for t > 1 only. MXNet multiplies
    // by (t > 1), which turns 0 * log(0) into NaN for zero counts; selecting keeps them at 0.
    const NDArray stirling = Add(Sub(Mul(target, Unary("log", target)), target),
                                 Scale(Unary("log", Scale(target, 2 * std::numbers::pi)), 0.5));
    loss = Add(loss, Call("where", {Scalar("_greater_scalar", target, 1.0), stirling,
                                    Call("zeros_like", {target})}));
  }
  return {Call("mean", {ApplyWeighting(loss, inputs, 2)})};
}

}  // namespace mixnet::gluon::loss
