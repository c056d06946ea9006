/*!
 * \file loss.h
 * \brief Gluon losses (mx.gluon.loss): hybrid blocks from (pred, label) to one loss per sample.
 *
 *   gluon::loss::SoftmaxCrossEntropyLoss loss_fn;
 *   autograd::RecordScope record;
 *   NDArray l = loss_fn({net(x), y})[0];           // shape (batch,)
 *   autograd::Backward({l});
 *
 * Inputs are {pred, label} or {pred, label, sample_weight} (TripletLoss: {pred, positive,
 * negative}; CosineEmbeddingLoss: {input1, input2, label[, sample_weight]}; CTCLoss: {pred,
 * label[, pred_lengths, label_lengths[, sample_weight]]}). As in MXNet 1.x, a loss multiplies by
 * sample_weight (broadcast), then by the scalar `weight` when set, and averages every axis but
 * `batch_axis` (KLDivLoss and TripletLoss sum instead; PoissonNLLLoss averages everything).
 * Every loss is written once against NDArray ops, so it hybridizes like any block. Names
 * follow MXNet: the prefix is the lowercase class name ("softmaxcrossentropyloss0_").
 */
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mixnet/gluon/block.h"

namespace mixnet::gluon::loss {

/*! \brief Arguments of every loss: the scalar weight (None: none) and the batch axis. */
struct LossOptions : BlockArgs {
  std::optional<double> weight;
  int batch_axis = 0;
};

/*! \brief Base class (gluon.loss.Loss): weighting and the per-sample reduction. */
class Loss : public HybridBlock {
 public:
  /*! \brief `class_name` is MXNet's class name ("L2Loss"); the alias is its lowercase. */
  Loss(std::string class_name, const LossOptions& options);

  const std::optional<double>& weight() const { return weight_; }
  int batch_axis() const { return batch_axis_; }
  /*! \brief MXNet's __repr__: "L2Loss(batch_axis=0, w=1.0)". */
  std::string Repr() const override;

 protected:
  /*!
   * \brief ValueError unless there are between `min` and `names.size()` inputs; the message
   * lists `names`, the inputs this loss takes, in order.
   */
  void CheckInputs(const std::vector<NDArray>& inputs, size_t min,
                   const std::vector<std::string>& names) const;
  /*! \brief `x` reshaped to `like`'s shape (MXNet's _reshape_like); ValueError naming
   * `what`, `like_what` and both shapes when the sizes differ. */
  NDArray ReshapeLike(const NDArray& x, const NDArray& like, const char* what,
                      const char* like_what = "pred") const;
  /*!
   * \brief MXNet's _apply_weighting: loss * sample_weight (broadcast; skipped when the input
   * is absent or none), then * weight (when set).
   */
  NDArray ApplyWeighting(const NDArray& loss, const std::vector<NDArray>& inputs,
                         size_t sample_weight_index, std::optional<double> weight) const;
  NDArray ApplyWeighting(const NDArray& loss, const std::vector<NDArray>& inputs,
                         size_t sample_weight_index) const {
    return ApplyWeighting(loss, inputs, sample_weight_index, weight_);
  }
  /*! \brief Mean (or sum) over every axis but batch_axis: one value per sample. */
  NDArray MeanPerSample(const NDArray& loss) const;
  NDArray SumPerSample(const NDArray& loss) const;

  std::string class_name_;
  std::optional<double> weight_;
  int batch_axis_;
};

/*! \brief 0.5 * weight * (label - pred)^2 averaged per sample; weight defaults to 1. */
class L2Loss : public Loss {
 public:
  explicit L2Loss(LossOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
};

/*! \brief |label - pred| averaged per sample. */
class L1Loss : public Loss {
 public:
  explicit L1Loss(LossOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
};

struct SigmoidBCEOptions : LossOptions {
  /*! \brief pred is already a probability (else logits, with the stable log-sum-exp form). */
  bool from_sigmoid = false;
};

/*!
 * \brief Binary cross-entropy (alias SigmoidBCELoss). Inputs {pred, label[, sample_weight[,
 * pos_weight]]}: pos_weight (broadcast to label, e.g. (1, classes)) weighs positive labels. To
 * give pos_weight alone, pass ones as sample_weight (or, eagerly, a none array: a hybridized
 * block does not take none inputs).
 */
class SigmoidBinaryCrossEntropyLoss : public Loss {
 public:
  explicit SigmoidBinaryCrossEntropyLoss(SigmoidBCEOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  bool from_sigmoid_;
};
using SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss;

struct SoftmaxCEOptions : LossOptions {
  int axis = -1;
  /*! \brief Labels are class indices (shape of pred without `axis`); else distributions. */
  bool sparse_label = true;
  /*! \brief pred is already log-probabilities (log_softmax). */
  bool from_logits = false;
};

/*! \brief Softmax cross-entropy (alias SoftmaxCELoss). */
class SoftmaxCrossEntropyLoss : public Loss {
 public:
  explicit SoftmaxCrossEntropyLoss(SoftmaxCEOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  int axis_;
  bool sparse_label_, from_logits_;
};
using SoftmaxCELoss = SoftmaxCrossEntropyLoss;

struct KLDivOptions : LossOptions {
  /*! \brief pred is already log-probabilities (MXNet's default); else log_softmax is taken. */
  bool from_logits = true;
  int axis = -1;
};

/*! \brief label * (log(label) - log pred), summed per sample. */
class KLDivLoss : public Loss {
 public:
  explicit KLDivLoss(KLDivOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  bool from_logits_;
  int axis_;
};

struct CTCOptions : BlockArgs {
  std::optional<double> weight;
  /*! \brief pred layout: "NTC" or "TNC". */
  std::string layout = "NTC";
  /*! \brief label layout: "NT" or "TN" (its N axis is the batch axis). */
  std::string label_layout = "NT";
};

/*!
 * \brief Connectionist temporal classification (blank label last): the "CTCLoss" operator on
 * pred and label in its (T, N, C) and (N, L) layouts.
 */
class CTCLoss : public Loss {
 public:
  explicit CTCLoss(CTCOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  std::string layout_, label_layout_;
};

struct HuberOptions : LossOptions {
  /*! \brief Quadratic below rho, linear above. */
  double rho = 1;
};

/*! \brief Smoothed L1: 0.5/rho * d^2 if |d| <= rho else |d| - 0.5 * rho. */
class HuberLoss : public Loss {
 public:
  explicit HuberLoss(HuberOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  double rho_;
};

struct HingeOptions : LossOptions {
  double margin = 1;
};

/*! \brief max(0, margin - pred * label), labels in {-1, 1}. */
class HingeLoss : public Loss {
 public:
  explicit HingeLoss(HingeOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  double margin_;
};

/*! \brief max(0, margin - pred * label)^2. */
class SquaredHingeLoss : public Loss {
 public:
  explicit SquaredHingeLoss(HingeOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  double margin_;
};

struct LogisticOptions : LossOptions {
  /*! \brief "signed" (labels in {-1, 1}) or "binary" (labels in {0, 1}). */
  std::string label_format = "signed";
};

/*! \brief log(1 + exp(-pred * label)), written stably. */
class LogisticLoss : public Loss {
 public:
  explicit LogisticLoss(LogisticOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  std::string label_format_;
};

/*! \brief Inputs {pred, positive, negative}: max(0, |pos - pred|^2 - |neg - pred|^2 + margin)
 * with the squared distances summed per sample. */
class TripletLoss : public Loss {
 public:
  explicit TripletLoss(HingeOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  double margin_;
};

struct PoissonNLLOptions : LossOptions {
  /*! \brief pred is log(rate) (else the rate itself). */
  bool from_logits = true;
  /*! \brief Adds the Stirling approximation of log(target!) for targets > 1. */
  bool compute_full = false;
};

/*!
 * \brief Poisson negative log-likelihood. As MXNet, it averages over every element, so the
 * output has shape (1,), not (batch,).
 */
class PoissonNLLLoss : public Loss {
 public:
  explicit PoissonNLLLoss(PoissonNLLOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  bool from_logits_, compute_full_;
};

struct CosineEmbeddingOptions : LossOptions {
  double margin = 0;
};

/*!
 * \brief Inputs {input1, input2, label[, sample_weight]} with labels in {-1, 1}: 1 - cos for
 * label 1, max(0, cos - margin) for label -1, along the last axis. As MXNet, the output has
 * shape (batch, 1).
 */
class CosineEmbeddingLoss : public Loss {
 public:
  explicit CosineEmbeddingLoss(CosineEmbeddingOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;

 private:
  double margin_;
};

}  // namespace mixnet::gluon::loss
