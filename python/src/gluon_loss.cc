// mx.gluon.loss: the C++ losses (mixnet/gluon/loss.h) with MXNet 1.x's constructor
// signatures. loss.Loss itself (subclassable from Python) is bound in gluon_block.cc.
#include <nanobind/stl/string.h>

#include <string>

#include "gluon.h"
#include "mixnet/gluon/loss.h"

namespace mixnet::python {

namespace loss = gluon::loss;

namespace {

#define MIXNET_PY_LOSS_ARGS \
  nb::arg("prefix").none() = nb::none(), nb::arg("params").none() = nb::none()

/*! \brief Options `O` with weight=, batch_axis=, prefix= and params= filled. */
template <typename O>
O LossArgs(nb::handle weight, int batch_axis, nb::handle prefix, nb::handle params) {
  O o;
  static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
  o.weight = ToOptionalFloat(weight);
  o.batch_axis = batch_axis;
  return o;
}

/*! \brief A loss taking only weight= and batch_axis= (L1Loss(weight=None, batch_axis=0)). */
template <typename T>
void BindSimple(nb::module_& m, const char* name, nb::handle default_weight, const char* doc) {
  nb::class_<T, loss::Loss>(m, name, doc)
      .def(
          "__init__",
          [](T* self, nb::handle weight, int batch_axis, nb::handle prefix, nb::handle params) {
            new (self) T(LossArgs<loss::LossOptions>(weight, batch_axis, prefix, params));
          },
          nb::arg("weight").none() = nb::borrow(default_weight), nb::arg("batch_axis") = 0,
          MIXNET_PY_LOSS_ARGS);
}

/*! \brief A loss with a margin (HingeLoss(margin=1, weight=None, batch_axis=0)). */
template <typename T>
void BindMargin(nb::module_& m, const char* name, const char* doc) {
  nb::class_<T, loss::Loss>(m, name, doc)
      .def(
          "__init__",
          [](T* self, double margin, nb::handle weight, int batch_axis, nb::handle prefix,
             nb::handle params) {
            auto o = LossArgs<loss::HingeOptions>(weight, batch_axis, prefix, params);
            o.margin = margin;
            new (self) T(std::move(o));
          },
          nb::arg("margin") = 1.0, nb::arg("weight").none() = nb::none(), nb::arg("batch_axis") = 0,
          MIXNET_PY_LOSS_ARGS);
}

void BindLosses(nb::module_& root) {
  nb::module_ m = root.def_submodule("loss", "The C++ gluon losses (mx.gluon.loss).");
  BindSimple<loss::L2Loss>(m, "L2Loss", nb::float_(1.0),
                           "0.5 * weight * (label - pred)^2, averaged per sample.");
  BindSimple<loss::L1Loss>(m, "L1Loss", nb::none(), "|label - pred|, averaged per sample.");
  BindMargin<loss::HingeLoss>(m, "HingeLoss", "max(0, margin - pred * label).");
  BindMargin<loss::SquaredHingeLoss>(m, "SquaredHingeLoss", "max(0, margin - pred * label)^2.");
  BindMargin<loss::TripletLoss>(m, "TripletLoss",
                                "max(0, |pos - pred|^2 - |neg - pred|^2 + margin).");

  nb::class_<loss::SigmoidBinaryCrossEntropyLoss, loss::Loss>(
      m, "SigmoidBinaryCrossEntropyLoss", "The cross-entropy loss for binary classification.")
      .def(
          "__init__",
          [](loss::SigmoidBinaryCrossEntropyLoss* self, bool from_sigmoid, nb::handle weight,
             int batch_axis, nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::SigmoidBCEOptions>(weight, batch_axis, prefix, params);
            o.from_sigmoid = from_sigmoid;
            new (self) loss::SigmoidBinaryCrossEntropyLoss(std::move(o));
          },
          nb::arg("from_sigmoid") = false, nb::arg("weight").none() = nb::none(),
          nb::arg("batch_axis") = 0, MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::SoftmaxCrossEntropyLoss, loss::Loss>(
      m, "SoftmaxCrossEntropyLoss", "Softmax cross-entropy loss (sparse labels by default).")
      .def(
          "__init__",
          [](loss::SoftmaxCrossEntropyLoss* self, int axis, bool sparse_label, bool from_logits,
             nb::handle weight, int batch_axis, nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::SoftmaxCEOptions>(weight, batch_axis, prefix, params);
            o.axis = axis;
            o.sparse_label = sparse_label;
            o.from_logits = from_logits;
            new (self) loss::SoftmaxCrossEntropyLoss(std::move(o));
          },
          nb::arg("axis") = -1, nb::arg("sparse_label") = true, nb::arg("from_logits") = false,
          nb::arg("weight").none() = nb::none(), nb::arg("batch_axis") = 0, MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::KLDivLoss, loss::Loss>(m, "KLDivLoss", "The Kullback-Leibler divergence.")
      .def(
          "__init__",
          [](loss::KLDivLoss* self, bool from_logits, int axis, nb::handle weight, int batch_axis,
             nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::KLDivOptions>(weight, batch_axis, prefix, params);
            o.from_logits = from_logits;
            o.axis = axis;
            new (self) loss::KLDivLoss(std::move(o));
          },
          nb::arg("from_logits") = true, nb::arg("axis") = -1,
          nb::arg("weight").none() = nb::none(), nb::arg("batch_axis") = 0, MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::CTCLoss, loss::Loss>(m, "CTCLoss", "Connectionist Temporal Classification loss.")
      .def(
          "__init__",
          [](loss::CTCLoss* self, const std::string& layout, const std::string& label_layout,
             nb::handle weight, nb::handle prefix, nb::handle params) {
            loss::CTCOptions o;
            static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
            o.layout = layout;
            o.label_layout = label_layout;
            o.weight = ToOptionalFloat(weight);
            new (self) loss::CTCLoss(std::move(o));
          },
          nb::arg("layout") = "NTC", nb::arg("label_layout") = "NT",
          nb::arg("weight").none() = nb::none(), MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::HuberLoss, loss::Loss>(m, "HuberLoss", "Smoothed L1 loss.")
      .def(
          "__init__",
          [](loss::HuberLoss* self, double rho, nb::handle weight, int batch_axis,
             nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::HuberOptions>(weight, batch_axis, prefix, params);
            o.rho = rho;
            new (self) loss::HuberLoss(std::move(o));
          },
          nb::arg("rho") = 1.0, nb::arg("weight").none() = nb::none(), nb::arg("batch_axis") = 0,
          MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::LogisticLoss, loss::Loss>(m, "LogisticLoss", "log(1 + exp(-pred * label)).")
      .def(
          "__init__",
          [](loss::LogisticLoss* self, nb::handle weight, int batch_axis,
             const std::string& label_format, nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::LogisticOptions>(weight, batch_axis, prefix, params);
            o.label_format = label_format;
            new (self) loss::LogisticLoss(std::move(o));
          },
          nb::arg("weight").none() = nb::none(), nb::arg("batch_axis") = 0,
          nb::arg("label_format") = "signed", MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::PoissonNLLLoss, loss::Loss>(m, "PoissonNLLLoss",
                                               "Poisson negative log-likelihood.")
      .def(
          "__init__",
          [](loss::PoissonNLLLoss* self, nb::handle weight, bool from_logits, int batch_axis,
             bool compute_full, nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::PoissonNLLOptions>(weight, batch_axis, prefix, params);
            o.from_logits = from_logits;
            o.compute_full = compute_full;
            new (self) loss::PoissonNLLLoss(std::move(o));
          },
          nb::arg("weight").none() = nb::none(), nb::arg("from_logits") = true,
          nb::arg("batch_axis") = 0, nb::arg("compute_full") = false, MIXNET_PY_LOSS_ARGS);

  nb::class_<loss::CosineEmbeddingLoss, loss::Loss>(m, "CosineEmbeddingLoss",
                                                    "Cosine similarity loss between two inputs.")
      .def(
          "__init__",
          [](loss::CosineEmbeddingLoss* self, nb::handle weight, int batch_axis, double margin,
             nb::handle prefix, nb::handle params) {
            auto o = LossArgs<loss::CosineEmbeddingOptions>(weight, batch_axis, prefix, params);
            o.margin = margin;
            new (self) loss::CosineEmbeddingLoss(std::move(o));
          },
          nb::arg("weight").none() = nb::none(), nb::arg("batch_axis") = 0, nb::arg("margin") = 0.0,
          MIXNET_PY_LOSS_ARGS);
}

}  // namespace
MIXNET_PY_BIND(83, BindLosses);

}  // namespace mixnet::python
