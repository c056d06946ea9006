// add_n: the element-wise sum of any number of arrays of equal shape.
#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

struct AddNParam {
  int num_args = 1;
  static void Declare(ParamDecl<AddNParam>& d) {
    d.Field("num_args", &AddNParam::num_args).Lower(1).Doc("Number of inputs to be summed.");
  }
};

void AddNKernel(const OpContext&, const Attrs&, std::span<const TBlob> in,
                std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull) return;
  DispatchFloat(out[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    T* y = out[0].data<T>();
    const bool add = req[0] == OpReq::kAdd;
    ParallelFor(out[0].Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      // Input 0 may share memory with the output (in place), so it is read before y is written.
      const T* x0 = in[0].data<T>();
      for (int64_t i = lo; i < hi; ++i) {
        C s = C(x0[i]);
        for (size_t k = 1; k < in.size(); ++k)
          s += C(in[k].data<T>()[i]);
        y[i] = add ? T(C(y[i]) + s) : T(s);
      }
    });
  });
}

const bool kRegistered = [] {
  Registry::Add("add_n")
      .Alias("ElementWiseSum")
      .Describe("Adds all input arrays element-wise (all of one shape).")
      .Param<AddNParam>()
      .Inputs([](const Attrs& attrs) {
        std::vector<std::string> names;
        for (int i = 0; i < attrs.param<AddNParam>().num_args; ++i)
          names.push_back("arg" + std::to_string(i));
        return names;
      })
      .Signature({"*args"})
      .InferShape(SameShape)
      .InferType(FloatingSameType)
      .InPlace({{0, 0}})
      .Kernel("reference", AddNKernel)
      .Gradient(
          [](GradBuilder&, const Attrs&, std::span<const GValue> in, std::span<const GValue>,
             std::span<const GValue> dout) { return std::vector<GValue>(in.size(), dout[0]); })
      .Sample(OpSample{.attrs = {{"num_args", "3"}},
                       .inputs = {Shape{4, 5}, Shape{4, 5}, Shape{4, 5}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out(in[0].size());
                             for (size_t i = 0; i < out.size(); ++i)
                               out[i] = in[0][i] + in[1][i] + in[2][i];
                             return std::vector<std::vector<double>>{out};
                           }})
      .Sample(OpSample{.attrs = {{"num_args", "1"}},
                       .inputs = {Shape{3}},
                       .expected = [](const std::vector<std::vector<double>>& in) {
                         return std::vector<std::vector<double>>{in[0]};
                       }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
