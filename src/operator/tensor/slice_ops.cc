// Taking parts of an array: slice, slice_axis, slice_like, reverse (flip), and the backward
// ops that put a slice's gradient back into an array of zeros.
#include <algorithm>
#include <optional>

#include "operator/grad_ops.h"
#include "operator/tensor/layout.h"

namespace mixnet::op {

using OptionalInts = std::vector<std::optional<int64_t>>;

/*! \brief A tuple whose entries may be None: "(None, 2, -1)" (MXNet's slice begin/end/step). */
template <>
struct ValueCodec<OptionalInts> {
  static const char* TypeName() { return "tuple of int or None"; }
  static OptionalInts Parse(std::string_view s) {
    auto trim = [](std::string_view v) {
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front())))
        v.remove_prefix(1);
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
        v.remove_suffix(1);
      return v;
    };
    s = trim(s);
    if (!s.empty() && (s.front() == '(' || s.front() == '[')) {
      if (s.size() < 2 || s.back() != (s.front() == '(' ? ')' : ']')) {
        throw std::string("unbalanced brackets");
      }
      s = s.substr(1, s.size() - 2);
    }
    OptionalInts out;
    while (!trim(s).empty()) {
      const size_t comma = s.find(',');
      const std::string_view item = trim(s.substr(0, comma));
      if (item.empty() && comma == std::string_view::npos) break;
      out.push_back(ValueCodec<std::optional<int64_t>>::Parse(item));
      if (comma == std::string_view::npos) break;
      s = s.substr(comma + 1);
    }
    return out;
  }
  static std::string Print(const OptionalInts& v) {
    std::string out = "(";
    for (size_t i = 0; i < v.size(); ++i)
      out += (i ? ", " : "") + ValueCodec<std::optional<int64_t>>::Print(v[i]);
    return out + (v.size() == 1 ? ",)" : ")");
  }
};

namespace {

using Values = std::vector<std::vector<double>>;

std::string ShapeText(const Shape& s) {
  return s.ToString();
}

/*! \brief Where a slice of one dim starts, its step and its length. */
struct DimSlice {
  int64_t begin = 0;
  int64_t step = 1;
  int64_t size = 0;
};

/*! \brief out = in[slices] (dims past slices.size() are taken whole). */
void GatherSlices(const TBlob& in, const std::vector<DimSlice>& slices, const TBlob& out) {
  const std::vector<int64_t> strides = ContiguousStrides(in.shape.dims());
  StridedView view{{out.shape.begin(), out.shape.end()}, strides, 0};
  for (size_t k = 0; k < slices.size(); ++k) {
    view.strides[k] = strides[k] * slices[k].step;
    if (slices[k].size > 0) view.offset += slices[k].begin * strides[k];
  }
  CopyView(in, view, out, Contiguous(out.shape.dims()));
}

/*! \brief out = zeros with out[slices] = dy (the gradient of GatherSlices). */
void ScatterSlices(const TBlob& dy, const std::vector<DimSlice>& slices, const TBlob& out) {
  ZeroFill(out);
  const std::vector<int64_t> strides = ContiguousStrides(out.shape.dims());
  StridedView view{{dy.shape.begin(), dy.shape.end()}, strides, 0};
  for (size_t k = 0; k < slices.size(); ++k) {
    view.strides[k] = strides[k] * slices[k].step;
    if (slices[k].size > 0) view.offset += slices[k].begin * strides[k];
  }
  CopyView(dy, Contiguous(dy.shape.dims()), out, view);
}

Shape SlicedShape(const Shape& x, const std::vector<DimSlice>& slices) {
  Shape y = x;
  for (size_t k = 0; k < slices.size(); ++k)
    y[static_cast<int>(k)] = slices[k].size;
  return y;
}

// ---- slice ----

struct SliceParam {
  OptionalInts begin, end, step;
  static void Declare(ParamDecl<SliceParam>& d) {
    d.Field("begin", &SliceParam::begin).Doc("Start index per axis (None: from the start).");
    d.Field("end", &SliceParam::end).Doc("End index per axis, excluded (None: to the end).");
    d.Field("step", &SliceParam::step)
        .Default({})
        .Doc("Step per axis (None or empty: 1); negative steps walk backwards.");
  }
};

/*! \brief MXNet's slice ranges for data of shape x (Python semantics, clamped). */
std::vector<DimSlice> SliceRanges(const Attrs& attrs, const Shape& x) {
  const auto& p = attrs.param<SliceParam>();
  const size_t n = p.begin.size();
  using Codec = ValueCodec<OptionalInts>;
  MX_CHECK(p.end.size() == n, ValueError)
      << attrs.op->name << ": begin " << Codec::Print(p.begin) << " and end " << Codec::Print(p.end)
      << " must have the same length";
  MX_CHECK(p.step.empty() || p.step.size() == n, ValueError)
      << attrs.op->name << ": step " << Codec::Print(p.step)
      << " must be empty or as long as begin " << Codec::Print(p.begin);
  MX_CHECK(static_cast<int>(n) <= x.ndim(), ValueError)
      << attrs.op->name << ": begin " << Codec::Print(p.begin)
      << " has more axes than data of shape " << x;
  std::vector<DimSlice> out(n);
  for (size_t k = 0; k < n; ++k) {
    const int64_t len = x[static_cast<int>(k)];
    const int64_t s = p.step.empty() || !p.step[k] ? 1 : *p.step[k];
    MX_CHECK(s != 0, ValueError) << attrs.op->name << ": step " << Codec::Print(p.step)
                                 << " is 0 for axis " << k;
    int64_t b = 0, e = 0;
    if (len > 0) {
      b = p.begin[k] ? *p.begin[k] : (s > 0 ? 0 : len - 1);
      e = p.end[k] ? *p.end[k] : (s > 0 ? len : -1);
      if (b < 0) b += len;
      if (e < 0 && p.end[k]) e += len;
      if (b < 0 && s > 0) b = 0;
      if (b > len - 1 && s < 0) b = len - 1;
      if (b < 0 || b > len - 1) b = -1;  // nothing to take
      e = std::clamp<int64_t>(e, -1, len);
    }
    int64_t size = 0;
    if (e != b && b >= 0) {
      size = s > 0 ? (e > b ? (e - b - 1) / s + 1 : 0) : (e < b ? (b - e - 1) / (-s) + 1 : 0);
    }
    out[k] = DimSlice{b, s, size};
  }
  return out;
}

void SliceShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (!x.is_known()) return;
  AssignShape(attrs, "output", &(*out)[0], SlicedShape(x, SliceRanges(attrs, x)));
}

// ---- slice_axis ----

struct SliceAxisParam {
  int axis = 0;
  int begin = 0;
  std::optional<int> end;
  static void Declare(ParamDecl<SliceAxisParam>& d) {
    d.Field("axis", &SliceAxisParam::axis).Doc("The axis to slice.");
    d.Field("begin", &SliceAxisParam::begin).Doc("Start index; negative counts from the end.");
    d.Field("end", &SliceAxisParam::end).Doc("End index, excluded; None is the end.");
  }
};

std::vector<DimSlice> SliceAxisRanges(const Attrs& attrs, const Shape& x) {
  const auto& p = attrs.param<SliceAxisParam>();
  const int axis = NormalizeAxis(attrs, "axis", p.axis, x, x.ndim());
  const int64_t len = x[axis];
  int64_t b = p.begin < 0 ? p.begin + len : p.begin, e = 0;
  if (len > 0) {
    e = p.end ? (*p.end < 0 ? *p.end + len : *p.end) : len;
    MX_CHECK(b >= 0 && e <= len && b < e, ValueError)
        << attrs.op->name << ": begin " << p.begin << ", end "
        << ValueCodec<std::optional<int>>::Print(p.end) << " select nothing or lie outside axis "
        << p.axis << " of data of shape " << x;
  } else {
    b = 0;
  }
  std::vector<DimSlice> out(static_cast<size_t>(axis + 1));
  for (int k = 0; k < axis; ++k)
    out[k] = DimSlice{0, 1, x[k]};
  out[axis] = DimSlice{b, 1, e - b};
  return out;
}

void SliceAxisShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (!x.is_known()) return;
  AssignShape(attrs, "output", &(*out)[0], SlicedShape(x, SliceAxisRanges(attrs, x)));
}

// ---- slice_like ----

struct SliceLikeParam {
  std::vector<int64_t> axes;
  static void Declare(ParamDecl<SliceLikeParam>& d) {
    d.Field("axes", &SliceLikeParam::axes)
        .Default({})
        .Doc("Axes to slice to shape_like's size; empty slices every axis.");
  }
};

std::vector<DimSlice> SliceLikeRanges(const Attrs& attrs, const Shape& x, const Shape& like) {
  const auto& axes = attrs.param<SliceLikeParam>().axes;
  std::vector<DimSlice> out(static_cast<size_t>(x.ndim()));
  for (int k = 0; k < x.ndim(); ++k)
    out[k] = DimSlice{0, 1, x[k]};
  auto take = [&](int k) {
    MX_CHECK(k < like.ndim() && like[k] <= x[k], ValueError)
        << attrs.op->name << ": cannot slice axis " << k << " of data of shape " << x
        << " like shape_like of shape " << like;
    out[k].size = like[k];
  };
  if (axes.empty()) {
    MX_CHECK(x.ndim() == like.ndim(), ValueError)
        << attrs.op->name << ": data of shape " << x << " and shape_like of shape " << like
        << " must have the same number of dims when axes is empty";
    for (int k = 0; k < x.ndim(); ++k)
      take(k);
  } else {
    for (int64_t a : axes)
      take(NormalizeAxis(attrs, "axes entry", a, x, x.ndim()));
  }
  return out;
}

void SliceLikeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &x = (*in)[0], &like = (*in)[1];
  if (!x.is_known() || !like.is_known()) return;
  AssignShape(attrs, "output", &(*out)[0], SlicedShape(x, SliceLikeRanges(attrs, x, like)));
}

void FirstType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
}

// ---- the backward ops: (out_grad, data) -> zeros like data with out_grad at the slice ----

using RangesFn = std::vector<DimSlice> (*)(const Attrs&, const Shape&);

InferShapeFn BackwardShape(RangesFn ranges) {
  return [ranges](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
    const Shape& x = (*in)[1];
    if (!x.is_known()) return;
    AssignShape(attrs, "out_grad", &(*in)[0], SlicedShape(x, ranges(attrs, x)));
    AssignShape(attrs, "output", &(*out)[0], x);
  };
}

ComputeFn BackwardKernel(RangesFn ranges) {
  return [ranges](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq>, std::span<const TBlob> out) {
    ScatterSlices(in[0], ranges(attrs, in[1].shape), out[0]);
  };
}

/*! \brief Types of the backward ops: the gradient's dtype; data only gives the shape. */
void GradType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  AssignType(attrs, "out_grad", &(*in)[0], (*out)[0]);
}

/*! \brief Gradient of a backward op: slice the incoming gradient again; data gets none. */
GradientFn SliceAgain(const char* forward) {
  return [forward](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
    return std::vector<GValue>{g.Apply1(forward, {dout[0]}, attrs.dict), GValue{}};
  };
}

// ---- reverse ----

struct ReverseParam {
  std::vector<int64_t> axis;
  static void Declare(ParamDecl<ReverseParam>& d) {
    d.Field("axis", &ReverseParam::axis).Doc("The axes to reverse.");
  }
};

std::vector<DimSlice> ReverseRanges(const Attrs& attrs, const Shape& x) {
  std::vector<DimSlice> out(static_cast<size_t>(x.ndim()));
  for (int k = 0; k < x.ndim(); ++k)
    out[k] = DimSlice{0, 1, x[k]};
  for (int64_t a : attrs.param<ReverseParam>().axis) {
    const int k = NormalizeAxis(attrs, "axis", a, x, x.ndim());
    MX_CHECK(out[k].step == 1, ValueError)
        << attrs.op->name << ": axis "
        << ValueCodec<std::vector<int64_t>>::Print(attrs.param<ReverseParam>().axis)
        << " repeats axis " << a;
    out[k] = DimSlice{x[k] - 1, -1, x[k]};
  }
  return out;
}

/*! \brief Element values of a 1-D sample taken at `index`, for expected outputs. */
std::vector<double> Take(const std::vector<double>& x, std::initializer_list<int> index) {
  std::vector<double> out;
  for (int i : index)
    out.push_back(x[static_cast<size_t>(i)]);
  return out;
}

ComputeFn ForwardKernel(RangesFn ranges) {
  return [ranges](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq>, std::span<const TBlob> out) {
    GatherSlices(in[0], ranges(attrs, in[0].shape), out[0]);
  };
}

const bool kRegistered = [] {
  Registry::Add("slice")
      .Describe("Slices data: begin, end and step per axis with Python semantics.")
      .Param<SliceParam>()
      .Inputs({"data"})
      .InferShape(SliceShape)
      .InferType(SameType)
      .Kernel("reference", ForwardKernel(SliceRanges))
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_slice_backward", {dout[0], in[0]}, attrs.dict)};
      })
      // (3, 4): rows 0..1, columns 3, 1 (negative step).
      .Sample({.attrs = {{"begin", "(None, -1)"}, {"end", "(2, 0)"}, {"step", "(1, -2)"}},
               .inputs = {Shape{3, 4}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {3, 1, 7, 5})};
                   }})
      .Sample({.attrs = {{"begin", "(1,)"}, {"end", "(None,)"}},
               .inputs = {Shape{3, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {2, 3, 4, 5})};
                   }})
      .Sample({.attrs = {{"begin", "(None,)"}, {"end", "(None,)"}, {"step", "(-1,)"}},
               .inputs = {Shape{4}},
               .ranges = {{0, 200}},
               .expected =
                   [](const Values& in) {
                     return Values{Truncated(Take(in[0], {3, 2, 1, 0}))};
                   },
               .dtypes = {DType::kUint8}});

  Registry::Add("_slice_backward")
      .Describe("Gradient of slice: out_grad placed at the slice of zeros shaped like data.")
      .Param<SliceParam>()
      .Inputs({"out_grad", "data"})
      .InferShape(BackwardShape(SliceRanges))
      .InferType(GradType)
      .Kernel("reference", BackwardKernel(SliceRanges))
      .Gradient(SliceAgain("slice"))
      .Sample({.attrs = {{"begin", "(None, -1)"}, {"end", "(2, 0)"}, {"step", "(1, -2)"}},
               .inputs = {Shape{2, 2}, Shape{3, 4}},
               .expected = [](const Values& in) {
                 std::vector<double> out(12, 0.0);
                 out[3] = in[0][0], out[1] = in[0][1], out[7] = in[0][2], out[5] = in[0][3];
                 return Values{out};
               }});

  Registry::Add("slice_axis")
      .Describe("Slices data along one axis: [begin, end).")
      .Param<SliceAxisParam>()
      .Inputs({"data"})
      .InferShape(SliceAxisShape)
      .InferType(SameType)
      .Kernel("reference", ForwardKernel(SliceAxisRanges))
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_slice_axis_backward", {dout[0], in[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"axis", "-1"}, {"begin", "1"}, {"end", "None"}},
               .inputs = {Shape{2, 3}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {1, 2, 4, 5})};
                   }})
      .Sample({.attrs = {{"axis", "0"}, {"begin", "-2"}, {"end", "-1"}},
               .inputs = {Shape{3, 2}},
               .expected = [](const Values& in) {
                 return Values{Take(in[0], {2, 3})};
               }});

  Registry::Add("_slice_axis_backward")
      .Describe("Gradient of slice_axis: out_grad placed at the slice of zeros shaped like data.")
      .Param<SliceAxisParam>()
      .Inputs({"out_grad", "data"})
      .InferShape(BackwardShape(SliceAxisRanges))
      .InferType(GradType)
      .Kernel("reference", BackwardKernel(SliceAxisRanges))
      .Gradient(SliceAgain("slice_axis"))
      .Sample({.attrs = {{"axis", "1"}, {"begin", "1"}, {"end", "3"}},
               .inputs = {Shape{2, 2}, Shape{2, 4}},
               .expected = [](const Values& in) {
                 const auto& d = in[0];
                 return Values{{0, d[0], d[1], 0, 0, d[2], d[3], 0}};
               }});

  Registry::Add("slice_like")
      .Describe("Slices data to the shape of shape_like, on the given axes (all when empty).")
      .Param<SliceLikeParam>()
      .Inputs({"data", "shape_like"})
      .InferShape(SliceLikeShape)
      .InferType(FirstType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                GatherSlices(in[0], SliceLikeRanges(attrs, in[0].shape, in[1].shape), out[0]);
              })
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_slice_like_backward", {dout[0], in[0]}), GValue{}};
      })
      .Sample({.attrs = {{"axes", "(-1,)"}},
               .inputs = {Shape{2, 3}, Shape{5, 2}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {0, 1, 3, 4})};
                   }})
      .Sample({.inputs = {Shape{3, 2}, Shape{1, 1}},
               .expected = [](const Values& in) { return Values{Take(in[0], {0})}; }});

  Registry::Add("_slice_like_backward")
      .Describe("Gradient of slice_like: out_grad in the leading corner of zeros shaped like data.")
      .Inputs({"out_grad", "data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape &dy = (*in)[0], &x = (*in)[1];
        if (!dy.is_known() || !x.is_known()) return;
        bool ok = dy.ndim() == x.ndim();
        for (int k = 0; ok && k < x.ndim(); ++k)
          ok = dy[k] <= x[k];
        MX_CHECK(ok, ValueError) << attrs.op->name << ": out_grad of shape " << ShapeText(dy)
                                 << " does not fit in data of shape " << ShapeText(x);
        AssignShape(attrs, "output", &(*out)[0], x);
      })
      .InferType(GradType)
      .Kernel("reference",
              [](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq>,
                 std::span<const TBlob> out) {
                std::vector<DimSlice> corner;
                for (int64_t d : in[0].shape.dims())
                  corner.push_back(DimSlice{0, 1, d});
                ScatterSlices(in[0], corner, out[0]);
              })
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("slice_like", {dout[0], in[0]}), GValue{}};
      })
      .Sample({.inputs = {Shape{1, 2}, Shape{2, 3}}, .expected = [](const Values& in) {
                 return Values{{in[0][0], in[0][1], 0, 0, 0, 0}};
               }});

  Registry::Add("reverse")
      .Alias("flip")
      .Describe("Reverses the order of elements along the given axes.")
      .Param<ReverseParam>()
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .Kernel("reference", ForwardKernel(ReverseRanges))
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("reverse", {dout[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"axis", "(0, -1)"}},
               .inputs = {Shape{2, 3}},
               .expected =
                   [](const Values& in) {
                     return Values{Take(in[0], {5, 4, 3, 2, 1, 0})};
                   }})
      .Sample({.attrs = {{"axis", "1"}},
               .inputs = {Shape{2, 2, 2}},
               .ranges = {{-100, 100}},
               .expected =
                   [](const Values& in) {
                     return Values{Truncated(Take(in[0], {2, 3, 0, 1, 6, 7, 4, 5}))};
                   },
               .dtypes = {DType::kInt32}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
