// gluon.data's native pieces: CIFAR binary batches decoded to HWC, row gathers, and the
// ordered prefetcher (order under many workers, bounded look-ahead, errors at their turn,
// early close).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "mixnet/io/dataset.h"
#include "test_util.h"

namespace mixnet::io {
namespace {

TEST(IoDataset, CifarRecordsBecomeHwcImagesAndLabels) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "mixnet_io_dataset_cifar.bin").string();
  // Two CIFAR-100 records (coarse, fine, then R, G, B planes); pixel (c, p) = c * 7 + p + r.
  std::vector<uint8_t> bytes;
  for (int r = 0; r < 2; ++r) {
    bytes.push_back(static_cast<uint8_t>(10 + r));
    bytes.push_back(static_cast<uint8_t>(50 + r));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p)
        bytes.push_back(static_cast<uint8_t>(c * 7 + p + r));
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);

  auto [images, labels] = ReadCifarBinary({path, path}, 2, 1);
  EXPECT_EQ(images.shape(), Shape({4, 32, 32, 3}));
  EXPECT_EQ(images.dtype(), DType::kUint8);
  EXPECT_EQ(labels.ToVector<int32_t>(), (std::vector<int32_t>{50, 51, 50, 51}));
  EXPECT_EQ(ReadCifarBinary({path}, 2, 0).second.ToVector<int32_t>(),
            (std::vector<int32_t>{10, 11}));
  const std::vector<uint8_t> px = images.ToVector<uint8_t>();
  const size_t image = 32 * 32 * 3;
  for (int r : {0, 1})
    for (int p : {0, 33, 1023})
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(px[r * image + p * 3 + c], static_cast<uint8_t>(c * 7 + p + r));
  EXPECT_ERROR(ReadCifarBinary({path}, 3, 0), ValueError, "not a multiple");
  EXPECT_ERROR(ReadCifarBinary({path + ".absent"}, 1, 0), ValueError, "cannot open");
  std::filesystem::remove(path);
}

TEST(IoDataset, GatherRowsCopiesTheRowsInIndexOrder) {
  NDArray src = NDArray::FromVector<float>({0, 1, 10, 11, 20, 21}, {3, 2});
  const std::vector<int64_t> index{2, 0, 2};
  NDArray out = GatherRows(src, index);
  EXPECT_EQ(out.shape(), Shape({3, 2}));
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{20, 21, 0, 1, 20, 21}));
  const std::vector<int64_t> bad{3};
  EXPECT_ERROR(GatherRows(src, bad), IndexError, "out of range");
}

TEST(IoDataset, StackRowsStacksItemsOfOneShape) {
  NDArray a = NDArray::FromVector<int32_t>({1, 2}, {2});
  NDArray b = NDArray::FromVector<int32_t>({3, 4}, {2});
  NDArray s = StackRows({a, b, a});
  EXPECT_EQ(s.shape(), Shape({3, 2}));
  EXPECT_EQ(s.ToVector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 1, 2}));
  NDArray c = NDArray::FromVector<int32_t>({1, 2, 3}, {3});
  EXPECT_ERROR(StackRows({a, c}), ValueError, "item 1");
  EXPECT_ERROR(StackRows({}), ValueError, "no items");
}

TEST(IoDataset, PrefetcherKeepsTaskOrderAndBoundsLookAhead) {
  for (int workers : {1, 2, 4, 8}) {
    std::atomic<int> started{0};
    std::atomic<int> consumed{0};
    std::atomic<int> max_ahead{0};
    OrderedPrefetcher<int> p(100, workers, 3, [&](size_t i) {
      const int ahead = ++started - consumed.load();
      int m = max_ahead.load();
      while (ahead > m && !max_ahead.compare_exchange_weak(m, ahead)) {
      }
      return static_cast<int>(i) * 2;
    });
    std::vector<int> got;
    for (int v; p.Next(&v); ++consumed)
      got.push_back(v);
    ASSERT_EQ(got.size(), 100u) << workers;
    for (int i = 0; i < 100; ++i)
      EXPECT_EQ(got[i], 2 * i);
    EXPECT_LE(max_ahead.load(), 4) << "prefetch 3 plus the one being handed out";
  }
}

TEST(IoDataset, PrefetcherRethrowsAtTheTaskTurnAndClosesEarly) {
  OrderedPrefetcher<int> p(10, 3, 4, [](size_t i) -> int {
    if (i == 2) throw std::runtime_error("task 2 failed");
    return static_cast<int>(i);
  });
  int v = -1;
  EXPECT_TRUE(p.Next(&v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(p.Next(&v));
  EXPECT_EQ(v, 1);
  EXPECT_THROW(p.Next(&v), std::runtime_error);
  EXPECT_TRUE(p.Next(&v));
  EXPECT_EQ(v, 3);
  p.Close();
  EXPECT_FALSE(p.Next(&v));

  // Destroyed mid-epoch with results pending and workers blocked on the look-ahead bound.
  std::atomic<int> made{0};
  {
    OrderedPrefetcher<int> q(1000, 4, 2, [&](size_t i) { return ++made, static_cast<int>(i); });
    EXPECT_TRUE(q.Next(&v));
  }
  EXPECT_LT(made.load(), 1000);
}

}  // namespace
}  // namespace mixnet::io
