// io::NDArrayIter against MXNet 1.9's mx.io.NDArrayIter: batch contents for pad, discard and
// roll_over (the documented examples), pad counts, indices, shuffling, descriptions, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "mixnet/io/data_iter.h"
#include "test_util.h"

namespace mixnet::io {
namespace {

/*! \brief (n, 2) float32 rows [10 i, 10 i + 1] and (n,) int32 labels i. */
NDArrayIter::Named Data(int64_t n) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) {
    v.push_back(10.0f * static_cast<float>(i));
    v.push_back(10.0f * static_cast<float>(i) + 1);
  }
  return {{"data", NDArray::FromVector(v, {n, 2})}};
}
NDArrayIter::Named Labels(int64_t n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return {{"softmax_label", NDArray::FromVector(v, {n})}};
}

/*! \brief The sample of each row of the current batch, read from the data and the label. */
std::vector<int64_t> Rows(const NDArrayIter& it) {
  const auto d = it.Value().data[0].ToVector<float>();
  const auto l = it.Value().label[0].ToVector<int32_t>();
  std::vector<int64_t> rows;
  for (size_t r = 0; r < l.size(); ++r) {
    EXPECT_EQ(d[2 * r], 10.0f * static_cast<float>(l[r])) << "row " << r;
    EXPECT_EQ(d[2 * r + 1], 10.0f * static_cast<float>(l[r]) + 1) << "row " << r;
    rows.push_back(l[r]);
  }
  EXPECT_EQ(rows, it.Value().index);  // index names the samples of the rows
  return rows;
}

/*! \brief Every batch of one epoch (from the iterator's current position). */
std::vector<std::vector<int64_t>> Epoch(NDArrayIter& it, std::vector<int>* pads = nullptr) {
  std::vector<std::vector<int64_t>> out;
  while (it.Next()) {
    out.push_back(Rows(it));
    if (pads) pads->push_back(it.Value().pad);
  }
  return out;
}

using Batches = std::vector<std::vector<int64_t>>;

TEST(NDArrayIter, PadFillsTheLastBatchFromTheStart) {
  NDArrayIter it(Data(10), Labels(10), 3);  // MXNet's example: 10 samples, batch 3 -> 4 batches
  std::vector<int> pads;
  EXPECT_EQ(Epoch(it, &pads), (Batches{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 0, 1}}));
  EXPECT_EQ(pads, (std::vector<int>{0, 0, 0, 2}));
  EXPECT_FALSE(it.Next());  // stays at the end until Reset
  it.Reset();
  EXPECT_EQ(Epoch(it).size(), 4u);
}

TEST(NDArrayIter, PadRepeatsDataSmallerThanABatch) {
  NDArrayIter it(Data(2), Labels(2), 5);  // MXNet 1.9 tiles the data
  std::vector<int> pads;
  EXPECT_EQ(Epoch(it, &pads), (Batches{{0, 1, 0, 1, 0}}));
  EXPECT_EQ(pads, (std::vector<int>{3}));
}

TEST(NDArrayIter, DiscardDropsTheIncompleteBatch) {
  NDArrayIter it(Data(10), Labels(10), 3, false, LastBatch::kDiscard);
  EXPECT_EQ(Epoch(it), (Batches{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));
  it.Reset();
  EXPECT_EQ(Epoch(it), (Batches{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));
}

TEST(NDArrayIter, RollOverCarriesTheRemainderIntoTheNextEpoch) {
  NDArrayIter it(Data(10), Labels(10), 3, false, LastBatch::kRollOver);
  EXPECT_EQ(Epoch(it), (Batches{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));
  it.Reset();  // MXNet's documented example: the next batch is [9, 0, 1]
  std::vector<int> pads;
  EXPECT_EQ(Epoch(it, &pads), (Batches{{9, 0, 1}, {2, 3, 4}, {5, 6, 7}}));
  EXPECT_EQ(pads, (std::vector<int>{0, 0, 0}));  // the carried rows are samples, not filler
  it.Reset();                                    // 8, 9 left over; this epoch then ends exactly
  EXPECT_EQ(Epoch(it), (Batches{{8, 9, 0}, {1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
  it.Reset();  // no remainder: a fresh start
  EXPECT_EQ(Epoch(it).front(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(NDArrayIter, RollOverResetMidEpochStartsOver) {
  NDArrayIter it(Data(10), Labels(10), 3, false, LastBatch::kRollOver);
  ASSERT_TRUE(it.Next());
  it.Reset();
  EXPECT_EQ(Epoch(it).front(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(NDArrayIter, ShuffleIsASeededPermutationPerEpoch) {
  NDArrayIter a(Data(20), Labels(20), 4, true, LastBatch::kPad, 7);
  NDArrayIter b(Data(20), Labels(20), 4, true, LastBatch::kPad, 7);
  NDArrayIter c(Data(20), Labels(20), 4, true, LastBatch::kPad, 8);
  const Batches e1 = Epoch(a);
  EXPECT_EQ(e1, Epoch(b));  // same seed, same order
  EXPECT_NE(e1, Epoch(c));
  std::vector<int64_t> all;
  for (const auto& batch : e1)
    all.insert(all.end(), batch.begin(), batch.end());
  std::vector<int64_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> want(20);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(sorted, want);  // a permutation: every sample once
  std::vector<int64_t> identity = want;
  EXPECT_NE(all, identity);
  a.Reset();
  EXPECT_NE(Epoch(a), e1);  // reshuffled at Reset
}

TEST(NDArrayIter, ShuffledPadAndRollOverUseTheEpochOrder) {
  NDArrayIter pad(Data(7), Labels(7), 3, true, LastBatch::kPad, 1);
  std::vector<int> pads;
  const Batches e = Epoch(pad, &pads);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(pads.back(), 2);
  EXPECT_EQ(e[2][1], e[0][0]);  // the filler is the start of this epoch's order
  EXPECT_EQ(e[2][2], e[0][1]);

  NDArrayIter roll(Data(7), Labels(7), 3, true, LastBatch::kRollOver, 1);
  const Batches r1 = Epoch(roll);
  std::set<int64_t> seen;
  for (const auto& b : r1)
    seen.insert(b.begin(), b.end());
  ASSERT_EQ(seen.size(), 6u);
  int64_t left = 0;
  while (seen.count(left))
    ++left;
  roll.Reset();
  const Batches r2 = Epoch(roll);
  EXPECT_EQ(r2.front().front(), left);  // the unused sample leads the next epoch
}

TEST(NDArrayIter, DescriptionsAndDtypes) {
  NDArrayIter::Named data = {{"img", NDArray::Zeros({5, 1, 2, 2})},
                             {"aux", NDArray::Zeros({5, 3}, DType::kFloat64)}};
  NDArrayIter it(data, Labels(5), 2);
  const auto d = it.provide_data();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "img");  // the given order (MXNet sorted dict keys)
  EXPECT_EQ(d[0].shape, (Shape{2, 1, 2, 2}));
  EXPECT_EQ(d[0].dtype, DType::kFloat32);
  EXPECT_EQ(d[0].layout, "NCHW");
  EXPECT_EQ(d[1].name, "aux");
  EXPECT_EQ(d[1].shape, (Shape{2, 3}));
  EXPECT_EQ(d[1].dtype, DType::kFloat64);
  const auto l = it.provide_label();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].name, "softmax_label");
  EXPECT_EQ(l[0].shape, (Shape{2}));
  EXPECT_EQ(l[0].dtype, DType::kInt32);
  EXPECT_EQ(it.batch_size(), 2);
  EXPECT_EQ(it.num_data(), 5);
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.Value().data[1].dtype(), DType::kFloat64);
  EXPECT_EQ(it.Value().label[0].dtype(), DType::kInt32);

  NDArrayIter no_label(Data(4), {}, 2);
  EXPECT_TRUE(no_label.provide_label().empty());
  ASSERT_TRUE(no_label.Next());
  EXPECT_TRUE(no_label.Value().label.empty());
}

TEST(NDArrayIter, BadArgumentsAreNamed) {
  EXPECT_ERROR(NDArrayIter({}, Labels(3), 2), ValueError, "data is empty");
  EXPECT_ERROR(NDArrayIter(Data(3), Labels(3), 0), ValueError, "batch_size", "0");
  EXPECT_ERROR(NDArrayIter(Data(3), Labels(4), 2), ValueError, "softmax_label", "(4,)", "'data'",
               "3 samples");
  EXPECT_ERROR(NDArrayIter(Data(3), {{"data", NDArray::Zeros({3})}}, 2), ValueError,
               "'data' is given twice");
  EXPECT_ERROR(NDArrayIter(Data(3), {{"x", NDArray()}}, 2), ValueError, "label 'x'", "none");
  EXPECT_ERROR(NDArrayIter({{"s", NDArray::Zeros(Shape(0, 1))}}, {}, 2), ValueError, "data 's'");
  EXPECT_ERROR(NDArrayIter(Data(3), {}, 4, false, LastBatch::kRollOver), ValueError, "roll_over",
               "batch_size (4)");
  EXPECT_ERROR(NDArrayIter({{"data", NDArray::Zeros({0, 2})}}, {}, 2), ValueError, "no samples");
}

}  // namespace
}  // namespace mixnet::io
