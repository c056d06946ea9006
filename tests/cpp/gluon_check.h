// Eager vs hybridized consistency for Gluon blocks: the check every layer and network runs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/gluon/block.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "test_util.h"

namespace mixnet::test {

struct HybridCheckOptions {
  double rtol = 1e-5, atol = 1e-6;
  bool train = true;
  bool check_grads = true;
  uint64_t seed = 42;  // random ops draw the same numbers in each run
};

namespace detail {

inline std::vector<double> AsDoubles(const NDArray& a) {
  return op::Invoke("Cast", {autograd::Detach(a)}, {{"dtype", "float64"}})[0].ToVector<double>();
}

inline bool IsFloat(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16;
}

/*! \brief Everything one recorded forward + backward produced. */
struct RunResult {
  std::vector<std::vector<double>> outputs, param_grads, input_grads, params_after;
};

inline void ExpectClose(const std::vector<double>& got, const std::vector<double>& want,
                        const HybridCheckOptions& o, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (std::abs(got[i] - want[i]) > o.atol + o.rtol * std::abs(want[i])) {
      ADD_FAILURE() << what << ": element " << i << " hybridized " << got[i] << " vs eager "
                    << want[i];
      ++bad;
    }
  }
}

}  // namespace detail

/*!
 * \brief Runs `block` (initialised) eagerly and hybridized under autograd recording with the same
 * parameters, the same random seed and a fixed random head gradient: outputs, parameter
 * gradients, input gradients and the parameters after the call (BatchNorm's running statistics)
 * must agree. Both the tracing call
 * and the cached replay are checked. Leaves the block un-hybridized with its parameters restored.
 */
inline void ExpectHybridMatchesEager(gluon::HybridBlock& block, const std::vector<NDArray>& inputs,
                                     HybridCheckOptions o = {}) {
  using detail::AsDoubles;
  block.Hybridize(false);
  {
    autograd::PauseScope pause(false);
    block(inputs);  // finishes deferred initialisation
  }
  const gluon::ParameterDict params = block.CollectParams();
  std::vector<NDArray> saved;
  for (const auto& [n, p] : params)
    saved.push_back(autograd::Detach(p->data()).Copy(Context::cpu()));
  auto restore = [&] {
    size_t i = 0;
    for (const auto& [n, p] : params)
      p->SetData(saved[i++]);
  };
  std::vector<NDArray> heads;
  auto run = [&]() {
    detail::RunResult r;
    std::vector<NDArray> xs;
    for (const NDArray& x : inputs) {
      NDArray c = autograd::Detach(x).Copy(x.ctx());
      if (o.check_grads && detail::IsFloat(c.dtype())) autograd::AttachGrad(&c);
      xs.push_back(c);
    }
    for (const auto& [n, p] : params)
      if (p->grad_req() != autograd::GradReq::kNull) p->ZeroGrad();
    std::vector<NDArray> outs;
    {
      autograd::RecordScope record(o.train);
      op::SeedRandom(o.seed);  // the same Dropout masks in every run
      outs = block(xs);
    }
    if (heads.empty()) {
      for (size_t i = 0; i < outs.size(); ++i) {
        const auto v = testing_util::Random(static_cast<size_t>(outs[i].Size()), 100 + i);
        heads.push_back(op::Invoke("Cast", {NDArray::FromVector(v, outs[i].shape())},
                                   {{"dtype", DTypeName(outs[i].dtype())}})[0]);
      }
    }
    for (const NDArray& y : outs)
      r.outputs.push_back(AsDoubles(y));
    if (o.check_grads) {
      std::vector<NDArray> float_outs, float_heads;
      for (size_t i = 0; i < outs.size(); ++i) {
        if (!detail::IsFloat(outs[i].dtype()) || !autograd::HasGraph(outs[i])) continue;
        float_outs.push_back(outs[i]);
        float_heads.push_back(heads[i]);
      }
      if (!float_outs.empty()) autograd::Backward(float_outs, float_heads, false, o.train);
      for (const auto& [n, p] : params)
        if (p->grad_req() != autograd::GradReq::kNull)
          r.param_grads.push_back(AsDoubles(p->grad()));
      for (const NDArray& x : xs)
        if (detail::IsFloat(x.dtype())) r.input_grads.push_back(AsDoubles(autograd::GetGrad(x)));
    }
    for (const auto& [n, p] : params)
      r.params_after.push_back(AsDoubles(p->data()));
    return r;
  };
  const detail::RunResult eager = run();
  auto compare = [&](const detail::RunResult& h, const std::string& which) {
    ASSERT_EQ(h.outputs.size(), eager.outputs.size()) << which;
    for (size_t i = 0; i < h.outputs.size(); ++i)
      detail::ExpectClose(h.outputs[i], eager.outputs[i], o,
                          which + " output " + std::to_string(i));
    size_t g = 0, k = 0;
    for (const auto& [n, p] : params) {
      if (o.check_grads && p->grad_req() != autograd::GradReq::kNull) {
        detail::ExpectClose(h.param_grads[g], eager.param_grads[g], o, which + " gradient of " + n);
        ++g;
      }
      detail::ExpectClose(h.params_after[k], eager.params_after[k], o, which + " " + n + " after");
      ++k;
    }
    for (size_t i = 0; i < h.input_grads.size(); ++i)
      detail::ExpectClose(h.input_grads[i], eager.input_grads[i], o,
                          which + " gradient of input " + std::to_string(i));
  };
  restore();
  block.Hybridize(true);
  const detail::RunResult traced = run();  // the call that traces
  compare(traced, "traced");
  restore();
  const detail::RunResult cached = run();  // the replay of the cached graph
  compare(cached, "cached");
  block.Hybridize(false);
  restore();
}

}  // namespace mixnet::test
