/*!
 * \file image_record_iter.h
 * \brief mx.io.ImageRecordIter: batches of decoded, augmented images from a RecordIO (.rec)
 * file of image records (IRHeader + JPEG/PNG), as MXNet 1.x's ImageRecordIter.
 *
 *   io::ImageRecordIter it({.path_imgrec = "train.rec", .data_shape = Shape{3, 224, 224},
 *                           .batch_size = 64, .rand_crop = true, .rand_mirror = true});
 *   for (it.Reset(); it.Next();) use(it.Value().data[0], it.Value().label[0]);
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixnet/io/data_iter.h"

namespace mixnet::io {

/*! \brief MXNet 1.x's ImageRecordIter parameters, with its names and defaults. */
struct ImageRecordParam {
  std::string path_imgrec, path_imgidx;
  Shape data_shape;  // (c, h, w), c 1 or 3
  int label_width = 1;
  int batch_size = 1;
  bool shuffle = false;  // needs path_imgidx; a new seeded order every epoch
  int seed = 0;
  bool round_batch = true;
  /*! \brief Decode+augment threads (NOTE [ ImageRecordIter threads ]). */
  int preprocess_threads = 1;
  int prefetch_buffer = 4;  // batches decoded ahead
  int num_parts = 1, part_index = 0;
  float mean_r = 0, mean_g = 0, mean_b = 0, std_r = 1, std_g = 1, std_b = 1, scale = 1;
  int resize = -1;  // shorter side, before cropping (-1: none)
  bool rand_crop = false, rand_mirror = false;
  bool random_resized_crop = false;
  float min_random_area = 1, max_random_area = 1;
  float min_aspect_ratio = 0, max_aspect_ratio = 0;  // 0: aspect ratio 1
  float brightness = 0, contrast = 0, saturation = 0, pca_noise = 0;
  DType dtype = DType::kFloat32;  // float32, or uint8 (ImageRecordUInt8Iter)
  std::string data_name = "data", label_name = "softmax_label";
};

/*!
 * \brief The iterator. Part `part_index` of `num_parts` holds records
 * [n*k/parts, n*(k+1)/parts) in file order. Each image is decoded (RGB), resized, cropped to
 * data_shape (random or centre), mirrored, colour-jittered, then (x - mean) / std * scale in
 * CHW order (uint8 output: the pixels unnormalised). Random draws come from a std::mt19937
 * seeded by (seed, epoch, record number), so batches do not depend on the thread count or
 * timing. With round_batch the last batch is completed from the start of the epoch's order
 * and, as in MXNet, the next epoch (without shuffle) begins after the records it took; else
 * it is completed with zeros (MXNet 1.9.1 then reports pad 0). `pad` counts the filler rows.
 * `index` holds each row's record id (IRHeader id). A missing file, a file without records,
 * or a record whose image does not decode is a ValueError naming the file; records with
 * broken framing are skipped, as MXNet does (NOTE [ Corrupt records ]).
 */
class ImageRecordIter : public DataIter {
 public:
  explicit ImageRecordIter(const ImageRecordParam& param);
  ~ImageRecordIter() override;
  void Reset() override;
  bool Next() override;
  const DataBatch& Value() const override { return batch_; }
  std::vector<DataDesc> provide_data() const override;
  std::vector<DataDesc> provide_label() const override;
  int batch_size() const override { return param_.batch_size; }
  int64_t num_records() const;

 private:
  struct Impl;
  ImageRecordParam param_;
  std::unique_ptr<Impl> impl_;
  DataBatch batch_;
};

}  // namespace mixnet::io
