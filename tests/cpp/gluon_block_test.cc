// The Gluon core: Parameter, naming, checkpoints, hybridization, export/imports, SymbolBlock.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "gluon_check.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/gluon/block.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/invoke.h"
#include "mixnet/op/ops.h"
#include "mixnet/symbol/trace.h"
#include "test_util.h"

namespace mixnet {
namespace {

using gluon::BlockArgs;
using gluon::BlockScope;
using gluon::HybridBlock;
using gluon::Parameter;
using testing_util::Random;

std::string TmpPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mixnet_gluon_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

NDArray RandomArray(const Shape& s, uint64_t seed) {
  return NDArray::FromVector(Random(static_cast<size_t>(s.Size()), seed), s).Copy(Context::cpu());
}

NDArray F32(const Shape& s, uint64_t seed) {
  const auto v = Random(static_cast<size_t>(s.Size()), seed);
  return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), s);
}

/*! \brief A dense layer written only against the core, with a deferred input size. */
class TestDense : public HybridBlock {
 public:
  TestDense(int units, int in_units = 0, std::string act = "", BlockArgs args = {})
      : HybridBlock("testdense", std::move(args)), units_(units), act_(std::move(act)) {
    weight_ = RegisterParameter("weight", Shape{units, in_units});
    bias_ =
        RegisterParameter("bias", Shape{units}, {.init = std::make_shared<init::Constant>(0.1)});
  }
  void InferShape(const std::vector<NDArray>& x) override {
    weight_->SetShape(Shape{units_, x[0].Size() / x[0].shape()[0]});
  }
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
    const Context ctx = x[0].ctx();
    NDArray y =
        op::FullyConnected(x[0], weight_->data(ctx), bias_->data(ctx), {.num_hidden = units_});
    if (!act_.empty()) y = op::Activation(y, {.act_type = act_});
    return {y};
  }
  std::string ReprArgs() const override { return std::to_string(units_); }

 private:
  int units_;
  std::string act_;
  gluon::ParameterPtr weight_, bias_;
};

/*! \brief Two dense layers and a batch norm over the hidden layer, with a skip connection. */
class TestNet : public HybridBlock {
 public:
  explicit TestNet(BlockArgs args = {}) : HybridBlock("testnet", std::move(args)) {
    BlockScope scope(this);
    fc1_ = RegisterChild(std::make_shared<TestDense>(6, 0, "relu"), "fc1");
    fc2_ = RegisterChild(std::make_shared<TestDense>(3), "fc2");
    gamma_ = RegisterParameter("gamma", Shape{6}, {.init = std::make_shared<init::One>()});
    beta_ = RegisterParameter("beta", Shape{6}, {.init = std::make_shared<init::Zero>()});
    mean_ = RegisterParameter(
        "running_mean", Shape{6},
        {.grad_req = gluon::GradReq::kNull, .init = std::make_shared<init::Zero>()});
    var_ = RegisterParameter(
        "running_var", Shape{6},
        {.grad_req = gluon::GradReq::kNull, .init = std::make_shared<init::One>()});
  }
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
    const Context ctx = x[0].ctx();
    NDArray h = (*fc1_)(x[0]);
    NDArray bn = op::Invoke(
        "BatchNorm", {h, gamma_->data(ctx), beta_->data(ctx), mean_->data(ctx), var_->data(ctx)},
        {{"fix_gamma", "False"}})[0];
    NDArray y = (*fc2_)(op::elemwise_add(bn, h));
    return {y, op::sum(y)};
  }

  std::shared_ptr<TestDense> fc1_, fc2_;
  gluon::ParameterPtr gamma_, beta_, mean_, var_;
};

class GluonBlockTest : public ::testing::Test {
 protected:
  void SetUp() override { gluon::ResetBlockNames(); }
};

TEST_F(GluonBlockTest, NamesFollowMXNet) {
  auto a = std::make_shared<TestDense>(4);
  auto b = std::make_shared<TestDense>(4);
  EXPECT_EQ(a->prefix(), "testdense0_");
  EXPECT_EQ(b->name(), "testdense1");
  auto net = std::make_shared<TestNet>();
  EXPECT_EQ(net->prefix(), "testnet0_");
  EXPECT_EQ(net->fc1_->prefix(), "testnet0_testdense0_");
  EXPECT_EQ(net->fc2_->prefix(), "testnet0_testdense1_");
  std::vector<std::string> names;
  for (const auto& [n, p] : net->CollectParams())
    names.push_back(n);
  EXPECT_EQ(names,
            (std::vector<std::string>{"testnet0_gamma", "testnet0_beta", "testnet0_running_mean",
                                      "testnet0_running_var", "testnet0_testdense0_weight",
                                      "testnet0_testdense0_bias", "testnet0_testdense1_weight",
                                      "testnet0_testdense1_bias"}));
  std::vector<std::string> structural;
  for (const auto& [n, p] : net->CollectParamsWithPrefix())
    structural.push_back(n);
  EXPECT_EQ(structural,
            (std::vector<std::string>{"gamma", "beta", "running_mean", "running_var", "fc1.weight",
                                      "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(net->CollectParams(".*weight").size(), 2u);
  EXPECT_EQ(net->CollectParams("testnet0_testdense1").size(), 2u);
  auto named = std::make_shared<TestDense>(2, 0, "", BlockArgs{.prefix = "fc_"});
  EXPECT_EQ(named->CollectParams().items()[0].first, "fc_weight");
  // Shared parameters: the second layer finds the first one's.
  auto shared = std::make_shared<TestDense>(
      4, 0, "", BlockArgs{.prefix = "other_", .params = a->CollectParams()});
  EXPECT_EQ(shared->CollectParams().at("testdense0_weight"),
            a->CollectParams().at("testdense0_weight"));
  EXPECT_EQ(net->Repr(), "TestNet(\n  (fc1): TestDense(6)\n  (fc2): TestDense(3)\n)");
}

TEST_F(GluonBlockTest, ParameterLifecycleAndErrors) {
  Parameter p("w", Shape{2, 0});
  EXPECT_ERROR(p.data(), ValueError, "'w' has not been initialized");
  p.Initialize(std::make_shared<init::One>());
  EXPECT_TRUE(p.deferred());
  EXPECT_ERROR(p.data(), ValueError, "'w'", "deferred");
  EXPECT_ERROR(p.SetShape(Shape{3, 4}), ValueError, "'w'", "(2, 0)", "(3, 4)");
  p.SetShape(Shape{2, 3});
  p.FinishDeferredInit();
  EXPECT_EQ(p.data().ToVector<float>(), std::vector<float>(6, 1.f));
  EXPECT_EQ(p.grad().ToVector<float>(), std::vector<float>(6, 0.f));
  p.SetData(NDArray::Full(Shape{2, 3}, 2.0));
  EXPECT_EQ(p.data().ToVector<float>(), std::vector<float>(6, 2.f));
  EXPECT_ERROR(p.SetData(NDArray::Zeros(Shape{3})), ValueError, "'w'", "(3,)", "(2, 3)");
  EXPECT_ERROR(p.data(Context::cpu(1)), ValueError, "'w'", "cpu(1)");
  p.Cast(DType::kFloat64);
  EXPECT_EQ(p.data().dtype(), DType::kFloat64);
  EXPECT_EQ(p.grad().dtype(), DType::kFloat64);

  gluon::Constant c("c", NDArray::FromVector(std::vector<float>{1, 2}, Shape{2}));
  c.Initialize();
  EXPECT_EQ(c.data().ToVector<float>(), (std::vector<float>{1, 2}));
  EXPECT_ERROR(c.grad(), ValueError, "'c'", "grad_req='null'");

  Parameter strict("s", Shape{0}, {.allow_deferred_init = false});
  EXPECT_ERROR(strict.Initialize(), ValueError, "'s'", "unknown shape");
}

TEST_F(GluonBlockTest, DeferredInitAndGradients) {
  auto fc = std::make_shared<TestDense>(3);
  fc->Initialize(std::make_shared<init::Xavier>());
  const NDArray x = F32(Shape{4, 5}, 1);
  NDArray y;
  NDArray xg = x.Copy(Context::cpu());
  autograd::AttachGrad(&xg);
  {
    autograd::RecordScope record;
    y = (*fc)(xg);
  }
  autograd::Backward({y});
  const auto w = fc->CollectParams().at("testdense0_weight");
  EXPECT_EQ(w->shape(), (Shape{3, 5}));
  // d(sum(xW^T+b))/dW[j,k] = sum_i x[i,k]
  const auto xv = x.ToVector<float>();
  const auto g = w->grad().ToVector<float>();
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 5; ++k) {
      float s = 0;
      for (int i = 0; i < 4; ++i)
        s += xv[i * 5 + k];
      EXPECT_NEAR(g[j * 5 + k], s, 1e-5);
    }
}

TEST_F(GluonBlockTest, HybridMatchesEagerWithBatchNormAndSkip) {
  auto net = std::make_shared<TestNet>();
  net->Initialize(std::make_shared<init::Xavier>());
  test::ExpectHybridMatchesEager(*net, {F32(Shape{5, 4}, 2)});
  test::ExpectHybridMatchesEager(*net, {F32(Shape{5, 4}, 3)}, {.train = false});
}

TEST_F(GluonBlockTest, CachedGraphIsReusedAndRetracedPerShape) {
  auto net = std::make_shared<TestNet>();
  net->Initialize();
  net->Hybridize();
  const NDArray a = F32(Shape{2, 4}, 4), b = F32(Shape{3, 4}, 5);
  const auto first = (*net)(std::vector<NDArray>{a})[0].ToVector<float>();
  const auto second = (*net)(std::vector<NDArray>{a})[0].ToVector<float>();
  EXPECT_EQ(first, second);
  EXPECT_EQ(net->num_traces(), 1u);
  (*net)(std::vector<NDArray>{b});
  EXPECT_EQ(net->num_traces(), 2u);
  (*net)(std::vector<NDArray>{a});
  EXPECT_EQ(net->num_traces(), 2u);
  // Children are inlined into the parent's graph, not traced on their own.
  EXPECT_EQ(net->fc1_->num_traces(), 0u);
}

TEST_F(GluonBlockTest, BlockCalledTwiceInOneRecordingGetsBothGradients) {
  auto fc = std::make_shared<TestDense>(3, 4, "tanh");
  fc->Initialize(std::make_shared<init::Xavier>());
  const NDArray a = F32(Shape{2, 4}, 6), b = F32(Shape{2, 4}, 7);
  auto grads = [&](bool hybrid) {
    fc->Hybridize(hybrid);
    for (int rep = 0; rep < 2; ++rep) {  // the second pass replays the cached graph
      fc->ZeroGrad();
      NDArray loss;
      {
        autograd::RecordScope record;
        loss = op::elemwise_mul(op::sum((*fc)(a)), op::sum((*fc)(b)));
      }
      autograd::Backward({loss});
    }
    return fc->CollectParams().at("testdense0_weight")->grad().ToVector<float>();
  };
  const auto eager = grads(false);
  const auto hybrid = grads(true);
  ASSERT_EQ(eager.size(), hybrid.size());
  for (size_t i = 0; i < eager.size(); ++i)
    EXPECT_NEAR(hybrid[i], eager[i], 1e-5) << i;
}

TEST_F(GluonBlockTest, GradResultsOfAHybridizedBlockAreTheCallersToKeep) {
  auto fc = std::make_shared<TestDense>(3, 4, "tanh");
  fc->Initialize(std::make_shared<init::Xavier>());
  fc->Hybridize();
  auto input_grad = [&](uint64_t seed) {
    NDArray x = F32(Shape{2, 4}, seed);
    autograd::AttachGrad(&x);
    NDArray y;
    {
      autograd::RecordScope record;
      y = op::sum((*fc)(x));
    }
    const NDArray xs[] = {x};
    const NDArray heads[] = {y};
    return autograd::Grad(heads, xs)[0];
  };
  input_grad(20);  // traces
  const NDArray g1 = input_grad(21);
  const auto want = g1.ToVector<float>();
  // Later backward passes through the same executor must not change what Grad returned.
  input_grad(22);
  NDArray x = F32(Shape{2, 4}, 23);
  {
    autograd::RecordScope record;
    NDArray loss = op::sum((*fc)(x));
    autograd::Backward({loss});
  }
  EXPECT_EQ(g1.ToVector<float>(), want);
  EXPECT_NE(input_grad(24).ToVector<float>(), want);

  // autograd::Grad with respect to a parameter leaves the parameter's buffer as it was, though
  // the executor computes that gradient in the buffer itself under autograd::Backward.
  const gluon::ParameterPtr w = fc->CollectParams().at("testdense0_weight");
  const auto buffer = w->grad().ToVector<float>();
  NDArray x2 = F32(Shape{2, 4}, 25);
  autograd::AttachGrad(&x2);  // the same signature as above: the executor that writes the buffer
  NDArray loss;
  {
    autograd::RecordScope record;
    loss = op::sum((*fc)(x2));
  }
  const NDArray vars[] = {w->data()};
  const NDArray heads[] = {loss};
  const auto via_grad = autograd::Grad(heads, vars)[0].ToVector<float>();
  EXPECT_EQ(w->grad().ToVector<float>(), buffer);
  {
    autograd::RecordScope record;
    loss = op::sum((*fc)(x2));
  }
  autograd::Backward({loss});
  EXPECT_EQ(w->grad().ToVector<float>(), via_grad);
}

TEST_F(GluonBlockTest, BackwardAfterTheCacheIsCleared) {
  auto fc = std::make_shared<TestDense>(3, 4, "tanh");
  fc->Initialize(std::make_shared<init::Xavier>());
  const NDArray x = F32(Shape{2, 4}, 26);
  auto weight_grad = [&](bool hybrid, bool clear) {
    fc->Hybridize(hybrid);
    if (hybrid) (*fc)(x);  // trace, so the next call replays the cached graph
    NDArray loss;
    {
      autograd::RecordScope record;
      loss = op::sum((*fc)(x));
    }
    if (clear) fc->Hybridize(false);  // drops the cached graph the tape still refers to
    autograd::Backward({loss});
    return fc->CollectParams().at("testdense0_weight")->grad().ToVector<float>();
  };
  const auto eager = weight_grad(false, false);
  const auto hybrid = weight_grad(true, true);
  ASSERT_EQ(hybrid.size(), eager.size());
  for (size_t i = 0; i < eager.size(); ++i)
    EXPECT_NEAR(hybrid[i], eager[i], 1e-5) << i;
}

TEST_F(GluonBlockTest, ExportImportsRoundTripIsBitExact) {
  auto net = std::make_shared<TestNet>();
  net->Initialize(std::make_shared<init::Xavier>());
  EXPECT_ERROR(net->Export(TmpPath("noexport")), ValueError, "hybridize");
  net->Hybridize();
  const NDArray x = F32(Shape{3, 4}, 8);
  (*net)(std::vector<NDArray>{x});
  const auto want = (*net)(std::vector<NDArray>{x});
  const auto [sym_file, param_file] = net->Export(TmpPath("net"), 7);
  EXPECT_EQ(param_file, TmpPath("net") + "-0007.params");
  const NDArrayList saved = LoadNDArrays(param_file);
  EXPECT_NE(std::find(saved.names.begin(), saved.names.end(), "aux:testnet0_running_mean"),
            saved.names.end());
  EXPECT_NE(std::find(saved.names.begin(), saved.names.end(), "arg:testnet0_testdense0_weight"),
            saved.names.end());
  auto imported = gluon::SymbolBlock::Imports(sym_file, {"data"}, param_file);
  const auto got = (*imported)(std::vector<NDArray>{x});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].ToVector<float>(), want[0].ToVector<float>());
  imported->Hybridize();
  EXPECT_EQ((*imported)(std::vector<NDArray>{x})[0].ToVector<float>(), want[0].ToVector<float>());
  // The imported block trains: gradients reach its parameters.
  {
    autograd::RecordScope record;
    auto out = (*imported)(std::vector<NDArray>{x});
    autograd::Backward({out[1]});
  }
  const auto g = imported->CollectParams().at("testnet0_testdense1_bias")->grad().ToVector<float>();
  for (float v : g)
    EXPECT_FLOAT_EQ(v, 3.f);  // d sum(y)/d bias = batch size
  std::remove(sym_file.c_str());
  std::remove(param_file.c_str());
}

TEST_F(GluonBlockTest, SymbolBlockInsideHybridizedParent) {
  auto inner_src = std::make_shared<TestDense>(3, 4, "relu");
  inner_src->Initialize(std::make_shared<init::Xavier>());
  inner_src->Hybridize();
  const NDArray x = F32(Shape{2, 4}, 9);
  const auto want = (*inner_src)(x).ToVector<float>();
  const auto [s, p] = inner_src->Export(TmpPath("inner"));
  class Wrap : public HybridBlock {
   public:
    explicit Wrap(std::shared_ptr<gluon::SymbolBlock> b) : HybridBlock("wrap") {
      b_ = RegisterChild(std::move(b), "body");
    }
    std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
      return {op::_mul_scalar((*b_)(x[0]), {.scalar = 2.0})};
    }
    std::shared_ptr<gluon::SymbolBlock> b_;
  };
  auto wrap = std::make_shared<Wrap>(gluon::SymbolBlock::Imports(s, {"data"}, p));
  wrap->Hybridize();
  for (int rep = 0; rep < 2; ++rep) {
    const auto got = (*wrap)(x).ToVector<float>();
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_FLOAT_EQ(got[i], 2 * want[i]);
  }
  std::remove(s.c_str());
  std::remove(p.c_str());
}

TEST_F(GluonBlockTest, SaveLoadParametersAndClearErrors) {
  auto net = std::make_shared<TestNet>();
  net->Initialize(std::make_shared<init::Xavier>());
  const NDArray x = F32(Shape{2, 4}, 10);
  const auto want = (*net)(std::vector<NDArray>{x})[0].ToVector<float>();
  const std::string path = TmpPath("net.params");
  net->SaveParameters(path);
  const NDArrayList saved = LoadNDArrays(path);
  EXPECT_EQ(saved.names[4], "fc1.weight");

  gluon::ResetBlockNames();
  auto other = std::make_shared<TestNet>();  // deferred shapes: loading sets them
  other->LoadParameters(path);
  EXPECT_EQ((*other)(std::vector<NDArray>{x})[0].ToVector<float>(), want);

  // Legacy files: full names, restored with the block's prefix.
  auto legacy = std::make_shared<TestNet>(BlockArgs{.prefix = "model_"});
  const std::string legacy_path = TmpPath("legacy.params");
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  for (const auto& [n, p] : net->CollectParams()) {
    arrays.push_back(p->data());
    names.push_back(n.substr(std::string("testnet0_").size()));
  }
  SaveNDArrays(legacy_path, arrays, names);
  legacy->LoadParameters(legacy_path);
  EXPECT_EQ((*legacy)(std::vector<NDArray>{x})[0].ToVector<float>(), want);

  // Errors name the file and the parameter.
  SaveNDArrays(path, std::span<const NDArray>(arrays.data(), 1),
               std::vector<std::string>{"fc1.weight"});
  auto fresh = std::make_shared<TestNet>();
  EXPECT_ERROR(fresh->LoadParameters(path), ValueError, "'gamma' is missing in file", path,
               "allow_missing");
  SaveNDArrays(path, std::vector<NDArray>{NDArray::Zeros(Shape{2})},
               std::vector<std::string>{"fc9.weight"});
  EXPECT_ERROR(fresh->LoadParameters(path, {}, true), ValueError, "'fc9.weight'", "not present",
               "ignore_extra");
  fresh->LoadParameters(path, {}, true, true);
  SaveNDArrays(path, std::vector<NDArray>{NDArray::Zeros(Shape{7})},
               std::vector<std::string>{"fc1.bias"});
  EXPECT_ERROR(fresh->LoadParameters(path, {}, true), ValueError, "'fc1.bias'", "(6,)", "(7,)");
  fresh->Initialize();
  SaveNDArrays(path, std::vector<NDArray>{NDArray::Zeros(Shape{6}, DType::kFloat64)},
               std::vector<std::string>{"fc1.bias"});
  EXPECT_ERROR(fresh->LoadParameters(path, {}, true), ValueError, "dtype", "cast_dtype");
  fresh->LoadParameters(path, {}, true, false, true);
  std::remove(path.c_str());
  std::remove(legacy_path.c_str());
}

TEST_F(GluonBlockTest, HybridizedBlockTakesNoneForAnOptionalInput) {
  class Scale : public HybridBlock {
   public:
    Scale() : HybridBlock("scale") {}
    std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
      if (x[1].is_none()) return {op::_mul_scalar(x[0], {.scalar = 2.0})};
      return {op::elemwise_mul(x[0], x[1])};
    }
  };
  auto b = std::make_shared<Scale>();
  b->Hybridize();
  const NDArray x = F32(Shape{2, 3}, 15), w = F32(Shape{2, 3}, 16);
  const auto xv = x.ToVector<float>(), wv = w.ToVector<float>();
  for (int rep = 0; rep < 2; ++rep) {
    const auto with_none = (*b)(std::vector<NDArray>{x, NDArray()})[0].ToVector<float>();
    const auto with_w = (*b)(std::vector<NDArray>{x, w})[0].ToVector<float>();
    for (size_t i = 0; i < xv.size(); ++i) {
      EXPECT_FLOAT_EQ(with_none[i], 2 * xv[i]);
      EXPECT_FLOAT_EQ(with_w[i], xv[i] * wv[i]);
    }
  }
  EXPECT_EQ(b->num_traces(), 2u);
}

TEST_F(GluonBlockTest, TraceRefusesArraysFromOutside) {
  const NDArray outside = F32(Shape{2, 3}, 11);
  class Bad : public HybridBlock {
   public:
    explicit Bad(NDArray c) : HybridBlock("bad"), c_(std::move(c)) {}
    std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
      return {op::elemwise_add(x[0], c_)};
    }
    NDArray c_;
  };
  auto bad = std::make_shared<Bad>(outside);
  bad->Hybridize();
  EXPECT_ERROR((*bad)(F32(Shape{2, 3}, 12)), ValueError, "'elemwise_add'",
               "neither an input of the block nor a Parameter");
  // A constant is the way to hold such an array.
  class Good : public HybridBlock {
   public:
    explicit Good(NDArray c) : HybridBlock("good") { c_ = RegisterConstant("c", c); }
    std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
      return {op::elemwise_add(x[0], c_->data(x[0].ctx()))};
    }
    gluon::ParameterPtr c_;
  };
  auto good = std::make_shared<Good>(outside);
  good->Initialize();
  good->Hybridize();
  const NDArray x = F32(Shape{2, 3}, 12);
  (*good)(x);
  const auto y = (*good)(x).ToVector<float>();
  const auto xv = x.ToVector<float>(), cv = outside.ToVector<float>();
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_FLOAT_EQ(y[i], xv[i] + cv[i]);
}

TEST_F(GluonBlockTest, TraceRecordsViewsAndCreationOps) {
  sym::TraceScope trace;
  NDArray x = trace.Variable(F32(Shape{4, 3}, 13), "data");
  NDArray y = op::elemwise_add(x.Slice(1, 3).Reshape(Shape{6}),
                               op::Invoke("_ones", {}, {{"shape", "(6,)"}})[0]);
  const sym::Symbol s = trace.GetSymbol(std::span<const NDArray>(&y, 1));
  EXPECT_EQ(s.ListArguments(), (std::vector<std::string>{"data"}));
  const std::string dbg = s.DebugStr();
  EXPECT_NE(dbg.find("slice_axis"), std::string::npos) << dbg;
  EXPECT_NE(dbg.find("Reshape"), std::string::npos) << dbg;
  EXPECT_NE(dbg.find("_ones"), std::string::npos) << dbg;
}

TEST_F(GluonBlockTest, HooksAndSummary) {
  auto net = std::make_shared<TestNet>();
  net->Initialize();
  int pre = 0, post = 0;
  const size_t h1 = net->RegisterForwardPreHook([&](gluon::Block&, const auto&) { ++pre; });
  const size_t h2 = net->RegisterForwardHook(
      [&](gluon::Block&, const auto&, const auto& out) { post += static_cast<int>(out.size()); });
  (*net)(std::vector<NDArray>{F32(Shape{2, 4}, 14)});
  EXPECT_EQ(pre, 1);
  EXPECT_EQ(post, 2);
  net->RemoveHook(h1);
  net->RemoveHook(h2);
  (*net)(std::vector<NDArray>{F32(Shape{2, 4}, 14)});
  EXPECT_EQ(pre, 1);
  const std::string s = net->Summary({F32(Shape{2, 4}, 14)});
  EXPECT_NE(s.find("TestDense-1"), std::string::npos) << s;
  // 4*6+6 + 6*3+3 + 4*6 = 75 parameters, 12 of them running statistics.
  EXPECT_NE(s.find("Total params: 75"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 12"), std::string::npos) << s;
}

}  // namespace
}  // namespace mixnet
