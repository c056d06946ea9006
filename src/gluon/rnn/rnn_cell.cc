// gluon.rnn cells: MXNet 1.x's rnn_cell.py (HybridRecurrentCell and its subclasses).
// With valid_length, unroll uses SequenceMask, SequenceLast and SequenceReverse as MXNet's does:
// steps past a sequence's end become 0 (a NaN there too).
#include <algorithm>
#include <charconv>
#include <sstream>
#include <utility>

#include "gluon/rnn/rnn_ops.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/rnn/rnn_cell.h"
#include "mixnet/op/attr_value.h"
#include "mixnet/symbol/trace.h"

namespace mixnet::gluon::rnn {
namespace {

using detail::Attr;
using detail::Join;
using detail::Op;
using detail::Reshape;

NDArray Add(const NDArray& a, const NDArray& b) {
  return Op("elemwise_add", {a, b});
}
NDArray Mul(const NDArray& a, const NDArray& b) {
  return Op("elemwise_mul", {a, b});
}
NDArray Where(const NDArray& cond, const NDArray& x, const NDArray& y) {
  return Op("where", {cond, x, y});
}
NDArray Act(const NDArray& x, const std::string& act_type) {
  return Op("Activation", {x}, {{"act_type", act_type}});
}

/*! \brief Python's repr of a float: 0.5, 0.0. */
std::string PyFloat(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, end);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

/*! \brief MXNet's _get_activation: the named unary op, else Activation(act_type). */
NDArray Activate(const NDArray& x, const std::string& act) {
  if (act == "tanh" || act == "relu" || act == "sigmoid" || act == "softsign") return Op(act, {x});
  return Act(x, act);
}

/*! \brief One merged sequence: a single array of the layout's rank. */
bool IsMerged(const std::vector<NDArray>& seq) {
  return seq.size() == 1 && seq[0].shape().ndim() == 3;
}

struct Sequence {
  std::vector<NDArray> steps;  // one merged array, or one per step
  bool merged;
  int axis;  // the time axis of `layout`
  int64_t batch;
};

/*!
 * \brief MXNet's _format_sequence: `inputs` (merged in `in_layout`, default `layout`, or per
 * step) as merged (laid out as `layout`) or per step, as `merge` asks (unset: unchanged).
 */
Sequence FormatSequence(std::optional<int64_t> length, const std::vector<NDArray>& inputs,
                        const std::string& layout, std::optional<bool> merge) {
  MX_CHECK(layout == "NTC" || layout == "TNC", ValueError)
      << "rnn unroll: layout must be 'NTC' or 'TNC' but is '" << layout << "'";
  MX_CHECK(!inputs.empty(), ValueError) << "rnn unroll: no inputs";
  const int axis = static_cast<int>(layout.find('T'));
  Sequence seq{inputs, IsMerged(inputs), axis, 0};
  if (seq.merged) {
    const NDArray& x = inputs[0];
    seq.batch = x.shape()[static_cast<int>(layout.find('N'))];
    const int64_t steps = x.shape()[axis];
    MX_CHECK(!length || *length == steps, ValueError)
        << "rnn unroll: length " << *length << " but the " << layout << " input has shape "
        << x.shape();
    if (merge == false) seq = {detail::Unstack(x, axis), false, axis, seq.batch};
  } else {
    MX_CHECK(!length || *length == static_cast<int64_t>(inputs.size()), ValueError)
        << "rnn unroll: length " << *length << " but " << inputs.size() << " step inputs";
    seq.batch = inputs[0].shape()[0];
    if (merge == true) seq = {{Join("stack", inputs, axis)}, true, axis, seq.batch};
  }
  return seq;
}

/*! \brief The Sequence* op `name` with use_sequence_length on `data`'s time `axis`. */
NDArray SequenceOp(const char* name, const NDArray& data, const NDArray& valid_length, int axis) {
  return Op(name, {data, valid_length},
            {{"use_sequence_length", "True"}, {"axis", Attr(static_cast<int64_t>(axis))}});
}

/*! \brief MXNet's _reverse_sequences on per-step arrays. */
std::vector<NDArray> ReverseSteps(const std::vector<NDArray>& steps, const NDArray& valid_length) {
  if (valid_length.is_none()) return {steps.rbegin(), steps.rend()};
  const NDArray rev = SequenceOp("SequenceReverse", Join("stack", steps, 0), valid_length, 0);
  return detail::Unstack(rev, 0);
}

/*! \brief MXNet's _mask_sequence_variable_length: masks merged or per-step outputs. */
std::vector<NDArray> MaskSteps(const std::vector<NDArray>& outputs, bool merged,
                               const NDArray& valid_length, int axis) {
  const NDArray data = merged ? outputs[0] : Join("stack", outputs, axis);
  const NDArray masked = SequenceOp("SequenceMask", data, valid_length, axis);
  if (merged) return {masked};
  return detail::Unstack(masked, axis);
}

/*! \brief `repr` with every line after the first indented by `n` (MXNet's _indent). */
std::string Indent(const std::string& repr, int n) {
  std::string out;
  for (char c : repr) {
    out += c;
    if (c == '\n') out.append(static_cast<size_t>(n), ' ');
  }
  return out;
}

}  // namespace

// ---- RecurrentCell ----

std::vector<NDArray> RecurrentCell::ZeroStates(int64_t batch_size, Context ctx, DType dtype) const {
  std::vector<NDArray> states;
  for (const auto& info : StateInfo(batch_size))
    states.push_back(detail::Zeros(info.shape, ctx, dtype));
  return states;
}

std::vector<NDArray> RecurrentCell::BeginState(int64_t batch_size, Context ctx, DType dtype) const {
  MX_CHECK(!modified_, ValueError)
      << Repr()
      << ": after applying modifier cells (e.g. ZoneoutCell) the base cell cannot be called "
         "directly. Call the modifier cell instead.";
  return ZeroStates(batch_size, ctx, dtype);
}

std::vector<NDArray> RecurrentCell::StatesOf(const std::vector<NDArray>& inputs) const {
  const size_t n = num_states();
  MX_CHECK(inputs.size() == n + 1, ValueError)
      << Repr() << ": takes the input and " << n << " state(s) but got " << inputs.size()
      << " arrays";
  return {inputs.begin() + 1, inputs.end()};
}

void RecurrentCell::Reset() {
  for (const auto& [name, child] : children())
    if (auto cell = std::dynamic_pointer_cast<RecurrentCell>(child)) cell->Reset();
}

UnrollResult RecurrentCell::Unroll(int64_t length, const std::vector<NDArray>& inputs,
                                   std::vector<NDArray> begin_state, const std::string& layout,
                                   std::optional<bool> merge_outputs, const NDArray& valid_length) {
  MX_CHECK(length > 0, ValueError)
      << Repr() << ": unroll length must be positive but is " << length;
  Reset();
  const Sequence seq = FormatSequence(length, inputs, layout, false);
  std::vector<NDArray> states =
      begin_state.empty() ? ZeroStates(seq.batch, seq.steps[0].ctx(), seq.steps[0].dtype())
                          : std::move(begin_state);
  std::vector<NDArray> outputs;
  std::vector<std::vector<NDArray>> all_states;
  for (int64_t i = 0; i < length; ++i) {
    std::vector<NDArray> step{seq.steps[static_cast<size_t>(i)]};
    step.insert(step.end(), states.begin(), states.end());
    std::vector<NDArray> out = (*this)(step);
    outputs.push_back(out[0]);
    states.assign(out.begin() + 1, out.end());
    if (!valid_length.is_none()) all_states.push_back(states);
  }
  if (!valid_length.is_none()) {
    for (size_t j = 0; j < states.size(); ++j) {
      std::vector<NDArray> per_step;
      for (const auto& s : all_states)
        per_step.push_back(s[j]);
      states[j] = SequenceOp("SequenceLast", Join("stack", per_step, 0), valid_length, 0);
    }
    outputs = {
        SequenceOp("SequenceMask", Join("stack", outputs, seq.axis), valid_length, seq.axis)};
  }
  return {FormatSequence(length, outputs, layout, merge_outputs).steps, std::move(states)};
}

// ---- RNNCell, LSTMCell, GRUCell ----

GatedCell::GatedCell(std::string alias, std::string class_name, int hidden_size, int gates,
                     int num_states, CellOptions options)
    : RecurrentCell(std::move(alias), options),
      class_name_(std::move(class_name)),
      hidden_size_(hidden_size),
      gates_(gates),
      num_states_(num_states),
      options_(std::move(options)) {
  MX_CHECK(hidden_size > 0, ValueError)
      << class_name_ << ": hidden_size must be positive but is " << hidden_size;
  MX_CHECK(options_.input_size >= 0, ValueError)
      << class_name_ << ": input_size must be >= 0 but is " << options_.input_size;
  const int64_t rows = int64_t{gates} * hidden_size;
  const auto zeros = std::make_shared<init::Zero>();
  auto reg = [&](const char* name, Shape shape, init::InitializerPtr init) {
    return RegisterParameter(name, std::move(shape), ParameterOptions{.init = std::move(init)});
  };
  i2h_weight_ =
      reg("i2h_weight", Shape{rows, options_.input_size}, options_.i2h_weight_initializer);
  h2h_weight_ = reg("h2h_weight", Shape{rows, hidden_size}, options_.h2h_weight_initializer);
  i2h_bias_ = reg("i2h_bias", Shape{rows},
                  options_.i2h_bias_initializer ? options_.i2h_bias_initializer : zeros);
  h2h_bias_ = reg("h2h_bias", Shape{rows},
                  options_.h2h_bias_initializer ? options_.h2h_bias_initializer : zeros);
}

std::vector<StateDesc> GatedCell::StateInfo(int64_t batch_size) const {
  return std::vector<StateDesc>(static_cast<size_t>(num_states_),
                                StateDesc{Shape{batch_size, hidden_size_}, "NC"});
}

void GatedCell::InferShape(const std::vector<NDArray>& inputs) {
  MX_CHECK(!inputs.empty() && inputs[0].shape().ndim() >= 2, ValueError)
      << Repr() << ": the input must be (batch, features...) but has shape "
      << (inputs.empty() ? Shape() : inputs[0].shape());
  const Shape& x = inputs[0].shape();
  i2h_weight_->SetShape(Shape{int64_t{gates_} * hidden_size_, x.ProdDims(1, x.ndim())});
}

std::vector<NDArray> GatedCell::Projections(const NDArray& x, const NDArray& h) const {
  const int64_t rows = int64_t{gates_} * hidden_size_;
  const Context ctx = x.ctx();
  return {Op("FullyConnected", {x, i2h_weight_->data(ctx), i2h_bias_->data(ctx)},
             {{"num_hidden", Attr(rows)}}),
          Op("FullyConnected", {h, h2h_weight_->data(ctx), h2h_bias_->data(ctx)},
             {{"num_hidden", Attr(rows)}})};
}

std::string GatedCell::Repr() const {
  const Shape& w = i2h_weight_ ? i2h_weight_->shape() : Shape();
  std::ostringstream os;
  os << class_name_ << "(";
  if (w.ndim() == 2 && w[1] > 0)
    os << w[1];
  else
    os << "None";
  os << " -> " << int64_t{gates_} * hidden_size_ << ")";
  return os.str();
}

RNNCell::RNNCell(int hidden_size, CellOptions options)
    : GatedCell("rnn", "RNNCell", hidden_size, 1, 1, std::move(options)) {
  if (options_.activation.empty()) options_.activation = "tanh";
  MX_CHECK(options_.recurrent_activation.empty(), ValueError)
      << "RNNCell: recurrent_activation is an LSTMCell option";
}

std::vector<NDArray> RNNCell::HybridForward(const std::vector<NDArray>& inputs) {
  const std::vector<NDArray> states = StatesOf(inputs);
  const auto p = Projections(inputs[0], states[0]);
  NDArray out = Activate(Add(p[0], p[1]), options_.activation);
  return {out, out};
}

std::string RNNCell::Repr() const {
  std::string s = GatedCell::Repr();
  return s.substr(0, s.size() - 1) + ", " + options_.activation + ")";
}

LSTMCell::LSTMCell(int hidden_size, CellOptions options)
    : GatedCell("lstm", "LSTMCell", hidden_size, 4, 2, std::move(options)) {
  if (options_.activation.empty()) options_.activation = "tanh";
  if (options_.recurrent_activation.empty()) options_.recurrent_activation = "sigmoid";
}

std::vector<NDArray> LSTMCell::HybridForward(const std::vector<NDArray>& inputs) {
  const std::vector<NDArray> states = StatesOf(inputs);
  const auto p = Projections(inputs[0], states[0]);
  const auto gates = op::Invoke("SliceChannel", {Add(p[0], p[1])}, {{"num_outputs", "4"}});
  const std::string& rec = options_.recurrent_activation;
  const NDArray in_gate = Activate(gates[0], rec), forget_gate = Activate(gates[1], rec);
  const NDArray in_transform = Activate(gates[2], options_.activation);
  const NDArray out_gate = Activate(gates[3], rec);
  NDArray next_c = Add(Mul(forget_gate, states[1]), Mul(in_gate, in_transform));
  NDArray next_h = Mul(out_gate, Act(next_c, options_.activation));
  return {next_h, next_h, next_c};
}

GRUCell::GRUCell(int hidden_size, CellOptions options)
    : GatedCell("gru", "GRUCell", hidden_size, 3, 1, std::move(options)) {
  MX_CHECK(options_.activation.empty() && options_.recurrent_activation.empty(), ValueError)
      << "GRUCell: takes no activation options";
}

std::vector<NDArray> GRUCell::HybridForward(const std::vector<NDArray>& inputs) {
  const std::vector<NDArray> states = StatesOf(inputs);
  const NDArray& h = states[0];
  const auto p = Projections(inputs[0], h);
  const auto i2h = op::Invoke("SliceChannel", {p[0]}, {{"num_outputs", "3"}});
  const auto h2h = op::Invoke("SliceChannel", {p[1]}, {{"num_outputs", "3"}});
  const NDArray reset = Act(Add(i2h[0], h2h[0]), "sigmoid");
  const NDArray update = Act(Add(i2h[1], h2h[1]), "sigmoid");
  const NDArray candidate = Act(Add(i2h[2], Mul(reset, h2h[2])), "tanh");
  NDArray next_h =
      Add(Mul(Op("elemwise_sub", {Op("ones_like", {update}), update}), candidate), Mul(update, h));
  return {next_h, next_h};
}

// ---- SequentialRNNCell ----

SequentialRNNCell::SequentialRNNCell(BlockArgs args)
    : SequentialRNNCell("sequentialrnncell", std::move(args)) {}

SequentialRNNCell::SequentialRNNCell(std::string alias, BlockArgs args)
    : RecurrentCell(std::move(alias), std::move(args)) {}

HybridSequentialRNNCell::HybridSequentialRNNCell(BlockArgs args)
    : SequentialRNNCell("hybridsequentialrnncell", std::move(args)) {}

void SequentialRNNCell::Add(std::shared_ptr<RecurrentCell> cell) {
  MX_CHECK(cell != nullptr, ValueError) << Repr() << ": Add(null)";
  cells_.push_back(RegisterChild(std::move(cell)));
}

std::vector<StateDesc> SequentialRNNCell::StateInfo(int64_t batch_size) const {
  std::vector<StateDesc> info;
  for (const auto& cell : cells_) {
    auto c = cell->StateInfo(batch_size);
    info.insert(info.end(), c.begin(), c.end());
  }
  return info;
}

std::vector<NDArray> SequentialRNNCell::HybridForward(const std::vector<NDArray>& inputs) {
  const std::vector<NDArray> states = StatesOf(inputs);
  std::vector<NDArray> out{inputs[0]};
  size_t p = 0;
  for (const auto& cell : cells_) {
    MX_CHECK(!std::dynamic_pointer_cast<BidirectionalCell>(cell), NotImplementedError)
        << Repr() << ": a BidirectionalCell cannot be stepped; use Unroll";
    const size_t n = cell->num_states();
    std::vector<NDArray> step{out[0]};
    step.insert(step.end(), states.begin() + static_cast<long>(p),
                states.begin() + static_cast<long>(p + n));
    p += n;
    std::vector<NDArray> next = (*cell)(step);
    out[0] = next[0];
    out.insert(out.end(), next.begin() + 1, next.end());
  }
  return out;
}

UnrollResult SequentialRNNCell::Unroll(int64_t length, const std::vector<NDArray>& inputs,
                                       std::vector<NDArray> begin_state, const std::string& layout,
                                       std::optional<bool> merge_outputs,
                                       const NDArray& valid_length) {
  Reset();
  Sequence seq = FormatSequence(length, inputs, layout, std::nullopt);
  if (begin_state.empty())
    begin_state = ZeroStates(seq.batch, seq.steps[0].ctx(), seq.steps[0].dtype());
  MX_CHECK(begin_state.size() == num_states(), ValueError)
      << Repr() << ": begin_state has " << begin_state.size() << " arrays, expected "
      << num_states();
  UnrollResult result{std::move(seq.steps), {}};
  size_t p = 0;
  for (size_t i = 0; i < cells_.size(); ++i) {
    const size_t n = cells_[i]->num_states();
    std::vector<NDArray> states(begin_state.begin() + static_cast<long>(p),
                                begin_state.begin() + static_cast<long>(p + n));
    p += n;
    UnrollResult r =
        cells_[i]->Unroll(length, result.outputs, std::move(states), layout,
                          i + 1 < cells_.size() ? std::nullopt : merge_outputs, valid_length);
    result.outputs = std::move(r.outputs);
    result.states.insert(result.states.end(), r.states.begin(), r.states.end());
  }
  return result;
}

std::string SequentialRNNCell::Repr() const {
  std::string cls =
      alias() == "sequentialrnncell" ? "SequentialRNNCell" : "HybridSequentialRNNCell";
  std::ostringstream os;
  os << cls << "(\n";
  for (size_t i = 0; i < children().size(); ++i)
    os << (i ? "\n" : "") << "(" << children()[i].first
       << "): " << Indent(children()[i].second->Repr(), 2);
  os << "\n)";
  return os.str();
}

// ---- DropoutCell ----

DropoutCell::DropoutCell(double rate, std::vector<int64_t> axes, BlockArgs args)
    : RecurrentCell("dropout", std::move(args)), rate_(rate), axes_(std::move(axes)) {
  MX_CHECK(rate >= 0 && rate <= 1, ValueError)
      << "DropoutCell: rate must be in [0, 1] but is " << rate;
}

std::vector<StateDesc> DropoutCell::StateInfo(int64_t) const {
  return {};
}

std::vector<NDArray> DropoutCell::HybridForward(const std::vector<NDArray>& inputs) {
  // States pass through untouched (MXNet's unroll passes its begin_state).
  std::vector<NDArray> out = inputs;
  if (rate_ > 0) out[0] = Op("Dropout", {inputs[0]}, {{"p", Attr(rate_)}, {"axes", Attr(axes_)}});
  return out;
}

UnrollResult DropoutCell::Unroll(int64_t length, const std::vector<NDArray>& inputs,
                                 std::vector<NDArray> begin_state, const std::string& layout,
                                 std::optional<bool> merge_outputs, const NDArray&) {
  Reset();
  const Sequence seq = FormatSequence(length, inputs, layout, merge_outputs);
  if (seq.merged) {
    std::vector<NDArray> step{seq.steps[0]};
    step.insert(step.end(), begin_state.begin(), begin_state.end());
    std::vector<NDArray> out = HybridForward(step);
    return {{out[0]}, {out.begin() + 1, out.end()}};
  }
  return RecurrentCell::Unroll(length, seq.steps, std::move(begin_state), layout, merge_outputs,
                               NDArray());
}

std::string DropoutCell::Repr() const {
  return "DropoutCell(rate=" + PyFloat(rate_) + ", axes=" + op::AttrValue(axes_) + ")";
}

// ---- ModifierCell, ZoneoutCell, ResidualCell ----

namespace {
const std::shared_ptr<RecurrentCell>& NonNull(const std::shared_ptr<RecurrentCell>& cell,
                                              const std::string& alias) {
  MX_CHECK(cell != nullptr, ValueError) << alias << ": the base cell is null";
  return cell;
}
}  // namespace

ModifierCell::ModifierCell(std::string alias, std::shared_ptr<RecurrentCell> base_cell)
    : RecurrentCell(alias, BlockArgs{.prefix = NonNull(base_cell, alias)->prefix() + alias}),
      base_cell_(std::move(base_cell)) {
  MX_CHECK(!base_cell_->modified_, ValueError)
      << "Cell " << base_cell_->name() << " is already modified. One cell cannot be modified twice";
  base_cell_->modified_ = true;
  RegisterChild(base_cell_, "base_cell");
}

std::vector<StateDesc> ModifierCell::StateInfo(int64_t batch_size) const {
  return base_cell_->StateInfo(batch_size);
}

namespace {
std::shared_ptr<RecurrentCell> CheckZoneoutBase(std::shared_ptr<RecurrentCell> cell) {
  MX_CHECK(!std::dynamic_pointer_cast<BidirectionalCell>(cell), ValueError)
      << "BidirectionalCell doesn't support zoneout since it doesn't support step. Please add "
         "ZoneoutCell to the cells underneath instead.";
  return cell;
}
}  // namespace

ZoneoutCell::ZoneoutCell(std::shared_ptr<RecurrentCell> base_cell, double zoneout_outputs,
                         double zoneout_states)
    : ModifierCell("zoneout", CheckZoneoutBase(std::move(base_cell))),
      zoneout_outputs_(zoneout_outputs),
      zoneout_states_(zoneout_states) {
  MX_CHECK(
      zoneout_outputs >= 0 && zoneout_outputs <= 1 && zoneout_states >= 0 && zoneout_states <= 1,
      ValueError)
      << "ZoneoutCell: zoneout_outputs and zoneout_states must be in [0, 1] but are "
      << zoneout_outputs << " and " << zoneout_states;
}

void ZoneoutCell::Reset() {
  RecurrentCell::Reset();
  prev_output_ = NDArray();
}

// NOTE [ Zoneout's previous output ]
// A zoned-out output element keeps the cell's previous output, which MXNet keeps on the cell
// between calls until reset(). Eagerly that is what happens here too. Inside a trace, an array
// from an earlier call is not part of the graph (and a hybridized step replays a fixed graph),
// so there the previous output is carried only between the steps of this cell's own Unroll
// (which resets first); a traced single step starts from zeros, as MXNet's first step does.
std::vector<NDArray> ZoneoutCell::HybridForward(const std::vector<NDArray>& inputs) {
  const std::vector<NDArray> states = StatesOf(inputs);
  std::vector<NDArray> next = (*base_cell_)(inputs);
  auto keep_new = [](double p, const NDArray& like) {
    return Op("Dropout", {Op("ones_like", {like})}, {{"p", Attr(p)}});
  };
  const bool carry = !prev_output_.is_none() && prev_output_.shape() == next[0].shape() &&
                     (sym::TraceScope::Current() == nullptr || unrolling_);
  if (zoneout_outputs_ != 0) {
    const NDArray prev = carry ? prev_output_ : Op("zeros_like", {next[0]});
    next[0] = Where(keep_new(zoneout_outputs_, next[0]), next[0], prev);
  }
  if (zoneout_states_ != 0)
    for (size_t j = 0; j < states.size(); ++j)
      next[j + 1] = Where(keep_new(zoneout_states_, next[j + 1]), next[j + 1], states[j]);
  prev_output_ = next[0];
  return next;
}

UnrollResult ZoneoutCell::Unroll(int64_t length, const std::vector<NDArray>& inputs,
                                 std::vector<NDArray> begin_state, const std::string& layout,
                                 std::optional<bool> merge_outputs, const NDArray& valid_length) {
  struct Flag {
    bool& f;
    explicit Flag(bool& flag) : f(flag) { f = true; }
    ~Flag() { f = false; }
  } flag(unrolling_);
  return RecurrentCell::Unroll(length, inputs, std::move(begin_state), layout, merge_outputs,
                               valid_length);
}

std::string ZoneoutCell::Repr() const {
  return "ZoneoutCell(p_out=" + PyFloat(zoneout_outputs_) +
         ", p_state=" + PyFloat(zoneout_states_) + ", " + base_cell_->Repr() + ")";
}

ResidualCell::ResidualCell(std::shared_ptr<RecurrentCell> base_cell)
    : ModifierCell("residualcell", std::move(base_cell)) {}

std::vector<NDArray> ResidualCell::HybridForward(const std::vector<NDArray>& inputs) {
  std::vector<NDArray> next = (*base_cell_)(inputs);
  next[0] = Add(next[0], inputs[0]);
  return next;
}

UnrollResult ResidualCell::Unroll(int64_t length, const std::vector<NDArray>& inputs,
                                  std::vector<NDArray> begin_state, const std::string& layout,
                                  std::optional<bool> merge_outputs, const NDArray& valid_length) {
  Reset();
  UnrollResult r = base_cell_->Unroll(length, inputs, std::move(begin_state), layout, merge_outputs,
                                      valid_length);
  const bool merge = merge_outputs.value_or(IsMerged(r.outputs));
  Sequence seq = FormatSequence(length, inputs, layout, merge);
  if (!valid_length.is_none()) seq.steps = MaskSteps(seq.steps, merge, valid_length, seq.axis);
  for (size_t i = 0; i < r.outputs.size(); ++i)
    r.outputs[i] = Add(r.outputs[i], seq.steps[i]);
  return r;
}

std::string ResidualCell::Repr() const {
  return "ResidualCell(" + base_cell_->Repr() + ")";
}

// ---- BidirectionalCell ----

BidirectionalCell::BidirectionalCell(std::shared_ptr<RecurrentCell> l_cell,
                                     std::shared_ptr<RecurrentCell> r_cell,
                                     std::string output_prefix)
    : RecurrentCell("bidirectionalcell", BlockArgs{.prefix = ""}),
      output_prefix_(std::move(output_prefix)) {
  MX_CHECK(l_cell && r_cell, ValueError) << "BidirectionalCell: null cell";
  l_cell_ = RegisterChild(std::move(l_cell), "l_cell");
  r_cell_ = RegisterChild(std::move(r_cell), "r_cell");
}

std::vector<StateDesc> BidirectionalCell::StateInfo(int64_t batch_size) const {
  auto info = l_cell_->StateInfo(batch_size);
  auto r = r_cell_->StateInfo(batch_size);
  info.insert(info.end(), r.begin(), r.end());
  return info;
}

std::vector<NDArray> BidirectionalCell::HybridForward(const std::vector<NDArray>&) {
  MX_THROW(NotImplementedError) << "Bidirectional cannot be stepped. Please use unroll";
}

UnrollResult BidirectionalCell::Unroll(int64_t length, const std::vector<NDArray>& inputs,
                                       std::vector<NDArray> begin_state, const std::string& layout,
                                       std::optional<bool> merge_outputs,
                                       const NDArray& valid_length) {
  Reset();
  const Sequence seq = FormatSequence(length, inputs, layout, false);
  const std::vector<NDArray> reversed = ReverseSteps(seq.steps, valid_length);
  if (begin_state.empty())
    begin_state = ZeroStates(seq.batch, seq.steps[0].ctx(), seq.steps[0].dtype());
  MX_CHECK(begin_state.size() == num_states(), ValueError)
      << Repr() << ": begin_state has " << begin_state.size() << " arrays, expected "
      << num_states();
  const auto nl = static_cast<long>(l_cell_->num_states());
  UnrollResult l =
      l_cell_->Unroll(length, seq.steps, {begin_state.begin(), begin_state.begin() + nl}, layout,
                      merge_outputs, valid_length);
  UnrollResult r = r_cell_->Unroll(length, reversed, {begin_state.begin() + nl, begin_state.end()},
                                   layout, false, valid_length);
  std::vector<NDArray> r_outputs = ReverseSteps(r.outputs, valid_length);
  const bool merge = merge_outputs.value_or(IsMerged(l.outputs));
  l.outputs = FormatSequence(length, l.outputs, layout, merge).steps;
  r_outputs = FormatSequence(length, r_outputs, layout, merge).steps;
  std::vector<NDArray> outputs;
  for (size_t i = 0; i < l.outputs.size(); ++i) {
    const std::vector<NDArray> pair{l.outputs[i], r_outputs[i]};
    outputs.push_back(Join("Concat", pair, merge ? 2 : 1));
  }
  if (!valid_length.is_none()) outputs = MaskSteps(outputs, merge, valid_length, seq.axis);
  l.states.insert(l.states.end(), r.states.begin(), r.states.end());
  return {std::move(outputs), std::move(l.states)};
}

std::string BidirectionalCell::Repr() const {
  return "BidirectionalCell(forward=" + l_cell_->Repr() + ", backward=" + r_cell_->Repr() + ")";
}

}  // namespace mixnet::gluon::rnn
