// io::ImageRecordIter: exact CHW pixels and labels from PNG records, round_batch padding,
// parts covering every record once, seeded augmentation independent of the thread count, and
// errors naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "mixnet/base/error.h"
#include "mixnet/io/image.h"
#include "mixnet/io/image_record_iter.h"
#include "mixnet/io/recordio.h"

namespace mixnet::io {
namespace {

struct RecFile {
  std::string rec, idx;
  std::vector<Image> images;  // RGB
};

RecFile MakeRec(const std::string& name, int n, int h, int w) {
  const auto dir = std::filesystem::temp_directory_path();
  RecFile f{(dir / (name + std::to_string(getpid()) + ".rec")).string(),
            (dir / (name + std::to_string(getpid()) + ".idx")).string(),
            {}};
  std::mt19937 rng(7);
  IndexedRecordIO out(f.idx, f.rec, 'w');
  for (int i = 0; i < n; ++i) {
    Image img(h, w, 3);
    for (auto& v : img.data)
      v = static_cast<uint8_t>(rng() & 0xFF);
    IRHeader hdr;
    hdr.label = static_cast<float>(i);
    hdr.id = i;
    const auto png = ImEncode(img, ".png", 95, /*is_rgb=*/true);
    out.WriteIdx(std::to_string(i),
                 PackIRHeader(hdr, {reinterpret_cast<const char*>(png.data()), png.size()}));
    f.images.push_back(std::move(img));
  }
  out.Close();
  return f;
}

std::vector<float> Host(const NDArray& a) {
  return a.ToVector<float>();
}

TEST(IoImageRecordIter, CentreCropPixelsLabelsAndPadding) {
  RecFile f = MakeRec("irec_px", 5, 12, 14);
  ImageRecordParam p;
  p.path_imgrec = f.rec;
  p.data_shape = Shape{3, 10, 10};
  p.batch_size = 2;
  p.mean_g = 3;
  p.std_b = 2;
  p.scale = 0.5f;
  ImageRecordIter it(p);
  EXPECT_EQ(it.num_records(), 5);
  std::vector<float> labels;
  int batches = 0, last_pad = -1;
  for (it.Reset(); it.Next(); ++batches) {
    const auto data = Host(it.Value().data[0]);
    const auto label = Host(it.Value().label[0]);
    ASSERT_EQ(it.Value().data[0].shape(), (Shape{2, 3, 10, 10}));
    last_pad = it.Value().pad;
    for (int r = 0; r < 2; ++r) {
      const Image& img = f.images[static_cast<int>(label[r])];
      for (int k = 0; k < 3; ++k)
        for (int y = 0; y < 10; ++y)
          for (int x = 0; x < 10; ++x) {
            const float mean = k == 1 ? 3.f : 0.f, sd = k == 2 ? 2.f : 1.f;
            const float want = (img.Pixel(y + 1, x + 2)[k] - mean) / sd * 0.5f;
            ASSERT_NEAR(data[((r * 3 + k) * 10 + y) * 10 + x], want, 1e-5);
          }
      labels.push_back(label[r]);
    }
  }
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(last_pad, 1);
  EXPECT_EQ(labels, (std::vector<float>{0, 1, 2, 3, 4, 0}));
  std::filesystem::remove(f.rec);
  std::filesystem::remove(f.idx);
}

TEST(IoImageRecordIter, PartsCoverEveryRecordOnce) {
  RecFile f = MakeRec("irec_parts", 7, 8, 8);
  for (int parts = 1; parts <= 3; ++parts) {
    std::multiset<float> seen;
    for (int k = 0; k < parts; ++k) {
      ImageRecordParam p;
      p.path_imgrec = f.rec;
      p.path_imgidx = k == 1 ? f.idx : "";
      p.data_shape = Shape{3, 8, 8};
      p.batch_size = 3;
      p.num_parts = parts;
      p.part_index = k;
      ImageRecordIter it(p);
      for (it.Reset(); it.Next();) {
        const auto label = Host(it.Value().label[0]);
        for (int r = 0; r < 3 - it.Value().pad; ++r)
          seen.insert(label[r]);
      }
    }
    EXPECT_EQ(seen, (std::multiset<float>{0, 1, 2, 3, 4, 5, 6})) << parts << " parts";
  }
  std::filesystem::remove(f.rec);
  std::filesystem::remove(f.idx);
}

TEST(IoImageRecordIter, AugmentationIndependentOfThreads) {
  RecFile f = MakeRec("irec_aug", 9, 16, 18);
  auto run = [&](int threads) {
    ImageRecordParam p;
    p.path_imgrec = f.rec;
    p.path_imgidx = f.idx;
    p.data_shape = Shape{3, 10, 10};
    p.batch_size = 4;
    p.shuffle = true;
    p.seed = 11;
    p.rand_crop = p.rand_mirror = true;
    p.brightness = p.saturation = 0.4f;
    p.preprocess_threads = threads;
    ImageRecordIter it(p);
    std::vector<float> all;
    for (int epoch = 0; epoch < 2; ++epoch)
      for (it.Reset(); it.Next();) {
        auto d = Host(it.Value().data[0]);
        all.insert(all.end(), d.begin(), d.end());
      }
    return all;
  };
  const auto one = run(1);
  EXPECT_EQ(one, run(3));
  EXPECT_EQ(one.size(), 2u * 3 * 4 * 300);
}

TEST(IoImageRecordIter, ErrorsNameTheFile) {
  ImageRecordParam p;
  p.path_imgrec = "/nonexistent/irec_missing.rec";
  p.data_shape = Shape{3, 8, 8};
  try {
    ImageRecordIter it(p);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("irec_missing.rec"), std::string::npos) << e.what();
  }
  RecFile f = MakeRec("irec_err", 2, 8, 8);
  p.path_imgrec = f.rec;
  p.shuffle = true;  // without path_imgidx
  EXPECT_THROW(ImageRecordIter{p}, ValueError);
  p.shuffle = false;
  p.data_shape = Shape{3, 9, 8};  // larger than the images: raised by Next
  ImageRecordIter it(p);
  EXPECT_THROW(it.Next(), ValueError);
  std::filesystem::remove(f.rec);
  std::filesystem::remove(f.idx);
}

}  // namespace
}  // namespace mixnet::io
