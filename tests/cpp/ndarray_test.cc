// NDArray: creation, copies with dtype conversion, views, engine ordering, deferred allocation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/engine/engine.h"
#include "mixnet/ndarray/ndarray.h"
#include "mixnet/storage/storage.h"
#include "test_util.h"

namespace mixnet {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/*! \brief Elements of any dtype, as doubles. */
std::vector<double> Values(const NDArray& a) {
  return DispatchDType(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<double> out;
    for (T v : a.ToVector<T>())
      out.push_back(static_cast<double>(v));
    return out;
  });
}

std::vector<DType> AllDTypes() {
  std::vector<DType> out;
  for (int i = 0; i < kNumDTypes; ++i)
    out.push_back(static_cast<DType>(i));
  return out;
}

size_t BytesInUse() {
  Engine::Get()->WaitForAll();  // frees of earlier arrays are pushed asynchronously
  return Storage::Get()->Stats(Context::cpu()).bytes_in_use;
}

// ---------------------------------------------------------------- creation

TEST(NDArray, CreationEveryDType) {
  const Shape shape{2, 3};
  for (DType dt : AllDTypes()) {
    SCOPED_TRACE(DTypeName(dt));
    NDArray z = NDArray::Zeros(shape, dt);
    EXPECT_EQ(z.shape(), shape);
    EXPECT_EQ(z.dtype(), dt);
    EXPECT_EQ(z.ctx(), Context::cpu());
    EXPECT_EQ(z.Size(), 6);
    EXPECT_EQ(z.nbytes(), 6 * DTypeSize(dt));
    EXPECT_EQ(Values(z), std::vector<double>(6, 0.0));
    EXPECT_EQ(Values(NDArray::Ones(shape, dt)), std::vector<double>(6, 1.0));
    EXPECT_EQ(Values(NDArray::Full(shape, 3, dt)),
              std::vector<double>(6, dt == DType::kBool ? 1 : 3));
    const std::vector<double> expect = dt == DType::kBool ? std::vector<double>{0, 1, 1, 1, 1}
                                                          : std::vector<double>{0, 1, 2, 3, 4};
    EXPECT_EQ(Values(NDArray::Arange(0, 5, 1, 1, dt)), expect);
    NDArray e = NDArray::Empty(shape, dt);
    EXPECT_EQ(e.Size(), 6);
    e.Fill(2);
    EXPECT_EQ(Values(e), std::vector<double>(6, dt == DType::kBool ? 1 : 2));
  }
}

TEST(NDArray, CreationValueConversion) {
  EXPECT_EQ(NDArray::Full({3}, 2.75, DType::kInt32).ToVector<int32_t>(),
            (std::vector<int32_t>{2, 2, 2}));
  EXPECT_EQ(NDArray::Full({2}, -2.75, DType::kInt64).ToVector<int64_t>(),
            (std::vector<int64_t>{-2, -2}));
  EXPECT_EQ(NDArray::Full({2}, 0.5, DType::kBool).ToVector<bool>(), (std::vector<bool>{1, 1}));
  EXPECT_EQ(NDArray::Full({2}, 0.0, DType::kBool).ToVector<bool>(), (std::vector<bool>{0, 0}));
  EXPECT_EQ(NDArray::Full({1}, 0.1, DType::kFloat16).ToVector<float16_t>()[0].bits,
            float16_t(0.1f).bits);
  EXPECT_EQ(NDArray::Full({1}, 0.1, DType::kBFloat16).ToVector<bfloat16_t>()[0].bits,
            bfloat16_t(0.1f).bits);
  EXPECT_EQ(NDArray::Full({1}, 0.1, DType::kFloat64).ToVector<double>()[0], 0.1);
  EXPECT_TRUE(std::isnan(NDArray::Full({1}, kNaN).ToVector<float>()[0]));

  const std::vector<int16_t> v{1, -2, 3, -4, 5, -6};
  NDArray a = NDArray::FromVector(v, {3, 2});
  EXPECT_EQ(a.dtype(), DType::kInt16);
  EXPECT_EQ(a.ToVector<int16_t>(), v);
  const double raw[2] = {1.5, -0.25};
  EXPECT_EQ(NDArray::FromHost(raw, {2}, DType::kFloat64).ToVector<double>(),
            (std::vector<double>{1.5, -0.25}));
  a.WaitToRead();
  EXPECT_EQ(a.Data<int16_t>()[3], -4);
  EXPECT_EQ(static_cast<const int16_t*>(a.RawData())[5], -6);
}

TEST(NDArray, Arange) {
  EXPECT_EQ(NDArray::Arange(0, 5).ToVector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(NDArray::Arange(0, 5).shape(), Shape({5}));
  EXPECT_EQ(NDArray::Arange(4, kNaN).ToVector<float>(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(NDArray::Arange(2, 11, 3).ToVector<float>(), (std::vector<float>{2, 5, 8}));
  EXPECT_EQ(NDArray::Arange(1, 2, 0.25, 1, DType::kFloat64).ToVector<double>(),
            (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(NDArray::Arange(5, 0, -1.5, 1, DType::kFloat64).ToVector<double>(),
            (std::vector<double>{5, 3.5, 2, 0.5}));
  EXPECT_EQ(NDArray::Arange(0, 3, 1, 2).ToVector<float>(), (std::vector<float>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(NDArray::Arange(3, kNaN, 1, 3, DType::kInt32).ToVector<int32_t>(),
            (std::vector<int32_t>{0, 0, 0, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(NDArray::Arange(0, 10, 3, 1, DType::kInt64).ToVector<int64_t>(),
            (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(NDArray::Arange(0.5, 2, 1, 1, DType::kInt32).ToVector<int32_t>(),
            (std::vector<int32_t>{0, 1}));  // values truncate like a cast
  EXPECT_EQ(NDArray::Arange(3, 3).shape(), Shape({0}));
  EXPECT_EQ(NDArray::Arange(5, 0).Size(), 0);
  EXPECT_EQ(NDArray::Arange(0, 4, 1, 1, DType::kFloat16).ToVector<float16_t>()[3].bits,
            float16_t(3.0f).bits);

  EXPECT_ERROR(NDArray::Arange(0, 5, 0), ValueError, "arange", "step", "0");
  EXPECT_ERROR(NDArray::Arange(0, 5, 1, 0), ValueError, "arange", "repeat=0");
  EXPECT_ERROR(NDArray::Arange(0, 5, 1, -2), ValueError, "repeat=-2");
  EXPECT_ERROR(NDArray::Arange(0, std::numeric_limits<double>::infinity()), ValueError, "finite");
  EXPECT_ERROR(NDArray::Arange(0, 1e300, 1e-300), ValueError, "too many elements");
}

TEST(NDArray, Fill) {
  NDArray a = NDArray::Zeros({2, 3}, DType::kInt32);
  a.Fill(7);
  EXPECT_EQ(a.ToVector<int32_t>(), std::vector<int32_t>(6, 7));
  a.Slice(1, 2).Fill(-1);
  EXPECT_EQ(a.ToVector<int32_t>(), (std::vector<int32_t>{7, 7, 7, -1, -1, -1}));
  a.At(0).Reshape({3, 1}).Fill(4);
  EXPECT_EQ(a.ToVector<int32_t>(), (std::vector<int32_t>{4, 4, 4, -1, -1, -1}));
}

// ---------------------------------------------------------------- copies

TEST(NDArray, CopyToConvertsDTypes) {
  NDArray f32 = NDArray::FromVector<float>({0.1f, 1.5f, -2.25f, 65504.0f, 1e6f, 3e-8f}, {6});
  NDArray f16 = NDArray::Empty({6}, DType::kFloat16);
  f32.CopyTo(f16);
  NDArray back = NDArray::Empty({6});
  f16.CopyTo(back);
  const auto v = back.ToVector<float>();
  EXPECT_EQ(v[0], static_cast<float>(float16_t(0.1f)));
  EXPECT_NE(v[0], 0.1f);
  EXPECT_EQ(v[1], 1.5f);
  EXPECT_EQ(v[2], -2.25f);
  EXPECT_EQ(v[3], 65504.0f);
  EXPECT_TRUE(std::isinf(v[4]));
  EXPECT_EQ(v[5], std::ldexp(1.0f, -24));  // nearest float16 subnormal

  NDArray bf = NDArray::Empty({6}, DType::kBFloat16);
  f32.CopyTo(bf);
  const auto b = bf.ToVector<bfloat16_t>();
  EXPECT_EQ(static_cast<float>(b[1]), 1.5f);
  EXPECT_EQ(b[0].bits, bfloat16_t(0.1f).bits);

  NDArray fl = NDArray::FromVector<float>({1.7f, -1.7f, 2.5f, 0.0f}, {4});
  NDArray i32 = NDArray::Empty({4}, DType::kInt32);
  fl.CopyTo(i32);
  EXPECT_EQ(i32.ToVector<int32_t>(), (std::vector<int32_t>{1, -1, 2, 0}));  // truncation

  NDArray bl = NDArray::Empty({4}, DType::kBool);
  NDArray::FromVector<float>({0.0f, 0.5f, -1.0f, 0.0f}, {4}).CopyTo(bl);
  EXPECT_EQ(bl.ToVector<bool>(), (std::vector<bool>{0, 1, 1, 0}));
  NDArray from_bool = NDArray::Empty({4}, DType::kFloat64);
  bl.CopyTo(from_bool);
  EXPECT_EQ(from_bool.ToVector<double>(), (std::vector<double>{0, 1, 1, 0}));

  NDArray big = NDArray::FromVector<int64_t>({int64_t{1} << 40, -3}, {2});
  NDArray big_f = NDArray::Empty({2}, DType::kFloat64);
  big.CopyTo(big_f);
  EXPECT_EQ(big_f.ToVector<double>(), (std::vector<double>{1099511627776.0, -3.0}));

  NDArray u8 = NDArray::FromVector<uint8_t>({0, 100, 255}, {3});
  NDArray f16b = NDArray::Empty({3}, DType::kFloat16);
  u8.CopyTo(f16b);
  EXPECT_EQ(Values(f16b), (std::vector<double>{0, 100, 255}));
}

TEST(NDArray, CopyToEveryDTypePair) {
  for (DType src : AllDTypes()) {
    NDArray a = NDArray::Arange(0, 6, 1, 1, src);
    for (DType dst : AllDTypes()) {
      SCOPED_TRACE(std::string(DTypeName(src)) + " -> " + DTypeName(dst));
      NDArray b = NDArray::Empty({6}, dst);
      a.CopyTo(b);
      std::vector<double> expect = Values(a);
      if (dst == DType::kBool) {
        for (double& x : expect)
          x = x != 0;
      }
      EXPECT_EQ(Values(b), expect);
    }
  }
}

TEST(NDArray, CopyAndAsInContext) {
  NDArray a = NDArray::Arange(0, 6).Reshape({2, 3});
  NDArray c = a.Copy(Context::cpu());
  EXPECT_FALSE(c.SharesStorageWith(a));
  EXPECT_EQ(c.shape(), a.shape());
  EXPECT_EQ(c.ToVector<float>(), a.ToVector<float>());
  a.Fill(9);  // the copy is a snapshot
  EXPECT_EQ(c.ToVector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));

  NDArray pinned = a.Copy(Context::cpu_pinned());
  EXPECT_EQ(pinned.ctx(), Context::cpu_pinned());
  EXPECT_EQ(pinned.ToVector<float>(), std::vector<float>(6, 9));
  EXPECT_TRUE(a.AsInContext(Context::cpu()).SharesStorageWith(a));
  NDArray shared = a.AsInContext(Context::cpu_shared());
  EXPECT_FALSE(shared.SharesStorageWith(a));
  EXPECT_EQ(shared.ctx(), Context::cpu_shared());
  EXPECT_EQ(shared.ToVector<float>(), std::vector<float>(6, 9));

  // Copies between views of one array, overlapping or not.
  NDArray r = NDArray::Arange(0, 8);
  r.Slice(0, 4).CopyTo(r.Slice(4, 8));
  EXPECT_EQ(r.ToVector<float>(), (std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3}));
  NDArray o = NDArray::Arange(0, 6);
  o.Slice(0, 4).CopyTo(o.Slice(2, 6));
  EXPECT_EQ(o.ToVector<float>(), (std::vector<float>{0, 1, 0, 1, 2, 3}));
  o.CopyTo(o);
  EXPECT_EQ(o.ToVector<float>(), (std::vector<float>{0, 1, 0, 1, 2, 3}));

  EXPECT_ERROR(a.Copy(Context::gpu(0)), NotImplementedError, "no GPU backend");
  EXPECT_ERROR(a.AsInContext(Context::gpu(0)), NotImplementedError, "no GPU backend");
}

TEST(NDArray, CopyErrors) {
  NDArray a = NDArray::Zeros({2, 3});
  EXPECT_ERROR(a.CopyTo(NDArray::Zeros({3, 2})), ValueError, "CopyTo", "(2, 3)", "(3, 2)");
  EXPECT_ERROR(a.CopyTo(NDArray::Zeros({6})), ValueError, "(2, 3)", "(6,)");
  EXPECT_ERROR(a.CopyTo(NDArray()), ValueError, "CopyTo", "destination", "none array");
  EXPECT_ERROR(NDArray().CopyTo(a), ValueError, "source", "none array");
  std::vector<float> host(5);
  EXPECT_ERROR(a.SyncCopyToHost(host.data(), 5), ValueError, "SyncCopyToHost", "5", "(2, 3)",
               "6 elements");
  EXPECT_ERROR(a.SyncCopyFromHost(host.data(), 5), ValueError, "SyncCopyFromHost", "5", "(2, 3)",
               "6 elements");
  EXPECT_ERROR(NDArray::FromVector<float>(host, {2, 3}), ValueError, "5 values", "(2, 3)");
  EXPECT_ERROR(a.ToVector<double>(), TypeError, "float64", "float32");
  EXPECT_ERROR(a.Data<int32_t>(), TypeError, "int32", "float32");
}

// ---------------------------------------------------------------- views

TEST(NDArray, SliceAndAt) {
  NDArray a = NDArray::Arange(0, 24).Reshape({2, 3, 4});
  NDArray s = a.Slice(1, 2);
  EXPECT_EQ(s.shape(), Shape({1, 3, 4}));
  EXPECT_TRUE(s.SharesStorageWith(a));
  EXPECT_EQ(s.var(), a.var());
  EXPECT_EQ(s.byte_offset(), 12 * sizeof(float));
  EXPECT_EQ(s.ToVector<float>()[0], 12);
  EXPECT_EQ(a.Slice(-1, 2).shape(), Shape({1, 3, 4}));
  EXPECT_EQ(a.Slice(0, -1).ToVector<float>(), a.Slice(0, 1).ToVector<float>());
  EXPECT_EQ(a.Slice(1, 1).Size(), 0);
  EXPECT_EQ(a.Slice(0, 2).ToVector<float>(), a.ToVector<float>());

  NDArray row = a.At(1);
  EXPECT_EQ(row.shape(), Shape({3, 4}));
  EXPECT_EQ(row.byte_offset(), 12 * sizeof(float));
  NDArray v = a.At(1).At(2);
  EXPECT_EQ(v.shape(), Shape({4}));
  EXPECT_EQ(v.ToVector<float>(), (std::vector<float>{20, 21, 22, 23}));
  EXPECT_EQ(a.At(-1).At(-1).ToVector<float>(), v.ToVector<float>());
  NDArray scalar = v.At(1);
  EXPECT_EQ(scalar.shape(), Shape::Scalar());
  EXPECT_EQ(scalar.Size(), 1);
  EXPECT_EQ(scalar.ToVector<float>(), (std::vector<float>{21}));
  EXPECT_EQ(a.At(1).Slice(1, 3).At(0).ToVector<float>(), (std::vector<float>{16, 17, 18, 19}));

  // Writes through views reach the base array.
  a.Slice(0, 1).Fill(-1);
  a.At(1).At(0).Fill(5);
  v.At(3).Fill(100);
  const auto all = a.ToVector<float>();
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(all[i], -1) << i;
  for (int i = 12; i < 16; ++i)
    EXPECT_EQ(all[i], 5) << i;
  EXPECT_EQ(all[23], 100);
  EXPECT_EQ(all[22], 22);
}

TEST(NDArray, Reshape) {
  NDArray a = NDArray::Arange(0, 24).Reshape({2, 3, 4});
  EXPECT_EQ(a.shape(), Shape({2, 3, 4}));
  EXPECT_EQ(a.Reshape({0, -1}).shape(), Shape({2, 12}));
  EXPECT_EQ(a.Reshape({-1}).shape(), Shape({24}));
  EXPECT_EQ(a.Reshape({4, 0, 2}).shape(), Shape({4, 3, 2}));
  EXPECT_EQ(a.Reshape({-2, 1}).shape(), Shape({2, 3, 4, 1}));
  EXPECT_EQ(a.Reshape({-3, 4}).shape(), Shape({6, 4}));
  EXPECT_EQ(a.Reshape({-4, 1, 2, -2}).shape(), Shape({1, 2, 3, 4}));
  EXPECT_EQ(NDArray::Zeros({10, 5, 4}).Reshape({-1, 0}, true).shape(), Shape({50, 4}));
  EXPECT_EQ(NDArray::Zeros({10, 5, 4}).Reshape({-1, 0}).shape(), Shape({40, 5}));
  EXPECT_EQ(a.Reshape(Shape{24}).Reshape(Shape{4, 6}).shape(), Shape({4, 6}));
  EXPECT_EQ(NDArray::Full({1}, 7).Reshape(Shape::Scalar()).shape(), Shape::Scalar());

  NDArray flat = a.Reshape({-1});
  EXPECT_TRUE(flat.SharesStorageWith(a));
  flat.Slice(20, 24).Fill(0);
  EXPECT_EQ(a.At(1).At(2).ToVector<float>(), (std::vector<float>{0, 0, 0, 0}));
  // A reshaped slice keeps the slice's offset.
  NDArray rs = a.Slice(1, 2).Reshape({3, 4});
  EXPECT_EQ(rs.byte_offset(), 12 * sizeof(float));
  EXPECT_EQ(rs.At(0).ToVector<float>(), (std::vector<float>{12, 13, 14, 15}));

  EXPECT_ERROR(a.Reshape(Shape{5, 5}), ValueError, "Reshape", "(2, 3, 4)", "(5, 5)");
  EXPECT_ERROR(a.Reshape(Shape{-1, 4}), ValueError, "(-1, 4)", "not fully known");
  EXPECT_ERROR(a.Reshape(Shape()), ValueError, "None");
  EXPECT_ERROR(a.Reshape({-1, -1}), ValueError, "(2, 3, 4)", "only one dim can be -1");
  EXPECT_ERROR(a.Reshape({7, -1}), ValueError, "(2, 3, 4)", "(7, -1)");
}

TEST(NDArray, ViewErrors) {
  NDArray a = NDArray::Zeros({2, 3, 4});
  EXPECT_ERROR(a.Slice(1, 3), IndexError, "Slice", "[1, 3)", "(2, 3, 4)", "size 2");
  EXPECT_ERROR(a.Slice(3, 4), IndexError, "[3, 4)", "(2, 3, 4)");
  EXPECT_ERROR(a.Slice(-3, 1), IndexError, "[-3, 1)");
  EXPECT_ERROR(a.Slice(1, 0), IndexError, "[1, 0)");
  EXPECT_ERROR(a.At(2), IndexError, "At", "index 2", "(2, 3, 4)");
  EXPECT_ERROR(a.At(-3), IndexError, "index -3");
  NDArray scalar = NDArray::Full(Shape::Scalar(), 1);
  EXPECT_ERROR(scalar.Slice(0, 1), ValueError, "Slice", "0-dim");
  EXPECT_ERROR(scalar.At(0), ValueError, "At", "0-dim");
  NDArray none;
  EXPECT_ERROR(none.Slice(0, 1), ValueError, "none array");
  EXPECT_ERROR(none.At(0), ValueError, "none array");
  EXPECT_ERROR(none.Reshape(Shape{1}), ValueError, "none array");
}

// ---------------------------------------------------------------- engine interplay

TEST(NDArray, AsyncChainOnViewsIsSequential) {
  constexpr int kRows = 10, kCols = 8;
  NDArray a = NDArray::Zeros({kRows, kCols});
  std::vector<float> ref(kRows * kCols, 0);
  std::vector<NDArray> snapshots;
  std::vector<std::vector<float>> snapshot_refs;
  std::mt19937 rng(42);
  for (int k = 1; k <= 600; ++k) {
    switch (rng() % 5) {
      case 0: {  // one row
        const int r = static_cast<int>(rng() % kRows);
        a.At(r).Fill(k);
        std::fill_n(ref.begin() + r * kCols, kCols, static_cast<float>(k));
        break;
      }
      case 1: {  // a block of rows
        const int b = static_cast<int>(rng() % kRows);
        const int e = b + static_cast<int>(rng() % (kRows - b + 1));
        a.Slice(b, e).Fill(-k);
        std::fill(ref.begin() + b * kCols, ref.begin() + e * kCols, static_cast<float>(-k));
        break;
      }
      case 2: {  // row to row
        const int src = static_cast<int>(rng() % kRows);
        const int dst = static_cast<int>(rng() % kRows);
        a.At(src).CopyTo(a.At(dst));
        std::copy_n(ref.begin() + src * kCols, kCols, ref.begin() + dst * kCols);
        break;
      }
      case 3: {  // a range of the flat view
        const int b = static_cast<int>(rng() % (kRows * kCols));
        const int e = b + static_cast<int>(rng() % (kRows * kCols - b + 1));
        a.Reshape({-1}).Slice(b, e).Fill(k + 0.5);
        std::fill(ref.begin() + b, ref.begin() + e, static_cast<float>(k + 0.5));
        break;
      }
      default: {  // a snapshot in another array
        if (snapshots.size() < 20) {
          snapshots.push_back(a.Copy(Context::cpu()));
          snapshot_refs.push_back(ref);
        }
        break;
      }
    }
  }
  EXPECT_EQ(a.ToVector<float>(), ref);
  for (size_t i = 0; i < snapshots.size(); ++i) {
    EXPECT_EQ(snapshots[i].ToVector<float>(), snapshot_refs[i]) << "snapshot " << i;
  }
}

TEST(NDArray, DeferredAllocation) {
  const size_t base = BytesInUse();
  NDArray e = NDArray::Empty({100, 100});  // 40000 bytes, not taken yet
  NDArray view = e.Slice(10, 20).Reshape({-1});
  EXPECT_EQ(BytesInUse(), base);
  view.Fill(1);
  e.WaitToRead();
  const size_t used = BytesInUse() - base;
  EXPECT_GE(used, 40000u);
  EXPECT_LE(used, 50000u);
  NDArray eager(Shape{1000}, Context::cpu(), DType::kFloat64, /*delay_alloc=*/false);
  EXPECT_GE(BytesInUse() - base, used + 8000);
  e = NDArray();
  view = NDArray();
  eager = NDArray();
  EXPECT_EQ(BytesInUse(), base);
}

TEST(NDArray, MemoryReturnsAfterPendingOps) {
  if (Engine::Get()->kind() != Engine::Kind::kThreaded) GTEST_SKIP() << "needs async pushes";
  const size_t base = BytesInUse();
  NDArray a = NDArray::Zeros({1000});
  a.WaitToRead();
  const size_t used = BytesInUse() - base;
  EXPECT_GE(used, 4000u);
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  Engine::Get()->PushSync([opened](RunContext) { opened.wait(); }, Context::cpu(), {a.var()}, {},
                          FnProperty::kNormal, 0, "reader");
  a = NDArray();  // last reference gone while "reader" still reads the var
  EXPECT_EQ(Storage::Get()->Stats(Context::cpu()).bytes_in_use, base + used);
  gate.set_value();
  EXPECT_EQ(BytesInUse(), base);
}

TEST(NDArray, FromExternalSharesMemoryAndReleasesAfterPendingOps) {
  std::vector<float> buf = {1, 2, 3, 4, 5, 6};
  std::atomic<int> released{0};
  const size_t base = BytesInUse();
  NDArray a = NDArray::FromExternal(buf.data(), {2, 3}, DType::kFloat32, Context::cpu(),
                                    [&released] { ++released; });
  EXPECT_EQ(BytesInUse(), base);  // no storage of its own
  EXPECT_EQ(Values(a), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  a.At(1).Fill(-1);  // a write through a view lands in the external buffer
  a.WaitToRead();
  EXPECT_EQ(buf[3], -1);
  buf[0] = 10;  // and a write to the buffer is seen by the array
  EXPECT_EQ(Values(a.Slice(0, 1)), (std::vector<double>{10, 2, 3}));
  EXPECT_EQ(Values(a.Copy(Context::cpu())), (std::vector<double>{10, 2, 3, -1, -1, -1}));
  if (Engine::Get()->kind() == Engine::Kind::kThreaded) {
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    Engine::Get()->PushSync([opened](RunContext) { opened.wait(); }, Context::cpu(), {a.var()}, {},
                            FnProperty::kNormal, 0, "reader");
    NDArray view = a.Reshape({6});
    a = NDArray();
    view = NDArray();  // the last view is gone while "reader" still reads
    EXPECT_EQ(released.load(), 0);
    gate.set_value();
    Engine::Get()->WaitForAll();
  } else {
    a = NDArray();
  }
  EXPECT_EQ(released.load(), 1);
  EXPECT_EQ(BytesInUse(), base);
}

TEST(NDArray, FromExternalChecks) {
  alignas(8) char bytes[16] = {};
  auto none = [] {};
  EXPECT_THROW(NDArray::FromExternal(bytes + 2, {2}, DType::kFloat32, Context::cpu(), none),
               ValueError);
  EXPECT_THROW(NDArray::FromExternal(bytes, {2}, DType::kFloat32, Context::cpu(), nullptr),
               ValueError);
  EXPECT_THROW(NDArray::FromExternal(bytes, {2}, DType::kFloat32, Context::gpu(0), none),
               NotImplementedError);
}

TEST(NDArray, WaitToWriteWaitsForReads) {
  NDArray a = NDArray::Zeros({4});
  a.WaitToRead();
  std::atomic<bool> read_done{false};
  Engine::Get()->PushSync(
      [&read_done](RunContext) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        read_done = true;
      },
      Context::cpu(), {a.var()}, {}, FnProperty::kNormal, 0, "slow_reader");
  a.WaitToWrite();
  EXPECT_TRUE(read_done);
  a.Fill(3);
  a.WaitToWrite();
  EXPECT_EQ(a.ToVector<float>(), std::vector<float>(4, 3));
}

TEST(NDArray, EngineErrorsReachSyncPoints) {
  NDArray arr = NDArray::Zeros({2});
  Engine::Get()->PushSync([](RunContext) { throw ValueError("boom"); }, Context::cpu(), {},
                          {arr.var()}, FnProperty::kNormal, 0, "my_op");
  EXPECT_ERROR(arr.WaitToRead(), ValueError, "my_op", "boom");
  arr.WaitToRead();  // raised once
  EXPECT_EQ(arr.ToVector<float>(), (std::vector<float>{0, 0}));

  // The error travels to what depends on the failed op, and ops after it still run.
  NDArray dst = NDArray::Ones({2});
  Engine::Get()->PushSync([](RunContext) { throw IndexError("bad index"); }, Context::cpu(), {},
                          {arr.var()}, FnProperty::kNormal, 0, "my_op");
  arr.CopyTo(dst);
  EXPECT_ERROR(dst.WaitToRead(), IndexError, "my_op", "bad index");
  EXPECT_EQ(dst.ToVector<float>(), (std::vector<float>{1, 1}));  // the copy was skipped
  arr.Fill(4);
  arr.CopyTo(dst);
  EXPECT_EQ(dst.ToVector<float>(), (std::vector<float>{4, 4}));

  Engine::Get()->PushSync([](RunContext) { throw ValueError("late"); }, Context::cpu(), {},
                          {arr.var()}, FnProperty::kNormal, 0, "my_op");
  std::vector<float> host(2);
  EXPECT_ERROR(arr.SyncCopyToHost(host.data(), 2), ValueError, "late");
  Engine::Get()->PushSync([](RunContext) { throw ValueError("before write"); }, Context::cpu(), {},
                          {arr.var()}, FnProperty::kNormal, 0, "my_op");
  EXPECT_ERROR(arr.WaitToWrite(), ValueError, "before write");
  Engine::Get()->WaitForAll();
}

// ---------------------------------------------------------------- edge shapes

TEST(NDArray, ZeroSizeArrays) {
  const size_t base = BytesInUse();
  NDArray z = NDArray::Zeros({0, 3});
  EXPECT_EQ(z.Size(), 0);
  EXPECT_EQ(z.nbytes(), 0u);
  EXPECT_TRUE(z.ToVector<float>().empty());
  EXPECT_EQ(BytesInUse(), base);
  z.Fill(1);
  z.CopyTo(NDArray::Empty({0, 3}, DType::kInt32));
  EXPECT_EQ(z.Copy(Context::cpu()).shape(), Shape({0, 3}));
  EXPECT_EQ(z.Reshape(Shape{3, 0}).shape(), Shape({3, 0}));
  EXPECT_EQ(z.Reshape({-1, 0}).shape(), Shape({0, 3}));
  EXPECT_EQ(z.Slice(0, 0).shape(), Shape({0, 3}));
  EXPECT_EQ(NDArray::Ones({3, 0}).At(1).shape(), Shape({0}));
  EXPECT_EQ(NDArray::FromVector<float>({}, {0}).Size(), 0);
  EXPECT_EQ(NDArray::Arange(0, 0).Size(), 0);
  z.WaitToRead();
  z.WaitToWrite();
  EXPECT_EQ(z.RawData(), nullptr);
  EXPECT_EQ(BytesInUse(), base);
  EXPECT_ERROR(z.At(0), IndexError, "(0, 3)");
  // A zero-size view of a real array.
  NDArray a = NDArray::Arange(0, 4);
  EXPECT_EQ(a.Slice(4, 4).Size(), 0);
  a.Slice(2, 2).Fill(9);
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{0, 1, 2, 3}));
}

TEST(NDArray, ScalarArrays) {
  NDArray s = NDArray::Full(Shape::Scalar(), 3.5, DType::kFloat64);
  EXPECT_EQ(s.shape().ndim(), 0);
  EXPECT_EQ(s.Size(), 1);
  EXPECT_EQ(s.nbytes(), 8u);
  EXPECT_EQ(s.ToVector<double>(), (std::vector<double>{3.5}));
  EXPECT_EQ(s.Reshape({1, 1}).ToVector<double>(), (std::vector<double>{3.5}));
  NDArray t = NDArray::Empty(Shape::Scalar(), DType::kInt32);
  s.CopyTo(t);
  EXPECT_EQ(t.ToVector<int32_t>(), (std::vector<int32_t>{3}));
  EXPECT_EQ(s.Describe(), "NDArray () float64 @cpu(0)");
}

TEST(NDArray, PropertiesAndErrors) {
  EXPECT_EQ(NDArray::Zeros({2, 3}).Describe(), "NDArray (2, 3) float32 @cpu(0)");
  EXPECT_EQ(NDArray::Zeros({5}, DType::kInt8, Context::cpu_pinned()).Describe(),
            "NDArray (5,) int8 @cpu_pinned(0)");
  NDArray none;
  EXPECT_TRUE(none.is_none());
  EXPECT_EQ(none.Size(), 0);
  EXPECT_EQ(none.nbytes(), 0u);
  EXPECT_EQ(none.Describe(), "NDArray None");
  none.WaitToRead();
  none.WaitToWrite();
  EXPECT_ERROR(none.ctx(), ValueError, "none array");
  EXPECT_ERROR(none.var(), ValueError, "none array");
  EXPECT_ERROR(none.Fill(1), ValueError, "Fill", "none array");
  EXPECT_ERROR(none.Copy(Context::cpu()), ValueError, "none array");
  EXPECT_ERROR(none.RawData(), ValueError, "none array");
  EXPECT_FALSE(none.SharesStorageWith(none));

  EXPECT_ERROR(NDArray{Shape()}, ValueError, "unknown shape", "None");
  EXPECT_ERROR(NDArray::Zeros({2, -1}), ValueError, "unknown shape", "(2, -1)");
  EXPECT_ERROR(NDArray::Zeros({2}, DType::kFloat32, Context::gpu(0)), NotImplementedError, "gpu(0)",
               "no GPU backend");
  EXPECT_ERROR(NDArray::Empty({2}, DType::kFloat32, Context::gpu(1)), NotImplementedError,
               "no GPU backend");
  EXPECT_ERROR(NDArray::Empty({2}, static_cast<DType>(77)), TypeError, "77");
  EXPECT_ERROR(NDArray::Empty({int64_t{1} << 61, 2}), ValueError, "too large");
  EXPECT_ERROR(NDArray::FromHost(nullptr, {2}, DType::kFloat32), ValueError, "null");

  NDArray a = NDArray::Zeros({2});
  NDArray b = a;
  EXPECT_TRUE(a.SharesStorageWith(b));
  EXPECT_FALSE(a.SharesStorageWith(NDArray::Zeros({2})));
}

TEST(NDArray, ConcurrentUseFromThreads) {
  NDArray shared_src = NDArray::Arange(0, 64);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        NDArray mine = NDArray::Empty({64}, DType::kFloat64);
        shared_src.CopyTo(mine);
        mine.Slice(0, 1).Fill(t);
        const auto v = mine.ToVector<double>();
        if (v[0] != t || v[63] != 63) ++bad[t];
      }
    });
  }
  for (auto& th : threads)
    th.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(bad[t], 0) << t;
}

}  // namespace
}  // namespace mixnet
