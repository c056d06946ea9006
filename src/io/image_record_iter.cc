// mx.io.ImageRecordIter: a loader thread reads records and hands each batch's images to
// preprocess_threads decode+augment workers; finished batches wait in a bounded queue.
#include "mixnet/io/image_record_iter.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "mixnet/base/error.h"
#include "mixnet/io/image.h"
#include "mixnet/io/recordio.h"

namespace mixnet::io {

// NOTE [ ImageRecordIter threads ]
// MXNet's default preprocess_threads is 4; on this project's 2-core machines 4 decode threads
// beside the training's compute threads oversubscribe the cores, so mixnet's default is 1
// (one loader + one decoder overlap a training step); raise it on larger machines. Every
// record's random draws come from its own std::mt19937 seeded by (seed, epoch, record
// number), so batches are the same for any thread count. io::RandomDraws is not used: it waits
// on the engine.

// NOTE [ Corrupt records ]
// As MXNet 1.9.1 (dmlc's record split), a record whose framing is broken (bad magic, bad part
// order) is skipped: the readers resynchronise at the next record. The record offsets of the
// scan are where each read starts, so a loader seeking there skips the same bytes and reads
// the same record. A record whose image does not decode is a ValueError naming the file and
// record, as in MXNet (which fails there too).

namespace {

struct RawBatch {
  std::vector<std::string> records;  // batch_size payloads; fewer filled rows at the end
  std::vector<int64_t> numbers;      // record numbers (for seeding)
  int pad = 0;
};

// Batch buffers are reused: fresh 10s of MB per batch cost more in page faults than the
// decoding. A buffer comes back when the last NDArray over it is gone (possibly after the
// iterator, hence the shared pool).
struct BufferPool {
  std::mutex mu;
  std::vector<std::unique_ptr<uint8_t[]>> free;
  size_t keep = 8;

  std::unique_ptr<uint8_t[]> Get(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    if (free.empty()) return std::unique_ptr<uint8_t[]>(new uint8_t[bytes]);
    auto b = std::move(free.back());
    free.pop_back();
    return b;
  }
  void Put(uint8_t* b) {
    std::unique_ptr<uint8_t[]> owned(b);
    std::lock_guard<std::mutex> lock(mu);
    if (free.size() < keep) free.push_back(std::move(owned));
  }
};

struct OutBatch {
  std::unique_ptr<uint8_t[]> data;  // bytes of (bs, c, h, w) in dtype
  std::vector<float> label;
  std::vector<int64_t> index;
  int pad = 0;
};

template <typename T>
T Uniform(std::mt19937& rng, T lo, T hi) {
  return std::uniform_real_distribution<T>(lo, hi)(rng);
}

// AlexNet's ImageNet PCA lighting (MXNet's pca_noise uses the same values).
constexpr float kEigval[3] = {55.46f, 4.794f, 1.148f};
constexpr float kEigvec[3][3] = {
    {-0.5675f, 0.7192f, 0.4009f}, {-0.5808f, -0.0045f, -0.8140f}, {-0.5836f, -0.6948f, 0.4203f}};

}  // namespace

struct ImageRecordIter::Impl {
  ImageRecordParam p;
  std::vector<uint64_t> offsets;  // this part's records in file order
  uint64_t epoch = 0;
  // round_batch: records the last batch took from the start of the order; as MXNet, the next
  // epoch (without shuffle) begins after them, once the last batch was taken by Next.
  int64_t skip = 0, overflow = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<OutBatch> queue;
  bool done = false, stop = false;
  std::exception_ptr error;
  std::thread loader;

  std::shared_ptr<BufferPool> pool = std::make_shared<BufferPool>();

  explicit Impl(const ImageRecordParam& param) : p(param) {
    pool->keep = static_cast<size_t>(param.prefetch_buffer) + 4;
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(mu);
      queue.clear();
      done = stop = false;
      error = nullptr;
    }
    overflow = 0;
    loader = std::thread([this, e = epoch, s = skip] { Run(e, s); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (loader.joinable()) loader.join();
  }

  std::vector<int64_t> Order(uint64_t ep) const {
    std::vector<int64_t> order(offsets.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<int64_t>(i);
    if (p.shuffle) {
      std::seed_seq seq{static_cast<uint32_t>(p.seed), static_cast<uint32_t>(ep)};
      std::mt19937 rng(seq);
      std::shuffle(order.begin(), order.end(), rng);
    }
    return order;
  }

  void Run(uint64_t ep, int64_t skip_first) {
    try {
      RecordIOReader reader(p.path_imgrec, /*resync=*/true);  // NOTE [ Corrupt records ]
      const std::vector<int64_t> order = Order(ep);
      const int64_t n = static_cast<int64_t>(order.size()), bs = p.batch_size;
      for (int64_t start = p.shuffle ? 0 : skip_first; start < n; start += bs) {
        RawBatch raw;
        for (int64_t i = start; i < start + bs; ++i) {
          int64_t k = i;
          if (i >= n) {
            ++raw.pad;
            if (!p.round_batch) continue;
            k = (i - n) % n;
          }
          std::string rec;
          reader.Seek(offsets[order[k]]);
          MX_CHECK(reader.NextRecord(&rec), ValueError)
              << "ImageRecordIter: " << p.path_imgrec << " ends before record " << order[k];
          raw.records.push_back(std::move(rec));
          raw.numbers.push_back(order[k]);
        }
        OutBatch out = Process(raw, ep);
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || static_cast<int>(queue.size()) < p.prefetch_buffer; });
        if (stop) return;
        queue.push_back(std::move(out));
        cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  }

  OutBatch Process(const RawBatch& raw, uint64_t ep) {
    const int64_t c = p.data_shape[0], h = p.data_shape[1], w = p.data_shape[2];
    const size_t esize = p.dtype == DType::kUint8 ? 1 : 4;
    OutBatch out;
    out.pad = raw.pad;
    const size_t row_bytes = c * h * w * esize;
    out.data = pool->Get(p.batch_size * row_bytes);
    out.label.assign(static_cast<size_t>(p.batch_size) * p.label_width, 0.f);
    out.index.assign(p.batch_size, 0);
    const int64_t rows = static_cast<int64_t>(raw.records.size());
    const int threads = static_cast<int>(std::min<int64_t>(p.preprocess_threads, rows));
    std::vector<std::exception_ptr> errors(std::max(threads, 1));
    auto work = [&](int t) {
      try {
        for (int64_t r = t; r < rows; r += threads)
          DoRecord(raw, r, ep, &out);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
      pool.emplace_back(work, t);
    if (threads > 0) work(0);
    for (auto& th : pool)
      th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    std::fill(out.data.get() + rows * row_bytes, out.data.get() + p.batch_size * row_bytes, 0);
    return out;
  }

  void DoRecord(const RawBatch& raw, int64_t r, uint64_t ep, OutBatch* out) const {
    const int64_t c = p.data_shape[0], h = p.data_shape[1], w = p.data_shape[2];
    const int64_t number = raw.numbers[r];
    std::string_view payload;
    IRHeader hdr = UnpackIRHeader(raw.records[r], &payload);
    float* label = out->label.data() + r * p.label_width;
    if (hdr.flag == 0) {
      MX_CHECK(p.label_width == 1, ValueError)
          << "ImageRecordIter: record " << number << " of " << p.path_imgrec
          << " has 1 label, label_width is " << p.label_width;
      label[0] = hdr.label;
    } else {
      MX_CHECK(static_cast<int>(hdr.labels.size()) >= p.label_width, ValueError)
          << "ImageRecordIter: record " << number << " of " << p.path_imgrec << " has "
          << hdr.labels.size() << " labels, label_width is " << p.label_width;
      std::copy_n(hdr.labels.begin(), p.label_width, label);
    }
    out->index[r] = static_cast<int64_t>(hdr.id);

    Image img;
    try {
      img = ImDecode({reinterpret_cast<const uint8_t*>(payload.data()), payload.size()},
                     c == 1 ? 0 : 1, true);
    } catch (const Error& e) {
      MX_CHECK(false, ValueError) << "ImageRecordIter: record " << number << " of " << p.path_imgrec
                                  << " is not a valid image: " << e.what();
    }
    std::seed_seq seq{static_cast<uint32_t>(p.seed), static_cast<uint32_t>(ep),
                      static_cast<uint32_t>(number)};
    std::mt19937 rng(seq);
    if (p.resize > 0) {
      const bool tall = img.height > img.width;
      const int64_t short_side = tall ? img.width : img.height,
                    long_side = tall ? img.height : img.width;
      const int64_t nl = long_side * p.resize / short_side;
      img = tall ? ImResize(img, p.resize, nl) : ImResize(img, nl, p.resize);
    }
    // NOTE [ Fused crop ] Without colour jitter, the crop window and the mirror are applied by
    // the CHW write below: no copies of the image.
    const bool jitter =
        c == 3 && (p.brightness > 0 || p.contrast > 0 || p.saturation > 0 || p.pca_noise > 0);
    int64_t x0 = 0, y0 = 0;
    if (p.random_resized_crop) {
      RandomResizedCrop(&img, rng, h, w);
    } else {
      MX_CHECK(img.height >= h && img.width >= w, ValueError)
          << "ImageRecordIter: record " << number << " of " << p.path_imgrec << " is " << img.height
          << "x" << img.width << ", smaller than data_shape " << p.data_shape;
      y0 = img.height - h;
      x0 = img.width - w;
      if (p.rand_crop) {
        y0 = std::uniform_int_distribution<int64_t>(0, y0)(rng);
        x0 = std::uniform_int_distribution<int64_t>(0, x0)(rng);
      } else {
        y0 /= 2;
        x0 /= 2;
      }
      if (jitter && (img.height != h || img.width != w)) {
        img = ImCrop(img, x0, y0, w, h);
        x0 = y0 = 0;
      }
    }
    bool mirror = p.rand_mirror && Uniform(rng, 0.f, 1.f) < 0.5f;
    if (jitter) {
      if (mirror) ImFlip(&img, true);
      mirror = false;
      if (p.brightness > 0)
        AdjustColor(&img, ColorOp::kBrightness, 1 + Uniform(rng, -p.brightness, p.brightness));
      if (p.contrast > 0)
        AdjustColor(&img, ColorOp::kContrast, 1 + Uniform(rng, -p.contrast, p.contrast));
      if (p.saturation > 0)
        AdjustColor(&img, ColorOp::kSaturation, 1 + Uniform(rng, -p.saturation, p.saturation));
      if (p.pca_noise > 0) {
        std::normal_distribution<float> nd(0.f, p.pca_noise);
        const float alpha[3] = {nd(rng), nd(rng), nd(rng)};
        AddLighting(&img, alpha, kEigval, kEigvec);
      }
    }
    const int64_t plane = h * w;
    if (p.dtype == DType::kUint8) {
      WriteChw(img, x0, y0, mirror, h, w, out->data.get() + r * c * plane,
               [](uint8_t v, int64_t) { return v; });
      return;
    }
    const float mean[3] = {p.mean_r, p.mean_g, p.mean_b}, stdv[3] = {p.std_r, p.std_g, p.std_b};
    float mul[3], add[3];
    for (int k = 0; k < 3; ++k) {
      mul[k] = p.scale / stdv[k];
      add[k] = -mean[k] * mul[k];
    }
    WriteChw(img, x0, y0, mirror, h, w, reinterpret_cast<float*>(out->data.get()) + r * c * plane,
             [&](uint8_t v, int64_t k) { return static_cast<float>(v) * mul[k] + add[k]; });
  }

  // The h x w window at (x0, y0) of an HWC image, mirrored or not, as CHW f(pixel, channel).
  template <typename T, typename F>
  static void WriteChw(const Image& img, int64_t x0, int64_t y0, bool mirror, int64_t h, int64_t w,
                       T* dst, F f) {
    const int64_t c = img.channels;
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y) {
        const uint8_t* src = img.Pixel(y0 + y, x0) + k;
        T* row = dst + (k * h + y) * w;
        if (mirror) {
          for (int64_t x = 0; x < w; ++x)
            row[x] = f(src[(w - 1 - x) * c], k);
        } else {
          for (int64_t x = 0; x < w; ++x)
            row[x] = f(src[x * c], k);
        }
      }
  }

  // Inception's crop: a random area fraction and aspect ratio, up to 10 tries, else the
  // centre square; resized to data_shape.
  void RandomResizedCrop(Image* img, std::mt19937& rng, int64_t h, int64_t w) const {
    const double area = static_cast<double>(img->height) * img->width;
    const double lo_r = p.min_aspect_ratio > 0 ? p.min_aspect_ratio : 1.0;
    const double hi_r = p.max_aspect_ratio > 0 ? p.max_aspect_ratio : lo_r;
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double target = area * Uniform<double>(rng, p.min_random_area,
                                                   std::max(p.min_random_area, p.max_random_area));
      const double ratio = std::exp(Uniform<double>(rng, std::log(std::min(lo_r, hi_r)),
                                                    std::log(std::max(lo_r, hi_r)) + 1e-12));
      const int64_t cw = std::lround(std::sqrt(target * ratio));
      const int64_t ch = std::lround(std::sqrt(target / ratio));
      if (cw >= 1 && ch >= 1 && cw <= img->width && ch <= img->height) {
        const int64_t x = std::uniform_int_distribution<int64_t>(0, img->width - cw)(rng);
        const int64_t y = std::uniform_int_distribution<int64_t>(0, img->height - ch)(rng);
        *img = ImResize(ImCrop(*img, x, y, cw, ch), w, h);
        return;
      }
    }
    const int64_t s = std::min(img->height, img->width);
    *img = ImResize(ImCrop(*img, (img->width - s) / 2, (img->height - s) / 2, s, s), w, h);
  }
};

ImageRecordIter::ImageRecordIter(const ImageRecordParam& param)
    : param_(param), impl_(std::make_unique<Impl>(param)) {
  const auto& p = param_;
  MX_CHECK(p.data_shape.ndim() == 3 && (p.data_shape[0] == 1 || p.data_shape[0] == 3) &&
               p.data_shape[1] > 0 && p.data_shape[2] > 0,
           ValueError)
      << "ImageRecordIter: data_shape must be (1 or 3, height, width), got " << p.data_shape;
  MX_CHECK(p.batch_size >= 1, ValueError) << "ImageRecordIter: batch_size " << p.batch_size;
  MX_CHECK(p.label_width >= 1, ValueError) << "ImageRecordIter: label_width " << p.label_width;
  MX_CHECK(p.num_parts >= 1 && p.part_index >= 0 && p.part_index < p.num_parts, ValueError)
      << "ImageRecordIter: part_index " << p.part_index << " outside [0, num_parts " << p.num_parts
      << ")";
  MX_CHECK(p.preprocess_threads >= 1, ValueError)
      << "ImageRecordIter: preprocess_threads " << p.preprocess_threads;
  MX_CHECK(p.prefetch_buffer >= 1, ValueError)
      << "ImageRecordIter: prefetch_buffer " << p.prefetch_buffer;
  MX_CHECK(p.dtype == DType::kFloat32 || p.dtype == DType::kUint8, ValueError)
      << "ImageRecordIter: dtype must be float32 or uint8";
  MX_CHECK(!p.shuffle || !p.path_imgidx.empty(), ValueError)
      << "ImageRecordIter: shuffle needs path_imgidx (the .idx of " << p.path_imgrec << ")";
  std::vector<uint64_t> all;
  if (!p.path_imgidx.empty()) {
    for (const IndexEntry& e : ReadRecordIOIndex(p.path_imgidx))
      all.push_back(e.offset);
    std::sort(all.begin(), all.end());
  } else {
    // ValueError naming the file when it is missing
    RecordIOReader reader(p.path_imgrec, /*resync=*/true);
    std::string rec;
    for (uint64_t off = reader.Tell(); reader.NextRecord(&rec); off = reader.Tell())
      all.push_back(off);
    if (reader.skipped_bytes() > 0)
      std::cerr << "ImageRecordIter: skipped " << reader.skipped_bytes()
                << " bytes of broken records in " << p.path_imgrec << "\n";
  }
  MX_CHECK(!all.empty(), ValueError) << "ImageRecordIter: no records in " << p.path_imgrec;
  const size_t n = all.size(), k = p.part_index, parts = p.num_parts;
  impl_->offsets.assign(all.begin() + n * k / parts, all.begin() + n * (k + 1) / parts);
  MX_CHECK(!impl_->offsets.empty(), ValueError)
      << "ImageRecordIter: part " << k << " of " << parts << " of " << p.path_imgrec
      << " holds no records (" << n << " in all)";
  impl_->Start();
}

ImageRecordIter::~ImageRecordIter() {
  impl_->Stop();
}

int64_t ImageRecordIter::num_records() const {
  return static_cast<int64_t>(impl_->offsets.size());
}

void ImageRecordIter::Reset() {
  impl_->Stop();
  ++impl_->epoch;
  impl_->skip = impl_->overflow % static_cast<int64_t>(impl_->offsets.size());
  impl_->Start();
  batch_ = DataBatch();
}

bool ImageRecordIter::Next() {
  OutBatch out;
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait(lock, [&] { return !impl_->queue.empty() || impl_->done; });
    if (impl_->queue.empty()) {
      if (impl_->error) std::rethrow_exception(std::exchange(impl_->error, nullptr));
      return false;
    }
    out = std::move(impl_->queue.front());
    impl_->queue.pop_front();
  }
  impl_->cv.notify_all();
  const auto& s = param_.data_shape;
  uint8_t* buf = out.data.release();
  batch_.data = {NDArray::FromExternal(buf, Shape{param_.batch_size, s[0], s[1], s[2]},
                                       param_.dtype, Context::cpu(),
                                       [pool = impl_->pool, buf] { pool->Put(buf); })};
  const Shape lshape = param_.label_width == 1 ? Shape{param_.batch_size}
                                               : Shape{param_.batch_size, param_.label_width};
  batch_.label = {NDArray::FromVector(out.label, lshape)};
  batch_.pad = out.pad;
  if (param_.round_batch) impl_->overflow = out.pad;  // only the last batch has a pad
  batch_.index = std::move(out.index);
  return true;
}

std::vector<DataDesc> ImageRecordIter::provide_data() const {
  const auto& s = param_.data_shape;
  return {{param_.data_name, Shape{param_.batch_size, s[0], s[1], s[2]}, param_.dtype, "NCHW"}};
}

std::vector<DataDesc> ImageRecordIter::provide_label() const {
  const Shape lshape = param_.label_width == 1 ? Shape{param_.batch_size}
                                               : Shape{param_.batch_size, param_.label_width};
  return {{param_.label_name, lshape, DType::kFloat32, "N"}};
}

}  // namespace mixnet::io
