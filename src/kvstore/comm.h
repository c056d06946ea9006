/*!
 * \file comm.h
 * \brief Reduction and broadcast of one key's arrays across the devices of one process (MXNet's
 * Comm): engine operations with the caller's priority.
 */
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "mixnet/ndarray/ndarray.h"

namespace mixnet::kvstore {

class GradientCompression;

class Comm {
 public:
  /*!
   * \brief Sum of `values`, which the caller has checked to have the key's shape and dtype
   * (ValueError when there is none). One value is returned as it is (no copy); several are summed
   * into a per-key buffer on values[0]'s context, which is returned. With `gc`, every value (even a
   * single one) is quantized with its own residual and dequantized before the sum, as MXNet's
   * device store does.
   */
  NDArray Reduce(int key, const std::vector<NDArray>& values, int priority,
                 GradientCompression* gc = nullptr);
  /*! \brief Copies `src` into every array of `outs` (ValueError on a shape mismatch). */
  void Broadcast(int key, const NDArray& src, const std::vector<NDArray>& outs, int priority);

 private:
  struct SumPlan;
  /*! \brief The key's sum buffer, (re)created when the key's shape, dtype or context changes. */
  const NDArray& MergeBuffer(int key, const NDArray& like);
  /*! \brief Sums host-memory `values` into `dst` in one engine op (a cached plan per key). */
  void SumInto(int key, const std::vector<NDArray>& values, const NDArray& dst, int priority);

  std::map<int, NDArray> merge_;                       // per-key sum buffers
  std::map<std::pair<int, int>, NDArray> residual_;    // per (key, device index) under compression
  std::map<std::pair<int, int>, NDArray> compressed_;  // per (key, device index): 2-bit words
  std::map<int, std::shared_ptr<const SumPlan>> plans_;  // per key: the last push's arrays
};

}  // namespace mixnet::kvstore
