// Indexing ops with MXNet 1.x semantics: take, batch_take, pick, one_hot, where, and the
// scatter ops their gradients are made of (_take_backward, _pick_backward).
#include "operator/tensor/indexing.h"

#include <algorithm>
#include <cstring>

#include "operator/grad_ops.h"

namespace mixnet::op {

void CheckIndexType(const Attrs& attrs, const std::vector<int>& in, size_t i) {
  MX_CHECK(in[i] < 0 || IsIndexDType(in[i]), TypeError)
      << attrs.op->name << ": " << InputName(attrs, i) << " has dtype "
      << DTypeName(static_cast<DType>(in[i])) << "; expected float32, float64, int32 or int64";
}

int ResolveAxis(const Attrs& attrs, int64_t axis, int ndim) {
  MX_CHECK(axis >= -ndim && axis < ndim, ValueError)
      << attrs.op->name << ": axis " << axis << " is out of range for an array of " << ndim
      << " dimension(s)";
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

void ZeroUnlessAdd(const TBlob& out, OpReq req) {
  if (req == OpReq::kAdd || req == OpReq::kNull) return;
  std::memset(out.dptr, 0, static_cast<size_t>(out.Size()) * DTypeSize(out.dtype));
}

void ScatterAddAlongAxis(const TBlob& dy, const TBlob& idx, const TBlob& dx, AxisSplit x, int64_t k,
                         int mode) {
  if (x.size == 0) return;
  DispatchFloat(dx.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    DispatchIndex(idx.dtype, [&](auto itag) {
      using I = typename decltype(itag)::type;
      const T* g = dy.data<T>();
      const I* ix = idx.data<I>();
      T* out = dx.data<T>();
      // One lane per (outer, inner) pair: lanes write disjoint elements of dx.
      ParallelFor(x.outer * x.inner,
                  std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(k, 1)),
                  [&](int64_t lo, int64_t hi) {
                    for (int64_t p = lo; p < hi; ++p) {
                      const int64_t o = p / x.inner, i = p % x.inner;
                      for (int64_t kk = 0; kk < k; ++kk) {
                        const int64_t src = (o * k + kk) * x.inner + i;
                        const int64_t j = ClipOrWrap(ToIndex(ix[src]), x.size, mode);
                        T& d = out[(o * x.size + j) * x.inner + i];
                        d = T(C(d) + C(g[src]));
                      }
                    }
                  });
    });
  });
}

std::vector<int64_t> ResolveRows(const Attrs& attrs, const TBlob& idx, int64_t size, int mode,
                                 int axis) {
  std::vector<int64_t> rows(static_cast<size_t>(idx.Size()));
  DispatchIndex(idx.dtype, [&](auto tag) {
    using I = typename decltype(tag)::type;
    const I* ix = idx.data<I>();
    for (size_t j = 0; j < rows.size(); ++j) {
      const int64_t v = ToIndex(ix[j]);
      if (mode == kRaise) {
        MX_CHECK(v >= 0 && v < size, IndexError)
            << attrs.op->name << ": index " << v << " is out of bounds for axis " << axis
            << " with size " << size;
        rows[j] = v;
      } else {
        rows[j] = ClipOrWrap(v, size, mode);
      }
    }
  });
  return rows;
}

void GatherRows(const TBlob& x, AxisSplit a, const std::vector<int64_t>& rows, OpReq req,
                const TBlob& y) {
  const auto n = static_cast<int64_t>(rows.size());
  if (req == OpReq::kNull || y.Size() == 0) return;
  DispatchDType(y.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    ParallelFor(a.outer * n, std::max<int64_t>(1, kElementwiseGrain / a.inner),
                [&](int64_t lo, int64_t hi) {
                  for (int64_t r = lo; r < hi; ++r) {
                    const T* from =
                        src + ((r / n) * a.size + rows[static_cast<size_t>(r % n)]) * a.inner;
                    T* to = dst + r * a.inner;
                    for (int64_t i = 0; i < a.inner; ++i)
                      Store(to + i, from[i], req);
                  }
                });
  });
}

Shape AlongAxisShape(const Attrs& attrs, const Shape& data, std::optional<int64_t> axis,
                     bool keepdims, int64_t k) {
  if (!axis) return Shape{k};
  const int ax = ResolveAxis(attrs, *axis, data.ndim());
  std::vector<int64_t> dims(data.begin(), data.end());
  if (keepdims) {
    dims[static_cast<size_t>(ax)] = k;
  } else {
    dims.erase(dims.begin() + ax);
  }
  return Shape(std::span<const int64_t>(dims));
}

AxisSplit SplitAround(const Attrs& attrs, const Shape& data, std::optional<int64_t> axis) {
  if (!axis) return AxisSplit{1, data.Size(), 1};
  return SplitAt(data, ResolveAxis(attrs, *axis, data.ndim()));
}

void ScatterBackwardType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  CheckIndexType(attrs, *in, 1);
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  MX_CHECK((*in)[0] < 0 || IsFloatingDType(static_cast<DType>((*in)[0])), TypeError)
      << attrs.op->name << ": ograd has dtype " << DTypeName(static_cast<DType>((*in)[0]))
      << "; expected a floating dtype";
}

namespace {

using namespace grad;  // NOLINT(google-build-using-namespace): the gradient vocabulary

// ---- take ----

struct TakeParam {
  int64_t axis = 0;
  int mode = kClip;
  static void Declare(ParamDecl<TakeParam>& d) {
    d.Field("axis", &TakeParam::axis).Default(0).Doc("The axis of input array to be taken.");
    d.Field("mode", &TakeParam::mode)
        .Enum({"clip", "wrap", "raise"})
        .Default("clip")
        .Doc(
            "How out-of-bound indices behave: 'clip' clips to the range, 'wrap' wraps around, "
            "'raise' raises an error.");
  }
};

Shape Concat(std::span<const int64_t> a, std::span<const int64_t> b, std::span<const int64_t> c) {
  std::vector<int64_t> dims(a.begin(), a.end());
  dims.insert(dims.end(), b.begin(), b.end());
  dims.insert(dims.end(), c.begin(), c.end());
  return Shape(std::span<const int64_t>(dims));
}

void TakeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& a = (*in)[0];
  const Shape& idx = (*in)[1];
  if (a.is_unknown() || idx.is_unknown()) return;
  MX_CHECK(a.ndim() >= 1, ValueError) << attrs.op->name << ": a must have at least one dimension";
  const int axis = ResolveAxis(attrs, attrs.param<TakeParam>().axis, a.ndim());
  MX_CHECK(a[axis] != 0 || !idx.is_known() || idx.Size() == 0, ValueError)
      << attrs.op->name << ": cannot take indices " << idx << " from axis " << axis
      << " of size 0 of a with shape " << a;
  const auto d = a.dims();
  AssignShape(attrs, "output", &(*out)[0],
              Concat(d.subspan(0, static_cast<size_t>(axis)), idx.dims(),
                     d.subspan(static_cast<size_t>(axis) + 1)));
}

void DataAndIndexType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  CheckIndexType(attrs, *in, 1);
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  AssignType(attrs, InputName(attrs, 0), &(*in)[0], (*out)[0]);
}

void TakeForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull || out[0].Size() == 0) return;
  const TakeParam& p = attrs.param<TakeParam>();
  const int axis = ResolveAxis(attrs, p.axis, in[0].shape.ndim());
  const AxisSplit a = SplitAt(in[0].shape, axis);
  GatherRows(in[0], a, ResolveRows(attrs, in[1], a.size, p.mode, axis), req[0], out[0]);
}

/*! \brief dx[o, rows[j], i] += dy[o, j, i]: the backward of take and Embedding. */
void TakeBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  ZeroUnlessAdd(out[0], req[0]);
  if (out[0].Size() == 0) return;
  const TakeParam& p = attrs.param<TakeParam>();
  const int axis = ResolveAxis(attrs, p.axis, out[0].shape.ndim());
  const AxisSplit a = SplitAt(out[0].shape, axis);
  const std::vector<int64_t> rows = ResolveRows(attrs, in[1], a.size, p.mode, axis);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    AccumulateRows(in[0].data<T>(), out[0].data<T>(), a.outer, rows, a.size, a.inner);
  });
}

void TakeBackwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "output", &(*out)[0], (*in)[2]);
  std::vector<Shape> fwd_in = {(*in)[2], (*in)[1]}, fwd_out = {(*in)[0]};
  TakeShape(attrs, &fwd_in, &fwd_out);
}

// ---- pick ----

struct PickParam {
  std::optional<int64_t> axis = -1;
  bool keepdims = false;
  int mode = kClip;
  static void Declare(ParamDecl<PickParam>& d) {
    d.Field("axis", &PickParam::axis)
        .Default(std::optional<int64_t>(-1))
        .Doc("The axis to pick the elements. Negative values count from the end.");
    d.Field("keepdims", &PickParam::keepdims)
        .Default(false)
        .Doc("If true, the axis where we pick the elements is left in the result with size 1.");
    d.Field("mode", &PickParam::mode)
        .Enum({"clip", "wrap"})
        .Default("clip")
        .Doc("How out-of-bound indices behave: 'clip' clips to the range, 'wrap' wraps around.");
  }
};

/*!
 * \brief The index's shape: MXNet 1.9.1 takes data's shape without the axis, or (given with as
 * many axes as data) with the axis kept as 1, whatever keepdims says; the layout is the same.
 */
Shape PickIndexShape(const Attrs& attrs, const Shape& data, const Shape& index) {
  const auto& axis = attrs.param<PickParam>().axis;
  const bool kept = !index.is_unknown() && index.ndim() == data.ndim();
  return AlongAxisShape(attrs, data, axis, kept, 1);
}

void PickShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const PickParam& p = attrs.param<PickParam>();
  MX_CHECK(p.axis.has_value(), ValueError)
      << attrs.op->name << ": axis=None is not supported; give an axis";
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  MX_CHECK(data.ndim() >= 1, ValueError)
      << attrs.op->name << ": data must have at least one dimension";
  const Shape s = AlongAxisShape(attrs, data, p.axis, p.keepdims, 1);
  const int ax = ResolveAxis(attrs, *p.axis, data.ndim());
  MX_CHECK(data[ax] != 0 || !s.is_known() || s.Size() == 0, ValueError)
      << attrs.op->name << ": cannot pick from axis " << ax << " of size 0 of data with shape "
      << data;
  AssignShape(attrs, "index", &(*in)[1], PickIndexShape(attrs, data, (*in)[1]));
  AssignShape(attrs, "output", &(*out)[0], s);
}

void PickForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull || out[0].Size() == 0) return;
  const PickParam& p = attrs.param<PickParam>();
  const AxisSplit a = SplitAround(attrs, in[0].shape, p.axis);
  DispatchDType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchIndex(in[1].dtype, [&](auto itag) {
      using I = typename decltype(itag)::type;
      const T* x = in[0].data<T>();
      const I* ix = in[1].data<I>();
      T* y = out[0].data<T>();
      ParallelFor(a.outer * a.inner, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q) {
          const int64_t j = ClipOrWrap(ToIndex(ix[q]), a.size, p.mode);
          Store(y + q, x[((q / a.inner) * a.size + j) * a.inner + q % a.inner], req[0]);
        }
      });
    });
  });
}

void PickBackwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const PickParam& p = attrs.param<PickParam>();
  const Shape& data = (*in)[2];
  const Shape& g = (*in)[0];
  AssignShape(attrs, "output", &(*out)[0], data);
  if (data.is_unknown() || g.is_unknown()) return;
  int64_t k = 1;
  if (!p.axis) {
    k = g.ndim() == 1 ? g[0] : -1;
  } else if (p.keepdims && g.ndim() == data.ndim()) {
    k = g[ResolveAxis(attrs, *p.axis, data.ndim())];
  }
  const Shape s = AlongAxisShape(attrs, data, p.axis, p.keepdims, k);
  AssignShape(attrs, "ograd", &(*in)[0], s);
  AssignShape(attrs, "index", &(*in)[1],
              k == 1 && p.axis ? PickIndexShape(attrs, data, (*in)[1]) : s);
}

void PickBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  ZeroUnlessAdd(out[0], req[0]);
  if (out[0].Size() == 0) return;
  const PickParam& p = attrs.param<PickParam>();
  const AxisSplit a = SplitAround(attrs, out[0].shape, p.axis);
  const int64_t lanes = a.outer * a.inner;
  ScatterAddAlongAxis(in[0], in[1], out[0], a, lanes == 0 ? 0 : in[0].Size() / lanes, p.mode);
}

// ---- batch_take ----

void BatchTakeShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& a = (*in)[0];
  const Shape& idx = (*in)[1];
  AssignShape(attrs, "output", &(*out)[0], idx);
  if (a.is_unknown() || idx.is_unknown() || !a.is_known() || !idx.is_known()) return;
  MX_CHECK(a.ndim() >= 1 && a[0] == idx.Size(), ValueError)
      << attrs.op->name << ": indices with shape " << idx << " need a with " << idx.Size()
      << " rows, but a has shape " << a;
  MX_CHECK(a.Size() != 0 || idx.Size() == 0, ValueError)
      << attrs.op->name << ": cannot take from a with shape " << a;
}

void BatchTakeForward(const OpContext&, const Attrs&, std::span<const TBlob> in,
                      std::span<const OpReq> req, std::span<const TBlob> out) {
  const int64_t n = out[0].Size();
  if (req[0] == OpReq::kNull || n == 0) return;
  const int64_t m = in[0].Size() / n;
  DispatchDType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchIndex(in[1].dtype, [&](auto itag) {
      using I = typename decltype(itag)::type;
      const T* x = in[0].data<T>();
      const I* ix = in[1].data<I>();
      T* y = out[0].data<T>();
      ParallelFor(n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          Store(y + i, x[i * m + ClipOrWrap(ToIndex(ix[i]), m, kClip)], req[0]);
      });
    });
  });
}

// ---- one_hot ----

struct OneHotParam {
  int64_t depth = 0;
  double on_value = 1.0;
  double off_value = 0.0;
  int dtype = 0;
  static void Declare(ParamDecl<OneHotParam>& d) {
    d.Field("depth", &OneHotParam::depth).Lower(0).Doc("Depth of the one hot dimension.");
    d.Field("on_value", &OneHotParam::on_value)
        .Default(1.0)
        .Doc("The value assigned to the locations represented by indices.");
    d.Field("off_value", &OneHotParam::off_value)
        .Default(0.0)
        .Doc("The value assigned to the locations not represented by indices.");
    d.Field("dtype", &OneHotParam::dtype)
        .Enum(OutDTypeNames())
        .Default("float32")
        .Doc("DType of the output.");
  }
};

void OneHotShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if ((*in)[0].is_unknown()) return;
  const int64_t depth = attrs.param<OneHotParam>().depth;
  AssignShape(attrs, "output", &(*out)[0],
              Concat((*in)[0].dims(), std::span<const int64_t>(&depth, 1), {}));
}

void OneHotType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  CheckIndexType(attrs, *in, 0);
  AssignType(attrs, "output", &(*out)[0],
             static_cast<int>(OutDType(attrs.param<OneHotParam>().dtype)));
}

void OneHotForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                   std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull || out[0].Size() == 0) return;
  const OneHotParam& p = attrs.param<OneHotParam>();
  DispatchDType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchIndex(in[0].dtype, [&](auto itag) {
      using I = typename decltype(itag)::type;
      const I* ix = in[0].data<I>();
      T* y = out[0].data<T>();
      const T on = T(static_cast<ComputeType<T>>(p.on_value));
      const T off = T(static_cast<ComputeType<T>>(p.off_value));
      ParallelFor(in[0].Size(), std::max<int64_t>(1, kElementwiseGrain / p.depth),
                  [&](int64_t lo, int64_t hi) {
                    for (int64_t i = lo; i < hi; ++i) {
                      const int64_t j = ToIndex(ix[i]);  // out of [0, depth): all off
                      for (int64_t c = 0; c < p.depth; ++c)
                        Store(y + i * p.depth + c, c == j ? on : off, req[0]);
                    }
                  });
    });
  });
}

// ---- where ----

void WhereShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "y", &(*in)[2], (*in)[1]);
  AssignShape(attrs, "x", &(*in)[1], (*in)[2]);
  AssignShape(attrs, "output", &(*out)[0], (*in)[1]);
  AssignShape(attrs, "x", &(*in)[1], (*out)[0]);
  AssignShape(attrs, "y", &(*in)[2], (*out)[0]);
  const Shape& x = (*out)[0];
  const Shape& cond = (*in)[0];
  if (x.is_unknown() || cond.is_unknown()) return;
  if (cond.ndim() == 1 && x.ndim() >= 1 && cond != x) {
    AssignShape(attrs, "condition", &(*in)[0], Shape{x[0]});
  } else {
    AssignShape(attrs, "condition", &(*in)[0], x);
  }
}

/*! \brief x, y and the output share a dtype; condition may have any. */
void WhereType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  AssignType(attrs, "y", &(*in)[2], (*in)[1]);
  AssignType(attrs, "x", &(*in)[1], (*in)[2]);
  AssignType(attrs, "output", &(*out)[0], (*in)[1]);
  AssignType(attrs, "x", &(*in)[1], (*out)[0]);
  AssignType(attrs, "y", &(*in)[2], (*out)[0]);
}

void WhereForward(const OpContext&, const Attrs&, std::span<const TBlob> in,
                  std::span<const OpReq> req, std::span<const TBlob> out) {
  const int64_t n = out[0].Size();
  if (req[0] == OpReq::kNull || n == 0) return;
  // A 1-D condition selects whole rows of the first axis.
  const int64_t row = in[0].Size() == n ? 1 : n / in[0].Size();
  DispatchDType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DispatchDType(in[0].dtype, [&](auto ctag) {
      using CT = typename decltype(ctag)::type;
      const CT* c = in[0].data<CT>();
      const T* x = in[1].data<T>();
      const T* y = in[2].data<T>();
      T* z = out[0].data<T>();
      ParallelFor(n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          Store(z + i, static_cast<ComputeType<CT>>(c[i / row]) != 0 ? x[i] : y[i], req[0]);
      });
    });
  });
}

std::vector<double> Take2D(const std::vector<double>& a, int64_t cols,
                           const std::vector<double>& idx, int64_t rows, int mode) {
  std::vector<double> out;
  for (double v : idx) {
    int64_t j = ClipOrWrap(ToIndex(v), rows, mode);
    for (int64_t c = 0; c < cols; ++c)
      out.push_back(a[static_cast<size_t>(j * cols + c)]);
  }
  return out;
}

const bool kRegistered = [] {
  Registry::Add("take")
      .Describe(
          "Takes elements from an input array along the given axis: the output has shape "
          "a.shape[:axis] + indices.shape + a.shape[axis+1:].")
      .Param<TakeParam>()
      .Inputs({"a", "indices"})
      .InferShape(TakeShape)
      .InferType(DataAndIndexType)
      .Kernel("reference", TakeForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_take_backward", {dout[0], in[1], in[0]}, attrs.dict),
                                   GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{5, 3}, Shape{2, 3}},
                       .ranges = {{-1.0, 1.0}, {-2.0, 6.5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 Take2D(in[0], 3, in[1], 5, kClip)};
                           }})
      .Sample(OpSample{.attrs = {{"axis", "0"}, {"mode", "wrap"}},
                       .inputs = {Shape{4, 2}, Shape{7}},
                       .ranges = {{-1.0, 1.0}, {-9.0, 9.0}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             return std::vector<std::vector<double>>{
                                 Take2D(in[0], 2, in[1], 4, kWrap)};
                           },
                       .dtypes = {DType::kFloat64, DType::kInt32}})
      .Sample(OpSample{.attrs = {{"axis", "-2"}, {"mode", "raise"}},
                       .inputs = {Shape{2, 4, 3}, Shape{3, 2}},
                       .ranges = {{-1.0, 1.0}, {0.0, 3.99}},
                       .dtypes = {DType::kFloat64, DType::kInt64}})
      .Sample(OpSample{.inputs = {Shape{3, 0}, Shape{4}}, .ranges = {{-1.0, 1.0}, {0.0, 2.9}}});

  Registry::Add("_take_backward")
      .Describe(
          "Backward of take: scatters ograd back onto an array shaped like data, adding where "
          "indices repeat.")
      .Param<TakeParam>()
      .Inputs({"ograd", "indices", "data"})
      .InferShape(TakeBackwardShape)
      .InferType(ScatterBackwardType)
      .Kernel("reference", TakeBackward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // Linear in ograd: its gradient gathers the incoming one back with the same indices.
        return std::vector<GValue>{g.Apply1("take", {dout[0], in[1]}, attrs.dict), GValue{},
                                   GValue{}};
      })
      .Sample(OpSample{.attrs = {{"axis", "1"}},
                       .inputs = {Shape{2, 6, 2}, Shape{6}, Shape{2, 3, 2}},
                       .ranges = {{-1.0, 1.0}, {-1.0, 3.5}, {-1.0, 1.0}}});

  Registry::Add("batch_take")
      .Describe(
          "Takes one element per row: out[i] = a[i, indices[i]] over a viewed as (N, M); "
          "indices are clipped to [0, M).")
      .Inputs({"a", "indices"})
      .InferShape(BatchTakeShape)
      .InferType(DataAndIndexType)
      .Kernel("reference", BatchTakeForward)
      .Sample(OpSample{.inputs = {Shape{4, 3}, Shape{4}},
                       .ranges = {{-1.0, 1.0}, {-1.0, 3.9}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> out;
                         for (size_t i = 0; i < 4; ++i)
                           out.push_back(in[0][i * 3 + ClipOrWrap(ToIndex(in[1][i]), 3, kClip)]);
                         return std::vector<std::vector<double>>{out};
                       }});

  Registry::Add("pick")
      .Describe("Picks one element per position along an axis: out = data[..., index, ...].")
      .Param<PickParam>()
      .Inputs({"data", "index"})
      .InferShape(PickShape)
      .InferType(DataAndIndexType)
      .Kernel("reference", PickForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_pick_backward", {dout[0], in[1], in[0]}, attrs.dict),
                                   GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{3, 4}, Shape{3}},
                       .ranges = {{-1.0, 1.0}, {-1.0, 4.5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out;
                             for (size_t i = 0; i < 3; ++i)
                               out.push_back(
                                   in[0][i * 4 + ClipOrWrap(ToIndex(in[1][i]), 4, kClip)]);
                             return std::vector<std::vector<double>>{out};
                           }})
      .Sample(OpSample{.attrs = {{"axis", "0"}, {"keepdims", "True"}, {"mode", "wrap"}},
                       .inputs = {Shape{3, 2, 2}, Shape{1, 2, 2}},
                       .ranges = {{-1.0, 1.0}, {-5.0, 5.0}},
                       .dtypes = {DType::kFloat64, DType::kInt64}});

  Registry::Add("_pick_backward")
      .Describe(
          "Backward of pick, sort and topk: adds ograd into an array shaped like data at the "
          "positions index names along the axis (ograd may hold k entries along it).")
      .Param<PickParam>()
      .Inputs({"ograd", "index", "data"})
      .InferShape(PickBackwardShape)
      .InferType(ScatterBackwardType)
      .Kernel("reference", PickBackward)
      .Sample(OpSample{.attrs = {{"axis", "1"}, {"keepdims", "True"}},
                       .inputs = {Shape{2, 5}, Shape{2, 5}, Shape{2, 3}},
                       .ranges = {{-1.0, 1.0}, {0.0, 2.99}, {-1.0, 1.0}}})
      .Sample(OpSample{.attrs = {{"axis", "None"}},
                       .inputs = {Shape{4}, Shape{4}, Shape{2, 3}},
                       .ranges = {{-1.0, 1.0}, {0.0, 5.99}, {-1.0, 1.0}}});

  Registry::Add("one_hot")
      .Describe(
          "One-hot encoding: out[..., j] is on_value where j == indices[...], else off_value "
          "(indices outside [0, depth) give rows of off_value).")
      .Param<OneHotParam>()
      .Inputs({"indices"})
      .InferShape(OneHotShape)
      .InferType(OneHotType)
      .Kernel("reference", OneHotForward)
      .Sample(OpSample{.attrs = {{"depth", "4"}, {"on_value", "2.5"}, {"off_value", "-1"}},
                       .inputs = {Shape{2, 3}},
                       .ranges = {{-2.0, 5.5}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         std::vector<double> out;
                         for (double v : in[0]) {
                           for (int64_t c = 0; c < 4; ++c)
                             out.push_back(ToIndex(v) == c ? 2.5 : -1.0);
                         }
                         return std::vector<std::vector<double>>{out};
                       }});

  Registry::Add("where")
      .Describe(
          "Element-wise x where condition is non-zero, else y; a 1-D condition selects rows of "
          "the first axis.")
      .Inputs({"condition", "x", "y"})
      .InferShape(WhereShape)
      .InferType(WhereType)
      .Kernel("reference", WhereForward)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // Zeros shaped and typed like dout; no zeros_like op is registered yet.
        const GValue zero = MulScalar(g, dout[0], 0.0);
        return std::vector<GValue>{GValue{}, g.Apply1("where", {in[0], dout[0], zero}),
                                   g.Apply1("where", {in[0], zero, dout[0]})};
      })
      .Sample(OpSample{.inputs = {Shape{3, 4}, Shape{3, 4}, Shape{3, 4}},
                       .ranges = {{-1.9, 1.9}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out;
                             for (size_t i = 0; i < in[1].size(); ++i)
                               out.push_back(std::trunc(in[0][i]) != 0 ? in[1][i] : in[2][i]);
                             return std::vector<std::vector<double>>{out};
                           },
                       .dtypes = {DType::kInt32}})
      .Sample(OpSample{.inputs = {Shape{4}, Shape{4, 2}, Shape{4, 2}},
                       .ranges = {{-1.5, 1.5}},
                       .dtypes = {DType::kInt64}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
