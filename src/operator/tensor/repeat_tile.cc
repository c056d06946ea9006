// Copies that repeat elements: repeat, tile, and their backward ops (sums over the copies).
#include <algorithm>
#include <optional>

#include "operator/grad_ops.h"
#include "operator/tensor/layout.h"

namespace mixnet::op {
namespace {

using Values = std::vector<std::vector<double>>;

struct RepeatParam {
  int repeats = 1;
  std::optional<int> axis;
  static void Declare(ParamDecl<RepeatParam>& d) {
    d.Field("repeats", &RepeatParam::repeats).Lower(0).Doc("Copies of each element.");
    d.Field("axis", &RepeatParam::axis)
        .Default(std::nullopt)
        .Doc("The axis to repeat along; None repeats the flattened array.");
  }
};

struct TileParam {
  std::vector<int64_t> reps;
  static void Declare(ParamDecl<TileParam>& d) {
    d.Field("reps", &TileParam::reps)
        .Doc("Copies along each axis; shorter or longer than data's dims, 1s fill the front.");
  }
};

/*!
 * \brief repeat as a broadcasting view: `dims` are data's dims with the copies inserted after
 * the repeated axis (data flattened when axis is None), `strides` data's strides there (0 for
 * the copies). The output is that view, contiguous.
 */
StridedView RepeatView(const Attrs& attrs, const Shape& x) {
  const auto& p = attrs.param<RepeatParam>();
  StridedView v;
  if (!p.axis) {
    v.shape = {x.Size(), p.repeats};
    v.strides = {1, 0};
    return v;
  }
  const int axis = NormalizeAxis(attrs, "axis", *p.axis, x, x.ndim());
  v.shape.assign(x.begin(), x.end());
  v.strides = ContiguousStrides(x.dims());
  v.shape.insert(v.shape.begin() + axis + 1, p.repeats);
  v.strides.insert(v.strides.begin() + axis + 1, 0);
  return v;
}

void RepeatShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (!x.is_known()) return;
  const auto& p = attrs.param<RepeatParam>();
  if (!p.axis) {
    AssignShape(attrs, "output", &(*out)[0], Shape{x.Size() * p.repeats});
    return;
  }
  Shape y = x;
  y[NormalizeAxis(attrs, "axis", *p.axis, x, x.ndim())] *= p.repeats;
  AssignShape(attrs, "output", &(*out)[0], y);
}

/*! \brief tile as a broadcasting view over dims (r0, d0, r1, d1, ..) of padded reps and shape. */
StridedView TileView(const Attrs& attrs, const Shape& x) {
  const auto& reps = attrs.param<TileParam>().reps;
  const int nd = std::max(x.ndim(), static_cast<int>(reps.size()));
  std::vector<int64_t> dims(static_cast<size_t>(nd), 1), r(static_cast<size_t>(nd), 1);
  std::copy(x.begin(), x.end(), dims.end() - x.ndim());
  std::copy(reps.begin(), reps.end(), r.end() - static_cast<int64_t>(reps.size()));
  const std::vector<int64_t> strides = ContiguousStrides(dims);
  StridedView v;
  for (int k = 0; k < nd; ++k) {
    v.shape.insert(v.shape.end(), {r[k], dims[k]});
    v.strides.insert(v.strides.end(), {0, strides[k]});
  }
  return v;
}

void TileShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (!x.is_known()) return;
  for (int64_t r : attrs.param<TileParam>().reps) {
    MX_CHECK(r >= 0, ValueError) << attrs.op->name << ": reps "
                                 << ValueCodec<std::vector<int64_t>>::Print(
                                        attrs.param<TileParam>().reps)
                                 << " must not be negative (data shape " << x << ")";
  }
  const StridedView v = TileView(attrs, x);
  std::vector<int64_t> dims;
  for (size_t k = 0; k < v.shape.size(); k += 2)
    dims.push_back(v.shape[k] * v.shape[k + 1]);
  AssignShape(attrs, "output", &(*out)[0], Shape(std::span<const int64_t>(dims)));
}

using ViewFn = StridedView (*)(const Attrs&, const Shape&);

ComputeFn BroadcastKernel(ViewFn view) {
  return [view](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq>, std::span<const TBlob> out) {
    const StridedView src = view(attrs, in[0].shape);
    CopyView(in[0], src, out[0], Contiguous(src.shape));
  };
}

/*!
 * \brief The backward of a broadcasting view: out_grad is the view, contiguous; each element
 * of data sums the copies (the dims whose stride is 0).
 */
ComputeFn SumCopiesKernel(ViewFn view) {
  return [view](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq>, std::span<const TBlob> out) {
    const StridedView v = view(attrs, in[1].shape);
    const std::vector<int64_t> dy_strides = ContiguousStrides(v.shape);
    StridedView sum;
    std::vector<int64_t> copies, copy_strides;
    for (size_t k = 0; k < v.shape.size(); ++k) {
      if (v.strides[k] == 0 && v.shape[k] != 1) {
        copies.push_back(v.shape[k]);
        copy_strides.push_back(dy_strides[k]);
      } else {
        sum.shape.push_back(v.shape[k]);
        sum.strides.push_back(dy_strides[k]);
      }
    }
    const int kept = static_cast<int>(sum.shape.size());
    sum.shape.insert(sum.shape.end(), copies.begin(), copies.end());
    sum.strides.insert(sum.strides.end(), copy_strides.begin(), copy_strides.end());
    SumView(in[0], sum, kept, out[0]);
  };
}

InferShapeFn BackwardShape(InferShapeFn forward) {
  return [forward](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
    std::vector<Shape> x{(*in)[1]}, y(1);
    forward(attrs, &x, &y);
    AssignShape(attrs, "out_grad", &(*in)[0], y[0]);
    AssignShape(attrs, "output", &(*out)[0], (*in)[1]);
  };
}

/*! \brief The gradient's dtype (floating); data, any dtype, only gives the shape. */
void GradType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  AssignType(attrs, "out_grad", &(*in)[0], (*out)[0]);
  const int t = (*in)[0];
  MX_CHECK(t < 0 || IsFloatingDType(static_cast<DType>(t)), TypeError)
      << attrs.op->name << ": out_grad has dtype " << DTypeName(static_cast<DType>(t))
      << "; expected a floating dtype";
}

GradientFn CopyAgain(const char* forward) {
  return [forward](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
    return std::vector<GValue>{g.Apply1(forward, {dout[0]}, attrs.dict), GValue{}};
  };
}

/*! \brief x[index[i]] for each i, as sample expectations. */
std::vector<double> Take(const std::vector<double>& x, const std::vector<int>& index) {
  std::vector<double> out;
  for (int i : index)
    out.push_back(x[static_cast<size_t>(i)]);
  return out;
}

const bool kRegistered = [] {
  Registry::Add("repeat")
      .Describe("Repeats each element `repeats` times along an axis (flattened if None).")
      .Param<RepeatParam>()
      .Inputs({"data"})
      .InferShape(RepeatShape)
      .InferType(SameType)
      .Kernel("reference", BroadcastKernel(RepeatView))
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_repeat_backward", {dout[0], in[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"repeats", "2"}, {"axis", "1"}},
               .inputs = {Shape{2, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {0, 0, 1, 1, 2, 2, 3, 3})};
                   }})
      .Sample({.attrs = {{"repeats", "3"}, {"axis", "-2"}},
               .inputs = {Shape{2, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3})};
                   }})
      .Sample({.attrs = {{"repeats", "2"}},
               .inputs = {Shape{2, 2}},
               .ranges = {{-9, 9}},
               .expected =
                   [](const Values& in) {
                     return Values{Truncated(Take(in[0], {0, 0, 1, 1, 2, 2, 3, 3}))};
                   },
               .dtypes = {DType::kInt64}});

  Registry::Add("_repeat_backward")
      .Describe("Gradient of repeat: the copies of each element summed, shaped like data.")
      .Param<RepeatParam>()
      .Inputs({"out_grad", "data"})
      .InferShape(BackwardShape(RepeatShape))
      .InferType(GradType)
      .Kernel("reference", SumCopiesKernel(RepeatView))
      .Gradient(CopyAgain("repeat"))
      .Sample({.attrs = {{"repeats", "2"}, {"axis", "0"}},
               .inputs = {Shape{4, 2}, Shape{2, 2}},
               .expected = [](const Values& in) {
                 const auto& d = in[0];
                 return Values{{d[0] + d[2], d[1] + d[3], d[4] + d[6], d[5] + d[7]}};
               }});

  Registry::Add("tile")
      .Describe("Repeats the whole array reps[k] times along each axis k.")
      .Param<TileParam>()
      .Inputs({"data"})
      .InferShape(TileShape)
      .InferType(SameType)
      .Kernel("reference", BroadcastKernel(TileView))
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_tile_backward", {dout[0], in[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"reps", "(2, 2)"}},
               .inputs = {Shape{1, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {0, 1, 0, 1, 0, 1, 0, 1})};
                   }})
      .Sample({.attrs = {{"reps", "(2, 1, 1)"}},
               .inputs = {Shape{2, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {0, 1, 2, 3, 0, 1, 2, 3})};
                   }})
      .Sample({.attrs = {{"reps", "(3,)"}},
               .inputs = {Shape{2, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3})};
                   }})
      .Sample({.attrs = {{"reps", "(0, 2)"}},
               .inputs = {Shape{2, 3}},
               .expected = [](const Values&) { return Values{{}}; }});

  Registry::Add("_tile_backward")
      .Describe("Gradient of tile: the copies of each element summed, shaped like data.")
      .Param<TileParam>()
      .Inputs({"out_grad", "data"})
      .InferShape(BackwardShape(TileShape))
      .InferType(GradType)
      .Kernel("reference", SumCopiesKernel(TileView))
      .Gradient(CopyAgain("tile"))
      .Sample({.attrs = {{"reps", "(2,)"}},
               .inputs = {Shape{2, 4}, Shape{2, 2}},
               .expected = [](const Values& in) {
                 const auto& d = in[0];
                 return Values{{d[0] + d[2], d[1] + d[3], d[4] + d[6], d[5] + d[7]}};
               }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
