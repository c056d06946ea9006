// Ops without inputs that fill a new array: _zeros, _ones, _full, _arange, _eye. Their context
// comes from the "ctx" attribute (see Invoke).
#include <cmath>
#include <optional>

#include "operator/tensor/init_op.h"

namespace mixnet::op {
namespace {

struct InitParam {
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<InitParam>& d) {
    d.Field("shape", &InitParam::shape).Default({}).Doc("The shape of the output.");
    d.Field("ctx", &InitParam::ctx)
        .Default("")
        .Doc("Context of output, in format [cpu|gpu|cpu_pinned](n).");
    d.Field("dtype", &InitParam::dtype)
        .Enum(DTypeFlagNames())
        .Default("float32")
        .Doc("Target data type.");
  }
};

struct FullParam {
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  double value = 0;
  static void Declare(ParamDecl<FullParam>& d) {
    d.Field("shape", &FullParam::shape).Default({}).Doc("The shape of the output.");
    d.Field("ctx", &FullParam::ctx)
        .Default("")
        .Doc("Context of output, in format [cpu|gpu|cpu_pinned](n).");
    d.Field("dtype", &FullParam::dtype)
        .Enum(DTypeFlagNames())
        .Default("float32")
        .Doc("Target data type.");
    d.Field("value", &FullParam::value).Doc("Value with which to fill newly created tensor.");
  }
};

struct ArangeParam {
  double start = 0;
  std::optional<double> stop;
  double step = 1;
  int repeat = 1;
  bool infer_range = false;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<ArangeParam>& d) {
    d.Field("start", &ArangeParam::start).Doc("Start of interval.");
    d.Field("stop", &ArangeParam::stop)
        .Default(std::nullopt)
        .Doc("End of interval; None means the interval is [0, start).");
    d.Field("step", &ArangeParam::step).Default(1.0).Doc("Spacing between values.");
    d.Field("repeat", &ArangeParam::repeat)
        .Default(1)
        .Lower(1)
        .Doc("The repeating time of all elements.");
    d.Field("infer_range", &ArangeParam::infer_range)
        .Default(false)
        .Doc("Deprecated in MXNet 1.x; accepted and ignored.");
    d.Field("ctx", &ArangeParam::ctx)
        .Default("")
        .Doc("Context of output, in format [cpu|gpu|cpu_pinned](n).");
    d.Field("dtype", &ArangeParam::dtype)
        .Enum(DTypeFlagNames())
        .Default("float32")
        .Doc("Target data type.");
  }
};

struct EyeParam {
  int64_t N = 0;
  int64_t M = 0;
  int64_t k = 0;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<EyeParam>& d) {
    d.Field("N", &EyeParam::N).Lower(0).Doc("Number of rows in the output.");
    d.Field("M", &EyeParam::M)
        .Default(0)
        .Lower(0)
        .Doc("Number of columns in the output. If 0, defaults to N.");
    d.Field("k", &EyeParam::k)
        .Default(0)
        .Doc("Index of the diagonal: 0 the main one, > 0 above it, < 0 below it.");
    d.Field("ctx", &EyeParam::ctx)
        .Default("")
        .Doc("Context of output, in format [cpu|gpu|cpu_pinned](n).");
    d.Field("dtype", &EyeParam::dtype)
        .Enum(DTypeFlagNames())
        .Default("float32")
        .Doc("Target data type.");
  }
};

template <typename P>
void ParamDType(const Attrs& attrs, std::vector<int>*, std::vector<int>* out) {
  AssignType(attrs, "output", &(*out)[0], attrs.param<P>().dtype);
}

/*! \brief Fills `out` with f(i) for every flat index i. */
template <typename F>
void FillIndexed(const TBlob& out, F f) {
  DispatchDType(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = out.data<T>();
    const int64_t n = out.Size();
    for (int64_t i = 0; i < n; ++i)
      y[i] = FromDouble<T>(f(i));
  });
}

/*! \brief [0, start) when stop is None, as Python's range. */
std::pair<double, double> ArangeBounds(const ArangeParam& p) {
  return p.stop ? std::pair{p.start, *p.stop} : std::pair{0.0, p.start};
}

int64_t ArangeLength(const Attrs& attrs) {
  const auto& p = attrs.param<ArangeParam>();
  MX_CHECK(p.step != 0, ValueError) << attrs.op->name << ": argument 'step' must not be 0";
  const auto [start, stop] = ArangeBounds(p);
  MX_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(p.step), ValueError)
      << attrs.op->name << ": arguments 'start', 'stop' and 'step' must be finite";
  return static_cast<int64_t>(std::max(0.0, std::ceil((stop - start) / p.step))) * p.repeat;
}

/*! \brief Registers an op filling every element with one value from its params. */
template <typename P, typename ValueFn>
OpDef& RegisterFill(const char* name, ValueFn value, const char* doc) {
  return Registry::Add(name)
      .Describe(doc)
      .Param<P>()
      .InferShape([](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        AssignParamShape(attrs, attrs.param<P>().shape, out);
      })
      .InferType(ParamDType<P>)
      .Kernel("reference", [value](const OpContext&, const Attrs& attrs, std::span<const TBlob>,
                                   std::span<const OpReq>, std::span<const TBlob> out) {
        const double v = value(attrs.param<P>());
        FillIndexed(out[0], [v](int64_t) { return v; });
      });
}

std::function<std::vector<std::vector<double>>(const std::vector<std::vector<double>>&)> Constant(
    size_t n, double v) {
  return [n, v](const std::vector<std::vector<double>>&) {
    return std::vector<std::vector<double>>{std::vector<double>(n, v)};
  };
}

const bool kRegistered = [] {
  RegisterFill<InitParam>(
      "_zeros", [](const InitParam&) { return 0.0; }, "Returns a new array filled with zeros.")
      .Alias("zeros")
      .Sample(OpSample{.attrs = {{"shape", "(2, 3)"}}, .expected = Constant(6, 0.0)})
      .Sample(OpSample{.attrs = {{"shape", "(4,)"}, {"dtype", "int64"}, {"ctx", "cpu(0)"}},
                       .expected = Constant(4, 0.0)});
  RegisterFill<InitParam>(
      "_ones", [](const InitParam&) { return 1.0; }, "Returns a new array filled with ones.")
      .Sample(OpSample{.attrs = {{"shape", "(3, 2)"}}, .expected = Constant(6, 1.0)})
      .Sample(OpSample{.attrs = {{"shape", "(5,)"}, {"dtype", "float16"}},
                       .expected = Constant(5, 1.0)});
  RegisterFill<FullParam>(
      "_full", [](const FullParam& p) { return p.value; },
      "Returns a new array of the given shape filled with `value`.")
      .Sample(
          OpSample{.attrs = {{"shape", "(2, 2)"}, {"value", "2.5"}}, .expected = Constant(4, 2.5)})
      .Sample(OpSample{.attrs = {{"shape", "(3,)"}, {"value", "-7"}, {"dtype", "int32"}},
                       .expected = Constant(3, -7.0)});

  Registry::Add("_arange")
      .Describe(
          "Evenly spaced values start, start + step, ... below stop, each repeated `repeat` "
          "times.")
      .Param<ArangeParam>()
      .InferShape([](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        AssignShape(attrs, "output", &(*out)[0], Shape{ArangeLength(attrs)});
      })
      .InferType(ParamDType<ArangeParam>)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob>,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                const auto& p = attrs.param<ArangeParam>();
                const double start = ArangeBounds(p).first;
                FillIndexed(out[0], [&](int64_t i) {
                  return start + static_cast<double>(i / p.repeat) * p.step;
                });
              })
      .Sample(OpSample{
          .attrs = {{"start", "1"}, {"stop", "4"}, {"step", "0.75"}, {"repeat", "2"}},
          .expected =
              [](const std::vector<std::vector<double>>&) {
                return std::vector<std::vector<double>>{{1, 1, 1.75, 1.75, 2.5, 2.5, 3.25, 3.25}};
              }})
      .Sample(OpSample{.attrs = {{"start", "5"}, {"dtype", "int32"}},
                       .expected =
                           [](const std::vector<std::vector<double>>&) {
                             return std::vector<std::vector<double>>{{0, 1, 2, 3, 4}};
                           }})
      .Sample(OpSample{.attrs = {{"start", "3"}, {"stop", "-1"}, {"step", "-1.5"}},
                       .expected = [](const std::vector<std::vector<double>>&) {
                         return std::vector<std::vector<double>>{{3, 1.5, 0}};
                       }});

  Registry::Add("_eye")
      .Describe("A 2-D array with ones on the k-th diagonal and zeros elsewhere.")
      .Param<EyeParam>()
      .InferShape([](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        const auto& p = attrs.param<EyeParam>();
        AssignShape(attrs, "output", &(*out)[0], Shape{p.N, p.M > 0 ? p.M : p.N});
      })
      .InferType(ParamDType<EyeParam>)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob>,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                const int64_t cols = out[0].shape[1];
                const int64_t k = attrs.param<EyeParam>().k;
                FillIndexed(out[0],
                            [&](int64_t i) { return i % cols - i / cols == k ? 1.0 : 0.0; });
              })
      .Sample(OpSample{
          .attrs = {{"N", "3"}, {"M", "4"}, {"k", "1"}},
          .expected =
              [](const std::vector<std::vector<double>>&) {
                return std::vector<std::vector<double>>{{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}};
              }})
      .Sample(OpSample{.attrs = {{"N", "3"}, {"k", "-1"}, {"dtype", "int32"}},
                       .expected = [](const std::vector<std::vector<double>>&) {
                         return std::vector<std::vector<double>>{{0, 0, 0, 1, 0, 0, 0, 1, 0}};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
