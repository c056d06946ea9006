// Registry-wide second-order check: for every differentiable op sample, the first-order
// gradient computed by autograd is itself differentiated (create_graph) and compared with
// central differences of the first-order gradient. This proves that every op a gradient graph
// uses has a correct gradient of its own.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "op_case.h"
#include "operator/op_def.h"

namespace mixnet::op {
namespace {

/*!
 * Ops left out, each for a reason: random or stateful outputs (the function is not fixed),
 * piecewise-constant outputs (nothing to differentiate twice), losses whose gradient ignores
 * the head gradient, and gradients that are not yet differentiable themselves (listed in
 * docs/mxnet-differences.md under Autograd).
 */
bool Skipped(const OpDef& def, const OpSample& s) {
  // First order only for now: their gradients use fused backward kernels (convolution and
  // pooling weight/data gradients, the normalisation layers, LRN, PReLU, the k-entry scatter
  // of sort/topk/pick, softmax_cross_entropy's, CTCLoss's alpha-beta pass) that declare no
  // gradient of their own, and trigamma has none. Listed in docs/mxnet-differences.md.
  static const std::set<std::string> kFirstOrderOnly = {"Convolution", "Deconvolution",
                                                        "Pooling",     "UpSampling",
                                                        "LayerNorm",   "InstanceNorm",
                                                        "GroupNorm",   "L2Normalization",
                                                        "LRN",         "softmax_cross_entropy",
                                                        "sort",        "topk",
                                                        "pick",        "_digamma",
                                                        "CTCLoss"};
  if (kFirstOrderOnly.count(def.name)) return true;
  for (const auto& [k, v] : s.attrs) {
    if (def.name == "LeakyReLU" && k == "act_type" && v == "prelu") return true;
  }
  if (def.needs_random || def.loss_layer) return true;
  if (!def.mutate_inputs(def.ParseAttrs(s.attrs)).empty()) return true;
  for (DType t : s.dtypes) {
    if (t != DType::kFloat64) return true;  // integer inputs; float32 is too coarse here
  }
  return false;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const OpDef* def : Registry::List()) {
    if (!def->gradient) continue;
    for (size_t i = 0; i < def->samples.size(); ++i) {
      if (!Skipped(*def, def->samples[i])) cases.push_back({def, i});
    }
  }
  return cases;
}

std::vector<double> Uniform(size_t n, std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v)
    x = dist(rng);
  return v;
}

class OpSecondOrderTest : public ::testing::TestWithParam<Case> {};

TEST_P(OpSecondOrderTest, MatchesCentralDifferencesOfFirstOrder) {
  const Case& c = GetParam();
  const OpSample& s = c.op->samples[c.sample];
  std::seed_seq seed(c.op->name.begin(), c.op->name.end());
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> x;
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    const auto [lo, hi] = i < s.ranges.size() ? s.ranges[i] : std::pair{-1.0, 1.0};
    x.push_back(Uniform(static_cast<size_t>(s.inputs[i].Size()), rng, lo, hi));
  }
  // Fixed head gradients h_j and weights v_i for S(x) = sum_i <v_i, d<h, f(x)>/dx_i>.
  std::vector<NDArray> heads_grad;
  for (const NDArray& o : Invoke(
           c.op->name,
           [&] {
             std::vector<NDArray> in;
             for (size_t i = 0; i < x.size(); ++i) {
               NDArray a(s.inputs[i], Context::cpu(),
                         i < s.dtypes.size() ? s.dtypes[i] : DType::kFloat64);
               NDArray::FromVector(x[i], s.inputs[i]).CopyTo(a);
               in.push_back(a);
             }
             return in;
           }(),
           s.attrs)) {
    if (o.dtype() != DType::kFloat64 && o.dtype() != DType::kFloat32) {
      heads_grad.emplace_back();  // indices and such: ones (they take no gradient)
      continue;
    }
    NDArray h(o.shape(), Context::cpu(), o.dtype());
    NDArray::FromVector(Uniform(static_cast<size_t>(o.Size()), rng, -1, 1), o.shape()).CopyTo(h);
    heads_grad.push_back(h);
  }
  std::vector<NDArray> weights;
  for (size_t i = 0; i < x.size(); ++i) {
    NDArray w(s.inputs[i], Context::cpu(), i < s.dtypes.size() ? s.dtypes[i] : DType::kFloat64);
    NDArray::FromVector(Uniform(x[i].size(), rng, -1, 1), s.inputs[i]).CopyTo(w);
    weights.push_back(w);
  }

  // S and, with `differentiate`, dS/dx by create_graph.
  auto eval = [&](const std::vector<std::vector<double>>& values, bool differentiate,
                  std::vector<NDArray>* second) {
    std::vector<NDArray> in;
    for (size_t i = 0; i < values.size(); ++i) {
      NDArray a(s.inputs[i], Context::cpu(), i < s.dtypes.size() ? s.dtypes[i] : DType::kFloat64);
      NDArray::FromVector(values[i], s.inputs[i]).CopyTo(a);
      in.push_back(a);
      autograd::AttachGrad(&in.back());
    }
    NDArray total;
    {
      autograd::RecordScope record;
      const std::vector<NDArray> outs = Invoke(c.op->name, in, s.attrs);
      const std::vector<NDArray> first =
          autograd::Grad(outs, in, heads_grad, /*create_graph=*/differentiate);
      for (size_t i = 0; i < first.size(); ++i) {
        const NDArray term = Invoke("sum", {Invoke("elemwise_mul", {first[i], weights[i]})[0]})[0];
        total = total.is_none() ? term : Invoke("elemwise_add", {total, term})[0];
      }
    }
    if (differentiate) {
      if (autograd::HasGraph(total)) {
        autograd::Backward({total});
        for (const NDArray& a : in)
          second->push_back(autograd::GetGrad(a));
      } else {  // the first-order gradient does not depend on x: second order is zero
        for (const NDArray& a : in)
          second->push_back(NDArray::Zeros(a.shape(), DType::kFloat64));
      }
    }
    return total.ToVector<double>()[0];
  };

  std::vector<NDArray> analytic;
  eval(x, true, &analytic);
  constexpr double kEps = 1e-5;
  for (size_t i = 0; i < x.size(); ++i) {
    const std::vector<double> got = analytic[i].ToVector<double>();
    for (size_t k = 0; k < x[i].size(); ++k) {
      const double v = x[i][k];
      x[i][k] = v + kEps;
      const double up = eval(x, false, nullptr);
      x[i][k] = v - kEps;
      const double down = eval(x, false, nullptr);
      x[i][k] = v;
      const double numeric = (up - down) / (2 * kEps);
      EXPECT_NEAR(got[k], numeric, 1e-5 + 1e-4 * std::abs(numeric))
          << "d2 with respect to input " << i << " element " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpSecondOrderTest, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace mixnet::op
