// Indexing, gather/scatter, ordering and Embedding ops against hand-computed values: index
// modes, errors raised from kernels, accumulating gradients and stable ordering with ties.
#include <gtest/gtest.h>

#include <vector>

#include "mixnet/op/invoke.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

NDArray F(const std::vector<float>& v, const Shape& s) {
  return NDArray::FromVector<float>(v, s);
}

std::vector<float> Out(std::string_view op, std::vector<NDArray> in, const AttrDict& attrs = {},
                       size_t output = 0) {
  return Invoke(op, in, attrs)[output].ToVector<float>();
}

/*! \brief Gradients of `op` w.r.t. its inputs for output gradient `dout`. */
std::vector<NDArray> Grad(std::string_view op, const std::vector<NDArray>& in,
                          const AttrDict& attrs, const NDArray& dout) {
  const OpDef& def = Registry::Get(op);
  EagerGradBuilder g;
  std::vector<GValue> in_v, out_v;
  for (const auto& a : in)
    in_v.push_back(g.Add(a));
  for (const auto& a : Invoke(op, in, attrs))
    out_v.push_back(g.Add(a));
  const GValue head = g.Add(dout);
  std::vector<NDArray> out;
  for (GValue v : def.gradient(g, def.ParseAttrs(attrs), in_v, out_v, std::span(&head, 1))) {
    out.push_back(v.valid() ? g.Get(v) : NDArray());
  }
  return out;
}

TEST(OpIndexing, TakeModes) {
  const NDArray a = F({1, 2, 3, 4, 5, 6}, {3, 2});
  const NDArray idx = F({-1, 0, 2.7f, 5}, {4});
  EXPECT_EQ(Out("take", {a, idx}), (std::vector<float>{1, 2, 1, 2, 5, 6, 5, 6}));
  EXPECT_EQ(Out("take", {a, idx}, {{"mode", "wrap"}}),
            (std::vector<float>{5, 6, 1, 2, 5, 6, 5, 6}));
  const NDArray cols = NDArray::FromVector<int32_t>({1, 0, 1}, {3});
  EXPECT_EQ(Out("take", {a, cols}, {{"axis", "-1"}}),
            (std::vector<float>{2, 1, 2, 4, 3, 4, 6, 5, 6}));
  EXPECT_EQ(Invoke("take", {a, F({0, 1, 2, 0}, {2, 2})})[0].shape(), (Shape{2, 2, 2}));
}

TEST(OpIndexing, TakeRaiseReachesTheSyncPoint) {
  const NDArray a = F({1, 2, 3, 4, 5, 6}, {3, 2});
  const NDArray out = Invoke("take", {a, F({0, 3}, {2})}, {{"mode", "raise"}})[0];
  EXPECT_ERROR(out.WaitToRead(), IndexError, "take", "index 3", "axis 0", "size 3");
  const NDArray out2 = Invoke("take", {a, F({-1}, {1})}, {{"mode", "raise"}})[0];
  EXPECT_ERROR(out2.ToVector<float>(), IndexError, "take", "index -1");
  EXPECT_EQ(Out("take", {a, F({2, 1}, {2})}, {{"mode", "raise"}}),
            (std::vector<float>{5, 6, 3, 4}));
}

TEST(OpIndexing, TakeGradientAccumulatesRepeatedIndices) {
  const NDArray a = F({1, 2, 3, 4, 5, 6}, {3, 2});
  const auto g = Grad("take", {a, F({2, 0, 2}, {3})}, {}, F({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(g[0].ToVector<float>(), (std::vector<float>{3, 4, 0, 0, 6, 8}));
  EXPECT_TRUE(g[1].is_none());
}

TEST(OpIndexing, BatchTakeAndPick) {
  const NDArray a = F({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_EQ(Out("batch_take", {a, NDArray::FromVector<int32_t>({1, 0, 7}, {3})}),
            (std::vector<float>{2, 3, 6}));
  const NDArray idx = F({1, 0, 3}, {3});
  EXPECT_EQ(Out("pick", {a, idx}), (std::vector<float>{2, 3, 6}));
  EXPECT_EQ(Out("pick", {a, idx}, {{"mode", "wrap"}}), (std::vector<float>{2, 3, 6}));
  const NDArray keep = F({1, 0, -1}, {3, 1});
  const auto out =
      Invoke("pick", {a, keep}, {{"axis", "1"}, {"keepdims", "True"}, {"mode", "wrap"}});
  EXPECT_EQ(out[0].shape(), (Shape{3, 1}));
  EXPECT_EQ(out[0].ToVector<float>(), (std::vector<float>{2, 3, 6}));
  EXPECT_EQ(Out("pick", {a, F({2, 0}, {2})}, {{"axis", "0"}}), (std::vector<float>{5, 2}));
  const auto g = Grad("pick", {a, F({1, 1, 0}, {3})}, {}, F({1, 2, 3}, {3}));
  EXPECT_EQ(g[0].ToVector<float>(), (std::vector<float>{0, 1, 0, 2, 3, 0}));
  EXPECT_ERROR(Invoke("pick", {a, F({0, 0}, {2})}), ValueError, "pick", "index", "(2", "(3");
}

// MXNet 1.9.1 takes the index with or without the picked axis, whatever keepdims says.
TEST(OpIndexing, PickIndexWithOrWithoutTheAxis) {
  const NDArray a = F({0, 1, 2, 3, 4, 5}, {2, 3});
  const AttrDict keep{{"axis", "-1"}, {"keepdims", "True"}};
  const auto out = Invoke("pick", {a, F({0, 2}, {2})}, keep);
  EXPECT_EQ(out[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(out[0].ToVector<float>(), (std::vector<float>{0, 5}));
  const auto g = Grad("pick", {a, F({0, 2}, {2})}, keep, F({1, 2}, {2, 1}));
  EXPECT_EQ(g[0].ToVector<float>(), (std::vector<float>{1, 0, 0, 0, 0, 2}));
  const auto drop = Invoke("pick", {a, F({0, 2}, {2, 1})}, {{"axis", "-1"}});
  EXPECT_EQ(drop[0].shape(), (Shape{2}));
  EXPECT_EQ(drop[0].ToVector<float>(), (std::vector<float>{0, 5}));
  EXPECT_ERROR(Invoke("pick", {a, F({0, 2}, {1, 2})}, keep), ValueError, "pick", "index", "(1, 2)",
               "(2, 1)");
}

TEST(OpIndexing, OneHot) {
  const NDArray idx = NDArray::FromVector<int32_t>({1, -1, 2, 3}, {4});
  const NDArray out =
      Invoke("one_hot", {idx},
             {{"depth", "3"}, {"on_value", "5"}, {"off_value", "-1"}, {"dtype", "int32"}})[0];
  EXPECT_EQ(out.dtype(), DType::kInt32);
  EXPECT_EQ(out.shape(), (Shape{4, 3}));
  EXPECT_EQ(out.ToVector<int32_t>(),
            (std::vector<int32_t>{-1, 5, -1, -1, -1, -1, -1, -1, 5, -1, -1, -1}));
}

TEST(OpIndexing, GatherNdScatterNdRoundTrip) {
  const NDArray data = F({0, 1, 2, 3, 4, 5}, {2, 3});
  const NDArray idx = F({1, 0, -1, 2, 0, 1}, {2, 3});  // (1,2), (0,0), (-1,1) -> 5, 0, 4
  EXPECT_EQ(Out("gather_nd", {data, idx}), (std::vector<float>{5, 0, 4}));
  const NDArray scattered =
      Invoke("scatter_nd", {F({5, 0, 4}, {3}), idx}, {{"shape", "(2, 3)"}})[0];
  EXPECT_EQ(scattered.ToVector<float>(), (std::vector<float>{0, 0, 0, 0, 4, 5}));
  // Row slices: indices (1, 2) pick rows 1 and 0.
  const NDArray rows = F({1, 0}, {1, 2});
  EXPECT_EQ(Out("gather_nd", {data, rows}), (std::vector<float>{3, 4, 5, 0, 1, 2}));
  EXPECT_EQ(Out("scatter_nd", {Invoke("gather_nd", {data, rows})[0], rows}, {{"shape", "(2, 3)"}}),
            data.ToVector<float>());
  // gather_nd's gradient adds up repeated slices.
  const auto g = Grad("gather_nd", {data, F({1, 1}, {1, 2})}, {}, F({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(g[0].ToVector<float>(), (std::vector<float>{0, 0, 0, 5, 7, 9}));
  const NDArray bad = Invoke("gather_nd", {data, F({2}, {1, 1})})[0];
  EXPECT_ERROR(bad.WaitToRead(), IndexError, "gather_nd", "index 2", "dimension 0");
}

TEST(OpIndexing, Where) {
  const NDArray x = F({1, 2, 3, 4}, {2, 2});
  const NDArray y = F({-1, -2, -3, -4}, {2, 2});
  EXPECT_EQ(Out("where", {F({1, 0, 0, 2}, {2, 2}), x, y}), (std::vector<float>{1, -2, -3, 4}));
  EXPECT_EQ(Out("where", {NDArray::FromVector<int32_t>({0, 1}, {2}), x, y}),
            (std::vector<float>{-1, -2, 3, 4}));
  EXPECT_ERROR(Invoke("where", {F({1, 0, 1}, {3}), x, y}), ValueError, "where", "condition");
}

TEST(OpIndexing, EmbeddingForwardAndAccumulatingWeightGradient) {
  const NDArray weight = F({0, 1, 10, 11, 20, 21}, {3, 2});
  const NDArray data = F({2, 0, 2, 7}, {2, 2});
  const AttrDict attrs = {{"input_dim", "3"}, {"output_dim", "2"}};
  const NDArray out = Invoke("Embedding", {data, weight}, attrs)[0];
  EXPECT_EQ(out.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{20, 21, 0, 1, 20, 21, 20, 21}));
  const auto g = Grad("Embedding", {data, weight}, attrs, F({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}));
  EXPECT_TRUE(g[0].is_none());
  // Row 2 is looked up three times (index 7 clips to 2): 1+5+7, 2+6+8.
  EXPECT_EQ(g[1].ToVector<float>(), (std::vector<float>{3, 4, 0, 0, 13, 16}));
  EXPECT_ERROR(Invoke("Embedding", {data, F({0, 0}, {1, 2})}, attrs), ValueError, "Embedding",
               "weight", "(1, 2)", "(3, 2)");
}

TEST(OpOrdering, TopKEveryReturnType) {
  const NDArray x = F({3, 1, 4, 1, 5, 9}, {2, 3});
  EXPECT_EQ(Out("topk", {x}), (std::vector<float>{2, 2}));
  EXPECT_EQ(Out("topk", {x}, {{"k", "2"}, {"ret_typ", "value"}}), (std::vector<float>{4, 3, 9, 5}));
  EXPECT_EQ(Out("topk", {x}, {{"k", "2"}, {"ret_typ", "mask"}}),
            (std::vector<float>{1, 0, 1, 0, 1, 1}));
  const auto both =
      Invoke("topk", {x}, {{"k", "2"}, {"ret_typ", "both"}, {"is_ascend", "True"}, {"axis", "0"}});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].ToVector<float>(), (std::vector<float>{1, 1, 4, 3, 5, 9}));
  EXPECT_EQ(both[1].dtype(), DType::kFloat32);
  EXPECT_EQ(both[1].ToVector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 1}));
  EXPECT_EQ(Out("topk", {x}, {{"k", "3"}, {"axis", "None"}}), (std::vector<float>{5, 4, 2}));
  const auto g = Grad("topk", {x}, {{"k", "2"}, {"ret_typ", "value"}}, F({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(g[0].ToVector<float>(), (std::vector<float>{2, 0, 1, 0, 4, 3}));
  EXPECT_ERROR(Invoke("topk", {x}, {{"k", "4"}}), ValueError, "topk", "k=4");
}

TEST(OpOrdering, SortAndArgSortAreStableWithTies) {
  const NDArray x = F({2, 1, 2, 1, 3}, {5});
  EXPECT_EQ(Out("sort", {x}), (std::vector<float>{1, 1, 2, 2, 3}));
  EXPECT_EQ(Out("argsort", {x}), (std::vector<float>{1, 3, 0, 2, 4}));
  EXPECT_EQ(Out("argsort", {x}, {{"is_ascend", "False"}}), (std::vector<float>{4, 0, 2, 1, 3}));
  EXPECT_EQ(Out("topk", {x}, {{"k", "3"}}), (std::vector<float>{4, 0, 2}));
  const NDArray i64 = Invoke("argsort", {x}, {{"dtype", "int64"}})[0];
  EXPECT_EQ(i64.ToVector<int64_t>(), (std::vector<int64_t>{1, 3, 0, 2, 4}));
  const NDArray m = F({3, 1, 2, 0, 5, 4}, {2, 3});
  EXPECT_EQ(Out("sort", {m}, {{"axis", "0"}, {"is_ascend", "False"}}),
            (std::vector<float>{3, 5, 4, 0, 1, 2}));
  EXPECT_EQ(Out("sort", {m}, {{"axis", "None"}}), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  const auto g = Grad("sort", {m}, {}, F({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(g[0].ToVector<float>(), (std::vector<float>{3, 1, 2, 4, 6, 5}));
  EXPECT_FALSE(Registry::Get("argsort").gradient);
}

TEST(OpIndexing, ZeroSizeAndIndexDTypes) {
  const NDArray empty = NDArray::Zeros({0, 3});
  EXPECT_EQ(Invoke("take", {empty, F({}, {0})})[0].shape(), (Shape{0, 3}));
  EXPECT_EQ(Invoke("sort", {empty})[0].shape(), (Shape{0, 3}));
  EXPECT_EQ(Invoke("one_hot", {F({}, {0})}, {{"depth", "2"}})[0].shape(), (Shape{0, 2}));
  EXPECT_ERROR(Invoke("take", {empty, F({0}, {1})}), ValueError, "take", "size 0");
  const NDArray a = F({1, 2, 3}, {3});
  EXPECT_ERROR(Invoke("take", {a, NDArray::Zeros({2}, DType::kUint8)}), TypeError, "take",
               "indices", "uint8");
  for (DType t : {DType::kFloat64, DType::kInt32, DType::kInt64}) {
    NDArray idx({2}, Context::cpu(), t);
    F({2, 0}, {2}).CopyTo(idx);
    EXPECT_EQ(Out("take", {a, idx}), (std::vector<float>{3, 1}));
  }
}

}  // namespace
}  // namespace mixnet::op
