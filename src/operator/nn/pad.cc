// Pad (MXNet's): pads the spatial dims of 4-D or 5-D data with a constant, the edge values or
// a reflection; the backward op sums each output's gradient back onto its source.
#include "operator/nn/conv_util.h"
#include "operator/parallel.h"

namespace mixnet::op::nn {
namespace {

enum PadMode { kConstant, kEdge, kReflect };

struct PadParam {
  int mode = kConstant;
  std::vector<int64_t> pad_width;
  double constant_value = 0.0;

  static void Declare(ParamDecl<PadParam>& d) {
    d.Field("mode", &PadParam::mode)
        .Enum({"constant", "edge", "reflect"})
        .Default("constant")
        .Doc("Padding type.");
    d.Field("pad_width", &PadParam::pad_width)
        .Doc("(before, after) per axis, 2 * ndim values; those of N and C must be 0.");
    d.Field("constant_value", &PadParam::constant_value)
        .Default(0.0)
        .Doc("The value of padded positions in constant mode.");
  }
};

/*! \brief Planes (N * C) and the spatial dims of data and output, as 3-D. */
struct PadGeom {
  int64_t planes = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, before{0, 0, 0};
};

/*! \brief Geometry from the data shape; ValueError naming the op and the shapes. */
PadGeom MakePadGeom(const Attrs& attrs, const Shape& data) {
  const PadParam& p = attrs.param<PadParam>();
  MX_CHECK(data.ndim() == 4 || data.ndim() == 5, ValueError)
      << attrs.op->name << ": data has shape " << data << " but must be 4-D or 5-D";
  const int nd = data.ndim() - 2;
  MX_CHECK(static_cast<int>(p.pad_width.size()) == 2 * data.ndim(), ValueError)
      << attrs.op->name << ": pad_width " << SpatialString(p.pad_width) << " must have "
      << 2 * data.ndim() << " values for data shape " << data;
  MX_CHECK(p.pad_width[0] == 0 && p.pad_width[1] == 0 && p.pad_width[2] == 0 && p.pad_width[3] == 0,
           NotImplementedError)
      << attrs.op->name << ": pad_width " << SpatialString(p.pad_width)
      << " pads the batch or channel axis; only spatial axes can be padded";
  PadGeom g;
  g.planes = data[0] * data[1];
  for (int i = 0; i < nd; ++i) {
    const int j = 3 - nd + i;
    const int64_t b = p.pad_width[2 * (i + 2)], a = p.pad_width[2 * (i + 2) + 1];
    MX_CHECK(b >= 0 && a >= 0, ValueError)
        << attrs.op->name << ": pad_width " << SpatialString(p.pad_width) << " must be >= 0";
    if (p.mode == kReflect) {
      MX_CHECK(b < data[i + 2] && a < data[i + 2], ValueError)
          << attrs.op->name << ": reflect padding " << SpatialString(p.pad_width)
          << " must be smaller than the padded dims of data shape " << data;
    }
    if (p.mode == kEdge) {
      MX_CHECK(data[i + 2] > 0 || a + b == 0, ValueError)
          << attrs.op->name << ": edge padding of an empty axis, data shape " << data;
    }
    g.in[j] = data[i + 2];
    g.out[j] = data[i + 2] + b + a;
    g.before[j] = b;
  }
  return g;
}

Shape PadOutShape(const Shape& data, const PadGeom& g) {
  std::vector<int64_t> dims = {data[0], data[1]};
  for (int i = 5 - data.ndim(); i < 3; ++i)
    dims.push_back(g.out[i]);
  return Shape(std::span<const int64_t>(dims));
}

/*! \brief The source of output position o along one axis, or -1 for a constant. */
int64_t Source(int mode, int64_t o, int64_t before, int64_t n) {
  const int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  if (mode == kConstant) return -1;
  if (mode == kEdge) return i < 0 ? 0 : n - 1;
  return i < 0 ? -i : 2 * (n - 1) - i;  // reflect excludes the edge itself
}

/*! \brief Calls f(out_index, in_index or -1) for every output element, planes in parallel. */
template <typename F>
void ForEachOut(const PadGeom& g, int mode, F&& f) {
  const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  ParallelFor(g.planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      int64_t oi = pl * out_size;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
        const int64_t i0 = Source(mode, o0, g.before[0], g.in[0]);
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
          const int64_t i1 = Source(mode, o1, g.before[1], g.in[1]);
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++oi) {
            const int64_t i2 = Source(mode, o2, g.before[2], g.in[2]);
            const bool inside = i0 >= 0 && i1 >= 0 && i2 >= 0;
            f(oi, inside ? pl * in_size + (i0 * g.in[1] + i1) * g.in[2] + i2 : -1);
          }
        }
      }
    }
  });
}

template <typename F>
void DispatchPadType(DType t, F&& f) {
  if (t == DType::kFloat64) {
    f(TypeTag<double>{});
  } else {
    f(TypeTag<float>{});
  }
}

const bool kRegistered = [] {
  Registry::Add("Pad")
      .Alias("pad")
      .Describe("Pads the spatial axes of 4-D or 5-D data (constant, edge or reflect).")
      .Param<PadParam>()
      .Inputs({"data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        if (!(*in)[0].is_known()) return;
        AssignShape(attrs, "output", &(*out)[0],
                    PadOutShape((*in)[0], MakePadGeom(attrs, (*in)[0])));
      })
      .InferType(ConvType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                const PadParam& p = attrs.param<PadParam>();
                const PadGeom g = MakePadGeom(attrs, in[0].shape);
                DispatchPadType(out[0].dtype, [&](auto tag) {
                  using T = typename decltype(tag)::type;
                  const T* x = in[0].data<T>();
                  const T c = static_cast<T>(p.constant_value);
                  WriteWithReq<T>(req[0], out[0], [&](T* y) {
                    ForEachOut(g, p.mode,
                               [&](int64_t oi, int64_t xi) { y[oi] = xi >= 0 ? x[xi] : c; });
                  });
                });
              })
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue>,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_pad_backward", {dout[0]}, attrs.dict)};
      })
      .Sample(OpSample{.attrs = {{"mode", "constant"},
                                 {"pad_width", "(0, 0, 0, 0, 1, 2, 2, 1)"},
                                 {"constant_value", "1.5"}},
                       .inputs = {Shape{2, 2, 3, 3}}})
      .Sample(OpSample{.attrs = {{"mode", "edge"}, {"pad_width", "(0, 0, 0, 0, 2, 1, 0, 3)"}},
                       .inputs = {Shape{1, 2, 2, 3}}})
      .Sample(
          OpSample{.attrs = {{"mode", "reflect"}, {"pad_width", "(0, 0, 0, 0, 1, 2, 2, 1, 1, 1)"}},
                   .inputs = {Shape{1, 2, 3, 3, 2}}});

  Registry::Add("_pad_backward")
      .Describe("Gradient of Pad: each output's gradient summed onto its source element.")
      .Param<PadParam>()
      .Inputs({"dy"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
        const Shape& dy = (*in)[0];
        if (!dy.is_known()) return;
        const PadParam& p = attrs.param<PadParam>();
        std::vector<int64_t> dims(dy.begin(), dy.end());
        for (size_t i = 0; i < dims.size() && 2 * i + 1 < p.pad_width.size(); ++i)
          dims[i] -= p.pad_width[2 * i] + p.pad_width[2 * i + 1];
        const Shape data{std::span<const int64_t>(dims)};
        MakePadGeom(attrs, data);
        AssignShape(attrs, "output", &(*out)[0], data);
      })
      .InferType(ConvType)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
                const PadParam& p = attrs.param<PadParam>();
                const PadGeom g = MakePadGeom(attrs, out[0].shape);
                DispatchPadType(out[0].dtype, [&](auto tag) {
                  using T = typename decltype(tag)::type;
                  const T* dy = in[0].data<T>();
                  WriteWithReq<T>(req[0], out[0], [&](T* dx) {
                    std::fill_n(dx, out[0].Size(), T(0));
                    // Sources stay within their own plane, and each plane has one thread.
                    ForEachOut(g, p.mode, [&](int64_t oi, int64_t xi) {
                      if (xi >= 0) dx[xi] += dy[oi];
                    });
                  });
                });
              })
      .Sample(OpSample{.attrs = {{"mode", "reflect"}, {"pad_width", "(0, 0, 0, 0, 2, 1, 1, 1)"}},
                       .inputs = {Shape{1, 2, 6, 5}}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op::nn
