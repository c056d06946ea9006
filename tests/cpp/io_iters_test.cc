// io::MNISTIter, CSVIter, LibSVMIter, ResizeIter and PrefetchingIter: MXNet 1.9.1's batching
// rules (round_batch roll-over, stale padding), parsing errors, parts, the prefetch thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "mixnet/io/iterators.h"

namespace mixnet::io {
namespace {

namespace fs = std::filesystem;

std::string TempFile(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("mixnet_io_iters_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

/*! \brief The first value of each row of every batch of one epoch, and the pads. */
std::vector<float> Firsts(DataIter& it, std::vector<int>* pads = nullptr) {
  std::vector<float> out;
  while (it.Next()) {
    const auto v = it.Value().label[0].ToVector<float>();
    out.insert(out.end(), v.begin(), v.end());
    if (pads) pads->push_back(it.Value().pad);
  }
  return out;
}

TEST(IoItersTest, CSVRoundBatchRollsOver) {
  CSVParam p;
  p.data_csv = TempFile("d.csv", "1,2,3\n2,3,4\n3,4,5\n4,5,6\n");
  p.label_csv = TempFile("l.csv", "1\n2\n3\n4\n");
  p.data_shape = Shape{3};
  p.batch_size = 3;
  CSVIter it(p);
  std::vector<int> pads;
  EXPECT_EQ(Firsts(it, &pads), (std::vector<float>{1, 2, 3, 4, 1, 2}));
  EXPECT_EQ(pads, (std::vector<int>{0, 2}));
  EXPECT_FALSE(it.Next());  // the overflow ends the epoch until Reset
  it.Reset();
  EXPECT_EQ(Firsts(it), (std::vector<float>{3, 4, 1}));
  it.Reset();
  EXPECT_EQ(Firsts(it), (std::vector<float>{2, 3, 4}));
}

TEST(IoItersTest, CSVStalePaddingAndErrors) {
  CSVParam p;
  p.data_csv = TempFile("d2.csv", "1,2,3\n\n2,3,4\r\n3,4,5\n4,5,6");
  p.data_shape = Shape{3};
  p.batch_size = 3;
  p.round_batch = false;
  CSVIter it(p);
  ASSERT_TRUE(it.Next());
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.Value().pad, 2);
  EXPECT_EQ(it.Value().data[0].ToVector<float>(), (std::vector<float>{4, 5, 6, 2, 3, 4, 3, 4, 5}));
  EXPECT_EQ(it.Value().index, (std::vector<int64_t>{3, 1, 2}));
  p.data_csv = TempFile("bad.csv", "1,2,3\n1,2\n");
  try {
    CSVIter bad(p);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv line 2: 2 values"), std::string::npos)
        << e.what();
  }
}

TEST(IoItersTest, LibSVMPartsHoldEveryLineOnce) {
  std::string text;
  for (int i = 0; i < 29; ++i)
    text +=
        std::to_string(i) + " " + std::to_string(i % 4) + ":1.5" + std::string(i % 5, ' ') + "\n";
  const std::string path = TempFile("s.libsvm", text);
  for (int parts = 1; parts <= 4; ++parts) {
    std::vector<float> seen;
    for (int k = 0; k < parts; ++k) {
      LibSVMParam p{path, Shape{4}, "", Shape{1}, 1, true, parts, k};
      LibSVMIter it(p);
      const auto part = Firsts(it);
      seen.insert(seen.end(), part.begin(), part.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<float> all(29);
    std::iota(all.begin(), all.end(), 0.0f);
    EXPECT_EQ(seen, all) << parts << " parts";
  }
  LibSVMParam p{TempFile("bad.libsvm", "1 0:1\n1 7:1\n"), Shape{4}};
  EXPECT_THROW(LibSVMIter{p}, ValueError);
}

/*! \brief An idx pair of n 2x2 images with pixels and labels equal to the sample (the gzipped
 * case is in tests/python/test_io_iters.py). */
std::pair<std::string, std::string> Idx(int n) {
  auto be = [](int v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; };
  std::string img = be(0x803) + be(n) + be(2) + be(2), lab = be(0x801) + be(n);
  for (int i = 0; i < n; ++i) {
    img += std::string(4, char(i));
    lab += char(i);
  }
  return {TempFile("img", img), TempFile("lab", lab)};
}

TEST(IoItersTest, MNISTScalingShuffleAndParts) {
  const auto [img, lab] = Idx(10);
  MNISTParam p{img, lab, 4, false};
  p.silent = true;
  MNISTIter it(p);
  EXPECT_EQ(it.provide_data()[0].shape, (Shape{4, 1, 2, 2}));
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.Value().data[0].ToVector<float>()[4], 1.0f / 256);
  ASSERT_TRUE(it.Next());
  EXPECT_FALSE(it.Next());  // 2 of 4 left: dropped
  p.shuffle = true;
  p.batch_size = 1;
  for (int parts = 1; parts <= 4; ++parts) {
    std::vector<float> seen;
    for (int k = 0; k < parts; ++k) {
      p.num_parts = parts;
      p.part_index = k;
      MNISTIter part(p);
      const auto l = Firsts(part);
      seen.insert(seen.end(), l.begin(), l.end());
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << parts << " parts";
  }
}

TEST(IoItersTest, ResizeAndPrefetch) {
  CSVParam p{TempFile("r.csv", "1\n2\n3\n4\n5\n"), Shape{1}, "", Shape{1}, 2, false};
  auto csv = std::make_shared<CSVIter>(p);
  ResizeIter resized(csv, 7);
  int n = 0;
  while (resized.Next())
    ++n;
  EXPECT_EQ(n, 7);
  auto plain = std::make_shared<CSVIter>(p);
  std::vector<std::vector<float>> want;
  while (plain->Next())
    want.push_back(plain->Value().data[0].ToVector<float>());
  PrefetchingIter pre({std::make_shared<CSVIter>(p)}, {{{"data", "x"}}});
  EXPECT_EQ(pre.provide_data()[0].name, "x");
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<std::vector<float>> got;
    while (pre.Next())
      got.push_back(pre.Value().data[0].ToVector<float>());
    EXPECT_EQ(got, want);
    EXPECT_FALSE(pre.Next());
    pre.Reset();
  }
}

}  // namespace
}  // namespace mixnet::io
