// The SIMD kernel tables (operator/simd, NOTE [ SIMD kernels ]) of every instruction set this CPU
// runs, against scalar math: exp and log within 2 ulp over the whole float range (subnormals,
// overflow, inf, NaN), the activations, element-wise maps with tails and accumulation,
// reductions and softmax.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "operator/simd/kernels.h"
#include "test_util.h"

namespace mixnet::op::simd {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<const Kernels*> Tables() {
  std::vector<const Kernels*> t;
  for (Isa isa : {Isa::kSse2, Isa::kAvx2, Isa::kAvx512}) {
    if (const Kernels* k = ForIsa(isa)) t.push_back(k);
  }
  return t;
}

/*! \brief Distance in representable floats (0 for equal, both NaN, or +0 and -0). */
int64_t UlpDistance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  auto key = [](float f) {  // monotonic integer line through the floats
    const int64_t i = std::bit_cast<int32_t>(f);
    return i < 0 ? -(i & 0x7fffffff) : i;
  };
  return std::abs(key(a) - key(b));
}

std::vector<float> Unary(const Kernels& k, UnaryOp op, const std::vector<float>& x) {
  std::vector<float> y(x.size(), -7.0f);
  k.f32.unary(op, x.data(), y.data(), static_cast<int64_t>(x.size()), false);
  return y;
}

/*! \brief Floats spaced `step` bit patterns apart from lo to hi (same sign), both included. */
std::vector<float> Sweep(float lo, float hi, int32_t step) {
  std::vector<float> v;
  const int32_t a = std::bit_cast<int32_t>(lo), b = std::bit_cast<int32_t>(hi);
  const int32_t s = a <= b ? step : -step;
  for (int64_t i = a; s > 0 ? i <= b : i >= b; i += s)
    v.push_back(std::bit_cast<float>(static_cast<int32_t>(i)));
  v.push_back(hi);
  return v;
}

/*! \brief Largest ulp distance of f over x from the double function, rounded to float. */
template <typename Ref>
int64_t MaxUlp(const Kernels& k, UnaryOp op, const std::vector<float>& x, Ref ref, float* worst) {
  const std::vector<float> y = Unary(k, op, x);
  int64_t max = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t d = UlpDistance(y[i], static_cast<float>(ref(static_cast<double>(x[i]))));
    if (d > max) {
      max = d;
      *worst = x[i];
    }
  }
  return max;
}

TEST(OpVecMath, TablesCoverThisCpu) {
  ASSERT_FALSE(Tables().empty());
  EXPECT_EQ(Tables().front()->isa, Isa::kSse2);  // the baseline always runs
  EXPECT_EQ(&Best(), Tables().back());
}

TEST(OpVecMath, ExpIsWithinTwoUlpOverTheFloatRange) {
  std::vector<float> x = Sweep(-0.0f, -110.0f, 397);
  const std::vector<float> pos = Sweep(0.0f, 90.0f, 397);
  x.insert(x.end(), pos.begin(), pos.end());
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    float worst = 0;
    EXPECT_LE(MaxUlp(
                  *k, UnaryOp::kExp, x, [](double v) { return std::exp(v); }, &worst),
              2)
        << "at x = " << worst;
  }
}

TEST(OpVecMath, ExpSpecialValues) {
  const float subnormal = std::exp(-100.0f);  // 3.7e-44
  const std::vector<float> x = {kInf,  -kInf,  kNaN,    0.0f,    -0.0f,   88.72f, 88.73f, 89.0f,
                                1e30f, -87.5f, -100.0f, -103.9f, -104.0f, -1e30f, 1e-45f, -1e-45f};
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    const std::vector<float> y = Unary(*k, UnaryOp::kExp, x);
    EXPECT_EQ(y[0], kInf);
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_TRUE(std::isnan(y[2]));
    EXPECT_EQ(y[3], 1.0f);
    EXPECT_EQ(y[4], 1.0f);
    EXPECT_TRUE(std::isfinite(y[5]));
    EXPECT_EQ(y[6], kInf);
    EXPECT_EQ(y[7], kInf);
    EXPECT_EQ(y[8], kInf);
    EXPECT_LE(UlpDistance(y[9], std::exp(-87.5f)), 1);  // just below FLT_MIN
    EXPECT_LE(UlpDistance(y[10], subnormal), 1);
    EXPECT_GT(y[11], 0.0f);  // the smallest subnormals, not flushed to zero
    EXPECT_EQ(y[12], 0.0f);
    EXPECT_EQ(y[13], 0.0f);
    EXPECT_EQ(y[14], 1.0f);
    EXPECT_EQ(y[15], 1.0f);
  }
}

TEST(OpVecMath, LogIsWithinTwoUlpOverThePositiveFloats) {
  // Every exponent, subnormals included: patterns from the smallest subnormal to FLT_MAX.
  const std::vector<float> x =
      Sweep(std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(), 1009);
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    float worst = 0;
    EXPECT_LE(MaxUlp(
                  *k, UnaryOp::kLog, x, [](double v) { return std::log(v); }, &worst),
              2)
        << "at x = " << worst;
  }
}

TEST(OpVecMath, LogSpecialValues) {
  const std::vector<float> x = {0.0f, -0.0f, -1.0f, -kInf, kInf, kNaN, 1.0f, 1e-45f, 1e-40f};
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    const std::vector<float> y = Unary(*k, UnaryOp::kLog, x);
    EXPECT_EQ(y[0], -kInf);
    EXPECT_EQ(y[1], -kInf);
    EXPECT_TRUE(std::isnan(y[2]));
    EXPECT_TRUE(std::isnan(y[3]));
    EXPECT_EQ(y[4], kInf);
    EXPECT_TRUE(std::isnan(y[5]));
    EXPECT_EQ(y[6], 0.0f);
    EXPECT_LE(UlpDistance(y[7], std::log(1e-45f)), 1);
    EXPECT_LE(UlpDistance(y[8], std::log(1e-40f)), 1);
  }
}

TEST(OpVecMath, ActivationsMatchDoubleMath) {
  std::vector<float> x = Sweep(-0.0f, -104.0f, 4099);  // sigmoid's subnormal results too
  const std::vector<float> pos = Sweep(0.0f, 30.0f, 4099);
  x.insert(x.end(), pos.begin(), pos.end());
  struct Case {
    UnaryOp op;
    double (*ref)(double);
    int64_t ulp;
  };
  const Case cases[] = {
      {UnaryOp::kTanh, [](double v) { return std::tanh(v); }, 3},
      {UnaryOp::kSigmoid, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, 3},
      {UnaryOp::kSoftrelu, [](double v) { return std::log1p(std::exp(v)); }, 4},
      {UnaryOp::kSoftsign, [](double v) { return v / (1.0 + std::abs(v)); }, 1},
  };
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    for (const Case& c : cases) {
      SCOPED_TRACE(static_cast<int>(c.op));
      float worst = 0;
      EXPECT_LE(MaxUlp(*k, c.op, x, c.ref, &worst), c.ulp) << "at x = " << worst;
    }
    const std::vector<float> s = {kInf, -kInf, kNaN, -0.0f, 100.0f, -100.0f};
    const auto th = Unary(*k, UnaryOp::kTanh, s);
    EXPECT_EQ(th[0], 1.0f);
    EXPECT_EQ(th[1], -1.0f);
    EXPECT_TRUE(std::isnan(th[2]));
    EXPECT_TRUE(std::signbit(th[3]));
    const auto sg = Unary(*k, UnaryOp::kSigmoid, s);
    EXPECT_EQ(sg[0], 1.0f);
    EXPECT_EQ(sg[1], 0.0f);
    EXPECT_TRUE(std::isnan(sg[2]));
    EXPECT_EQ(sg[4], 1.0f);
    const auto sr = Unary(*k, UnaryOp::kSoftrelu, s);
    EXPECT_EQ(sr[0], kInf);
    EXPECT_EQ(sr[1], 0.0f);
    EXPECT_TRUE(std::isnan(sr[2]));
    EXPECT_EQ(sr[4], 100.0f);
    EXPECT_NEAR(sr[5], 3.72e-44f, 1e-45f);  // e^-100, subnormal but not flushed
  }
}

TEST(OpVecMath, ArithmeticKeepsTheReferenceSemantics) {
  const std::vector<float> x = {kNaN, -0.0f, -2.0f, 4.0f, kInf, -kInf};
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    const auto relu = Unary(*k, UnaryOp::kRelu, x);
    EXPECT_EQ(relu[0], 0.0f);  // x > 0 ? x : 0, as the reference
    EXPECT_EQ(relu[2], 0.0f);
    EXPECT_EQ(relu[3], 4.0f);
    const auto abs = Unary(*k, UnaryOp::kAbs, x);
    EXPECT_TRUE(std::isnan(abs[0]));
    EXPECT_FALSE(std::signbit(abs[1]));
    EXPECT_EQ(abs[5], kInf);
    const auto sq = Unary(*k, UnaryOp::kSqrt, x);
    EXPECT_TRUE(std::isnan(sq[2]));
    EXPECT_EQ(sq[3], 2.0f);
    EXPECT_TRUE(std::signbit(sq[1]));
    const auto rs = Unary(*k, UnaryOp::kRsqrt, x);
    EXPECT_EQ(rs[3], 0.5f);
    EXPECT_EQ(Unary(*k, UnaryOp::kNegative, x)[3], -4.0f);
    EXPECT_EQ(Unary(*k, UnaryOp::kSquare, x)[2], 4.0f);
    EXPECT_EQ(Unary(*k, UnaryOp::kReciprocal, x)[3], 0.25f);
  }
}

/*! \brief Every size up to four registers and a few more, with canaries after the end. */
TEST(OpVecMath, UnaryTailsAndAccumulation) {
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    for (int64_t n = 0; n <= 67; ++n) {
      const auto xd = testing_util::Random(static_cast<size_t>(n), 7 + n, -3, 3);
      const std::vector<float> x(xd.begin(), xd.end());
      for (UnaryOp op : {UnaryOp::kExp, UnaryOp::kRelu, UnaryOp::kTanh, UnaryOp::kSoftsign}) {
        std::vector<float> y(static_cast<size_t>(n) + 3, 5.0f);
        k->f32.unary(op, x.data(), y.data(), n, false);
        k->f32.unary(op, x.data(), y.data(), n, true);  // y = 2 f(x)
        for (int64_t i = 0; i < n; ++i) {
          const double xi = x[static_cast<size_t>(i)];
          const double want = op == UnaryOp::kExp    ? std::exp(xi)
                              : op == UnaryOp::kRelu ? std::max(xi, 0.0)
                              : op == UnaryOp::kTanh ? std::tanh(xi)
                                                     : xi / (1 + std::abs(xi));
          EXPECT_NEAR(y[static_cast<size_t>(i)], 2 * want, 1e-6 * (1 + 2 * std::abs(want)))
              << "n " << n << " i " << i;
        }
        for (size_t i = static_cast<size_t>(n); i < y.size(); ++i)
          EXPECT_EQ(y[i], 5.0f) << "wrote past the end, n " << n;
      }
      // float64: the arithmetic ops.
      std::vector<double> yd(static_cast<size_t>(n) + 2, 5.0);
      k->f64.unary(UnaryOp::kSquare, xd.data(), yd.data(), n, false);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(yd[static_cast<size_t>(i)],
                  xd[static_cast<size_t>(i)] * xd[static_cast<size_t>(i)]);
      EXPECT_EQ(yd[static_cast<size_t>(n)], 5.0);
    }
  }
}

double BinaryRef(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
    case BinaryOp::kMaximum:
      return a >= b ? a : b;
    case BinaryOp::kMinimum:
      return a <= b ? a : b;
    case BinaryOp::kMaxStrict:
      return a > b ? a : b;
    case BinaryOp::kMinStrict:
      return a < b ? a : b;
    case BinaryOp::kEqual:
      return a == b;
    case BinaryOp::kNotEqual:
      return a != b;
    case BinaryOp::kGreater:
      return a > b;
    case BinaryOp::kGreaterEqual:
      return a >= b;
    case BinaryOp::kLesser:
      return a < b;
    case BinaryOp::kLesserEqual:
      return a <= b;
    case BinaryOp::kSigmoidGrad:
      return a * b * (1 - b);
    case BinaryOp::kTanhGrad:
      return a * (1 - b * b);
    case BinaryOp::kReluGrad:
      return b > 0 ? a : 0;
  }
  return 0;
}

TEST(OpVecMath, BinaryOpsEveryLayoutAndTail) {
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{16}, int64_t{37}}) {
      auto ad = testing_util::Random(static_cast<size_t>(n), 1, -2, 2);
      auto bd = testing_util::Random(static_cast<size_t>(n), 2, 0.5, 2);
      ad[0] = bd[0];  // a tie for the comparisons
      if (n > 2) ad[2] = NAN;
      const std::vector<float> a(ad.begin(), ad.end()), b(bd.begin(), bd.end());
      for (int o = 0; o <= static_cast<int>(BinaryOp::kReluGrad); ++o) {
        const BinaryOp op = static_cast<BinaryOp>(o);
        for (Operands layout :
             {Operands::kArrayArray, Operands::kArrayScalar, Operands::kScalarArray}) {
          for (bool acc : {false, true}) {
            std::vector<float> y(static_cast<size_t>(n) + 1, 1.0f);
            k->f32.binary(op, layout, a.data(), b.data(), y.data(), n, acc);
            for (int64_t i = 0; i < n; ++i) {
              const size_t ia = layout == Operands::kScalarArray ? 0 : static_cast<size_t>(i);
              const size_t ib = layout == Operands::kArrayScalar ? 0 : static_cast<size_t>(i);
              const float want =
                  static_cast<float>(BinaryRef(op, a[ia], b[ib])) + (acc ? 1.0f : 0.0f);
              if (std::isnan(want)) {
                EXPECT_TRUE(std::isnan(y[static_cast<size_t>(i)])) << o << " at " << i;
              } else {
                EXPECT_NEAR(y[static_cast<size_t>(i)], want, 1e-6 * (1 + std::abs(want)))
                    << "op " << o << " layout " << static_cast<int>(layout) << " at " << i;
              }
            }
            EXPECT_EQ(y[static_cast<size_t>(n)], 1.0f);
          }
        }
        std::vector<double> yd(static_cast<size_t>(n));
        k->f64.binary(op, Operands::kArrayArray, ad.data(), bd.data(), yd.data(), n, false);
        for (int64_t i = 0; i < n; ++i) {
          const double want = BinaryRef(op, ad[static_cast<size_t>(i)], bd[static_cast<size_t>(i)]);
          if (std::isnan(want)) continue;
          if (op >= BinaryOp::kSigmoidGrad) {  // products of sums: FMA contraction may differ
            EXPECT_NEAR(yd[static_cast<size_t>(i)], want, 1e-14 * (1 + std::abs(want))) << o;
          } else {
            EXPECT_EQ(yd[static_cast<size_t>(i)], want) << o;
          }
        }
      }
    }
  }
}

double FoldRef(ReduceOp op, const std::vector<float>& x, size_t lo, size_t n, size_t step) {
  double acc = Identity(op);
  for (size_t i = 0; i < n; ++i) {
    const double v = x[lo + i * step];
    switch (op) {
      case ReduceOp::kSum:
        acc += v;
        break;
      case ReduceOp::kNanSum:
        acc += std::isnan(v) ? 0 : v;
        break;
      case ReduceOp::kProd:
        acc *= v;
        break;
      case ReduceOp::kNanProd:
        acc *= std::isnan(v) ? 1 : v;
        break;
      case ReduceOp::kSumAbs:
        acc += std::abs(v);
        break;
      case ReduceOp::kSumSquare:
        acc += v * v;
        break;
      default:
        acc = Combine(op, acc, v);
    }
  }
  return acc;
}

void ExpectFold(double got, double want, const std::string& what) {
  if (got == want) return;  // infinities too
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what;
  } else {
    EXPECT_NEAR(got, want, 1e-6 * (1 + std::abs(want))) << what;
  }
}

TEST(OpVecMath, ReductionsRowsAndColumns) {
  const auto xd = testing_util::Random(3000, 11, 0.5, 1.5);
  std::vector<float> x(xd.begin(), xd.end());
  std::vector<float> with_nan = x;
  with_nan[77] = NAN;
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    for (int o = 0; o <= static_cast<int>(ReduceOp::kSumSquare); ++o) {
      const ReduceOp op = static_cast<ReduceOp>(o);
      for (const auto* data : {&x, &with_nan}) {
        for (size_t n : {0, 1, 3, 8, 17, 63, 64, 65, 129, 1000, 3000}) {
          ExpectFold(k->f32.reduce(op, data->data(), static_cast<int64_t>(n)),
                     FoldRef(op, *data, 0, n, 1),
                     "op " + std::to_string(o) + " n " + std::to_string(n));
        }
        // Columns of a (rows, 43) view with leading dimension 45, onto existing accumulators.
        const int64_t rows = 60, cols = 43, ld = 45;
        std::vector<double> acc(static_cast<size_t>(cols) + 1, Identity(op));
        acc[3] = op == ReduceOp::kMax || op == ReduceOp::kMin ? acc[3] : Combine(op, acc[3], 2.0);
        k->f32.reduce_cols(op, data->data(), rows, cols, ld, acc.data());
        for (int64_t j = 0; j < cols; ++j) {
          double want = FoldRef(op, *data, static_cast<size_t>(j), rows, ld);
          if (j == 3 && op != ReduceOp::kMax && op != ReduceOp::kMin) want = Combine(op, 2.0, want);
          ExpectFold(acc[static_cast<size_t>(j)], want, "column " + std::to_string(j));
        }
        EXPECT_EQ(acc[static_cast<size_t>(cols)], Identity(op));
      }
    }
    double sum = 0;
    for (double v : xd)
      sum += v;
    EXPECT_NEAR(k->f64.reduce(ReduceOp::kSum, xd.data(), 3000), sum, 1e-9);
  }
}

TEST(OpVecMath, FloatSumIsAccurate) {
  // 1e6 values: a float accumulator drops the small ones once the sum is large (its error is
  // 1e-4); the blocked double accumulation is within a float rounding of the exact sum.
  std::vector<float> x(1000000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = i % 2 ? 1.0f : 1e-4f;
  double exact = 0;
  float naive = 0;
  for (float v : x) {
    exact += v;
    naive += v;
  }
  ASSERT_GT(std::abs(naive - exact), 1e-5 * exact);
  for (const Kernels* k : Tables()) {
    EXPECT_NEAR(k->f32.reduce(ReduceOp::kSum, x.data(), static_cast<int64_t>(x.size())), exact,
                1.2e-7 * exact)
        << IsaName(k->isa);
  }
}

/*! \brief Softmax in double of (count, n, inner) data along n, scaled. */
std::vector<double> SoftmaxRef(const std::vector<float>& x, int64_t count, int64_t n, int64_t inner,
                               double scale, bool log) {
  std::vector<double> y(x.size());
  for (int64_t c = 0; c < count; ++c) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return static_cast<size_t>((c * n + j) * inner + i); };
      double m = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; ++j)
        m = std::max(m, scale * x[at(j)]);
      for (int64_t j = 0; j < n; ++j)
        sum += std::exp(scale * x[at(j)] - m);
      for (int64_t j = 0; j < n; ++j) {
        const double z = scale * x[at(j)] - m;
        y[at(j)] = log ? z - std::log(sum) : std::exp(z) / sum;
      }
    }
  }
  return y;
}

TEST(OpVecMath, SoftmaxRowsAndColumnsForwardAndBackward) {
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    for (int64_t inner : {int64_t{1}, int64_t{3}, int64_t{21}}) {
      for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{16}, int64_t{45}}) {
        const int64_t count = 3;
        const auto xd = testing_util::Random(static_cast<size_t>(count * n * inner), 5, -4, 4);
        const std::vector<float> x(xd.begin(), xd.end());
        for (bool log : {false, true}) {
          const SoftmaxKind kind = log ? SoftmaxKind::kLogSoftmax : SoftmaxKind::kSoftmax;
          const float scale = log ? -0.5f : 1.0f;
          const auto want = SoftmaxRef(x, count, n, inner, scale, log);
          std::vector<float> y(x.size(), 0.25f);
          k->softmax(kind, x.data(), y.data(), count, n, inner, inner, scale, true);  // += 0.25
          for (size_t i = 0; i < y.size(); ++i)
            EXPECT_NEAR(y[i], want[i] + 0.25, 2e-6 * (1 + std::abs(want[i])))
                << "n " << n << " inner " << inner << " at " << i;
          // Backward: dx = scale y (dy - sum(dy y)) or scale (dy - e^y sum(dy)).
          std::vector<float> yf(want.begin(), want.end()), dx(x.size());
          const auto dyd = testing_util::Random(x.size(), 9);
          const std::vector<float> dy(dyd.begin(), dyd.end());
          k->softmax_grad(kind, dy.data(), yf.data(), dx.data(), count, n, inner, inner, scale,
                          false);
          for (int64_t c = 0; c < count; ++c) {
            for (int64_t i = 0; i < inner; ++i) {
              auto at = [&](int64_t j) { return static_cast<size_t>((c * n + j) * inner + i); };
              double s = 0;
              for (int64_t j = 0; j < n; ++j)
                s += log ? dy[at(j)] : double(dy[at(j)]) * yf[at(j)];
              for (int64_t j = 0; j < n; ++j) {
                const double g =
                    log ? dy[at(j)] - std::exp(double(yf[at(j)])) * s : yf[at(j)] * (dy[at(j)] - s);
                EXPECT_NEAR(dx[at(j)], scale * g, 2e-6 * (1 + std::abs(g)));
              }
            }
          }
        }
      }
    }
  }
}

TEST(OpVecMath, NormRowsMatchDoubleMath) {
  for (const Kernels* k : Tables()) {
    SCOPED_TRACE(IsaName(k->isa));
    for (int64_t n = 0; n <= 67; ++n) {
      SCOPED_TRACE("n = " + std::to_string(n));
      std::vector<float> x(static_cast<size_t>(n)), dy(x.size()), y(x.size() + 1, 5.0f);
      for (int64_t i = 0; i < n; ++i) {
        x[i] = 0.25f * static_cast<float>((i * 7) % 13) - 1.0f;
        dy[i] = 0.5f * static_cast<float>((i * 5) % 11) - 2.0f;
      }
      const float m = 0.3f;
      double want_sq = 0, want_dy = 0, want_dev = 0;
      for (int64_t i = 0; i < n; ++i) {
        want_sq += (static_cast<double>(x[i]) - m) * (static_cast<double>(x[i]) - m);
        want_dy += dy[i];
        want_dev += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - m);
      }
      EXPECT_NEAR(k->norm.sum_squared_dev(x.data(), n, m), want_sq, 1e-4);
      double s = 1, t = 2;  // the sums are added to what the outputs held
      k->norm.grad_sums(dy.data(), x.data(), n, m, &s, &t);
      EXPECT_NEAR(s, want_dy + 1, 1e-4);
      EXPECT_NEAR(t, want_dev + 2, 1e-4);
      k->norm.affine(dy.data(), x.data(), y.data(), n, 2.0f, -0.5f, 0.25f, false);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_FLOAT_EQ(y[i], 2.0f * dy[i] - 0.5f * x[i] + 0.25f) << i;
      k->norm.affine(dy.data(), nullptr, y.data(), n, 1.0f, 0.0f, 1.0f, true);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_FLOAT_EQ(y[i], 3.0f * dy[i] - 0.5f * x[i] + 1.25f) << i;
      EXPECT_EQ(y[static_cast<size_t>(n)], 5.0f);  // nothing written past the end
    }
  }
}

}  // namespace
}  // namespace mixnet::op::simd
