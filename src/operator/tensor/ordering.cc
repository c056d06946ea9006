// Sorting ops with MXNet 1.x semantics: topk, sort, argsort. Sorting is stable (ties keep
// their order, as NumPy's stable sort), NaN sorts as the largest value, and indices come back
// as float32 unless dtype says otherwise.
#include <algorithm>
#include <numeric>

#include "operator/tensor/indexing.h"

namespace mixnet::op {
namespace {

enum RetTyp { kValue = 0, kIndices = 1, kMask = 2, kBoth = 3 };

struct TopKParam {
  std::optional<int64_t> axis = -1;
  int64_t k = 1;
  int ret_typ = kIndices;
  bool is_ascend = false;
  int dtype = 0;
  static void Declare(ParamDecl<TopKParam>& d) {
    d.Field("axis", &TopKParam::axis)
        .Default(std::optional<int64_t>(-1))
        .Doc("Axis along which to choose the top k elements; None flattens the input.");
    d.Field("k", &TopKParam::k)
        .Default(1)
        .Doc("Number of top elements to select; k < 1 sorts the whole axis.");
    d.Field("ret_typ", &TopKParam::ret_typ)
        .Enum({"value", "indices", "mask", "both"})
        .Default("indices")
        .Doc("The return type: values, indices, a 0/1 mask of the chosen elements, or both.");
    d.Field("is_ascend", &TopKParam::is_ascend)
        .Default(false)
        .Doc("Whether to choose the k smallest (True) or largest (False) elements.");
    d.Field("dtype", &TopKParam::dtype)
        .Enum(OutDTypeNames())
        .Default("float32")
        .Doc("DType of the output indices.");
  }
};

struct SortParam {
  std::optional<int64_t> axis = -1;
  bool is_ascend = true;
  static void Declare(ParamDecl<SortParam>& d) {
    d.Field("axis", &SortParam::axis)
        .Default(std::optional<int64_t>(-1))
        .Doc("Axis along which to sort; None flattens the input.");
    d.Field("is_ascend", &SortParam::is_ascend)
        .Default(true)
        .Doc("Whether to sort in ascending or descending order.");
  }
};

struct ArgSortParam {
  std::optional<int64_t> axis = -1;
  bool is_ascend = true;
  int dtype = 0;
  static void Declare(ParamDecl<ArgSortParam>& d) {
    d.Field("axis", &ArgSortParam::axis)
        .Default(std::optional<int64_t>(-1))
        .Doc("Axis along which to sort; None flattens the input.");
    d.Field("is_ascend", &ArgSortParam::is_ascend)
        .Default(true)
        .Doc("Whether to sort in ascending or descending order.");
    d.Field("dtype", &ArgSortParam::dtype)
        .Enum(OutDTypeNames())
        .Default("float32")
        .Doc("DType of the output indices.");
  }
};

template <typename C>
bool IsNaN(C v) {
  if constexpr (std::is_floating_point_v<C>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

/*!
 * \brief For every lane (outer, inner) of x around the axis, orders the lane's positions
 * stably and calls emit(lane_offset, order, values): order[0..k) are the chosen positions.
 */
template <typename Emit>
void SortLanes(const TBlob& x, AxisSplit a, bool ascend, Emit emit) {
  if (a.size == 0) return;
  DispatchDType(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* src = x.data<T>();
    ParallelFor(a.outer * a.inner, std::max<int64_t>(1, kElementwiseGrain / (4 * a.size)),
                [&](int64_t lo, int64_t hi) {
                  std::vector<C> v(static_cast<size_t>(a.size));
                  std::vector<int64_t> order(static_cast<size_t>(a.size));
                  for (int64_t lane = lo; lane < hi; ++lane) {
                    const int64_t base = (lane / a.inner) * a.size * a.inner + lane % a.inner;
                    for (int64_t j = 0; j < a.size; ++j)
                      v[static_cast<size_t>(j)] = C(src[base + j * a.inner]);
                    std::iota(order.begin(), order.end(), int64_t{0});
                    // NaN compares as the largest value, which keeps the order strict and weak.
                    auto less = [&](int64_t p, int64_t q) {
                      const C vp = v[static_cast<size_t>(p)], vq = v[static_cast<size_t>(q)];
                      return IsNaN(vq) ? !IsNaN(vp) : vp < vq;
                    };
                    if (ascend) {
                      std::stable_sort(order.begin(), order.end(), less);
                    } else {
                      std::stable_sort(order.begin(), order.end(),
                                       [&](int64_t p, int64_t q) { return less(q, p); });
                    }
                    emit(base, order.data());
                  }
                });
  });
}

/*! \brief Writes order[0..k) (positions along the axis) into y's lane at `base`. */
void EmitIndices(const TBlob& y, int64_t base, int64_t stride, const int64_t* order, int64_t k,
                 OpReq req) {
  DispatchDType(y.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = y.data<T>();
    for (int64_t j = 0; j < k; ++j)
      Store(out + base + j * stride, T(static_cast<ComputeType<T>>(order[j])), req);
  });
}

/*! \brief Writes x's lane values at order[0..k) into y's lane at `out_base`. */
void EmitValues(const TBlob& x, int64_t in_base, const TBlob& y, int64_t out_base, int64_t stride,
                const int64_t* order, int64_t k, OpReq req) {
  DispatchDType(y.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (int64_t j = 0; j < k; ++j)
      Store(out + out_base + j * stride, in[in_base + order[j] * stride], req);
  });
}

/*! \brief The lane offset in an output holding k entries per lane instead of a.size. */
int64_t OutBase(int64_t base, AxisSplit a, int64_t k) {
  const int64_t o = base / (a.size * a.inner), i = base % (a.size * a.inner);
  return o * k * a.inner + i;
}

int64_t EffectiveK(const Attrs& attrs, const Shape& data, std::optional<int64_t> axis, int64_t k) {
  const int64_t size = axis ? data[ResolveAxis(attrs, *axis, data.ndim())] : data.Size();
  if (k < 1) return size;
  MX_CHECK(k <= size, ValueError) << attrs.op->name << ": k=" << k << " exceeds the " << size
                                  << " element(s) along the axis of data with shape " << data;
  return k;
}

void CheckRank(const Attrs& attrs, const Shape& data, std::optional<int64_t> axis) {
  MX_CHECK(!axis || data.ndim() >= 1, ValueError)
      << attrs.op->name << ": data with shape " << data << " has no axis " << *axis;
}

void TopKShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const TopKParam& p = attrs.param<TopKParam>();
  const Shape& data = (*in)[0];
  if (!data.is_known()) return;
  CheckRank(attrs, data, p.axis);
  const int64_t k = EffectiveK(attrs, data, p.axis, p.k);
  if (p.ret_typ == kMask) {
    AssignShape(attrs, "output", &(*out)[0], data);
    return;
  }
  const Shape s = AlongAxisShape(attrs, data, p.axis, true, k);
  for (size_t i = 0; i < out->size(); ++i)
    AssignShape(attrs, "output", &(*out)[i], s);
}

void TopKType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const TopKParam& p = attrs.param<TopKParam>();
  const int index_type = static_cast<int>(OutDType(p.dtype));
  if (p.ret_typ == kIndices) {
    AssignType(attrs, "output", &(*out)[0], index_type);
    return;
  }
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  AssignType(attrs, "data", &(*in)[0], (*out)[0]);
  if (p.ret_typ == kBoth) AssignType(attrs, "indices", &(*out)[1], index_type);
}

void TopKForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const TopKParam& p = attrs.param<TopKParam>();
  const AxisSplit a = SplitAround(attrs, in[0].shape, p.axis);
  const int64_t k = EffectiveK(attrs, in[0].shape, p.axis, p.k);
  if (p.ret_typ == kMask) ZeroUnlessAdd(out[0], req[0]);
  SortLanes(in[0], a, p.is_ascend, [&](int64_t base, const int64_t* order) {
    const int64_t ob = OutBase(base, a, k);
    switch (p.ret_typ) {
      case kValue:
        EmitValues(in[0], base, out[0], ob, a.inner, order, k, req[0]);
        break;
      case kIndices:
        EmitIndices(out[0], ob, a.inner, order, k, req[0]);
        break;
      case kBoth:
        EmitValues(in[0], base, out[0], ob, a.inner, order, k, req[0]);
        EmitIndices(out[1], ob, a.inner, order, k, req[1]);
        break;
      default:
        DispatchDType(out[0].dtype, [&](auto tag) {
          using T = typename decltype(tag)::type;
          T* y = out[0].data<T>();
          for (int64_t j = 0; j < k; ++j)
            Store(y + base + order[j] * a.inner, T(ComputeType<T>(1)), req[0]);
        });
    }
  });
}

AttrDict WithAttr(AttrDict d, const std::string& key, const std::string& value) {
  std::erase_if(d, [&](const auto& kv) { return kv.first == key; });
  d.emplace_back(key, value);
  return d;
}

/*! \brief Attributes of _pick_backward scattering k entries per lane along `axis`. */
AttrDict ScatterAttrs(std::optional<int64_t> axis) {
  return {{"axis", ValueCodec<std::optional<int64_t>>::Print(axis)}, {"keepdims", "True"}};
}

/*! \brief sort and argsort: the data's shape, or (size,) when axis is None. */
template <typename P>
void SortShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto axis = attrs.param<P>().axis;
  const Shape& data = (*in)[0];
  if (!data.is_known()) return;
  CheckRank(attrs, data, axis);
  AssignShape(attrs, "output", &(*out)[0], axis ? data : Shape{data.Size()});
}

void SortForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const SortParam& p = attrs.param<SortParam>();
  const AxisSplit a = SplitAround(attrs, in[0].shape, p.axis);
  SortLanes(in[0], a, p.is_ascend, [&](int64_t base, const int64_t* order) {
    EmitValues(in[0], base, out[0], base, a.inner, order, a.size, req[0]);
  });
}

void ArgSortForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq> req, std::span<const TBlob> out) {
  const ArgSortParam& p = attrs.param<ArgSortParam>();
  const AxisSplit a = SplitAround(attrs, in[0].shape, p.axis);
  SortLanes(in[0], a, p.is_ascend, [&](int64_t base, const int64_t* order) {
    EmitIndices(out[0], base, a.inner, order, a.size, req[0]);
  });
}

/*! \brief Reference for 1-D samples: the stable order of v. */
std::vector<size_t> Order(const std::vector<double>& v, bool ascend) {
  std::vector<size_t> o(v.size());
  std::iota(o.begin(), o.end(), size_t{0});
  std::stable_sort(o.begin(), o.end(),
                   [&](size_t p, size_t q) { return ascend ? v[p] < v[q] : v[q] < v[p]; });
  return o;
}

const bool kRegistered = [] {
  Registry::Add("topk")
      .Describe(
          "The top k elements along an axis: their values, indices (float32 by default), a "
          "0/1 mask, or values and indices.")
      .Param<TopKParam>()
      .Inputs({"data"})
      .Outputs([](const Attrs& attrs) {
        return attrs.param<TopKParam>().ret_typ == kBoth
                   ? std::vector<std::string>{"output0", "output1"}
                   : std::vector<std::string>{"output"};
      })
      .InferShape(TopKShape)
      .InferType(TopKType)
      .Kernel("reference", TopKForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const TopKParam& p = attrs.param<TopKParam>();
        if (p.ret_typ != kValue && p.ret_typ != kBoth) return std::vector<GValue>{GValue{}};
        // The chosen positions again, as exact integers, to route dout back to them.
        const GValue idx =
            g.Apply1("topk", {in[0]},
                     WithAttr(WithAttr(attrs.dict, "ret_typ", "indices"), "dtype", "int64"));
        return std::vector<GValue>{
            g.Apply1("_pick_backward", {dout[0], idx, in[0]}, ScatterAttrs(p.axis))};
      })
      .Sample(OpSample{.attrs = {{"k", "2"}, {"ret_typ", "value"}}, .inputs = {Shape{3, 5}}})
      .Sample(
          OpSample{.attrs = {{"k", "3"}, {"axis", "0"}, {"ret_typ", "both"}, {"is_ascend", "1"}},
                   .inputs = {Shape{4, 2, 3}}})
      .Sample(OpSample{.attrs = {{"k", "2"}},
                       .inputs = {Shape{6}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             const auto o = Order(in[0], false);
                             return std::vector<std::vector<double>>{{double(o[0]), double(o[1])}};
                           }})
      .Sample(OpSample{.attrs = {{"k", "0"}, {"axis", "None"}, {"ret_typ", "mask"}},
                       .inputs = {Shape{2, 3}}})
      .Sample(OpSample{.attrs = {{"k", "2"}, {"ret_typ", "mask"}}, .inputs = {Shape{2, 4}}})
      .Sample(OpSample{.attrs = {{"k", "1"}, {"ret_typ", "both"}}, .inputs = {Shape{0, 3}}});

  Registry::Add("sort")
      .Describe("Sorts along an axis (stable); None flattens the input first.")
      .Param<SortParam>()
      .Inputs({"data"})
      .InferShape(SortShape<SortParam>)
      .InferType(SameType)
      .Kernel("reference", SortForward)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const SortParam& p = attrs.param<SortParam>();
        const GValue idx = g.Apply1("argsort", {in[0]},
                                    {{"axis", ValueCodec<std::optional<int64_t>>::Print(p.axis)},
                                     {"is_ascend", ValueCodec<bool>::Print(p.is_ascend)},
                                     {"dtype", "int64"}});
        return std::vector<GValue>{
            g.Apply1("_pick_backward", {dout[0], idx, in[0]}, ScatterAttrs(p.axis))};
      })
      .Sample(OpSample{.inputs = {Shape{7}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out;
                             for (size_t j : Order(in[0], true))
                               out.push_back(in[0][j]);
                             return std::vector<std::vector<double>>{out};
                           }})
      .Sample(OpSample{.attrs = {{"axis", "0"}, {"is_ascend", "False"}}, .inputs = {Shape{4, 3}}})
      .Sample(OpSample{.attrs = {{"axis", "None"}}, .inputs = {Shape{2, 3}}})
      .Sample(OpSample{.inputs = {Shape{3, 0}}});

  Registry::Add("argsort")
      .Describe(
          "Indices that sort the input along an axis (stable), float32 by default; None "
          "flattens the input first.")
      .Param<ArgSortParam>()
      .Inputs({"data"})
      .InferShape(SortShape<ArgSortParam>)
      .InferType([](const Attrs& attrs, std::vector<int>*, std::vector<int>* out) {
        AssignType(attrs, "output", &(*out)[0],
                   static_cast<int>(OutDType(attrs.param<ArgSortParam>().dtype)));
      })
      .Kernel("reference", ArgSortForward)
      .Sample(OpSample{.attrs = {{"is_ascend", "False"}},
                       .inputs = {Shape{5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out;
                             for (size_t j : Order(in[0], false))
                               out.push_back(double(j));
                             return std::vector<std::vector<double>>{out};
                           }})
      .Sample(OpSample{.attrs = {{"axis", "1"}, {"dtype", "int32"}}, .inputs = {Shape{2, 4, 3}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
