// RNN against a hand-written step loop of the documented gate formulas, on parameters unpacked
// in MXNet 1.x's order; stacked bidirectional layers against composed single layers; states,
// clipping, dropout and the errors. Gradients are checked by the registry test's samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/op/invoke.h"
#include "mixnet/op/random.h"
#include "operator/op_def.h"
#include "test_util.h"

namespace mixnet::op {
namespace {

using testing_util::ExpectNear;
using testing_util::Random;

NDArray F64(const std::vector<double>& v, const Shape& s) {
  return NDArray::FromVector(v, s);
}

int Gates(const std::string& mode) {
  return mode == "lstm" ? 4 : mode == "gru" ? 3 : 1;
}

/*! \brief One layer and direction: W_i2h (G*H x in), W_h2h (G*H x H) and their biases. */
struct Weights {
  std::vector<double> wx, wh, bx, bh;
};

/*!
 * \brief Splits a flat parameter vector as MXNet 1.x packs it: every weight (layer-major, then
 * direction; W_i2h before W_h2h), then every bias in the same order (b_i2h before b_h2h).
 */
std::vector<Weights> Unpack(const std::vector<double>& flat, int gates, int hidden, int input,
                            int layers, int dirs) {
  std::vector<Weights> w(static_cast<size_t>(layers * dirs));
  size_t off = 0;
  auto take = [&](size_t n) {
    std::vector<double> v(flat.begin() + static_cast<long>(off),
                          flat.begin() + static_cast<long>(off + n));
    off += n;
    return v;
  };
  const size_t gh = static_cast<size_t>(gates * hidden);
  for (int l = 0; l < layers; ++l) {
    for (int d = 0; d < dirs; ++d) {
      const size_t in = static_cast<size_t>(l == 0 ? input : dirs * hidden);
      w[l * dirs + d].wx = take(gh * in);
      w[l * dirs + d].wh = take(gh * static_cast<size_t>(hidden));
    }
  }
  for (auto& lw : w) {
    lw.bx = take(gh);
    lw.bh = take(gh);
  }
  EXPECT_EQ(off, flat.size()) << "parameters length";
  return w;
}

struct LayerOut {
  std::vector<double> y, h, c;  // y (steps, batch, H); final h and c (batch, H)
};

double Sig(double x) {
  return 1 / (1 + std::exp(-x));
}

/*!
 * \brief The recurrence step by step: LSTM i, f, g, o; GRU r, z, n with
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h.
 */
LayerOut HandLayer(const std::string& mode, const std::vector<double>& x, int steps, int batch,
                   int input, int hidden, const Weights& w, std::vector<double> h,
                   std::vector<double> c, bool reverse,
                   std::optional<std::pair<double, double>> clip = std::nullopt) {
  LayerOut o;
  o.y.resize(static_cast<size_t>(steps * batch * hidden));
  for (int s = 0; s < steps; ++s) {
    const int t = reverse ? steps - 1 - s : s;
    std::vector<double> hn = h, cn = c;
    for (int b = 0; b < batch; ++b) {
      const double* xt = &x[static_cast<size_t>((t * batch + b) * input)];
      const double* hp = &h[static_cast<size_t>(b * hidden)];
      for (int j = 0; j < hidden; ++j) {
        auto xg = [&](int k) {
          const int r = k * hidden + j;
          double v = w.bx[r];
          for (int i = 0; i < input; ++i)
            v += w.wx[r * input + i] * xt[i];
          return v;
        };
        auto hg = [&](int k) {
          const int r = k * hidden + j;
          double v = w.bh[r];
          for (int i = 0; i < hidden; ++i)
            v += w.wh[r * hidden + i] * hp[i];
          return v;
        };
        const int cell = b * hidden + j;
        if (mode == "rnn_relu") {
          hn[cell] = std::max(0.0, xg(0) + hg(0));
        } else if (mode == "rnn_tanh") {
          hn[cell] = std::tanh(xg(0) + hg(0));
        } else if (mode == "lstm") {
          const double i = Sig(xg(0) + hg(0)), f = Sig(xg(1) + hg(1)), g = std::tanh(xg(2) + hg(2)),
                       og = Sig(xg(3) + hg(3));
          double cc = f * c[cell] + i * g;
          if (clip) cc = std::min(std::max(cc, clip->first), clip->second);
          cn[cell] = cc;
          hn[cell] = og * std::tanh(cc);
        } else {
          const double r = Sig(xg(0) + hg(0)), z = Sig(xg(1) + hg(1));
          const double n = std::tanh(xg(2) + r * hg(2));
          hn[cell] = (1 - z) * n + z * hp[j];
        }
      }
    }
    h = hn;
    c = cn;
    std::copy(h.begin(), h.end(), o.y.begin() + (t * batch) * hidden);
  }
  o.h = h;
  o.c = c;
  return o;
}

std::vector<double> Slice(const std::vector<double>& v, size_t part, size_t size) {
  return {v.begin() + static_cast<long>(part * size),
          v.begin() + static_cast<long>((part + 1) * size)};
}

AttrDict RnnAttrs(const std::string& mode, int hidden, int layers, bool bidirectional,
                  bool state_outputs) {
  return {{"mode", mode},
          {"state_size", std::to_string(hidden)},
          {"num_layers", std::to_string(layers)},
          {"bidirectional", bidirectional ? "True" : "False"},
          {"state_outputs", state_outputs ? "True" : "False"}};
}

size_t ParamCount(int gates, int hidden, int input, int layers, int dirs) {
  size_t n = 0;
  for (int l = 0; l < layers; ++l)
    n += static_cast<size_t>(dirs * gates * hidden * ((l ? dirs * hidden : input) + hidden + 2));
  return n;
}

TEST(OpRNN, SingleLayerMatchesHandLoopEveryMode) {
  const int steps = 4, batch = 2, input = 3, hidden = 3;
  for (const std::string mode : {"rnn_relu", "rnn_tanh", "lstm", "gru"}) {
    SCOPED_TRACE(mode);
    const int g = Gates(mode);
    const auto x = Random(steps * batch * input, 1);
    const auto params = Random(ParamCount(g, hidden, input, 1, 1), 2, -0.8, 0.8);
    const auto h0 = Random(batch * hidden, 3), c0 = Random(batch * hidden, 4);
    const auto w = Unpack(params, g, hidden, input, 1, 1);
    const auto want = HandLayer(mode, x, steps, batch, input, hidden, w[0], h0, c0, false);
    std::vector<NDArray> in{F64(x, {steps, batch, input}),
                            F64(params, {static_cast<int64_t>(params.size())}),
                            F64(h0, {1, batch, hidden})};
    if (mode == "lstm") in.push_back(F64(c0, {1, batch, hidden}));
    for (const char* kernel : {"blas", "reference"}) {
      SCOPED_TRACE(kernel);
      const auto out =
          Invoke("RNN", in, RnnAttrs(mode, hidden, 1, false, true), {}, {.kernel = kernel});
      ASSERT_EQ(out.size(), mode == "lstm" ? 4u : 3u);  // and the hidden dropout_mask
      EXPECT_EQ(out[0].shape(), (Shape{steps, batch, hidden}));
      ExpectNear(out[0].ToVector<double>(), want.y, 1e-12);
      ExpectNear(out[1].ToVector<double>(), want.h, 1e-12);
      if (mode == "lstm") ExpectNear(out[2].ToVector<double>(), want.c, 1e-12);
    }
  }
}

TEST(OpRNN, StackedBidirectionalLstmComposesSingleLayers) {
  const int steps = 3, batch = 2, input = 4, hidden = 3, layers = 2, dirs = 2;
  const auto x = Random(steps * batch * input, 5);
  const auto params = Random(ParamCount(4, hidden, input, layers, dirs), 6, -0.6, 0.6);
  const size_t state = batch * hidden;
  const auto h0 = Random(layers * dirs * state, 7), c0 = Random(layers * dirs * state, 8);
  const auto w = Unpack(params, 4, hidden, input, layers, dirs);

  std::vector<double> layer_in = x, hy, cy;
  for (int l = 0; l < layers; ++l) {
    const int in_size = l ? dirs * hidden : input;
    std::vector<double> y(static_cast<size_t>(steps * batch * dirs * hidden));
    for (int d = 0; d < dirs; ++d) {
      const size_t k = static_cast<size_t>(l * dirs + d);
      const auto o = HandLayer("lstm", layer_in, steps, batch, in_size, hidden, w[k],
                               Slice(h0, k, state), Slice(c0, k, state), d == 1);
      for (size_t r = 0; r < static_cast<size_t>(steps * batch); ++r)
        for (int j = 0; j < hidden; ++j)
          y[r * dirs * hidden + d * hidden + j] = o.y[r * hidden + j];
      hy.insert(hy.end(), o.h.begin(), o.h.end());
      cy.insert(cy.end(), o.c.begin(), o.c.end());
    }
    layer_in = y;
  }

  const std::vector<NDArray> in{
      F64(x, {steps, batch, input}), F64(params, {static_cast<int64_t>(params.size())}),
      F64(h0, {layers * dirs, batch, hidden}), F64(c0, {layers * dirs, batch, hidden})};
  for (const char* kernel : {"blas", "reference"}) {
    SCOPED_TRACE(kernel);
    const auto out =
        Invoke("RNN", in, RnnAttrs("lstm", hidden, layers, true, true), {}, {.kernel = kernel});
    EXPECT_EQ(out[0].shape(), (Shape{steps, batch, dirs * hidden}));
    EXPECT_EQ(out[1].shape(), (Shape{layers * dirs, batch, hidden}));
    EXPECT_EQ(out[2].shape(), (Shape{layers * dirs, batch, hidden}));
    ExpectNear(out[0].ToVector<double>(), layer_in, 1e-12);
    ExpectNear(out[1].ToVector<double>(), hy, 1e-12);
    ExpectNear(out[2].ToVector<double>(), cy, 1e-12);
  }
  // Without state_outputs only `out` comes back, with the hidden dropout_mask, empty for p=0.
  const auto plain = Invoke("RNN", in, RnnAttrs("lstm", hidden, layers, true, false));
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[1].shape(), Shape({0}));
}

TEST(OpRNN, StatesAreTheLastStepForwardAndTheFirstReversed) {
  const int steps = 4, batch = 2, input = 2, hidden = 3;
  for (const std::string mode : {"rnn_tanh", "gru", "lstm"}) {
    SCOPED_TRACE(mode);
    const auto params = Random(ParamCount(Gates(mode), hidden, input, 1, 2), 9);
    std::vector<NDArray> in{F64(Random(steps * batch * input, 10), {steps, batch, input}),
                            F64(params, {static_cast<int64_t>(params.size())}),
                            F64(Random(2 * batch * hidden, 11), {2, batch, hidden})};
    if (mode == "lstm") in.push_back(F64(Random(2 * batch * hidden, 12), {2, batch, hidden}));
    const auto out = Invoke("RNN", in, RnnAttrs(mode, hidden, 1, true, true));
    const auto y = out[0].ToVector<double>(), hy = out[1].ToVector<double>();
    for (int b = 0; b < batch; ++b) {
      for (int j = 0; j < hidden; ++j) {
        EXPECT_EQ(hy[b * hidden + j], y[((steps - 1) * batch + b) * 2 * hidden + j]);
        EXPECT_EQ(hy[(batch + b) * hidden + j], y[b * 2 * hidden + hidden + j]);
      }
    }
  }
}

TEST(OpRNN, LstmStateClip) {
  const int steps = 5, batch = 2, input = 3, hidden = 2;
  const auto x = Random(steps * batch * input, 13, -2, 2);
  const auto params = Random(ParamCount(4, hidden, input, 1, 1), 14, -1.5, 1.5);
  const auto h0 = Random(batch * hidden, 15), c0 = Random(batch * hidden, 16);
  const auto w = Unpack(params, 4, hidden, input, 1, 1);
  const auto want =
      HandLayer("lstm", x, steps, batch, input, hidden, w[0], h0, c0, false, std::pair{-0.3, 0.25});
  const auto unclipped = HandLayer("lstm", x, steps, batch, input, hidden, w[0], h0, c0, false);
  auto attrs = RnnAttrs("lstm", hidden, 1, false, true);
  attrs.emplace_back("lstm_state_clip_min", "-0.3");
  attrs.emplace_back("lstm_state_clip_max", "0.25");
  const auto out =
      Invoke("RNN",
             {F64(x, {steps, batch, input}), F64(params, {static_cast<int64_t>(params.size())}),
              F64(h0, {1, batch, hidden}), F64(c0, {1, batch, hidden})},
             attrs);
  ExpectNear(out[0].ToVector<double>(), want.y, 1e-12);
  ExpectNear(out[2].ToVector<double>(), want.c, 1e-12);
  bool clipped = false;
  for (double v : unclipped.c)
    clipped |= v < -0.3 || v > 0.25;
  EXPECT_TRUE(clipped) << "the case should exercise the clip";
  attrs.pop_back();
  EXPECT_ERROR(
      Invoke("RNN",
             {F64(x, {steps, batch, input}), F64(params, {static_cast<int64_t>(params.size())}),
              F64(h0, {1, batch, hidden}), F64(c0, {1, batch, hidden})},
             attrs),
      ValueError, "RNN", "lstm_state_clip_min", "lstm_state_clip_max");
}

TEST(OpRNN, DropoutOnlyInTrainingBetweenLayers) {
  const int steps = 3, batch = 2, input = 2, hidden = 3;
  const auto params = Random(ParamCount(1, hidden, input, 2, 1), 17);
  const std::vector<NDArray> in{F64(Random(steps * batch * input, 18), {steps, batch, input}),
                                F64(params, {static_cast<int64_t>(params.size())}),
                                F64(Random(2 * batch * hidden, 19), {2, batch, hidden})};
  auto attrs = RnnAttrs("rnn_tanh", hidden, 2, false, false);
  const auto plain = Invoke("RNN", in, attrs)[0].ToVector<double>();
  attrs.emplace_back("p", "1");
  // Inference ignores p.
  ExpectNear(Invoke("RNN", in, attrs)[0].ToVector<double>(), plain, 0);
  // p = 1 drops all of layer 0's output: layer 1 sees zeros.
  const auto w = Unpack(params, 1, hidden, input, 2, 1);
  const auto h0 = in[2].ToVector<double>();
  const auto want = HandLayer("rnn_tanh", std::vector<double>(steps * batch * hidden, 0.0), steps,
                              batch, hidden, hidden, w[1], Slice(h0, 1, batch * hidden), {}, false);
  const auto train = Invoke("RNN", in, attrs, {}, {.is_train = true})[0].ToVector<double>();
  ExpectNear(train, want.y, 1e-12);
  // p = 0 is no dropout, in training too.
  attrs.back() = {"p", "0"};
  ExpectNear(Invoke("RNN", in, attrs, {}, {.is_train = true})[0].ToVector<double>(), plain, 0);
}

/*!
 * \brief NOTE [ RNN dropout masks ]: the gradient in training uses the masks the forward drew.
 * With the generator seeded before each call the forward draws the same masks, so the loss is a
 * fixed function of the inputs: the fused gradient must match its central differences.
 */
TEST(OpRNN, DropoutGradientUsesTheForwardMasks) {
  const int steps = 3, batch = 2, input = 2, hidden = 2, layers = 3;
  auto attrs = RnnAttrs("lstm", hidden, layers, true, true);
  attrs.emplace_back("p", "0.5");
  const int64_t np = static_cast<int64_t>(ParamCount(4, hidden, input, layers, 2));
  const Shape state{layers * 2, batch, hidden};
  const std::vector<Shape> shapes{Shape{steps, batch, input}, Shape{np}, state, state};
  std::vector<std::vector<double>> x;
  for (size_t k = 0; k < shapes.size(); ++k)
    x.push_back(Random(static_cast<size_t>(shapes[k].Size()), 40 + k, -0.8, 0.8));
  const auto heads = Random(steps * batch * 2 * hidden + 2 * state.Size(), 50);
  // sum(heads * (out, hy, cy)) in training, with the masks the seed draws.
  auto loss = [&](const std::vector<NDArray>& in, NDArray* mask) {
    SeedRandom(7);
    const auto out = Invoke("RNN", in, attrs, {}, {.is_train = true});
    if (mask) *mask = out[3];
    std::vector<double> flat;
    for (size_t j = 0; j < 3; ++j) {
      const auto v = out[j].ToVector<double>();
      flat.insert(flat.end(), v.begin(), v.end());
    }
    double l = 0;
    for (size_t i = 0; i < flat.size(); ++i)
      l += heads[i] * flat[i];
    return l;
  };
  std::vector<NDArray> in;
  for (size_t k = 0; k < shapes.size(); ++k)
    in.push_back(F64(x[k], shapes[k]));
  NDArray mask;
  loss(in, &mask);
  ASSERT_EQ(mask.shape(), (Shape{layers - 1, steps, batch, 2 * hidden}));
  const auto m = mask.ToVector<double>();
  EXPECT_GT(std::count(m.begin(), m.end(), 0.0), 0);
  EXPECT_GT(std::count(m.begin(), m.end(), 2.0), 0);
  EXPECT_EQ(std::count(m.begin(), m.end(), 0.0) + std::count(m.begin(), m.end(), 2.0),
            static_cast<long>(m.size()));
  // The fused gradient, given the forward's mask.
  const size_t o = static_cast<size_t>(steps * batch * 2 * hidden), sz = state.Size();
  const std::vector<NDArray> bin{
      in[0],
      in[1],
      in[2],
      F64(std::vector<double>(heads.begin(), heads.begin() + o), {steps, batch, 2 * hidden}),
      in[3],
      F64(std::vector<double>(heads.begin() + o, heads.begin() + o + sz), state),
      F64(std::vector<double>(heads.begin() + o + sz, heads.end()), state),
      mask};
  const auto grads = Invoke("_rnn_backward", bin, attrs, {}, {.is_train = true});
  ASSERT_EQ(grads.size(), 4u);
  constexpr double kEps = 1e-6;
  for (size_t k = 0; k < shapes.size(); ++k) {
    SCOPED_TRACE("input " + std::to_string(k));
    std::vector<double> numeric(x[k].size());
    for (size_t i = 0; i < x[k].size(); ++i) {
      auto at = [&](double v) {
        auto xs = x;
        xs[k][i] = v;
        std::vector<NDArray> arrays;
        for (size_t j = 0; j < shapes.size(); ++j)
          arrays.push_back(F64(xs[j], shapes[j]));
        return loss(arrays, nullptr);
      };
      numeric[i] = (at(x[k][i] + kEps) - at(x[k][i] - kEps)) / (2 * kEps);
    }
    ExpectNear(grads[k].ToVector<double>(), numeric, 1e-6);
  }
}

/*!
 * \brief NOTE [ RNN fast path ]: the blas kernel on float32 (float gate math, SIMD sigmoid/tanh,
 * stored tanh(c)) against the double reference, forward and backward, on sizes that leave SIMD
 * tails (H = 13), bidirectional stacks, every mode, a clipped cell and dropout between layers.
 */
TEST(OpRNN, Float32FastPathMatchesReference) {
  const int steps = 5, batch = 3, input = 7, hidden = 13;
  struct Case {
    std::string mode;
    int layers;
    bool bidirectional;
    AttrDict extra;
  };
  const std::vector<Case> cases{
      {"lstm", 2, true, {}},
      {"lstm", 1, false, {{"lstm_state_clip_min", "-0.3"}, {"lstm_state_clip_max", "0.3"}}},
      {"gru", 2, true, {}},
      {"gru", 3, false, {{"p", "0.3"}}},
      {"rnn_tanh", 2, true, {}},
      {"rnn_relu", 1, false, {}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode + " layers " + std::to_string(c.layers) +
                 (c.bidirectional ? " bidirectional" : "") + (c.extra.empty() ? "" : " extra"));
    auto attrs = RnnAttrs(c.mode, hidden, c.layers, c.bidirectional, true);
    attrs.insert(attrs.end(), c.extra.begin(), c.extra.end());
    const int dirs = c.bidirectional ? 2 : 1;
    const bool lstm = c.mode == "lstm";
    const auto np = static_cast<int64_t>(ParamCount(Gates(c.mode), hidden, input, c.layers, dirs));
    const Shape state{c.layers * dirs, batch, hidden};
    const Shape out_shape{steps, batch, dirs * hidden};
    auto f32 = [](const std::vector<double>& v, const Shape& s) {
      return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), s);
    };
    auto f64 = [](const NDArray& a) {
      const auto v = a.ToVector<float>();
      return std::vector<double>(v.begin(), v.end());
    };
    std::vector<NDArray> in{f32(Random(steps * batch * input, 1), {steps, batch, input}),
                            f32(Random(static_cast<size_t>(np), 2, -0.4, 0.4), {np}),
                            f32(Random(state.Size(), 3), state)};
    if (lstm) in.push_back(f32(Random(state.Size(), 4), state));
    SeedRandom(11);
    const auto fast = Invoke("RNN", in, attrs, {}, {.is_train = true, .kernel = "blas"});
    SeedRandom(11);
    const auto ref = Invoke("RNN", in, attrs, {}, {.is_train = true, .kernel = "reference"});
    ASSERT_EQ(fast.size(), ref.size());
    for (size_t k = 0; k < ref.size(); ++k)
      ExpectNear(f64(fast[k]), f64(ref[k]), 2e-5);
    // Backward: data, parameters, state, out_grad [, state_cell], hy_grad [, cy_grad] [, mask].
    std::vector<NDArray> bin{in[0], in[1], in[2], f32(Random(out_shape.Size(), 5), out_shape)};
    if (lstm) bin.push_back(in[3]);
    bin.push_back(f32(Random(state.Size(), 6), state));
    if (lstm) bin.push_back(f32(Random(state.Size(), 7), state));
    if (ref.back().shape().Size() > 0) bin.push_back(ref.back());
    const auto gfast = Invoke("_rnn_backward", bin, attrs, {}, {.kernel = "blas"});
    const auto gref = Invoke("_rnn_backward", bin, attrs, {}, {.kernel = "reference"});
    ASSERT_EQ(gfast.size(), gref.size());
    for (size_t k = 0; k < gref.size(); ++k) {
      SCOPED_TRACE("gradient " + std::to_string(k));
      ExpectNear(f64(gfast[k]), f64(gref[k]), 1e-4);
    }
  }
}

TEST(OpRNN, ErrorsNameTheArgument) {
  const int steps = 2, batch = 2, input = 3, hidden = 2;
  const size_t want = ParamCount(4, hidden, input, 1, 1);  // (3 + 2 + 2) * 8 = 56
  ASSERT_EQ(want, 56u);
  const NDArray x = F64(Random(steps * batch * input, 20), {steps, batch, input});
  const NDArray h0 = F64(Random(batch * hidden, 21), {1, batch, hidden});
  EXPECT_ERROR(Invoke("RNN", {x, F64(Random(50, 22), {50}), h0, h0},
                      RnnAttrs("lstm", hidden, 1, false, false)),
               ValueError, "RNN", "parameters", "(50,)", "(56,)");
  const NDArray params = F64(Random(want, 23), {static_cast<int64_t>(want)});
  EXPECT_ERROR(Invoke("RNN", {x, params, F64(Random(8, 24), {2, batch, hidden}), h0},
                      RnnAttrs("lstm", hidden, 1, false, false)),
               ValueError, "RNN", "state", "(2, 2, 2)", "(1, 2, 2)");
  auto attrs = RnnAttrs("lstm", hidden, 1, false, false);
  attrs.emplace_back("projection_size", "2");
  EXPECT_ERROR(Invoke("RNN", {x, params, h0, h0}, attrs), NotImplementedError, "RNN",
               "projection_size");
  attrs.back() = {"use_sequence_length", "True"};
  EXPECT_ERROR(Invoke("RNN", {x, params, h0, h0}, attrs), NotImplementedError, "RNN",
               "use_sequence_length");
}

}  // namespace
}  // namespace mixnet::op
