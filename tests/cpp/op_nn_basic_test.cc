// dot, batch_dot, linalg_gemm, FullyConnected, softmax and the loss layers against hand loops,
// and the loss-layer gradient rules that central differences cannot check.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "mixnet/op/invoke.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

using testing_util::ExpectNear;
using testing_util::Random;

NDArray F64(const std::vector<double>& v, const Shape& s) {
  return NDArray::FromVector(v, s);
}

AttrDict Transposes(bool ta, bool tb) {
  return {{"transpose_a", ta ? "True" : "False"}, {"transpose_b", tb ? "True" : "False"}};
}

/*! \brief op(A) op(B) by hand with A stored (m x k) or (k x m), B (k x n) or (n x k). */
std::vector<double> HandMatMul(const std::vector<double>& a, const std::vector<double>& b, bool ta,
                               bool tb, int m, int n, int k) {
  std::vector<double> c(m * n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      for (int p = 0; p < k; ++p)
        c[i * n + j] += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
  return c;
}

TEST(OpNNBasic, DotBatchDotAndGemmEveryTranspose) {
  const int m = 3, n = 4, k = 5, batch = 2;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::to_string(ta) + std::to_string(tb));
      const auto a = Random(batch * m * k, 1), b = Random(batch * k * n, 2),
                 c = Random(batch * m * n, 3);
      const Shape sa = ta ? Shape{k, m} : Shape{m, k}, sb = tb ? Shape{n, k} : Shape{k, n};
      const std::vector<double> a0(a.begin(), a.begin() + m * k), b0(b.begin(), b.begin() + k * n);
      for (const char* kernel : {"blas", "reference"}) {
        const NDArray in[] = {F64(a0, sa), F64(b0, sb)};
        const auto y = Invoke("dot", in, Transposes(ta, tb), {}, {.kernel = kernel})[0];
        EXPECT_EQ(y.shape(), (Shape{m, n}));
        ExpectNear(y.ToVector<double>(), HandMatMul(a0, b0, ta, tb, m, n, k), 1e-12);
      }
      const Shape ba = ta ? Shape{batch, k, m} : Shape{batch, m, k},
                  bb = tb ? Shape{batch, n, k} : Shape{batch, k, n};
      std::vector<double> want, want_gemm;
      for (int i = 0; i < batch; ++i) {
        const auto ci =
            HandMatMul({a.begin() + i * m * k, a.begin() + (i + 1) * m * k},
                       {b.begin() + i * k * n, b.begin() + (i + 1) * k * n}, ta, tb, m, n, k);
        want.insert(want.end(), ci.begin(), ci.end());
      }
      for (size_t i = 0; i < want.size(); ++i)
        want_gemm.push_back(2.0 * want[i] - 0.5 * c[i]);
      const auto bd = Invoke("batch_dot", {F64(a, ba), F64(b, bb)}, Transposes(ta, tb))[0];
      ExpectNear(bd.ToVector<double>(), want, 1e-12);
      AttrDict attrs = Transposes(ta, tb);
      attrs.emplace_back("alpha", "2");
      attrs.emplace_back("beta", "-0.5");
      const auto g =
          Invoke("linalg_gemm", {F64(a, ba), F64(b, bb), F64(c, {batch, m, n})}, attrs)[0];
      ExpectNear(g.ToVector<double>(), want_gemm, 1e-12);
    }
  }
}

TEST(OpNNBasic, DotNDContractsLastWithFirstAxis) {
  const auto a = Random(24, 4), b = Random(20, 5);
  const auto y = Invoke("dot", {F64(a, {2, 3, 4}), F64(b, {4, 5})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3, 5}));
  ExpectNear(y.ToVector<double>(), HandMatMul(a, b, false, false, 6, 5, 4), 1e-12);
}

TEST(OpNNBasic, FullyConnectedFlattenAndNoBias) {
  const auto x = Random(24, 6), w = Random(36, 7), bias = Random(3, 8);
  // flatten: (2, 3, 4) -> (2, 12)
  const auto y = Invoke("FullyConnected", {F64(x, {2, 3, 4}), F64(w, {3, 12}), F64(bias, {3})},
                        {{"num_hidden", "3"}})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  auto want = HandMatMul(x, w, false, true, 2, 3, 12);
  for (size_t i = 0; i < want.size(); ++i)
    want[i] += bias[i % 3];
  ExpectNear(y.ToVector<double>(), want, 1e-12);
  // flatten=False, no_bias: the last axis (4) is contracted, (2, 3) kept.
  const std::vector<double> w2(w.begin(), w.begin() + 8);
  const auto z = Invoke("FullyConnected", {F64(x, {2, 3, 4}), F64(w2, {2, 4})},
                        {{"num_hidden", "2"}, {"flatten", "False"}, {"no_bias", "True"}})[0];
  EXPECT_EQ(z.shape(), (Shape{2, 3, 2}));
  ExpectNear(z.ToVector<double>(), HandMatMul(x, w2, false, true, 6, 2, 4), 1e-12);
  EXPECT_ERROR(
      Invoke("FullyConnected",
             {F64(x, {2, 12}), F64(std::vector<double>(w.begin(), w.begin() + 12), {4, 3})},
             {{"num_hidden", "4"}, {"no_bias", "True"}}),
      ValueError, "FullyConnected", "weight", "(4, 3)", "(4, 12)");
}

TEST(OpNNBasic, FullyConnectedWideBiasEveryKernel) {
  // Wide enough that the bias rows (NOTE [ FC bias first ]) are written by several threads.
  const int m = 40, n = 3000, k = 7;
  const auto x = Random(m * k, 11), w = Random(n * k, 12), bias = Random(n, 13);
  auto want = HandMatMul(x, w, false, true, m, n, k);
  for (size_t i = 0; i < want.size(); ++i)
    want[i] += bias[i % n];
  for (const char* kernel : {"blas", "reference"}) {
    SCOPED_TRACE(kernel);
    const NDArray in[] = {F64(x, {m, k}), F64(w, {n, k}), F64(bias, {n})};
    const auto y = Invoke("FullyConnected", in, {{"num_hidden", std::to_string(n)}}, {},
                          {.kernel = kernel})[0];
    ExpectNear(y.ToVector<double>(), want, 1e-12);
  }
  // The bias gradient, column sums of out_grad taken over column ranges by several threads
  // (the blas kernel's float32 path).
  const auto g = Random(m * n, 14);
  std::vector<double> col(n, 0.0);
  for (size_t i = 0; i < g.size(); ++i)
    col[i % n] += g[i];
  const auto f32 = [](const std::vector<double>& v, const Shape& s) {
    return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), s);
  };
  const auto grads =
      Invoke("_backward_FullyConnected", {f32(g, {m, n}), f32(x, {m, k}), f32(w, {n, k})},
             {{"num_hidden", std::to_string(n)}});
  const auto db = grads[2].ToVector<float>();
  ExpectNear(std::vector<double>(db.begin(), db.end()), col, 1e-4);
}

TEST(OpNNBasic, SoftmaxIsStableOnLargeInputs) {
  const std::vector<double> x = {1000, -1000, 999, 0, -1000, 1000, 1000, 1000};
  const auto y = Invoke("softmax", {F64(x, {2, 4})})[0].ToVector<double>();
  for (int r = 0; r < 2; ++r) {
    double sum = 0, m = -INFINITY;
    for (int j = 0; j < 4; ++j)
      m = std::max(m, x[r * 4 + j]);
    double z = 0;
    for (int j = 0; j < 4; ++j)
      z += std::exp(x[r * 4 + j] - m);
    for (int j = 0; j < 4; ++j) {
      EXPECT_FALSE(std::isnan(y[r * 4 + j]));
      EXPECT_NEAR(y[r * 4 + j], std::exp(x[r * 4 + j] - m) / z, 1e-15);
      sum += y[r * 4 + j];
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
  const auto ls = Invoke("log_softmax", {F64(x, {2, 4})})[0].ToVector<double>();
  EXPECT_NEAR(ls[1], -2000 - std::log(1 + std::exp(-1.0)), 1e-9);
  const auto f32 = Invoke("softmax", {NDArray::FromVector<float>({1000, -1000, 1000}, {3})})[0];
  EXPECT_EQ(f32.ToVector<float>(), (std::vector<float>{0.5f, 0.0f, 0.5f}));
}

TEST(OpNNBasic, SoftmaxOutputGradientIsTheLossLayerRule) {
  const auto x = Random(12, 9, -2, 2);
  const std::vector<double> label = {2, 0, -1, 3};
  const NDArray data = F64(x, {4, 3}), lab = F64(label, {4});
  for (const char* norm : {"null", "batch", "valid"}) {
    SCOPED_TRACE(norm);
    const AttrDict attrs = {{"grad_scale", "2"}, {"use_ignore", "True"}, {"normalization", norm}};
    const auto out = Invoke("SoftmaxOutput", {data, lab}, attrs)[0];
    const auto y = out.ToVector<double>();
    EagerGradBuilder g;
    const GValue xs[] = {g.Add(data), g.Add(lab)};
    const GValue ys[] = {g.Add(out)};
    const GValue heads[] = {g.Add(F64(Random(12, 10), {4, 3}))};  // ignored by the rule
    const OpDef& def = Registry::Get("SoftmaxOutput");
    const auto grads = def.gradient(g, def.ParseAttrs(attrs), xs, ys, heads);
    EXPECT_FALSE(grads[1].valid());
    const auto dx = g.Get(grads[0]).ToVector<double>();
    // Label 3 is out of range (no one-hot); -1 is ignored: 3 valid labels.
    const double n = std::string(norm) == "null" ? 1 : std::string(norm) == "batch" ? 4 : 3;
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 3; ++c) {
        const double want =
            label[r] == -1 ? 0.0 : (y[r * 3 + c] - (label[r] == c ? 1.0 : 0.0)) * 2 / n;
        EXPECT_NEAR(dx[r * 3 + c], want, 1e-14) << r << "," << c;
      }
    }
  }
}

/*! \brief The gradient of a single-output op for its first input, given a head. */
std::vector<double> FirstGrad(const char* op, std::vector<NDArray> in, const AttrDict& attrs) {
  const auto out = Invoke(op, in, attrs)[0];
  EagerGradBuilder g;
  std::vector<GValue> xs;
  for (const auto& a : in)
    xs.push_back(g.Add(a));
  const GValue ys[] = {g.Add(out)};
  const GValue heads[] = {g.Add(F64(Random(out.Size(), 11), out.shape()))};
  const OpDef& def = Registry::Get(op);
  return g.Get(def.gradient(g, def.ParseAttrs(attrs), xs, ys, heads)[0]).ToVector<double>();
}

TEST(OpNNBasic, RegressionAndMakeLossGradientRules) {
  const auto x = Random(6, 12), l = Random(6, 13, 0, 1);
  const NDArray data = F64(x, {2, 3}), label = F64(l, {2, 3});
  const auto lin = FirstGrad("LinearRegressionOutput", {data, label}, {{"grad_scale", "3"}});
  const auto mae = FirstGrad("MAERegressionOutput", {data, label}, {});
  const auto logi = FirstGrad("LogisticRegressionOutput", {data, label}, {});
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(lin[i], (x[i] - l[i]) * 3 / 3, 1e-14);  // 3 outputs per example
    EXPECT_NEAR(mae[i], (x[i] > l[i] ? 1.0 : -1.0) / 3, 1e-14);
    EXPECT_NEAR(logi[i], (1 / (1 + std::exp(-x[i])) - l[i]) / 3, 1e-14);
  }
  const auto ml = FirstGrad("MakeLoss", {data}, {{"grad_scale", "4"}, {"normalization", "batch"}});
  ExpectNear(ml, std::vector<double>(6, 2.0), 0);
  // A (batch, 1) output takes a (batch,) label.
  EXPECT_EQ(Invoke("LinearRegressionOutput", {F64({1, 2}, {2, 1}), F64({0, 0}, {2})})[0].shape(),
            (Shape{2, 1}));
}

TEST(OpNNBasic, ErrorsNameOpArgumentsAndShapes) {
  const NDArray a = NDArray::Zeros({2, 3}), b = NDArray::Zeros({4, 5});
  EXPECT_ERROR(Invoke("dot", {a, b}), ValueError, "dot", "(2, 3)", "(4, 5)", "lhs", "rhs");
  EXPECT_ERROR(Invoke("batch_dot", {a, b}), ValueError, "batch_dot", "3-D");
  EXPECT_ERROR(Invoke("Activation", {a}, {{"act_type", "rellu"}}), ValueError, "Activation",
               "act_type", "did you mean 'relu'");
  EXPECT_ERROR(Invoke("LeakyReLU", {a}, {{"act_type", "rrelu"}}), ValueError, "LeakyReLU",
               "act_type");
  EXPECT_ERROR(Invoke("softmax", {a}, {{"axis", "2"}}), ValueError, "softmax", "axis 2", "(2, 3)");
}

}  // namespace
}  // namespace mixnet::op
