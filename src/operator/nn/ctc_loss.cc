// CTCLoss (MXNet 1.x's CTCLoss, ctc_loss, _contrib_CTCLoss, _contrib_ctc_loss): the
// connectionist temporal classification loss of unnormalised activations (T, N, C) against
// label sequences (N, L), one negative log likelihood per sample.
//
// NOTE [ CTCLoss as MXNet computes it ]
// * The softmax over the C classes is taken inside. blank_label "first" makes class 0 the blank
//   and labels 1..C-1; "last" makes C-1 the blank and labels 0..C-2. Without label_lengths a
//   sample's label ends at its first padding value: 0 with the blank first, -1 with it last.
// * data_lengths cut each sample's sequence; steps past it get no gradient.
// * A label that no alignment of the sequence can emit (length plus repeated neighbours longer
//   than the sequence) gives loss 0 and gradient 0, as MXNet's warp-ctc kernel does, instead of
//   an infinite loss.
// * MXNet computes the gradient in the forward pass into a hidden second output. Here the op has
//   the loss as its only output and `_backward_CTCLoss` recomputes the alpha-beta pass, so the
//   op is an ordinary differentiable function (its gradient is checked against central
//   differences) and the forward pass allocates no (T, N, C) array that inference never reads.
//   Symbols show one output either way, so graphs and JSON are the same.
#include <cmath>
#include <limits>

#include "operator/linalg/gemm.h"
#include "operator/op_def.h"
#include "operator/parallel.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

enum BlankLabel { kFirst, kLast };

struct CTCLossParam {
  bool use_data_lengths = false;
  bool use_label_lengths = false;
  int blank_label = kFirst;
  static void Declare(ParamDecl<CTCLossParam>& d) {
    d.Field("use_data_lengths", &CTCLossParam::use_data_lengths)
        .Default(false)
        .Doc(
            "Whether the data lengths are decided by `data_lengths`. If false, the lengths are "
            "equal to the max sequence length.");
    d.Field("use_label_lengths", &CTCLossParam::use_label_lengths)
        .Default(false)
        .Doc(
            "Whether the label lengths are decided by `label_lengths`, or derived from "
            "`padding_mask`: 0 if blank_label is 'first', -1 if 'last'.");
    d.Field("blank_label", &CTCLossParam::blank_label)
        .Enum({"first", "last"})
        .Default("first")
        .Doc(
            "Set the label that is reserved for blank label. If \"first\", 0-th label is "
            "reserved, and label values for tokens in the vocabulary are between 1 and "
            "alphabet_size-1, and the padding mask is -1. If \"last\", last label value "
            "alphabet_size-1 is reserved for blank label instead, and label values for tokens "
            "in the vocabulary are between 0 and alphabet_size-2, and the padding mask is 0.");
  }
};

std::vector<std::string> CTCInputs(const Attrs& attrs) {
  const auto& p = attrs.param<CTCLossParam>();
  std::vector<std::string> names{"data", "label"};
  if (p.use_data_lengths) names.emplace_back("data_lengths");
  if (p.use_label_lengths) names.emplace_back("label_lengths");
  return names;
}

std::vector<std::string> CTCBackwardInputs(const Attrs& attrs) {
  std::vector<std::string> names = CTCInputs(attrs);
  names.insert(names.begin(), "out_grad");
  return names;
}

/*! \brief Checks the forward inputs (from `first`) and returns the loss's shape (N,). */
void CheckCTCShapes(const Attrs& attrs, std::vector<Shape>* in, size_t first) {
  const auto& p = attrs.param<CTCLossParam>();
  const Shape& data = (*in)[first];
  const Shape& label = (*in)[first + 1];
  const std::string& op = attrs.op->name;
  if (!data.is_unknown()) {
    MX_CHECK(data.ndim() == 3, ValueError)
        << op << ": data must be 3-D (sequence length, batch, alphabet size), got shape " << data;
  }
  if (!label.is_unknown()) {
    MX_CHECK(label.ndim() == 2, ValueError)
        << op << ": label must be 2-D (batch, max label length), got shape " << label;
  }
  if (data.is_unknown() || !data.is_known()) return;
  MX_CHECK(data[2] >= 1, ValueError) << op << ": data of shape " << data << " has no classes";
  if (label.is_known()) {
    MX_CHECK(label[0] == data[1], ValueError)
        << op << ": label has shape " << label << " but data has shape " << data
        << "; the batch sizes (label axis 0, data axis 1) must be the same";
    MX_CHECK(label[1] <= data[0], ValueError)
        << op << ": label has shape " << label << " but data has shape " << data
        << "; the max label length cannot exceed the sequence length (data axis 0)";
  }
  size_t i = first + 2;
  if (p.use_data_lengths) AssignShape(attrs, "data_lengths", &(*in)[i++], Shape{data[1]});
  if (p.use_label_lengths) AssignShape(attrs, "label_lengths", &(*in)[i], Shape{data[1]});
}

void CTCShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  CheckCTCShapes(attrs, in, 0);
  const Shape& data = (*in)[0];
  if (!data.is_unknown() && data.ndim() == 3) AssignShape(attrs, "output", &(*out)[0], {data[1]});
}

void CTCBackwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  CheckCTCShapes(attrs, in, 1);
  const Shape& data = (*in)[1];
  if (data.is_unknown() || data.ndim() != 3) return;
  AssignShape(attrs, "out_grad", &(*in)[0], Shape{data[1]});
  AssignShape(attrs, "data_grad", &(*out)[0], data);
}

/*! \brief data (from `first`) is floating; labels and lengths may have any numeric dtype. */
void CTCTypes(const Attrs& attrs, std::vector<int>* in, int* result, size_t first) {
  const int t = (*in)[first];
  MX_CHECK(t < 0 || IsFloatingDType(static_cast<DType>(t)), TypeError)
      << attrs.op->name << ": data has dtype " << DTypeName(static_cast<DType>(t))
      << "; expected a floating dtype";
  for (size_t i = first + 1; i < in->size(); ++i) {
    if ((*in)[i] < 0) (*in)[i] = t;
  }
  AssignType(attrs, "output", result, t);
}

/*! \brief An integer-valued input (label or lengths) as int64 values (MXNet casts to int). */
std::vector<int64_t> IntValues(const TBlob& b) {
  std::vector<int64_t> v(static_cast<size_t>(b.Size()));
  DispatchDType(b.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = b.data<T>();
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<int64_t>(static_cast<double>(ComputeType<T>(p[i])));
  });
  return v;
}

/*! \brief One sample's sequence length and label, checked. */
struct CTCSample {
  int64_t steps = 0;
  std::vector<int64_t> label;
};

/*! \brief The per-sample lengths and labels of the forward inputs in[0..]. */
std::vector<CTCSample> ReadSamples(const Attrs& attrs, std::span<const TBlob> in) {
  const auto& p = attrs.param<CTCLossParam>();
  const std::string& op = attrs.op->name;
  const int64_t t_max = in[0].shape[0], n = in[0].shape[1], classes = in[0].shape[2];
  const int64_t width = in[1].shape[1];
  const int64_t blank = p.blank_label == kFirst ? 0 : classes - 1;
  const int64_t padding = p.blank_label == kFirst ? 0 : -1;
  const std::vector<int64_t> labels = IntValues(in[1]);
  size_t next = 2;
  const std::vector<int64_t> data_lengths =
      p.use_data_lengths ? IntValues(in[next++]) : std::vector<int64_t>();
  const std::vector<int64_t> label_lengths =
      p.use_label_lengths ? IntValues(in[next]) : std::vector<int64_t>();
  std::vector<CTCSample> samples(static_cast<size_t>(n));
  for (int64_t b = 0; b < n; ++b) {
    CTCSample& s = samples[static_cast<size_t>(b)];
    const auto ub = static_cast<size_t>(b);
    s.steps = p.use_data_lengths ? data_lengths[ub] : t_max;
    MX_CHECK(s.steps >= 0 && s.steps <= t_max, ValueError)
        << op << ": data_lengths[" << b << "] is " << s.steps
        << "; it must lie in [0, the sequence length " << t_max << "]";
    int64_t len = 0;
    if (p.use_label_lengths) {
      len = label_lengths[ub];
      MX_CHECK(len >= 0 && len <= width, ValueError)
          << op << ": label_lengths[" << b << "] is " << len << "; it must lie in [0, " << width
          << "], the label's width";
    } else {
      while (len < width &&
             labels[ub * static_cast<size_t>(width) + static_cast<size_t>(len)] != padding) {
        ++len;
      }
    }
    for (int64_t j = 0; j < len; ++j) {
      const int64_t k = labels[static_cast<size_t>(b * width + j)];
      MX_CHECK(k >= 0 && k < classes && k != blank, ValueError)
          << op << ": label[" << b << ", " << j << "] is " << k << "; with blank_label='"
          << (p.blank_label == kFirst ? "first" : "last") << "' and " << classes
          << " classes, labels must lie in [" << (blank == 0 ? 1 : 0) << ", "
          << (blank == 0 ? classes - 1 : classes - 2) << "]";
      s.label.push_back(k);
    }
  }
  return samples;
}

double LogAdd(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

/*!
 * \brief One sample's CTC in log space. logp holds log softmax (steps x C); fills the loss and,
 * if `occupancy` is given, its (steps x C) posterior of emitting each class at each step
 * (summed over the label positions of that class). False when no alignment exists.
 */
bool SampleCTC(const std::vector<double>& logp, int64_t classes, int64_t steps, int64_t blank,
               const std::vector<int64_t>& label, double* loss, std::vector<double>* occupancy) {
  const auto len = static_cast<int64_t>(label.size());
  int64_t repeats = 0;
  for (int64_t j = 1; j < len; ++j)
    repeats += label[static_cast<size_t>(j)] == label[static_cast<size_t>(j - 1)];
  if (len + repeats > steps) {
    *loss = 0;  // NOTE [ CTCLoss as MXNet computes it ]
    if (occupancy) occupancy->clear();
    return false;
  }
  if (steps == 0) {  // an empty label on an empty sequence: probability 1
    *loss = 0;
    if (occupancy) occupancy->clear();
    return true;
  }
  const int64_t states = 2 * len + 1;
  // Extended label: blanks between and around the labels; skip[s]: s may follow s - 2.
  std::vector<int64_t> ext(static_cast<size_t>(states), blank);
  std::vector<char> skip(static_cast<size_t>(states), 0);
  for (int64_t j = 0; j < len; ++j) {
    const auto s = static_cast<size_t>(2 * j + 1);
    ext[s] = label[static_cast<size_t>(j)];
    skip[s] = j > 0 && label[static_cast<size_t>(j)] != label[static_cast<size_t>(j - 1)];
  }
  auto lp = [&](int64_t t, int64_t s) {
    return logp[static_cast<size_t>(t * classes + ext[static_cast<size_t>(s)])];
  };
  auto at = [&](int64_t t, int64_t s) { return static_cast<size_t>(t * states + s); };
  std::vector<double> alpha(static_cast<size_t>(steps * states), -INFINITY);
  alpha[at(0, 0)] = lp(0, 0);
  if (states > 1) alpha[at(0, 1)] = lp(0, 1);
  for (int64_t t = 1; t < steps; ++t) {
    for (int64_t s = 0; s < states; ++s) {
      double a = alpha[at(t - 1, s)];
      if (s >= 1) a = LogAdd(a, alpha[at(t - 1, s - 1)]);
      if (skip[static_cast<size_t>(s)]) a = LogAdd(a, alpha[at(t - 1, s - 2)]);
      alpha[at(t, s)] = a == -INFINITY ? a : a + lp(t, s);
    }
  }
  double log_p = alpha[at(steps - 1, states - 1)];
  if (states > 1) log_p = LogAdd(log_p, alpha[at(steps - 1, states - 2)]);
  *loss = -log_p;
  if (!occupancy) return true;
  // beta[t][s]: log probability of the rest of the label after step t, from state s at t.
  std::vector<double> beta(static_cast<size_t>(steps * states), -INFINITY);
  beta[at(steps - 1, states - 1)] = 0;
  if (states > 1) beta[at(steps - 1, states - 2)] = 0;
  for (int64_t t = steps - 2; t >= 0; --t) {
    for (int64_t s = 0; s < states; ++s) {
      double b = beta[at(t + 1, s)] + lp(t + 1, s);
      if (s + 1 < states) b = LogAdd(b, beta[at(t + 1, s + 1)] + lp(t + 1, s + 1));
      if (s + 2 < states && skip[static_cast<size_t>(s + 2)]) {
        b = LogAdd(b, beta[at(t + 1, s + 2)] + lp(t + 1, s + 2));
      }
      beta[at(t, s)] = b;
    }
  }
  occupancy->assign(static_cast<size_t>(steps * classes), 0.0);
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t s = 0; s < states; ++s) {
      const double g = alpha[at(t, s)] + beta[at(t, s)] - log_p;
      if (g != -INFINITY) (*occupancy)[static_cast<size_t>(t * classes + ext[s])] += std::exp(g);
    }
  }
  return true;
}

/*!
 * \brief Runs every sample (threaded over the batch): the loss into `loss` and, if `grad` is
 * given, out_grad[b] * (softmax - occupancy) into grad (T, N, C) as `req` asks.
 */
template <typename T>
void RunCTC(const Attrs& attrs, std::span<const TBlob> in, T* loss, const T* out_grad, T* grad,
            OpReq req) {
  using C = ComputeType<T>;
  const auto& p = attrs.param<CTCLossParam>();
  const int64_t t_max = in[0].shape[0], n = in[0].shape[1], classes = in[0].shape[2];
  const int64_t blank = p.blank_label == kFirst ? 0 : classes - 1;
  const std::vector<CTCSample> samples = ReadSamples(attrs, in);
  const T* x = in[0].data<T>();
  auto xi = [&](int64_t t, int64_t b, int64_t c) { return (t * n + b) * classes + c; };
  ParallelFor(n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> logp, occupancy;
    for (int64_t b = lo; b < hi; ++b) {
      const CTCSample& s = samples[static_cast<size_t>(b)];
      logp.resize(static_cast<size_t>(s.steps * classes));
      for (int64_t t = 0; t < s.steps; ++t) {
        double m = -INFINITY;
        for (int64_t c = 0; c < classes; ++c)
          m = std::max(m, static_cast<double>(C(x[xi(t, b, c)])));
        double z = 0;
        for (int64_t c = 0; c < classes; ++c)
          z += std::exp(static_cast<double>(C(x[xi(t, b, c)])) - m);
        const double log_z = m + std::log(z);
        for (int64_t c = 0; c < classes; ++c)
          logp[static_cast<size_t>(t * classes + c)] =
              static_cast<double>(C(x[xi(t, b, c)])) - log_z;
      }
      double l = 0;
      const bool feasible =
          SampleCTC(logp, classes, s.steps, blank, s.label, &l, grad ? &occupancy : nullptr);
      if (loss) loss[b] = T(C(l));
      if (!grad) continue;
      const double head = static_cast<double>(C(out_grad[b]));
      for (int64_t t = 0; t < t_max; ++t) {
        for (int64_t c = 0; c < classes; ++c) {
          double g = 0;
          if (feasible && t < s.steps) {
            const auto k = static_cast<size_t>(t * classes + c);
            g = head * (std::exp(logp[k]) - occupancy[k]);
          }
          Store(grad + xi(t, b, c), req, g);
        }
      }
    }
  });
}

void CTCForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (req[0] != OpReq::kAdd) {
      RunCTC<T>(attrs, in, out[0].data<T>(), nullptr, nullptr, OpReq::kNull);
      return;
    }
    std::vector<T> loss(static_cast<size_t>(out[0].Size()));
    RunCTC<T>(attrs, in, loss.data(), nullptr, nullptr, OpReq::kNull);
    for (size_t i = 0; i < loss.size(); ++i)
      Store(out[0].data<T>() + i, req[0], ComputeType<T>(loss[i]));
  });
}

/*! \brief Inputs out_grad, then the forward's inputs; output data_grad (T, N, C). */
void CTCBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  DispatchFloat(in[1].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    RunCTC<T>(attrs, in.subspan(1), nullptr, in[0].data<T>(), out[0].data<T>(), req[0]);
  });
}

/*!
 * \brief CTC by enumeration (the samples' independent oracle): -log of the summed probability
 * of every path of classes whose collapse (merge repeats, drop blanks) is the label. Inputs as
 * the op's in float64, (T, N, C) small enough to enumerate C^T paths.
 */
std::vector<double> EnumeratedCTC(const std::vector<std::vector<double>>& in, const Shape& data,
                                  const AttrDict& dict) {
  const Attrs attrs = Registry::Get("CTCLoss").ParseAttrs(dict);
  const auto& p = attrs.param<CTCLossParam>();
  const int64_t t_max = data[0], n = data[1], classes = data[2];
  const int64_t width = static_cast<int64_t>(in[1].size()) / n;
  const int64_t blank = p.blank_label == kFirst ? 0 : classes - 1;
  const double padding = p.blank_label == kFirst ? 0 : -1;
  std::vector<double> loss(static_cast<size_t>(n));
  for (int64_t b = 0; b < n; ++b) {
    size_t next = 2;
    const int64_t steps =
        p.use_data_lengths ? static_cast<int64_t>(in[next++][static_cast<size_t>(b)]) : t_max;
    std::vector<int64_t> label;
    for (int64_t j = 0; j < width; ++j) {
      const double v = in[1][static_cast<size_t>(b * width + j)];
      if (p.use_label_lengths ? j >= static_cast<int64_t>(in[next][static_cast<size_t>(b)])
                              : static_cast<int64_t>(v) == static_cast<int64_t>(padding)) {
        break;
      }
      label.push_back(static_cast<int64_t>(v));
    }
    auto prob = [&](int64_t t, int64_t c) {
      double z = 0;
      for (int64_t k = 0; k < classes; ++k)
        z += std::exp(in[0][static_cast<size_t>((t * n + b) * classes + k)]);
      return std::exp(in[0][static_cast<size_t>((t * n + b) * classes + c)]) / z;
    };
    double total = 0;
    int64_t paths = 1;
    for (int64_t t = 0; t < steps; ++t)
      paths *= classes;
    for (int64_t path = 0; path < paths; ++path) {
      std::vector<int64_t> collapsed;
      double pr = 1;
      int64_t code = path, prev = -1;
      for (int64_t t = 0; t < steps; ++t, code /= classes) {
        const int64_t c = code % classes;
        pr *= prob(t, c);
        if (c != blank && c != prev) collapsed.push_back(c);
        prev = c;
      }
      if (collapsed == label) total += pr;
    }
    loss[static_cast<size_t>(b)] = total > 0 ? -std::log(total) : 0;  // 0: MXNet's infeasible
  }
  return loss;
}

OpSample CTCSampleOf(AttrDict attrs, std::vector<Shape> inputs,
                     std::vector<std::pair<double, double>> ranges) {
  const Shape data = inputs[0];
  const AttrDict dict = attrs;
  return OpSample{.attrs = std::move(attrs),
                  .inputs = std::move(inputs),
                  .ranges = std::move(ranges),
                  .expected = [data, dict](const std::vector<std::vector<double>>& in) {
                    return std::vector<std::vector<double>>{EnumeratedCTC(in, data, dict)};
                  }};
}

const bool kRegistered = [] {
  Registry::Add("CTCLoss")
      .Alias("ctc_loss")
      .Alias("_contrib_CTCLoss")
      .Alias("_contrib_ctc_loss")
      .Describe(
          "Connectionist Temporal Classification loss: for activations data (sequence length, "
          "batch, alphabet size), softmax-normalised inside, and labels (batch, max label "
          "length), the negative log likelihood of each sample's label (NOTE [ CTCLoss as MXNet "
          "computes it ]).")
      .Param<CTCLossParam>()
      .Inputs(CTCInputs)
      .Signature({"data", "label", "data_lengths?", "label_lengths?"})
      .InferShape(CTCShape)
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        CTCTypes(attrs, in, &(*out)[0], 0);
      })
      .Kernel("reference", CTCForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        std::vector<GValue> args{dout[0]};
        args.insert(args.end(), in.begin(), in.end());
        std::vector<GValue> grads(in.size());
        grads[0] = g.Apply("_backward_CTCLoss", args, attrs.dict).at(0);
        return grads;
      })
      // Blank first, labels 1..3 padded with 0 (a label of 0 ends the sample's label early).
      .Sample(CTCSampleOf({}, {Shape{4, 2, 4}, Shape{2, 2}}, {{-2.0, 2.0}, {0.0, 3.99}}))
      // Blank last, labels 0..1 padded with -1, with both lengths.
      .Sample(CTCSampleOf(
          {{"blank_label", "last"}, {"use_data_lengths", "True"}, {"use_label_lengths", "True"}},
          {Shape{5, 2, 3}, Shape{2, 2}, Shape{2}, Shape{2}},
          {{-2.0, 2.0}, {0.0, 1.99}, {3.0, 5.99}, {0.0, 2.99}}))
      // Data lengths only; repeated labels need a blank between them (some may be infeasible).
      .Sample(CTCSampleOf({{"use_data_lengths", "True"}}, {Shape{4, 3, 3}, Shape{3, 2}, Shape{3}},
                          {{-2.0, 2.0}, {1.0, 2.99}, {2.0, 4.99}}));

  Registry::Add("_backward_CTCLoss")
      .Describe(
          "CTCLoss's data gradient from out_grad and the forward's inputs: out_grad * (softmax - "
          "the posterior of each class at each step), by the alpha-beta recursions.")
      .Param<CTCLossParam>()
      .Inputs(CTCBackwardInputs)
      .Signature({"out_grad", "data", "label", "data_lengths?", "label_lengths?"})
      .InferShape(CTCBackwardShape)
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        CTCTypes(attrs, in, &(*out)[0], 1);
        AssignType(attrs, "out_grad", &(*in)[0], (*in)[1]);
      })
      .Kernel("reference", CTCBackward)
      .Sample(OpSample{.attrs = {{"blank_label", "last"}},
                       .inputs = {Shape{2}, Shape{4, 2, 3}, Shape{2, 2}},
                       .ranges = {{-1.0, 1.0}, {-2.0, 2.0}, {-1.0, 1.99}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
