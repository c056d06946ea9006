/*!
 * \file kvstore_local.h
 * \brief The single-process store ("local", "device") and the base of the distributed ones.
 *
 * Push: the values of a key (one per device) are summed into a per-key merge buffer on the
 * first value's context (comm.h), then PushMerged applies the sum. Pull: the stored value is
 * copied to every output (comm.h). All of it is engine work carrying the call's priority.
 */
#pragma once

#include <map>
#include <vector>

#include "kvstore/comm.h"
#include "kvstore/gradient_compression.h"
#include "mixnet/kvstore/kvstore.h"

namespace mixnet::kvstore {

class KVStoreLocal : public KVStore {
 public:
  explicit KVStoreLocal(std::string type);
  ~KVStoreLocal() override;

  void Init(const std::vector<int>& keys, const std::vector<NDArray>& values) override;
  void Push(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& values,
            int priority) override;
  void Pull(const std::vector<int>& keys, const std::vector<std::vector<NDArray>>& outs,
            int priority, bool ignore_sparse) override;
  void SetGradientCompression(const op::AttrDict& params) override;

 protected:
  /*!
   * \brief Stores key's first value. The distributed stores override it to agree on rank 0's
   * value first (they call this with it).
   */
  virtual void InitKey(int key, const NDArray& value);
  /*!
   * \brief Applies the devices' sum of one push (`merged`, an engine array that is written by
   * the reduction) to store_[key]: local stores call ApplyUpdate; dist_sync first sums it over
   * the workers; dist_async sends it to the servers.
   */
  virtual void PushMerged(int key, const NDArray& merged, int priority);
  /*! \brief The value a pull of `key` copies from (the stored value; dist_async refreshes it
   * from the servers first). ValueError naming the key when it was never initialised. */
  virtual const NDArray& PullSource(int key, int priority);
  /*! \brief ValueError "<type>: key K has not been initialized" unless Init ran for key. */
  NDArray& Stored(int key);

  std::map<int, NDArray> store_;
  Comm comm_;
  /*! \brief Set by SetGradientCompression: compresses between devices ("device"); the
   * distributed stores use it between workers instead. */
  std::unique_ptr<GradientCompression> gc_;
};

}  // namespace mixnet::kvstore
