#include "operator/nn/norm_util.h"

namespace mixnet::op::norm {

int CanonicalAxis(const Attrs& attrs, int axis, int ndim) {
  MX_CHECK(axis >= -ndim && axis < ndim, ValueError)
      << attrs.op->name << ": axis " << axis << " is out of range for data of " << ndim
      << " dimensions";
  return axis < 0 ? axis + ndim : axis;
}

void CheckNDim(const Attrs& attrs, const Shape& data, int min_ndim) {
  MX_CHECK(data.ndim() >= min_ndim, ValueError)
      << attrs.op->name << ": data has shape " << data << " but at least " << min_ndim
      << " dimensions are needed";
}

void InferAffineNorm(const Attrs& attrs, bool backward, const Shape& param, const Shape& stats,
                     std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape data = (*in)[0];
  AssignShape(attrs, InputName(attrs, 1), &(*in)[1], param);
  if (backward) {
    AssignShape(attrs, InputName(attrs, 2), &(*in)[2], data);
    for (size_t i = 3; i < in->size(); ++i)
      AssignShape(attrs, InputName(attrs, i), &(*in)[i], stats);
    AssignShape(attrs, "data_grad", &(*out)[0], data);
    AssignShape(attrs, "gamma_grad", &(*out)[1], param);
    AssignShape(attrs, "beta_grad", &(*out)[2], param);
    return;
  }
  AssignShape(attrs, InputName(attrs, 2), &(*in)[2], param);
  AssignShape(attrs, "output", &(*out)[0], data);
  for (size_t i = 1; i < out->size(); ++i)
    AssignShape(attrs, i == 1 ? "mean" : "std", &(*out)[i], stats);
}

GradientFn AffineNormGradient(const char* backward) {
  return [backward](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                    std::span<const GValue>, std::span<const GValue> dout) {
    std::vector<GValue> args{in[0], in[1], dout[0]};
    if (dout.size() > 1) {
      args.push_back(dout[1]);
      args.push_back(dout[2]);
    }
    auto d = g.Apply(backward, args, attrs.dict);
    return std::vector<GValue>{d[0], d[1], d[2]};
  };
}

std::vector<std::string> AffineNormBackwardInputs(bool output_mean_var) {
  if (output_mean_var) return {"data", "gamma", "ograd", "mean_grad", "std_grad"};
  return {"data", "gamma", "ograd"};
}

}  // namespace mixnet::op::norm
