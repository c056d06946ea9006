#include "operator/nn/norm_util.h"

#include "operator/nn/norm_rows.h"

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

SupportsFn AffineNormRowsSupports(LayoutFn layout) {
  return [layout](const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const TBlob>) -> std::string {
    if (in[0].dtype != DType::kFloat32) return "float32 only";
    const GroupLayout l = layout(attrs, in[0].shape);
    if (l.inner != 1 || l.stride != 1) return "groups are not contiguous rows";
    if (l.channel_div < l.count) return "gamma varies within a group";
    if (l.count < 16) return "groups shorter than 16 elements";
    return "";
  };
}

void AffineNormRowsForward(const GroupLayout& l, double eps, std::span<const TBlob> in,
                           std::span<const OpReq> req, std::span<const TBlob> out) {
  const float* x = in[0].data<float>();
  const float* gamma = in[1].data<float>();
  const float* beta = in[2].data<float>();
  ForChunks(l.groups, l.count, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t g = lo; g < hi; ++g) {
      const int64_t off = l.Offset(g), c = l.Channel(g, 0);
      double mean, var;
      RowMoments(x + off, l.count, &mean, &var);
      const double sd = std::sqrt(var + eps);
      const double a = gamma[c] / sd;
      if (req[0] != OpReq::kNull) {
        RowAffine(x + off, nullptr, out[0].data<float>() + off, l.count, static_cast<float>(a), 0,
                  static_cast<float>(beta[c] - mean * a), req[0] == OpReq::kAdd);
      }
      if (out.size() > 1) {
        Put(out[1].data<float>() + g, mean, req[1]);
        Put(out[2].data<float>() + g, sd, req[2]);
      }
    }
  });
}

// AffineNormBackward's formulas with gamma constant over a group, as dx = a * dy + b * x + k.
void AffineNormRowsBackward(const GroupLayout& l, double eps, std::span<const TBlob> in,
                            std::span<const OpReq> req, std::span<const TBlob> out) {
  const float* x = in[0].data<float>();
  const float* gamma = in[1].data<float>();
  const float* dy = in[2].data<float>();
  const float* dmean = in.size() > 3 ? in[3].data<float>() : nullptr;
  const float* dstd = in.size() > 3 ? in[4].data<float>() : nullptr;
  // Per group: the sums that dgamma and dbeta add up per channel, in group order afterwards.
  std::vector<double> group_dgamma(static_cast<size_t>(l.groups)),
      group_dbeta(static_cast<size_t>(l.groups));
  const double n = static_cast<double>(l.count);
  ForChunks(l.groups, l.count, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t g = lo; g < hi; ++g) {
      const int64_t off = l.Offset(g);
      const double gm = gamma[l.Channel(g, 0)];
      double mean, var, sum_dy = 0, sum_dy_dev = 0;
      RowMoments(x + off, l.count, &mean, &var);
      const double inv = 1.0 / std::sqrt(var + eps);
      RowGradSums(dy + off, x + off, l.count, static_cast<float>(mean), &sum_dy, &sum_dy_dev);
      const double s = sum_dy_dev * inv;  // sum of dy * xh
      group_dgamma[static_cast<size_t>(g)] = s;
      group_dbeta[static_cast<size_t>(g)] = sum_dy;
      const double dm = dmean ? dmean[g] : 0.0, ds = dstd ? dstd[g] : 0.0;
      const double a = gm * inv;
      const double b = inv * (ds / n - gm * inv * s / n);
      const double k = -gm * inv * sum_dy / n + dm / n - b * mean;
      if (req[0] != OpReq::kNull) {
        RowAffine(dy + off, x + off, out[0].data<float>() + off, l.count, static_cast<float>(a),
                  static_cast<float>(b), static_cast<float>(k), req[0] == OpReq::kAdd);
      }
    }
  });
  std::vector<double> dgamma(static_cast<size_t>(l.channels)), dbeta(dgamma.size());
  for (int64_t g = 0; g < l.groups; ++g) {
    const size_t c = static_cast<size_t>(l.Channel(g, 0));
    dgamma[c] += group_dgamma[static_cast<size_t>(g)];
    dbeta[c] += group_dbeta[static_cast<size_t>(g)];
  }
  for (size_t c = 0; c < dgamma.size(); ++c) {
    Put(out[1].data<float>() + c, dgamma[c], req[1]);
    Put(out[2].data<float>() + c, dbeta[c], req[2]);
  }
}

}  // namespace mixnet::op::norm
