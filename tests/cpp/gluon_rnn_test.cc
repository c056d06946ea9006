// gluon.rnn: the fused layers against MXNet 1.9.1's numbers and against the cells unrolled with
// the same weights (MXNet's documented equivalence), one LSTM/GRU step against the gate
// formulas by hand, names and structural names as MXNet 1.9.1 gives them, states, deferred
// input size, valid_length, the modifier cells, errors, and hybridized against eager.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gluon_check.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/gluon/rnn.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet::gluon::rnn {
namespace {

using testing_util::ExpectNear;
using testing_util::Random;

std::vector<double> Values(const NDArray& a) {
  const auto v = a.ToVector<float>();
  return {v.begin(), v.end()};
}

NDArray Array(const std::vector<double>& v, const Shape& s) {
  return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), s);
}

NDArray RandomArray(const Shape& s, uint64_t seed) {
  return Array(Random(static_cast<size_t>(s.Size()), seed), s);
}

/*! \brief f(i) for i = 0..size-1, as an array of shape `s`. */
template <typename F>
NDArray Pattern(const Shape& s, F f) {
  std::vector<double> v(static_cast<size_t>(s.Size()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = f(static_cast<double>(i));
  return Array(v, s);
}

std::vector<std::string> Names(const Block& b) {
  std::vector<std::string> names;
  for (const auto& [name, p] : b.CollectParams())
    names.push_back(name);
  return names;
}

std::vector<std::string> StructuralNames(const Block& b) {
  std::vector<std::string> names;
  for (const auto& [name, p] : b.CollectParamsWithPrefix())
    names.push_back(name);
  return names;
}

std::vector<Shape> Shapes(const std::vector<NDArray>& arrays) {
  std::vector<Shape> s;
  for (const auto& a : arrays)
    s.push_back(a.shape());
  return s;
}

void ExpectArraysNear(const std::vector<NDArray>& got, const std::vector<NDArray>& want,
                      double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("array " + std::to_string(i));
    EXPECT_EQ(got[i].shape(), want[i].shape());
    ExpectNear(Values(got[i]), Values(want[i]), tol);
  }
}

// ---- the fused layers against MXNet 1.9.1 ----

/*!
 * \brief Parameters as the reference script sets them: parameter k (in collect_params order),
 * element i = 0.1 sin(0.7 i + k + 1). The input is cos(0.3 i); state j is 0.5 sin(0.2 i + j).
 */
void FillLikeReference(Block& b) {
  double k = 0;
  for (const auto& [name, p] : b.CollectParams()) {
    ++k;
    p->SetData(Pattern(p->shape(), [k](double i) { return 0.1 * std::sin(0.7 * i + k); }));
  }
}

std::vector<NDArray> RunLikeReference(RecurrentLayer& layer, const Shape& x_shape,
                                      bool with_states) {
  layer.Initialize();
  const NDArray x = Pattern(x_shape, [](double i) { return std::cos(0.3 * i); });
  std::vector<NDArray> in{x};
  if (with_states) {
    double j = 0;
    for (const auto& s : layer.StateInfo(x_shape[static_cast<int>(layer.layout().find('N'))])) {
      in.push_back(Pattern(s.shape, [j](double i) { return 0.5 * std::sin(0.2 * i + j); }));
      ++j;
    }
  }
  layer(in);  // deferred initialisation
  FillLikeReference(layer);
  return layer(in);
}

// The numbers below are MXNet 1.9.1's (gluon.rnn with the same parameters and inputs).
TEST(GluonRnnLayer, MatchesMXNet) {
  LSTM lstm(2, {.num_layers = 2, .bidirectional = true});
  auto out = RunLikeReference(lstm, {3, 2, 3}, true);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Shapes(out), (std::vector<Shape>{{3, 2, 4}, {4, 2, 2}, {4, 2, 2}}));
  ExpectNear(Values(out[0]),
             {0.1049487,   0.04638829,   -0.05129335, 0.00641681,  0.05851834,  -0.005026945,
              -0.06603373, -0.002529649, 0.0957692,   0.04410645,  -0.04726871, -0.009260613,
              0.07362254,  0.01876161,   -0.07483473, -0.02969006, 0.09103894,  0.04277291,
              -0.04076216, -0.03689292,  0.08002823,  0.03027374,  -0.09248784, -0.08040914},
             1e-6);
  ExpectNear(Values(out[1]),
             {0.04893409, 0.09526461, 0.0399537, 0.0854973, -7.640869e-05, -0.07350023, -0.04265142,
              -0.05025918, 0.09103894, 0.04277291, 0.08002823, 0.03027374, -0.05129335, 0.00641681,
              -0.06603373, -0.002529649},
             1e-6);
  ExpectNear(Values(out[2]),
             {0.0992502, 0.1719219, 0.07381048, 0.1643008, -0.0001764467, -0.1342169, -0.09593792,
              -0.09792244, 0.1825495, 0.0911868, 0.1601423, 0.06452698, -0.09734283, 0.01167181,
              -0.1256753, -0.004585275},
             1e-6);

  GRU gru(3, {.layout = "NTC"});
  out = RunLikeReference(gru, {2, 3, 2}, true);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Shapes(out), (std::vector<Shape>{{2, 3, 3}, {1, 2, 3}}));
  ExpectNear(Values(out[0]),
             {0.03961726, 0.01906104, 0.1425607, 0.06800348, 0.0007315701, 0.1077997, 0.09759025,
              0.03783616, 0.0856242, 0.2231512, 0.2466503, 0.2634857, 0.2039599, 0.2439912,
              0.173267, 0.1963766, 0.2607211, 0.1277441},
             1e-6);
  ExpectNear(Values(out[1]), {0.09759025, 0.03783616, 0.0856242, 0.1963766, 0.2607211, 0.1277441},
             1e-6);

  RNN rnn(2, {.num_layers = 2, .activation = "tanh"});
  out = RunLikeReference(rnn, {2, 2, 3}, false);
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(
      Values(out[0]),
      {0.1621904, 0.1456388, 0.1697395, 0.1513634, 0.182508, 0.1871803, 0.1914221, 0.1902572},
      1e-6);
}

// Names from MXNet 1.9.1: collect_params() and _collect_params_with_prefix() (what
// save_parameters writes), and __repr__.
TEST(GluonRnnLayer, NamesAsMXNet) {
  ResetBlockNames();
  LSTM lstm(4, {.num_layers = 2, .bidirectional = true});
  std::vector<std::string> full, structural;
  for (const std::string l : {"0", "1"})
    for (const std::string d : {"l", "r"})
      for (const std::string p : {"i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"}) {
        full.push_back("lstm0_" + d + l + "_" + p);
        structural.push_back("_unfused." + l + "." + d + "_cell." + p);
      }
  EXPECT_EQ(Names(lstm), full);
  EXPECT_EQ(StructuralNames(lstm), structural);
  EXPECT_EQ(lstm.Repr(), "LSTM(None -> 4, TNC, num_layers=2, bidirectional)");
  EXPECT_EQ(lstm.param(1, 'r', "h2h_weight")->name(), "lstm0_r1_h2h_weight");
  EXPECT_EQ(lstm.param(1, 'l', "i2h_weight")->shape(), (Shape{16, 8}));

  GRU gru(3, {.input_size = 2});
  EXPECT_EQ(Names(gru), (std::vector<std::string>{"gru0_l0_i2h_weight", "gru0_l0_h2h_weight",
                                                  "gru0_l0_i2h_bias", "gru0_l0_h2h_bias"}));
  EXPECT_EQ(StructuralNames(gru),
            (std::vector<std::string>{"_unfused.0.i2h_weight", "_unfused.0.h2h_weight",
                                      "_unfused.0.i2h_bias", "_unfused.0.h2h_bias"}));
  EXPECT_EQ(gru.param(0, 'l', "i2h_weight")->shape(), (Shape{9, 2}));
  EXPECT_EQ(gru.Repr(), "GRU(2 -> 3, TNC)");
  EXPECT_EQ(RNN(3, {.num_layers = 2, .layout = "NTC", .dropout = 0.5}).Repr(),
            "RNN(None -> 3, NTC, num_layers=2, dropout=0.5)");

  LSTMCell cell(3);
  EXPECT_EQ(Names(cell), (std::vector<std::string>{"lstm1_i2h_weight", "lstm1_h2h_weight",
                                                   "lstm1_i2h_bias", "lstm1_h2h_bias"}));
  EXPECT_EQ(StructuralNames(cell),
            (std::vector<std::string>{"i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"}));
  ZoneoutCell zoneout(std::make_shared<GRUCell>(3), 0.1, 0.2);
  EXPECT_EQ(zoneout.prefix(), "gru1_zoneout");
  EXPECT_EQ(StructuralNames(zoneout),
            (std::vector<std::string>{"base_cell.i2h_weight", "base_cell.h2h_weight",
                                      "base_cell.i2h_bias", "base_cell.h2h_bias"}));
  EXPECT_EQ(zoneout.Repr(), "ZoneoutCell(p_out=0.1, p_state=0.2, GRUCell(None -> 9))");
  BidirectionalCell bi(std::make_shared<LSTMCell>(2), std::make_shared<LSTMCell>(2));
  EXPECT_EQ(bi.prefix(), "");
  EXPECT_EQ(StructuralNames(bi)[0], "l_cell.i2h_weight");
  EXPECT_EQ(StructuralNames(bi)[4], "r_cell.i2h_weight");
  EXPECT_EQ(bi.Repr(),
            "BidirectionalCell(forward=LSTMCell(None -> 8), backward=LSTMCell(None -> 8))");

  auto seq = std::make_shared<SequentialRNNCell>();
  {
    BlockScope scope(seq.get());
    seq->Add(std::make_shared<LSTMCell>(2));
    seq->Add(std::make_shared<DropoutCell>(0.5));
    seq->Add(std::make_shared<ResidualCell>(std::make_shared<GRUCell>(2)));
  }
  EXPECT_EQ(Names(*seq),
            (std::vector<std::string>{
                "sequentialrnncell0_lstm0_i2h_weight", "sequentialrnncell0_lstm0_h2h_weight",
                "sequentialrnncell0_lstm0_i2h_bias", "sequentialrnncell0_lstm0_h2h_bias",
                "sequentialrnncell0_gru0_i2h_weight", "sequentialrnncell0_gru0_h2h_weight",
                "sequentialrnncell0_gru0_i2h_bias", "sequentialrnncell0_gru0_h2h_bias"}));
  EXPECT_EQ(StructuralNames(*seq)[4], "2.base_cell.i2h_weight");
  EXPECT_EQ(seq->Repr(),
            "SequentialRNNCell(\n(0): LSTMCell(None -> 8)\n(1): DropoutCell(rate=0.5, "
            "axes=())\n(2): ResidualCell(GRUCell(None -> 6))\n)");
  EXPECT_EQ(RNNCell(3, {.activation = "relu"}).Repr(), "RNNCell(None -> 3, relu)");
}

// save_parameters writes MXNet 1.9.1's keys, so files go both ways; a file with the older
// per-layer keys ("l0_i2h_weight", no dots: full names without the prefix) loads too.
TEST(GluonRnnLayer, SaveLoadAndShareAsMXNet) {
  const RNNLayerOptions o{.bidirectional = true, .input_size = 2};
  LSTM a(3, o);
  a.Initialize(std::make_shared<init::Uniform>(0.5));
  const NDArray x = RandomArray({4, 2, 2}, 8);
  const NDArray want = a(x);
  const std::string path = ::testing::TempDir() + "gluon_rnn_lstm.params";
  a.SaveParameters(path);
  NDArrayList file = LoadNDArrays(path);
  std::vector<std::string> keys, legacy;
  for (const std::string d : {"l", "r"})
    for (const std::string p : {"i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"}) {
      keys.push_back("_unfused.0." + d + "_cell." + p);
      legacy.push_back(d + "0_" + p);
    }
  EXPECT_EQ(file.names, keys);
  LSTM b(3, o);
  b.LoadParameters(path);
  ExpectNear(Values(b(x)), Values(want), 0);
  SaveNDArrays(path, file.arrays, legacy);
  LSTM c(3, o);
  c.LoadParameters(path);
  ExpectNear(Values(c(x)), Values(want), 0);

  RNNLayerOptions shared = o;
  shared.params = a.CollectParams();
  LSTM d(3, shared);
  EXPECT_EQ(Names(d), Names(a));
  EXPECT_EQ(d.param(0, 'r', "h2h_bias"), a.param(0, 'r', "h2h_bias"));
}

TEST(GluonRnnLayer, StatesAndShapes) {
  LSTM lstm(4, {.num_layers = 3, .layout = "NTC", .bidirectional = true, .input_size = 5});
  lstm.Initialize(std::make_shared<init::Uniform>(0.3));
  const auto info = lstm.StateInfo(2);
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].shape, (Shape{6, 2, 4}));
  EXPECT_EQ(info[1].layout, "LNC");
  const NDArray x = RandomArray({2, 7, 5}, 1);  // NTC
  const std::vector<NDArray> begin = lstm.BeginState(2);
  EXPECT_EQ(Shapes(begin), (std::vector<Shape>{{6, 2, 4}, {6, 2, 4}}));
  EXPECT_EQ(Values(begin[1]), std::vector<double>(48, 0.0));
  const NDArray y = lstm(x);
  EXPECT_EQ(y.shape(), (Shape{2, 7, 8}));
  // No states given: zero states, and only the output comes back.
  std::vector<NDArray> with_states = lstm({x, begin[0], begin[1]});
  ASSERT_EQ(with_states.size(), 3u);
  ExpectNear(Values(y), Values(with_states[0]), 0);
  EXPECT_EQ(with_states[1].shape(), (Shape{6, 2, 4}));

  GRU gru(3, {.bidirectional = true});
  gru.Initialize();
  EXPECT_EQ(Shapes(gru({RandomArray({5, 2, 4}, 2), RandomArray({2, 2, 3}, 3)})),
            (std::vector<Shape>{{5, 2, 6}, {2, 2, 3}}));
  EXPECT_EQ(gru.StateInfo(2).size(), 1u);
}

TEST(GluonRnnLayer, DeferredInputSize) {
  GRU gru(4, {.num_layers = 2});
  gru.Initialize();
  EXPECT_EQ(gru.param(0, 'l', "i2h_weight")->shape(), (Shape{12, 0}));
  EXPECT_EQ(gru.param(1, 'l', "i2h_weight")->shape(), (Shape{12, 4}));
  EXPECT_EQ(gru.Repr(), "GRU(None -> 4, TNC, num_layers=2)");
  EXPECT_EQ(gru(RandomArray({3, 2, 7}, 4)).shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(gru.param(0, 'l', "i2h_weight")->shape(), (Shape{12, 7}));
  EXPECT_EQ(gru.Repr(), "GRU(7 -> 4, TNC, num_layers=2)");
  // The bias initializers default to zeros.
  EXPECT_EQ(Values(gru.param(1, 'l', "h2h_bias")->data()), std::vector<double>(12, 0.0));

  // Hybridized before the first call: the trace finishes the deferred initialisation.
  LSTM lstm(2, {.layout = "NTC", .bidirectional = true});
  lstm.Initialize();
  lstm.Hybridize();
  EXPECT_EQ(lstm(RandomArray({2, 3, 5}, 9)).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(lstm.param(0, 'r', "i2h_weight")->shape(), (Shape{8, 5}));
  EXPECT_EQ(lstm.num_traces(), 1u);

  LSTMCell cell(2);
  cell.Initialize();
  auto step = cell({RandomArray({3, 5}, 5), NDArray::Zeros({3, 2}), NDArray::Zeros({3, 2})});
  EXPECT_EQ(cell.i2h_weight()->shape(), (Shape{8, 5}));
  EXPECT_EQ(Shapes(step), (std::vector<Shape>{{3, 2}, {3, 2}, {3, 2}}));
}

// Dropout acts between layers in training only; the state clip bounds LSTM's cell state.
TEST(GluonRnnLayer, DropoutAndStateClip) {
  LSTM plain(4, {.num_layers = 2, .input_size = 3});
  plain.Initialize(std::make_shared<init::Uniform>(0.5));
  RNNLayerOptions o{.num_layers = 2, .dropout = 0.5, .input_size = 3};
  o.params = plain.CollectParams();
  LSTM dropped(4, o);
  const NDArray x = RandomArray({5, 2, 3}, 10);
  ExpectNear(Values(dropped(x)), Values(plain(x)), 0);
  {
    autograd::TrainingScope train(true);
    const auto a = Values(dropped(x)), b = Values(plain(x));
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i)
      diff += std::abs(a[i] - b[i]);
    EXPECT_GT(diff, 1e-3);
  }
  RNNLayerOptions clipped{.input_size = 3, .state_clip_min = -0.05, .state_clip_max = 0.05};
  clipped.params = plain.CollectParams();
  LSTM clip(4, clipped);
  const auto out = clip({x, NDArray::Zeros({1, 2, 4}), NDArray::Ones({1, 2, 4})});
  for (double c : Values(out[2])) {
    EXPECT_LE(c, 0.05 + 1e-7);
    EXPECT_GE(c, -0.05 - 1e-7);
  }
}

TEST(GluonRnnLayer, Errors) {
  EXPECT_ERROR(LSTM(4, {.layout = "NCT"}), ValueError, "layout", "NCT");
  EXPECT_ERROR(RNN(4, {.activation = "sigmoid"}), ValueError, "activation", "sigmoid");
  EXPECT_ERROR(GRU(4, {.state_clip_min = -1, .state_clip_max = 1}), ValueError, "LSTM");
  LSTM lstm(3, {.input_size = 2});
  lstm.Initialize();
  const NDArray x = RandomArray({4, 2, 2}, 6);
  EXPECT_ERROR(lstm({x, NDArray::Zeros({1, 3, 3}), NDArray::Zeros({1, 2, 3})}), ValueError,
               "state shape", "(1, 2, 3)", "(1, 3, 3)");
  EXPECT_ERROR(lstm({x, NDArray::Zeros({1, 2, 3})}), ValueError, "2 state", "got 2");
  EXPECT_ERROR(lstm(RandomArray({4, 2}, 7)), ValueError, "rank-3", "(4, 2)");
}

// ---- the layers against the cells, one step by hand ----

std::shared_ptr<GatedCell> MakeCell(const std::string& mode, int hidden, int64_t input) {
  if (mode == "lstm") return std::make_shared<LSTMCell>(hidden, CellOptions{.input_size = input});
  if (mode == "gru") return std::make_shared<GRUCell>(hidden, CellOptions{.input_size = input});
  return std::make_shared<RNNCell>(hidden,
                                   CellOptions{.activation = mode.substr(4), .input_size = input});
}

std::shared_ptr<RecurrentLayer> MakeLayer(const std::string& mode, int hidden, RNNLayerOptions o) {
  if (mode == "lstm") return std::make_shared<LSTM>(hidden, o);
  if (mode == "gru") return std::make_shared<GRU>(hidden, o);
  o.activation = mode.substr(4);
  return std::make_shared<RNN>(hidden, o);
}

void CopyWeights(const RecurrentLayer& layer, int l, char d, const GatedCell& cell) {
  cell.i2h_weight()->SetData(layer.param(l, d, "i2h_weight")->data());
  cell.h2h_weight()->SetData(layer.param(l, d, "h2h_weight")->data());
  cell.i2h_bias()->SetData(layer.param(l, d, "i2h_bias")->data());
  cell.h2h_bias()->SetData(layer.param(l, d, "h2h_bias")->data());
}

// MXNet's documented equivalence: a fused layer computes what its cells unrolled compute.
TEST(GluonRnnLayer, MatchesUnrolledCells) {
  const int hidden = 3, layers = 2, batch = 2, steps = 4, input = 5;
  for (const std::string mode : {"rnn_relu", "rnn_tanh", "lstm", "gru"}) {
    for (const bool bidirectional : {false, true}) {
      SCOPED_TRACE(mode + (bidirectional ? " bidirectional" : ""));
      auto layer = MakeLayer(mode, hidden,
                             {.num_layers = layers,
                              .layout = "NTC",
                              .bidirectional = bidirectional,
                              .input_size = input});
      layer->Initialize(std::make_shared<init::Uniform>(0.5));
      const int dirs = bidirectional ? 2 : 1;
      const size_t per = mode == "lstm" ? 2 : 1;
      SequentialRNNCell stack;
      // The layer's states are (layers * dirs, batch, hidden); the cells take one (batch,
      // hidden) array per layer, direction and kind, layer-major.
      std::vector<std::vector<double>> h(per);
      std::vector<NDArray> cell_states;
      for (int l = 0; l < layers; ++l) {
        std::vector<std::shared_ptr<GatedCell>> cells;
        for (int d = 0; d < dirs; ++d) {
          cells.push_back(MakeCell(mode, hidden, l == 0 ? input : hidden * dirs));
          cells.back()->Initialize();
          CopyWeights(*layer, l, d ? 'r' : 'l', *cells.back());
          for (size_t k = 0; k < per; ++k) {
            auto v = Random(batch * hidden, 100 + l * 10 + d * 2 + k);
            h[k].insert(h[k].end(), v.begin(), v.end());
            cell_states.push_back(Array(v, {batch, hidden}));
          }
        }
        if (bidirectional)
          stack.Add(std::make_shared<BidirectionalCell>(cells[0], cells[1]));
        else
          stack.Add(cells[0]);
      }
      const NDArray x = RandomArray({batch, steps, input}, 7);
      std::vector<NDArray> in{x};
      for (const auto& v : h)
        in.push_back(Array(v, {layers * dirs, batch, hidden}));
      const std::vector<NDArray> fused = (*layer)(in);
      const UnrollResult unrolled = stack.Unroll(steps, {x}, cell_states, "NTC", true);
      ASSERT_EQ(unrolled.outputs.size(), 1u);
      EXPECT_EQ(fused[0].shape(), unrolled.outputs[0].shape());
      ExpectNear(Values(fused[0]), Values(unrolled.outputs[0]), 1e-5);
      for (size_t k = 0; k < per; ++k) {
        std::vector<double> want;
        for (size_t i = k; i < unrolled.states.size(); i += per) {
          const auto v = Values(unrolled.states[i]);
          want.insert(want.end(), v.begin(), v.end());
        }
        ExpectNear(Values(fused[1 + k]), want, 1e-5);
      }
    }
  }
}

double Sigmoid(double v) {
  return 1 / (1 + std::exp(-v));
}

/*! \brief Row r of W x + b (W rows x cols, row-major). */
double Affine(const std::vector<double>& w, const std::vector<double>& b,
              const std::vector<double>& x, size_t r) {
  double s = b[r];
  for (size_t c = 0; c < x.size(); ++c)
    s += w[r * x.size() + c] * x[c];
  return s;
}

struct StepWeights {
  std::vector<double> wx, wh, bx, bh;
};

StepWeights SetRandomWeights(GatedCell& cell, size_t rows, size_t input, size_t hidden) {
  StepWeights w{Random(rows * input, 11), Random(rows * hidden, 12), Random(rows, 13),
                Random(rows, 14)};
  const auto r = static_cast<int64_t>(rows);
  cell.i2h_weight()->SetData(Array(w.wx, {r, static_cast<int64_t>(input)}));
  cell.h2h_weight()->SetData(Array(w.wh, {r, static_cast<int64_t>(hidden)}));
  cell.i2h_bias()->SetData(Array(w.bx, {r}));
  cell.h2h_bias()->SetData(Array(w.bh, {r}));
  return w;
}

// One step of the gate formulas, written out (batch 1): LSTM gates i, f, g, o.
TEST(GluonRnnCell, LSTMStepByHand) {
  const size_t input = 3, hidden = 2;
  LSTMCell cell(hidden, {.input_size = static_cast<int64_t>(input)});
  cell.Initialize();
  const StepWeights w = SetRandomWeights(cell, 4 * hidden, input, hidden);
  const std::vector<double> x = Random(input, 21), h = Random(hidden, 22), c = Random(hidden, 23);
  const auto out = cell({Array(x, {1, 3}), Array(h, {1, 2}), Array(c, {1, 2})});
  std::vector<double> want_h(hidden), want_c(hidden);
  for (size_t j = 0; j < hidden; ++j) {
    auto gate = [&](size_t g) {
      return Affine(w.wx, w.bx, x, g * hidden + j) + Affine(w.wh, w.bh, h, g * hidden + j);
    };
    const double i = Sigmoid(gate(0)), f = Sigmoid(gate(1)), g = std::tanh(gate(2)),
                 o = Sigmoid(gate(3));
    want_c[j] = f * c[j] + i * g;
    want_h[j] = o * std::tanh(want_c[j]);
  }
  ASSERT_EQ(out.size(), 3u);
  ExpectNear(Values(out[0]), want_h, 1e-6);
  ExpectNear(Values(out[1]), want_h, 1e-6);
  ExpectNear(Values(out[2]), want_c, 1e-6);
}

// GRU gates r, z, n with n = tanh(W_n x + b_n + r * (U_n h + c_n)), h' = (1 - z) n + z h.
TEST(GluonRnnCell, GRUStepByHand) {
  const size_t input = 3, hidden = 2;
  GRUCell cell(hidden, {.input_size = static_cast<int64_t>(input)});
  cell.Initialize();
  const StepWeights w = SetRandomWeights(cell, 3 * hidden, input, hidden);
  const std::vector<double> x = Random(input, 31), h = Random(hidden, 32);
  const auto out = cell({Array(x, {1, 3}), Array(h, {1, 2})});
  std::vector<double> want(hidden);
  for (size_t j = 0; j < hidden; ++j) {
    auto ix = [&](size_t g) { return Affine(w.wx, w.bx, x, g * hidden + j); };
    auto hh = [&](size_t g) { return Affine(w.wh, w.bh, h, g * hidden + j); };
    const double r = Sigmoid(ix(0) + hh(0)), z = Sigmoid(ix(1) + hh(1));
    const double n = std::tanh(ix(2) + r * hh(2));
    want[j] = (1 - z) * n + z * h[j];
  }
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(Values(out[0]), want, 1e-6);
  ExpectNear(Values(out[1]), want, 1e-6);
  // The same step through the fused layer with the same weights.
  GRU layer(hidden, {.input_size = static_cast<int64_t>(input)});
  layer.Initialize();
  layer.param(0, 'l', "i2h_weight")->SetData(cell.i2h_weight()->data());
  layer.param(0, 'l', "h2h_weight")->SetData(cell.h2h_weight()->data());
  layer.param(0, 'l', "i2h_bias")->SetData(cell.i2h_bias()->data());
  layer.param(0, 'l', "h2h_bias")->SetData(cell.h2h_bias()->data());
  const auto fused = layer({Array(x, {1, 1, 3}), Array(h, {1, 1, 2})});
  ExpectNear(Values(fused[0]), want, 1e-6);
}

// ---- unroll ----

TEST(GluonRnnCell, UnrollFormsAndLayouts) {
  auto cell = std::make_shared<GRUCell>(3);
  cell->Initialize(std::make_shared<init::Uniform>(0.5));
  const NDArray x = RandomArray({2, 4, 5}, 41);  // NTC
  // merge_outputs unset: per step (MXNet's default for a cell), merged when asked.
  EXPECT_EQ(Shapes(cell->Unroll(4, {x}).outputs), std::vector<Shape>(4, Shape{2, 3}));
  const UnrollResult merged = cell->Unroll(4, {x}, {}, "NTC", true);
  ASSERT_EQ(merged.outputs.size(), 1u);
  EXPECT_EQ(merged.outputs[0].shape(), (Shape{2, 4, 3}));
  const UnrollResult split = cell->Unroll(4, {x}, {}, "NTC", false);
  ASSERT_EQ(split.outputs.size(), 4u);
  EXPECT_EQ(split.outputs[3].shape(), (Shape{2, 3}));
  ExpectNear(Values(split.outputs[3]), Values(merged.states[0]), 1e-6);
  // TNC input of the same sequence, and per-step input.
  const NDArray xt = op::Invoke("SwapAxis", {x}, {{"dim1", "0"}, {"dim2", "1"}})[0];
  const UnrollResult tnc = cell->Unroll(4, {xt}, {}, "TNC", true);
  EXPECT_EQ(tnc.outputs[0].shape(), (Shape{4, 2, 3}));
  ExpectNear(Values(tnc.states[0]), Values(merged.states[0]), 1e-6);
  const std::vector<NDArray> steps = op::Invoke(
      "SliceChannel", {x}, {{"num_outputs", "4"}, {"axis", "1"}, {"squeeze_axis", "True"}});
  const UnrollResult from_steps = cell->Unroll(4, steps, {}, "NTC", true);
  ExpectNear(Values(from_steps.outputs[0]), Values(merged.outputs[0]), 1e-6);
  EXPECT_ERROR(cell->Unroll(3, {x}), ValueError, "length 3", "(2, 4, 5)");
}

/*! \brief Sequence `n` of x (N, T, C) cut to its first `len` steps, as (1, len, C). */
NDArray Prefix(const NDArray& x, int64_t n, int64_t len) {
  const auto v = Values(x);
  const int64_t t = x.shape()[1], c = x.shape()[2];
  std::vector<double> out(v.begin() + n * t * c, v.begin() + n * t * c + len * c);
  return Array(out, {1, len, c});
}

/*! \brief Row `n` of a (N, ...) array. */
std::vector<double> Row(const NDArray& a, int64_t n) {
  const auto v = Values(a);
  const int64_t per = a.Size() / a.shape()[0];
  return {v.begin() + n * per, v.begin() + (n + 1) * per};
}

// With valid_length each sequence is unrolled as if cut to its length: outputs past it are
// zero and the states are those after its last step (for bidirectional, the reverse
// direction starts at the last valid step).
TEST(GluonRnnCell, UnrollValidLength) {
  const int64_t t = 4, c = 3, hidden = 2;
  const NDArray x = RandomArray({2, t, c}, 51);
  const NDArray valid = NDArray::FromVector<float>({2, 4}, {2});
  auto lstm = std::make_shared<LSTMCell>(hidden);
  auto bi = std::make_shared<BidirectionalCell>(std::make_shared<LSTMCell>(hidden),
                                                std::make_shared<GRUCell>(hidden));
  auto residual = std::make_shared<ResidualCell>(std::make_shared<GRUCell>(c));
  for (const std::shared_ptr<RecurrentCell>& cell :
       std::vector<std::shared_ptr<RecurrentCell>>{lstm, bi, residual}) {
    SCOPED_TRACE(cell->Repr());
    cell->Initialize(std::make_shared<init::Uniform>(0.5));
    const UnrollResult r = cell->Unroll(t, {x}, {}, "NTC", true, valid);
    const int64_t width = r.outputs[0].shape()[2];
    for (int64_t n = 0; n < 2; ++n) {
      const int64_t len = n == 0 ? 2 : 4;
      const UnrollResult alone = cell->Unroll(len, {Prefix(x, n, len)}, {}, "NTC", true);
      std::vector<double> want = Values(alone.outputs[0]);
      want.resize(static_cast<size_t>(t * width), 0.0);
      ExpectNear(Row(r.outputs[0], n), want, 1e-5);
      for (size_t s = 0; s < r.states.size(); ++s)
        ExpectNear(Row(r.states[s], n), Values(alone.states[s]), 1e-5);
    }
  }
}

TEST(GluonRnnCell, SequentialStepsAndUnrolls) {
  auto seq = std::make_shared<SequentialRNNCell>();
  {
    BlockScope scope(seq.get());
    seq->Add(std::make_shared<LSTMCell>(3));
    seq->Add(std::make_shared<DropoutCell>(0.5));
    seq->Add(std::make_shared<GRUCell>(2));
  }
  seq->Initialize(std::make_shared<init::Uniform>(0.5));
  EXPECT_EQ(seq->num_states(), 3u);
  EXPECT_EQ(seq->StateInfo(4)[2].shape, (Shape{4, 2}));
  const NDArray x = RandomArray({2, 3, 4}, 61);
  const UnrollResult r = seq->Unroll(3, {x}, {}, "NTC", false);
  ASSERT_EQ(r.outputs.size(), 3u);
  // Stepping by hand gives the same (dropout is off outside training).
  std::vector<NDArray> states = seq->BeginState(2);
  const std::vector<NDArray> steps = op::Invoke(
      "SliceChannel", {x}, {{"num_outputs", "3"}, {"axis", "1"}, {"squeeze_axis", "True"}});
  for (size_t i = 0; i < 3; ++i) {
    std::vector<NDArray> in{steps[i]};
    in.insert(in.end(), states.begin(), states.end());
    const auto out = (*seq)(in);
    ExpectNear(Values(out[0]), Values(r.outputs[i]), 1e-6);
    states.assign(out.begin() + 1, out.end());
  }
  ExpectArraysNear(states, r.states, 1e-6);
}

TEST(GluonRnnCell, ModifierCells) {
  auto base = std::make_shared<GRUCell>(3);
  auto residual = std::make_shared<ResidualCell>(base);
  residual->Initialize(std::make_shared<init::Uniform>(0.5));
  const NDArray x = RandomArray({2, 3}, 71), h = RandomArray({2, 3}, 72);
  const auto out = (*residual)({x, h});
  const auto plain = (*base)({x, h});
  std::vector<double> want = Values(plain[0]);
  const auto xv = Values(x);
  for (size_t i = 0; i < want.size(); ++i)
    want[i] += xv[i];
  ExpectNear(Values(out[0]), want, 1e-6);
  ExpectNear(Values(out[1]), Values(plain[1]), 1e-6);  // the state is the base cell's
  EXPECT_ERROR(base->BeginState(2), ValueError, "modifier");
  EXPECT_EQ(residual->BeginState(2).size(), 1u);
  EXPECT_ERROR(ZoneoutCell twice(base), ValueError, "already modified");

  // Zoneout is the identity outside training; in training each element of the output is the
  // new output or the previous one, and of each state the new state or the old one.
  auto zoneout = std::make_shared<ZoneoutCell>(std::make_shared<LSTMCell>(50), 0.5, 0.5);
  zoneout->Initialize(std::make_shared<init::Uniform>(0.5));
  auto lstm = std::dynamic_pointer_cast<LSTMCell>(zoneout->base_cell());
  const NDArray x2 = RandomArray({4, 6}, 73);
  std::vector<NDArray> s0{RandomArray({4, 50}, 74), RandomArray({4, 50}, 75)};
  const auto base_out = (*lstm)({x2, s0[0], s0[1]});
  ExpectArraysNear((*zoneout)({x2, s0[0], s0[1]}), base_out, 0);
  zoneout->Reset();
  autograd::TrainingScope train(true);
  const auto z = (*zoneout)({x2, s0[0], s0[1]});
  const auto new_h = Values(base_out[0]), got = Values(z[0]), got_c = Values(z[2]);
  const auto new_c = Values(base_out[2]), old_c = Values(s0[1]);
  size_t kept = 0, kept_c = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i] == new_h[i] || got[i] == 0) << i;  // the first previous output is 0
    EXPECT_TRUE(got_c[i] == new_c[i] || got_c[i] == old_c[i]) << i;
    kept += got[i] != new_h[i];
    kept_c += got_c[i] != new_c[i];
  }
  EXPECT_GT(kept, 40u);  // ~100 of 200 expected
  EXPECT_LT(kept, 160u);
  EXPECT_GT(kept_c, 40u);
  EXPECT_LT(kept_c, 160u);
}

TEST(GluonRnnCell, DropoutCellAndErrors) {
  DropoutCell dropout(0.5);
  EXPECT_TRUE(dropout.StateInfo(3).empty());
  const NDArray x = NDArray::Ones({2, 5, 40});
  {
    autograd::TrainingScope train(true);
    const UnrollResult r = dropout.Unroll(5, {x}, {}, "NTC", true);
    ASSERT_EQ(r.outputs.size(), 1u);
    for (double v : Values(r.outputs[0]))
      EXPECT_TRUE(v == 0 || v == 2) << v;
  }
  ExpectNear(Values(dropout.Unroll(5, {x}).outputs[0]), Values(x), 0);

  BidirectionalCell bi(std::make_shared<RNNCell>(2), std::make_shared<RNNCell>(2));
  bi.Initialize();
  EXPECT_ERROR(bi({NDArray::Zeros({1, 2}), NDArray::Zeros({1, 2}), NDArray::Zeros({1, 2})}),
               NotImplementedError, "cannot be stepped");
  EXPECT_ERROR(ZoneoutCell(std::make_shared<BidirectionalCell>(std::make_shared<RNNCell>(2),
                                                               std::make_shared<RNNCell>(2))),
               ValueError, "zoneout");
  LSTMCell lstm(2);
  lstm.Initialize();
  EXPECT_ERROR(lstm({NDArray::Zeros({1, 2}), NDArray::Zeros({1, 2})}), ValueError, "2 state",
               "got 2");
  EXPECT_ERROR(lstm.Unroll(2, {NDArray::Zeros({1, 2, 3})}, {}, "TCN"), ValueError, "layout");
}

// ---- hybridized against eager ----

/*! \brief Runs `cell`'s Unroll inside a HybridBlock: inputs {x[, valid_length], states...}. */
class UnrollNet : public HybridBlock {
 public:
  UnrollNet(std::shared_ptr<RecurrentCell> cell, int64_t length, std::string layout,
            bool with_valid_length)
      : HybridBlock("unrollnet"),
        cell_(RegisterChild(std::move(cell), "cell")),
        length_(length),
        layout_(std::move(layout)),
        with_valid_length_(with_valid_length) {}
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& in) override {
    size_t k = 1;
    const NDArray valid = with_valid_length_ ? in[k++] : NDArray();
    UnrollResult r = cell_->Unroll(length_, {in[0]}, {in.begin() + static_cast<long>(k), in.end()},
                                   layout_, true, valid);
    r.outputs.insert(r.outputs.end(), r.states.begin(), r.states.end());
    return r.outputs;
  }

 private:
  std::shared_ptr<RecurrentCell> cell_;
  int64_t length_;
  std::string layout_;
  bool with_valid_length_;
};

TEST(GluonRnnHybrid, LayersMatchEager) {
  for (const std::string mode : {"rnn_relu", "rnn_tanh", "lstm", "gru"}) {
    SCOPED_TRACE(mode);
    auto layer = MakeLayer(mode, 3, {.num_layers = 2, .layout = "NTC", .bidirectional = true});
    layer->Initialize(std::make_shared<init::Uniform>(0.5));
    const NDArray x = RandomArray({2, 3, 4}, 81);
    test::ExpectHybridMatchesEager(*layer, {x});
    std::vector<NDArray> in{x};
    for (const auto& s : layer->StateInfo(2))
      in.push_back(RandomArray(s.shape, 82 + in.size()));
    test::ExpectHybridMatchesEager(*layer, in);
  }
}

std::vector<NDArray> StepInputs(RecurrentCell& cell, int64_t batch, int64_t input, uint64_t seed) {
  std::vector<NDArray> in{RandomArray({batch, input}, seed)};
  for (const auto& s : cell.StateInfo(batch))
    in.push_back(RandomArray(s.shape, seed + in.size()));
  return in;
}

std::vector<std::shared_ptr<RecurrentCell>> SampleCells() {
  auto seq = std::make_shared<SequentialRNNCell>();
  seq->Add(std::make_shared<LSTMCell>(3));
  seq->Add(std::make_shared<DropoutCell>(0.5));
  seq->Add(std::make_shared<ResidualCell>(std::make_shared<GRUCell>(3)));
  return {std::make_shared<RNNCell>(3),
          std::make_shared<RNNCell>(3, CellOptions{.activation = "relu"}),
          std::make_shared<LSTMCell>(3),
          std::make_shared<GRUCell>(3),
          seq,
          std::make_shared<ResidualCell>(std::make_shared<LSTMCell>(4)),
          std::make_shared<ZoneoutCell>(std::make_shared<GRUCell>(3), 0.3, 0.3),
          std::make_shared<DropoutCell>(0.5)};
}

// Zoneout and dropout draw masks, so those run in predict mode (train = false).
TEST(GluonRnnHybrid, CellStepsMatchEager) {
  for (const auto& cell : SampleCells()) {
    SCOPED_TRACE(cell->Repr());
    cell->Initialize(std::make_shared<init::Uniform>(0.5));
    test::ExpectHybridMatchesEager(*cell, StepInputs(*cell, 2, 4, 91), {.train = false});
  }
  auto lstm = std::make_shared<LSTMCell>(3);
  lstm->Initialize(std::make_shared<init::Uniform>(0.5));
  test::ExpectHybridMatchesEager(*lstm, StepInputs(*lstm, 2, 4, 92));
}

TEST(GluonRnnHybrid, UnrollsMatchEager) {
  auto cells = SampleCells();
  cells.push_back(std::make_shared<BidirectionalCell>(std::make_shared<LSTMCell>(3),
                                                      std::make_shared<GRUCell>(3)));
  const NDArray x = RandomArray({2, 3, 4}, 101);
  const NDArray valid = NDArray::FromVector<float>({3, 2}, {2});
  for (const auto& cell : cells) {
    SCOPED_TRACE(cell->Repr());
    cell->Initialize(std::make_shared<init::Uniform>(0.5));
    for (const bool with_valid : {false, true}) {
      UnrollNet net(cell, 3, "NTC", with_valid);
      std::vector<NDArray> in{x};
      if (with_valid) in.push_back(valid);
      for (const auto& s : cell->StateInfo(2))
        in.push_back(RandomArray(s.shape, 102 + in.size()));
      test::ExpectHybridMatchesEager(net, in, {.train = false});
    }
  }
  // TNC, and an initial state given.
  auto residual = std::make_shared<ResidualCell>(std::make_shared<GRUCell>(4));
  residual->Initialize(std::make_shared<init::Uniform>(0.5));
  UnrollNet net(residual, 3, "TNC", false);
  test::ExpectHybridMatchesEager(net, {RandomArray({3, 2, 4}, 103), RandomArray({2, 4}, 104)});
}

}  // namespace
}  // namespace mixnet::gluon::rnn
