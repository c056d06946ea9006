// "dist_sync" / "dist_device_sync": synchronous data parallelism over MPI collectives.
//
// NOTE [ dist_sync store ]
// MXNet's dist_sync sends every push to parameter servers, which sum the workers' values,
// update, and serve pulls. Here the workers sum among themselves with allreduce and each runs
// the update itself:
// - Init: rank 0's value is broadcast, so every worker starts from the same parameters.
// - Push: the devices' values are summed first (KVStoreLocal / Comm; "dist_device_sync" is the
//   same store), then one engine op hands the sum to the communication thread (mpi_comm.h) and
//   completes when the allreduce over the workers is done; ApplyUpdate then updates the stored
//   value (the optimizer if set: every worker runs the same update on the same sum, so all hold
//   identical weights; without one the sum is written straight into the stored value). The op
//   carries the push's priority, and collectives run in push-call order, which is the same on every
//   worker (NOTE [ dist_sync communication thread ]); the Trainer pushes the last parameter first,
//   the order backward produces gradients, so communication overlaps the rest of backward.
// - Pull: copies the stored value; no communication. A pushpull without an updater writes its
//   outputs in the push op (NOTE [ dist_sync fused pushpull ]).
// - 2-bit compression: each worker quantizes its sum with its own residual
//   (GradientCompression), the packed words are allgathered, and every worker dequantizes and
//   adds all workers' words in rank order, which is what MXNet's server computes.
// - Barrier (and the process's exit): a join (NOTE [ dist_sync control word ]): a worker with
//   fewer batches keeps taking part with zero gradients, applying the same updates (Barrier;
//   at exit there is nothing left to update), until every worker has arrived, so uneven batch
//   counts do not hang.
//
// NOTE [ dist_sync push op ]
// The push op is pushed with FnProperty::kNoSkip: an op whose input carries an engine error is
// normally skipped, but then this worker would never issue its collective and the others would
// wait for it until the deadline. Instead the op runs, sees the error on the merged array's
// var, and announces it in the control word, so every worker fails that push at once with an
// error naming the rank; this worker's own error travels on to its stored value as usual.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "engine/var.h"
#include "kvstore/dist_sync/mpi_comm.h"
#include "kvstore/kvstore_local.h"
#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"

namespace mixnet::kvstore {
namespace {

using dist_sync::CollOp;
using dist_sync::MpiComm;

class KVStoreDistSync : public KVStoreLocal {
 public:
  explicit KVStoreDistSync(std::string type)
      : KVStoreLocal(std::move(type)), mpi_(MpiComm::Get()) {}

  // NOTE [ dist_sync store lifetime ]: destroying a store waits for its operations but does
  // not join the other workers: Python may destroy it in a garbage collection, at a different
  // point of the program on each worker, and a join there would pair this worker's zeros with
  // the others' pushes. Barrier() and the exit of the process (MpiComm::Shutdown) join.
  ~KVStoreDistSync() override {
    try {
      Engine::Get()->WaitForAll();
    } catch (const std::exception&) {
      // raised to the caller already, or the job is failing; a destructor must not throw
    }
  }

  int rank() const override { return mpi_.rank(); }
  int num_workers() const override { return mpi_.size(); }

  void Barrier() override {
    Engine::Get()->WaitForAll();
    mpi_.Join(mpi_.NextSeq(), [this](CollOp op, int key, const void* result, int64_t count,
                                     DType dtype) { ApplyJoined(op, key, result, count, dtype); });
  }

  // NOTE [ dist_sync fused pushpull ]
  // Without an updater a pushpull's pull copies the workers' sum. The push op writes the
  // outputs itself: the allreduce lands in the first output (MPI_IN_PLACE when it is the pushed
  // value, as the Trainer's pushpull(grad, out=grad)), the communication thread copies it to
  // the other outputs, and the stored value copies it in an engine op of its own afterwards,
  // off the caller's path (on the prioritized worker, so the normal one is free to end the
  // caller's wait). Before, the sum went into the stored value and a pull op copied it out,
  // waking an engine worker after the collective and the caller after that copy (2 ranks,
  // loopback, pushpull medians: 1 MB 271 -> 193 us, 4 MB 1278 -> 641 us, 4 KB 13 -> 12 us;
  // an in-place allreduce also saves MPI's own copy of the send buffer, so 4 MB beats a raw
  // MPI_Allreduce from one buffer into another, 925 us).
  // The outputs are the op's writes, so the engine orders everything as before; a push whose
  // input carries an error still fails on every worker (NOTE [ dist_sync push op ]), and the
  // outputs and the stored value receive that error. Other cases (an updater, compression,
  // outputs of another shape, dtype or device kind, repeated keys) push, then pull.
  void PushPull(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& values,
                const std::vector<std::vector<NDArray>>& outs, int priority) override {
    if (updater_ || optimizer_ || gc_ || keys.size() != values.size() ||
        keys.size() != outs.size() ||
        std::set<int>(keys.begin(), keys.end()).size() != keys.size()) {
      KVStore::PushPull(keys, values, outs, priority);
      return;
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::vector<int> key{keys[i]};
      auto it = store_.find(keys[i]);
      if (it == store_.end() || !PullFusable(it->second, outs[i])) {
        KVStore::PushPull(key, {values[i]}, {outs[i]}, priority);
        continue;
      }
      pull_outs_ = &outs[i];
      try {
        Push(key, {values[i]}, priority);
      } catch (...) {
        pull_outs_ = nullptr;
        throw;
      }
      pull_outs_ = nullptr;
    }
  }

  void SetGradientCompression(const op::AttrDict& params) override {
    MX_CHECK(!pushed_, ValueError) << type_
                                   << ": set_gradient_compression must be called before the "
                                      "first push";
    KVStoreLocal::SetGradientCompression(params);
  }

 protected:
  void InitKey(int key, const NDArray& value) override {
    NDArray root(value.shape(), Context::cpu(), value.dtype());
    value.CopyTo(root);
    root.WaitToWrite();
    WaitDone([&](Done done) {
      mpi_.Broadcast(mpi_.NextSeq(), key, root.RawData(), root.Size(), root.dtype(),
                     std::move(done));
    });
    KVStoreLocal::InitKey(key, value.ctx().is_host() ? root : root.Copy(value.ctx()));
  }

  void PushMerged(int key, const NDArray& merged, int priority) override {
    pushed_ = true;
    NDArray& stored = Stored(key);
    KeyState& ks = keys_[key];
    // Without an updater the stored value becomes the sum: reduce straight into it (one copy
    // of the key less per push than reducing into a buffer and copying that).
    const bool replace = !updater_ && !optimizer_;
    if (!replace && ks.recv.is_none())
      ks.recv = NDArray(stored.shape(), stored.ctx(), stored.dtype());
    const GradientCompression* gc = gc_.get();
    if (gc) {
      MX_CHECK(stored.dtype() == DType::kFloat32, TypeError)
          << type_ << ": 2-bit compression needs float32 values; key " << KeyName(key) << " holds "
          << DTypeName(stored.dtype());
      const size_t n = static_cast<size_t>(stored.Size());
      ks.residual.resize(n, 0.0f);
      ks.words.resize(static_cast<size_t>(GradientCompression::CompressedWords(n)));
      ks.gathered.resize(ks.words.size() * static_cast<size_t>(mpi_.size()));
    }
    const uint64_t seq = mpi_.NextSeq();
    NDArray recv = replace ? stored : ks.recv;
    // NOTE [ dist_sync fused pushpull ]: the sum lands in the first output (in place when it
    // is the pushed value) and is copied to the others; the stored value copies it afterwards.
    std::vector<NDArray> outs;
    bool into_out = false;
    if (pull_outs_) {
      outs = *pull_outs_;
      const NDArray& first = outs[0];
      into_out = !first.SharesStorageWith(merged) || first.byte_offset() == merged.byte_offset();
      if (into_out) recv = first;
    }
    const VarHandle read = merged.var();
    std::vector<VarHandle> writes{recv.var()};
    if (into_out) writes.push_back(stored.var());  // a failed push poisons it, as before
    for (const NDArray& out : outs) {
      out.BumpVersion();  // as the pull's copy did
      writes.push_back(out.var());
    }
    Engine::Get()->PushAsync(
        [this, key, seq, merged, recv, gc, &ks, outs = std::move(outs)](
            RunContext, CallbackOnComplete on_complete) {
          auto done = [on_complete, recv, outs](std::exception_ptr e) {
            if (e) {
              on_complete(e);
              return;
            }
            for (const NDArray& out : outs) {  // may alias the pushed value: it has been sent
              if (out.RawData() != recv.RawData())
                std::memmove(out.RawData(), recv.RawData(), recv.nbytes());
            }
            on_complete();
          };
          const engine::ErrorRef& in_error = merged.var()->error;
          if (in_error && in_error->active()) {  // NOTE [ dist_sync push op ]
            mpi_.Fail(seq, key, gc ? CollOp::kAllgather : CollOp::kAllreduce, in_error->error,
                      done);
            return;
          }
          const int64_t n = merged.Size();
          if (!gc) {
            mpi_.Allreduce(seq, key, merged.RawData(), recv.RawData(), n, merged.dtype(), done);
            return;
          }
          gc->Quantize(std::span<const float>(static_cast<const float*>(merged.RawData()),
                                              static_cast<size_t>(n)),
                       ks.residual, ks.words);
          mpi_.Allgather(seq, key, ks.words.data(), ks.gathered.data(),
                         static_cast<int64_t>(ks.words.size()), DType::kUint32,
                         [this, gc, recv, &ks, done](std::exception_ptr e) {
                           if (!e) SumCompressed(*gc, ks.gathered.data(), recv);
                           done(e);
                         });
        },
        stored.ctx(), std::span<const VarHandle>(&read, 1), writes, FnProperty::kNoSkip, priority,
        "dist_sync_push");
    if (into_out) {
      // On the prioritized worker: a normal one running this copy would hold up the caller's
      // wait for the outputs, which the engine runs there as well.
      const VarHandle from = recv.var(), to = stored.var();
      stored.BumpVersion();
      Engine::Get()->PushSync(
          [src = recv, dst = stored](RunContext) {
            // A failed push left its error on the stored value too (an error raised already
            // no longer stops this op): the stored value keeps its last good sum, as before.
            if (src.var()->error) return;
            std::memcpy(dst.RawData(), src.RawData(), src.nbytes());
          },
          stored.ctx(), std::span<const VarHandle>(&from, 1), std::span<const VarHandle>(&to, 1),
          FnProperty::kCPUPrioritized, priority, "dist_sync_store");
    }
    if (!replace) ApplyUpdate(key, recv, &stored, priority);
  }

 private:
  struct KeyState {
    NDArray recv;                    // the sum over the workers
    std::vector<float> residual;     // 2-bit: this worker's residual
    std::vector<uint32_t> words;     // 2-bit: this worker's packed push
    std::vector<uint32_t> gathered;  // 2-bit: every worker's words, by rank
  };

  // recv = sum over ranks (in rank order) of the dequantized words: MXNet's server sum.
  void SumCompressed(const GradientCompression& gc, const uint32_t* gathered,
                     const NDArray& recv) const {
    const size_t n = static_cast<size_t>(recv.Size());
    const size_t words = static_cast<size_t>(GradientCompression::CompressedWords(n));
    std::span<float> out(static_cast<float*>(recv.RawData()), n);
    std::fill(out.begin(), out.end(), 0.0f);
    for (int r = 0; r < mpi_.size(); ++r)
      gc.DequantizeAdd(std::span<const uint32_t>(gathered + r * words, words), out);
  }

  // During a barrier: apply the others' push of `key` (this worker contributed zeros), so this
  // store stays equal to theirs. Runs on the communication thread while the caller waits.
  void ApplyJoined(CollOp op, int key, const void* result, int64_t count, DType dtype) {
    auto it = store_.find(key);
    if (it == store_.end()) return;  // a key this worker never initialised: nothing to keep
    NDArray& stored = it->second;
    KeyState& ks = keys_[key];
    if (ks.recv.is_none()) ks.recv = NDArray(stored.shape(), stored.ctx(), stored.dtype());
    ks.recv.WaitToWrite();
    if (op == CollOp::kAllgather) {
      MX_INTERNAL_ASSERT(gc_ != nullptr) << type_ << ": compressed push without compression";
      SumCompressed(*gc_, static_cast<const uint32_t*>(result), ks.recv);
    } else {
      MX_INTERNAL_ASSERT(count == ks.recv.Size() && dtype == ks.recv.dtype());
      std::memcpy(ks.recv.RawData(), result, ks.recv.nbytes());
    }
    ApplyUpdate(key, ks.recv, &stored, 0);
    ks.recv.WaitToWrite();  // the update has read it before the next round overwrites it
  }

  // Whether the push op can write these pull outputs itself (NOTE [ dist_sync fused pushpull ]).
  static bool PullFusable(const NDArray& stored, const std::vector<NDArray>& outs) {
    if (outs.empty() || !stored.ctx().is_host()) return false;
    return std::all_of(outs.begin(), outs.end(), [&](const NDArray& out) {
      return !out.is_none() && out.ctx().is_host() && out.shape() == stored.shape() &&
             out.dtype() == stored.dtype() && !out.SharesStorageWith(stored);
    });
  }

  MpiComm& mpi_;
  const std::vector<NDArray>* pull_outs_ = nullptr;  // set by PushPull around its Push
  std::map<int, KeyState> keys_;
  bool pushed_ = false;
};

std::unique_ptr<KVStore> MakeDistSync(const std::string& type) {
  return std::make_unique<KVStoreDistSync>(type);
}

// MXNet's names: "dist_sync_device" is its older spelling of "dist_device_sync".
// MXNet: a kind naming "dist" without "async" is synchronous, so plain "dist" is dist_sync.
const bool kRegistered = RegisterKVStoreType("dist_sync", &MakeDistSync) &&
                         RegisterKVStoreType("dist", &MakeDistSync) &&
                         RegisterKVStoreType("dist_device_sync", &MakeDistSync) &&
                         RegisterKVStoreType("dist_sync_device", &MakeDistSync);

}  // namespace
}  // namespace mixnet::kvstore
