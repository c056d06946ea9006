/*!
 * \file rnn_layer.h
 * \brief Gluon's fused recurrent layers (gluon.rnn.RNN, LSTM, GRU) on the RNN operator.
 *
 *   auto lstm = std::make_shared<gluon::rnn::LSTM>(100, gluon::rnn::RNNLayerOptions{
 *       .num_layers = 2, .layout = "NTC", .bidirectional = true});
 *   lstm->Initialize();
 *   NDArray y = (*lstm)(x);                               // x (N, T, C) -> y (N, T, 200)
 *   auto out = (*lstm)({x, h0, c0});                      // {y, hn, cn}
 *
 * As MXNet 1.x: each layer and direction has its own i2h/h2h weights and biases, named
 * "lstm0_l0_i2h_weight", "lstm0_r1_h2h_bias", ...; the forward packs them into the RNN op's
 * single parameter vector (NOTE [ RNN parameter packing ] in src/operator/nn/rnn.cc).
 * Structural names are MXNet 1.9.1's ("_unfused.0.i2h_weight", bidirectional
 * "_unfused.0.l_cell.i2h_weight"), so save_parameters files load both ways.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mixnet/gluon/block.h"

namespace mixnet::gluon::rnn {

/*! \brief One recurrent state: its shape for a batch and its layout ("LNC" for layers, "NC"). */
struct StateDesc {
  Shape shape;
  std::string layout;
};

/*! \brief Options of RNN, LSTM and GRU (MXNet's keyword arguments). */
struct RNNLayerOptions : BlockArgs {
  int num_layers = 1;
  /*! \brief "TNC" (time, batch, channel) or "NTC". */
  std::string layout = "TNC";
  /*! \brief Dropout on the outputs of each layer but the last. */
  double dropout = 0;
  bool bidirectional = false;
  /*! \brief 0: inferred from the first input (deferred initialisation). */
  int64_t input_size = 0;
  /*! \brief Null weight initializers use the one given to Initialize; null bias ones, zeros. */
  init::InitializerPtr i2h_weight_initializer, h2h_weight_initializer;
  init::InitializerPtr i2h_bias_initializer, h2h_bias_initializer;
  DType dtype = DType::kFloat32;
  /*! \brief RNN only: "relu" (the default when empty) or "tanh". */
  std::string activation;
  /*! \brief LSTM only: clip the cell state to [min, max] (both or neither). */
  std::optional<double> state_clip_min, state_clip_max;
  bool state_clip_nan = false;
};

/*!
 * \brief MXNet's _RNNLayer. Inputs {x} give {out}; {x, h0} (LSTM: {x, h0, c0}) give
 * {out, hn} ({out, hn, cn}). States are (num_layers * directions, batch, hidden_size).
 */
class RecurrentLayer : public HybridBlock {
 public:
  std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const;
  /*! \brief Zero states for `batch_size` (begin_state). */
  std::vector<NDArray> BeginState(int64_t batch_size, Context ctx = Context::cpu(),
                                  DType dtype = DType::kFloat32) const;
  /*! \brief The parameter of layer `layer`, direction 'l' or 'r': "i2h_weight", "h2h_bias"... */
  ParameterPtr param(int layer, char direction, const std::string& name) const;

  int hidden_size() const { return hidden_size_; }
  int num_layers() const { return options_.num_layers; }
  const std::string& layout() const { return options_.layout; }
  const std::string& mode() const { return mode_; }
  int gates() const { return gates_; }
  int directions() const { return options_.bidirectional ? 2 : 1; }

  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  /*! \brief "LSTM(5 -> 4, TNC, num_layers=2, bidirectional)". */
  std::string Repr() const override;
  /*! \brief "RNN", "LSTM" or "GRU" (the C++ classes share RecurrentLayer's code). */
  std::string ClassName() const override;

 protected:
  /*! \brief `mode`: the RNN op's mode (rnn_relu, rnn_tanh, lstm, gru). */
  RecurrentLayer(std::string alias, std::string mode, int hidden_size, RNNLayerOptions options);

 private:
  /*! \brief Fills the deferred input size of layer 0 and completes deferred initialisation. */
  void FinishDeferredInit(const NDArray& x);

  std::string mode_;
  int hidden_size_, gates_;
  RNNLayerOptions options_;
  std::vector<ParameterPtr> weights_;  // (layer, direction) major, then i2h_w, h2h_w, i2h_b, h2h_b
};

/*! \brief Elman RNN with relu or tanh (RNNLayerOptions::activation). */
class RNN : public RecurrentLayer {
 public:
  explicit RNN(int hidden_size, RNNLayerOptions options = {});
};

class LSTM : public RecurrentLayer {
 public:
  explicit LSTM(int hidden_size, RNNLayerOptions options = {});
};

class GRU : public RecurrentLayer {
 public:
  explicit GRU(int hidden_size, RNNLayerOptions options = {});
};

}  // namespace mixnet::gluon::rnn
