// N-dimensional gather and scatter (MXNet's gather_nd, scatter_nd) and the accumulating
// scatter that is gather_nd's gradient.
#include <algorithm>

#include "operator/tensor/indexing.h"

namespace mixnet::op {
namespace {

/*! \brief indices (M, Y...) addressing data: the output shape Y... + data.shape[M:]. */
Shape GatheredShape(const Attrs& attrs, const Shape& data, const Shape& idx) {
  MX_CHECK(idx.ndim() >= 1, ValueError)
      << attrs.op->name << ": indices must have at least one dimension, got shape " << idx;
  const int64_t m = idx[0];
  MX_CHECK(m >= 0 && m <= data.ndim(), ValueError)
      << attrs.op->name << ": indices with shape " << idx << " address " << m
      << " dimension(s), but the data shape " << data << " has " << data.ndim();
  std::vector<int64_t> dims(idx.begin() + 1, idx.end());
  dims.insert(dims.end(), data.begin() + m, data.end());
  return Shape(std::span<const int64_t>(dims));
}

/*! \brief Row of each index tuple in data viewed as (prod(shape[:M]), prod(shape[M:])). */
std::vector<int64_t> TupleRows(const Attrs& attrs, const TBlob& idx, const Shape& data) {
  const int m = static_cast<int>(idx.shape[0]);
  const int64_t n = m == 0 ? idx.shape.ProdDims(1, idx.shape.ndim()) : idx.Size() / m;
  std::vector<int64_t> rows(static_cast<size_t>(n), 0);
  DispatchIndex(idx.dtype, [&](auto tag) {
    using I = typename decltype(tag)::type;
    const I* ix = idx.data<I>();
    for (int64_t y = 0; y < n; ++y) {
      int64_t row = 0;
      for (int d = 0; d < m; ++d) {
        int64_t v = ToIndex(ix[d * n + y]);
        // Negative indices count from the end, as in MXNet 1.9.
        MX_CHECK(v >= -data[d] && v < data[d], IndexError)
            << attrs.op->name << ": index " << v << " is out of bounds for dimension " << d
            << " with size " << data[d];
        if (v < 0) v += data[d];
        row = row * data[d] + v;
      }
      rows[static_cast<size_t>(y)] = row;
    }
  });
  return rows;
}

AxisSplit RowsOf(const Shape& data, int m) {
  return AxisSplit{1, data.ProdDims(0, m), data.ProdDims(m, data.ndim())};
}

void GatherNdShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  if ((*in)[0].is_unknown() || (*in)[1].is_unknown()) return;
  AssignShape(attrs, "output", &(*out)[0], GatheredShape(attrs, (*in)[0], (*in)[1]));
}

void DataIndexType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  CheckIndexType(attrs, *in, 1);
  AssignType(attrs, "output", &(*out)[0], (*in)[0]);
  AssignType(attrs, "data", &(*in)[0], (*out)[0]);
}

void GatherNdForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull || out[0].Size() == 0) return;
  const int m = static_cast<int>(in[1].shape[0]);
  GatherRows(in[0], RowsOf(in[0].shape, m), TupleRows(attrs, in[1], in[0].shape), req[0], out[0]);
}

/*! \brief out = zeros(data.shape); out[indices] += ograd (repeated tuples add up). */
void GatherNdBackward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                      std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  ZeroUnlessAdd(out[0], req[0]);
  if (out[0].Size() == 0 || in[0].Size() == 0) return;
  const int m = static_cast<int>(in[1].shape[0]);
  const AxisSplit a = RowsOf(out[0].shape, m);
  const std::vector<int64_t> rows = TupleRows(attrs, in[1], out[0].shape);
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    AccumulateRows(in[0].data<T>(), out[0].data<T>(), 1, rows, a.size, a.inner);
  });
}

void GatherNdBackwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(attrs, "output", &(*out)[0], (*in)[2]);
  if ((*in)[2].is_unknown() || (*in)[1].is_unknown()) return;
  AssignShape(attrs, "ograd", &(*in)[0], GatheredShape(attrs, (*in)[2], (*in)[1]));
}

struct ScatterNdParam {
  std::vector<int64_t> shape;
  static void Declare(ParamDecl<ScatterNdParam>& d) {
    d.Field("shape", &ScatterNdParam::shape).Doc("Shape of output.");
  }
};

void ScatterNdShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape shape(std::span<const int64_t>(attrs.param<ScatterNdParam>().shape));
  AssignShape(attrs, "output", &(*out)[0], shape);
  if ((*in)[1].is_unknown()) return;
  AssignShape(attrs, "data", &(*in)[0], GatheredShape(attrs, shape, (*in)[1]));
}

void ScatterNdForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                      std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  ZeroUnlessAdd(out[0], req[0]);
  if (out[0].Size() == 0 || in[0].Size() == 0) return;
  const int m = static_cast<int>(in[1].shape[0]);
  const AxisSplit a = RowsOf(out[0].shape, m);
  const std::vector<int64_t> rows = TupleRows(attrs, in[1], out[0].shape);
  DispatchDType(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    // Sequential, so a repeated tuple keeps its last value (MXNet leaves that unspecified).
    for (size_t j = 0; j < rows.size(); ++j) {
      for (int64_t i = 0; i < a.inner; ++i)
        Store(y + rows[j] * a.inner + i, x[static_cast<int64_t>(j) * a.inner + i], req[0]);
    }
  });
}

const bool kRegistered = [] {
  Registry::Add("gather_nd")
      .Describe(
          "Gathers slices of data addressed by indices of shape (M, Y...): the output has shape "
          "Y... + data.shape[M:]; negative indices count from the end.")
      .Inputs({"data", "indices"})
      .InferShape(GatherNdShape)
      .InferType(DataIndexType)
      .Kernel("reference", GatherNdForward)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_gather_nd_backward", {dout[0], in[1], in[0]}),
                                   GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{3, 4, 2}, Shape{2, 5}},
                       .ranges = {{-1.0, 1.0}, {-2.9, 2.9}},
                       .dtypes = {DType::kFloat64, DType::kInt32}})
      .Sample(
          OpSample{.inputs = {Shape{4, 3}, Shape{1, 2, 3}}, .ranges = {{-1.0, 1.0}, {0.0, 3.9}}})
      .Sample(OpSample{.inputs = {Shape{2, 3}, Shape{2, 0}}, .ranges = {{-1.0, 1.0}, {0.0, 1.9}}});

  Registry::Add("_gather_nd_backward")
      .Describe(
          "Backward of gather_nd: adds ograd into zeros shaped like data at the addressed slices "
          "(repeated indices accumulate).")
      .Inputs({"ograd", "indices", "data"})
      .InferShape(GatherNdBackwardShape)
      .InferType(ScatterBackwardType)
      .Kernel("reference", GatherNdBackward)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // Linear in ograd: gather_nd reads the incoming gradient back at the same slices.
        return std::vector<GValue>{g.Apply1("gather_nd", {dout[0], in[1]}), GValue{}, GValue{}};
      })
      .Sample(OpSample{.inputs = {Shape{6, 2}, Shape{1, 6}, Shape{3, 2}},
                       .ranges = {{-1.0, 1.0}, {-2.9, 2.9}, {-1.0, 1.0}},
                       .dtypes = {DType::kFloat64, DType::kInt64, DType::kFloat64}});

  Registry::Add("scatter_nd")
      .Describe(
          "Scatters data into zeros of the given shape at the slices indices address (the "
          "inverse of gather_nd); with repeated indices the last value is kept.")
      .Param<ScatterNdParam>()
      .Inputs({"data", "indices"})
      .InferShape(ScatterNdShape)
      .InferType(DataIndexType)
      .Kernel("reference", ScatterNdForward)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("gather_nd", {dout[0], in[1]}), GValue{}};
      })
      // One index tuple each: with repeats the overwritten values would have no gradient.
      .Sample(OpSample{.attrs = {{"shape", "(4, 3)"}},
                       .inputs = {Shape{1, 3}, Shape{1, 1}},
                       .ranges = {{-1.0, 1.0}, {0.0, 3.9}},
                       .dtypes = {DType::kFloat64, DType::kFloat32}})
      .Sample(OpSample{.attrs = {{"shape", "(2, 3, 2)"}},
                       .inputs = {Shape{1, 2}, Shape{2, 1}},
                       .ranges = {{-1.0, 1.0}, {0.0, 1.9}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
