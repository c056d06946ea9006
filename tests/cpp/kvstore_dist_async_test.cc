// dist_async in one process: the scheduler, the servers and the workers as threads on
// 127.0.0.1 (workers are real "dist_async" stores, configured by DMLC_* variables).
#if __has_include(<zmq.h>)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "kvstore/dist_async/van.h"
#include "kvstore/gradient_compression.h"
#include "mixnet/base/error.h"
#include "mixnet/kvstore/kvstore.h"
#include "mixnet/kvstore/server.h"
#include "mixnet/optimizer/optimizer.h"
#include "test_util.h"

namespace mixnet::kvstore {
namespace {

namespace da = dist_async;
using Clock = std::chrono::steady_clock;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

/*! \brief Runs `body(kv)` in `n` worker threads, each with its own dist_async store. */
void Workers(int n, const std::function<void(KVStore&)>& body) {
  std::vector<std::future<void>> w;
  for (int i = 0; i < n; ++i) {
    w.push_back(std::async(std::launch::async, [&] {
      auto kv = KVStore::Create("dist_async");
      body(*kv);
    }));
  }
  for (auto& f : w)
    f.get();
}

/*! \brief Sets DMLC_* / MIXNET_KVSTORE_* for a job and removes them afterwards. */
class Job {
 public:
  Job(int workers, int servers, std::vector<std::pair<std::string, std::string>> extra = {})
      : workers_(workers), servers_(servers) {
    vars_ = {{"DMLC_PS_ROOT_URI", "127.0.0.1"},
             {"DMLC_PS_ROOT_PORT", std::to_string(FreePort())},
             {"DMLC_NUM_WORKER", std::to_string(workers)},
             {"DMLC_NUM_SERVER", std::to_string(servers)},
             {"MIXNET_KVSTORE_TIMEOUT", "20"}};
    vars_.insert(vars_.end(), extra.begin(), extra.end());
    for (auto& [k, v] : vars_)
      setenv(k.c_str(), v.c_str(), 1);
    unsetenv("DMLC_ROLE");
  }
  ~Job() {
    for (auto& [k, v] : vars_)
      unsetenv(k.c_str());
  }
  da::Config Role(const std::string& role) const {
    da::Config c = da::Config::FromEnv();
    c.role = role;
    return c;
  }
  /*! \brief Runs a role on a thread; the future holds its error. */
  std::future<void> Start(const std::string& role) const {
    da::Config c = Role(role);
    return std::async(std::launch::async, [c] {
      if (c.role == "scheduler") {
        da::RunScheduler(c);
      } else {
        da::RunServer(c);
      }
    });
  }

  /*! \brief Runs the scheduler, the servers and the workers (body); returns when all ended,
   * raising the scheduler's or a server's error. */
  void Run(const std::function<void(KVStore&)>& body) const {
    std::vector<std::future<void>> roles;
    roles.push_back(Start("scheduler"));
    for (int i = 0; i < servers_; ++i)
      roles.push_back(Start("server"));
    Workers(workers_, body);
    for (auto& f : roles)
      f.get();
  }

 private:
  int workers_, servers_;
  std::vector<std::pair<std::string, std::string>> vars_;
};

std::vector<float> Pulled(KVStore& kv, int key, const Shape& shape) {
  NDArray out = NDArray::Zeros(shape);
  kv.Pull(key, {out});
  return out.ToVector<float>();
}

std::shared_ptr<optimizer::Optimizer> Sgd(double lr) {
  return optimizer::CreateOptimizer("sgd", {{"learning_rate", std::to_string(lr)}});
}

TEST(KVStoreDistAsync, ShardsInitPushPullWithServerOptimizer) {
  std::string stats = ::testing::TempDir() + "dist_async_stats";
  Job job(2, 2, {{"MIXNET_KVSTORE_BIGARRAY_BOUND", "10"}, {"MIXNET_KVSTORE_SERVER_STATS", stats}});
  const Shape small{3}, big{5, 5};  // 25 > bound 10: split across both servers
  job.Run([&](KVStore& kv) {
    EXPECT_EQ(kv.num_workers(), 2);
    // Rank 0's values win: every worker pulls them.
    float init = 1 + 4.0f * kv.rank();
    kv.Init(std::vector<int>{0, 1}, {NDArray::Full(small, init), NDArray::Full(big, init)});
    for (float x : Pulled(kv, 0, small))
      EXPECT_EQ(x, 1);
    for (float x : Pulled(kv, 1, big))
      EXPECT_EQ(x, 1);
    kv.SetOptimizer(Sgd(0.5));
    kv.Push(0, {NDArray::Full(small, 1)});
    kv.Push(1, {NDArray::Arange(0, 25).Reshape(big)});
    kv.Barrier();
    // Both pushes were applied, each on arrival: w - 0.5 g twice.
    for (float x : Pulled(kv, 0, small))
      EXPECT_EQ(x, 0);
    std::vector<float> b = Pulled(kv, 1, big);
    for (int i = 0; i < 25; ++i)
      EXPECT_FLOAT_EQ(b[i], 1 - static_cast<float>(i));
  });
  // Server 0 holds elements [0, 13) of key 1 and server 1 [13, 25) (MXNet's rounding of 12.5);
  // key 0 lives on one server. Stats list [offset, size] per key.
  int key0 = 0;
  for (int r = 0; r < 2; ++r) {
    std::ifstream f(stats + "." + std::to_string(r));
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(s.find(r == 0 ? "\"1\":[0,13]" : "\"1\":[13,12]"), std::string::npos) << s;
    key0 += s.find("\"0\":[0,3]") != std::string::npos;
    EXPECT_NE(s.find("\"pushes\""), std::string::npos);
  }
  EXPECT_EQ(key0, 1);
}

TEST(KVStoreDistAsync, TwoBitCompressionIsDequantizedOnServers) {
  Job job(1, 2, {{"MIXNET_KVSTORE_BIGARRAY_BOUND", "20"}});
  job.Run([&](KVStore& kv) {
    kv.SetGradientCompression({{"type", "2bit"}, {"threshold", "0.5"}});
    const Shape shape{37};  // split 18/19: shards do not start on a 16-element block
    kv.Init(7, NDArray::Zeros(shape));
    kv.SetOptimizer(Sgd(1));
    std::vector<float> g(37), residual(37, 0.0f), expect(37, 0.0f);
    for (int i = 0; i < 37; ++i)
      g[i] = 0.37f * static_cast<float>(i % 5) - 0.8f;
    for (int step = 0; step < 3; ++step) {
      kv.Push(7, {NDArray::FromVector(g, shape)});
      // MXNet's rule per element: residual += g; send +-threshold once it is reached.
      for (int i = 0; i < 37; ++i) {
        residual[i] += g[i];
        float q = residual[i] >= 0.5f ? 0.5f : residual[i] <= -0.5f ? -0.5f : 0.0f;
        residual[i] -= q;
        expect[i] -= q;
      }
      std::vector<float> got = Pulled(kv, 7, shape);
      for (int i = 0; i < 37; ++i)
        EXPECT_FLOAT_EQ(got[i], expect[i]) << "step " << step << " i " << i;
    }
  });
}

TEST(KVStoreDistAsync, PushesCarryTheWorkersRescaleAndLearningRate) {
  Job job(1, 1);
  job.Run([&](KVStore& kv) {
    kv.Init(2, NDArray::Zeros({2}));
    auto opt = Sgd(1);
    kv.SetOptimizer(opt);
    opt->set_rescale_grad(0.5);  // as Trainer.step(batch_size) after the store was made
    kv.Push(2, {NDArray::Ones({2})});
    for (float x : Pulled(kv, 2, Shape{2}))
      EXPECT_FLOAT_EQ(x, -0.5f);
    opt->set_learning_rate(2);
    kv.Push(2, {NDArray::Ones({2})});
    for (float x : Pulled(kv, 2, Shape{2}))
      EXPECT_FLOAT_EQ(x, -1.5f);
  });
}

TEST(KVStoreDistAsync, ErrorsSurfaceAtTheNextSyncPoint) {
  Job job(1, 1);
  job.Run([&](KVStore& kv) {
    kv.Init(3, NDArray::Ones({4}));
    // MXNet's async servers need an updater: the push's error reaches the next pull.
    kv.Push(3, {NDArray::Ones({4})});
    NDArray out = NDArray::Zeros({4});
    kv.Pull(3, {out});
    EXPECT_ERROR(out.WaitToRead(), Error, "pushed before set_optimizer", "server 0");
    EXPECT_ERROR(kv.SaveOptimizerStates("x"), NotImplementedError, "dist_async");
    EXPECT_ERROR(kv.SetUpdater(Updater([](int, const NDArray&, NDArray*) {})), NotImplementedError,
                 "set_optimizer");
  });
}

TEST(KVStoreDistAsync, DeadWorkerStopsTheJobWithinTheHeartbeatTimeout) {
  Job job(
      2, 1,
      {{"MIXNET_KVSTORE_HEARTBEAT_INTERVAL", "0.2"}, {"MIXNET_KVSTORE_HEARTBEAT_TIMEOUT", "1.5"}});
  auto sched = job.Start("scheduler");
  auto s0 = job.Start("server");
  // A worker that registers and then dies (never heartbeats).
  std::thread ghost([&] {
    da::Context ctx;
    da::Socket s(ctx.get(), ZMQ_DEALER);
    s.Connect(job.Role("worker").SchedulerEndpoint());
    da::Msg reg;
    reg.head.cmd = da::Cmd::kRegister;
    reg.head.arg = 1;
    reg.head.key = -1;
    s.Send(reg);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  auto start = Clock::now();
  Workers(1, [&](KVStore& kv) {
    // The barrier waits for the dead worker until the scheduler gives up on it.
    EXPECT_ERROR(kv.Barrier(), Error, "sent no heartbeat", "MIXNET_KVSTORE_HEARTBEAT_TIMEOUT");
    // Every later request fails at once with the same error.
    EXPECT_ERROR(kv.Init(1, NDArray::Ones({2})), Error, "sent no heartbeat");
  });
  ghost.join();
  EXPECT_ERROR(sched.get(), Error, "sent no heartbeat");
  EXPECT_ERROR(s0.get(), Error, "sent no heartbeat");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 6.0);
}

TEST(KVStoreDistAsync, AServerThatNeverAnswersTimesOutTheRequest) {
  Job job(1, 1, {{"MIXNET_KVSTORE_TIMEOUT", "1"}, {"MIXNET_KVSTORE_HEARTBEAT_TIMEOUT", "30"}});
  auto sched = job.Start("scheduler");
  // A server that registers, then ignores every request (but answers the scheduler's stop).
  auto mute = std::async(std::launch::async, [&] {
    da::Context ctx;
    da::Socket data(ctx.get(), ZMQ_ROUTER), s(ctx.get(), ZMQ_DEALER);
    data.Bind("tcp://127.0.0.1:*");
    s.Connect(job.Role("server").SchedulerEndpoint());
    da::Msg m;
    m.head.cmd = da::Cmd::kRegister;
    m.body = data.LastEndpoint();
    s.Send(m);
    for (auto end = Clock::now() + std::chrono::seconds(10); Clock::now() < end;) {
      void* sock = s.get();
      da::Poll(&sock, 1, -1, 50);
      while (s.TryRecv(&m)) {
        if (m.head.cmd == da::Cmd::kStop) {
          s.Send(m);
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          return;
        }
      }
    }
  });
  auto start = Clock::now();
  Workers(1, [&](KVStore& kv) {
    EXPECT_ERROR(kv.Init(1, NDArray::Ones({2})), Error, "no answer to init of key 1 from server 0",
                 "MIXNET_KVSTORE_TIMEOUT");
  });
  sched.get();
  mute.get();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 5.0);
}

TEST(KVStoreDistAsync, DuplicateWorkerIdsAbortTheRendezvous) {
  Job job(2, 1, {{"DMLC_WORKER_ID", "0"}});
  auto sched = job.Start("scheduler");
  auto s0 = job.Start("server");
  std::vector<std::future<void>> w;
  for (int i = 0; i < 2; ++i)
    w.push_back(std::async(std::launch::async, [] { KVStore::Create("dist_async"); }));
  for (auto& f : w)
    EXPECT_ERROR(f.get(), Error, "worker id 0", "given twice");
  EXPECT_ERROR(sched.get(), Error, "given twice");
  EXPECT_ERROR(s0.get(), Error, "given twice");
}

TEST(KVStoreDistAsync, RolesFromTheEnvironment) {
  unsetenv("DMLC_ROLE");
  EXPECT_FALSE(RunServerRoleFromEnv());  // a worker goes on
  setenv("DMLC_ROLE", "server", 1);
  EXPECT_ERROR(RunServerRoleFromEnv(), ValueError, "DMLC_PS_ROOT_URI is not set");
  EXPECT_ERROR(KVStore::Create("dist_async"), ValueError, "DMLC_ROLE=server");
  unsetenv("DMLC_ROLE");
}

}  // namespace
}  // namespace mixnet::kvstore
#endif
