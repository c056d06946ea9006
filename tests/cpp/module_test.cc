// mod::Module against MXNet 1.9's mx.mod.Module: Fit trains a symbolic MLP; one Fit step equals
// Forward/Backward/Update by hand (gradients rescaled by 1/batch_size); Score and Predict with
// padded batches; reshaping forward; get/set params; checkpoints; misuse errors.
#include "mixnet/module/module.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/random.h"
#include "test_util.h"

namespace mixnet::mod {
namespace {

using testing_util::Random;

/*! \brief data (N, 4) -> fc1 (16) -> [bn1] -> relu -> fc2 (2) -> SoftmaxOutput "softmax". */
sym::Symbol MLP(bool batch_norm = false, const sym::VariableOptions& fc1_weight = {}) {
  sym::Symbol data = sym::Symbol::Variable("data");
  sym::Symbol w = sym::Symbol::Variable("fc1_weight", fc1_weight);
  sym::Symbol h = sym::Symbol::CreateNamed("FullyConnected", {{"data", data}, {"weight", w}},
                                           {{"num_hidden", "16"}}, "fc1");
  if (batch_norm) h = sym::Symbol::Create("BatchNorm", {h}, {}, "bn1");
  h = sym::Symbol::Create("Activation", {h}, {{"act_type", "relu"}}, "relu1");
  h = sym::Symbol::Create("FullyConnected", {h}, {{"num_hidden", "2"}}, "fc2");
  return sym::Symbol::Create("SoftmaxOutput", {h}, {}, "softmax");
}

/*! \brief n separable samples: label 1 where x0 - x1 + x2 / 2 > 0. */
struct Toy {
  NDArray x, y;
  explicit Toy(int64_t n, uint64_t seed = 1) {
    const auto r = Random(static_cast<size_t>(n * 4), seed);
    std::vector<float> xs(r.begin(), r.end()), ys;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = xs.data() + 4 * i;
      ys.push_back(p[0] - p[1] + 0.5f * p[2] > 0 ? 1.0f : 0.0f);
    }
    x = NDArray::FromVector(xs, {n, 4});
    y = NDArray::FromVector(ys, {n});
  }
  io::NDArrayIter Iter(int batch, bool shuffle = false,
                       io::LastBatch last = io::LastBatch::kPad) const {
    return io::NDArrayIter({{"data", x}}, {{"softmax_label", y}}, batch, shuffle, last, 3);
  }
};

std::vector<float> Host(const NDArray& a) {
  return a.ToVector<float>();
}

ParamDict DeepCopy(const ParamDict& p) {
  ParamDict out;
  for (const auto& [k, v] : p)
    out[k] = v.Copy(v.ctx());
  return out;
}

void ExpectSameParams(const ParamDict& a, const ParamDict& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    const auto x = Host(v), y = Host(b.at(k));
    ASSERT_EQ(x.size(), y.size()) << k;
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_NEAR(x[i], y[i], tol) << k << "[" << i << "]";
  }
}

FitOptions SGD(double lr, int epochs, io::DataIter* eval = nullptr) {
  FitOptions o;
  o.eval_data = eval;
  o.optimizer = "sgd";
  o.optimizer_params = {{"learning_rate", std::to_string(lr)}, {"momentum", "0.9"}};
  o.initializer = std::make_shared<init::Xavier>();
  o.num_epoch = epochs;
  return o;
}

TEST(Module, FitTrainsAnMLPAndLogsLikeMXNet) {
  op::SeedRandom(0);
  const Toy train(512, 1), val(256, 2);
  auto train_it = train.Iter(32, true), val_it = val.Iter(32);
  Module m(MLP());
  std::vector<std::string> log;
  m.set_logger([&](const std::string& line) { log.push_back(line); });
  FitOptions o = SGD(0.1, 8, &val_it);
  int batches = 0, epochs = 0;
  o.batch_end_callback.push_back([&](const BatchEndParam& p) {
    EXPECT_EQ(p.nbatch, batches % 16);
    EXPECT_EQ(p.epoch, batches / 16);
    EXPECT_NE(p.eval_metric, nullptr);
    ++batches;
  });
  o.epoch_end_callback.push_back(
      [&](int epoch, const sym::Symbol& s, const ParamDict& arg, const ParamDict& aux) {
        EXPECT_EQ(epoch, epochs++);
        EXPECT_EQ(arg.size(), 4u);  // fc1 and fc2 weights and biases
        EXPECT_TRUE(aux.empty());
        EXPECT_EQ(s.ListOutputs(), (std::vector<std::string>{"softmax_output"}));
      });
  m.Fit(train_it, o);
  EXPECT_EQ(batches, 8 * 16);
  EXPECT_EQ(epochs, 8);
  auto acc = metric::CreateMetric("acc");
  const auto res = m.Score(val_it, *acc);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].first, "accuracy");
  EXPECT_GT(res[0].second, 0.95);
  // MXNet's lines: Epoch[0] Train-accuracy=..., Epoch[0] Time cost=..., Validation-...
  auto has = [&](const std::string& prefix) {
    return std::any_of(log.begin(), log.end(),
                       [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has("Epoch[0] Train-accuracy=0."));
  EXPECT_TRUE(has("Epoch[0] Time cost="));
  EXPECT_TRUE(has("Epoch[7] Validation-accuracy=" + std::to_string(res[0].second)));
  EXPECT_TRUE(m.binded() && m.params_initialized() && m.optimizer_initialized());
}

TEST(Module, ManualStepsEqualFit) {
  const Toy t(64);
  auto it = t.Iter(16);
  Module by_hand(MLP());
  by_hand.Bind(it.provide_data(), it.provide_label());
  op::SeedRandom(5);
  init::Xavier xavier;
  by_hand.InitParams(&xavier);
  const ParamDict start = DeepCopy(by_hand.GetParams().first);

  Module fitted(MLP());
  fitted.set_logger([](const std::string&) {});
  FitOptions o = SGD(0.2, 2);
  o.arg_params = &start;
  fitted.Fit(it, o);

  by_hand.InitOptimizer("sgd", o.optimizer_params);
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (it.Reset(); it.Next();) {
      by_hand.Forward(it.Value(), true);
      by_hand.Backward();
      by_hand.Update();
    }
  }
  ExpectSameParams(fitted.GetParams().first, by_hand.GetParams().first, 1e-6);
}

TEST(Module, FitTakesAnOptimizerObject) {
  const Toy t(32);
  auto it = t.Iter(16);
  Module m(MLP());
  std::vector<std::string> log;
  m.set_logger([&](const std::string& line) { log.push_back(line); });
  FitOptions o;
  o.optimizer_object =
      optimizer::CreateOptimizer("sgd", {{"learning_rate", "0"}, {"rescale_grad", "1"}});
  o.initializer = std::make_shared<init::Xavier>();
  m.Bind(it.provide_data(), it.provide_label());
  m.InitParams(o.initializer.get());
  const ParamDict start = DeepCopy(m.GetParams().first);
  o.force_init = false;
  m.Fit(it, o);  // bound and initialized: Fit keeps both, as MXNet's does (with warnings)
  ExpectSameParams(m.GetParams().first, start, 0);  // learning rate 0
  auto has = [&](const std::string& part) {
    return std::any_of(log.begin(), log.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("already bound"));
  EXPECT_TRUE(has("parameters already initialized"));
  EXPECT_TRUE(has("rescale_grad is not normalized to 1.0/batch_size (1 vs. 0.0625)"));
}

TEST(Module, UpdateRescalesGradientsByTheBatchSize) {
  const Toy t(8);
  auto it = t.Iter(8);
  Module m(MLP());
  m.Bind(it.provide_data(), it.provide_label());
  init::Xavier xavier;
  m.InitParams(&xavier);
  m.InitOptimizer("sgd", {{"learning_rate", "0.5"}});  // no momentum, no wd
  ASSERT_TRUE(it.Next());
  m.Forward(it.Value(), true);
  m.Backward();
  const auto before = Host(m.executor()->arg_dict().at("fc2_weight"));
  const auto grad = Host(m.executor()->grad_dict().at("fc2_weight"));
  m.Update();
  const auto after = Host(m.executor()->arg_dict().at("fc2_weight"));
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_NEAR(after[i], before[i] - 0.5 * grad[i] / 8, 1e-6);
}

TEST(Module, ScoreAndPredictDropPadRows) {
  op::SeedRandom(1);
  const Toy t(10);
  auto it = t.Iter(4);  // batches of 4, 4, 2 + 2 pad
  Module m(MLP(), {"data"}, {"softmax_label"});
  m.Bind(it.provide_data(), it.provide_label(), false);
  init::Xavier xavier;
  m.InitParams(&xavier);
  const auto pred = m.Predict(it);
  ASSERT_EQ(pred.size(), 1u);
  EXPECT_EQ(pred[0].shape(), (Shape{10, 2}));

  // The same rows from one batch of all ten samples.
  Module whole(MLP());
  whole.Bind({{"data", Shape{10, 4}}}, {{"softmax_label", Shape{10}}}, false);
  const auto [arg, aux] = m.GetParams();
  whole.SetParams(arg, aux);
  io::DataBatch all{{t.x}, {t.y}};
  whole.Forward(all);
  const auto want = Host(whole.GetOutputs()[0]), got = Host(pred[0]);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6) << i;

  // Accuracy over exactly the ten samples.
  const auto labels = Host(t.y);
  int correct = 0;
  for (size_t i = 0; i < 10; ++i)
    correct += (got[2 * i + 1] > got[2 * i]) == (labels[i] > 0.5f);
  auto acc = metric::CreateMetric("acc");
  const auto res = m.Score(it, *acc);
  EXPECT_DOUBLE_EQ(res[0].second, correct / 10.0);
  EXPECT_EQ(acc->num_inst(), 10);

  // num_batch limits the batches.
  EXPECT_EQ(m.Predict(it, 1)[0].shape(), (Shape{4, 2}));
}

TEST(Module, ForwardReshapesForOtherBatchSizes) {
  const Toy t(6);
  Module m(MLP());
  m.Bind({{"data", Shape{6, 4}}}, {{"softmax_label", Shape{6}}});
  init::Xavier xavier;
  m.InitParams(&xavier);
  const exec::Executor* bound = m.executor();
  m.Forward(io::DataBatch{{t.x}, {t.y}}, false);
  const auto full = Host(m.GetOutputs()[0]);
  m.Forward(io::DataBatch{{t.x.Slice(0, 3)}, {t.y.Slice(0, 3)}}, false);
  EXPECT_EQ(m.GetOutputs()[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(m.data_shapes()[0].shape, (Shape{3, 4}));
  const auto part = Host(m.GetOutputs()[0]);
  for (size_t i = 0; i < part.size(); ++i)
    EXPECT_NEAR(part[i], full[i], 1e-6);
  // Bigger than bound (up-sizing), and without labels (inferred).
  NDArray big = NDArray::Zeros({9, 4});
  t.x.CopyTo(big.Slice(0, 6));
  m.Forward(io::DataBatch{{big}, {}}, false);
  EXPECT_EQ(m.GetOutputs()[0].shape(), (Shape{9, 2}));
  const auto nine = Host(m.GetOutputs()[0]);
  for (size_t i = 0; i < full.size(); ++i)
    EXPECT_NEAR(nine[i], full[i], 1e-6);
  m.Forward(io::DataBatch{{t.x}, {t.y}}, false);  // back to the bound executor
  EXPECT_EQ(m.executor(), bound);
  EXPECT_EQ(m.GetOutputs()[0].shape(), (Shape{6, 2}));
}

TEST(Module, GetAndSetParams) {
  const Toy t(4);
  Module m(MLP(true));
  m.Bind({{"data", Shape{4, 4}}}, {{"softmax_label", Shape{4}}});
  init::Xavier xavier;
  m.InitParams(&xavier);
  auto [arg, aux] = m.GetParams();
  EXPECT_EQ(arg.size(), 6u);  // fc1, bn1 gamma/beta, fc2
  ASSERT_EQ(aux.size(), 2u);
  EXPECT_EQ(Host(aux.at("bn1_moving_var")), std::vector<float>(16, 1.0f));
  EXPECT_EQ(Host(arg.at("bn1_gamma")), std::vector<float>(16, 1.0f));
  EXPECT_EQ(Host(arg.at("fc2_bias")), std::vector<float>(2, 0.0f));

  ParamDict changed = DeepCopy(arg);
  changed.at("fc2_bias").Fill(3.0);
  m.SetParams(changed, aux);
  EXPECT_EQ(Host(m.GetParams().first.at("fc2_bias")), std::vector<float>(2, 3.0f));
  EXPECT_EQ(Host(m.executor()->arg_dict().at("fc2_bias")), std::vector<float>(2, 3.0f));

  ParamDict missing = changed;
  missing.erase("fc1_weight");
  EXPECT_ERROR(m.SetParams(missing, aux), ValueError, "fc1_weight", "(16, 4)", "allow_missing");
  m.SetParams(missing, aux, /*allow_missing=*/true);  // fc1_weight keeps its value
  ParamDict extra = changed;
  extra["other_weight"] = NDArray::Zeros({2});
  EXPECT_ERROR(m.SetParams(extra, aux), ValueError, "other_weight", "allow_extra");
  m.SetParams(extra, aux, false, true, /*allow_extra=*/true);
  ParamDict wrong = changed;
  wrong["fc2_bias"] = NDArray::Zeros({3});
  EXPECT_ERROR(m.SetParams(wrong, aux), ValueError, "fc2_bias", "(2,)", "(3,)");
}

TEST(Module, CheckpointRoundTrip) {
  op::SeedRandom(2);
  const Toy t(64);
  auto it = t.Iter(16);
  Module m(MLP(true));
  m.set_logger([](const std::string&) {});
  m.Fit(it, SGD(0.1, 2));
  const std::string prefix = (std::filesystem::temp_directory_path() /
                              ("mixnet_module_test_" + std::to_string(::getpid())))
                                 .string();
  m.SaveCheckpoint(prefix, 3, /*save_optimizer_states=*/true);
  EXPECT_TRUE(std::filesystem::exists(prefix + "-symbol.json"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "-0003.states"));
  const auto file = LoadNDArrays(prefix + "-0003.params");
  EXPECT_EQ(file.names, (std::vector<std::string>{"arg:fc1_weight", "arg:fc1_bias", "arg:bn1_gamma",
                                                  "arg:bn1_beta", "arg:fc2_weight", "arg:fc2_bias",
                                                  "aux:bn1_moving_mean", "aux:bn1_moving_var"}));
  auto [s, arg, aux] = LoadCheckpoint(prefix, 3);
  EXPECT_EQ(s.ListArguments(), m.symbol().ListArguments());
  ExpectSameParams(arg, m.GetParams().first, 0);
  ExpectSameParams(aux, m.GetParams().second, 0);

  // Module::Load predicts what the original predicts.
  Module loaded = Module::Load(prefix, 3, /*load_optimizer_states=*/true);
  loaded.Bind(it.provide_data(), it.provide_label());
  const auto want = Host(m.Predict(it)[0]), got = Host(loaded.Predict(it)[0]);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_FLOAT_EQ(got[i], want[i]) << i;

  // With the momentum restored, one more step matches the original's.
  loaded.InitOptimizer("sgd", SGD(0.1, 1).optimizer_params);
  it.Reset();
  ASSERT_TRUE(it.Next());
  for (Module* mod : {&m, &loaded}) {
    mod->Forward(it.Value(), true);
    mod->Backward();
    mod->Update();
  }
  ExpectSameParams(loaded.GetParams().first, m.GetParams().first, 1e-6);
  for (const char* ext : {"-symbol.json", "-0003.params", "-0003.states"})
    std::remove((prefix + ext).c_str());

  // A file without arg:/aux: names is not a checkpoint.
  m.symbol().Save(prefix + "-symbol.json");
  SaveNDArrays(prefix + "-0001.params", std::vector<NDArray>{NDArray::Zeros({1})},
               std::vector<std::string>{"fc1_weight"});
  EXPECT_ERROR(LoadCheckpoint(prefix, 1), ValueError, "fc1_weight", "arg:NAME");
  for (const char* ext : {"-symbol.json", "-0001.params"})
    std::remove((prefix + ext).c_str());
}

TEST(Module, MisuseIsNamed) {
  const Toy t(4);
  auto it = t.Iter(4);
  ASSERT_TRUE(it.Next());
  EXPECT_ERROR(Module(MLP(), {"images"}), ValueError, "data_names", "'images'", "'data'");
  Module m(MLP());
  EXPECT_ERROR(m.Forward(it.Value()), ValueError, "Module.Forward", "not bound");
  EXPECT_ERROR(m.InitParams(), ValueError, "InitParams", "Bind");
  EXPECT_ERROR(m.Bind({{"x", Shape{4, 4}}}), ValueError, "data_shapes", "'x'", "'data'");
  m.Bind(it.provide_data(), it.provide_label());
  EXPECT_ERROR(m.Forward(it.Value()), ValueError, "parameters are not initialized");
  EXPECT_ERROR(m.GetParams(), ValueError, "not initialized");
  ParamDict none;
  EXPECT_ERROR(m.InitParams(nullptr, &none), ValueError, "fc1_bias", "(16,)",
               "missing from arg_params");
  m.InitParams();  // Uniform(0.01)
  for (float v : Host(m.GetParams().first.at("fc1_weight")))
    EXPECT_LE(std::abs(v), 0.01f);
  EXPECT_ERROR(m.Update(), ValueError, "Module.Update", "optimizer is not initialized");
  EXPECT_ERROR(m.GetInputGrads(), ValueError, "inputs_need_grad");
  EXPECT_ERROR(m.InitOptimizer("sgdd"), ValueError, "sgdd");

  Module infer(MLP());
  infer.Bind(it.provide_data(), it.provide_label(), /*for_training=*/false);
  infer.InitParams();
  infer.Forward(it.Value());
  EXPECT_ERROR(infer.Backward(), ValueError, "for_training");
}

TEST(Module, InputGradsFixedParamsAndLrMult) {
  const Toy t(4);
  auto it = t.Iter(4);
  ASSERT_TRUE(it.Next());
  sym::VariableOptions frozen;
  frozen.lr_mult = 0.0;
  Module m(MLP(false, frozen), {"data"}, {"softmax_label"}, Context::cpu(), {"fc2_bias"});
  m.Bind(it.provide_data(), it.provide_label(), true, /*inputs_need_grad=*/true);
  init::Xavier xavier;
  m.InitParams(&xavier);
  m.InitOptimizer("sgd", {{"learning_rate", "1"}});
  const ParamDict before = DeepCopy(m.GetParams().first);
  m.Forward(it.Value());
  m.Backward();
  const auto grads = m.GetInputGrads();
  ASSERT_EQ(grads.size(), 1u);
  EXPECT_EQ(grads[0].shape(), (Shape{4, 4}));
  double norm = 0;
  for (float g : Host(grads[0]))
    norm += std::abs(g);
  EXPECT_GT(norm, 0);
  EXPECT_TRUE(m.executor()->grad_dict().count("fc2_bias") == 0);  // fixed: no gradient
  m.Update();
  const ParamDict after = m.GetParams().first;
  EXPECT_EQ(Host(after.at("fc1_weight")), Host(before.at("fc1_weight")));  // lr_mult 0 by name
  EXPECT_EQ(Host(after.at("fc2_bias")), Host(before.at("fc2_bias")));      // fixed
  EXPECT_NE(Host(after.at("fc2_weight")), Host(before.at("fc2_weight")));
}

TEST(Module, VariableInitAttributeAndSharedModule) {
  sym::VariableOptions own;
  own.init = R"(["constant", {"value": 0.5}])";
  Module a(MLP(false, own));
  a.Bind({{"data", Shape{4, 4}}}, {{"softmax_label", Shape{4}}});
  init::Xavier xavier;
  a.InitParams(&xavier);
  EXPECT_EQ(Host(a.GetParams().first.at("fc1_weight")), std::vector<float>(64, 0.5f));
  a.InitOptimizer();

  Module b(MLP(false, own));
  b.Bind({{"data", Shape{2, 4}}}, {{"softmax_label", Shape{2}}}, true, false, false, &a);
  EXPECT_TRUE(b.params_initialized());
  EXPECT_TRUE(b.optimizer_initialized());  // borrowed
  EXPECT_TRUE(b.executor()
                  ->arg_dict()
                  .at("fc2_weight")
                  .SharesStorageWith(a.executor()->arg_dict().at("fc2_weight")));
}

}  // namespace
}  // namespace mixnet::mod

namespace mixnet::mod {
namespace {

ParamDict FitWith(Module& m, const ParamDict& start, const KVStoreConfig& kv) {
  const Toy t(64);
  auto it = t.Iter(16);
  m.set_logger([](const std::string&) {});
  FitOptions o = SGD(0.2, 2);
  o.arg_params = &start;
  o.kvstore = kv;
  m.Fit(it, o);
  return m.GetParams().first;
}

TEST(Module, KVStoreRulesAndUpdates) {
  const Toy t(16);
  auto it = t.Iter(16);
  Module init(MLP());
  init.Bind(it.provide_data(), it.provide_label());
  op::SeedRandom(7);
  init::Xavier xavier;
  init.InitParams(&xavier);
  const ParamDict start = DeepCopy(init.GetParams().first);

  Module m0(MLP()), m1(MLP()), m2(MLP()), m3(MLP());
  const ParamDict plain = FitWith(m0, start, {.kind = "device"});
  EXPECT_EQ(m0.kvstore(), nullptr);  // one context, not distributed: no store (MXNet)
  EXPECT_FALSE(m0.update_on_kvstore());

  // A given store is used: update_on_kvstore (MXNET_UPDATE_ON_KVSTORE, default 1) runs the
  // optimizer on it; 0 reduces through it and updates here. Both train as without a store.
  std::shared_ptr<kvstore::KVStore> kv = kvstore::KVStore::Create("local");
  ExpectSameParams(FitWith(m1, start, {.object = kv}), plain, 1e-6);
  EXPECT_EQ(m1.kvstore(), kv);
  EXPECT_TRUE(m1.update_on_kvstore());
  EXPECT_NE(kv->optimizer(), nullptr);
  const std::string path = ::testing::TempDir() + "module_kv.states";
  m1.SaveOptimizerStates(path);
  m1.LoadOptimizerStates(path);
  std::remove(path.c_str());

  ::setenv("MXNET_UPDATE_ON_KVSTORE", "0", 1);
  std::shared_ptr<kvstore::KVStore> kv2 = kvstore::KVStore::Create("device");
  ExpectSameParams(FitWith(m2, start, {.object = kv2}), plain, 1e-6);
  ::unsetenv("MXNET_UPDATE_ON_KVSTORE");
  EXPECT_FALSE(m2.update_on_kvstore());
  EXPECT_EQ(kv2->optimizer(), nullptr);

  EXPECT_THROW(FitWith(m3, start, {.kind = "dist_nonexistent"}), ValueError);
}

}  // namespace
}  // namespace mixnet::mod

// ---- several contexts (MXNet's DataParallelExecutorGroup) ----
namespace mixnet::mod {
namespace {

const std::vector<Context> kTwo = {Context::cpu(0), Context::cpu(1)};

/*! \brief Xavier parameters for MLP(batch_norm), the same for every module of a test. */
std::pair<ParamDict, ParamDict> StartParams(bool batch_norm) {
  const Toy t(8);
  auto it = t.Iter(8);
  Module init(MLP(batch_norm));
  init.Bind(it.provide_data(), it.provide_label());
  op::SeedRandom(11);
  init::Xavier xavier;
  init.InitParams(&xavier);
  const auto [arg, aux] = init.GetParams();
  return {DeepCopy(arg), DeepCopy(aux)};
}

/*! \brief An executor's arrays of the parameters in `like`. */
ParamDict ParamsOf(const exec::Executor& e, const ParamDict& like) {
  ParamDict out;
  for (const auto& [name, a] : e.arg_dict()) {
    if (like.count(name)) out[name] = a;
  }
  return out;
}

std::pair<ParamDict, ParamDict> FitOver(Module& m, const std::pair<ParamDict, ParamDict>& start,
                                        const std::string& kv, int batch, int64_t rows) {
  const Toy t(rows, 3);
  auto it = t.Iter(batch);
  m.set_logger([](const std::string&) {});
  FitOptions o = SGD(0.2, 2);
  o.arg_params = &start.first;
  o.aux_params = &start.second;
  o.kvstore.kind = kv;
  m.Fit(it, o);
  return m.GetParams();
}

TEST(ModuleMultiContext, SplitsBatchesAsMXNet) {
  auto slices = [](int64_t batch, size_t n) {
    std::vector<Context> ctxs;
    for (size_t k = 0; k < n; ++k)
      ctxs.push_back(Context::cpu(static_cast<int>(k)));
    Module m(MLP(), {"data"}, {"softmax_label"}, ctxs);
    m.Bind({{"data", Shape({batch, 4})}}, {{"softmax_label", Shape({batch})}});
    EXPECT_EQ(m.executors().size(), n);
    for (size_t k = 0; k < n; ++k) {
      EXPECT_EQ(m.executors()[k]->arg_dict().at("data").shape()[0],
                m.slices()[k].second - m.slices()[k].first);
      EXPECT_EQ(m.executors()[k]->arg_dict().at("data").ctx(), ctxs[k]);
    }
    return m.slices();
  };
  using S = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(slices(16, 2), (S{{0, 8}, {8, 16}}));
  EXPECT_EQ(slices(7, 2), (S{{0, 4}, {4, 7}}));    // round(3.5) = 4, the rest last
  EXPECT_EQ(slices(5, 2), (S{{0, 2}, {2, 5}}));    // round(2.5) = 2
  EXPECT_EQ(slices(9, 2), (S{{0, 4}, {4, 9}}));    // round(4.5) = 4
  EXPECT_EQ(slices(11, 2), (S{{0, 6}, {6, 11}}));  // round(5.5) = 6 (MXNet 1.9.1's slices)
  EXPECT_EQ(slices(5, 4), (S{{0, 1}, {1, 2}, {2, 3}, {3, 5}}));
  EXPECT_EQ(slices(6, 4), (S{{0, 2}, {2, 4}, {4, 5}, {5, 6}}));  // MXNet: "Too many slices"
  EXPECT_EQ(slices(3, 1), (S{{0, 3}}));
  Module m(MLP(), {"data"}, {"softmax_label"}, kTwo);
  try {
    m.Bind({{"data", Shape({1, 4})}}, {{"softmax_label", Shape({1})}});
    FAIL() << "a batch of 1 over 2 contexts";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("fewer than the 2 contexts"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Module(MLP(), {"data"}, {"softmax_label"}, std::vector<Context>{}), ValueError);
  EXPECT_FALSE(m.binded());  // the failed Bind left nothing behind

  // A batch too small for the contexts fails in Forward too, and the module keeps working.
  const Toy t(4);
  auto it = t.Iter(4);
  m.Bind(it.provide_data(), it.provide_label());
  m.InitParams();
  ASSERT_TRUE(it.Next());
  io::DataBatch one_row{{it.Value().data[0].Slice(0, 1)}, {it.Value().label[0].Slice(0, 1)}};
  EXPECT_THROW(m.Forward(one_row), ValueError);
  m.Forward(it.Value());
  EXPECT_EQ(m.GetOutputs()[0].shape(), Shape({4, 2}));
  EXPECT_EQ(m.slices(), (S{{0, 2}, {2, 4}}));
}

TEST(ModuleMultiContext, FitOnTwoContextsEqualsOneContext) {
  const auto start = StartParams(false);
  for (const char* update_on_kv : {"1", "0"}) {
    ::setenv("MXNET_UPDATE_ON_KVSTORE", update_on_kv, 1);
    for (int batch : {16, 7}) {
      SCOPED_TRACE(std::string("update_on_kvstore=") + update_on_kv +
                   " batch=" + std::to_string(batch));
      Module one(MLP(), {"data"}, {"softmax_label"}, Context::cpu(0));
      Module two(MLP(), {"data"}, {"softmax_label"}, kTwo);
      const auto want = FitOver(one, start, "device", batch, 63);
      const auto got = FitOver(two, start, "device", batch, 63);
      EXPECT_EQ(one.kvstore(), nullptr);
      ASSERT_NE(two.kvstore(), nullptr);  // several contexts: a store sums the gradients
      EXPECT_EQ(two.update_on_kvstore(), update_on_kv[0] == '1');
      ExpectSameParams(got.first, want.first, 1e-5);
      // Every context holds the same weights.
      ExpectSameParams(ParamsOf(*two.executors()[1], want.first),
                       ParamsOf(*two.executors()[0], want.first), 0);
    }
  }
  ::unsetenv("MXNET_UPDATE_ON_KVSTORE");
  // Optimizer states over contexts survive a save and load (index i * 2 + k).
  ::setenv("MXNET_UPDATE_ON_KVSTORE", "0", 1);
  Module two(MLP(), {"data"}, {"softmax_label"}, kTwo);
  FitOver(two, start, "local", 16, 32);
  ::unsetenv("MXNET_UPDATE_ON_KVSTORE");
  const std::string path = ::testing::TempDir() + "module_two.states";
  two.SaveOptimizerStates(path);
  two.LoadOptimizerStates(path);
  std::remove(path.c_str());
}

TEST(ModuleMultiContext, WithoutStoreEachContextKeepsItsGradient) {
  // MXNet's _update_params without a kvstore: context k steps with its own slice's gradient;
  // GetParams averages the contexts' weights.
  const auto start = StartParams(false);
  Module two(MLP(), {"data"}, {"softmax_label"}, kTwo);
  const Toy t(8, 5);
  auto it = t.Iter(8);
  two.Bind(it.provide_data(), it.provide_label());
  two.InitParams(nullptr, &start.first);
  two.InitOptimizer("sgd", {{"learning_rate", "0.5"}}, false, {.kind = ""});
  EXPECT_EQ(two.kvstore(), nullptr);
  ASSERT_TRUE(it.Next());
  two.ForwardBackward(it.Value());
  two.Update();
  std::vector<ParamDict> each;
  for (int k = 0; k < 2; ++k) {
    Module one(MLP(), {"data"}, {"softmax_label"}, Context::cpu(0));
    io::DataBatch b;
    b.data = {it.Value().data[0].Slice(4 * k, 4 * k + 4)};
    b.label = {it.Value().label[0].Slice(4 * k, 4 * k + 4)};
    one.Bind({{"data", Shape({4, 4})}}, {{"softmax_label", Shape({4})}});
    one.InitParams(nullptr, &start.first);
    // rescale_grad is 1/8 (the whole batch), as in the two-context module.
    one.InitOptimizer("sgd", {{"learning_rate", "0.5"}, {"rescale_grad", "0.125"}});
    one.ForwardBackward(b);
    one.Update();
    each.push_back(one.GetParams().first);
    ExpectSameParams(ParamsOf(*two.executors()[static_cast<size_t>(k)], start.first), each.back(),
                     1e-6);
  }
  ParamDict mean;
  for (const auto& [name, a] : each[0]) {
    const auto x = Host(a), y = Host(each[1].at(name));
    std::vector<float> m(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      m[i] = (x[i] + y[i]) / 2;
    mean[name] = NDArray::FromVector(m, a.shape());
  }
  ExpectSameParams(two.GetParams().first, mean, 1e-6);
}

TEST(ModuleMultiContext, OutputsInputGradsScoreAndPredictMergeInOrder) {
  const auto start = StartParams(false);
  const Toy t(20, 9);
  auto it = t.Iter(7);  // 7, 7, 6 + 1 pad row
  Module one(MLP(), {"data"}, {"softmax_label"}, Context::cpu(0));
  Module two(MLP(), {"data"}, {"softmax_label"}, kTwo);
  for (Module* m : {&one, &two}) {
    m->Bind(it.provide_data(), it.provide_label(), true, /*inputs_need_grad=*/true);
    m->InitParams(nullptr, &start.first);
  }
  it.Reset();
  ASSERT_TRUE(it.Next());
  one.ForwardBackward(it.Value());
  two.ForwardBackward(it.Value());
  ASSERT_EQ(two.GetOutputs().size(), 1u);
  EXPECT_EQ(two.GetOutputs()[0].shape(), Shape({7, 2}));
  EXPECT_EQ(two.GetOutputs()[0].ctx(), Context::cpu(0));
  ExpectSameParams({{"out", two.GetOutputs()[0]}}, {{"out", one.GetOutputs()[0]}}, 1e-6);
  const auto per = two.GetOutputsPerContext();
  ASSERT_EQ(per.size(), 1u);
  ASSERT_EQ(per[0].size(), 2u);
  EXPECT_EQ(per[0][0].shape(), Shape({4, 2}));
  EXPECT_EQ(per[0][1].shape(), Shape({3, 2}));
  EXPECT_EQ(per[0][1].ctx(), Context::cpu(1));
  ExpectSameParams({{"g", two.GetInputGrads()[0]}}, {{"g", one.GetInputGrads()[0]}}, 1e-6);
  EXPECT_EQ(two.GetInputGradsPerContext()[0][1].shape(), Shape({3, 4}));

  // A metric per context: "acc" counts the same instances; pad rows are left out.
  auto acc1 = metric::CreateMetric("acc"), acc2 = metric::CreateMetric("acc");
  one.UpdateMetric(*acc1, it.Value().label);
  two.UpdateMetric(*acc2, it.Value().label);
  EXPECT_EQ(acc1->get(), acc2->get());
  EXPECT_EQ(one.Score(it, *acc1), two.Score(it, *acc2));
  EXPECT_EQ(acc2->num_inst(), 20);
  const auto p1 = one.Predict(it), p2 = two.Predict(it);
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_EQ(p2[0].shape(), Shape({20, 2}));
  ExpectSameParams({{"p", p2[0]}}, {{"p", p1[0]}}, 1e-6);
}

TEST(ModuleMultiContext, BatchNormAuxStatesAreAveraged) {
  // Each context's BatchNorm sees its own rows; GetParams averages the moving statistics
  // (MXNet's exec_group.get_params), and Fit sets the average back on every context.
  const auto start = StartParams(true);
  const Toy t(8, 4);
  auto it = t.Iter(8);
  ASSERT_TRUE(it.Next());
  Module two(MLP(true), {"data"}, {"softmax_label"}, kTwo);
  two.Bind(it.provide_data(), it.provide_label());
  two.InitParams(nullptr, &start.first, &start.second);
  two.Forward(it.Value(), true);
  std::vector<ParamDict> each;
  for (int k = 0; k < 2; ++k) {
    Module one(MLP(true), {"data"}, {"softmax_label"}, Context::cpu(0));
    io::DataBatch b;
    b.data = {it.Value().data[0].Slice(4 * k, 4 * k + 4)};
    b.label = {it.Value().label[0].Slice(4 * k, 4 * k + 4)};
    one.Bind({{"data", Shape({4, 4})}}, {{"softmax_label", Shape({4})}});
    one.InitParams(nullptr, &start.first, &start.second);
    one.Forward(b, true);
    each.push_back(DeepCopy(one.GetParams().second));
  }
  const ParamDict aux = two.GetParams().second;
  ASSERT_EQ(aux.size(), 2u);  // bn1_moving_mean, bn1_moving_var
  for (const auto& [name, a] : aux) {
    const auto got = Host(a), x = Host(each[0].at(name)), y = Host(each[1].at(name));
    bool differ = false;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], (x[i] + y[i]) / 2, 1e-6) << name;
      differ = differ || std::abs(x[i] - y[i]) > 1e-4;
    }
    EXPECT_TRUE(differ) << name << ": the slices should give different statistics";
  }

  Module fit(MLP(true), {"data"}, {"softmax_label"}, kTwo);
  const auto params = FitOver(fit, start, "device", 8, 32);
  for (const auto& [name, a] : params.second) {
    EXPECT_EQ(Host(fit.executors()[0]->aux_dict().at(name)), Host(a)) << name;
    EXPECT_EQ(Host(fit.executors()[1]->aux_dict().at(name)), Host(a)) << name;
  }
}

}  // namespace
}  // namespace mixnet::mod
