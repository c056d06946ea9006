// The single-process KVStore ("local", "device"): push/pull over one and several contexts,
// overwrite vs updater, the optimizer on the store, string keys, errors and state files.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"
#include "mixnet/kvstore/kvstore.h"
#include "mixnet/optimizer/optimizer.h"
#include "test_util.h"

namespace mixnet::kvstore {
namespace {

using testing_util::ExpectError;

const Shape kShape{4, 3};

NDArray Filled(float v, Context ctx = Context::cpu()) {
  return NDArray::Full(kShape, v, DType::kFloat32, ctx);
}

void ExpectAll(const NDArray& a, float v) {
  for (float x : a.ToVector<float>())
    ASSERT_FLOAT_EQ(x, v);
}

class KVStoreLocalTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KVStoreLocalTest, SingleKeyPushPull) {
  auto kv = KVStore::Create(GetParam());
  EXPECT_EQ(kv->type(), GetParam());
  EXPECT_EQ(kv->rank(), 0);
  EXPECT_EQ(kv->num_workers(), 1);
  kv->Init(3, Filled(1));
  NDArray out = NDArray::Zeros(kShape);
  kv->Pull(3, {out});
  ExpectAll(out, 1);
  // Without an updater a push replaces the stored value (MXNet), it does not accumulate.
  kv->Push(3, {Filled(4)});
  kv->Push(3, {Filled(5)});
  kv->Pull(3, {out});
  ExpectAll(out, 5);
}

TEST_P(KVStoreLocalTest, AggregatesOverContexts) {
  for (int n : {1, 3}) {
    auto kv = KVStore::Create(GetParam());
    const std::vector<int> keys{5, 7, 9};
    std::vector<NDArray> init;
    for (size_t k = 0; k < keys.size(); ++k)
      init.push_back(Filled(0));
    kv->Init(keys, init);
    std::vector<std::vector<NDArray>> vals(keys.size()), outs(keys.size());
    for (size_t k = 0; k < keys.size(); ++k)
      for (int d = 0; d < n; ++d) {
        vals[k].push_back(Filled(static_cast<float>(k + 1) * (d + 1), Context::cpu(d)));
        outs[k].push_back(NDArray::Zeros(kShape, DType::kFloat32, Context::cpu(d)));
      }
    for (int rep = 0; rep < 2; ++rep) {  // twice: the cached reduction plan is reused
      kv->Push(keys, vals, -1);
      kv->Pull(keys, outs, -1);
      for (size_t k = 0; k < keys.size(); ++k)
        for (int d = 0; d < n; ++d) {
          EXPECT_EQ(outs[k][d].ctx(), Context::cpu(d));
          ExpectAll(outs[k][d], static_cast<float>(k + 1) * n * (n + 1) / 2);
        }
    }
  }
}

TEST_P(KVStoreLocalTest, OneDeviceValuesAreNotCopied) {
  // A pushed array is read by the update directly; writing it afterwards (after the engine
  // ran the push) must not change the store.
  auto kv = KVStore::Create(GetParam());
  kv->Init(0, Filled(0));
  NDArray g = Filled(2);
  kv->Push(0, {g});
  g.Fill(7);
  NDArray out = NDArray::Zeros(kShape);
  kv->Pull(0, {out});
  ExpectAll(out, 2);
}

TEST_P(KVStoreLocalTest, PushPullInPlace) {
  auto kv = KVStore::Create(GetParam());
  kv->Init(std::vector<int>{1}, {Filled(0)});
  std::vector<NDArray> grads{Filled(1, Context::cpu(0)), Filled(2, Context::cpu(1))};
  kv->PushPull(std::vector<int>{1}, {grads}, {grads});
  ExpectAll(grads[0], 3);
  ExpectAll(grads[1], 3);
}

TEST_P(KVStoreLocalTest, Updater) {
  auto kv = KVStore::Create(GetParam());
  kv->Init(0, Filled(1));
  int calls = 0;
  kv->SetUpdater([&calls](int key, const NDArray& recv, NDArray* stored) {
    EXPECT_EQ(key, 0);
    ++calls;
    // stored += 2 * recv
    std::vector<float> r = recv.ToVector<float>(), s = stored->ToVector<float>();
    for (size_t i = 0; i < r.size(); ++i)
      s[i] += 2 * r[i];
    stored->SyncCopyFromHost(s.data(), s.size());
  });
  kv->Push(0, {Filled(1, Context::cpu(0)), Filled(2, Context::cpu(1))});
  kv->Push(0, {Filled(1, Context::cpu(0)), Filled(2, Context::cpu(1))});
  NDArray out = NDArray::Zeros(kShape);
  kv->Pull(0, {out});
  EXPECT_EQ(calls, 2);
  ExpectAll(out, 1 + 2 * 3 + 2 * 3);
}

TEST_P(KVStoreLocalTest, OptimizerOnStoreEqualsOptimizerByHand) {
  auto kv = KVStore::Create(GetParam());
  const op::AttrDict params{{"learning_rate", "0.1"}, {"momentum", "0.9"}, {"wd", "0.01"}};
  std::shared_ptr<optimizer::Optimizer> on_store = optimizer::CreateOptimizer("sgd", params);
  std::unique_ptr<optimizer::Optimizer> by_hand = optimizer::CreateOptimizer("sgd", params);
  kv->SetOptimizer(on_store);
  EXPECT_EQ(kv->optimizer(), on_store);
  const auto w0 = testing_util::Random(12, 1);
  std::vector<float> w0f(w0.begin(), w0.end());
  NDArray w = NDArray::FromVector(w0f, kShape);
  NDArray ref = NDArray::FromVector(w0f, kShape);
  kv->Init(2, w);
  for (int step = 0; step < 3; ++step) {
    const auto g0 = testing_util::Random(12, 10 + step), g1 = testing_util::Random(12, 20 + step);
    std::vector<float> a(g0.begin(), g0.end()), b(g1.begin(), g1.end()), sum(12);
    for (size_t i = 0; i < 12; ++i)
      sum[i] = a[i] + b[i];
    kv->Push(2, {NDArray::FromVector(a, kShape), NDArray::FromVector(b, kShape, Context::cpu(1))},
             -2);
    by_hand->Update(2, ref, NDArray::FromVector(sum, kShape));
  }
  NDArray out = NDArray::Zeros(kShape);
  kv->Pull(2, {out}, -2);
  const auto got = out.ToVector<float>(), want = ref.ToVector<float>();
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_FLOAT_EQ(got[i], want[i]);
  EXPECT_EQ(on_store->update_count(2), 3);
}

TEST_P(KVStoreLocalTest, OptimizerStatesRoundTrip) {
  auto kv = KVStore::Create(GetParam());
  ExpectError<ValueError>([&] { kv->SaveOptimizerStates("/tmp/never"); }, {"set_optimizer"},
                          __LINE__);
  kv->SetOptimizer(
      optimizer::CreateOptimizer("sgd", {{"learning_rate", "0.1"}, {"momentum", "0.9"}}));
  kv->Init(0, Filled(1));
  kv->Push(0, {Filled(1)});
  const std::string path = ::testing::TempDir() + "kvstore_states_" + GetParam();
  kv->SaveOptimizerStates(path);
  const std::vector<float> mom = kv->optimizer()->states(0).at(0).ToVector<float>();
  kv->Push(0, {Filled(3)});  // changes the momentum
  kv->LoadOptimizerStates(path);
  EXPECT_EQ(kv->optimizer()->states(0).at(0).ToVector<float>(), mom);
  EXPECT_EQ(kv->optimizer()->update_count(0), 1);
  std::remove(path.c_str());
}

TEST_P(KVStoreLocalTest, StringKeys) {
  auto kv = KVStore::Create(GetParam());
  kv->Init(std::vector<std::string>{"w", "b"}, {Filled(1), Filled(2)});
  std::vector<std::vector<NDArray>> outs{{NDArray::Zeros(kShape)}, {NDArray::Zeros(kShape)}};
  kv->Push(std::vector<std::string>{"b"}, {{Filled(3), Filled(4, Context::cpu(1))}});
  kv->Pull(std::vector<std::string>{"w", "b"}, outs);
  ExpectAll(outs[0][0], 1);
  ExpectAll(outs[1][0], 7);
  std::vector<std::string> seen;
  kv->SetUpdater(StrUpdater([&seen](const std::string& key, const NDArray& recv, NDArray* stored) {
    seen.push_back(key);
    recv.CopyTo(*stored);
  }));
  kv->PushPull(std::vector<std::string>{"w"}, {{Filled(9)}}, {outs[0]});
  ExpectAll(outs[0][0], 9);
  EXPECT_EQ(seen, std::vector<std::string>{"w"});
  ExpectError<ValueError>([&] { kv->Pull(std::vector<std::string>{"nope"}, outs); },
                          {"'nope'", "not been initialized"}, __LINE__);
  ExpectError<ValueError>([&] { kv->Init(std::vector<std::string>{"w"}, {Filled(0)}); },
                          {"duplicate", "'w'"}, __LINE__);
}

TEST_P(KVStoreLocalTest, Errors) {
  auto kv = KVStore::Create(GetParam());
  kv->Init(1, Filled(0));
  ExpectError<ValueError>([&] { kv->Init(1, Filled(0)); }, {"duplicate init of key 1"}, __LINE__);
  ExpectError<ValueError>([&] { kv->Pull(2, {Filled(0)}); }, {"key 2", "not been initialized"},
                          __LINE__);
  ExpectError<ValueError>([&] { kv->Push(2, {Filled(0)}); }, {"key 2", "not been initialized"},
                          __LINE__);
  ExpectError<ValueError>(
      [&] {
        kv->Push(1, {NDArray::Zeros({2, 2})});
      },
      {"key 1", "(4, 3)", "(2, 2)"}, __LINE__);
  ExpectError<ValueError>([&] { kv->Push(1, {NDArray::Zeros(kShape, DType::kFloat64)}); },
                          {"key 1", "float64"}, __LINE__);
  ExpectError<ValueError>([&] { kv->Pull(1, {NDArray::Zeros({3})}); }, {"key 1", "(3,)"}, __LINE__);
}

TEST_P(KVStoreLocalTest, BroadcastAndRowSparsePull) {
  auto kv = KVStore::Create(GetParam());
  std::vector<float> v(12);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i + 1);
  std::vector<NDArray> outs{NDArray::Zeros(kShape),
                            NDArray::Zeros(kShape, DType::kFloat32, Context::cpu(1))};
  kv->Broadcast(std::vector<int>{4}, {NDArray::FromVector(v, kShape)}, {outs}, 3);
  EXPECT_EQ(outs[1].ToVector<float>(), v);
  NDArray rows = NDArray::FromVector<int64_t>({2, 0}, {2});
  NDArray frows = NDArray::FromVector<float>({3}, {1});
  kv->RowSparsePull(std::vector<int>{4}, {outs}, {{rows, frows}});
  EXPECT_EQ(outs[0].ToVector<float>(), (std::vector<float>{1, 2, 3, 0, 0, 0, 7, 8, 9, 0, 0, 0}));
  EXPECT_EQ(outs[1].ToVector<float>(), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 11, 12}));
  kv->Barrier();
}

INSTANTIATE_TEST_SUITE_P(Kinds, KVStoreLocalTest, ::testing::Values("local", "device"));

TEST(KVStoreCreateTest, Kinds) {
  ExpectError<ValueError>([] { KVStore::Create("nope"); }, {"unknown kind 'nope'", "'local'"},
                          __LINE__);
  // Only the kinds registered by a built distributed store exist.
  try {
    KVStore::Create("dist_sync_test_unregistered");
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("MPI"), std::string::npos) << e.what();
  }
  auto local = KVStore::Create("local");
  ExpectError<ValueError>(
      [&] {
        local->SetGradientCompression({{"type", "2bit"}});
      },
      {"not supported", "'local'"}, __LINE__);
  auto device = KVStore::Create("device");
  ExpectError<ValueError>(
      [&] {
        device->SetGradientCompression({{"type", "1bit"}});
      },
      {"unknown type '1bit'"}, __LINE__);
  ExpectError<ValueError>(
      [&] {
        device->SetGradientCompression({{"type", "2bit"}, {"threshold", "0"}});
      },
      {"greater than 0"}, __LINE__);
  device->SetGradientCompression({{"type", "2bit"}, {"threshold", "1"}});
  EXPECT_TRUE(KVStore::IsWorkerNode());
}

}  // namespace
}  // namespace mixnet::kvstore
