// One registered op's sample, as a gtest parameter (the registry-wide suites).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "operator/op_def.h"

namespace mixnet::op {

struct Case {
  const OpDef* op;
  size_t sample;
};

inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.op->name << " sample " << c.sample;
}

/*! \brief "opname_sample" with non-alphanumerics as '_', for test names. */
inline std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.op->name + "_" + std::to_string(info.param.sample);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// ---- a sample's inputs, shared by the registry-wide suites ----

/*! \brief Random inputs of a sample, as doubles, from its ranges; seeded by op and sample. */
inline std::vector<std::vector<double>> SampleInputs(const Case& c) {
  const OpSample& s = c.op->samples[c.sample];
  std::seed_seq seed(c.op->name.begin(), c.op->name.end());
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> values;
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    const auto [lo, hi] = i < s.ranges.size() ? s.ranges[i] : std::pair{-1.0, 1.0};
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> v(static_cast<size_t>(s.inputs[i].Size()));
    for (double& x : v)
      x = dist(rng);
    values.push_back(std::move(v));
  }
  return values;
}

inline DType InputDType(const OpSample& s, size_t i, DType floating) {
  return i < s.dtypes.size() ? s.dtypes[i] : floating;
}

inline std::vector<NDArray> MakeInputs(const Case& c,
                                       const std::vector<std::vector<double>>& values,
                                       DType floating) {
  const OpSample& s = c.op->samples[c.sample];
  std::vector<NDArray> arrays;
  for (size_t i = 0; i < values.size(); ++i) {
    NDArray d = NDArray::FromVector(values[i], s.inputs[i]);
    NDArray a(s.inputs[i], Context::cpu(), InputDType(s, i, floating));
    d.CopyTo(a);
    arrays.push_back(a);
  }
  return arrays;
}

inline std::vector<double> AsDoubles(const NDArray& a) {
  NDArray d(a.shape(), a.ctx(), DType::kFloat64);
  a.CopyTo(d);
  return d.ToVector<double>();
}

inline void ExpectClose(const std::vector<double>& got, const std::vector<double>& want,
                        double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = atol + rtol * std::abs(want[i]);
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " element " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], tol) << what << " element " << i;
    }
  }
}

/*! \brief Random head gradients in [-1, 1) for each output, with a fixed seed. */
inline std::vector<std::vector<double>> RandomHeads(const std::vector<NDArray>& outputs) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<std::vector<double>> heads;
  for (const auto& o : outputs) {
    std::vector<double> h(static_cast<size_t>(o.Size()));
    for (double& x : h)
      x = dist(rng);
    heads.push_back(std::move(h));
  }
  return heads;
}

/*! \brief The op's gradient graph run eagerly; a none array where an input gets no gradient. */
inline std::vector<NDArray> EagerGradient(const OpDef& op, const Attrs& attrs,
                                          const std::vector<NDArray>& in,
                                          const std::vector<NDArray>& out,
                                          const std::vector<NDArray>& heads) {
  EagerGradBuilder g;
  std::vector<GValue> in_v, out_v, head_v;
  for (const auto& a : in)
    in_v.push_back(g.Add(a));
  for (const auto& a : out)
    out_v.push_back(g.Add(a));
  for (const auto& a : heads)
    head_v.push_back(g.Add(a));
  std::vector<NDArray> grads;
  for (GValue v : op.gradient(g, attrs, in_v, out_v, head_v))
    grads.push_back(v.valid() ? g.Get(v) : NDArray());
  return grads;
}

}  // namespace mixnet::op
