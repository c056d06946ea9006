/*!
 * \file rnn_cell.h
 * \brief Gluon's recurrent cells (gluon.rnn.RNNCell, LSTMCell, GRUCell and the cells that
 * combine or modify them): one time step per call, or a whole sequence with Unroll.
 *
 *   auto cell = std::make_shared<gluon::rnn::LSTMCell>(100);
 *   cell->Initialize();
 *   auto step = (*cell)({x_t, h, c});                         // {out, h', c'}
 *   auto seq = cell->Unroll(T, {x}, {}, "NTC", true);         // x (N, T, C)
 *   NDArray y = seq.outputs[0];                               // (N, T, 100); seq.states {h, c}
 *
 * A cell's forward takes {x, states...} and returns {output, new states...}. Unroll takes
 * either one merged sequence (an array of rank 3, laid out as `layout`) or one array per step,
 * and returns the outputs merged (one array) or per step; `merge_outputs` unset gives what
 * MXNet's unroll gives (per step for the basic cells, merged with valid_length, a container's
 * last cell decides). Names and gate orders are MXNet 1.x's (LSTM i, f, g, o; GRU r, z, n).
 */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mixnet/gluon/block.h"
#include "mixnet/gluon/rnn/rnn_layer.h"

namespace mixnet::gluon::rnn {

/*! \brief What Unroll returns: outputs (one merged array or one per step) and final states. */
struct UnrollResult {
  std::vector<NDArray> outputs;
  std::vector<NDArray> states;
};

/*! \brief gluon.rnn.HybridRecurrentCell. */
class RecurrentCell : public HybridBlock {
 public:
  using HybridBlock::HybridBlock;

  /*! \brief The states this cell carries, for `batch_size` (0: unknown). */
  virtual std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const = 0;
  size_t num_states() const { return StateInfo(0).size(); }
  /*!
   * \brief Zero states for `batch_size` (begin_state). ValueError on a cell wrapped by a
   * modifier cell (ZoneoutCell, ResidualCell): use the modifier.
   */
  std::vector<NDArray> BeginState(int64_t batch_size, Context ctx = Context::cpu(),
                                  DType dtype = DType::kFloat32) const;
  /*!
   * \brief Runs `length` steps. `inputs`: one array of rank 3 laid out as `layout` ("NTC" or
   * "TNC"), or `length` arrays (batch, ...). `begin_state` empty: zeros. With `valid_length`
   * (batch,), outputs past each sequence's length are zero and the states are those after its
   * last valid step.
   */
  virtual UnrollResult Unroll(int64_t length, const std::vector<NDArray>& inputs,
                              std::vector<NDArray> begin_state = {},
                              const std::string& layout = "NTC",
                              std::optional<bool> merge_outputs = std::nullopt,
                              const NDArray& valid_length = NDArray());
  /*! \brief Forgets what was carried between steps (ZoneoutCell's previous output). */
  virtual void Reset();

 protected:
  /*! \brief Zeros as ops (so they trace), without the modified check. */
  std::vector<NDArray> ZeroStates(int64_t batch_size, Context ctx, DType dtype) const;
  /*! \brief Splits {x, states...} checking the number of states. */
  std::vector<NDArray> StatesOf(const std::vector<NDArray>& inputs) const;

  bool modified_ = false;  // wrapped by a ModifierCell
  friend class ModifierCell;
};

/*! \brief Options of RNNCell, LSTMCell, GRUCell. */
struct CellOptions : BlockArgs {
  /*! \brief RNNCell: "tanh" when empty; LSTMCell: the cell activation, "tanh" when empty. */
  std::string activation;
  /*! \brief LSTMCell: the gates' activation, "sigmoid" when empty. */
  std::string recurrent_activation;
  /*! \brief Null weight initializers use the one given to Initialize; null bias ones, zeros. */
  init::InitializerPtr i2h_weight_initializer, h2h_weight_initializer;
  init::InitializerPtr i2h_bias_initializer, h2h_bias_initializer;
  /*! \brief 0: inferred from the first input. */
  int64_t input_size = 0;
};

/*! \brief The i2h/h2h parameters shared by RNNCell, LSTMCell and GRUCell. */
class GatedCell : public RecurrentCell {
 public:
  std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const override;
  void InferShape(const std::vector<NDArray>& inputs) override;
  /*! \brief "LSTMCell(None -> 400)" (the i2h weight's shape, as MXNet). */
  std::string Repr() const override;
  int hidden_size() const { return hidden_size_; }
  const ParameterPtr& i2h_weight() const { return i2h_weight_; }
  const ParameterPtr& h2h_weight() const { return h2h_weight_; }
  const ParameterPtr& i2h_bias() const { return i2h_bias_; }
  const ParameterPtr& h2h_bias() const { return h2h_bias_; }

 protected:
  GatedCell(std::string alias, std::string class_name, int hidden_size, int gates, int num_states,
            CellOptions options);
  /*! \brief {i2h(x), h2h(h)}: the two FullyConnected projections. */
  std::vector<NDArray> Projections(const NDArray& x, const NDArray& h) const;

  std::string class_name_;
  int hidden_size_, gates_, num_states_;
  CellOptions options_;
  ParameterPtr i2h_weight_, h2h_weight_, i2h_bias_, h2h_bias_;
};

/*! \brief h' = act(W_i x + b_i + W_h h + b_h). */
class RNNCell : public GatedCell {
 public:
  explicit RNNCell(int hidden_size, CellOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  std::string Repr() const override;
};

class LSTMCell : public GatedCell {
 public:
  explicit LSTMCell(int hidden_size, CellOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
};

class GRUCell : public GatedCell {
 public:
  explicit GRUCell(int hidden_size, CellOptions options = {});
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
};

/*! \brief Cells stacked: each step runs them in order (gluon.rnn.(Hybrid)SequentialRNNCell). */
class SequentialRNNCell : public RecurrentCell {
 public:
  explicit SequentialRNNCell(BlockArgs args = {});
  /*! \brief Appends `cell` (registered under its index). */
  void Add(std::shared_ptr<RecurrentCell> cell);
  size_t size() const { return cells_.size(); }
  const std::shared_ptr<RecurrentCell>& operator[](size_t i) const { return cells_.at(i); }

  std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const override;
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  UnrollResult Unroll(int64_t length, const std::vector<NDArray>& inputs,
                      std::vector<NDArray> begin_state = {}, const std::string& layout = "NTC",
                      std::optional<bool> merge_outputs = std::nullopt,
                      const NDArray& valid_length = NDArray()) override;
  std::string Repr() const override;

 protected:
  SequentialRNNCell(std::string alias, BlockArgs args);

 private:
  std::vector<std::shared_ptr<RecurrentCell>> cells_;
};

/*! \brief The same cell under MXNet's hybrid name (prefix "hybridsequentialrnncell0_"). */
class HybridSequentialRNNCell : public SequentialRNNCell {
 public:
  explicit HybridSequentialRNNCell(BlockArgs args = {});
};

/*! \brief Dropout on the input; carries no state. */
class DropoutCell : public RecurrentCell {
 public:
  explicit DropoutCell(double rate, std::vector<int64_t> axes = {}, BlockArgs args = {});
  std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const override;
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  UnrollResult Unroll(int64_t length, const std::vector<NDArray>& inputs,
                      std::vector<NDArray> begin_state = {}, const std::string& layout = "NTC",
                      std::optional<bool> merge_outputs = std::nullopt,
                      const NDArray& valid_length = NDArray()) override;
  std::string Repr() const override;

 private:
  double rate_;
  std::vector<int64_t> axes_;
};

/*!
 * \brief A cell changing how `base_cell` (registered as "base_cell") runs; the base cell can
 * then only be used through it.
 */
class ModifierCell : public RecurrentCell {
 public:
  std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const override;
  const std::shared_ptr<RecurrentCell>& base_cell() const { return base_cell_; }

 protected:
  ModifierCell(std::string alias, std::shared_ptr<RecurrentCell> base_cell);
  std::shared_ptr<RecurrentCell> base_cell_;
};

/*!
 * \brief Zoneout (Krueger et al. 2016): in training each output and state element keeps its
 * previous value with probability zoneout_outputs / zoneout_states. NOTE [ Zoneout's previous
 * output ] in src/gluon/rnn/rnn_cell.cc says what carries between calls.
 */
class ZoneoutCell : public ModifierCell {
 public:
  ZoneoutCell(std::shared_ptr<RecurrentCell> base_cell, double zoneout_outputs = 0,
              double zoneout_states = 0);
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  UnrollResult Unroll(int64_t length, const std::vector<NDArray>& inputs,
                      std::vector<NDArray> begin_state = {}, const std::string& layout = "NTC",
                      std::optional<bool> merge_outputs = std::nullopt,
                      const NDArray& valid_length = NDArray()) override;
  void Reset() override;
  std::string Repr() const override;

 private:
  double zoneout_outputs_, zoneout_states_;
  NDArray prev_output_;
  bool unrolling_ = false;
};

/*! \brief Adds the input to the base cell's output (Wu et al. 2016). */
class ResidualCell : public ModifierCell {
 public:
  explicit ResidualCell(std::shared_ptr<RecurrentCell> base_cell);
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  UnrollResult Unroll(int64_t length, const std::vector<NDArray>& inputs,
                      std::vector<NDArray> begin_state = {}, const std::string& layout = "NTC",
                      std::optional<bool> merge_outputs = std::nullopt,
                      const NDArray& valid_length = NDArray()) override;
  std::string Repr() const override;
};

/*!
 * \brief `l_cell` over the sequence and `r_cell` over it reversed, outputs concatenated on the
 * channel axis. It cannot be stepped: use Unroll. States: l_cell's then r_cell's.
 */
class BidirectionalCell : public RecurrentCell {
 public:
  BidirectionalCell(std::shared_ptr<RecurrentCell> l_cell, std::shared_ptr<RecurrentCell> r_cell,
                    std::string output_prefix = "bi_");
  std::vector<StateDesc> StateInfo(int64_t batch_size = 0) const override;
  /*! \brief NotImplementedError: a bidirectional cell cannot be stepped. */
  std::vector<NDArray> HybridForward(const std::vector<NDArray>& inputs) override;
  UnrollResult Unroll(int64_t length, const std::vector<NDArray>& inputs,
                      std::vector<NDArray> begin_state = {}, const std::string& layout = "NTC",
                      std::optional<bool> merge_outputs = std::nullopt,
                      const NDArray& valid_length = NDArray()) override;
  std::string Repr() const override;

 private:
  std::shared_ptr<RecurrentCell> l_cell_, r_cell_;
  std::string output_prefix_;
};

}  // namespace mixnet::gluon::rnn
