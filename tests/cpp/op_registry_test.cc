// The registry-wide operator test: every registered op supplies samples (a coverage gate fails
// otherwise); each sample is checked forward against independently computed values in float32
// and float64, every kernel against the reference kernel, and every differentiable op's
// gradient (an op graph run eagerly) against central differences in float64 — of the output
// weighted by random head gradients, or, for loss layers, of the loss they imply.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "op_case.h"
#include "operator/op_def.h"

namespace mixnet::op {
namespace {

std::vector<Case> AllCases(bool differentiable_only) {
  std::vector<Case> cases;
  for (const OpDef* def : Registry::List()) {
    if (differentiable_only && !def->gradient) continue;
    for (size_t i = 0; i < def->samples.size(); ++i)
      cases.push_back({def, i});
  }
  return cases;
}

/*! \brief Runs the sample with a fixed seed, so random ops give comparable results. */
std::vector<NDArray> RunSeeded(const Case& c, std::span<const NDArray> inputs,
                               std::string_view kernel = {}) {
  SeedRandom(1234);
  return Invoke(c.op->name, inputs, c.op->samples[c.sample].attrs, {}, {.kernel = kernel});
}

class OpSampleTest : public ::testing::TestWithParam<Case> {};
class OpGradientTest : public ::testing::TestWithParam<Case> {};

TEST_P(OpSampleTest, ForwardMatchesExpectedAndReference) {
  const Case& c = GetParam();
  const OpSample& s = c.op->samples[c.sample];
  const auto values = SampleInputs(c);
  for (DType floating : {DType::kFloat64, DType::kFloat32}) {
    SCOPED_TRACE(DTypeName(floating));
    const auto inputs = MakeInputs(c, values, floating);
    const auto outputs = RunSeeded(c, inputs);
    const bool f64 = floating == DType::kFloat64;
    if (s.expected) {
      const auto want = s.expected(values);
      ASSERT_EQ(want.size(), outputs.size());
      for (size_t i = 0; i < outputs.size(); ++i) {
        ExpectClose(AsDoubles(outputs[i]), want[i], f64 ? 1e-12 : 2e-6, f64 ? 1e-14 : 1e-6,
                    "output " + std::to_string(i) + " vs expected");
      }
    }
    // Every kernel that takes the case agrees with the reference kernel (the last one).
    const std::string& reference = c.op->kernels.back().name;
    const auto ref = RunSeeded(c, inputs, reference);
    for (const KernelDef& k : c.op->kernels) {
      if (k.name == reference || k.device != DeviceType::kCPU) continue;
      std::vector<TBlob> in_meta, out_meta;
      for (const auto& a : inputs)
        in_meta.push_back(TBlob{nullptr, a.shape(), a.dtype()});
      for (const auto& a : ref)
        out_meta.push_back(TBlob{nullptr, a.shape(), a.dtype()});
      const Attrs attrs = c.op->ParseAttrs(s.attrs);
      if (k.supports && !k.supports(attrs, in_meta, out_meta).empty()) continue;
      const auto got = RunSeeded(c, inputs, k.name);
      for (size_t i = 0; i < got.size(); ++i) {
        ExpectClose(AsDoubles(got[i]), AsDoubles(ref[i]), f64 ? 1e-12 : 1e-5, 1e-6,
                    "kernel " + k.name + " output " + std::to_string(i));
      }
    }
  }
}

TEST_P(OpGradientTest, MatchesCentralDifferences) {
  const Case& c = GetParam();
  const OpSample& s = c.op->samples[c.sample];
  auto values = SampleInputs(c);
  const auto inputs = MakeInputs(c, values, DType::kFloat64);
  const auto outputs = Invoke(c.op->name, inputs, s.attrs);

  // Loss = sum over outputs of <head_j, y_j> with random heads.
  const auto heads = RandomHeads(outputs);
  // A loss layer's gradient differentiates its implied loss, whatever the heads are.
  ASSERT_EQ(c.op->loss_layer, static_cast<bool>(s.loss))
      << "loss layers, and only they, give OpSample::loss";
  auto loss = [&](const std::vector<std::vector<double>>& in) {
    if (s.loss) return s.loss(in);
    const auto outs = Invoke(c.op->name, MakeInputs(c, in, DType::kFloat64), s.attrs);
    double l = 0;
    for (size_t j = 0; j < outs.size(); ++j) {
      const auto y = AsDoubles(outs[j]);
      for (size_t k = 0; k < y.size(); ++k)
        l += heads[j][k] * y[k];
    }
    return l;
  };

  std::vector<NDArray> head_arrays;
  for (size_t j = 0; j < outputs.size(); ++j)
    head_arrays.push_back(NDArray::FromVector(heads[j], outputs[j].shape()));
  const Attrs attrs = c.op->ParseAttrs(s.attrs);
  const auto grads = EagerGradient(*c.op, attrs, inputs, outputs, head_arrays);
  ASSERT_EQ(grads.size(), inputs.size()) << "one gradient per input";

  constexpr double kEps = 1e-6;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (InputDType(s, i, DType::kFloat64) != DType::kFloat64) continue;  // integer inputs
    // A loss layer's labels get no gradient by design, though its implied loss depends on them.
    if (c.op->loss_layer && grads[i].is_none()) continue;
    std::vector<double> analytic(values[i].size(), 0.0);
    if (!grads[i].is_none()) {
      ASSERT_EQ(grads[i].shape(), inputs[i].shape()) << "gradient of input " << i;
      analytic = AsDoubles(grads[i]);
    }
    std::vector<double> numeric(values[i].size());
    for (size_t k = 0; k < values[i].size(); ++k) {
      const double x = values[i][k];
      values[i][k] = x + kEps;
      const double up = loss(values);
      values[i][k] = x - kEps;
      const double down = loss(values);
      values[i][k] = x;
      numeric[k] = (up - down) / (2 * kEps);
    }
    ExpectClose(analytic, numeric, 1e-5, 1e-6, "gradient of " + InputName(attrs, i));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpSampleTest, ::testing::ValuesIn(AllCases(false)), CaseName);
INSTANTIATE_TEST_SUITE_P(AllOps, OpGradientTest, ::testing::ValuesIn(AllCases(true)), CaseName);

TEST(OpRegistry, EveryOpHasSamplesAndAReferenceKernel) {
  std::vector<std::string> missing;
  for (const OpDef* def : Registry::List()) {
    if (def->samples.empty()) missing.push_back(def->name + " (no samples)");
    if (def->kernels.empty()) missing.push_back(def->name + " (no kernel)");
  }
  EXPECT_TRUE(missing.empty()) << "coverage gate: " << ::testing::PrintToString(missing);
  EXPECT_GT(Registry::List().size(), 50u);
}

}  // namespace
}  // namespace mixnet::op
