// 2-bit gradient compression: bit-exact against a scalar reference written here from the rule
// (NOTE [ 2-bit compression ]), on raw memory, through NDArrays and through the device store.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kvstore/gradient_compression.h"
#include "mixnet/base/error.h"
#include "mixnet/kvstore/kvstore.h"
#include "test_util.h"

namespace mixnet::kvstore {
namespace {

// The rule, element by element, as MXNet's quantize_2bit / dequantize_2bit kernels state it.
struct Reference {
  float t;
  std::vector<uint32_t> Quantize(const std::vector<float>& g, std::vector<float>* r) const {
    const size_t words = (g.size() + 15) / 16;
    std::vector<uint8_t> bytes(words * 4, 0);
    const uint8_t pos[4] = {0xc0, 0x30, 0x0c, 0x03}, neg[4] = {0x80, 0x20, 0x08, 0x02};
    for (size_t i = 0; i < g.size(); ++i) {
      uint8_t& byte = bytes[(i / 16) * 4 + (i % 16) / 4];
      (*r)[i] += g[i];
      if ((*r)[i] >= t) {
        byte |= pos[i % 4];
        (*r)[i] -= t;
      } else if ((*r)[i] <= -t) {
        byte |= neg[i % 4];
        (*r)[i] -= -t;
      }
    }
    std::vector<uint32_t> out(words);
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  std::vector<float> Dequantize(const std::vector<uint32_t>& w, size_t n) const {
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(w.data());
    const uint8_t pos[4] = {0xc0, 0x30, 0x0c, 0x03}, neg[4] = {0x80, 0x20, 0x08, 0x02};
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t b = bytes[(i / 16) * 4 + (i % 16) / 4] & pos[i % 4];
      out[i] = b == pos[i % 4] ? t : (b == neg[i % 4] ? -t : 0.f);
    }
    return out;
  }
};

std::vector<float> RandomFloats(size_t n, uint64_t seed, double scale) {
  const auto d = testing_util::Random(n, seed, -scale, scale);
  return std::vector<float>(d.begin(), d.end());
}

void ExpectBitEqual(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t x, y;
    std::memcpy(&x, &a[i], 4);
    std::memcpy(&y, &b[i], 4);
    ASSERT_EQ(x, y) << "element " << i << ": " << a[i] << " vs " << b[i];
  }
}

TEST(KVStoreCompressionTest, RawMatchesReferenceOverSeveralPushes) {
  for (float t : {0.5f, 0.25f, 1.0f})
    for (size_t n : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{100}, size_t{4099}}) {
      auto gc = GradientCompression::Create({{"type", "2bit"}, {"threshold", std::to_string(t)}});
      ASSERT_TRUE(gc);
      EXPECT_FLOAT_EQ(gc->threshold(), t);
      Reference ref{t};
      std::vector<float> r(n, 0.f), rr(n, 0.f);
      for (int step = 0; step < 4; ++step) {  // the residual carries over the pushes
        const std::vector<float> g = RandomFloats(n, 100 * n + step, 1.2);
        std::vector<uint32_t> words(GradientCompression::CompressedWords(n), 0xdeadbeef);
        gc->Quantize(g, r, words);
        const std::vector<uint32_t> want = ref.Quantize(g, &rr);
        ASSERT_EQ(words, want) << "n=" << n << " t=" << t << " step " << step;
        ExpectBitEqual(r, rr);
        std::vector<float> deq(n, 42.f);
        gc->Dequantize(words, deq);
        ExpectBitEqual(deq, ref.Dequantize(want, n));
        std::vector<float> acc(n, 1.f), acc_want = ref.Dequantize(want, n);
        for (float& x : acc_want)
          x += 1.f;
        gc->DequantizeAdd(words, acc);
        ExpectBitEqual(acc, acc_want);
      }
    }
}

TEST(KVStoreCompressionTest, EdgeCases) {
  auto gc = GradientCompression::Create({{"type", "2bit"}, {"threshold", "0.5"}});
  // Exactly +-threshold is sent; just below is not; zeros and negative zero are 00.
  std::vector<float> g{0.5f,
                       -0.5f,
                       std::nextafter(0.5f, 0.f),
                       std::nextafter(-0.5f, 0.f),
                       0.f,
                       -0.f,
                       2.f,
                       -2.f,
                       0.25f,
                       0.25f,
                       -0.75f,
                       1e-30f,
                       -1e-30f,
                       0.5f,
                       -0.5f,
                       0.5f,
                       -0.5f};
  std::vector<float> r(g.size(), 0.f), rr(g.size(), 0.f);
  r[16] = rr[16] = -0.25f;  // a carried residual
  r[5] = rr[5] = -0.f;      // -0 + -0 stays -0 (checked bit for bit below)
  std::vector<uint32_t> words(2);
  gc->Quantize(g, r, words);
  Reference ref{0.5f};
  const auto want = ref.Quantize(g, &rr);
  EXPECT_EQ(words, want);
  ExpectBitEqual(r, rr);
  const uint8_t* b = reinterpret_cast<const uint8_t*>(words.data());
  EXPECT_EQ(b[0], 0xc0 | 0x20);  // +t, -t, none, none
  EXPECT_EQ(b[1], 0x0e);         // 0, -0, then 2 -> +t (11), -2 -> -t (10)
  EXPECT_EQ(r[6], 1.5f);         // only one threshold leaves per push
  EXPECT_EQ(r[7], -1.5f);
  std::vector<float> deq(g.size());
  gc->Dequantize(words, deq);
  EXPECT_EQ(deq[0], 0.5f);
  EXPECT_EQ(deq[1], -0.5f);
  EXPECT_EQ(deq[2], 0.f);
  EXPECT_EQ(deq[16], -0.5f);  // -0.25 + -0.5 <= -0.5
}

TEST(KVStoreCompressionTest, ParametersAndNone) {
  EXPECT_EQ(GradientCompression::Create({{"type", "none"}}), nullptr);
  auto gc = GradientCompression::Create({{"type", "2bit"}});
  EXPECT_FLOAT_EQ(gc->threshold(), 0.5f);
  EXPECT_THROW(GradientCompression::Create({{"type", "2bit"}, {"threshold", "-1"}}), ValueError);
  EXPECT_THROW(GradientCompression::Create({{"type", "2bit"}, {"threshold", "x"}}), ValueError);
  EXPECT_THROW(GradientCompression::Create({{"threshold", "1"}}), ValueError);
  EXPECT_EQ(GradientCompression::CompressedWords(0), 0);
  EXPECT_EQ(GradientCompression::CompressedWords(16), 1);
  EXPECT_EQ(GradientCompression::CompressedWords(17), 2);
}

TEST(KVStoreCompressionTest, NDArrayOps) {
  auto gc = GradientCompression::Create({{"type", "2bit"}, {"threshold", "0.3"}});
  const size_t n = 37;
  NDArray residual = NDArray::Zeros({static_cast<int64_t>(n)});
  NDArray comp({static_cast<int64_t>(GradientCompression::CompressedWords(n))}, Context::cpu(),
               DType::kFloat32);
  NDArray out({static_cast<int64_t>(n)}, Context::cpu(), DType::kFloat32);
  Reference ref{0.3f};
  std::vector<float> rr(n, 0.f);
  for (int step = 0; step < 3; ++step) {
    const auto g = RandomFloats(n, 7 + step, 0.5);
    gc->Quantize(NDArray::FromVector(g, {static_cast<int64_t>(n)}), residual, comp, 0);
    gc->Dequantize(comp, out, 0);
    const auto want = ref.Quantize(g, &rr);
    const auto words_f = comp.ToVector<float>();
    std::vector<uint32_t> words(words_f.size());
    std::memcpy(words.data(), words_f.data(), words.size() * 4);
    EXPECT_EQ(words, want);
    ExpectBitEqual(residual.ToVector<float>(), rr);
    ExpectBitEqual(out.ToVector<float>(), ref.Dequantize(want, n));
  }
  EXPECT_THROW(gc->Quantize(NDArray::Zeros({3}, DType::kFloat64), NDArray::Zeros({3}),
                            NDArray::Zeros({1}), 0),
               TypeError);
}

TEST(KVStoreCompressionTest, DeviceStoreQuantizesEveryDevice) {
  // MXNet's device store: each device's push is quantized with its own residual (even one
  // device), dequantized, and the results summed; no updater: the store holds the sum.
  const float t = 0.5f;
  const size_t n = 21;
  const Shape shape{3, 7};
  for (int devices : {1, 3}) {
    auto kv = KVStore::Create("device");
    kv->SetGradientCompression({{"type", "2bit"}, {"threshold", "0.5"}});
    kv->Init(0, NDArray::Zeros(shape));
    Reference ref{t};
    std::vector<std::vector<float>> res(devices, std::vector<float>(n, 0.f));
    for (int step = 0; step < 3; ++step) {
      std::vector<NDArray> vals;
      std::vector<float> want(n, 0.f);
      for (int d = 0; d < devices; ++d) {
        const auto g = RandomFloats(n, 31 * step + d, 1.0);
        vals.push_back(NDArray::FromVector(g, shape, Context::cpu(d)));
        const auto deq = ref.Dequantize(ref.Quantize(g, &res[d]), n);
        for (size_t i = 0; i < n; ++i)
          want[i] += deq[i];
      }
      kv->Push(0, vals);
      NDArray out = NDArray::Zeros(shape);
      kv->Pull(0, {out});
      ExpectBitEqual(out.ToVector<float>(), want);
    }
  }
}

}  // namespace
}  // namespace mixnet::kvstore
