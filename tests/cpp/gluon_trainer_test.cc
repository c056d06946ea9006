// gluon::Trainer against hand-computed MXNet 1.x updates: SGD with momentum and Adam with
// lr_mult/wd_mult, rescaling by the batch size, parameter indices, state files, stale
// gradients, the learning rate, several contexts, and errors.
#include "mixnet/gluon/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kvstore/kvstore_local.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/block.h"
#include "mixnet/gluon/loss.h"
#include "mixnet/op/invoke.h"
#include "mixnet/optimizer/lr_scheduler.h"
#include "test_util.h"

namespace mixnet::gluon {
namespace {

using Vec = std::vector<double>;

ParameterPtr MakeParam(const std::string& name, const Vec& values, Shape shape,
                       std::vector<Context> ctxs = {Context::cpu()}) {
  auto p = std::make_shared<Parameter>(name, shape);
  p->Initialize(nullptr, ctxs);
  p->SetData(NDArray::FromVector(std::vector<float>(values.begin(), values.end()), shape));
  return p;
}

Vec Values(const NDArray& x) {
  const auto v = x.ToVector<float>();
  return {v.begin(), v.end()};
}

/*!
 * \brief Runs backward through sum(data * g) for each (parameter, g), so each parameter's
 * gradient on context `ctx` becomes g.
 */
void Backprop(const std::vector<std::pair<ParameterPtr, Vec>>& grads,
              Context ctx = Context::cpu()) {
  std::vector<NDArray> heads;
  {
    autograd::RecordScope record;
    for (const auto& [p, g] : grads) {
      const NDArray gx =
          NDArray::FromVector(std::vector<float>(g.begin(), g.end()), p->shape(), ctx);
      heads.push_back(op::Invoke("sum", {op::Invoke("elemwise_mul", {p->data(ctx), gx})[0]})[0]);
    }
  }
  autograd::Backward(heads);
}

ParameterDict Dict(const std::vector<ParameterPtr>& ps) {
  ParameterDict d;
  for (const auto& p : ps)
    d.Add(p);
  return d;
}

const Vec kW0{0.5, -1.0, 2.0, 0.25, -0.75, 1.5}, kB0{0.1, -0.2, 0.3};
const Vec kGW1{0.2, -0.4, 0.6, 1.0, -0.8, 0.3}, kGB1{0.5, 0.25, -1.0};
const Vec kGW2{-0.1, 0.3, 0.2, -0.5, 0.9, 0.4}, kGB2{-0.3, 0.7, 0.2};

TEST(GluonTrainer, SgdMomentumWithMultipliers) {
  // Sorted names give the indices: "net_bias" is 0, "net_weight" 1 (MXNet sorts the dict).
  auto w = MakeParam("net_weight", kW0, {2, 3});
  auto b = MakeParam("net_bias", kB0, {3});
  w->wd_mult = 0.5;
  b->lr_mult = 2.0;  // Gluon decays biases too (wd_mult 1) unless told otherwise
  Trainer trainer(Dict({w, b}), "sgd",
                  {{"learning_rate", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}});
  ASSERT_EQ(trainer.params().size(), 2u);
  EXPECT_EQ(trainer.params()[0]->name(), "net_bias");
  EXPECT_EQ(trainer.optimizer().param_names().at(1), "net_weight");

  const double lr = 0.1, mom = 0.9, wd = 0.01, batch = 4;
  Vec rw = kW0, rb = kB0, mw(6, 0.0), mb(3, 0.0);
  // MXNet's sgd_mom_update: m = mom * m - lr * (rescale * g + wd * w); w += m.
  const auto ref = [&](Vec& x, Vec& m, const Vec& g, double lr_mult, double wd_mult) {
    for (size_t i = 0; i < x.size(); ++i) {
      m[i] = mom * m[i] - lr * lr_mult * (g[i] / batch + wd * wd_mult * x[i]);
      x[i] += m[i];
    }
  };
  for (const auto& [gw, gb] : {std::pair{kGW1, kGB1}, std::pair{kGW2, kGB2}}) {
    Backprop({{w, gw}, {b, gb}});
    trainer.Step(static_cast<int>(batch));
    ref(rw, mw, gw, 1.0, 0.5);
    ref(rb, mb, gb, 2.0, 1.0);
    testing_util::ExpectNear(Values(w->data()), rw, 1e-6);
    testing_util::ExpectNear(Values(b->data()), rb, 1e-6);
  }
  // The momentum of index 0 is the bias's.
  testing_util::ExpectNear(Values(trainer.optimizer().states(0)[0]), mb, 1e-6);
  EXPECT_EQ(trainer.optimizer().update_count(1), 2);
}

TEST(GluonTrainer, AdamWithMultipliersAndRescale) {
  auto w = MakeParam("fc_weight", kW0, {2, 3});
  auto b = MakeParam("fc_bias", kB0, {3});
  w->lr_mult = 0.5;
  b->wd_mult = 0.0;
  // rescale_grad given at creation multiplies 1 / batch_size (MXNet's trainer._scale).
  Trainer trainer(Dict({w, b}), "adam",
                  {{"learning_rate", "0.01"}, {"wd", "0.1"}, {"rescale_grad", "2"}});
  const double lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, rescale = 2.0 / 3;
  Vec rw = kW0, rb = kB0, mw(6), vw(6), mb(3), vb(3);
  const auto ref = [&](Vec& x, Vec& m, Vec& v, const Vec& g, double lr_mult, double wd_mult,
                       int t) {
    // MXNet's Adam: bias correction folded into the rate; decay added to the gradient.
    const double step_lr = lr * lr_mult * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < x.size(); ++i) {
      const double gi = g[i] * rescale + wd * wd_mult * x[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      x[i] -= step_lr * m[i] / (std::sqrt(v[i]) + eps);
    }
  };
  int t = 0;
  for (const auto& [gw, gb] : {std::pair{kGW1, kGB1}, std::pair{kGW2, kGB2}}) {
    Backprop({{w, gw}, {b, gb}});
    trainer.Step(3);
    ++t;
    ref(rw, mw, vw, gw, 0.5, 1.0, t);
    ref(rb, mb, vb, gb, 1.0, 0.0, t);
    testing_util::ExpectNear(Values(w->data()), rw, 1e-6);
    testing_util::ExpectNear(Values(b->data()), rb, 1e-6);
  }
  EXPECT_DOUBLE_EQ(trainer.optimizer().rescale_grad(), 2.0 / 3);
}

TEST(GluonTrainer, MultipliersAreReadAtEveryStep) {
  auto w = MakeParam("w", {1.0, 2.0}, {2});
  Trainer trainer(Dict({w}), "sgd", {{"learning_rate", "1"}});
  Backprop({{w, {1.0, 1.0}}});
  trainer.Step(1);
  w->lr_mult = 0.0;  // frozen from now on
  Backprop({{w, {1.0, 1.0}}});
  trainer.Step(1);
  testing_util::ExpectNear(Values(w->data()), {0.0, 1.0}, 1e-7);
}

TEST(GluonTrainer, StatesRoundTrip) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "mixnet_gluon_trainer_test.states").string();
  const op::AttrDict adam{{"learning_rate", "0.01"}, {"wd", "0.1"}};
  auto w1 = MakeParam("w", kW0, {2, 3});
  Trainer t1(Dict({w1}), "adam", adam);
  Backprop({{w1, kGW1}});
  t1.Step(2);
  t1.SaveStates(path);

  // A second trainer on a copy of the weights continues exactly where the first left off.
  auto w2 = MakeParam("w", Values(w1->data()), {2, 3});
  Trainer t2(Dict({w2}), "adam", adam);
  t2.LoadStates(path);
  EXPECT_EQ(t2.optimizer().update_count(0), 1);
  testing_util::ExpectNear(Values(t2.optimizer().states(0)[1]), Values(t1.optimizer().states(0)[1]),
                           0);
  Backprop({{w1, kGW2}});
  t1.Step(2);
  Backprop({{w2, kGW2}});
  t2.Step(2);
  testing_util::ExpectNear(Values(w2->data()), Values(w1->data()), 0);
  std::remove(path.c_str());
  EXPECT_ERROR(t2.LoadStates(path), ValueError, "Trainer.LoadStates: cannot open");
}

TEST(GluonTrainer, StaleGradients) {
  auto w = MakeParam("net_w", {1.0, 2.0}, {2});
  auto b = MakeParam("net_b", {3.0}, {1});
  Trainer trainer(Dict({w, b}), "sgd", {{"learning_rate", "0.5"}});
  // Never written by backward: stale from the start, as MXNet.
  Backprop({{w, {1.0, 1.0}}});
  EXPECT_ERROR(trainer.Step(1), ValueError, "parameter 'net_b'", "cpu(0)",
               "has not been updated by backward", "ignore_stale_grad");
  testing_util::ExpectNear(Values(w->data()), {1.0, 2.0}, 0);  // nothing was updated
  // Skipping it updates the rest.
  trainer.Step(1, true);
  testing_util::ExpectNear(Values(w->data()), {0.5, 1.5}, 1e-7);
  testing_util::ExpectNear(Values(b->data()), {3.0}, 0);
  // The gradient of w was consumed: a second step without backward finds it stale too.
  EXPECT_ERROR(trainer.Step(1), ValueError, "parameter 'net_b'");
  Backprop({{b, {2.0}}});
  EXPECT_ERROR(trainer.Step(1), ValueError, "parameter 'net_w'");
  // Parameters without gradients are never stale.
  b->SetGradReq(GradReq::kNull);
  Backprop({{w, {1.0, 1.0}}});
  trainer.Step(1);
  testing_util::ExpectNear(Values(w->data()), {0.0, 1.0}, 1e-7);
}

TEST(GluonTrainer, BackwardBeforeTheTrainerExistsCounts) {
  auto w = MakeParam("w", {1.0}, {1});
  Backprop({{w, {2.0}}});
  Trainer trainer(Dict({w}), "sgd", {{"learning_rate", "0.25"}});
  trainer.Step(1);
  testing_util::ExpectNear(Values(w->data()), {0.5}, 1e-7);
}

TEST(GluonTrainer, LearningRate) {
  auto w = MakeParam("w", {1.0}, {1});
  Trainer trainer(Dict({w}), "sgd", {{"learning_rate", "0.1"}});
  EXPECT_DOUBLE_EQ(trainer.learning_rate(), 0.1);
  trainer.SetLearningRate(0.5);
  EXPECT_DOUBLE_EQ(trainer.learning_rate(), 0.5);
  Backprop({{w, {1.0}}});
  trainer.Step(1);
  testing_util::ExpectNear(Values(w->data()), {0.5}, 1e-7);

  auto opt = optimizer::CreateOptimizer("sgd", {{"learning_rate", "1"}});
  opt->SetLRScheduler(std::make_shared<FactorScheduler>(1, 0.5, 1e-8, 1.0));
  Trainer scheduled(Dict({w}), std::move(opt));
  EXPECT_DOUBLE_EQ(scheduled.learning_rate(), 1.0);
  EXPECT_ERROR(scheduled.SetLearningRate(0.1), ValueError, "LRScheduler");
}

TEST(GluonTrainer, KVStoreRules) {
  const std::vector<Context> ctxs{Context::cpu(0), Context::cpu(1)};
  auto w = MakeParam("w", {1.0, 2.0}, {2}, ctxs);
  Trainer none(Dict({w}), "sgd", {}, {.kvstore = "none"});
  EXPECT_EQ(none.kvstore(), nullptr);
  EXPECT_FALSE(none.update_on_kvstore());
  Trainer local(Dict({w}), "sgd", {}, {.kvstore = "local"});
  ASSERT_NE(local.kvstore(), nullptr);
  EXPECT_EQ(local.kvstore()->type(), "local");
  EXPECT_FALSE(local.update_on_kvstore());
  EXPECT_FALSE(local.distributed());
  std::shared_ptr<kvstore::KVStore> given = kvstore::KVStore::Create("device");
  auto one = MakeParam("one", {1.0}, {1});
  Trainer with_object(Dict({one}), "sgd", {}, {.kvstore_object = given, .update_on_kvstore = true});
  EXPECT_EQ(with_object.kvstore(), given);  // a given store is used even for one context
  EXPECT_TRUE(with_object.update_on_kvstore());
  EXPECT_EQ(given->optimizer().get(), &with_object.optimizer());
  EXPECT_ERROR(with_object.AllreduceGrads(), ValueError, "update_on_kvstore");
  EXPECT_ERROR(with_object.Update(1), ValueError, "update_on_kvstore");
}

/*! \brief A local store that records the pushes it applies (key, priority). */
class RecordingStore : public kvstore::KVStoreLocal {
 public:
  RecordingStore() : KVStoreLocal("device") {}
  std::vector<std::pair<int, int>> pushes;

 protected:
  void PushMerged(int key, const NDArray& merged, int priority) override {
    pushes.emplace_back(key, priority);
    KVStoreLocal::PushMerged(key, merged, priority);
  }
};

TEST(GluonTrainer, PushPullsLastParameterFirst) {
  // NOTE [ Reverse pushpull order ]: dist_sync reduces in call order, and backward produces
  // the last parameter's gradient first; priority stays -index.
  const std::vector<Context> ctxs{Context::cpu(0), Context::cpu(1)};
  for (bool on_kv : {false, true}) {
    auto a = MakeParam("a", {1.0}, {1}, ctxs), b = MakeParam("b", {2.0}, {1}, ctxs),
         c = MakeParam("c", {3.0}, {1}, ctxs);
    auto store = std::make_shared<RecordingStore>();
    Trainer trainer(Dict({c, a, b}), "sgd", {{"learning_rate", "0.1"}},
                    {.kvstore_object = store, .update_on_kvstore = on_kv});
    for (const Context& ctx : ctxs)
      Backprop({{a, {1.0}}, {b, {1.0}}, {c, {1.0}}}, ctx);
    trainer.Step(1);
    EXPECT_EQ(store->pushes, (std::vector<std::pair<int, int>>{{2, -2}, {1, -1}, {0, 0}}));
    for (const Context& ctx : ctxs)  // sorted names: a, b, c are keys 0, 1, 2
      testing_util::ExpectNear(Values(c->data(ctx)), {3.0 - 0.1 * 2}, 1e-6);
  }
}

TEST(GluonTrainer, SeveralContextsUpdateOnKVStore) {
  // The same numbers as SeveralContextsSumGradients, with the store running the optimizer.
  const std::vector<Context> ctxs{Context::cpu(0), Context::cpu(1)};
  for (const char* kind : {"device", "local"}) {
    auto w = MakeParam("w", {1.0, 2.0}, {2}, ctxs);
    Trainer trainer(Dict({w}), "sgd", {{"learning_rate", "0.1"}},
                    {.kvstore = kind, .update_on_kvstore = true});
    // Different values per context: the first step's pull makes both the first context's.
    w->data(ctxs[1]).Fill(5);
    Backprop({{w, {1.0, 2.0}}}, ctxs[0]);
    Backprop({{w, {3.0, -4.0}}}, ctxs[1]);
    trainer.Step(2);
    for (const Context& c : ctxs)
      testing_util::ExpectNear(Values(w->data(c)), {0.8, 2.1}, 1e-7);
    EXPECT_ERROR(trainer.Step(2), ValueError, "parameter 'w'");
    const std::string path = ::testing::TempDir() + "trainer_kv_states";
    trainer.SaveStates(path);
    trainer.LoadStates(path);
    std::remove(path.c_str());
  }
}

TEST(GluonTrainer, SeveralContextsSumGradients) {
  const std::vector<Context> ctxs{Context::cpu(0), Context::cpu(1)};
  auto w = MakeParam("w", {1.0, 2.0}, {2}, ctxs);
  Trainer trainer(Dict({w}), "sgd", {{"learning_rate", "0.1"}});
  Backprop({{w, {1.0, 2.0}}}, ctxs[0]);
  Backprop({{w, {3.0, -4.0}}}, ctxs[1]);
  trainer.AllreduceGrads();
  for (const Context& c : ctxs)
    testing_util::ExpectNear(Values(w->grad(c)), {4.0, -2.0}, 0);
  trainer.Update(2);
  for (const Context& c : ctxs)
    testing_util::ExpectNear(Values(w->data(c)), {0.8, 2.1}, 1e-7);
  // The reduction wrote the gradients, but only backward makes them fresh.
  EXPECT_ERROR(trainer.Step(2), ValueError, "parameter 'w'");
  Backprop({{w, {1.0, 1.0}}}, ctxs[0]);
  EXPECT_ERROR(trainer.Step(2), ValueError, "parameter 'w' on context cpu(1)");
}

/*! \brief Dense(1, in_units=3) without the nn layers: the same parameters and op. */
class TinyDense : public HybridBlock {
 public:
  TinyDense() : HybridBlock("dense") {
    weight_ = RegisterParameter("weight", Shape{1, 3});
    bias_ = RegisterParameter("bias", Shape{1});
  }
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& x) override {
    return op::Invoke("FullyConnected", {x[0], weight_->data(x[0].ctx()), bias_->data(x[0].ctx())},
                      {{"num_hidden", "1"}});
  }
  ParameterPtr weight_, bias_;
};

TEST(GluonTrainer, TrainsLikeMXNet) {
  // MXNet 1.9.1: Dense(1, in_units=3) and L2Loss, both hybridized, on these four samples;
  // three SGD steps (lr 0.1, momentum 0.9, wd 0.01), then three Adam steps (lr 0.05, wd 0.01)
  // from a second trainer.
  ResetBlockNames();
  auto net = std::make_shared<TinyDense>();
  net->Initialize();
  net->weight_->SetData(NDArray::FromVector(std::vector<float>{0.2f, -0.5f, 0.1f}, {1, 3}));
  net->bias_->SetData(NDArray::FromVector(std::vector<float>{0.3f}, {1}));
  net->Hybridize();
  loss::L2Loss loss_fn;
  loss_fn.Hybridize();
  const auto x = NDArray::FromVector(
      std::vector<float>{1, 2, 3, 0.5, -1, 2, -2, 0.5, 1, 1.5, 1, -0.5}, {4, 3});
  const auto y = NDArray::FromVector(std::vector<float>{1, -0.5, 2, 0.25}, {4, 1});
  const auto train = [&](Trainer& trainer) {
    for (int i = 0; i < 3; ++i) {
      NDArray l;
      {
        autograd::RecordScope record;
        l = loss_fn({(*net)(x), y})[0];
      }
      autograd::Backward({l});
      trainer.Step(4);
    }
  };
  Trainer sgd(net->CollectParams(), "sgd",
              {{"learning_rate", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}});
  EXPECT_EQ(sgd.params()[0]->name(), "dense0_bias");
  train(sgd);
  testing_util::ExpectNear(Values(net->weight_->data()), {-0.29413378, 0.13469937, 0.28384188},
                           1e-5);
  testing_util::ExpectNear(Values(net->bias_->data()), {0.499394}, 1e-5);
  Trainer adam(net->CollectParams(), "adam", {{"learning_rate", "0.05"}, {"wd", "0.01"}});
  train(adam);
  testing_util::ExpectNear(Values(net->weight_->data()), {-0.44128674, 0.284942, 0.13824774}, 1e-5);
  testing_util::ExpectNear(Values(net->bias_->data()), {0.36319485}, 1e-5);
}

TEST(GluonTrainer, Errors) {
  auto w = MakeParam("w", {1.0}, {1});
  EXPECT_ERROR(Trainer(Dict({w}), "sgd", {}, {.kvstore = "dist_async", .update_on_kvstore = false}),
               ValueError, "update_on_kvstore to True", "async");
  {
    // One context and a non-distributed kind: no store is made, so no error (MXNet).
    Trainer one(Dict({w}), "sgd", {}, {.kvstore = "nccl2"});
    EXPECT_EQ(one.kvstore(), nullptr);
    auto two = MakeParam("two", {1.0}, {1}, {Context::cpu(0), Context::cpu(1)});
    EXPECT_ERROR(Trainer(Dict({two}), "sgd", {}, {.kvstore = "nccl2"}), ValueError,
                 "unknown kind 'nccl2'");
  }
  EXPECT_ERROR(Trainer(Dict({w}), "nosuch"), ValueError, "nosuch");
  auto v = MakeParam("v", {1.0}, {1}, {Context::cpu(0), Context::cpu(1)});
  EXPECT_ERROR(Trainer(Dict({w, v}), "sgd"), ValueError, "same set of contexts", "'w'", "'v'");

  auto later = std::make_shared<Parameter>("later", Shape{0});
  later->Initialize();  // deferred: the shape is unknown
  Trainer trainer(Dict({w, later}), "sgd");
  Backprop({{w, {1.0}}});
  EXPECT_ERROR(trainer.Step(1), ValueError, "parameter 'later' has not been initialized",
               "deferred");
  EXPECT_ERROR(trainer.Step(0), ValueError, "batch_size must be > 0");
}

}  // namespace
}  // namespace mixnet::gluon
