/*!
 * \file data_iter.h
 * \brief Data iterators (mx.io): batches of named arrays for Module and training loops.
 *
 *   io::NDArrayIter it({{"data", x}}, {{"softmax_label", y}}, 64, true);
 *   for (it.Reset(); it.Next();) use(it.Value().data[0], it.Value().label[0]);
 */
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/base/dtype.h"
#include "mixnet/base/shape.h"
#include "mixnet/ndarray/ndarray.h"

namespace mixnet::io {

/*! \brief Name, shape and dtype of one input (mx.io.DataDesc). */
struct DataDesc {
  std::string name;
  Shape shape;
  DType dtype = DType::kFloat32;
  std::string layout = "NCHW";
};

/*! \brief One batch (mx.io.DataBatch); the last `pad` rows are filler. */
struct DataBatch {
  std::vector<NDArray> data, label;
  int pad = 0;
  std::vector<int64_t> index;
};

class DataIter {
 public:
  virtual ~DataIter() = default;
  /*! \brief Back to the first batch. */
  virtual void Reset() = 0;
  /*! \brief Moves to the next batch; false at the end of the epoch. */
  virtual bool Next() = 0;
  /*! \brief The current batch (valid until the next call to Next or Reset). */
  virtual const DataBatch& Value() const = 0;
  virtual std::vector<DataDesc> provide_data() const = 0;
  virtual std::vector<DataDesc> provide_label() const = 0;
  virtual int batch_size() const = 0;
};

/*! \brief What to do with a last batch smaller than batch_size (last_batch_handle). */
enum class LastBatch { kPad, kDiscard, kRollOver };

/*!
 * \brief Batches from whole arrays, split along axis 0 (mx.io.NDArrayIter), with MXNet 1.9's
 * rules: `kPad` fills the last batch from the start of the epoch's order (repeating it if the
 * data is smaller than a batch) and sets `pad`; `kDiscard` drops it; `kRollOver` puts its
 * samples at the front of the next epoch's first batch. With `shuffle`, the order is a new
 * permutation (seeded by `seed`) at construction and at every Reset. `index` holds each row's
 * sample index. Batches keep the arrays' dtypes and the order in which they are given.
 */
class NDArrayIter : public DataIter {
 public:
  using Named = std::vector<std::pair<std::string, NDArray>>;
  /*! \brief ValueError naming the argument for: no data, batch_size < 1, arrays whose first
   * dimensions differ, no samples, a repeated name, roll_over with batch_size > samples. */
  NDArrayIter(Named data, Named label, int batch_size, bool shuffle = false,
              LastBatch last_batch = LastBatch::kPad, uint64_t seed = 0);
  void Reset() override;
  bool Next() override;
  const DataBatch& Value() const override { return batch_; }
  std::vector<DataDesc> provide_data() const override;
  std::vector<DataDesc> provide_label() const override;
  int batch_size() const override { return batch_size_; }
  int64_t num_data() const { return num_data_; }

 private:
  /*! \brief Rows `rows` (sample indices) of `all`: a view when they are consecutive. */
  static NDArray Gather(const NDArray& all, const std::vector<int64_t>& rows);
  void Shuffle();

  Named data_, label_;
  int batch_size_;
  bool shuffle_;
  LastBatch last_batch_;
  uint64_t seed_;
  uint64_t epoch_ = 0;  // shuffles done: the next permutation's seed is mixed from it
  int64_t num_data_ = 0;
  int64_t cursor_ = 0;          // MXNet's cursor: start of the current batch in order_
  std::vector<int64_t> order_;  // sample indices in this epoch's order
  std::vector<int64_t> cache_;  // roll_over: the incomplete last batch, for the next epoch
  DataBatch batch_;
};

}  // namespace mixnet::io
