/*!
 * \file comm.h
 * \brief Reduction and broadcast of one key's arrays across the devices of one process (MXNet's
 * Comm): engine operations with the caller's priority.
 */
#pragma once

#include <map>
#include <vector>

#include "mixnet/ndarray/ndarray.h"

namespace mixnet::kvstore {

class GradientCompression;

class Comm {
 public:
  /*!
   * \brief Sum of `values` (same shape and dtype; ValueError naming the key and the shapes
   * otherwise). One value is returned as it is (no copy); several are summed into a per-key
   * buffer on values[0]'s context, which is returned. With `gc`, every value (even a single
   * one) is quantized with its own residual and dequantized before the sum, as MXNet's device
   * store does.
   */
  NDArray Reduce(int key, const std::vector<NDArray>& values, int priority,
                 GradientCompression* gc = nullptr);
  /*! \brief Copies `src` into every array of `outs` (ValueError on a shape mismatch). */
  void Broadcast(int key, const NDArray& src, const std::vector<NDArray>& outs, int priority);

 private:
  std::map<int, NDArray> merge_;                  // per-key sum buffers
  std::map<std::pair<int, int>, NDArray> residual_;  // per (key, device index) under compression
};

}  // namespace mixnet::kvstore
