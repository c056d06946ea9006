// The registry-wide executor check: every registered op's samples run as a one-node symbol
// through a bound executor (graph passes, memory planning, fused elementwise groups in the
// gradient graph, bulk segments) must give exactly the imperative results: the outputs, the
// auxiliary states the op writes, and the gradients of every floating input for random head
// gradients (imperatively: the op's gradient graph run eagerly). The same holds for the
// hybridized path: the op call traced (deferred compute) and replayed by a CachedOp under
// autograd recording.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/executor/cached_op.h"
#include "mixnet/executor/executor.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "mixnet/symbol/symbol.h"
#include "mixnet/symbol/trace.h"
#include "op_case.h"
#include "operator/op_def.h"

namespace mixnet::op {
namespace {

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const OpDef* def : Registry::List()) {
    for (size_t i = 0; i < def->samples.size(); ++i)
      cases.push_back({def, i});
  }
  return cases;
}

std::vector<NDArray> Copies(const std::vector<NDArray>& arrays) {
  std::vector<NDArray> out;
  for (const NDArray& a : arrays) {
    NDArray c(a.shape(), a.ctx(), a.dtype());
    a.CopyTo(c);
    out.push_back(c);
  }
  return out;
}

class OpExecutorTest : public ::testing::TestWithParam<Case> {};

TEST_P(OpExecutorTest, MatchesImperative) {
  const Case& c = GetParam();
  const OpSample& s = c.op->samples[c.sample];
  const Attrs attrs = c.op->ParseAttrs(s.attrs);
  const std::vector<int> mutated = c.op->mutate_inputs(attrs);
  auto is_mutated = [&](size_t i) {
    return std::find(mutated.begin(), mutated.end(), static_cast<int>(i)) != mutated.end();
  };
  const auto inputs = MakeInputs(c, SampleInputs(c), DType::kFloat64);

  // One node applying the op to variables x0, x1, ...
  std::vector<sym::Symbol> vars;
  for (size_t i = 0; i < inputs.size(); ++i)
    vars.push_back(sym::Symbol::Variable("x" + std::to_string(i)));
  const sym::Symbol net = sym::Symbol::Create(c.op->name, vars, s.attrs, "node");
  std::map<std::string, size_t> input_of;
  for (size_t i = 0; i < inputs.size(); ++i)
    input_of["x" + std::to_string(i)] = i;

  const bool differentiable = static_cast<bool>(c.op->gradient);
  for (const bool train : {false, true}) {
    SCOPED_TRACE(train ? "training" : "inference");
    // Imperative: the op on fresh copies (it may write its auxiliary inputs).
    const auto imp_in = Copies(inputs);
    std::vector<NDArray> imp_out;
    {
      autograd::TrainingScope mode(train);
      SeedRandom(1234);
      imp_out = Invoke(c.op->name, imp_in, s.attrs);
    }

    // The executor, bound to other fresh copies.
    const auto exe_in = Copies(inputs);
    std::vector<NDArray> args, grads, aux;
    std::vector<exec::GradReq> reqs;
    std::vector<size_t> grad_input;  // input index of each argument
    for (const std::string& name : net.ListArguments()) {
      const size_t i = input_of.at(name);
      args.push_back(exe_in[i]);
      const bool wants = train && differentiable &&
                         InputDType(s, i, DType::kFloat64) == DType::kFloat64 && !is_mutated(i);
      reqs.push_back(wants ? exec::GradReq::kWrite : exec::GradReq::kNull);
      grads.push_back(wants ? NDArray::Zeros(inputs[i].shape(), DType::kFloat64) : NDArray());
      grad_input.push_back(i);
    }
    for (const std::string& name : net.ListAuxiliaryStates())
      aux.push_back(exe_in[input_of.at(name)]);
    auto exe = exec::Executor::Bind(net, Context::cpu(), args, grads, reqs, aux);
    SeedRandom(1234);
    exe->Forward(train);
    // A symbol shows the visible outputs (Dropout's mask is hidden).
    const size_t visible =
        c.op->visible_outputs > 0 ? static_cast<size_t>(c.op->visible_outputs) : imp_out.size();
    ASSERT_EQ(exe->outputs().size(), visible);
    for (size_t j = 0; j < visible; ++j) {
      ExpectClose(AsDoubles(exe->outputs()[j]), AsDoubles(imp_out[j]), 1e-12, 1e-14,
                  "output " + std::to_string(j));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (is_mutated(i)) {
        ExpectClose(AsDoubles(exe_in[i]), AsDoubles(imp_in[i]), 1e-12, 1e-14,
                    "written input " + InputName(attrs, i));
      }
    }
    if (std::all_of(reqs.begin(), reqs.end(),
                    [](exec::GradReq r) { return r == exec::GradReq::kNull; })) {
      continue;  // inference, or no floating input to differentiate
    }

    // Gradients for random head gradients, against the gradient graph run eagerly.
    // Hidden outputs get no gradient: zeros in the eager reference.
    std::vector<NDArray> heads;
    const auto head_values = RandomHeads(imp_out);
    for (size_t j = 0; j < imp_out.size(); ++j) {
      NDArray head(imp_out[j].shape(), imp_out[j].ctx(), imp_out[j].dtype());
      if (j < visible) {
        NDArray::FromVector(head_values[j], imp_out[j].shape()).CopyTo(head);
      } else {
        head.Fill(0);
      }
      heads.push_back(head);
    }
    std::vector<NDArray> want;
    {
      autograd::TrainingScope mode(true);
      want = EagerGradient(*c.op, attrs, imp_in, imp_out, heads);
    }
    exe->Backward(std::span<const NDArray>(heads.data(), visible));
    for (size_t a = 0; a < args.size(); ++a) {
      if (reqs[a] == exec::GradReq::kNull) continue;
      const size_t i = grad_input[a];
      const auto got = AsDoubles(exe->grad_arrays()[a]);
      const auto expected =
          want[i].is_none() ? std::vector<double>(got.size(), 0.0) : AsDoubles(want[i]);
      ExpectClose(got, expected, 1e-12, 1e-14, "gradient of " + InputName(attrs, i));
    }
  }
}

TEST_P(OpExecutorTest, TracedMatchesImperative) {
  const Case& c = GetParam();
  const OpSample& s = c.op->samples[c.sample];
  const Attrs attrs = c.op->ParseAttrs(s.attrs);
  const std::vector<int> mutated = c.op->mutate_inputs(attrs);
  const auto inputs = MakeInputs(c, SampleInputs(c), DType::kFloat64);
  const size_t visible = c.op->visible_outputs > 0
                             ? static_cast<size_t>(c.op->visible_outputs)
                             : Invoke(c.op->name, Copies(inputs), s.attrs).size();
  // Trace the call: variables x0, x1, ... become the graph's inputs.
  sym::Symbol graph;
  {
    sym::TraceScope trace;
    std::vector<NDArray> vars;
    const auto copies = Copies(inputs);
    for (size_t i = 0; i < inputs.size(); ++i)
      vars.push_back(trace.Variable(copies[i], "x" + std::to_string(i)));
    SeedRandom(1234);
    const auto out = Invoke(c.op->name, vars, s.attrs);
    graph = trace.GetSymbol(std::span<const NDArray>(out.data(), visible));
  }
  exec::CachedOp cached(graph);
  std::vector<size_t> order;  // graph input -> sample input
  for (const std::string& name : cached.input_names())
    order.push_back(std::stoul(name.substr(1)));

  const bool differentiable = static_cast<bool>(c.op->gradient);
  for (const bool train : {false, true}) {
    SCOPED_TRACE(train ? "training" : "inference");
    // Eager and replayed, each recorded on fresh copies with the same head gradients.
    auto run = [&](bool replay) {
      auto in = Copies(inputs);
      for (size_t i = 0; i < in.size(); ++i) {
        const bool is_mut =
            std::find(mutated.begin(), mutated.end(), static_cast<int>(i)) != mutated.end();
        if (train && differentiable && in[i].dtype() == DType::kFloat64 && !is_mut)
          autograd::AttachGrad(&in[i]);
      }
      std::vector<NDArray> out;
      {
        autograd::RecordScope record(train);
        SeedRandom(1234);
        if (replay) {
          std::vector<NDArray> args;
          for (size_t k : order)
            args.push_back(in[k]);
          out = cached(args);
        } else {
          out = Invoke(c.op->name, in, s.attrs);
          out.resize(visible);
        }
      }
      std::vector<std::vector<double>> result;
      for (const NDArray& o : out)
        result.push_back(AsDoubles(o));
      for (size_t i = 0; i < in.size(); ++i)
        if (std::find(mutated.begin(), mutated.end(), static_cast<int>(i)) != mutated.end())
          result.push_back(AsDoubles(in[i]));
      std::vector<NDArray> heads, diff_out;
      const auto head_values = RandomHeads(out);
      for (size_t j = 0; j < out.size(); ++j) {
        if (!autograd::HasGraph(out[j]) || out[j].dtype() != DType::kFloat64) continue;
        diff_out.push_back(out[j]);
        heads.push_back(NDArray::FromVector(head_values[j], out[j].shape()));
      }
      if (!diff_out.empty()) {
        autograd::Backward(diff_out, heads, false, train);
        for (const NDArray& x : in)
          if (autograd::HasGraph(x)) result.push_back(AsDoubles(autograd::GetGrad(x)));
      }
      return result;
    };
    const auto eager = run(false);
    const auto replayed = run(true);
    ASSERT_EQ(replayed.size(), eager.size());
    for (size_t k = 0; k < eager.size(); ++k)
      ExpectClose(replayed[k], eager[k], 1e-12, 1e-14, "result " + std::to_string(k));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpExecutorTest, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace mixnet::op
