// SequenceMask, SequenceLast and SequenceReverse (MXNet 1.x): variable-length sequences along
// the time axis of `data`, (steps, batch, ...) with axis=0 or (batch, steps, ...) with axis=1.
// With use_sequence_length, `sequence_length` (batch,) gives each sequence's length, truncated
// to an integer as MXNet reads it; without it every sequence is `steps` long and the op takes
// `data` only.
//
// SequenceMask writes `value` at steps t >= length (a NaN there becomes `value`, as MXNet);
// SequenceLast takes step length - 1; SequenceReverse reverses the first `length` steps and
// leaves the rest (axis 0 only, as MXNet). sequence_length gets no gradient.
#include "operator/tensor/elemwise.h"
#include "operator/tensor/indexing.h"

namespace mixnet::op {
namespace {

using Values = std::vector<std::vector<double>>;

struct SequenceMaskParam {
  bool use_sequence_length = false;
  double value = 0;
  int axis = 0;
  static void Declare(ParamDecl<SequenceMaskParam>& d) {
    d.Field("use_sequence_length", &SequenceMaskParam::use_sequence_length)
        .Default(false)
        .Doc("If set to true, use the sequence_length input; otherwise every sequence is full.");
    d.Field("value", &SequenceMaskParam::value).Default(0.0).Doc("The value to be used as a mask.");
    d.Field("axis", &SequenceMaskParam::axis)
        .Default(0)
        .Doc("The sequence axis. Only values of 0 and 1 are currently supported.");
  }
};

struct SequenceParam {
  bool use_sequence_length = false;
  int axis = 0;
  static void Declare(ParamDecl<SequenceParam>& d) {
    d.Field("use_sequence_length", &SequenceParam::use_sequence_length)
        .Default(false)
        .Doc("If set to true, use the sequence_length input; otherwise every sequence is full.");
    d.Field("axis", &SequenceParam::axis)
        .Default(0)
        .Doc("The sequence axis. Only values of 0 and 1 are currently supported.");
  }
};

/*! \brief use_sequence_length and axis, the same for the three ops' params. */
template <typename P>
std::pair<bool, int> Common(const Attrs& attrs) {
  const auto& p = attrs.param<P>();
  return {p.use_sequence_length, p.axis};
}

/*! \brief data as (steps, batch, inner) elements along `axis` (0 or 1). */
struct SeqDims {
  int64_t steps, batch, inner;
  int axis;
  int64_t At(int64_t t, int64_t b) const {
    return (axis == 0 ? t * batch + b : b * steps + t) * inner;
  }
};

SeqDims MakeSeqDims(const Shape& data, int axis) {
  return SeqDims{data[axis], data[1 - axis], data.ProdDims(2, data.ndim()), axis};
}

template <typename P>
std::vector<std::string> SeqInputs(const Attrs& attrs) {
  if (Common<P>(attrs).first) return {"data", "sequence_length"};
  return {"data"};
}

/*! \brief Checks data (ndim >= 2, axis 0 or 1) and sets sequence_length's shape (batch,). */
template <typename P>
void InferSeqInputs(const Attrs& attrs, std::vector<Shape>* in, bool axis0_only) {
  const auto [use_len, axis] = Common<P>(attrs);
  MX_CHECK(axis == 0 || (axis == 1 && !axis0_only), ValueError)
      << attrs.op->name << ": argument 'axis' is " << axis << " but must be "
      << (axis0_only ? "0" : "0 or 1");
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  MX_CHECK(data.ndim() >= 2, ValueError)
      << attrs.op->name << ": data must have at least 2 dimensions but has shape " << data;
  if (use_len) AssignShape(attrs, "sequence_length", &(*in)[1], Shape{data[1 - axis]});
}

template <typename P>
void SeqType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  std::vector<int> data{(*in)[0]};
  FloatingSameType(attrs, &data, out);
  (*in)[0] = data[0];
  if (Common<P>(attrs).first) CheckIndexType(attrs, *in, 1);
}

/*!
 * \brief Each sequence's length (`steps` without sequence_length), checked to lie in
 * [min_len, steps] unless `clip` (SequenceMask reads any length).
 */
template <typename P>
std::vector<int64_t> Lengths(const Attrs& attrs, std::span<const TBlob> in, const SeqDims& dm,
                             int64_t min_len, bool clip) {
  std::vector<int64_t> len(static_cast<size_t>(dm.batch), dm.steps);
  if (!Common<P>(attrs).first) return len;
  DispatchIndex(in[1].dtype, [&](auto tag) {
    using I = typename decltype(tag)::type;
    const I* v = in[1].data<I>();
    for (int64_t b = 0; b < dm.batch; ++b) {
      const auto n = static_cast<int64_t>(v[b]);
      if (clip) {
        len[static_cast<size_t>(b)] = std::clamp<int64_t>(n, 0, dm.steps);
        continue;
      }
      MX_CHECK(n >= min_len && n <= dm.steps, ValueError)
          << attrs.op->name << ": sequence_length[" << b << "] is " << n << " but must be in ["
          << min_len << ", " << dm.steps << "] for data with " << dm.steps << " steps";
      len[static_cast<size_t>(b)] = n;
    }
  });
  return len;
}

/*!
 * \brief The first input's gradient: op(out_grad, in[from:]...) with `dict`; the others
 * (sequence_length, and data where it only gives a shape) get none.
 */
std::vector<GValue> FirstInputGrad(GradBuilder& g, const char* op, std::span<const GValue> in,
                                   size_t from, GValue dout, const AttrDict& dict) {
  std::vector<GValue> args{dout};
  args.insert(args.end(), in.begin() + static_cast<std::ptrdiff_t>(from), in.end());
  std::vector<GValue> grads(in.size());
  grads[0] = g.Apply(op, args, dict).at(0);
  return grads;
}

// ---- SequenceMask ----

void MaskForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<SequenceMaskParam>();
  const SeqDims dm = MakeSeqDims(in[0].shape, p.axis);
  const auto len = Lengths<SequenceMaskParam>(attrs, in, dm, 0, /*clip=*/true);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    const T fill = T(static_cast<ComputeType<T>>(p.value));
    for (int64_t t = 0; t < dm.steps; ++t) {
      for (int64_t b = 0; b < dm.batch; ++b) {
        const bool keep = t < len[static_cast<size_t>(b)];
        for (int64_t k = 0, i = dm.At(t, b); k < dm.inner; ++k, ++i)
          Store(y + i, keep ? x[i] : fill, req[0]);
      }
    }
  });
}

// ---- SequenceLast ----

void LastShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  InferSeqInputs<SequenceParam>(attrs, in, false);
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  std::vector<int64_t> dims(data.begin(), data.end());
  dims.erase(dims.begin() + attrs.param<SequenceParam>().axis);
  AssignShape(attrs, "output", &(*out)[0], Shape(std::span<const int64_t>(dims)));
}

/*! \brief Copies step length-1 of each sequence between data (full) and the (batch, ...) rows. */
template <typename T>
void LastRows(const SeqDims& dm, const std::vector<int64_t>& len, const T* src, T* dst, bool gather,
              OpReq req) {
  for (int64_t b = 0; b < dm.batch; ++b) {
    const int64_t full = dm.At(len[static_cast<size_t>(b)] - 1, b), row = b * dm.inner;
    for (int64_t k = 0; k < dm.inner; ++k) {
      if (gather) {
        Store(dst + row + k, src[full + k], req);
      } else {
        Store(dst + full + k, src[row + k], req);
      }
    }
  }
}

void LastForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const SeqDims dm = MakeSeqDims(in[0].shape, attrs.param<SequenceParam>().axis);
  const auto len = Lengths<SequenceParam>(attrs, in, dm, 1, false);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    LastRows(dm, len, in[0].data<T>(), out[0].data<T>(), /*gather=*/true, req[0]);
  });
}

// _backward_SequenceLast in: out_grad, data [, sequence_length]. out: data_grad.
void LastBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  const SeqDims dm = MakeSeqDims(in[1].shape, attrs.param<SequenceParam>().axis);
  const auto len = Lengths<SequenceParam>(attrs, in.subspan(1), dm, 1, false);
  ZeroUnlessAdd(out[0], req[0]);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    LastRows(dm, len, in[0].data<T>(), out[0].data<T>(), /*gather=*/false, OpReq::kAdd);
  });
}

// ---- SequenceReverse ----

void ReverseForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq> req, std::span<const TBlob> out) {
  const SeqDims dm = MakeSeqDims(in[0].shape, 0);
  const auto len = Lengths<SequenceParam>(attrs, in, dm, 0, false);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    // Out of place: an in-place reversal would read steps it has already overwritten.
    for (int64_t t = 0; t < dm.steps; ++t) {
      for (int64_t b = 0; b < dm.batch; ++b) {
        const int64_t n = len[static_cast<size_t>(b)];
        const int64_t src = dm.At(t < n ? n - 1 - t : t, b), dst = dm.At(t, b);
        for (int64_t k = 0; k < dm.inner; ++k)
          Store(y + dst + k, x[src + k], req[0]);
      }
    }
  });
}

// ---- samples: expected values computed directly on (steps, batch, inner) data ----

/*! \brief Sample lengths: sequence_length truncated as the op reads it, or all `steps`. */
std::vector<int64_t> SampleLengths(const Values& in, int64_t steps, int64_t batch) {
  std::vector<int64_t> len(static_cast<size_t>(batch), steps);
  if (in.size() > 1) {
    for (size_t b = 0; b < len.size(); ++b)
      len[b] = static_cast<int64_t>(in[1][b]);
  }
  return len;
}

OpSample SeqSample(AttrDict attrs, Shape data, int axis, bool with_len,
                   std::pair<double, double> len_range,
                   std::function<Values(const Values&)> expected) {
  OpSample s{.attrs = std::move(attrs), .inputs = {data}, .expected = std::move(expected)};
  if (with_len) {
    s.inputs.push_back(Shape{data[1 - axis]});
    s.ranges = {{-1.0, 1.0}, len_range};
    s.dtypes = {DType::kFloat64, DType::kInt32};
  }
  return s;
}

const bool kRegistered = [] {
  Registry::Add("SequenceMask")
      .Describe(
          "Sets the steps of each sequence at or past its length (sequence_length) to `value`.")
      .Param<SequenceMaskParam>()
      .Inputs(SeqInputs<SequenceMaskParam>)
      .Signature({"data", "sequence_length?"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        InferSeqInputs<SequenceMaskParam>(attrs, in, false);
        AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
      })
      .InferType(SeqType<SequenceMaskParam>)
      .Kernel("reference", MaskForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // The masked steps do not reach the output: their gradient is masked with zeros.
        AttrDict dict;
        for (const auto& kv : attrs.dict) {
          if (kv.first != "value") dict.push_back(kv);
        }
        return FirstInputGrad(g, "SequenceMask", in, 1, dout[0], dict);
      })
      .Sample(SeqSample({}, Shape{3, 2, 2}, 0, false, {}, [](const Values& in) { return in; }))
      .Sample(SeqSample({{"use_sequence_length", "True"}, {"value", "-2.5"}, {"axis", "1"}},
                        Shape{3, 4, 2}, 1, true, {0.0, 5.5}, [](const Values& in) {
                          const auto len = SampleLengths(in, 4, 3);
                          std::vector<double> y = in[0];
                          for (size_t i = 0; i < y.size(); ++i) {
                            if (static_cast<int64_t>(i / 2 % 4) >= len[i / 8]) y[i] = -2.5;
                          }
                          return Values{y};
                        }));

  Registry::Add("SequenceLast")
      .Describe("Takes the last step of each sequence (step sequence_length - 1).")
      .Param<SequenceParam>()
      .Inputs(SeqInputs<SequenceParam>)
      .Signature({"data", "sequence_length?"})
      .InferShape(LastShape)
      .InferType(SeqType<SequenceParam>)
      .Kernel("reference", LastForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return FirstInputGrad(g, "_backward_SequenceLast", in, 0, dout[0], attrs.dict);
      })
      .Sample(SeqSample({}, Shape{3, 2, 2}, 0, false, {},
                        [](const Values& in) {
                          return Values{std::vector<double>(in[0].begin() + 8, in[0].end())};
                        }))
      .Sample(SeqSample({{"use_sequence_length", "True"}}, Shape{4, 3, 2}, 0, true, {1.0, 4.99},
                        [](const Values& in) {
                          const auto len = SampleLengths(in, 4, 3);
                          std::vector<double> y;
                          for (size_t b = 0; b < 3; ++b) {
                            for (size_t k = 0; k < 2; ++k)
                              y.push_back(in[0][(static_cast<size_t>(len[b] - 1) * 3 + b) * 2 + k]);
                          }
                          return Values{y};
                        }))
      .Sample(SeqSample({{"use_sequence_length", "True"}, {"axis", "1"}}, Shape{2, 3}, 1, true,
                        {1.0, 3.99}, [](const Values& in) {
                          const auto len = SampleLengths(in, 3, 2);
                          return Values{{in[0][static_cast<size_t>(len[0] - 1)],
                                         in[0][3 + static_cast<size_t>(len[1] - 1)]}};
                        }));

  Registry::Add("_backward_SequenceLast")
      .Describe("Gradient of SequenceLast: out_grad scattered to each sequence's last step.")
      .Param<SequenceParam>()
      .Inputs([](const Attrs& attrs) {
        auto names = SeqInputs<SequenceParam>(attrs);
        names.insert(names.begin(), "out_grad");
        return names;
      })
      .Signature({"out_grad", "data", "sequence_length?"})
      .Outputs({"data_grad"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        std::vector<Shape> fwd(in->begin() + 1, in->end()), y(1);
        LastShape(attrs, &fwd, &y);
        std::copy(fwd.begin(), fwd.end(), in->begin() + 1);
        AssignShape(attrs, "out_grad", &(*in)[0], y[0]);
        AssignShape(attrs, "data_grad", &(*out)[0], (*in)[1]);
      })
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        // data gives the shape only; the gradient takes out_grad's dtype.
        std::vector<int> og{(*in)[0]};
        FloatingSameType(attrs, &og, out);
        (*in)[0] = og[0];
        if (attrs.param<SequenceParam>().use_sequence_length) CheckIndexType(attrs, *in, 2);
      })
      .Kernel("reference", LastBackward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // Linear in out_grad: its gradient takes the same steps back.
        return FirstInputGrad(g, "SequenceLast", in, 2, dout[0], attrs.dict);
      })
      .Sample(OpSample{.attrs = {{"use_sequence_length", "True"}},
                       .inputs = {Shape{2, 2}, Shape{3, 2, 2}, Shape{2}},
                       .ranges = {{-1.0, 1.0}, {-1.0, 1.0}, {1.0, 3.99}},
                       .dtypes = {DType::kFloat64, DType::kFloat64, DType::kInt32}});

  Registry::Add("SequenceReverse")
      .Describe(
          "Reverses the first sequence_length steps of each sequence (time axis 0); later "
          "steps stay in place.")
      .Param<SequenceParam>()
      .Inputs(SeqInputs<SequenceParam>)
      .Signature({"data", "sequence_length?"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        InferSeqInputs<SequenceParam>(attrs, in, /*axis0_only=*/true);
        AssignShape(attrs, "output", &(*out)[0], (*in)[0]);
      })
      .InferType(SeqType<SequenceParam>)
      .Kernel("reference", ReverseForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // A permutation that is its own inverse: the gradient is reversed the same way.
        return FirstInputGrad(g, "SequenceReverse", in, 1, dout[0], attrs.dict);
      })
      .Sample(SeqSample({}, Shape{3, 2}, 0, false, {},
                        [](const Values& in) {
                          const auto& x = in[0];
                          return Values{{x[4], x[5], x[2], x[3], x[0], x[1]}};
                        }))
      .Sample(SeqSample({{"use_sequence_length", "True"}}, Shape{4, 3, 2}, 0, true, {0.0, 4.99},
                        [](const Values& in) {
                          const auto len = SampleLengths(in, 4, 3);
                          std::vector<double> y(in[0].size());
                          for (size_t i = 0; i < y.size(); ++i) {
                            const auto t = static_cast<int64_t>(i / 6);
                            const size_t b = i / 2 % 3;
                            const int64_t n = len[b];
                            const int64_t src = t < n ? n - 1 - t : t;
                            y[i] = in[0][static_cast<size_t>(src) * 6 + b * 2 + i % 2];
                          }
                          return Values{y};
                        }));
  return true;
}();

}  // namespace
}  // namespace mixnet::op
