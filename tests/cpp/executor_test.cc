// The bound executor: binding, forward/backward against imperative autograd, grad_req
// add/null, auxiliary states, reshape, shared memory, the monitor, memory planning, fusion and
// bulking switches, and the errors of misuse.
#include "mixnet/executor/executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/engine/engine.h"
#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet {
namespace {

using exec::Executor;
using exec::ExecutorOptions;
using exec::GradReq;
using sym::Symbol;
using testing_util::ExpectNear;

NDArray F32(const std::vector<double>& v, const Shape& s) {
  return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), s);
}
std::vector<double> Values(const NDArray& a) {
  NDArray d(a.shape(), a.ctx(), DType::kFloat64);
  a.CopyTo(d);
  return d.ToVector<double>();
}

/*! \brief data -> fc1(8) -> tanh -> fc2(3) -> softmax output with label. */
Symbol Mlp() {
  Symbol data = Symbol::Variable("data");
  Symbol fc1 = Symbol::Create("FullyConnected", {data}, {{"num_hidden", "8"}}, "fc1");
  Symbol act = Symbol::Create("Activation", {fc1}, {{"act_type", "tanh"}}, "act1");
  Symbol fc2 = Symbol::Create("FullyConnected", {act}, {{"num_hidden", "3"}}, "fc2");
  return Symbol::Create("SoftmaxOutput", {fc2}, {}, "softmax");
}

/*! \brief Fills every argument of `exe` with seeded random values (labels: valid classes). */
void FillArgs(Executor& exe, uint64_t seed) {
  for (auto& [name, a] : exe.arg_dict()) {
    std::vector<double> v = testing_util::Random(static_cast<size_t>(a.Size()), seed++);
    if (name.find("label") != std::string::npos) {
      for (double& x : v)
        x = std::floor((x + 1) * 1.5);
    }
    F32(v, a.shape()).CopyTo(a);
  }
}

/*! \brief Imperative reference of Mlp(): the softmax-output gradient is (p - onehot). */
std::map<std::string, std::vector<double>> ImperativeMlpGrads(Executor& exe) {
  auto args = exe.arg_dict();
  std::map<std::string, NDArray> vars;
  for (const char* name : {"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"}) {
    NDArray x(args.at(name).shape());
    args.at(name).CopyTo(x);
    autograd::AttachGrad(&x);
    vars[name] = x;
  }
  {
    autograd::RecordScope record;
    NDArray h = op::Invoke("FullyConnected", {vars["data"], vars["fc1_weight"], vars["fc1_bias"]},
                           {{"num_hidden", "8"}})[0];
    h = op::Invoke("Activation", {h}, {{"act_type", "tanh"}})[0];
    NDArray o = op::Invoke("FullyConnected", {h, vars["fc2_weight"], vars["fc2_bias"]},
                           {{"num_hidden", "3"}})[0];
    NDArray loss = op::Invoke("SoftmaxOutput", {o, args.at("softmax_label")}, {})[0];
    autograd::Backward({loss});
  }
  std::map<std::string, std::vector<double>> out;
  for (auto& [name, x] : vars)
    out[name] = Values(autograd::GetGrad(x));
  return out;
}

TEST(Executor, SimpleBindInfersAndAllocates) {
  auto exe = Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{4, 5}}});
  const auto args = exe->arg_dict();
  EXPECT_EQ(args.at("fc1_weight").shape(), (Shape{8, 5}));
  EXPECT_EQ(args.at("fc2_bias").shape(), (Shape{3}));
  EXPECT_EQ(args.at("softmax_label").shape(), (Shape{4}));
  EXPECT_EQ(exe->grad_dict().size(), args.size());
  EXPECT_TRUE(exe->aux_dict().empty());
  ASSERT_EQ(exe->outputs().size(), 1u);
  EXPECT_EQ(exe->outputs()[0].shape(), (Shape{4, 3}));
  EXPECT_EQ(exe->output_dict().count("softmax_output"), 1u);
}

TEST(Executor, ForwardBackwardMatchImperativeAutograd) {
  for (const bool plan : {false, true}) {
    ExecutorOptions opts;
    opts.plan_memory = plan;
    auto exe =
        Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{4, 5}}}, {}, GradReq::kWrite,
                             {{"softmax_label", GradReq::kNull}}, nullptr, opts);
    FillArgs(*exe, 11);
    exe->Forward(true);
    exe->Backward();
    const auto want = ImperativeMlpGrads(*exe);
    const auto grads = exe->grad_dict();
    EXPECT_EQ(grads.count("softmax_label"), 0u);
    for (const auto& [name, g] : want)
      ExpectNear(Values(grads.at(name)), g, 1e-5);
    // Softmax rows sum to one.
    const auto p = Values(exe->outputs()[0]);
    for (int r = 0; r < 4; ++r)
      EXPECT_NEAR(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2], 1.0, 1e-5);
  }
}

TEST(Executor, GradReqAddAccumulatesAndNullSkips) {
  auto exe = Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{4, 5}}}, {}, GradReq::kAdd,
                                  {{"softmax_label", GradReq::kNull}, {"data", GradReq::kNull}});
  FillArgs(*exe, 3);
  exe->Forward(true);
  exe->Backward();
  const auto once = Values(exe->grad_dict().at("fc1_weight"));
  exe->Forward(true);
  exe->Backward();
  const auto twice = Values(exe->grad_dict().at("fc1_weight"));
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_NEAR(twice[i], 2 * once[i], 1e-5);
  EXPECT_EQ(exe->grad_dict().count("data"), 0u);
  EXPECT_EQ(exe->grad_reqs()[0], GradReq::kNull);  // data is the first argument
}

TEST(Executor, HeadGradientsWeighTheOutputs) {
  Symbol x = Symbol::Variable("x");
  Symbol y = Symbol::Group({x * x, Symbol::Create("exp", {x})});
  auto exe = Executor::SimpleBind(y, Context::cpu(), {{"x", Shape{3}}});
  F32({0.5, -1, 2}, Shape{3}).CopyTo(exe->arg_dict().at("x"));
  exe->Forward(true);
  std::vector<NDArray> heads = {F32({1, 2, 3}, Shape{3}), F32({-1, 0.5, 1}, Shape{3})};
  exe->Backward(heads);
  const std::vector<double> xs = {0.5, -1, 2}, h0 = {1, 2, 3}, h1 = {-1, 0.5, 1};
  std::vector<double> want;
  for (size_t i = 0; i < 3; ++i)
    want.push_back(h0[i] * 2 * xs[i] + h1[i] * std::exp(xs[i]));
  ExpectNear(Values(exe->grad_dict().at("x")), want, 1e-5);
  // No head gradients means ones.
  exe->Forward(true);
  exe->Backward();
  want.clear();
  for (double v : xs)
    want.push_back(2 * v + std::exp(v));
  ExpectNear(Values(exe->grad_dict().at("x")), want, 1e-5);
}

TEST(Executor, BatchNormUpdatesAuxStatesOnlyInTraining) {
  Symbol data = Symbol::Variable("data");
  Symbol bn = Symbol::Create("BatchNorm", {data}, {{"momentum", "0.5"}}, "bn");
  auto exe = Executor::SimpleBind(bn, Context::cpu(), {{"data", Shape{4, 2}}});
  ASSERT_EQ(bn.ListAuxiliaryStates(),
            (std::vector<std::string>{"bn_moving_mean", "bn_moving_var"}));
  F32({1, 2, 3, 4, 5, 6, 7, 8}, Shape{4, 2}).CopyTo(exe->arg_dict().at("data"));
  exe->arg_dict().at("bn_gamma").Fill(1);
  exe->aux_dict().at("bn_moving_var").Fill(1);
  exe->Forward(false);
  ExpectNear(Values(exe->aux_dict().at("bn_moving_mean")), {0, 0}, 0);
  exe->Forward(true);
  // moving = 0.5 * moving + 0.5 * batch mean (4, 5).
  ExpectNear(Values(exe->aux_dict().at("bn_moving_mean")), {2, 2.5}, 1e-5);
}

TEST(Executor, ReshapeSharesParametersAndChecksGrowth) {
  auto exe = Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{4, 5}}});
  FillArgs(*exe, 5);
  auto small = exe->Reshape({{"data", Shape{2, 5}}, {"softmax_label", Shape{2}}});
  EXPECT_EQ(small->arg_dict().at("data").shape(), (Shape{2, 5}));
  EXPECT_EQ(small->outputs()[0].shape(), (Shape{2, 3}));
  // Parameters are the same arrays: a change through one executor shows in the other.
  small->arg_dict().at("fc2_bias").Fill(3);
  ExpectNear(Values(exe->arg_dict().at("fc2_bias")), {3, 3, 3}, 0);
  EXPECT_ERROR(exe->Reshape({{"data", Shape{8, 5}}, {"softmax_label", Shape{8}}}), ValueError,
               "'data'", "allow_up_sizing");
  EXPECT_ERROR(exe->Reshape({{"data", Shape{2, 5}}}), ValueError, "softmax_label",
               "partial_shaping");
  auto big = exe->Reshape({{"data", Shape{8, 5}}, {"softmax_label", Shape{8}}}, false, true);
  FillArgs(*big, 9);
  big->Forward(true);
  big->Backward();
  EXPECT_EQ(big->outputs()[0].shape(), (Shape{8, 3}));
}

TEST(Executor, SharedExecutorLendsBuffersAndArrays) {
  auto a = Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{8, 5}}});
  auto b = Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{4, 5}}}, {}, GradReq::kWrite,
                                {}, a.get());
  // Same-shaped parameters are shared; the data of another batch size is not.
  a->arg_dict().at("fc1_weight").Fill(2);
  ExpectNear(Values(b->arg_dict().at("fc1_weight")), std::vector<double>(40, 2), 0);
  EXPECT_NE(a->arg_dict().at("data").shape(), b->arg_dict().at("data").shape());
  FillArgs(*b, 1);
  b->Forward(true);
  b->Backward();
  Engine::Get()->WaitForAll();
}

TEST(Executor, MonitorSeesEveryOutputByInternalName) {
  auto exe = Executor::SimpleBind(Mlp(), Context::cpu(), {{"data", Shape{4, 5}}});
  FillArgs(*exe, 2);
  std::vector<std::string> names;
  std::vector<double> act;
  exe->SetMonitorCallback([&](const std::string& name, const NDArray& a) {
    names.push_back(name);
    if (name == "act1_output") act = Values(a);
  });
  exe->Forward(false);
  const std::vector<std::string> want = {"fc1_output", "act1_output", "fc2_output",
                                         "softmax_output"};
  EXPECT_EQ(names, want);
  // The monitored tanh values: in (-1, 1) and equal to tanh of fc1's output.
  ASSERT_EQ(act.size(), 32u);
  for (double v : act)
    EXPECT_LT(std::abs(v), 1.0);
  names.clear();
  exe->SetMonitorCallback([&](const std::string& name, const NDArray&) { names.push_back(name); },
                          true);
  exe->Forward(false);
  EXPECT_EQ(names.front(), "data");  // inputs too with monitor_all
}

TEST(Executor, MemoryPlanningSharesBuffers) {
  // A deep chain of elementwise and FC ops: planning must reuse dead buffers.
  Symbol x = Symbol::Variable("data");
  for (int i = 0; i < 6; ++i) {
    x = Symbol::Create("FullyConnected", {x}, {{"num_hidden", "64"}}, "fc" + std::to_string(i));
    x = Symbol::Create("Activation", {x}, {{"act_type", "relu"}}, "relu" + std::to_string(i));
  }
  ExecutorOptions off;
  off.plan_memory = false;
  auto unplanned = Executor::SimpleBind(x, Context::cpu(), {{"data", Shape{32, 64}}}, {},
                                        GradReq::kWrite, {}, nullptr, off);
  auto planned = Executor::SimpleBind(x, Context::cpu(), {{"data", Shape{32, 64}}});
  const auto u = unplanned->memory_report(), p = planned->memory_report();
  EXPECT_EQ(u.planned_bytes, u.unplanned_bytes);
  EXPECT_EQ(p.unplanned_bytes, u.unplanned_bytes);
  EXPECT_LT(p.planned_bytes * 2, p.unplanned_bytes) << planned->DebugStr();
  EXPECT_GT(p.inplace_entries + p.shared_entries, 0u);
  // What is alive at once bounds the plan from below; with no sharing it is smaller still.
  EXPECT_GT(p.peak_live_bytes, 0u);
  EXPECT_LE(p.peak_live_bytes, p.planned_bytes);
  EXPECT_LT(u.peak_live_bytes, u.planned_bytes);
  // Same results either way.
  for (auto* e : {unplanned.get(), planned.get()}) {
    FillArgs(*e, 21);
    e->Forward(true);
    e->Backward();
  }
  ExpectNear(Values(planned->outputs()[0]), Values(unplanned->outputs()[0]), 1e-6);
  ExpectNear(Values(planned->grad_dict().at("fc0_weight")),
             Values(unplanned->grad_dict().at("fc0_weight")), 1e-5);
}

TEST(Executor, FusionAndBulkingKeepResults) {
  // An elementwise chain in forward and backward: fused groups run as one loop.
  Symbol x = Symbol::Variable("x"), y = Symbol::Variable("y");
  Symbol z = Symbol::Create("Activation", {(x * 2.0 + 1.0) * y - x}, {{"act_type", "sigmoid"}});
  z = Symbol::Create("exp", {z}) / (y + 3.0);
  const Shape shape{70, 1000};  // several tiles, an uneven last one
  std::vector<std::vector<double>> outs, grads;
  for (const auto& [fuse, bulk] : {std::pair{false, 1}, std::pair{true, 1}, std::pair{true, 15}}) {
    ExecutorOptions opts;
    opts.fuse_elemwise = fuse;
    opts.bulk_max_nodes = bulk;
    auto exe = Executor::SimpleBind(z, Context::cpu(), {{"x", shape}, {"y", shape}}, {},
                                    GradReq::kWrite, {}, nullptr, opts);
    FillArgs(*exe, 4);
    exe->Forward(true);
    exe->Backward();
    const auto r = exe->memory_report();
    if (fuse) EXPECT_GT(r.fused_groups, 0u) << exe->DebugStr();
    if (!fuse) EXPECT_EQ(r.fused_groups, 0u);
    outs.push_back(Values(exe->outputs()[0]));
    grads.push_back(Values(exe->grad_dict().at("x")));
  }
  for (size_t k = 1; k < outs.size(); ++k) {
    ExpectNear(outs[k], outs[0], 1e-6);
    ExpectNear(grads[k], grads[0], 1e-6);
  }
}

TEST(Executor, MirroringRecomputesWithoutChangingResults) {
  // conv -> BatchNorm -> relu twice; mirroring recomputes BatchNorm and relu in the backward
  // pass. Gradients, outputs and the moving statistics (updated once) must not change.
  Symbol x = Symbol::Variable("data");
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i);
    x = Symbol::Create("Convolution", {x},
                       {{"kernel", "(3, 3)"}, {"num_filter", "4"}, {"pad", "(1, 1)"}}, "conv" + n);
    x = Symbol::Create("BatchNorm", {x}, {}, "bn" + n);
    x = Symbol::Create("Activation", {x}, {{"act_type", "relu"}}, "relu" + n);
  }
  x = Symbol::Create("FullyConnected", {x}, {{"num_hidden", "3"}}, "fc");
  x = Symbol::Create("SoftmaxOutput", {x}, {}, "softmax");
  std::vector<std::map<std::string, std::vector<double>>> results;
  for (const bool mirror : {false, true}) {
    ExecutorOptions opts;
    opts.mirror = mirror;
    auto exe = Executor::SimpleBind(x, Context::cpu(), {{"data", Shape{4, 2, 6, 6}}}, {},
                                    GradReq::kWrite, {}, nullptr, opts);
    if (mirror) EXPECT_GT(exe->memory_report().mirrored_nodes, 0u) << exe->DebugStr();
    FillArgs(*exe, 8);
    exe->aux_dict().at("bn0_moving_var").Fill(1);
    exe->aux_dict().at("bn1_moving_var").Fill(1);
    exe->Forward(true);
    exe->Backward();
    std::map<std::string, std::vector<double>> r;
    for (auto& [name, g] : exe->grad_dict())
      r["grad:" + name] = Values(g);
    for (auto& [name, a] : exe->aux_dict())
      r["aux:" + name] = Values(a);
    r["out"] = Values(exe->outputs()[0]);
    results.push_back(std::move(r));
  }
  for (const auto& [name, v] : results[0]) {
    SCOPED_TRACE(name);
    ExpectNear(results[1].at(name), v, 1e-5);
  }
}

TEST(Executor, OpsWithoutAGradientStopIt) {
  // sum(x * x + BlockGrad(x * x)) + argmax(x): the gradient is 2x (MXNet's zero gradients).
  Symbol x = Symbol::Variable("x");
  Symbol sq = x * x;
  Symbol y = Symbol::Create("sum", {sq + Symbol::Create("BlockGrad", {sq})});
  y = Symbol::Create("broadcast_add",
                     {y, Symbol::Create("Cast", {Symbol::Create("argmax", {x}, {{"axis", "0"}})},
                                        {{"dtype", "float32"}})});
  auto exe = Executor::SimpleBind(y, Context::cpu(), {{"x", Shape{3}}});
  F32({0.5, -2, 3}, Shape{3}).CopyTo(exe->arg_dict().at("x"));
  exe->Forward(true);
  exe->Backward();
  ExpectNear(Values(exe->outputs()[0]), {2 * (0.25 + 4 + 9) + 2}, 1e-5);
  ExpectNear(Values(exe->grad_dict().at("x")), {1, -4, 6}, 1e-6);
}

TEST(Executor, BindErrorsNameTheArgument) {
  const Symbol net = Mlp();
  EXPECT_ERROR(Executor::Bind(net, Context::cpu(), {NDArray::Zeros({4, 5})}, {}, {}, {}),
               ValueError, "6 arguments", "got 1");
  EXPECT_ERROR(Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{4, 5}}}, {},
                                    GradReq::kWrite, {{"fc3_weight", GradReq::kNull}}),
               ValueError, "fc3_weight", "not an argument");
  EXPECT_ERROR(Executor::SimpleBind(net, Context::cpu(), {{"fc1_weight", Shape{8, 5}}}), ValueError,
               "data");
  auto exe = Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{4, 5}}});
  auto args = exe->arg_arrays();
  auto grads = exe->grad_arrays();
  grads[1] = NDArray::Zeros({2, 2});
  EXPECT_ERROR(Executor::Bind(net, Context::cpu(), args, grads, exe->grad_reqs(), {}), ValueError,
               "fc1_weight", "(2, 2)", "(8, 5)");
  EXPECT_ERROR(exe->Backward(), ValueError, "Forward(is_train=true)");
  exe->Forward(false);
  EXPECT_ERROR(exe->Backward(), ValueError, "Forward(is_train=true)");
  EXPECT_ERROR(exe->Forward(false, {{"dta", NDArray::Zeros({4, 5})}}), ValueError, "'dta'", "data");
  EXPECT_ERROR(exe->Forward(false, {{"data", NDArray::Zeros({3, 5})}}), ValueError, "(4, 5)",
               "(3, 5)");
}

TEST(Executor, KernelErrorsSurfaceAtSyncWithTheNodeName) {
  Symbol data = Symbol::Variable("data"), idx = Symbol::Variable("idx");
  Symbol t = Symbol::Create("take", {data, idx}, {{"mode", "raise"}}, "lookup");
  auto exe = Executor::SimpleBind(t, Context::cpu(), {{"data", Shape{3, 2}}, {"idx", Shape{2}}}, {},
                                  GradReq::kNull);
  F32({0, 7}, Shape{2}).CopyTo(exe->arg_dict().at("idx"));
  exe->Forward(false);  // returns at once; the error waits for the next sync
  EXPECT_ERROR(exe->outputs()[0].WaitToRead(), IndexError, "node 'lookup' (take)", "7");
}

}  // namespace
}  // namespace mixnet
