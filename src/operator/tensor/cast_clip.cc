// Element-wise ops on any dtype: Cast, clip, zeros_like, ones_like, BlockGrad, _copy.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "operator/grad_ops.h"
#include "operator/tensor/elemwise.h"
#include "operator/tensor/layout.h"

namespace mixnet::op {
namespace {

using Values = std::vector<std::vector<double>>;

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;

/*! \brief One element converted as static_cast would (16-bit floats go through float). */
template <typename To, typename From>
To Convert(From x) {
  using C = ComputeType<From>;
  const C v = static_cast<C>(x);
  if constexpr (std::is_same_v<To, bool>) {
    return v != C(0);
  } else if constexpr (kIsHalf<To>) {
    return To(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

void ConvertBlob(const TBlob& in, const TBlob& out) {
  if (in.dtype == out.dtype) {
    CopyKernel({}, {}, std::span<const TBlob>(&in, 1), {}, std::span<const TBlob>(&out, 1));
    return;
  }
  DispatchDType(in.dtype, [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    DispatchDType(out.dtype, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const From* x = in.data<From>();
      To* y = out.data<To>();
      ParallelFor(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          y[i] = Convert<To>(x[i]);
      });
    });
  });
}

void ConvertKernel(const OpContext&, const Attrs&, std::span<const TBlob> in,
                   std::span<const OpReq>, std::span<const TBlob> out) {
  ConvertBlob(in[0], out[0]);
}

std::vector<std::string> DTypeNames() {
  std::vector<std::string> names;
  for (int i = 0; i < kNumDTypes; ++i)
    names.emplace_back(DTypeName(static_cast<DType>(i)));
  return names;
}

struct CastParam {
  int dtype = 0;  // a DType flag: the enum lists the names in flag order
  static void Declare(ParamDecl<CastParam>& d) {
    d.Field("dtype", &CastParam::dtype).Enum(DTypeNames()).Doc("Output dtype.");
  }
};

struct ClipParam {
  double a_min = 0;
  double a_max = 0;
  static void Declare(ParamDecl<ClipParam>& d) {
    d.Field("a_min", &ClipParam::a_min).Doc("Minimum value.");
    d.Field("a_max", &ClipParam::a_max).Doc("Maximum value.");
  }
};

/*! \brief A clip bound in T (MXNet casts a_min/a_max to the dtype), saturated for integers. */
template <typename T>
T Bound(double v) {
  if constexpr (std::is_floating_point_v<T> || kIsHalf<T>) {
    return T(static_cast<ComputeType<T>>(v));
  } else {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
  }
}

void ClipKernel(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<ClipParam>();
  DispatchDType(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const C lo = static_cast<C>(Bound<T>(p.a_min)), hi = static_cast<C>(Bound<T>(p.a_max));
    const T* x = in[0].data<T>();
    T* y = out[0].data<T>();
    ParallelFor(out[0].Size(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const C v = static_cast<C>(x[i]);
        y[i] = v < lo ? T(lo) : (v > hi ? T(hi) : x[i]);
      }
    });
  });
}

ComputeFn FillKernel(int value) {
  return [value](const OpContext&, const Attrs&, std::span<const TBlob>, std::span<const OpReq>,
                 std::span<const TBlob> out) {
    DispatchDType(out[0].dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T v = Convert<T>(value);
      T* y = out[0].data<T>();
      ParallelFor(out[0].Size(), kElementwiseGrain,
                  [&](int64_t lo, int64_t hi) { std::fill(y + lo, y + hi, v); });
    });
  };
}

std::vector<GValue> NoGradient(GradBuilder&, const Attrs&, std::span<const GValue> in,
                               std::span<const GValue>, std::span<const GValue>) {
  return std::vector<GValue>(in.size());
}

/*! \brief Sample values as a 16-bit float holds them (what the test feeds the op). */
std::vector<double> AsHalf(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    out.push_back(static_cast<float>(float16_t(static_cast<float>(x))));
  return out;
}

const bool kRegistered = [] {
  Registry::Add("Cast")
      .Alias("cast")
      .Describe("Converts data to dtype, element by element, as static_cast does.")
      .Param<CastParam>()
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType([](const Attrs& attrs, std::vector<int>*, std::vector<int>* out) {
        AssignType(attrs, "output", &(*out)[0], attrs.param<CastParam>().dtype);
      })
      .Kernel("reference", ConvertKernel)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_cast_backward", {dout[0], in[0]})};
      })
      .Sample({.attrs = {{"dtype", "float64"}},
               .inputs = {Shape{2, 3}},
               .expected = [](const Values& in) { return Values{in[0]}; }})
      .Sample({.attrs = {{"dtype", "float64"}},
               .inputs = {Shape{2, 3}},
               .ranges = {{-50, 50}},
               .expected = [](const Values& in) { return Values{Truncated(in[0])}; },
               .dtypes = {DType::kInt32}})
      // float -> int truncates; the input is float32 so the gradient check (float64) skips it.
      .Sample({.attrs = {{"dtype", "int32"}},
               .inputs = {Shape{7}},
               .ranges = {{-50, 50}},
               .expected = [](const Values& in) { return Values{Truncated(in[0])}; },
               .dtypes = {DType::kFloat32}})
      .Sample({.attrs = {{"dtype", "float32"}},
               .inputs = {Shape{5}},
               .ranges = {{-4, 4}},
               .expected = [](const Values& in) { return Values{AsHalf(in[0])}; },
               .dtypes = {DType::kFloat16}})
      .Sample({.attrs = {{"dtype", "bool"}},
               .inputs = {Shape{6}},
               .ranges = {{-2, 2}},
               .expected =
                   [](const Values& in) {
                     std::vector<double> out;
                     for (double v : Truncated(in[0]))
                       out.push_back(v != 0 ? 1.0 : 0.0);
                     return Values{out};
                   },
               .dtypes = {DType::kInt8}});

  Registry::Add("_cast_backward")
      .Describe("Gradient of Cast: out_grad converted back to data's dtype.")
      .Inputs({"out_grad", "data"})
      .InferShape(SameShape)
      .InferType([](const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
        AssignType(attrs, "output", &(*out)[0], (*in)[1]);
      })
      .Kernel("reference", ConvertKernel)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        return std::vector<GValue>{g.Apply1("_cast_backward", {dout[0], in[0]}), GValue{}};
      })
      .Sample({.inputs = {Shape{2, 3}, Shape{2, 3}},
               .expected = [](const Values& in) { return Values{in[0]}; }});

  Registry::Add("clip")
      .Describe("Limits values to [a_min, a_max]; the gradient passes where a_min <= x <= a_max.")
      .Param<ClipParam>()
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", ClipKernel)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        const auto& p = attrs.param<ClipParam>();
        const GValue inside =
            grad::Mul(g, g.Apply1("_greater_equal_scalar", {in[0]}, grad::Scalar(p.a_min)),
                      g.Apply1("_lesser_equal_scalar", {in[0]}, grad::Scalar(p.a_max)));
        return std::vector<GValue>{grad::Mul(g, dout[0], inside)};
      })
      .Sample({.attrs = {{"a_min", "-0.5"}, {"a_max", "0.7"}},
               .inputs = {Shape{4, 5}},
               .ranges = {{-2, 2}},
               .expected = [](const Values& in) {
                 std::vector<double> out;
                 for (double v : in[0])
                   out.push_back(std::clamp(v, -0.5, 0.7));
                 return Values{out};
               }});

  Registry::Add("zeros_like")
      .Describe("An array of zeros with data's shape and dtype.")
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .Kernel("reference", FillKernel(0))
      .Gradient(NoGradient)
      .Sample({.inputs = {Shape{2, 3}},
               .expected = [](const Values&) { return Values{std::vector<double>(6, 0.0)}; }})
      .Sample({.inputs = {Shape{0, 3}}, .expected = [](const Values&) { return Values{{}}; }});

  Registry::Add("ones_like")
      .Describe("An array of ones with data's shape and dtype.")
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .Kernel("reference", FillKernel(1))
      .Gradient(NoGradient)
      .Sample({.inputs = {Shape{2, 3}},
               .expected = [](const Values&) { return Values{std::vector<double>(6, 1.0)}; }})
      .Sample({.inputs = {Shape{4}},
               .expected = [](const Values&) { return Values{std::vector<double>(4, 1.0)}; },
               .dtypes = {DType::kUint8}});

  Registry::Add("BlockGrad")
      .Alias("stop_gradient")
      .Describe("Passes data through; no gradient flows back.")
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      // No Gradient: gradients stop here (a zero gradient would contradict the registry-wide
      // check against central differences).
      .Sample(
          {.inputs = {Shape{3, 2}}, .expected = [](const Values& in) { return Values{in[0]}; }});

  Registry::Add("_copy")
      .Alias("identity")
      .Describe("Returns a copy of data.")
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .InPlace({{0, 0}})
      .Kernel("reference", CopyKernel)
      .Gradient([](GradBuilder&, const Attrs&, std::span<const GValue>, std::span<const GValue>,
                   std::span<const GValue> dout) { return std::vector<GValue>{dout[0]}; })
      .Sample({.inputs = {Shape{3, 2}}, .expected = [](const Values& in) { return Values{in[0]}; }})
      .Sample({.inputs = {Shape{2}},
               .ranges = {{-1000, 1000}},
               .expected = [](const Values& in) { return Values{Truncated(in[0])}; },
               .dtypes = {DType::kInt64}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
