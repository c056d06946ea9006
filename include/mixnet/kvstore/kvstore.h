/*!
 * \file kvstore.h
 * \brief KVStore: MXNet's key-value store for data-parallel training.
 *
 *   auto kv = mx::kvstore::KVStore::Create("device");
 *   kv->Init(3, weight);                              // the store's copy of key 3
 *   kv->Push(3, {grad_on_cpu0, grad_on_cpu1}, -3);    // summed over the devices
 *   kv->Pull(3, {weight_on_cpu0, weight_on_cpu1}, -3);
 *
 * Kinds (MXNet 1.x names):
 * - "local", "device": one process; values pushed for a key from several contexts are summed
 *   (on the first value's context), and a pull copies the stored value to every output.
 * - "dist_sync", "dist_device_sync": several worker processes started by `mpirun` or
 *   `python -m mixnet.tools.launch`; a push is summed over the devices and then over all
 *   workers (MPI collectives), so every worker pulls the same value.
 * - "dist_async": parameter servers (ZeroMQ) hold the keys, sharded; each worker's push is
 *   applied by the servers as it arrives, with the optimizer running on the servers.
 *
 * Every push and pull is an engine operation: the call returns at once, reads wait for the
 * pushed arrays' writers, and `priority` orders ready communication (MXNet's convention: the
 * Trainer gives parameter i priority -i, so the first layers, needed first by the next forward,
 * go first). Without an updater a push replaces the stored value by the (summed) pushed value;
 * with one (SetOptimizer / SetUpdater) the store's value is updated with it instead.
 *
 * Keys are ints or strings, as in MXNet. A string key is given the int kStrKeyBase + n (n in
 * first-init order, so every worker must init its string keys in the same order), which keeps
 * string keys apart from the int keys a store also holds (a Trainer's 0..n-1, say).
 */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attrs.h"
#include "mixnet/optimizer/optimizer.h"

namespace mixnet::kvstore {

/*!
 * \brief Applies a pushed (merged) value to the stored one: updater(key, recv, &stored).
 * Called in the pushing thread (or a store's communication thread); it pushes engine work.
 */
using Updater = std::function<void(int key, const NDArray& recv, NDArray* stored)>;
using StrUpdater =
    std::function<void(const std::string& key, const NDArray& recv, NDArray* stored)>;

class KVStore {
 public:
  /*! \brief The int of the first string key (MXNet's str_key_dict counted from 0, so a store
   * holding both kinds mixed them up). */
  static constexpr int kStrKeyBase = 1 << 30;
  /*!
   * \brief Creates a store of `type` (see the file comment). ValueError for an unknown type;
   * a distributed type raises a clear error when the process was not started as a worker (or
   * mixnet was built without MPI / ZeroMQ).
   */
  static std::unique_ptr<KVStore> Create(const std::string& type = "local");
  virtual ~KVStore();
  KVStore(const KVStore&) = delete;
  KVStore& operator=(const KVStore&) = delete;

  const std::string& type() const { return type_; }

  // ---- int keys ----
  /*! \brief Initialises each key once (ValueError on a second Init of a key). Distributed
   * stores take rank 0's values, so every worker starts from the same parameters. */
  virtual void Init(const std::vector<int>& keys, const std::vector<NDArray>& values) = 0;
  /*! \brief values[i] lists key i's arrays, one per device; they are summed. */
  virtual void Push(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& values,
                    int priority = 0) = 0;
  /*! \brief Copies the stored value of keys[i] into every array of outs[i]. */
  virtual void Pull(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& outs,
                    int priority = 0, bool ignore_sparse = true) = 0;
  /*! \brief Push then Pull; `outs` may be `values` (in-place allreduce of gradients). */
  virtual void PushPull(const std::vector<int>& keys,
                        const std::vector<std::vector<NDArray>>& values,
                        const std::vector<std::vector<NDArray>>& outs, int priority = 0);
  /*! \brief Init then Pull (MXNet's broadcast). */
  void Broadcast(const std::vector<int>& keys, const std::vector<NDArray>& values,
                 const std::vector<std::vector<NDArray>>& outs, int priority = 0);
  /*!
   * \brief MXNet's row_sparse_pull with dense storage: outs[i][j] gets the rows
   * row_ids[i][j] (int64 or float indices) of the stored value and zeros elsewhere.
   */
  void RowSparsePull(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& outs,
                     const std::vector<std::vector<NDArray>>& row_ids, int priority = 0);

  // single-key conveniences
  void Init(int key, const NDArray& value) { Init(std::vector<int>{key}, {value}); }
  void Push(int key, const std::vector<NDArray>& values, int priority = 0) {
    Push(std::vector<int>{key}, {values}, priority);
  }
  void Pull(int key, const std::vector<NDArray>& outs, int priority = 0) {
    Pull(std::vector<int>{key}, {outs}, priority);
  }

  // ---- string keys (mapped to ints in first-use order; one store uses one kind) ----
  void Init(const std::vector<std::string>& keys, const std::vector<NDArray>& values);
  void Push(const std::vector<std::string>& keys, const std::vector<std::vector<NDArray>>& values,
            int priority = 0);
  void Pull(const std::vector<std::string>& keys, const std::vector<std::vector<NDArray>>& outs,
            int priority = 0, bool ignore_sparse = true);
  void PushPull(const std::vector<std::string>& keys,
                const std::vector<std::vector<NDArray>>& values,
                const std::vector<std::vector<NDArray>>& outs, int priority = 0);
  void Broadcast(const std::vector<std::string>& keys, const std::vector<NDArray>& values,
                 const std::vector<std::vector<NDArray>>& outs, int priority = 0);
  void RowSparsePull(const std::vector<std::string>& keys,
                     const std::vector<std::vector<NDArray>>& outs,
                     const std::vector<std::vector<NDArray>>& row_ids, int priority = 0);
  /*! \brief The string an int key stands for (null in a store keyed by ints): what a Python
   * updater is called with. */
  const std::string* StrKeyOf(int key) const;

  // ---- updates on the store ----
  /*!
   * \brief Runs `optimizer` on the store: a push then updates the stored weight with the
   * merged gradient (optimizer index = key). Distributed stores run it on every worker
   * (dist_sync, on identical sums) or send it to the servers (dist_async).
   */
  virtual void SetOptimizer(std::shared_ptr<optimizer::Optimizer> optimizer);
  /*! \brief A custom updater (local stores; distributed stores raise NotImplementedError). */
  virtual void SetUpdater(Updater updater);
  void SetUpdater(StrUpdater updater);
  /*! \brief The optimizer given to SetOptimizer (null if none). */
  const std::shared_ptr<optimizer::Optimizer>& optimizer() const { return optimizer_; }
  /*! \brief Writes the store's optimizer states (Optimizer::SaveStates bytes). ValueError
   * without an optimizer. */
  virtual void SaveOptimizerStates(const std::string& path) const;
  virtual void LoadOptimizerStates(const std::string& path);

  /*!
   * \brief MXNet's set_gradient_compression: {"type": "2bit", "threshold": "0.5"} (threshold
   * default 0.5, must be > 0) or {"type": "none"}. Only for "device" and distributed stores, as
   * MXNet; ValueError for "local" or an unknown type. Must be called before the first push.
   */
  virtual void SetGradientCompression(const op::AttrDict& params);

  // ---- cluster ----
  /*! \brief This worker's rank in [0, num_workers). 0 for local stores. */
  virtual int rank() const { return 0; }
  virtual int num_workers() const { return 1; }
  /*! \brief Waits for all pushes and pulls of this store, then for every worker to arrive. */
  virtual void Barrier();
  /*! \brief Whether this process is a worker (not a server or scheduler): MXNet's is_worker. */
  static bool IsWorkerNode();

 protected:
  explicit KVStore(std::string type) : type_(std::move(type)) {}
  /*! \brief The int key of a string key (new keys get the next int; used by Init only). */
  int StrKey(const std::string& key, bool create);
  /*! \brief StrKey of each (ValueError for a key never initialised). */
  std::vector<int> IntKeys(const std::vector<std::string>& keys);
  /*! \brief The key as users wrote it, for messages: 'name' for a string key, else the int. */
  std::string KeyName(int key) const;
  /*!
   * \brief Applies a merged push to the stored value: the updater if set, else the optimizer
   * (Optimizer::Update(key, *stored, recv)), else *stored = copy of recv. Pushes engine work.
   */
  void ApplyUpdate(int key, const NDArray& recv, NDArray* stored, int priority = 0);

  std::string type_;
  std::shared_ptr<optimizer::Optimizer> optimizer_;
  Updater updater_;
  op::AttrDict compression_;  // empty or {"type": "none"}: no compression

 private:
  std::vector<std::string> str_keys_;  // index = int key given to the string key
  std::unordered_map<std::string, int> str_key_index_;
};

/*!
 * \brief Registers a kind for KVStore::Create (the distributed kinds live in their own files,
 * compiled when their library was found). Returns true, for static registration.
 */
using KVStoreFactory = std::function<std::unique_ptr<KVStore>(const std::string& type)>;
bool RegisterKVStoreType(const std::string& type, KVStoreFactory factory);

}  // namespace mixnet::kvstore
