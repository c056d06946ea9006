// Loss layers (MXNet 1.x): SoftmaxOutput, the regression outputs, MakeLoss, and the genuine
// losses softmax_cross_entropy and smooth_l1.
//
// NOTE [ Loss-layer gradients ]
// SoftmaxOutput, *RegressionOutput and MakeLoss are training rules, not functions: their
// backward ignores the incoming gradient (unless out_grad) and returns e.g.
// (softmax - onehot(label)) * grad_scale / norm. Their Gradient is exactly that rule, so
// central differences of the forward output cannot check it. They are LossLayer()s: each sample
// states the loss the rule differentiates (cross-entropy, squared or absolute error, the sum),
// and the registry test checks the rule against central differences of that loss;
// op_nn_basic_test.cc checks the rules by hand too. The label gets no gradient.
// softmax_cross_entropy and smooth_l1 are ordinary differentiable functions.
#include <cmath>

#include "operator/grad_ops.h"
#include "operator/linalg/gemm.h"
#include "operator/op_call.h"

namespace mixnet::op {
namespace {

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

enum Normalization { kNull, kBatch, kValid };

struct SoftmaxOutputParam {
  double grad_scale = 1.0;
  double ignore_label = -1.0;
  bool multi_output = false;
  bool use_ignore = false;
  bool preserve_shape = false;
  int normalization = kNull;
  bool out_grad = false;
  double smooth_alpha = 0.0;
  static void Declare(ParamDecl<SoftmaxOutputParam>& d) {
    d.Field("grad_scale", &SoftmaxOutputParam::grad_scale)
        .Default(1.0)
        .Doc("Scales the gradient by a float factor.");
    d.Field("ignore_label", &SoftmaxOutputParam::ignore_label)
        .Default(-1.0)
        .Doc(
            "The instances whose labels == ignore_label will be ignored during backward, if "
            "use_ignore is set to true.");
    d.Field("multi_output", &SoftmaxOutputParam::multi_output)
        .Default(false)
        .Doc("If set to true, the softmax function will be computed along axis 1.");
    d.Field("use_ignore", &SoftmaxOutputParam::use_ignore)
        .Default(false)
        .Doc(
            "If set to true, the ignore_label value will not contribute to the backward gradient.");
    d.Field("preserve_shape", &SoftmaxOutputParam::preserve_shape)
        .Default(false)
        .Doc("If set to true, the softmax function will be computed along the last axis.");
    d.Field("normalization", &SoftmaxOutputParam::normalization)
        .Enum({"null", "batch", "valid"})
        .Default("null")
        .Doc("Normalizes the gradient.");
    d.Field("out_grad", &SoftmaxOutputParam::out_grad)
        .Default(false)
        .Doc("Multiplies gradient with output gradient element-wise.");
    d.Field("smooth_alpha", &SoftmaxOutputParam::smooth_alpha)
        .Default(0.0)
        .Range(0.0, 1.0)
        .Doc(
            "Label smoothing: the target keeps 1 - alpha and spreads alpha over the other "
            "classes.");
  }
};

/*! \brief data as (outer, classes, inner): softmax runs over classes; one label per (o, i). */
struct ClassView {
  int64_t outer, classes, inner;
};

ClassView SoftmaxOutputView(const SoftmaxOutputParam& p, const Shape& s) {
  if (p.multi_output) return {s[0], s[1], s.ProdDims(2, s.ndim())};
  if (p.preserve_shape) return {s.ProdDims(0, s.ndim() - 1), s[s.ndim() - 1], 1};
  return {s[0], s.ProdDims(1, s.ndim()), 1};
}

/*!
 * NOTE [ SoftmaxOutput on N-D data ]
 * MXNet 1.9.1 takes the label as data.shape[:-1] unless multi_output; its forward without
 * preserve_shape normalises over everything after the batch axis, but its backward treats the
 * data as rows over the last axis, one label per row. Both views agree on 2-D data; for more
 * axes mixnet keeps MXNet's pair as it is, so that trained models behave the same.
 */
ClassView SoftmaxOutputGradView(const SoftmaxOutputParam& p, const Shape& s) {
  if (p.multi_output) return SoftmaxOutputView(p, s);
  return {s.ProdDims(0, s.ndim() - 1), s[s.ndim() - 1], 1};
}

Shape LabelShape(const SoftmaxOutputParam& p, const Shape& s) {
  std::vector<int64_t> dims(s.begin(), s.end());
  if (p.multi_output) {
    dims.erase(dims.begin() + 1);
  } else {
    dims.pop_back();
  }
  return Shape(std::span<const int64_t>(dims));
}

/*! \brief A label value as a class index (MXNet casts to int). */
template <typename L>
int64_t ClassOf(L v) {
  return static_cast<int64_t>(static_cast<double>(ComputeType<L>(v)));
}

/*! \brief Softmax over (outer, classes, inner) rows, stable; values in double. */
template <typename T>
void SoftmaxRows(const T* x, const ClassView& v, std::vector<double>* y) {
  y->resize(static_cast<size_t>(v.outer * v.classes * v.inner));
  for (int64_t o = 0; o < v.outer; ++o) {
    for (int64_t i = 0; i < v.inner; ++i) {
      auto idx = [&](int64_t c) { return (o * v.classes + c) * v.inner + i; };
      double m = -INFINITY;
      for (int64_t c = 0; c < v.classes; ++c)
        m = std::max(m, static_cast<double>(ComputeType<T>(x[idx(c)])));
      double sum = 0;
      for (int64_t c = 0; c < v.classes; ++c)
        sum += std::exp(static_cast<double>(ComputeType<T>(x[idx(c)])) - m);
      for (int64_t c = 0; c < v.classes; ++c)
        (*y)[idx(c)] = std::exp(static_cast<double>(ComputeType<T>(x[idx(c)])) - m) / sum;
    }
  }
}

void SoftmaxOutputInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.param<SoftmaxOutputParam>();
  AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
  const Shape& data = (*in)[0];
  if (!data.is_known()) return;
  MX_CHECK(data.ndim() >= (p.multi_output ? 2 : 1), ValueError)
      << attrs.op->name << ": data of shape " << data << " has too few axes";
  Shape label = LabelShape(p, data);
  // MXNet also takes a multi_output label flattened to (batch, rest).
  if (p.multi_output && (*in)[1].is_known() && (*in)[1].Size() == label.Size() &&
      (*in)[1].ndim() == 2 && (*in)[1][0] == data[0]) {
    return;
  }
  AssignShape(attrs, "label", &(*in)[1], label);
}

/*! \brief Any numeric label dtype; output has data's floating dtype. */
void DataLabelType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = (*in)[0];
  MX_CHECK(t < 0 || IsFloatingDType(static_cast<DType>(t)), TypeError)
      << attrs.op->name << ": data has dtype " << DTypeName(static_cast<DType>(t))
      << "; expected a floating dtype";
  AssignType(attrs, "output", &(*out)[0], t);
  if ((*in)[1] < 0) (*in)[1] = t;
}

/*!
 * \brief Softmax over the class axis, as the softmax op's own kernels (vectorised, threaded)
 * compute it on the (outer, classes, inner) view; they read each element before writing it, so
 * the output may take the data's buffer (the gradient reads the output, not the data).
 */
void SoftmaxOutputForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                          std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  static const Attrs axis1 = Registry::Get("softmax").ParseAttrs({{"axis", "1"}});
  const ClassView v = SoftmaxOutputView(attrs.param<SoftmaxOutputParam>(), in[0].shape);
  const Shape view{v.outer, v.classes, v.inner};
  const TBlob x{in[0].dptr, view, in[0].dtype}, y{out[0].dptr, view, out[0].dtype};
  const std::span<const TBlob> xs(&x, 1), ys(&y, 1);
  SelectKernel(axis1, xs, ys, DeviceType::kCPU).compute(ctx, axis1, xs, req, ys);
}

/*! \brief Inputs of _backward_SoftmaxOutput: out_grad only when the rule reads it (as MXNet's),
 * so an executor needs no output-sized head gradient. */
std::vector<std::string> SoftmaxOutputBackwardInputs(const Attrs& attrs) {
  if (attrs.param<SoftmaxOutputParam>().out_grad) return {"output", "label", "out_grad"};
  return {"output", "label"};
}

/*! \brief Inputs output, label[, out_grad]: the rule of NOTE [ Loss-layer gradients ]. */
void SoftmaxOutputBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                           std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<SoftmaxOutputParam>();
  const ClassView v = SoftmaxOutputGradView(p, in[0].shape);
  const int64_t ignore = static_cast<int64_t>(p.ignore_label);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    DispatchDType(in[1].dtype, [&](auto ltag) {
      using L = typename decltype(ltag)::type;
      const L* label = in[1].data<L>();
      const int64_t n_labels = v.outer * v.inner;
      double norm = 1.0;
      if (p.normalization == kBatch) norm = static_cast<double>(v.outer);
      if (p.normalization == kValid) {
        int64_t valid = 0;
        for (int64_t i = 0; i < n_labels; ++i)
          valid += !(p.use_ignore && ClassOf(label[i]) == ignore);
        norm = static_cast<double>(std::max<int64_t>(valid, 1));
      }
      const double scale = p.grad_scale / norm;
      const double off = v.classes > 1 ? p.smooth_alpha / static_cast<double>(v.classes - 1) : 0;
      const T* y = in[0].data<T>();
      const T* dy = p.out_grad ? in[2].data<T>() : nullptr;
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.inner; ++i) {
          const int64_t k = ClassOf(label[o * v.inner + i]);
          const bool ignored = p.use_ignore && k == ignore;
          for (int64_t c = 0; c < v.classes; ++c) {
            const int64_t at = (o * v.classes + c) * v.inner + i;
            const double target = c == k ? 1.0 - p.smooth_alpha : off;
            double g = ignored ? 0.0 : (static_cast<double>(C(y[at])) - target) * scale;
            if (p.out_grad) g *= static_cast<double>(C(dy[at]));
            Store(out[0].data<T>() + at, req[0], g);
          }
        }
      }
    });
  });
}

struct RegressionOutputParam {
  double grad_scale = 1.0;
  static void Declare(ParamDecl<RegressionOutputParam>& d) {
    d.Field("grad_scale", &RegressionOutputParam::grad_scale)
        .Default(1.0)
        .Doc("Scale the gradient by a float factor");
  }
};

void RegressionInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
  const Shape& data = (*in)[0];
  Shape& label = (*in)[1];
  if (!data.is_known()) return;
  if (label.is_unknown()) {
    // MXNet's special case: a (batch, 1) output takes a (batch,) label.
    label = data.ndim() == 2 && data[1] == 1 ? Shape{data[0]} : data;
    return;
  }
  MX_CHECK(
      label.ndim() >= 1 && data.ndim() >= 1 && label[0] == data[0] && label.Size() == data.Size(),
      ValueError)
      << attrs.op->name << ": label has shape " << label << " but data has shape " << data
      << "; they need the same batch size and number of elements";
}

enum RegressionKind { kLinear, kLogistic, kMae };

template <int kKind>
void RegressionForward(const OpContext&, const Attrs&, std::span<const TBlob> in,
                       std::span<const OpReq> req, std::span<const TBlob> out) {
  MapUnary(in[0], req[0], out[0], [](auto x) {
    return kKind == kLogistic ? decltype(x)(1) / (decltype(x)(1) + std::exp(-x)) : x;
  });
}

/*! \brief Inputs output, label: (out - label) (sign of it for MAE) * grad_scale / outputs per
 * example. */
template <int kKind>
void RegressionBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                        std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const Shape& ls = in[1].shape;
  const int64_t per_example = ls.Size() / std::max<int64_t>(1, ls[0]);
  const double scale = attrs.param<RegressionOutputParam>().grad_scale /
                       static_cast<double>(std::max<int64_t>(1, per_example));
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchDType(in[1].dtype, [&](auto ltag) {
      using L = typename decltype(ltag)::type;
      const T* y = in[0].data<T>();
      const L* label = in[1].data<L>();
      for (int64_t i = 0; i < out[0].Size(); ++i) {
        const double d = static_cast<double>(ComputeType<T>(y[i])) -
                         static_cast<double>(ComputeType<L>(label[i]));
        const double g = kKind == kMae ? (d > 0) - (d < 0) : d;
        Store(out[0].data<T>() + i, req[0], g * scale);
      }
    });
  });
}

template <int kKind>
void RegisterRegression(const char* name, const char* backward, const char* doc) {
  Registry::Add(name)
      .Describe(doc)
      .Param<RegressionOutputParam>()
      .LossLayer()
      .Inputs({"data", "label"})
      .InferShape(RegressionInferShape)
      .InferType(DataLabelType)
      .InPlace({{0, 0}})
      .Kernel("reference", RegressionForward<kKind>)
      .Gradient([backward](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                           std::span<const GValue> out, std::span<const GValue>) {
        return std::vector<GValue>{g.Apply1(backward, {out[0], in[1]}, attrs.dict), GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{3, 4}, Shape{3, 4}},
                       .ranges = {{-2.0, 2.0}, {0.0, 1.0}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> y(in[0]);
                             if (kKind == kLogistic) {
                               for (double& v : y)
                                 v = 1.0 / (1.0 + std::exp(-v));
                             }
                             return std::vector<std::vector<double>>{y};
                           },
                       // The rule's loss, per example averaged over its 4 outputs.
                       .loss =
                           [](const std::vector<std::vector<double>>& in) {
                             double l = 0;
                             for (size_t i = 0; i < in[0].size(); ++i) {
                               const double x = in[0][i], t = in[1][i];
                               if (kKind == kLinear) l += 0.5 * (x - t) * (x - t);
                               if (kKind == kMae) l += std::abs(x - t);
                               if (kKind == kLogistic) {
                                 const double sx = 1.0 / (1.0 + std::exp(-x));
                                 l -= t * std::log(sx) + (1 - t) * std::log(1 - sx);
                               }
                             }
                             return l / 4.0;
                           }});
  Registry::Add(backward)
      .Describe("Gradient of a regression output layer from its output and label.")
      .Param<RegressionOutputParam>()
      .Inputs({"output", "label"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        AssignShape(attrs, "data_grad", &(*out)[0], (*in)[0]);
      })
      .InferType(DataLabelType)
      .Kernel("reference", RegressionBackward<kKind>)
      .Sample(OpSample{.attrs = {{"grad_scale", "2"}},
                       .inputs = {Shape{4, 1}, Shape{4}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> g(4);
                         for (size_t i = 0; i < 4; ++i) {
                           const double d = in[0][i] - in[1][i];
                           g[i] = 2.0 * (kKind == kMae ? (d > 0 ? 1.0 : -1.0) : d);
                         }
                         return std::vector<std::vector<double>>{g};
                       }});
}

struct MakeLossParam {
  double grad_scale = 1.0;
  double valid_thresh = 0.0;
  int normalization = kNull;
  static void Declare(ParamDecl<MakeLossParam>& d) {
    d.Field("grad_scale", &MakeLossParam::grad_scale)
        .Default(1.0)
        .Doc("Gradient scale as a supplement to unary and binary operators");
    d.Field("valid_thresh", &MakeLossParam::valid_thresh)
        .Default(0.0)
        .Doc(
            "clip each element in the array to 0 when it is less than valid_thresh. This is used "
            "when normalization is set to 'valid'.");
    d.Field("normalization", &MakeLossParam::normalization)
        .Enum({"null", "batch", "valid"})
        .Default("null")
        .Doc(
            "If this is set to null, the output gradient will not be normalized. If this is set to "
            "batch, the output gradient will be divided by the batch size. If this is set to "
            "valid, the output gradient will be divided by the number of valid input elements.");
  }
};

/*! \brief Input: the forward output. grad_scale / norm everywhere (NOTE [ Loss-layer gradients ]).
 */
void MakeLossBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                      std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.param<MakeLossParam>();
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* y = in[0].data<T>();
    double norm = 1.0;
    if (p.normalization == kBatch)
      norm = static_cast<double>(in[0].shape.ndim() ? in[0].shape[0] : 1);
    if (p.normalization == kValid) {
      int64_t valid = 0;
      for (int64_t i = 0; i < in[0].Size(); ++i)
        valid += static_cast<double>(ComputeType<T>(y[i])) > p.valid_thresh;
      norm = static_cast<double>(std::max<int64_t>(valid, 1));
    }
    for (int64_t i = 0; i < out[0].Size(); ++i)
      Store(out[0].data<T>() + i, req[0], p.grad_scale / norm);
  });
}

struct SmoothL1Param {
  double scalar = 1.0;
  bool is_int = true;
  static void Declare(ParamDecl<SmoothL1Param>& d) {
    d.Field("scalar", &SmoothL1Param::scalar)
        .Default(1.0)
        .Doc("sigma: the quadratic part is |x| < 1 / sigma^2.");
    d.Field("is_int", &SmoothL1Param::is_int).Default(true).Doc("Kept for MXNet 1.9 graphs.");
  }
};

/*! \brief -sum over rows of log softmax(data)[label]; data (batch, classes), label (batch,). */
void CrossEntropyForward(const OpContext&, const Attrs&, std::span<const TBlob> in,
                         std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const ClassView v{in[0].shape[0], in[0].Size() / std::max<int64_t>(1, in[0].shape[0]), 1};
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchDType(in[1].dtype, [&](auto ltag) {
      using L = typename decltype(ltag)::type;
      std::vector<double> y;
      SoftmaxRows(in[0].data<T>(), v, &y);
      double loss = 0;
      for (int64_t o = 0; o < v.outer; ++o) {
        const int64_t k = ClassOf(in[1].data<L>()[o]);
        if (k >= 0 && k < v.classes) loss -= std::log(y[o * v.classes + k]);
      }
      Store(out[0].data<T>(), req[0], loss);
    });
  });
}

/*! \brief Inputs out_grad (1,), data, label: (softmax(data) - onehot(label)) * out_grad. */
void CrossEntropyBackward(const OpContext&, const Attrs&, std::span<const TBlob> in,
                          std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  const ClassView v{in[1].shape[0], in[1].Size() / std::max<int64_t>(1, in[1].shape[0]), 1};
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchDType(in[2].dtype, [&](auto ltag) {
      using L = typename decltype(ltag)::type;
      std::vector<double> y;
      SoftmaxRows(in[1].data<T>(), v, &y);
      const double dy = static_cast<double>(ComputeType<T>(in[0].data<T>()[0]));
      for (int64_t o = 0; o < v.outer; ++o) {
        const int64_t k = ClassOf(in[2].data<L>()[o]);
        for (int64_t c = 0; c < v.classes; ++c) {
          const int64_t at = o * v.classes + c;
          Store(out[0].data<T>() + at, req[0], (y[at] - (c == k ? 1.0 : 0.0)) * dy);
        }
      }
    });
  });
}

void CrossEntropyInferShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "output", &(*out)[0], Shape{1});
  const Shape& data = (*in)[0];
  if (!data.is_known()) return;
  MX_CHECK(data.ndim() == 2, ValueError)
      << attrs.op->name << ": data must be 2-D (batch, classes), got shape " << data;
  AssignShape(attrs, "label", &(*in)[1], Shape{data[0]});
}

/*! \brief Softmax of each row of a (rows x classes) array in double, for expected values. */
std::vector<double> RowSoftmax(const std::vector<double>& x, size_t classes) {
  std::vector<double> y(x.size());
  for (size_t r = 0; r < x.size() / classes; ++r) {
    double sum = 0;
    for (size_t c = 0; c < classes; ++c)
      sum += std::exp(x[r * classes + c]);
    for (size_t c = 0; c < classes; ++c)
      y[r * classes + c] = std::exp(x[r * classes + c]) / sum;
  }
  return y;
}

const bool kRegistered = [] {
  Registry::Add("SoftmaxOutput")
      .Alias("Softmax")
      .Describe(
          "Softmax with a cross-entropy training rule: forward is softmax (over axis 1 with "
          "multi_output, the last axis with preserve_shape, else all but the batch axis); "
          "backward is (softmax - onehot(label)) * grad_scale / norm (NOTE [ Loss-layer "
          "gradients ]).")
      .Param<SoftmaxOutputParam>()
      .LossLayer()
      .Inputs({"data", "label"})
      .InPlace({{0, 0}})
      .InferShape(SoftmaxOutputInferShape)
      .InferType(DataLabelType)
      .Kernel("reference", SoftmaxOutputForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        const GValue dx =
            attrs.param<SoftmaxOutputParam>().out_grad
                ? g.Apply1("_backward_SoftmaxOutput", {out[0], in[1], dout[0]}, attrs.dict)
                : g.Apply1("_backward_SoftmaxOutput", {out[0], in[1]}, attrs.dict);
        return std::vector<GValue>{dx, GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{3, 4}, Shape{3}},
                       .ranges = {{-3.0, 3.0}, {0.0, 3.99}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{RowSoftmax(in[0], 4)};
                           },
                       // Cross-entropy of each row with its (truncated) label.
                       .loss =
                           [](const std::vector<std::vector<double>>& in) {
                             const auto p = RowSoftmax(in[0], 4);
                             double l = 0;
                             for (size_t r = 0; r < 3; ++r) {
                               l -= std::log(p[r * 4 + static_cast<size_t>(in[1][r])]);
                             }
                             return l;
                           }})
      .Sample(OpSample{.attrs = {{"multi_output", "True"}},
                       .inputs = {Shape{2, 3, 2}, Shape{2, 2}},
                       .ranges = {{-3.0, 3.0}, {0.0, 2.99}},
                       // Cross-entropy over axis 1 at each of the 2x2 (batch, position) sites.
                       .loss = [](const std::vector<std::vector<double>>& in) {
                         double l = 0;
                         for (size_t n = 0; n < 2; ++n) {
                           for (size_t s = 0; s < 2; ++s) {
                             double m = -1e300, z = 0;
                             for (size_t c = 0; c < 3; ++c)
                               m = std::max(m, in[0][n * 6 + c * 2 + s]);
                             for (size_t c = 0; c < 3; ++c)
                               z += std::exp(in[0][n * 6 + c * 2 + s] - m);
                             const size_t k = static_cast<size_t>(in[1][n * 2 + s]);
                             l -= in[0][n * 6 + k * 2 + s] - m - std::log(z);
                           }
                         }
                         return l;
                       }});

  Registry::Add("_backward_SoftmaxOutput")
      .Describe("SoftmaxOutput's training rule from out_grad, its output and the label.")
      .Param<SoftmaxOutputParam>()
      .Inputs(SoftmaxOutputBackwardInputs)
      .Signature({"output", "label", "out_grad?"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        if (in->size() == 3) AssignShape(attrs, "out_grad", &(*in)[2], (*in)[0]);
        AssignShape(attrs, "data_grad", &(*out)[0], (*in)[0]);
      })
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        if (in->size() == 3) AssignType(attrs, "out_grad", &(*in)[2], (*in)[0]);
        AssignType(attrs, "data_grad", &(*out)[0], (*in)[0]);
      })
      .Kernel("reference", SoftmaxOutputBackward)
      .Sample(OpSample{
          .attrs = {{"grad_scale", "0.5"}, {"normalization", "batch"}},
          .inputs = {Shape{2, 3}, Shape{2}},
          .ranges = {{0.0, 1.0}, {0.0, 2.99}},
          .expected =
              [](const std::vector<std::vector<double>>& in) {
                std::vector<double> g(6);
                for (size_t r = 0; r < 2; ++r)
                  for (size_t c = 0; c < 3; ++c)
                    g[r * 3 + c] = (in[0][r * 3 + c] - (c == size_t(in[1][r]) ? 1.0 : 0.0)) * 0.25;
                return std::vector<std::vector<double>>{g};
              }})
      .Sample(OpSample{.attrs = {{"out_grad", "True"}},
                       .inputs = {Shape{2, 3}, Shape{2}, Shape{2, 3}},
                       .ranges = {{0.0, 1.0}, {0.0, 2.99}, {-1.0, 1.0}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> g(6);
                         for (size_t r = 0; r < 2; ++r)
                           for (size_t c = 0; c < 3; ++c)
                             g[r * 3 + c] =
                                 (in[0][r * 3 + c] - (c == size_t(in[1][r]) ? 1.0 : 0.0)) *
                                 in[2][r * 3 + c];
                         return std::vector<std::vector<double>>{g};
                       }});

  RegisterRegression<kLinear>("LinearRegressionOutput", "_backward_linear_reg_out",
                              "Identity forward; backward (output - label) * grad_scale / "
                              "outputs per example (NOTE [ Loss-layer gradients ]).");
  RegisterRegression<kLogistic>("LogisticRegressionOutput", "_backward_logistic_reg_out",
                                "Sigmoid forward; backward (output - label) * grad_scale / "
                                "outputs per example (NOTE [ Loss-layer gradients ]).");
  RegisterRegression<kMae>("MAERegressionOutput", "_backward_mae_reg_out",
                           "Identity forward; backward sign(output - label) * grad_scale / "
                           "outputs per example (NOTE [ Loss-layer gradients ]).");

  Registry::Add("MakeLoss")
      .Alias("make_loss")  // MXNet 1.x also has make_loss: the same with the defaults
      .Describe(
          "Marks its input as a loss: identity forward; backward grad_scale / norm "
          "everywhere (NOTE [ Loss-layer gradients ]).")
      .Param<MakeLossParam>()
      .LossLayer()
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(FloatingSameType)
      .InPlace({{0, 0}})
      .Kernel("reference",
              [](const OpContext&, const Attrs&, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                MapUnary(in[0], req[0], out[0], [](auto x) { return x; });
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue> out, std::span<const GValue>) {
        return std::vector<GValue>{g.Apply1("_backward_MakeLoss", {out[0]}, attrs.dict)};
      })
      .Sample(OpSample{.inputs = {Shape{2, 3}},
                       .expected = [](const std::vector<std::vector<double>>& in) { return in; },
                       // grad_scale / norm everywhere: the gradient of the plain sum.
                       .loss =
                           [](const std::vector<std::vector<double>>& in) {
                             double l = 0;
                             for (double x : in[0])
                               l += x;
                             return l;
                           }});

  Registry::Add("_backward_MakeLoss")
      .Describe("MakeLoss's gradient rule from its output.")
      .Param<MakeLossParam>()
      .Inputs({"output"})
      .InferShape(SameShape)
      .InferType(FloatingSameType)
      .Kernel("reference", MakeLossBackward)
      .Sample(OpSample{.attrs = {{"normalization", "valid"}, {"grad_scale", "3"}},
                       .inputs = {Shape{2, 4}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         double valid = 0;
                         for (double x : in[0])
                           valid += x > 0;
                         return std::vector<std::vector<double>>{
                             std::vector<double>(8, 3.0 / std::max(valid, 1.0))};
                       }});

  Registry::Add("softmax_cross_entropy")
      .Describe(
          "Sum over the batch of -log(softmax(data)[label]); data (batch, classes), label "
          "(batch,).")
      .Inputs({"data", "label"})
      .InferShape(CrossEntropyInferShape)
      .InferType(DataLabelType)
      .Kernel("reference", CrossEntropyForward)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{
            g.Apply1("_backward_softmax_cross_entropy", {dout[0], in[0], in[1]}), GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{3, 4}, Shape{3}},
                       .ranges = {{-3.0, 3.0}, {0.0, 3.99}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         const auto y = RowSoftmax(in[0], 4);
                         double loss = 0;
                         for (size_t r = 0; r < 3; ++r)
                           loss -= std::log(y[r * 4 + size_t(in[1][r])]);
                         return std::vector<std::vector<double>>{{loss}};
                       }});

  Registry::Add("_backward_softmax_cross_entropy")
      .Describe("Gradient of softmax_cross_entropy for data.")
      .Inputs({"out_grad", "data", "label"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        AssignShape(attrs, "out_grad", &(*in)[0], Shape{1});
        AssignShape(attrs, "data_grad", &(*out)[0], (*in)[1]);
      })
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        AssignType(attrs, "out_grad", &(*in)[0], (*in)[1]);
        AssignType(attrs, "data_grad", &(*out)[0], (*in)[1]);
      })
      .Kernel("reference", CrossEntropyBackward)
      .Sample(OpSample{.inputs = {Shape{1}, Shape{2, 3}, Shape{2}},
                       .ranges = {{-1.0, 1.0}, {-2.0, 2.0}, {0.0, 2.99}}});

  Registry::Add("smooth_l1")
      .Describe(
          "Smooth L1: 0.5 (sigma x)^2 where |x| < 1 / sigma^2, else |x| - 0.5 / sigma^2; sigma is "
          "`scalar`.")
      .Param<SmoothL1Param>()
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(FloatingSameType)
      .InPlace({{0, 0}})
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                const double s2 =
                    attrs.param<SmoothL1Param>().scalar * attrs.param<SmoothL1Param>().scalar;
                MapUnary(in[0], req[0], out[0], [s2](auto x) {
                  using C = decltype(x);
                  const C ax = std::abs(x);
                  return ax < C(1 / s2) ? C(0.5) * x * x * C(s2) : ax - C(0.5 / s2);
                });
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const double s = attrs.param<SmoothL1Param>().scalar, s2 = s * s;
        const GValue x = in[0];
        const GValue inner = g.Apply1("_lesser_scalar", {Unary(g, "abs", x)}, Scalar(1 / s2));
        const GValue sign = Unary(g, "sign", x);
        const GValue slope = Add(g, sign, Mul(g, inner, Sub(g, MulScalar(g, x, s2), sign)));
        return std::vector<GValue>{Mul(g, dout[0], slope)};
      })
      .Sample(OpSample{.attrs = {{"scalar", "1.5"}},
                       .inputs = {Shape{3, 5}},
                       .ranges = {{-2.0, 2.0}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> y(in[0].size());
                         for (size_t i = 0; i < y.size(); ++i) {
                           const double x = in[0][i];
                           y[i] = std::abs(x) < 1 / 2.25 ? 0.5 * 2.25 * x * x
                                                         : std::abs(x) - 0.5 / 2.25;
                         }
                         return std::vector<std::vector<double>>{y};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
