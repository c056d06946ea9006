// Joining and splitting arrays along an axis: Concat (and _rnn_param_concat), stack,
// SliceChannel (split), and the backward of Concat.
#include <algorithm>

#include "operator/grad_ops.h"
#include "operator/tensor/layout.h"

namespace mixnet::op {
namespace {

using Values = std::vector<std::vector<double>>;

struct ConcatParam {
  int num_args = 1;
  int dim = 1;
  static void Declare(ParamDecl<ConcatParam>& d) {
    d.Field("num_args", &ConcatParam::num_args).Lower(1).Doc("Number of inputs to join.");
    d.Field("dim", &ConcatParam::dim).Default(1).Doc("The axis to join along.");
  }
};

struct StackParam {
  int num_args = 1;
  int axis = 0;
  static void Declare(ParamDecl<StackParam>& d) {
    d.Field("num_args", &StackParam::num_args).Lower(1).Doc("Number of inputs to stack.");
    d.Field("axis", &StackParam::axis).Default(0).Doc("Position of the new axis in the output.");
  }
};

struct SliceChannelParam {
  int num_outputs = 1;
  int axis = 1;
  bool squeeze_axis = false;
  static void Declare(ParamDecl<SliceChannelParam>& d) {
    d.Field("num_outputs", &SliceChannelParam::num_outputs)
        .Lower(1)
        .Doc("Number of equal parts to split into.");
    d.Field("axis", &SliceChannelParam::axis).Default(1).Doc("The axis to split along.");
    d.Field("squeeze_axis", &SliceChannelParam::squeeze_axis)
        .Default(false)
        .Doc("Remove the split axis from the outputs (each part must then have size 1 there).");
  }
};

int64_t Prod(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int k = begin; k < end; ++k)
    p *= s[k];
  return p;
}

/*!
 * \brief Seen as (rows, inner_i) matrices, the parts are the column blocks of `whole`:
 * joining copies parts into whole, splitting copies them out.
 */
void CopyBlocks(const TBlob& whole, std::span<const TBlob> parts, int axis, bool join) {
  const int64_t rows = Prod(whole.shape, 0, axis);
  const int64_t width = Prod(whole.shape, axis, whole.shape.ndim());
  int64_t offset = 0;
  for (const TBlob& part : parts) {
    const int64_t inner = Prod(part.shape, axis, part.shape.ndim());
    const StridedView block{{rows, inner}, {inner, 1}, 0};
    const StridedView in_whole{{rows, inner}, {width, 1}, offset};
    if (join) {
      CopyView(part, block, whole, in_whole);
    } else {
      CopyView(whole, in_whole, part, block);
    }
    offset += inner;
  }
}

/*! \brief Shapes joined along `axis`: equal elsewhere; unknown parts stay unknown. */
void ConcatShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape* first = nullptr;
  size_t first_i = 0;
  for (size_t i = 0; i < in->size() && !first; ++i) {
    if (!(*in)[i].is_unknown()) first = &(*in)[first_i = i];
  }
  if (!first) return;
  const int nd = first->ndim();
  const int axis = NormalizeAxis(attrs, "dim", attrs.param<ConcatParam>().dim, *first, nd);
  Shape result = *first;
  int64_t total = 0;
  for (size_t i = 0; i < in->size(); ++i) {
    const Shape& s = (*in)[i];
    if (s.is_unknown()) {
      total = -1;
      continue;
    }
    bool ok = s.ndim() == nd;
    for (int k = 0; ok && k < nd; ++k) {
      if (k == axis || s[k] < 0) continue;
      ok = result[k] < 0 || result[k] == s[k];
      result[k] = s[k];
    }
    MX_CHECK(ok, ValueError) << attrs.op->name << ": " << InputName(attrs, i) << " has shape " << s
                             << ", which does not match " << InputName(attrs, first_i)
                             << " of shape " << *first << " outside dim " << axis;
    total = (total < 0 || s[axis] < 0) ? -1 : total + s[axis];
  }
  result[axis] = total;
  AssignShape(attrs, "output", &(*out)[0], result);
}

/*!
 * \brief _rnn_param_concat's shapes (MXNet's RNNParamConcatShape): Concat's, and inputs still
 * unknown share what the known output leaves along dim evenly. Exported RNN graphs join the
 * flattened weights into the RNN op's parameters vector, whose size the RNN op infers.
 */
void RnnParamConcatShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  ConcatShape(attrs, in, out);
  const Shape& whole = (*out)[0];
  if (whole.is_unknown()) return;
  const int axis = NormalizeAxis(attrs, "dim", attrs.param<ConcatParam>().dim, whole, whole.ndim());
  std::vector<size_t> unknown;
  int64_t known = 0;
  for (size_t i = 0; i < in->size(); ++i) {
    if ((*in)[i].is_unknown()) {
      unknown.push_back(i);
    } else {
      known += (*in)[i][axis];
    }
  }
  if (unknown.empty() || whole[axis] < 0 || known < 0) return;
  const int64_t rest = whole[axis] - known;
  MX_CHECK(rest >= 0 && rest % static_cast<int64_t>(unknown.size()) == 0, ValueError)
      << attrs.op->name << ": output has shape " << whole << " but the known inputs take " << known
      << " along dim " << axis << "; " << unknown.size()
      << " unknown input(s) cannot share the rest evenly";
  Shape part = whole;
  part[axis] = rest / static_cast<int64_t>(unknown.size());
  for (size_t i : unknown)
    AssignShape(attrs, InputName(attrs, i), &(*in)[i], part);
}

void ConcatKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq>, std::span<const TBlob> out) {
  const int nd = out[0].shape.ndim();
  const int axis = attrs.param<ConcatParam>().dim;
  CopyBlocks(out[0], in, axis < 0 ? axis + nd : axis, /*join=*/true);
}

std::vector<GValue> ConcatGradient(GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                                   std::span<const GValue>, std::span<const GValue> dout) {
  std::vector<GValue> args{dout[0]};
  args.insert(args.end(), in.begin(), in.end());
  return g.Apply("_concat_backward", args, attrs.dict);
}

void StackShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape s;
  for (size_t i = 0; i < in->size(); ++i)
    AssignShape(attrs, InputName(attrs, i), &s, (*in)[i]);
  if (s.is_unknown()) return;
  for (size_t i = 0; i < in->size(); ++i)
    AssignShape(attrs, InputName(attrs, i), &(*in)[i], s);
  const auto& p = attrs.param<StackParam>();
  const int axis = NormalizeAxis(attrs, "axis", p.axis, s, s.ndim() + 1);
  std::vector<int64_t> dims(s.begin(), s.end());
  dims.insert(dims.begin() + axis, p.num_args);
  AssignShape(attrs, "output", &(*out)[0], Shape(std::span<const int64_t>(dims)));
}

void StackKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
  const int nd = out[0].shape.ndim();
  const int axis = attrs.param<StackParam>().axis;
  CopyBlocks(out[0], in, axis < 0 ? axis + nd : axis, /*join=*/true);
}

void SplitShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const auto& p = attrs.param<SliceChannelParam>();
  const int axis = NormalizeAxis(attrs, "axis", p.axis, x, x.ndim());
  const int64_t d = x[axis], n = p.num_outputs;
  MX_CHECK(d < 0 || d % n == 0, ValueError)
      << attrs.op->name << ": data of shape " << x << " cannot be split into num_outputs=" << n
      << " equal parts along axis " << p.axis;
  MX_CHECK(!p.squeeze_axis || d < 0 || d == n, ValueError)
      << attrs.op->name << ": squeeze_axis=True needs parts of size 1, but data of shape " << x
      << " has " << d << " along axis " << p.axis << " for num_outputs=" << n;
  std::vector<int64_t> dims(x.begin(), x.end());
  if (p.squeeze_axis) {
    dims.erase(dims.begin() + axis);
  } else {
    dims[axis] = d < 0 ? -1 : d / n;
  }
  const Shape part{std::span<const int64_t>(dims)};
  for (size_t j = 0; j < out->size(); ++j)
    AssignShape(attrs, "output" + std::to_string(j), &(*out)[j], part);
}

void SplitKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<SliceChannelParam>();
  const int nd = in[0].shape.ndim();
  const int axis = p.axis < 0 ? p.axis + nd : p.axis;
  // Squeezed parts have the same elements as the unsqueezed ones: view them with the axis.
  std::vector<TBlob> parts(out.begin(), out.end());
  std::vector<int64_t> dims(in[0].shape.begin(), in[0].shape.end());
  dims[axis] /= p.num_outputs;
  for (TBlob& t : parts)
    t.shape = Shape(std::span<const int64_t>(dims));
  CopyBlocks(in[0], parts, axis, /*join=*/false);
}

/*! \brief Values of arrays joined along `axis` (shapes given), for samples. */
std::vector<double> JoinValues(const Values& parts, const std::vector<Shape>& shapes, int axis) {
  std::vector<double> out;
  const int64_t rows = Prod(shapes[0], 0, axis);
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < parts.size(); ++i) {
      const int64_t inner = Prod(shapes[i], axis, shapes[i].ndim());
      for (int64_t c = 0; c < inner; ++c)
        out.push_back(parts[i][static_cast<size_t>(r * inner + c)]);
    }
  }
  return out;
}

const bool kRegistered = [] {
  Registry::Add("Concat")
      .Alias("concat")
      .Describe("Joins arrays along an existing axis (dim).")
      .Param<ConcatParam>()
      .Inputs([](const Attrs& a) { return NumberedNames("arg", a.param<ConcatParam>().num_args); })
      .Signature({"*data"})
      .InferShape(ConcatShape)
      .InferType(SameType)
      .Kernel("reference", ConcatKernel)
      .Gradient(ConcatGradient)
      .Sample(
          {.attrs = {{"num_args", "3"}, {"dim", "1"}},
           .inputs = {Shape{2, 1, 3}, Shape{2, 4, 3}, Shape{2, 2, 3}},
           .expected =
               [](const Values& in) {
                 return Values{JoinValues(in, {Shape{2, 1, 3}, Shape{2, 4, 3}, Shape{2, 2, 3}}, 1)};
               }})
      .Sample({.attrs = {{"num_args", "2"}, {"dim", "-1"}},
               .inputs = {Shape{3, 2}, Shape{3, 0}},
               .expected = [](const Values& in) { return Values{in[0]}; }})
      .Sample({.attrs = {{"num_args", "2"}, {"dim", "0"}},
               .inputs = {Shape{1, 3}, Shape{2, 3}},
               .ranges = {{-9, 9}, {-9, 9}},
               .expected =
                   [](const Values& in) {
                     return Values{JoinValues({Truncated(in[0]), Truncated(in[1])},
                                              {Shape{1, 3}, Shape{2, 3}}, 0)};
                   },
               .dtypes = {DType::kInt8, DType::kInt8}});

  // MXNet's concat of RNN weights in exported Gluon RNN graphs: Concat's kernel and gradient.
  Registry::Add("_rnn_param_concat")
      .Describe("Joins arrays along dim as Concat; used for RNN parameters in exported graphs.")
      .Param<ConcatParam>()
      .Inputs([](const Attrs& a) { return NumberedNames("arg", a.param<ConcatParam>().num_args); })
      .Signature({"*data"})
      .InferShape(RnnParamConcatShape)
      .InferType(SameType)
      .Kernel("reference", ConcatKernel)
      .Gradient(ConcatGradient)
      .Sample({.attrs = {{"num_args", "2"}, {"dim", "0"}},
               .inputs = {Shape{6}, Shape{4}},
               .expected = [](const Values& in) {
                 return Values{JoinValues(in, {Shape{6}, Shape{4}}, 0)};
               }});

  Registry::Add("_concat_backward")
      .Describe("Gradients of Concat's inputs: out_grad cut back into their shapes.")
      .Param<ConcatParam>()
      .Inputs([](const Attrs& a) {
        auto names = NumberedNames("arg", a.param<ConcatParam>().num_args);
        names.insert(names.begin(), "out_grad");
        return names;
      })
      .Outputs([](const Attrs& a) {
        auto names = NumberedNames("arg", a.param<ConcatParam>().num_args);
        for (auto& n : names)
          n += "_grad";
        return names;
      })
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        std::vector<Shape> args(in->begin() + 1, in->end()), joined(1);
        ConcatShape(attrs, &args, &joined);
        AssignShape(attrs, "out_grad", &(*in)[0], joined[0]);
        for (size_t i = 0; i < out->size(); ++i)
          AssignShape(attrs, InputName(attrs, i + 1) + "_grad", &(*out)[i], args[i]);
      })
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        // The gradients take out_grad's dtype; the inputs only give shapes.
        for (size_t i = 0; i < out->size(); ++i)
          AssignType(attrs, InputName(attrs, i + 1) + "_grad", &(*out)[i], (*in)[0]);
      })
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                const int nd = in[0].shape.ndim();
                const int axis = attrs.param<ConcatParam>().dim;
                CopyBlocks(in[0], out, axis < 0 ? axis + nd : axis, /*join=*/false);
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        std::vector<GValue> grads(in.size());
        grads[0] = g.Apply("Concat", dout, attrs.dict).at(0);
        return grads;
      })
      .Sample(
          {.attrs = {{"num_args", "2"}, {"dim", "0"}},
           .inputs = {Shape{5, 2}, Shape{2, 2}, Shape{3, 2}},
           .expected = [](const Values& in) {
             return Values{{in[0].begin(), in[0].begin() + 4}, {in[0].begin() + 4, in[0].end()}};
           }});

  Registry::Add("stack")
      .Describe("Joins arrays of equal shape along a new axis.")
      .Param<StackParam>()
      .Inputs([](const Attrs& a) { return NumberedNames("arg", a.param<StackParam>().num_args); })
      .Signature({"*data"})
      .InferShape(StackShape)
      .InferType(SameType)
      .Kernel("reference", StackKernel)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& p = attrs.param<StackParam>();
        return g.Apply("SliceChannel", dout,
                       {{"num_outputs", std::to_string(p.num_args)},
                        {"axis", std::to_string(p.axis)},
                        {"squeeze_axis", "True"}});
      })
      .Sample({.attrs = {{"num_args", "2"}, {"axis", "1"}},
               .inputs = {Shape{2, 3}, Shape{2, 3}},
               .expected =
                   [](const Values& in) {
                     return Values{JoinValues(in, {Shape{2, 1, 3}, Shape{2, 1, 3}}, 1)};
                   }})
      .Sample({.attrs = {{"num_args", "3"}, {"axis", "-1"}},
               .inputs = {Shape{2, 2}, Shape{2, 2}, Shape{2, 2}},
               .expected = [](const Values& in) {
                 return Values{JoinValues(in, {Shape{2, 2, 1}, Shape{2, 2, 1}, Shape{2, 2, 1}}, 2)};
               }});

  Registry::Add("SliceChannel")
      .Alias("split")
      .Describe("Splits data into num_outputs equal parts along an axis.")
      .Param<SliceChannelParam>()
      .Inputs({"data"})
      .Outputs([](const Attrs& a) {
        return NumberedNames("output", a.param<SliceChannelParam>().num_outputs);
      })
      .InferShape(SplitShape)
      .InferType(SameType)
      .Kernel("reference", SplitKernel)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue> outs, std::span<const GValue> dout) {
        const auto& p = attrs.param<SliceChannelParam>();
        std::vector<GValue> parts;
        for (size_t j = 0; j < dout.size(); ++j) {
          GValue d = dout[j].valid() ? dout[j] : g.Apply1("zeros_like", {outs[j]});
          if (p.squeeze_axis) d = g.Apply1("expand_dims", {d}, {{"axis", std::to_string(p.axis)}});
          parts.push_back(d);
        }
        return std::vector<GValue>{
            g.Apply("Concat", parts,
                    {{"num_args", std::to_string(p.num_outputs)}, {"dim", std::to_string(p.axis)}})
                .at(0)};
      })
      .Sample({.attrs = {{"num_outputs", "3"}, {"axis", "1"}},
               .inputs = {Shape{2, 6, 2}},
               .expected =
                   [](const Values& in) {
                     Values out(3);
                     for (size_t i = 0; i < in[0].size(); ++i)
                       out[(i / 4) % 3].push_back(in[0][i]);
                     return out;
                   }})
      .Sample({.attrs = {{"num_outputs", "2"}, {"axis", "-1"}, {"squeeze_axis", "1"}},
               .inputs = {Shape{3, 2}},
               .expected = [](const Values& in) {
                 Values out(2);
                 for (size_t i = 0; i < in[0].size(); ++i)
                   out[i % 2].push_back(in[0][i]);
                 return out;
               }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
