/*!
 * \file iterators.h
 * \brief MXNet's file iterators (MNISTIter, CSVIter, LibSVMIter) and its wrappers (ResizeIter,
 * PrefetchingIter), on the DataIter protocol of data_iter.h.
 *
 *   io::MNISTIter mnist({.image = "train-images-idx3-ubyte.gz",
 *                        .label = "train-labels-idx1-ubyte.gz", .batch_size = 128});
 *   io::PrefetchingIter it({std::make_shared<io::MNISTIter>(std::move(mnist))});
 *   for (it.Reset(); it.Next();) use(it.Value().data[0], it.Value().label[0]);
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/io/data_iter.h"

namespace mixnet::io {

/*! \brief Rows `rows` of `all` along axis 0: a view when they are consecutive, else a copy. */
NDArray GatherRows(const NDArray& all, const std::vector<int64_t>& rows);

struct MNISTParam {
  std::string image = "./train-images-idx3-ubyte", label = "./train-labels-idx1-ubyte";
  int batch_size = 128;
  bool shuffle = true;
  bool flat = false;
  int seed = 0;
  bool silent = false;
  int num_parts = 1, part_index = 0;
  /*! \brief Shape of one sample (mixnet's addition; empty: (1, rows, cols), or flat). */
  Shape input_shape;
};

/*!
 * \brief mx.io.MNISTIter: idx image/label files (gzipped or not) as float32 batches scaled by
 * 1/256 as MXNet does, labels as float32 (batch_size,). As in MXNet: part `part_index` of
 * `num_parts` holds samples [count*k/n, count*(k+1)/n); the order is shuffled once, at
 * construction, by MXNet's algorithm over std::mt19937(seed) (the same order as MXNet 1.9.1);
 * an incomplete last batch is dropped. Unlike MXNet (which leaves it 0), `index` holds each
 * row's sample number within the part. Batches are views of the loaded data.
 */
class MNISTIter : public DataIter {
 public:
  /*! \brief ValueError naming the file for: unreadable, bad magic, counts that disagree; and
   * for batch_size < 1, part_index outside [0, num_parts), an input_shape of another size. */
  explicit MNISTIter(const MNISTParam& param);
  void Reset() override { loc_ = 0; }
  bool Next() override;
  const DataBatch& Value() const override { return batch_; }
  std::vector<DataDesc> provide_data() const override;
  std::vector<DataDesc> provide_label() const override;
  int batch_size() const override { return param_.batch_size; }
  int64_t num_samples() const { return static_cast<int64_t>(inst_.size()); }

 private:
  MNISTParam param_;
  NDArray images_, labels_;    // (count, *sample shape), (count,) in the shuffled order
  std::vector<int64_t> inst_;  // sample number of each row
  int64_t loc_ = 0;
  DataBatch batch_;
};

/*!
 * \brief Batches of rows held in memory, with MXNet's BatchLoader rules (CSVIter, LibSVMIter).
 * A last batch short of batch_size is, with `round_batch`, completed from the start of the
 * data (`pad` = rows taken) and the next epoch goes on after them (Reset does not rewind);
 * without, it is completed by the previous batch's rows in their places (MXNet's stale
 * buffer; rows from the start when there is none) with `pad` = batch_size - rows read.
 */
class RowBatchIter : public DataIter {
 public:
  void Reset() override;
  bool Next() override;
  const DataBatch& Value() const override { return batch_; }
  std::vector<DataDesc> provide_data() const override;
  std::vector<DataDesc> provide_label() const override;
  int batch_size() const override { return batch_size_; }
  int64_t num_samples() const { return num_; }

 protected:
  RowBatchIter(int batch_size, bool round_batch) : batch_size_(batch_size), round_(round_batch) {}
  /*! \brief The rows: data (n, ...) and label (n, ...); a label (n, 1) gives batches (bs,). */
  void SetRows(NDArray data, NDArray label);

 private:
  int batch_size_;
  bool round_;
  NDArray data_, label_;
  int64_t num_ = 0;
  int64_t pos_ = 0;       // next row to read
  int64_t overflow_ = 0;  // rows the last batch took from the next epoch (round_batch)
  std::vector<int64_t> prev_;
  DataBatch batch_;
};

struct CSVParam {
  std::string data_csv;
  Shape data_shape;
  std::string label_csv;  // empty: labels are 0
  Shape label_shape = Shape{1};
  int batch_size = 1;
  bool round_batch = true;
  DType dtype = DType::kFloat32;  // float32, float64, int32 or int64 (data and label)
};

/*!
 * \brief mx.io.CSVIter: one sample per line, comma-separated values, `data_shape` of them.
 * Blank lines are skipped; a line that is not numbers, or has another count, is a ValueError
 * naming the file and line.
 */
class CSVIter : public RowBatchIter {
 public:
  explicit CSVIter(const CSVParam& param);
};

struct LibSVMParam {
  std::string data_libsvm;
  Shape data_shape;          // (num_features,)
  std::string label_libsvm;  // empty: the first value of each data line
  Shape label_shape = Shape{1};
  int batch_size = 1;
  bool round_batch = true;
  int num_parts = 1, part_index = 0;
};

/*!
 * \brief mx.io.LibSVMIter with dense float32 batches (MXNet gives CSR ones): lines
 * `label idx:value ...` with zero-based indices below data_shape[0]; blank lines are skipped.
 * `label_libsvm`, if given, is read the same way and its values form labels of `label_shape`.
 * Part k of `num_parts` holds the lines that start in bytes [ceil(size/n)*k, ceil(size/n)*(k+1))
 * of the data file (as dmlc's InputSplit), so the parts hold every line once.
 */
class LibSVMIter : public RowBatchIter {
 public:
  explicit LibSVMIter(const LibSVMParam& param);
};

/*!
 * \brief mx.io.ResizeIter: an epoch of exactly `size` batches of `inner`, which is reset when
 * it runs out (and at Reset if `reset_internal`).
 */
class ResizeIter : public DataIter {
 public:
  ResizeIter(std::shared_ptr<DataIter> inner, int64_t size, bool reset_internal = true);
  void Reset() override;
  bool Next() override;
  const DataBatch& Value() const override { return inner_->Value(); }
  std::vector<DataDesc> provide_data() const override { return inner_->provide_data(); }
  std::vector<DataDesc> provide_label() const override { return inner_->provide_label(); }
  int batch_size() const override { return inner_->batch_size(); }

 private:
  std::shared_ptr<DataIter> inner_;
  int64_t size_, cur_ = 0;
  bool reset_internal_;
};

/*!
 * \brief mx.io.PrefetchingIter: a background thread reads the next batch of every iterator
 * while the current one is used. A batch joins the iterators' data and labels (pad and index
 * from the first; pads must agree); `rename_data`/`rename_label` (one map per iterator, or
 * empty) rename provide_data/provide_label. The iterators' batches must stay valid after
 * their next Next (true of mixnet's iterators, whose batches are fresh arrays or views).
 */
class PrefetchingIter : public DataIter {
 public:
  using Renames = std::vector<std::map<std::string, std::string>>;
  explicit PrefetchingIter(std::vector<std::shared_ptr<DataIter>> iters, Renames rename_data = {},
                           Renames rename_label = {});
  ~PrefetchingIter() override { Stop(); }
  void Reset() override;
  bool Next() override;
  const DataBatch& Value() const override { return current_; }
  std::vector<DataDesc> provide_data() const override;
  std::vector<DataDesc> provide_label() const override;
  int batch_size() const override { return batch_size_; }
  /*! \brief Ends the thread (waits for the batch being read); the iterator is then unusable. */
  void Stop();

 private:
  struct State;  // what the thread uses: it holds it too (NOTE [ PrefetchingIter's thread ])
  static void Run(const std::shared_ptr<State>& state);
  void Request();    // asks the thread for the next batch
  void WaitReady();  // waits for the thread to be idle

  std::shared_ptr<State> state_;
  Renames rename_data_, rename_label_;
  int batch_size_ = 0;
  DataBatch current_;
  std::thread thread_;
};

}  // namespace mixnet::io
