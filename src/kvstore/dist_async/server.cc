// The dist_async server: holds shards of the keys and applies the workers' pushes as they
// arrive (NOTE [ dist_async protocol ] in van.h, NOTE [ dist_async server ] below).
#include <zmq.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "kvstore/dist_async/van.h"
#include "kvstore/gradient_compression.h"
#include "mixnet/base/error.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/optimizer/optimizer.h"

namespace mixnet::kvstore::dist_async {

std::string EncodeOptimizer(const optimizer::Optimizer& opt) {
  nlohmann::json j;
  j["name"] = opt.name();
  nlohmann::json kwargs = nlohmann::json::object();
  for (const auto& [k, v] : opt.kwargs())
    kwargs[k] = v;
  // What may have changed since creation (MXNet pickles the optimizer as it is now).
  kwargs["rescale_grad"] = std::to_string(opt.rescale_grad());
  kwargs["begin_num_update"] = std::to_string(opt.num_update());
  if (!opt.lr_scheduler()) kwargs["learning_rate"] = std::to_string(opt.learning_rate());
  j["kwargs"] = kwargs;
  j["lr_mult"] = opt.lr_mult();
  j["wd_mult"] = opt.wd_mult();
  nlohmann::json names = nlohmann::json::object();
  for (const auto& [i, n] : opt.param_names())
    names[std::to_string(i)] = n;
  j["idx2name"] = names;
  return j.dump();
}

std::unique_ptr<optimizer::Optimizer> DecodeOptimizer(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body);
  op::AttrDict kwargs;
  for (const auto& [k, v] : j["kwargs"].items())
    kwargs.emplace_back(k, v.get<std::string>());
  auto opt = optimizer::CreateOptimizer(j["name"].get<std::string>(), kwargs);
  std::map<int, std::string> names;
  for (const auto& [i, n] : j["idx2name"].items())
    names[std::stoi(i)] = n.get<std::string>();
  opt->SetParamNames(std::move(names));
  opt->SetLrMult(j["lr_mult"].get<std::map<std::string, double>>());
  opt->SetWdMult(j["wd_mult"].get<std::map<std::string, double>>());
  return opt;
}

namespace {

using Clock = std::chrono::steady_clock;

/*
 * NOTE [ dist_async server ]
 * A server keeps, per key, the shard of the array it owns (a 1-D array of the key's dtype:
 * the whole array for a small key, a contiguous range of a big one). As MXNet 1.x's
 * KVStoreDistServer with sync_mode false (DataHandleDefault): the first value is the init;
 * every later push is applied at once, alone, by the updater: here the optimizer that
 * set_optimizer sent (parameter index = key). MXNet's server aborts on a push without an
 * updater ("Updater needs to be set for async mode"); this one answers that push with the same
 * rule as an error, which the worker raises at its next sync point. A pull answers with the
 * current shard. A 2-bit push is dequantized first (MXNet's rule). Requests are served one at
 * a time, in arrival order.
 *
 * NOTE [ dist_async optimizer hyper-parameters ]
 * MXNet's servers keep the optimizer as it was pickled by set_optimizer, so a later
 * Trainer.set_learning_rate, or a rescale_grad that Trainer.step(batch_size) sets after the
 * store was made, never reaches them. Here each push carries the pushing worker's current
 * rescale_grad and learning rate, and the server's optimizer takes them before the update.
 */
class Server {
 public:
  explicit Server(const Config& cfg)
      : cfg_(cfg), sched_(ctx_.get(), ZMQ_DEALER), data_(ctx_.get(), ZMQ_ROUTER) {
    data_.Bind("tcp://" + LocalAddressTowards(cfg.root_uri) + ":*");
    sched_.Connect(cfg.SchedulerEndpoint());
    Msg reg;
    reg.head.cmd = Cmd::kRegister;
    reg.head.arg = 0;
    reg.head.key = cfg.server_id;
    reg.body = data_.LastEndpoint();
    sched_.Send(reg);
  }

  void Run() {
    auto hb_every = std::chrono::duration<double>(cfg_.heartbeat_interval_s);
    auto sched_timeout =
        std::chrono::duration<double>(rank_ < 0 ? cfg_.timeout_s : cfg_.heartbeat_timeout_s);
    auto last_hb = Clock::now();
    last_heard_ = Clock::now();
    while (true) {
      void* socks[2] = {sched_.get(), data_.get()};
      Poll(socks, 2, -1, 100);
      Msg m;
      std::string from;
      while (sched_.TryRecv(&m)) {
        last_heard_ = Clock::now();
        if (m.head.cmd == Cmd::kTable) {
          rank_ = m.head.key;
          sched_timeout = std::chrono::duration<double>(cfg_.heartbeat_timeout_s);
        } else if (m.head.cmd == Cmd::kStop) {
          WriteStats();
          Msg ack;
          ack.head.cmd = Cmd::kStop;
          sched_.Send(ack);
          // The answer must leave before the socket closes with linger 0.
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          return;
        } else if (m.head.cmd == Cmd::kAbort) {
          MX_THROW(Error) << m.body;
        }
      }
      while (data_.TryRecv(&m, &from))
        Serve(m, from);
      auto now = Clock::now();
      if (rank_ >= 0 && now - last_hb > hb_every) {
        Msg hb;
        hb.head.cmd = Cmd::kHeartbeat;
        sched_.Send(hb);
        last_hb = now;
      }
      MX_CHECK(now - last_heard_ < sched_timeout, Error)
          << "dist_async server: no word from the scheduler at " << cfg_.SchedulerEndpoint()
          << (rank_ < 0 ? " (rendezvous, MIXNET_KVSTORE_TIMEOUT)"
                        : " (MIXNET_KVSTORE_HEARTBEAT_TIMEOUT)")
          << ": it is gone; stopping";
    }
  }

 private:
  struct Shard {
    NDArray value;
    int64_t offset;
  };

  void Serve(const Msg& m, const std::string& from) {
    Msg r;
    r.head = m.head;
    r.head.cmd = Cmd::kReply;
    try {
      switch (m.head.cmd) {
        case Cmd::kInit:
          Init(m);
          break;
        case Cmd::kPush:
          Push(m);
          break;
        case Cmd::kPull: {
          const Shard& s = Find(m);
          r.body.resize(s.value.nbytes());
          s.value.SyncCopyToHost(r.body.data(), static_cast<size_t>(s.value.Size()));
          ++pulls_;
          break;
        }
        case Cmd::kSetOptimizer:
          optimizer_ = DecodeOptimizer(m.body);
          break;
        default:
          MX_INTERNAL_ASSERT(false)
              << "dist_async server: unexpected command " << static_cast<int>(m.head.cmd);
      }
    } catch (const std::exception& e) {
      r.head.cmd = Cmd::kError;
      r.body = "dist_async server " + std::to_string(rank_) + ": " + e.what();
    }
    data_.Send(r, &from);
  }

  DType DTypeOfMsg(const Msg& m) const { return static_cast<DType>(m.head.arg); }

  void Init(const Msg& m) {
    DType dt = DTypeOfMsg(m);
    MX_INTERNAL_ASSERT(m.body.size() == static_cast<size_t>(m.head.length) * DTypeSize(dt));
    NDArray v = NDArray::FromHost(m.body.data(), Shape{m.head.length}, dt);
    shards_[m.head.key] = Shard{v, m.head.offset};
  }

  const Shard& Find(const Msg& m) const {
    auto it = shards_.find(m.head.key);
    MX_CHECK(it != shards_.end(), ValueError)
        << "key " << m.head.key << " has not been initialized (kv.init it first)";
    const Shard& s = it->second;
    MX_CHECK(s.offset == m.head.offset && s.value.Size() == m.head.length, ValueError)
        << "key " << m.head.key << " holds elements [" << s.offset << ", "
        << s.offset + s.value.Size() << ") here but the request is for [" << m.head.offset << ", "
        << m.head.offset + m.head.length << "): its shape differs from the init's";
    return s;
  }

  void Push(const Msg& m) {
    const Shard& s = Find(m);
    MX_CHECK(optimizer_, ValueError)
        << "key " << m.head.key << " was pushed before set_optimizer: as MXNet's, dist_async "
        << "servers apply pushes with the optimizer (\"Updater needs to be set for async "
        << "mode\"); call kv.set_optimizer (gluon.Trainer does with update_on_kvstore)";
    NDArray grad;
    if (m.head.threshold > 0) {
      MX_INTERNAL_ASSERT(s.value.dtype() == DType::kFloat32);
      auto gc = GradientCompression::Create(
          {{"type", "2bit"}, {"threshold", std::to_string(m.head.threshold)}});
      std::vector<float> dense(static_cast<size_t>(m.head.length));
      size_t words = m.body.size() / sizeof(uint32_t);
      MX_INTERNAL_ASSERT(static_cast<int64_t>(words) ==
                         GradientCompression::CompressedWords(m.head.length));
      gc->Dequantize({reinterpret_cast<const uint32_t*>(m.body.data()), words}, dense);
      grad = NDArray::FromHost(dense.data(), Shape{m.head.length}, DType::kFloat32);
    } else {
      MX_INTERNAL_ASSERT(m.body.size() == s.value.nbytes() && DTypeOfMsg(m) == s.value.dtype());
      grad = NDArray::FromHost(m.body.data(), Shape{m.head.length}, s.value.dtype());
    }
    // NOTE [ dist_async optimizer hyper-parameters ]
    if (m.head.rescale_grad > 0) optimizer_->set_rescale_grad(m.head.rescale_grad);
    if (m.head.learning_rate > 0 && !optimizer_->lr_scheduler())
      optimizer_->set_learning_rate(m.head.learning_rate);
    optimizer_->Update(m.head.key, s.value, grad);
    s.value.WaitToRead();  // raises the update's error here, answered to the pusher
    ++pushes_;
  }

  void WriteStats() const {
    if (cfg_.stats_path.empty()) return;
    nlohmann::json j;
    j["rank"] = rank_;
    j["pushes"] = pushes_;
    j["pulls"] = pulls_;
    nlohmann::json keys = nlohmann::json::object();
    for (const auto& [k, s] : shards_)
      keys[std::to_string(k)] = {s.offset, s.value.Size()};
    j["keys"] = keys;
    std::ofstream(cfg_.stats_path + "." + std::to_string(rank_)) << j.dump();
  }

  const Config& cfg_;
  dist_async::Context ctx_;
  Socket sched_, data_;
  int rank_ = -1;
  Clock::time_point last_heard_;
  std::map<int, Shard> shards_;
  std::unique_ptr<optimizer::Optimizer> optimizer_;
  int64_t pushes_ = 0, pulls_ = 0;
};

}  // namespace

void RunServer(const Config& cfg) {
  Server(cfg).Run();
}

}  // namespace mixnet::kvstore::dist_async
