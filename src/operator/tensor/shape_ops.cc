// Ops that change an array's shape or the order of its axes: Reshape, Flatten, transpose,
// SwapAxis, expand_dims, squeeze, reshape_like, depth_to_space, space_to_depth.
#include <algorithm>
#include <numeric>
#include <optional>

#include "operator/grad_ops.h"
#include "operator/tensor/layout.h"

namespace mixnet::op {
namespace {

using Values = std::vector<std::vector<double>>;

std::string TupleText(const std::vector<int64_t>& v) {
  return ValueCodec<std::vector<int64_t>>::Print(v);
}

/*! \brief The gradient of ops that only rearrange their input's shape: dy in x's shape. */
std::vector<GValue> ReshapeLikeInput(GradBuilder& g, const Attrs&, std::span<const GValue> in,
                                     std::span<const GValue>, std::span<const GValue> dout) {
  return {g.Apply1("reshape_like", {dout[0], in[0]})};
}

Values SameValues(const Values& in) {
  return {in[0]};
}

/*! \brief out = in with its axes permuted by `axes` (out dim k is in dim axes[k]). */
void PermuteKernel(const TBlob& in, const std::vector<int>& axes, const TBlob& out) {
  const std::vector<int64_t> in_strides = ContiguousStrides(in.shape.dims());
  StridedView src{{out.shape.begin(), out.shape.end()}, {}, 0};
  for (int a : axes)
    src.strides.push_back(in_strides[static_cast<size_t>(a)]);
  CopyView(in, src, out, Contiguous(out.shape.dims()));
}

/*! \brief Independent transpose for sample values: loops over output positions. */
std::vector<double> PermuteValues(const std::vector<double>& x, const Shape& shape,
                                  const std::vector<int>& axes) {
  const int nd = shape.ndim();
  std::vector<double> out(x.size());
  std::vector<int64_t> out_dims(static_cast<size_t>(nd)), idx(static_cast<size_t>(nd));
  for (int k = 0; k < nd; ++k)
    out_dims[k] = shape[axes[k]];
  for (size_t o = 0; o < out.size(); ++o) {
    int64_t r = static_cast<int64_t>(o);
    for (int k = nd - 1; k >= 0; --k) {
      idx[axes[k]] = r % out_dims[k];
      r /= out_dims[k];
    }
    int64_t i = 0;
    for (int k = 0; k < nd; ++k)
      i = i * shape[k] + idx[k];
    out[o] = x[static_cast<size_t>(i)];
  }
  return out;
}

// ---- Reshape ----

struct ReshapeParam {
  std::vector<int64_t> shape;
  bool reverse = false;
  std::vector<int64_t> target_shape;
  bool keep_highest = false;
  static void Declare(ParamDecl<ReshapeParam>& d) {
    d.Field("shape", &ReshapeParam::shape)
        .Default({})
        .Doc(
            "The target shape; 0 copies a dim, -1 infers one, -2 copies the rest, -3 merges "
            "two dims, -4 splits one into the next two.");
    d.Field("reverse", &ReshapeParam::reverse)
        .Default(false)
        .Doc("Match the special codes right to left.");
    d.Field("target_shape", &ReshapeParam::target_shape)
        .Default({})
        .Doc("(Deprecated, use shape) target shape; a 0 is inferred.");
    d.Field("keep_highest", &ReshapeParam::keep_highest)
        .Default(false)
        .Doc("(Deprecated, use shape) keep the first dim and apply target_shape to the rest.");
  }
};

void ReshapeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.param<ReshapeParam>();
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  std::vector<int64_t> codes = p.shape;
  std::string_view arg = "shape";
  if (codes.empty() && !p.target_shape.empty()) {
    // The legacy form: a 0 is the one inferred dim; keep_highest copies the first dim.
    arg = "target_shape";
    if (p.keep_highest) codes.push_back(0);
    for (int64_t d : p.target_shape)
      codes.push_back(d == 0 ? -1 : d);
  }
  Shape result;
  try {
    result = InferReshape(x, codes, p.reverse);
  } catch (const ValueError& e) {
    MX_THROW(ValueError) << attrs.op->name << ": invalid argument '" << arg << "' "
                         << TupleText(codes) << " for data of shape " << x << ": " << e.what();
  }
  AssignShape(attrs, "output", &(*out)[0], result);
}

// ---- Flatten ----

void FlattenShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  MX_CHECK(x.ndim() >= 1, ValueError)
      << attrs.op->name << ": data must have at least 1 dim, got shape " << x;
  int64_t rest = 1;
  for (int k = 1; k < x.ndim(); ++k)
    rest = (rest < 0 || x[k] < 0) ? -1 : rest * x[k];
  AssignShape(attrs, "output", &(*out)[0], Shape{x[0], rest});
}

// ---- transpose and SwapAxis ----

struct TransposeParam {
  std::vector<int64_t> axes;
  static void Declare(ParamDecl<TransposeParam>& d) {
    d.Field("axes", &TransposeParam::axes)
        .Default({})
        .Doc("Target axis order; empty reverses the axes.");
  }
};

/*! \brief The permutation transpose applies to an array of `ndim` dims (checked). */
std::vector<int> TransposeAxes(const Attrs& attrs, const Shape& x) {
  const auto& axes = attrs.param<TransposeParam>().axes;
  const int nd = x.ndim();
  std::vector<int> perm(static_cast<size_t>(nd));
  if (axes.empty()) {
    for (int k = 0; k < nd; ++k)
      perm[k] = nd - 1 - k;
    return perm;
  }
  MX_CHECK(static_cast<int>(axes.size()) == nd, ValueError)
      << attrs.op->name << ": axes " << TupleText(axes) << " must list each of the " << nd
      << " axes of data of shape " << x << " once";
  std::vector<bool> seen(static_cast<size_t>(nd), false);
  for (int k = 0; k < nd; ++k) {
    perm[k] = NormalizeAxis(attrs, "axes entry", axes[k], x, nd);
    MX_CHECK(!seen[perm[k]], ValueError)
        << attrs.op->name << ": axes " << TupleText(axes) << " repeats axis " << axes[k]
        << " (data shape " << x << ")";
    seen[perm[k]] = true;
  }
  return perm;
}

Shape Permuted(const Shape& x, const std::vector<int>& perm) {
  Shape y = x;
  for (size_t k = 0; k < perm.size(); ++k)
    y[static_cast<int>(k)] = x[perm[k]];
  return y;
}

void TransposeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if ((*in)[0].is_unknown()) return;
  AssignShape(attrs, "output", &(*out)[0], Permuted((*in)[0], TransposeAxes(attrs, (*in)[0])));
}

struct SwapAxisParam {
  int dim1 = 0;
  int dim2 = 0;
  static void Declare(ParamDecl<SwapAxisParam>& d) {
    d.Field("dim1", &SwapAxisParam::dim1).Default(0).Doc("The first axis to swap.");
    d.Field("dim2", &SwapAxisParam::dim2).Default(0).Doc("The second axis to swap.");
  }
};

std::vector<int> SwapAxes(const Attrs& attrs, const Shape& x) {
  const auto& p = attrs.param<SwapAxisParam>();
  std::vector<int> perm(static_cast<size_t>(x.ndim()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[NormalizeAxis(attrs, "dim1", p.dim1, x, x.ndim())],
            perm[NormalizeAxis(attrs, "dim2", p.dim2, x, x.ndim())]);
  return perm;
}

void SwapAxisShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if ((*in)[0].is_unknown()) return;
  AssignShape(attrs, "output", &(*out)[0], Permuted((*in)[0], SwapAxes(attrs, (*in)[0])));
}

// ---- expand_dims and squeeze ----

struct ExpandDimsParam {
  int axis = 0;
  static void Declare(ParamDecl<ExpandDimsParam>& d) {
    d.Field("axis", &ExpandDimsParam::axis).Doc("Position of the new axis, in [-ndim - 1, ndim].");
  }
};

void ExpandDimsShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const int axis =
      NormalizeAxis(attrs, "axis", attrs.param<ExpandDimsParam>().axis, x, x.ndim() + 1);
  std::vector<int64_t> dims(x.begin(), x.end());
  dims.insert(dims.begin() + axis, 1);
  AssignShape(attrs, "output", &(*out)[0], Shape(std::span<const int64_t>(dims)));
}

struct SqueezeParam {
  std::optional<std::vector<int64_t>> axis;
  static void Declare(ParamDecl<SqueezeParam>& d) {
    d.Field("axis", &SqueezeParam::axis)
        .Default(std::nullopt)
        .Doc("Axes of size 1 to remove; None removes every axis of size 1.");
  }
};

void SqueezeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const auto& axis = attrs.param<SqueezeParam>().axis;
  std::vector<bool> drop(static_cast<size_t>(x.ndim()), false);
  if (axis) {
    for (int64_t a : *axis) {
      const int k = NormalizeAxis(attrs, "axis", a, x, x.ndim());
      MX_CHECK(x[k] == 1 || x[k] < 0, ValueError)
          << attrs.op->name << ": cannot squeeze axis " << a << " of data of shape " << x
          << ": its size is " << x[k] << ", not 1";
      MX_CHECK(!drop[k], ValueError)
          << attrs.op->name << ": axis " << TupleText(*axis) << " repeats axis " << a;
      drop[k] = true;
    }
  } else {
    for (int k = 0; k < x.ndim(); ++k)
      drop[k] = x[k] == 1;
  }
  std::vector<int64_t> dims;
  for (int k = 0; k < x.ndim(); ++k) {
    if (!drop[k]) dims.push_back(x[k]);
  }
  // MXNet 1.x keeps one dim when every dim is squeezed: (1, 1) -> (1,).
  if (dims.empty()) dims.push_back(1);
  AssignShape(attrs, "output", &(*out)[0], Shape(std::span<const int64_t>(dims)));
}

// ---- reshape_like ----

struct ReshapeLikeParam {
  std::optional<int> lhs_begin, lhs_end, rhs_begin, rhs_end;
  static void Declare(ParamDecl<ReshapeLikeParam>& d) {
    d.Field("lhs_begin", &ReshapeLikeParam::lhs_begin)
        .Default(std::nullopt)
        .Doc("First lhs dim to replace; None is 0.");
    d.Field("lhs_end", &ReshapeLikeParam::lhs_end)
        .Default(std::nullopt)
        .Doc("End of the lhs dims to replace; None is ndim.");
    d.Field("rhs_begin", &ReshapeLikeParam::rhs_begin)
        .Default(std::nullopt)
        .Doc("First rhs dim to take; None is 0.");
    d.Field("rhs_end", &ReshapeLikeParam::rhs_end)
        .Default(std::nullopt)
        .Doc("End of the rhs dims to take; None is ndim.");
  }
};

/*! \brief [begin, end) of dims for reshape_like, Python-style negative values allowed. */
std::pair<int, int> DimRange(const Attrs& attrs, const char* side, const Shape& s,
                             std::optional<int> begin, std::optional<int> end) {
  const int nd = s.ndim();
  auto fix = [&](std::optional<int> v, int dflt, const char* which) {
    int k = v ? *v : dflt;
    if (k < 0) k += nd;
    MX_CHECK(k >= 0 && k <= nd, ValueError)
        << attrs.op->name << ": " << side << "_" << which << " " << *v << " is out of range for "
        << side << " of shape " << s;
    return k;
  };
  const int b = fix(begin, 0, "begin"), e = fix(end, nd, "end");
  MX_CHECK(b <= e, ValueError) << attrs.op->name << ": " << side << "_begin " << b << " is after "
                               << side << "_end " << e << " for " << side << " of shape " << s;
  return {b, e};
}

void ReshapeLikeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &lhs = (*in)[0], &rhs = (*in)[1];
  if (lhs.is_unknown() || rhs.is_unknown()) return;
  const auto& p = attrs.param<ReshapeLikeParam>();
  const auto [lb, le] = DimRange(attrs, "lhs", lhs, p.lhs_begin, p.lhs_end);
  const auto [rb, re] = DimRange(attrs, "rhs", rhs, p.rhs_begin, p.rhs_end);
  std::vector<int64_t> dims(lhs.begin(), lhs.begin() + lb);
  dims.insert(dims.end(), rhs.begin() + rb, rhs.begin() + re);
  dims.insert(dims.end(), lhs.begin() + le, lhs.end());
  const Shape result{std::span<const int64_t>(dims)};
  if (lhs.is_known() && result.is_known()) {
    MX_CHECK(result.Size() == lhs.Size(), ValueError)
        << attrs.op->name << ": cannot reshape lhs of shape " << lhs << " (" << lhs.Size()
        << " elements) like rhs of shape " << rhs << " to " << result;
  }
  AssignShape(attrs, "output", &(*out)[0], result);
}

void LhsType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  AssignType(attrs, InputName(attrs, 0), &(*in)[0], (*out)[0]);
}

// ---- depth_to_space and space_to_depth ----

struct BlockParam {
  int block_size = 1;
  static void Declare(ParamDecl<BlockParam>& d) {
    d.Field("block_size", &BlockParam::block_size)
        .Lower(1)
        .Doc("Size of the square blocks moved between depth and space.");
  }
};

void DepthToSpaceShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const int64_t b = attrs.param<BlockParam>().block_size;
  MX_CHECK(x.ndim() == 4, ValueError)
      << attrs.op->name << ": data must be 4-D (NCHW), got shape " << x;
  MX_CHECK(x[1] < 0 || x[1] % (b * b) == 0, ValueError)
      << attrs.op->name << ": the channels of data of shape " << x
      << " are not divisible by block_size^2 = " << b * b;
  AssignShape(attrs, "output", &(*out)[0],
              Shape{x[0], x[1] < 0 ? -1 : x[1] / (b * b), x[2] < 0 ? -1 : x[2] * b,
                    x[3] < 0 ? -1 : x[3] * b});
}

void SpaceToDepthShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& x = (*in)[0];
  if (x.is_unknown()) return;
  const int64_t b = attrs.param<BlockParam>().block_size;
  MX_CHECK(x.ndim() == 4, ValueError)
      << attrs.op->name << ": data must be 4-D (NCHW), got shape " << x;
  MX_CHECK((x[2] < 0 || x[2] % b == 0) && (x[3] < 0 || x[3] % b == 0), ValueError)
      << attrs.op->name << ": the height and width of data of shape " << x
      << " are not divisible by block_size " << b;
  AssignShape(attrs, "output", &(*out)[0],
              Shape{x[0], x[1] < 0 ? -1 : x[1] * b * b, x[2] < 0 ? -1 : x[2] / b,
                    x[3] < 0 ? -1 : x[3] / b});
}

// out[n, c, h*b + i, w*b + j] = in[n, (i*b + j)*C' + c, h, w], C' = C / b^2.
void DepthToSpaceKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                        std::span<const OpReq>, std::span<const TBlob> out) {
  const int64_t b = attrs.param<BlockParam>().block_size;
  const Shape& x = in[0].shape;
  const int64_t n = x[0], c = x[1] / (b * b), h = x[2], w = x[3];
  const int64_t hw = h * w;
  const StridedView src{{n, c, h, b, w, b}, {x[1] * hw, hw, w, b * c * hw, 1, c * hw}, 0};
  CopyView(in[0], src, out[0], Contiguous(src.shape));
}

// out[n, (i*b + j)*C + c, h, w] = in[n, c, h*b + i, w*b + j].
void SpaceToDepthKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                        std::span<const OpReq>, std::span<const TBlob> out) {
  const int64_t b = attrs.param<BlockParam>().block_size;
  const Shape& x = in[0].shape;
  const int64_t n = x[0], c = x[1], h = x[2], w = x[3];
  const StridedView src{{n, b, b, c, h / b, w / b}, {c * h * w, w, 1, h * w, b * w, b}, 0};
  CopyView(in[0], src, out[0], Contiguous(src.shape));
}

/*! \brief depth_to_space by its definition, for sample values (N, C, H, W) = shape. */
std::vector<double> DepthToSpaceValues(const std::vector<double>& x, const Shape& s, int64_t b) {
  const int64_t n = s[0], c = s[1] / (b * b), h = s[2] * b, w = s[3] * b;
  std::vector<double> out(x.size());
  size_t o = 0;
  for (int64_t i0 = 0; i0 < n; ++i0)
    for (int64_t i1 = 0; i1 < c; ++i1)
      for (int64_t i2 = 0; i2 < h; ++i2)
        for (int64_t i3 = 0; i3 < w; ++i3) {
          const int64_t ch = ((i2 % b) * b + i3 % b) * c + i1;
          out[o++] = x[static_cast<size_t>(((i0 * s[1] + ch) * s[2] + i2 / b) * s[3] + i3 / b)];
        }
  return out;
}

const bool kRegistered = [] {
  Registry::Add("Reshape")
      .Alias("reshape")
      .Describe("Gives data a new shape without changing its elements (MXNet's special codes).")
      .Param<ReshapeParam>()
      .Inputs({"data"})
      .InferShape(ReshapeShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      .Gradient(ReshapeLikeInput)
      .Sample(
          {.attrs = {{"shape", "(4, 0, 2)"}}, .inputs = {Shape{2, 3, 4}}, .expected = SameValues})
      .Sample({.attrs = {{"shape", "(-4, 1, 2, -2)"}},
               .inputs = {Shape{2, 3, 4}},
               .expected = SameValues})
      .Sample({.attrs = {{"shape", "(-1, 0)"}, {"reverse", "True"}},
               .inputs = {Shape{10, 5, 4}},
               .expected = SameValues})
      .Sample({.attrs = {{"shape", "(-3, -1)"}},
               .inputs = {Shape{2, 3, 4}},
               .ranges = {{-100, 100}},
               .expected = [](const Values& in) { return Values{Truncated(in[0])}; },
               .dtypes = {DType::kInt32}});

  Registry::Add("Flatten")
      .Alias("flatten")
      .Describe("Flattens data to 2-D: (d0, d1 * .. * dk).")
      .Inputs({"data"})
      .InferShape(FlattenShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      .Gradient(ReshapeLikeInput)
      .Sample({.inputs = {Shape{2, 3, 4}}, .expected = SameValues});

  Registry::Add("transpose")
      .Describe("Permutes the axes of data; empty axes reverse them.")
      .Param<TransposeParam>()
      .Inputs({"data"})
      .InferShape(TransposeShape)
      .InferType(SameType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                PermuteKernel(in[0], TransposeAxes(attrs, in[0].shape), out[0]);
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& axes = attrs.param<TransposeParam>().axes;
        std::vector<int64_t> inverse(axes.size());
        const auto nd = static_cast<int64_t>(axes.size());
        for (int64_t k = 0; k < nd; ++k)
          inverse[static_cast<size_t>((axes[k] + nd) % nd)] = k;
        return std::vector<GValue>{
            g.Apply1("transpose", {dout[0]}, {{"axes", TupleText(inverse)}})};
      })
      .Sample({.attrs = {{"axes", "(1, 2, 0)"}},
               .inputs = {Shape{2, 3, 4}},
               .expected =
                   [](const Values& in) {
                     return Values{PermuteValues(in[0], Shape{2, 3, 4}, {1, 2, 0})};
                   }})
      .Sample({.inputs = {Shape{2, 3, 4}},
               .expected =
                   [](const Values& in) {
                     return Values{PermuteValues(in[0], Shape{2, 3, 4}, {2, 1, 0})};
                   }})
      .Sample({.attrs = {{"axes", "(0, -1, 1)"}},
               .inputs = {Shape{2, 3, 4}},
               .ranges = {{-50, 50}},
               .expected =
                   [](const Values& in) {
                     return Values{PermuteValues(Truncated(in[0]), Shape{2, 3, 4}, {0, 2, 1})};
                   },
               .dtypes = {DType::kInt64}});

  Registry::Add("SwapAxis")
      .Alias("swapaxes")
      .Describe("Interchanges two axes of data.")
      .Param<SwapAxisParam>()
      .Inputs({"data"})
      .InferShape(SwapAxisShape)
      .InferType(SameType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                PermuteKernel(in[0], SwapAxes(attrs, in[0].shape), out[0]);
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("SwapAxis", {dout[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"dim1", "0"}, {"dim2", "2"}},
               .inputs = {Shape{2, 3, 4}},
               .expected = [](const Values& in) {
                 return Values{PermuteValues(in[0], Shape{2, 3, 4}, {2, 1, 0})};
               }});

  Registry::Add("expand_dims")
      .Describe("Inserts an axis of size 1 at position axis.")
      .Param<ExpandDimsParam>()
      .Inputs({"data"})
      .InferShape(ExpandDimsShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      .Gradient(ReshapeLikeInput)
      .Sample({.attrs = {{"axis", "-1"}}, .inputs = {Shape{3, 4}}, .expected = SameValues});

  Registry::Add("squeeze")
      .Describe("Removes axes of size 1 (all of them when axis is None).")
      .Param<SqueezeParam>()
      .Inputs({"data"})
      .InferShape(SqueezeShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      .Gradient(ReshapeLikeInput)
      .Sample({.inputs = {Shape{1, 3, 1, 4}}, .expected = SameValues})
      .Sample({.attrs = {{"axis", "(2,)"}}, .inputs = {Shape{1, 3, 1, 4}}, .expected = SameValues});

  Registry::Add("reshape_like")
      .Describe("Reshapes lhs to the shape of rhs (or of a range of its dims).")
      .Param<ReshapeLikeParam>()
      .Inputs({"lhs", "rhs"})
      .InferShape(ReshapeLikeShape)
      .InferType(LhsType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("reshape_like", {dout[0], in[0]}), GValue{}};
      })
      .Sample({.inputs = {Shape{6, 2}, Shape{3, 4}}, .expected = SameValues})
      .Sample({.attrs = {{"lhs_begin", "1"}, {"lhs_end", "None"}, {"rhs_begin", "-2"}},
               .inputs = {Shape{2, 12}, Shape{5, 3, 4}},
               .expected = SameValues});

  Registry::Add("depth_to_space")
      .Describe("Moves blocks of channels into space: (N, C, H, W) -> (N, C/b^2, H*b, W*b).")
      .Param<BlockParam>()
      .Inputs({"data"})
      .InferShape(DepthToSpaceShape)
      .InferType(SameType)
      .Kernel("reference", DepthToSpaceKernel)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("space_to_depth", {dout[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"block_size", "2"}},
               .inputs = {Shape{2, 8, 2, 3}},
               .expected = [](const Values& in) {
                 return Values{DepthToSpaceValues(in[0], Shape{2, 8, 2, 3}, 2)};
               }});

  Registry::Add("space_to_depth")
      .Describe("Moves blocks of space into channels: (N, C, H, W) -> (N, C*b^2, H/b, W/b).")
      .Param<BlockParam>()
      .Inputs({"data"})
      .InferShape(SpaceToDepthShape)
      .InferType(SameType)
      .Kernel("reference", SpaceToDepthKernel)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("depth_to_space", {dout[0]}, attrs.dict)};
      })
      .Sample({.attrs = {{"block_size", "2"}},
               .inputs = {Shape{2, 2, 4, 6}},
               .expected = [](const Values& in) {
                 // Inverse of depth_to_space: scatter the input back through its mapping.
                 const Shape s2d_out{2, 8, 2, 3};
                 std::vector<double> index(in[0].size());
                 std::iota(index.begin(), index.end(), 0.0);
                 const auto where = DepthToSpaceValues(index, s2d_out, 2);
                 std::vector<double> out(in[0].size());
                 for (size_t i = 0; i < where.size(); ++i)
                   out[static_cast<size_t>(where[i])] = in[0][i];
                 return Values{out};
               }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
