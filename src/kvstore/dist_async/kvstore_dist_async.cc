// The "dist_async" store: a worker of a parameter-server job (NOTE [ dist_async store ]).
#include <algorithm>
#include <mutex>
#include <set>

#include "kvstore/dist_async/client.h"
#include "kvstore/kvstore_local.h"
#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"
#include "mixnet/kvstore/server.h"

namespace mixnet::kvstore {

namespace {

/*
 * NOTE [ dist_async store ]
 * A push sums the devices' values locally (KVStoreLocal), then PushMerged sends the sum's
 * shards to their servers from an asynchronous engine op (FnProperty::kAsync, the caller's
 * priority) that reads the sum: the op completes when every server has acknowledged, so the
 * next reduction into the same buffer waits for it. With 2-bit compression each shard is
 * quantized with this worker's residual for its range (the residual's var is written by the
 * op), and the servers dequantize. A pull first refreshes the stored copy from the servers
 * (PullSource: an asynchronous op writing it, completing when every shard has been copied in),
 * then KVStoreLocal copies it to the outputs. Errors (a server's answer, a timeout, the job's
 * abort) fail the op, so they surface at the next sync point that reads its arrays. Init: rank
 * 0 sends its values, then every worker waits at a barrier, so all start from rank 0's values.
 * set_optimizer: rank 0 sends the optimizer (name and kwargs as they are now, lr_mult, wd_mult,
 * idx2name) to every server, where CreateOptimizer recreates it, then a barrier.
 */
class KVStoreDistAsync : public KVStoreLocal {
 public:
  explicit KVStoreDistAsync(const std::string& type)
      : KVStoreLocal(type), client_(std::make_unique<dist_async::Client>(CheckedConfig())) {
    std::lock_guard lock(LiveMutex());
    Live().insert(this);
  }

  ~KVStoreDistAsync() override {
    {
      std::lock_guard lock(LiveMutex());
      Live().erase(this);
    }
    Finish();
  }

  /*! \brief Waits for this store's work and tells the scheduler this worker is done. */
  void Finish() {
    if (!client_) return;
    try {
      Engine::Get()->WaitForAll();
    } catch (const std::exception&) {
      // Raised to the user at their own sync point; the job still has to end cleanly.
    }
    client_.reset();
  }

  static std::mutex& LiveMutex() {
    static std::mutex mu;
    return mu;
  }
  static std::set<KVStoreDistAsync*>& Live() {
    static std::set<KVStoreDistAsync*> live;
    return live;
  }

  void Init(const std::vector<int>& keys, const std::vector<NDArray>& values) override {
    KVStoreLocal::Init(keys, values);
    client().Barrier();
  }

  void SetOptimizer(std::shared_ptr<optimizer::Optimizer> opt) override {
    MX_CHECK(opt != nullptr, ValueError) << "KVStore.set_optimizer: the optimizer is null";
    // Only a registered optimizer can be recreated on the servers (by name and kwargs); a
    // Python subclass of mx.optimizer.Optimizer has its class's name, which is not registered.
    auto names = optimizer::ListOptimizers();
    MX_CHECK(std::find(names.begin(), names.end(), opt->name()) != names.end(), NotImplementedError)
        << "dist_async: set_optimizer can send only registered (built-in) optimizers to the "
        << "servers, which recreate them by name; '" << opt->name() << "' is a custom optimizer";
    MX_CHECK(opt->lr_scheduler() == nullptr, NotImplementedError)
        << "dist_async: set_optimizer with an lr_scheduler cannot be sent to the servers; "
        << "set a fixed learning_rate (or use dist_sync)";
    KVStore::SetOptimizer(opt);
    if (rank() == 0) {
      std::string body = dist_async::EncodeOptimizer(*opt);
      std::vector<dist_async::Client::Part> parts(client().num_servers());
      for (int s = 0; s < client().num_servers(); ++s) {
        parts[s].server = s;
        parts[s].head.cmd = dist_async::Cmd::kSetOptimizer;
        parts[s].body = body;
      }
      client().RequestSync(std::move(parts));
    }
    client().Barrier();
  }

  void SetUpdater(Updater) override {
    MX_THROW(NotImplementedError)
        << "dist_async: a custom updater cannot run on the servers; use set_optimizer";
  }
  void SaveOptimizerStates(const std::string&) const override {
    MX_THROW(NotImplementedError)
        << "dist_async: the optimizer states live on the servers; save_optimizer_states is "
        << "not supported (save the parameters, or train with dist_sync)";
  }
  void LoadOptimizerStates(const std::string&) override {
    MX_THROW(NotImplementedError)
        << "dist_async: the optimizer states live on the servers; load_optimizer_states is "
        << "not supported";
  }

  int rank() const override { return client().rank(); }
  int num_workers() const override { return client().num_workers(); }
  void Barrier() override {
    KVStore::Barrier();
    client().Barrier();
  }

 protected:
  void InitKey(int key, const NDArray& value) override {
    KVStoreLocal::InitKey(key, value);
    if (rank() != 0) return;
    const NDArray& stored = Stored(key);
    stored.WaitToRead();
    const char* data = static_cast<const char*>(stored.RawData());
    size_t es = DTypeSize(stored.dtype());
    std::vector<dist_async::Client::Part> parts;
    for (const auto& r : client().Shards(key, stored.Size())) {
      dist_async::Client::Part p = MakePart(dist_async::Cmd::kInit, key, stored.dtype(), r);
      p.body.assign(data + r.begin * es, (r.end - r.begin) * es);
      parts.push_back(std::move(p));
    }
    client().RequestSync(std::move(parts));
  }

  void PushMerged(int key, const NDArray& merged, int priority) override {
    dist_async::Client* c = &client();
    auto ranges = c->Shards(key, merged.Size());
    NDArray residual;
    float threshold = 0;
    if (gc_) {
      MX_CHECK(merged.dtype() == DType::kFloat32, TypeError)
          << "dist_async: 2-bit compression needs float32 values, key " << KeyName(key) << " is "
          << DTypeName(merged.dtype());
      auto [it, fresh] = residual_.try_emplace(key);
      if (fresh) it->second = NDArray::Zeros(merged.shape(), DType::kFloat32, merged.ctx());
      residual = it->second;
      threshold = gc_->threshold();
    }
    // The op writes the stored copy: a later pull of the key waits for the acknowledgement
    // (so it sees this push) and carries its error.
    std::vector<VarHandle> mut{Stored(key).var()};
    if (!residual.is_none()) mut.push_back(residual.var());
    VarHandle read = merged.var();
    const GradientCompression* gc = gc_.get();
    // The optimizer's hyper-parameters now (NOTE [ dist_async optimizer hyper-parameters ]).
    double rescale = optimizer_ ? optimizer_->rescale_grad() : 0;
    double lr = optimizer_ && !optimizer_->lr_scheduler() ? optimizer_->learning_rate() : 0;
    Engine::Get()->PushAsync(
        [c, merged, residual, ranges, key, threshold, gc, rescale, lr](RunContext,
                                                                       CallbackOnComplete done) {
          const char* data = static_cast<const char*>(merged.RawData());
          size_t es = DTypeSize(merged.dtype());
          std::vector<dist_async::Client::Part> parts;
          for (const auto& r : ranges) {
            dist_async::Client::Part p = MakePart(dist_async::Cmd::kPush, key, merged.dtype(), r);
            p.head.rescale_grad = rescale;
            p.head.learning_rate = lr;
            if (gc) {
              size_t n = static_cast<size_t>(r.end - r.begin);
              p.body.resize(GradientCompression::CompressedWords(r.end - r.begin) * 4);
              gc->Quantize({reinterpret_cast<const float*>(data) + r.begin, n},
                           {static_cast<float*>(residual.RawData()) + r.begin, n},
                           {reinterpret_cast<uint32_t*>(p.body.data()), p.body.size() / 4});
              p.head.threshold = threshold;
            } else {
              p.body.assign(data + r.begin * es, (r.end - r.begin) * es);
            }
            parts.push_back(std::move(p));
          }
          c->Request(std::move(parts), Completion(done));
        },
        merged.ctx(), std::span<const VarHandle>(&read, 1), mut, FnProperty::kAsync, priority,
        "KVStoreDistAsyncPush");
  }

  const NDArray& PullSource(int key, int priority) override {
    NDArray& stored = Stored(key);
    dist_async::Client* c = &client();
    auto ranges = c->Shards(key, stored.Size());
    Engine::Get()->PushAsync(
        [c, stored, ranges, key](RunContext, CallbackOnComplete done) {
          char* data = static_cast<char*>(stored.RawData());
          size_t es = DTypeSize(stored.dtype());
          std::vector<dist_async::Client::Part> parts;
          for (const auto& r : ranges) {
            dist_async::Client::Part p = MakePart(dist_async::Cmd::kPull, key, stored.dtype(), r);
            p.reply_dst = data + r.begin * es;
            p.reply_bytes = (r.end - r.begin) * es;
            parts.push_back(std::move(p));
          }
          c->Request(std::move(parts), Completion(done));
        },
        stored.ctx(), {}, {stored.var()}, FnProperty::kAsync, priority, "KVStoreDistAsyncPull");
    return stored;
  }

 private:
  static dist_async::Config CheckedConfig() {
    MX_CHECK(IsWorkerNode(), ValueError)
        << "KVStore.create('dist_async'): this process has DMLC_ROLE=" << std::getenv("DMLC_ROLE")
        << "; only workers create stores (servers and the "
        << "scheduler run RunServerRoleFromEnv / `import mixnet`)";
    return dist_async::Config::FromEnv();
  }

  static dist_async::Client::Part MakePart(dist_async::Cmd cmd, int key, DType dtype,
                                           const dist_async::Client::Range& r) {
    dist_async::Client::Part p;
    p.server = r.server;
    p.head.cmd = cmd;
    p.head.key = key;
    p.head.offset = r.begin;
    p.head.length = r.end - r.begin;
    p.head.arg = static_cast<int32_t>(dtype);
    return p;
  }

  // A null error completes the op (CallbackOnComplete).
  static dist_async::Client::Done Completion(CallbackOnComplete done) {
    return [done](std::exception_ptr e) { done(e); };
  }

  dist_async::Client& client() const {
    MX_CHECK(client_ != nullptr, ValueError)
        << "dist_async: this worker has finished (its store was closed)";
    return *client_;
  }

  std::unique_ptr<dist_async::Client> client_;
  std::map<int, NDArray> residual_;
};

const bool kRegistered = RegisterKVStoreType("dist_async", [](const std::string& type) {
  return std::unique_ptr<KVStore>(new KVStoreDistAsync(type));
});

}  // namespace

void FinishDistAsyncStores() {
  (void)kRegistered;
  std::lock_guard lock(KVStoreDistAsync::LiveMutex());
  for (KVStoreDistAsync* kv : KVStoreDistAsync::Live())
    kv->Finish();
}

}  // namespace mixnet::kvstore
