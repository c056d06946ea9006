// RNN (MXNet 1.x's fused recurrent layer): a stack of vanilla RNN (relu or tanh), LSTM or GRU
// layers, optionally bidirectional, over a (seq_len, batch, input) sequence, with every weight
// and bias in one flat `parameters` vector.
//
// NOTE [ RNN parameter packing ]
// MXNet 1.x's order (cuDNN's canonical one): first every weight matrix, layer-major then
// direction, each layer/direction holding W_i2h (G*H x input) then W_h2h (G*H x H); then every
// bias in the same order, b_i2h (G*H) then b_h2h (G*H). Gate blocks within the G*H rows: LSTM
// i, f, g, o; GRU r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and
// h' = (1 - z) * n + z * h. The reverse direction reads the sequence from its last step, writes
// the second half of each output row, and its final state is the one after step 0.
//
// The backward (_rnn_backward) recomputes the forward, keeping the gates, then runs
// backpropagation through time; per layer and direction the input projections and the weight
// gradients of all steps are single GEMMs, only the recurrence goes step by step.
//
// NOTE [ RNN dropout masks ]
// With p > 0 and several layers, dropout applies to each layer's output but the last. The
// forward writes the masks it applies (0 or 1/(1-p) while training, ones otherwise) to a hidden
// last output, dropout_mask (layers-1, seq_len, batch, D*H), as Dropout hides its mask; the
// backward reads them, to recompute the forward and to scale the gradient between layers. Without
// dropout the hidden output is empty (0,) and the backward takes no mask.
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <type_traits>
#include <vector>

#include "operator/linalg/gemm.h"
#include "operator/simd/kernels.h"

namespace mixnet::op {
namespace {

enum RnnMode { kRnnRelu = 0, kRnnTanh, kLstm, kGru };

struct RNNParam {
  int state_size = 0;
  int num_layers = 0;
  bool bidirectional = false;
  int mode = 0;
  double p = 0;
  bool state_outputs = false;
  std::optional<int> projection_size;
  std::optional<double> lstm_state_clip_min;
  std::optional<double> lstm_state_clip_max;
  bool lstm_state_clip_nan = false;
  bool use_sequence_length = false;
  static void Declare(ParamDecl<RNNParam>& d) {
    d.Field("state_size", &RNNParam::state_size).Lower(1).Doc("size of the state for each layer");
    d.Field("num_layers", &RNNParam::num_layers).Lower(1).Doc("number of stacked layers");
    d.Field("bidirectional", &RNNParam::bidirectional)
        .Default(false)
        .Doc("whether to use bidirectional recurrent layers");
    d.Field("mode", &RNNParam::mode)
        .Enum({"rnn_relu", "rnn_tanh", "lstm", "gru"})
        .Doc("the type of RNN to compute");
    d.Field("p", &RNNParam::p)
        .Default(0.0)
        .Range(0.0, 1.0)
        .Doc("drop rate of the dropout on the outputs of each RNN layer, except the last layer.");
    d.Field("state_outputs", &RNNParam::state_outputs)
        .Default(false)
        .Doc("Whether to have the states as symbol outputs.");
    d.Field("projection_size", &RNNParam::projection_size)
        .Default(std::nullopt)
        .Doc("size of project size (not supported: must be None)");
    d.Field("lstm_state_clip_min", &RNNParam::lstm_state_clip_min)
        .Default(std::nullopt)
        .Doc(
            "Minimum clip value of LSTM states. This option must be used together with "
            "lstm_state_clip_max.");
    d.Field("lstm_state_clip_max", &RNNParam::lstm_state_clip_max)
        .Default(std::nullopt)
        .Doc(
            "Maximum clip value of LSTM states. This option must be used together with "
            "lstm_state_clip_min.");
    d.Field("lstm_state_clip_nan", &RNNParam::lstm_state_clip_nan)
        .Default(false)
        .Doc(
            "Whether to stop NaN from propagating in state by clipping it to min/max. If clipping "
            "range is not specified, this option is ignored.");
    d.Field("use_sequence_length", &RNNParam::use_sequence_length)
        .Default(false)
        .Doc(
            "If set to true, this layer takes in an extra input parameter `sequence_length` to "
            "specify variable length sequence (not supported: must be False).");
  }
};

/*! \brief Sizes of one call: steps, batch, input, state, layers, directions, gates. */
struct RnnDims {
  int64_t steps, batch, input, hidden, layers, dirs, gates;

  int64_t InputSize(int64_t l) const { return l == 0 ? input : dirs * hidden; }
  int64_t GateRows() const { return gates * hidden; }
  /*! \brief Start of W_i2h of layer l, direction d (W_h2h follows it). */
  int64_t WeightOffset(int64_t l, int64_t d) const {
    int64_t off = 0;
    for (int64_t i = 0; i < l; ++i)
      off += dirs * GateRows() * (InputSize(i) + hidden);
    return off + d * GateRows() * (InputSize(l) + hidden);
  }
  /*! \brief Start of b_i2h of layer l, direction d (b_h2h follows it). */
  int64_t BiasOffset(int64_t l, int64_t d) const {
    return WeightOffset(layers, 0) + (l * dirs + d) * 2 * GateRows();
  }
  int64_t ParamCount() const { return BiasOffset(layers, 0); }
  int64_t StateSize() const { return batch * hidden; }
};

int64_t GateCount(int mode) {
  switch (mode) {
    case kLstm:
      return 4;
    case kGru:
      return 3;
    default:
      return 1;
  }
}

RnnDims MakeDims(const RNNParam& p, const Shape& data) {
  return RnnDims{data[0],          data[1],      data[2],
                 p.state_size,     p.num_layers, p.bidirectional ? 2 : 1,
                 GateCount(p.mode)};
}

bool IsLstm(const Attrs& attrs) {
  return attrs.param<RNNParam>().mode == kLstm;
}

/*! \brief Whether dropout applies between layers (in training), so masks are kept. */
bool HasDropout(const RNNParam& p) {
  return p.p > 0 && p.num_layers > 1;
}

/*! \brief Rejects what the op does not implement; shape inference calls it first. */
void CheckSupported(const Attrs& attrs) {
  const auto& p = attrs.param<RNNParam>();
  MX_CHECK(!p.projection_size, NotImplementedError)
      << attrs.op->name << ": argument 'projection_size' (LSTM projection) is not supported";
  MX_CHECK(!p.use_sequence_length, NotImplementedError)
      << attrs.op->name
      << ": argument 'use_sequence_length' (variable-length sequences) is not supported";
  MX_CHECK(p.lstm_state_clip_min.has_value() == p.lstm_state_clip_max.has_value(), ValueError)
      << attrs.op->name << ": lstm_state_clip_min and lstm_state_clip_max must be given together";
  MX_CHECK(!p.lstm_state_clip_min || *p.lstm_state_clip_min <= *p.lstm_state_clip_max, ValueError)
      << attrs.op->name << ": lstm_state_clip_min " << *p.lstm_state_clip_min
      << " exceeds lstm_state_clip_max " << *p.lstm_state_clip_max;
}

/*! \brief The LSTM cell state as the next step sees it. */
double ClipCell(const RNNParam& p, double c) {
  if (!p.lstm_state_clip_min) return c;
  if (std::isnan(c)) return p.lstm_state_clip_nan ? *p.lstm_state_clip_min : c;
  return std::clamp(c, *p.lstm_state_clip_min, *p.lstm_state_clip_max);
}

/*! \brief Whether the clip passes gradient through (the unclipped cell is inside the range). */
bool ClipPasses(const RNNParam& p, double c) {
  return !p.lstm_state_clip_min || (c > *p.lstm_state_clip_min && c < *p.lstm_state_clip_max);
}

double Sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

template <typename T>
double Ld(T v) {
  return static_cast<double>(ComputeType<T>(v));
}
template <typename T>
T Cast(double v) {
  return T(static_cast<ComputeType<T>>(v));
}

/*!
 * \brief An uninitialised array from the call's temp space: pooled blocks, so the large
 * per-call buffers cost neither page faults nor a memset.
 */
template <typename T>
class Buf {
 public:
  Buf() = default;
  Buf(TempSpace& temp, size_t n)
      : p_(n ? temp.Alloc<T>(static_cast<int64_t>(n)) : nullptr), n_(n) {}
  T* data() const { return p_; }
  T* begin() const { return p_; }
  T* end() const { return p_ + n_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) const { return p_[i]; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

/*! \brief What the backward needs of one layer and direction, indexed by time. */
template <typename T>
struct DirTrace {
  Buf<T> gates;  // (steps, batch, G*H) after their activations (vanilla RNN: h)
  Buf<T> hprev;  // (steps, batch, H): the state the step started from
  Buf<T> cprev;  // LSTM: the (clipped) cell the step started from
  Buf<T> craw;   // LSTM: the cell before clipping
  Buf<T> tc;     // LSTM, fast path: tanh of the (clipped) cell
  Buf<T> hn;     // GRU: W_hn h + b_hn
};

template <typename T>
struct Trace {
  std::vector<Buf<T>> inputs;     // inputs[l] for l >= 1 (after dropout)
  std::vector<DirTrace<T>> dirs;  // [l * dirs + d]
  Buf<T> out;                     // the last layer's output (steps, batch, dirs * H)
  Buf<T> hy, cy;                  // (layers * dirs, batch, H)
};

// NOTE [ RNN fast path ]
// The blas kernel on float32 runs the gate math in float with the SIMD sigmoid/tanh of
// simd/vec_math.h (as MXNet's and oneDNN's RNNs compute in float), adds the two bias vectors
// once to the whole input projection, accumulates the recurrent GEMM straight into the gates
// (GRU keeps its W_hn h + b_hn apart), and keeps tanh(c) for the backward. The reference
// kernel keeps the double element math and is the oracle the fast path is tested against.
template <bool kBlas, typename T>
constexpr bool kFastPath = kBlas&& std::is_same_v<T, float>;

/*! \brief y = f(x) over n floats with the widest SIMD build (x == y allowed). */
void Act(simd::UnaryOp op, const float* x, float* y, int64_t n) {
  simd::Best().f32.unary(op, x, y, n, false);
}

/*! \brief The steps of one layer and direction; tr->gates holds the input projection. */
void FastForwardSteps(TempSpace& temp, const RnnDims& dm, const RNNParam& p, int64_t d,
                      const float* bx, const float* bh, const float* wh, const float* h0,
                      const float* c0, DirTrace<float>* tr, float* y, float* hlast, float* clast) {
  const int64_t steps = dm.steps, batch = dm.batch, hid = dm.hidden, gh = dm.GateRows();
  const int64_t yw = dm.dirs * hid;
  const bool lstm = p.mode == kLstm, gru = p.mode == kGru;
  const bool clip = p.lstm_state_clip_min.has_value();
  const float lo = clip ? static_cast<float>(*p.lstm_state_clip_min) : 0.f;
  const float hi = clip ? static_cast<float>(*p.lstm_state_clip_max) : 0.f;
  // b_i2h + b_h2h once for every row; GRU's n gate takes b_hn inside r * (...).
  std::vector<float> bias(static_cast<size_t>(gh));
  for (int64_t k = 0; k < gh; ++k)
    bias[k] = bx[k] + (gru && k >= 2 * hid ? 0.f : bh[k]);
  float* gates = tr->gates.data();
  for (int64_t r = 0; r < steps * batch; ++r)
    for (int64_t k = 0; k < gh; ++k)
      gates[r * gh + k] += bias[k];
  if (lstm) tr->tc = Buf<float>(temp, tr->craw.size());
  std::vector<float> h(h0, h0 + dm.StateSize()), hproj(gru ? static_cast<size_t>(batch * gh) : 0);
  std::vector<float> c;
  if (lstm) c.assign(c0, c0 + dm.StateSize());
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = d ? steps - 1 - s : s;
    const int64_t cell0 = t * batch * hid;
    float* gt = gates + t * batch * gh;
    std::copy(h.begin(), h.end(), tr->hprev.begin() + cell0);
    if (lstm) std::copy(c.begin(), c.end(), tr->cprev.begin() + cell0);
    if (gru) {
      Gemm<true>(false, true, batch, gh, hid, 1.0, h.data(), hid, wh, hid, 0.0, hproj.data(), gh);
    } else {
      Gemm<true>(false, true, batch, gh, hid, 1.0, h.data(), hid, wh, hid, 1.0, gt, gh);
    }
    for (int64_t b = 0; b < batch; ++b) {
      float* g = gt + b * gh;
      float* hb = h.data() + b * hid;
      float* yb = y + (t * batch + b) * yw + d * hid;
      const int64_t cell = cell0 + b * hid;
      if (lstm) {
        Act(simd::UnaryOp::kSigmoid, g, g, 2 * hid);  // i, f
        Act(simd::UnaryOp::kTanh, g + 2 * hid, g + 2 * hid, hid);
        Act(simd::UnaryOp::kSigmoid, g + 3 * hid, g + 3 * hid, hid);
        float* cb = c.data() + b * hid;
        float* craw = tr->craw.data() + cell;
        for (int64_t j = 0; j < hid; ++j) {
          craw[j] = g[hid + j] * cb[j] + g[j] * g[2 * hid + j];
          cb[j] = craw[j];
        }
        if (clip) {
          for (int64_t j = 0; j < hid; ++j)
            cb[j] = std::isnan(cb[j]) ? (p.lstm_state_clip_nan ? lo : cb[j])
                                      : std::clamp(cb[j], lo, hi);
        }
        float* tc = tr->tc.data() + cell;
        Act(simd::UnaryOp::kTanh, cb, tc, hid);
        for (int64_t j = 0; j < hid; ++j)
          hb[j] = g[3 * hid + j] * tc[j];
      } else if (gru) {
        const float* hp = hproj.data() + b * gh;
        for (int64_t j = 0; j < 2 * hid; ++j)
          g[j] += hp[j];
        Act(simd::UnaryOp::kSigmoid, g, g, 2 * hid);  // r, z
        float* hn = tr->hn.data() + cell;
        for (int64_t j = 0; j < hid; ++j) {
          hn[j] = hp[2 * hid + j] + bh[2 * hid + j];
          g[2 * hid + j] += g[j] * hn[j];
        }
        Act(simd::UnaryOp::kTanh, g + 2 * hid, g + 2 * hid, hid);
        for (int64_t j = 0; j < hid; ++j)
          hb[j] = (1.f - g[hid + j]) * g[2 * hid + j] + g[hid + j] * hb[j];
      } else {
        if (p.mode == kRnnRelu) {
          for (int64_t j = 0; j < hid; ++j)
            g[j] = g[j] > 0.f ? g[j] : 0.f;
        } else {
          Act(simd::UnaryOp::kTanh, g, g, hid);
        }
        std::copy(g, g + hid, hb);
      }
      std::copy(hb, hb + hid, yb);
    }
  }
  std::copy(h.begin(), h.end(), hlast);
  if (lstm) std::copy(c.begin(), c.end(), clast);
}

/*!
 * \brief LSTM gate gradients of one batch row (gx) and the cell gradient (dc, in place), given
 * dh and dy of the row. Instantiated with and without the clip and with restrict pointers, so
 * that the common loop has no branch and vectorises.
 */
template <bool kClip>
void LstmCellGrads(const RNNParam& p, int64_t hid, const float* __restrict g,
                   const float* __restrict tc, const float* __restrict cprev,
                   const float* __restrict craw, const float* __restrict dh,
                   const float* __restrict dy, float* __restrict gx, float* __restrict dc) {
  for (int64_t j = 0; j < hid; ++j) {
    const float i = g[j], f = g[hid + j], gg = g[2 * hid + j], o = g[3 * hid + j];
    const float dht = dh[j] + dy[j];
    float dcr = dc[j] + dht * o * (1.f - tc[j] * tc[j]);
    if constexpr (kClip) dcr = ClipPasses(p, craw[j]) ? dcr : 0.f;
    gx[j] = dcr * gg * i * (1.f - i);
    gx[hid + j] = dcr * cprev[j] * f * (1.f - f);
    gx[2 * hid + j] = dcr * i * (1.f - gg * gg);
    gx[3 * hid + j] = dht * tc[j] * o * (1.f - o);
    dc[j] = dcr * f;
  }
}

/*!
 * \brief One step of backpropagation through time at time t: the gate gradients of the step
 * (dgx input side, dgh recurrent side, the same array but for GRU), then dh (the gradient of
 * the state the step started from) and dc (LSTM) in place.
 */
void FastBackwardStep(const RnnDims& dm, const RNNParam& p, int64_t d, int64_t t,
                      const DirTrace<float>& tr, const float* dy, const float* wh, float* dgx,
                      float* dgh, float* dh, float* dc) {
  const int64_t batch = dm.batch, hid = dm.hidden, gh = dm.GateRows(), yw = dm.dirs * hid;
  const bool gru = p.mode == kGru;
  const bool clip = p.lstm_state_clip_min.has_value();
  const int64_t cell0 = t * batch * hid;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t row = (t * batch + b) * gh, cell = cell0 + b * hid;
    const float* g = tr.gates.data() + row;
    float* gx = dgx + row;
    float* gr = dgh + row;
    float* dhb = dh + b * hid;
    const float* dyb = dy + (t * batch + b) * yw + d * hid;
    if (p.mode == kLstm) {
      const float* tc = tr.tc.data() + cell;
      const float* cprev = tr.cprev.data() + cell;
      const float* craw = tr.craw.data() + cell;
      float* dcb = dc + b * hid;
      if (clip) {
        LstmCellGrads<true>(p, hid, g, tc, cprev, craw, dhb, dyb, gx, dcb);
      } else {
        LstmCellGrads<false>(p, hid, g, tc, cprev, craw, dhb, dyb, gx, dcb);
      }
    } else if (gru) {
      const float* hprev = tr.hprev.data() + cell;
      const float* hn = tr.hn.data() + cell;
      for (int64_t j = 0; j < hid; ++j) {
        const float r = g[j], z = g[hid + j], n = g[2 * hid + j];
        const float dht = dhb[j] + dyb[j];
        const float dn = dht * (1.f - z) * (1.f - n * n);
        const float dr = dn * hn[j] * r * (1.f - r);
        const float dz = dht * (hprev[j] - n) * z * (1.f - z);
        gx[j] = gr[j] = dr;
        gx[hid + j] = gr[hid + j] = dz;
        gx[2 * hid + j] = dn;
        gr[2 * hid + j] = dn * r;
        dhb[j] = dht * z;  // the direct path; the GEMM below adds the gates' part
      }
    } else {
      for (int64_t j = 0; j < hid; ++j) {
        const float dht = dhb[j] + dyb[j], h = g[j];
        gx[j] = p.mode == kRnnRelu ? (h > 0.f ? dht : 0.f) : dht * (1.f - h * h);
      }
    }
  }
  // dh_prev = dgates_h W_h2h (+ GRU's z * dh, already in dh).
  Gemm<true>(false, false, batch, hid, gh, 1.0, dgh + t * batch * gh, gh, wh, hid, gru ? 1.0 : 0.0,
             dh, hid);
}

/*! \brief dw's two bias blocks (at db) += the column sums of dgx and dgh (rows x gh). */
void FastBiasGrad(const float* dgx, const float* dgh, int64_t rows, int64_t gh, float* db) {
  std::vector<double> sx(static_cast<size_t>(gh), 0.0), sh(sx);
  simd::Best().f32.reduce_cols(simd::ReduceOp::kSum, dgx, rows, gh, gh, sx.data());
  simd::Best().f32.reduce_cols(simd::ReduceOp::kSum, dgh, rows, gh, gh, sh.data());
  for (int64_t k = 0; k < gh; ++k) {
    db[k] = static_cast<float>(db[k] + sx[k]);
    db[gh + k] = static_cast<float>(db[gh + k] + sh[k]);
  }
}

/*! \brief One layer and direction: writes its h into columns d*H.. of y (steps, batch, D*H). */
template <bool kBlas, typename T>
void DirForward(TempSpace& temp, const RnnDims& dm, const RNNParam& p, int64_t l, int64_t d,
                const T* x, const T* w, const T* h0, const T* c0, DirTrace<T>* tr, T* y, T* hlast,
                T* clast) {
  const int64_t steps = dm.steps, batch = dm.batch, hid = dm.hidden, gh = dm.GateRows();
  const int64_t in_size = dm.InputSize(l), yw = dm.dirs * hid;
  const T* wx = w + dm.WeightOffset(l, d);
  const T* wh = wx + gh * in_size;
  const T* bx = w + dm.BiasOffset(l, d);
  const T* bh = bx + gh;
  const auto cells = static_cast<size_t>(steps * batch * hid);
  tr->gates = Buf<T>(temp, cells * static_cast<size_t>(dm.gates));
  tr->hprev = Buf<T>(temp, cells);
  if (p.mode == kLstm) {
    tr->cprev = Buf<T>(temp, cells);
    tr->craw = Buf<T>(temp, cells);
  }
  if (p.mode == kGru) tr->hn = Buf<T>(temp, cells);
  // The input projection of every step at once; biases are added in the step.
  Gemm<kBlas>(false, true, steps * batch, gh, in_size, 1.0, x, in_size, wx, in_size, 0.0,
              tr->gates.data(), gh);
  if constexpr (kFastPath<kBlas, T>) {
    FastForwardSteps(temp, dm, p, d, bx, bh, wh, h0, c0, tr, y, hlast, clast);
    return;
  }
  std::vector<T> h(h0, h0 + dm.StateSize()), hproj(static_cast<size_t>(batch * gh));
  std::vector<T> c;
  if (p.mode == kLstm) c.assign(c0, c0 + dm.StateSize());
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = d ? steps - 1 - s : s;
    const int64_t cell0 = t * batch * hid;
    std::copy(h.begin(), h.end(), tr->hprev.begin() + cell0);
    if (p.mode == kLstm) std::copy(c.begin(), c.end(), tr->cprev.begin() + cell0);
    Gemm<kBlas>(false, true, batch, gh, hid, 1.0, h.data(), hid, wh, hid, 0.0, hproj.data(), gh);
    for (int64_t b = 0; b < batch; ++b) {
      T* g = tr->gates.data() + (t * batch + b) * gh;
      const T* hp = hproj.data() + b * gh;
      for (int64_t j = 0; j < hid; ++j) {
        const int64_t cell = b * hid + j;
        // Pre-activation of gate k.
        auto pre = [&](int64_t k) {
          const int64_t r = k * hid + j;
          return Ld(g[r]) + Ld(bx[r]) + Ld(hp[r]) + Ld(bh[r]);
        };
        double hv;
        if (p.mode == kLstm) {
          const double i = Sigmoid(pre(0)), f = Sigmoid(pre(1)), gg = std::tanh(pre(2)),
                       o = Sigmoid(pre(3));
          const double craw = f * Ld(c[cell]) + i * gg;
          const double cc = ClipCell(p, craw);
          hv = o * std::tanh(cc);
          g[j] = Cast<T>(i);
          g[hid + j] = Cast<T>(f);
          g[2 * hid + j] = Cast<T>(gg);
          g[3 * hid + j] = Cast<T>(o);
          tr->craw[cell0 + cell] = Cast<T>(craw);
          c[cell] = Cast<T>(cc);
        } else if (p.mode == kGru) {
          const double r = Sigmoid(pre(0)), z = Sigmoid(pre(1));
          const double hn = Ld(hp[2 * hid + j]) + Ld(bh[2 * hid + j]);
          const double n = std::tanh(Ld(g[2 * hid + j]) + Ld(bx[2 * hid + j]) + r * hn);
          hv = (1 - z) * n + z * Ld(h[cell]);
          g[j] = Cast<T>(r);
          g[hid + j] = Cast<T>(z);
          g[2 * hid + j] = Cast<T>(n);
          tr->hn[cell0 + cell] = Cast<T>(hn);
        } else {
          const double a = pre(0);
          hv = p.mode == kRnnRelu ? std::max(a, 0.0) : std::tanh(a);
          g[j] = Cast<T>(hv);
        }
        h[cell] = Cast<T>(hv);
        y[(t * batch + b) * yw + d * hid + j] = h[cell];
      }
    }
  }
  std::copy(h.begin(), h.end(), hlast);
  if (p.mode == kLstm) std::copy(c.begin(), c.end(), clast);
}

/*! \brief All layers; `masks` (layers-1, steps, batch, D*H) scale each output but the last. */
template <bool kBlas, typename T>
void NetForward(TempSpace& temp, const RnnDims& dm, const RNNParam& p, const T* x, const T* w,
                const T* hx, const T* cx, const T* masks, Trace<T>* tr) {
  const int64_t states = dm.layers * dm.dirs * dm.StateSize();
  tr->hy = Buf<T>(temp, static_cast<size_t>(states));
  if (p.mode == kLstm) tr->cy = Buf<T>(temp, static_cast<size_t>(states));
  tr->inputs.resize(static_cast<size_t>(dm.layers));
  tr->dirs.resize(static_cast<size_t>(dm.layers * dm.dirs));
  const T* in = x;
  for (int64_t l = 0; l < dm.layers; ++l) {
    Buf<T> y(temp, static_cast<size_t>(dm.steps * dm.batch * dm.dirs * dm.hidden));
    for (int64_t d = 0; d < dm.dirs; ++d) {
      const int64_t s = (l * dm.dirs + d) * dm.StateSize();
      DirForward<kBlas>(temp, dm, p, l, d, in, w, hx + s, cx ? cx + s : nullptr,
                        &tr->dirs[static_cast<size_t>(l * dm.dirs + d)], y.data(),
                        tr->hy.data() + s, p.mode == kLstm ? tr->cy.data() + s : nullptr);
    }
    if (l + 1 == dm.layers) {
      tr->out = y;
      break;
    }
    if (masks) {
      const T* m = masks + l * static_cast<int64_t>(y.size());
      for (size_t i = 0; i < y.size(); ++i)
        y[i] = Cast<T>(Ld(y[i]) * Ld(m[i]));
    }
    tr->inputs[static_cast<size_t>(l + 1)] = y;
    in = tr->inputs[static_cast<size_t>(l + 1)].data();
  }
}

template <typename T>
void StoreAll(const Buf<T>& src, const TBlob& dst, OpReq req) {
  if (req == OpReq::kNull) return;
  T* y = dst.data<T>();
  for (size_t i = 0; i < src.size(); ++i)
    Store(y + i, req, src[i]);
}

// in: data, parameters, state [, state_cell]. out: out [, hy [, cy]], dropout_mask (hidden).
template <bool kBlas>
void RnnForward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<RNNParam>();
  const RnnDims dm = MakeDims(p, in[0].shape);
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // The masks are drawn while training only, as MXNet; ones otherwise. NOTE [ RNN dropout
    // masks ]: they are written whatever the request, the backward reads them.
    T* masks = HasDropout(p) ? out.back().data<T>() : nullptr;
    if (masks) {
      const double keep = 1.0 - p.p;
      std::uniform_real_distribution<double> uniform(0.0, 1.0);
      for (int64_t i = 0, n = out.back().Size(); i < n; ++i)
        masks[i] = !ctx.is_train ? T(1) : uniform(*ctx.rng) < keep ? Cast<T>(1 / keep) : T(0);
    }
    Trace<T> tr;
    NetForward<kBlas>(ctx.Temp(), dm, p, in[0].data<T>(), in[1].data<T>(), in[2].data<T>(),
                      p.mode == kLstm ? in[3].data<T>() : nullptr, masks, &tr);
    StoreAll(tr.out, out[0], req[0]);
    if (out.size() > 2) StoreAll(tr.hy, out[1], req[1]);
    if (out.size() > 3) StoreAll(tr.cy, out[2], req[2]);
  });
}

/*!
 * \brief Backpropagation through one layer and direction: dy is the gradient of the layer's
 * output (steps, batch, D*H); accumulates into din (the layer input's gradient) and dw, and
 * writes the initial states' gradients. dhy/dcy may be null (zero).
 */
template <bool kBlas, typename T>
void DirBackward(TempSpace& temp, const RnnDims& dm, const RNNParam& p, int64_t l, int64_t d,
                 const T* x, const T* w, const DirTrace<T>& tr, const T* dy, const T* dhy,
                 const T* dcy, T* din, T* dw, T* dh0, T* dc0) {
  const int64_t steps = dm.steps, batch = dm.batch, hid = dm.hidden, gh = dm.GateRows();
  const int64_t in_size = dm.InputSize(l), yw = dm.dirs * hid;
  const int64_t woff = dm.WeightOffset(l, d), boff = dm.BiasOffset(l, d);
  const T* wx = w + woff;
  const T* wh = wx + gh * in_size;
  const auto rows = static_cast<size_t>(steps * batch * gh);
  // Gradients of the pre-activations on the input side and on the recurrent side; they differ
  // only for GRU's n gate, where the recurrent part is scaled by r.
  Buf<T> dgx(temp, rows), dgh(temp, p.mode == kGru ? rows : 0);
  T* dgh_ptr = p.mode == kGru ? dgh.data() : dgx.data();
  std::vector<T> dh(static_cast<size_t>(dm.StateSize()), T(0)), dc(dh), direct(dh);
  if (dhy) std::copy(dhy, dhy + dm.StateSize(), dh.begin());
  if (dcy && p.mode == kLstm) std::copy(dcy, dcy + dm.StateSize(), dc.begin());
  for (int64_t s = steps - 1; s >= 0; --s) {
    const int64_t t = d ? steps - 1 - s : s;
    const int64_t cell0 = t * batch * hid;
    if constexpr (kFastPath<kBlas, T>) {
      FastBackwardStep(dm, p, d, t, tr, dy, wh, dgx.data(), dgh_ptr, dh.data(), dc.data());
      continue;
    }
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t row = (t * batch + b) * gh;
      const T* g = tr.gates.data() + row;
      T* gx = dgx.data() + row;
      T* gr = dgh_ptr + row;
      for (int64_t j = 0; j < hid; ++j) {
        const int64_t cell = b * hid + j;
        const double dht = Ld(dh[cell]) + Ld(dy[(t * batch + b) * yw + d * hid + j]);
        double dir = 0;
        if (p.mode == kLstm) {
          const double i = Ld(g[j]), f = Ld(g[hid + j]), gg = Ld(g[2 * hid + j]),
                       o = Ld(g[3 * hid + j]);
          const double craw = Ld(tr.craw[cell0 + cell]);
          const double tc = std::tanh(ClipCell(p, craw));
          const double dcc = Ld(dc[cell]) + dht * o * (1 - tc * tc);
          const double dcr = ClipPasses(p, craw) ? dcc : 0.0;
          gx[j] = Cast<T>(dcr * gg * i * (1 - i));
          gx[hid + j] = Cast<T>(dcr * Ld(tr.cprev[cell0 + cell]) * f * (1 - f));
          gx[2 * hid + j] = Cast<T>(dcr * i * (1 - gg * gg));
          gx[3 * hid + j] = Cast<T>(dht * tc * o * (1 - o));
          dc[cell] = Cast<T>(dcr * f);
        } else if (p.mode == kGru) {
          const double r = Ld(g[j]), z = Ld(g[hid + j]), n = Ld(g[2 * hid + j]);
          const double hp = Ld(tr.hprev[cell0 + cell]);
          const double dn = dht * (1 - z) * (1 - n * n);
          const double dr = dn * Ld(tr.hn[cell0 + cell]) * r * (1 - r);
          const double dz = dht * (hp - n) * z * (1 - z);
          gx[j] = gr[j] = Cast<T>(dr);
          gx[hid + j] = gr[hid + j] = Cast<T>(dz);
          gx[2 * hid + j] = Cast<T>(dn);
          gr[2 * hid + j] = Cast<T>(dn * r);
          dir = dht * z;
        } else {
          const double h = Ld(g[j]);
          gx[j] = Cast<T>(p.mode == kRnnRelu ? (h > 0 ? dht : 0.0) : dht * (1 - h * h));
        }
        direct[cell] = Cast<T>(dir);
      }
    }
    // dh_prev = dgates_h W_h2h + the direct path (GRU's z * h).
    Gemm<kBlas>(false, false, batch, hid, gh, 1.0, dgh_ptr + t * batch * gh, gh, wh, hid, 0.0,
                dh.data(), hid);
    for (size_t i = 0; i < dh.size(); ++i)
      dh[i] = Cast<T>(Ld(dh[i]) + Ld(direct[i]));
  }
  std::copy(dh.begin(), dh.end(), dh0);
  if (p.mode == kLstm) std::copy(dc.begin(), dc.end(), dc0);
  const int64_t m = steps * batch;
  Gemm<kBlas>(true, false, gh, in_size, m, 1.0, dgx.data(), gh, x, in_size, 1.0, dw + woff,
              in_size);
  Gemm<kBlas>(true, false, gh, hid, m, 1.0, dgh_ptr, gh, tr.hprev.data(), hid, 1.0,
              dw + woff + gh * in_size, hid);
  Gemm<kBlas>(false, false, m, in_size, gh, 1.0, dgx.data(), gh, wx, in_size, 1.0, din, in_size);
  if constexpr (kFastPath<kBlas, T>) {
    FastBiasGrad(dgx.data(), dgh_ptr, m, gh, dw + boff);
    return;
  }
  for (int64_t k = 0; k < gh; ++k) {
    double sx = 0, sh = 0;
    for (int64_t r = 0; r < m; ++r) {
      sx += Ld(dgx[static_cast<size_t>(r * gh + k)]);
      sh += Ld(dgh_ptr[r * gh + k]);
    }
    dw[boff + k] = Cast<T>(Ld(dw[boff + k]) + sx);
    dw[boff + gh + k] = Cast<T>(Ld(dw[boff + gh + k]) + sh);
  }
}

// in: data, parameters, state, out_grad [, state_cell] [, hy_grad [, cy_grad]]
// [, dropout_mask] (the optional inputs last, so the generated functions can omit them).
// out: data_grad, parameters_grad, state_grad [, state_cell_grad].
template <bool kBlas>
void RnnBackward(const OpContext& ctx, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq> req, std::span<const TBlob> out) {
  const auto& p = attrs.param<RNNParam>();
  const RnnDims dm = MakeDims(p, in[0].shape);
  const bool lstm = p.mode == kLstm;
  const size_t hg = lstm ? 5 : 4;                             // index of hy_grad
  const size_t states = in.size() - (HasDropout(p) ? 1 : 0);  // inputs before the mask
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in[0].data<T>();
    const T* w = in[1].data<T>();
    const T* masks = HasDropout(p) ? in.back().data<T>() : nullptr;
    TempSpace& temp = ctx.Temp();
    Trace<T> tr;
    NetForward<kBlas>(temp, dm, p, x, w, in[2].data<T>(), lstm ? in[4].data<T>() : nullptr, masks,
                      &tr);
    const T* dhy = states > hg ? in[hg].data<T>() : nullptr;
    const T* dcy = states > hg + 1 ? in[hg + 1].data<T>() : nullptr;
    Buf<T> dw(temp, static_cast<size_t>(dm.ParamCount()));
    std::fill(dw.begin(), dw.end(), T(0));
    Buf<T> dhx(temp, tr.hy.size()), dcx(temp, tr.cy.size());
    // dy and din: the gradients of a layer's output and input, swapped from layer to layer.
    const auto widest =
        static_cast<size_t>(dm.steps * dm.batch * std::max(dm.input, dm.dirs * dm.hidden));
    Buf<T> dy_all(temp, widest), din_all(temp, widest);
    std::copy(in[3].data<T>(), in[3].data<T>() + in[3].Size(), dy_all.data());
    Buf<T>* dyp = &dy_all;
    Buf<T>* dinp = &din_all;
    for (int64_t l = dm.layers - 1; l >= 0; --l) {
      const auto in_cells = static_cast<size_t>(dm.steps * dm.batch * dm.InputSize(l));
      std::fill(dinp->begin(), dinp->begin() + in_cells, T(0));
      T* din = dinp->data();
      const T* dy = dyp->data();
      const T* lx = l == 0 ? x : tr.inputs[static_cast<size_t>(l)].data();
      for (int64_t d = 0; d < dm.dirs; ++d) {
        const int64_t s = (l * dm.dirs + d) * dm.StateSize();
        DirBackward<kBlas>(temp, dm, p, l, d, lx, w, tr.dirs[static_cast<size_t>(l * dm.dirs + d)],
                           dy, dhy ? dhy + s : nullptr, dcy ? dcy + s : nullptr, din, dw.data(),
                           dhx.data() + s, lstm ? dcx.data() + s : nullptr);
      }
      std::swap(dyp, dinp);
      // Back through the dropout on layer l-1's output.
      if (masks && l > 0) {
        const T* m = masks + (l - 1) * static_cast<int64_t>(in_cells);
        for (size_t i = 0; i < in_cells; ++i)
          din[i] = Cast<T>(Ld(din[i]) * Ld(m[i]));
      }
    }
    if (req[0] != OpReq::kNull) {
      T* dx = out[0].data<T>();
      for (int64_t i = 0; i < out[0].Size(); ++i)
        Store(dx + i, req[0], (*dyp)[static_cast<size_t>(i)]);
    }
    StoreAll(dw, out[1], req[1]);
    StoreAll(dhx, out[2], req[2]);
    if (lstm) StoreAll(dcx, out[3], req[3]);
  });
}

std::vector<std::string> ForwardInputs(const Attrs& attrs) {
  if (IsLstm(attrs)) return {"data", "parameters", "state", "state_cell"};
  return {"data", "parameters", "state"};
}

std::vector<std::string> VisibleOutputs(const Attrs& attrs) {
  if (!attrs.param<RNNParam>().state_outputs) return {"output"};
  if (IsLstm(attrs)) return {"output", "state_output", "statecell_output"};
  return {"output", "state_output"};
}

std::vector<std::string> ForwardOutputs(const Attrs& attrs) {
  auto names = VisibleOutputs(attrs);
  names.push_back("dropout_mask");
  return names;
}

/*! \brief The hidden dropout_mask: (layers-1, steps, batch, D*H) with dropout, else (0,). */
Shape MaskShape(const RNNParam& p, const RnnDims& dm) {
  if (!HasDropout(p)) return Shape{0};
  return Shape{dm.layers - 1, dm.steps, dm.batch, dm.dirs * dm.hidden};
}

/*! \brief Checks data and fills the parameters, state and state_cell (input `cell`) shapes. */
std::optional<RnnDims> InferInputs(const Attrs& attrs, std::vector<Shape>* in, size_t cell) {
  CheckSupported(attrs);
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return std::nullopt;
  MX_CHECK(data.ndim() == 3, ValueError)
      << attrs.op->name << ": data must be (seq_len, batch, input_size) but has shape " << data;
  const RnnDims dm = MakeDims(attrs.param<RNNParam>(), data);
  AssignShape(attrs, "parameters", &(*in)[1], Shape{dm.ParamCount()});
  const Shape state{dm.layers * dm.dirs, dm.batch, dm.hidden};
  AssignShape(attrs, "state", &(*in)[2], state);
  if (IsLstm(attrs)) AssignShape(attrs, "state_cell", &(*in)[cell], state);
  return dm;
}

void ForwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto dm = InferInputs(attrs, in, 3);
  if (!dm) return;
  AssignShape(attrs, "output", &(*out)[0], Shape{dm->steps, dm->batch, dm->dirs * dm->hidden});
  for (size_t i = 1; i + 1 < out->size(); ++i)
    AssignShape(attrs, i == 1 ? "state_output" : "statecell_output", &(*out)[i], (*in)[2]);
  AssignShape(attrs, "dropout_mask", &out->back(), MaskShape(attrs.param<RNNParam>(), *dm));
}

std::vector<std::string> BackwardInputs(const Attrs& attrs) {
  std::vector<std::string> names{"data", "parameters", "state", "out_grad"};
  if (IsLstm(attrs)) names.push_back("state_cell");
  const auto outs = VisibleOutputs(attrs);
  for (size_t i = 1; i < outs.size(); ++i)
    names.push_back(outs[i] + "_grad");
  if (HasDropout(attrs.param<RNNParam>())) names.push_back("dropout_mask");
  return names;
}

void BackwardShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto dm = InferInputs(attrs, in, 4);
  if (!dm) return;
  AssignShape(attrs, "out_grad", &(*in)[3], Shape{dm->steps, dm->batch, dm->dirs * dm->hidden});
  const bool mask = HasDropout(attrs.param<RNNParam>());
  for (size_t i = IsLstm(attrs) ? 5 : 4; i + (mask ? 1 : 0) < in->size(); ++i)
    AssignShape(attrs, InputName(attrs, i), &(*in)[i], (*in)[2]);
  if (mask)
    AssignShape(attrs, "dropout_mask", &in->back(), MaskShape(attrs.param<RNNParam>(), *dm));
  const std::vector<Shape> grads{(*in)[0], (*in)[1], (*in)[2], (*in)[2]};
  for (size_t i = 0; i < out->size(); ++i)
    AssignShape(attrs, attrs.op->output_names(attrs)[i], &(*out)[i], grads[i]);
}

/*! \brief A sample on data (steps, batch, input), the other inputs' shapes implied. */
OpSample RnnSample(AttrDict attrs, int64_t steps, int64_t batch, int64_t input, bool backward) {
  const auto parsed = ParamParserFor<RNNParam>().Parse(attrs, "RNN");
  const auto& p = *static_cast<const RNNParam*>(parsed.get());
  const RnnDims dm = MakeDims(p, Shape{steps, batch, input});
  const Shape state{dm.layers * dm.dirs, batch, dm.hidden};
  std::vector<Shape> inputs{Shape{steps, batch, input}, Shape{dm.ParamCount()}, state};
  if (backward) inputs.push_back(Shape{steps, batch, dm.dirs * dm.hidden});
  if (p.mode == kLstm) inputs.push_back(state);
  if (backward && p.state_outputs) inputs.insert(inputs.end(), p.mode == kLstm ? 2 : 1, state);
  if (backward && HasDropout(p)) inputs.push_back(MaskShape(p, dm));
  return OpSample{.attrs = std::move(attrs), .inputs = std::move(inputs)};
}

const bool kRegistered = [] {
  Registry::Add("RNN")
      .Describe(
          "Applies a multi-layer recurrent network (vanilla RNN with relu or tanh, LSTM or GRU, "
          "optionally bidirectional) to a (seq_len, batch, input_size) sequence, with all "
          "weights and biases packed in one parameters vector as MXNet 1.x.")
      .Param<RNNParam>()
      .NeedsRandom()
      .NeedsTempSpace()
      .Inputs(ForwardInputs)
      .Signature({"data", "parameters", "state", "state_cell?"})
      .Outputs(ForwardOutputs)
      .VisibleOutputs(-1)  // NOTE [ RNN dropout masks ]
      .InferShape(ForwardShape)
      .InferType(FloatingSameType)
      .Kernel("blas", RnnForward<true>, BlasSupports)
      .Kernel("reference", RnnForward<false>)
      .Gradient([](GradBuilder& g, const Attrs& attrs, std::span<const GValue> in,
                   std::span<const GValue> out, std::span<const GValue> dout) {
        std::vector<GValue> args{in[0], in[1], in[2], dout[0]};
        args.insert(args.end(), in.begin() + 3, in.end());
        args.insert(args.end(), dout.begin() + 1, dout.end() - 1);  // not the mask's
        if (HasDropout(attrs.param<RNNParam>())) args.push_back(out.back());
        return g.Apply("_rnn_backward", args, attrs.dict);
      })
      // One sample per mode (the gradient check runs on each), then a stacked bidirectional
      // LSTM with its states as outputs and a clipped cell.
      .Sample(RnnSample({{"mode", "rnn_relu"}, {"state_size", "3"}, {"num_layers", "1"}}, 3, 2, 3,
                        false))
      .Sample(RnnSample({{"mode", "rnn_tanh"},
                         {"state_size", "3"},
                         {"num_layers", "1"},
                         {"state_outputs", "True"}},
                        3, 2, 3, false))
      .Sample(RnnSample(
          {{"mode", "lstm"}, {"state_size", "2"}, {"num_layers", "1"}, {"state_outputs", "True"}},
          3, 2, 3, false))
      .Sample(RnnSample(
          {{"mode", "gru"}, {"state_size", "3"}, {"num_layers", "1"}, {"state_outputs", "True"}}, 3,
          2, 3, false))
      .Sample(RnnSample({{"mode", "lstm"},
                         {"state_size", "2"},
                         {"num_layers", "2"},
                         {"bidirectional", "True"},
                         {"state_outputs", "True"},
                         {"lstm_state_clip_min", "-0.4"},
                         {"lstm_state_clip_max", "0.4"}},
                        2, 2, 2, false))
      // Dropout between layers: outside training the masks are ones.
      .Sample(RnnSample({{"mode", "gru"}, {"state_size", "2"}, {"num_layers", "3"}, {"p", "0.4"}},
                        2, 2, 2, false));

  Registry::Add("_rnn_backward")
      .Describe(
          "Gradients of RNN for data, parameters, state and state_cell (lstm), given the "
          "gradients of its outputs; recomputes the forward.")
      .Param<RNNParam>()
      .NeedsTempSpace()
      .Inputs(BackwardInputs)
      .Signature({"data", "parameters", "state", "out_grad", "state_cell?", "hy_grad?", "cy_grad?",
                  "dropout_mask?"})
      .Outputs([](const Attrs& attrs) {
        if (IsLstm(attrs)) {
          return std::vector<std::string>{"data_grad", "parameters_grad", "state_grad",
                                          "state_cell_grad"};
        }
        return std::vector<std::string>{"data_grad", "parameters_grad", "state_grad"};
      })
      .InferShape(BackwardShape)
      .InferType(FloatingSameType)
      .Kernel("blas", RnnBackward<true>, BlasSupports)
      .Kernel("reference", RnnBackward<false>)
      .Sample(RnnSample({{"mode", "lstm"},
                         {"state_size", "2"},
                         {"num_layers", "2"},
                         {"bidirectional", "True"},
                         {"state_outputs", "True"}},
                        2, 2, 2, true))
      .Sample(RnnSample({{"mode", "gru"}, {"state_size", "2"}, {"num_layers", "2"}}, 3, 2, 2, true))
      .Sample(RnnSample({{"mode", "lstm"},
                         {"state_size", "2"},
                         {"num_layers", "3"},
                         {"p", "0.5"},
                         {"bidirectional", "True"},
                         {"state_outputs", "True"}},
                        2, 2, 2, true))
      .Sample(RnnSample({{"mode", "rnn_tanh"},
                         {"state_size", "3"},
                         {"num_layers", "1"},
                         {"bidirectional", "True"},
                         {"state_outputs", "True"}},
                        3, 2, 2, true));
  return true;
}();

}  // namespace
}  // namespace mixnet::op
