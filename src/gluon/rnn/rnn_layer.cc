// gluon.rnn.RNN, LSTM, GRU: MXNet 1.x's _RNNLayer on the fused RNN operator.
//
// NOTE [ RNN layer parameters ]
// MXNet 1.9.1 registers one i2h/h2h weight and bias per layer and direction on the layer
// ("lstm0_l0_i2h_weight"), but its _collect_params_with_prefix renames them for
// save/load_parameters as the cells of the equivalent unfused stack: "_unfused.0.i2h_weight",
// or bidirectional "_unfused.0.l_cell.i2h_weight" / "_unfused.0.r_cell.i2h_weight". Here the
// parameters live on child blocks laid out exactly that way ("_unfused" -> "0" [-> "l_cell"]),
// each with the prefix that gives MXNet's full name, so CollectParams lists the same names in
// the same order and save_parameters files are interchangeable with MXNet's. The children only
// hold parameters; the layer's forward reads them and packs them, in the RNN op's order
// (NOTE [ RNN parameter packing ] in src/operator/nn/rnn.cc: every weight layer-major, then
// direction, i2h before h2h; then every bias the same way), into its parameter vector.
#include <algorithm>
#include <sstream>
#include <utility>

#include "gluon/rnn/rnn_ops.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/rnn/rnn_layer.h"

namespace mixnet::gluon::rnn {
namespace {

constexpr const char* kParamNames[] = {"i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"};

/*!
 * \brief A block that only holds parameters (see NOTE [ RNN layer parameters ]). Made inside
 * the layer's scope, its dict derives from the layer's, so the layer's `params` share too.
 */
class ParamHolder final : public HybridBlock {
 public:
  explicit ParamHolder(std::string prefix)
      : HybridBlock("_unfused", BlockArgs{.prefix = std::move(prefix)}) {}
  std::vector<NDArray> HybridForward(const std::vector<NDArray>&) override {
    MX_THROW(NotImplementedError) << "rnn layer: " << prefix()
                                  << " only holds parameters; call the layer that owns it";
  }
};

int GatesOf(const std::string& mode) {
  if (mode == "lstm") return 4;
  if (mode == "gru") return 3;
  return 1;
}

std::string RnnMode(const std::string& activation) {
  const std::string act = activation.empty() ? "relu" : activation;
  MX_CHECK(act == "relu" || act == "tanh", ValueError)
      << "RNN: activation must be 'relu' or 'tanh' but is '" << act << "'";
  return "rnn_" + act;
}

}  // namespace

RecurrentLayer::RecurrentLayer(std::string alias, std::string mode, int hidden_size,
                               RNNLayerOptions options)
    : HybridBlock(std::move(alias), options),
      mode_(std::move(mode)),
      hidden_size_(hidden_size),
      gates_(GatesOf(mode_)),
      options_(std::move(options)) {
  const std::string cls = ClassName();
  MX_CHECK(hidden_size > 0, ValueError)
      << cls << ": hidden_size must be positive but is " << hidden_size;
  MX_CHECK(options_.num_layers > 0, ValueError)
      << cls << ": num_layers must be positive but is " << options_.num_layers;
  MX_CHECK(options_.layout == "TNC" || options_.layout == "NTC", ValueError)
      << cls << ": invalid layout '" << options_.layout << "'; must be one of ['TNC' or 'NTC']";
  MX_CHECK(options_.dropout >= 0 && options_.dropout < 1, ValueError)
      << cls << ": dropout must be in [0, 1) but is " << options_.dropout;
  MX_CHECK(options_.input_size >= 0, ValueError)
      << cls << ": input_size must be >= 0 but is " << options_.input_size;
  MX_CHECK(mode_ == "lstm" ||
               (!options_.state_clip_min && !options_.state_clip_max && !options_.state_clip_nan),
           ValueError)
      << cls << ": state_clip_min/max/nan are LSTM options";
  MX_CHECK(options_.state_clip_min.has_value() == options_.state_clip_max.has_value(), ValueError)
      << cls << ": state_clip_min and state_clip_max must be given together";
  MX_CHECK(mode_.starts_with("rnn_") || options_.activation.empty(), ValueError)
      << cls << ": activation is an RNN option";

  const auto zeros = std::make_shared<init::Zero>();
  const init::InitializerPtr inits[] = {
      options_.i2h_weight_initializer, options_.h2h_weight_initializer,
      options_.i2h_bias_initializer ? options_.i2h_bias_initializer : zeros,
      options_.h2h_bias_initializer ? options_.h2h_bias_initializer : zeros};
  const int64_t rows = int64_t{gates_} * hidden_size_;
  BlockScope scope(this);
  auto unfused = RegisterChild(std::make_shared<ParamHolder>(""), "_unfused");
  BlockScope unfused_scope(unfused.get());
  int64_t in = options_.input_size;
  for (int l = 0; l < options_.num_layers; ++l) {
    std::shared_ptr<ParamHolder> layer;
    if (options_.bidirectional)
      layer = unfused->RegisterChild(std::make_shared<ParamHolder>(""), std::to_string(l));
    std::optional<BlockScope> layer_scope;
    if (layer) layer_scope.emplace(layer.get());
    for (int d = 0; d < directions(); ++d) {
      const std::string dir = d == 0 ? "l" : "r";
      auto holder = std::make_shared<ParamHolder>(dir + std::to_string(l) + "_");
      if (layer)
        layer->RegisterChild(holder, dir + "_cell");
      else
        unfused->RegisterChild(holder, std::to_string(l));
      const Shape shapes[] = {Shape{rows, in}, Shape{rows, hidden_size_}, Shape{rows}, Shape{rows}};
      for (int k = 0; k < 4; ++k)
        weights_.push_back(
            holder->RegisterParameter(kParamNames[k], shapes[k],
                                      ParameterOptions{.dtype = options_.dtype, .init = inits[k]}));
    }
    in = int64_t{hidden_size_} * directions();
  }
}

ParameterPtr RecurrentLayer::param(int layer, char direction, const std::string& name) const {
  MX_CHECK(layer >= 0 && layer < options_.num_layers, IndexError)
      << Repr() << ": layer " << layer << " out of range";
  const int d = direction == 'l' ? 0 : direction == 'r' ? 1 : -1;
  MX_CHECK(d == 0 || (d == 1 && options_.bidirectional), ValueError)
      << Repr() << ": no direction '" << direction << "'";
  const auto* it = std::find(std::begin(kParamNames), std::end(kParamNames), name);
  MX_CHECK(it != std::end(kParamNames), ValueError)
      << Repr() << ": no parameter '" << name << "' (i2h_weight, h2h_weight, i2h_bias, h2h_bias)";
  return weights_[static_cast<size_t>((layer * directions() + d) * 4 +
                                      (it - std::begin(kParamNames)))];
}

std::vector<StateDesc> RecurrentLayer::StateInfo(int64_t batch_size) const {
  const Shape shape{int64_t{options_.num_layers} * directions(), batch_size, hidden_size_};
  std::vector<StateDesc> info{{shape, "LNC"}};
  if (mode_ == "lstm") info.push_back({shape, "LNC"});
  return info;
}

std::vector<NDArray> RecurrentLayer::BeginState(int64_t batch_size, Context ctx,
                                                DType dtype) const {
  std::vector<NDArray> states;
  for (const auto& info : StateInfo(batch_size))
    states.push_back(NDArray::Zeros(info.shape, dtype, ctx));
  return states;
}

void RecurrentLayer::InferShape(const std::vector<NDArray>& inputs) {
  MX_CHECK(!inputs.empty() && inputs[0].shape().ndim() == 3, ValueError)
      << Repr() << ": input data should be a rank-3 tensor of layout " << options_.layout
      << " but has shape " << (inputs.empty() ? Shape() : inputs[0].shape());
  const int64_t rows = int64_t{gates_} * hidden_size_;
  for (int d = 0; d < directions(); ++d)
    weights_[static_cast<size_t>(d * 4)]->SetShape(Shape{rows, inputs[0].shape()[2]});
}

void RecurrentLayer::FinishDeferredInit(const NDArray& x) {
  InferShape({x});
  for (const auto& p : weights_)
    if (p->deferred()) p->FinishDeferredInit();
}

std::vector<NDArray> RecurrentLayer::HybridForward(const std::vector<NDArray>& inputs) {
  const size_t num_states = mode_ == "lstm" ? 2 : 1;
  MX_CHECK(inputs.size() == 1 || inputs.size() == 1 + num_states, ValueError)
      << Repr() << ": takes the input, optionally followed by " << num_states
      << " state(s), but got " << inputs.size() << " arrays";
  NDArray x = inputs[0];
  FinishDeferredInit(x);
  const int64_t batch = x.shape()[static_cast<int>(options_.layout.find('N'))];
  const std::vector<StateDesc> info = StateInfo(batch);
  std::vector<NDArray> states;
  if (inputs.size() == 1) {
    // The states default to zeros made by an op, so that a trace records them.
    for (const auto& s : info)
      states.push_back(detail::Zeros(s.shape, x.ctx(), x.dtype()));
  } else {
    states.assign(inputs.begin() + 1, inputs.end());
    for (size_t i = 0; i < num_states; ++i)
      MX_CHECK(states[i].shape() == info[i].shape, ValueError)
          << Repr() << ": invalid recurrent state shape. Expecting " << info[i].shape << ", got "
          << states[i].shape();
  }
  if (options_.layout == "NTC") x = detail::SwapTimeBatch(x);

  std::vector<NDArray> flat;
  flat.reserve(weights_.size());
  for (int bias = 0; bias < 2; ++bias)
    for (size_t ld = 0; ld < weights_.size() / 4; ++ld)
      for (int h2h = 0; h2h < 2; ++h2h)
        flat.push_back(detail::Reshape(weights_[ld * 4 + bias * 2 + h2h]->data(x.ctx()), {-1}));
  std::vector<NDArray> args{x, detail::Join("Concat", flat, 0)};
  args.insert(args.end(), states.begin(), states.end());
  op::AttrDict attrs{{"state_size", detail::Attr(int64_t{hidden_size_})},
                     {"num_layers", detail::Attr(int64_t{options_.num_layers})},
                     {"bidirectional", detail::Attr(options_.bidirectional)},
                     {"mode", mode_},
                     {"p", detail::Attr(options_.dropout)},
                     {"state_outputs", "True"}};
  if (options_.state_clip_min) {
    attrs.emplace_back("lstm_state_clip_min", detail::Attr(*options_.state_clip_min));
    attrs.emplace_back("lstm_state_clip_max", detail::Attr(*options_.state_clip_max));
  }
  if (options_.state_clip_nan) attrs.emplace_back("lstm_state_clip_nan", "True");
  std::vector<NDArray> out = op::Invoke("RNN", args, attrs);
  if (options_.layout == "NTC") out[0] = detail::SwapTimeBatch(out[0]);
  if (inputs.size() == 1) out.resize(1);
  return out;
}

std::string RecurrentLayer::ClassName() const {
  return mode_ == "lstm" ? "LSTM" : mode_ == "gru" ? "GRU" : "RNN";
}

std::string RecurrentLayer::Repr() const {
  const Shape& w = weights_[0]->shape();
  std::ostringstream os;
  os << ClassName() << "(";
  if (w.ndim() == 2 && w[1] > 0)
    os << w[1];
  else
    os << "None";
  os << " -> " << hidden_size_ << ", " << options_.layout;
  if (options_.num_layers != 1) os << ", num_layers=" << options_.num_layers;
  if (options_.dropout != 0) os << ", dropout=" << options_.dropout;
  if (options_.bidirectional) os << ", bidirectional";
  os << ")";
  return os.str();
}

RNN::RNN(int hidden_size, RNNLayerOptions options)
    // Not moved: the mode is read from the same options (argument order is unspecified).
    : RecurrentLayer("rnn", RnnMode(options.activation), hidden_size, options) {}

LSTM::LSTM(int hidden_size, RNNLayerOptions options)
    : RecurrentLayer("lstm", "lstm", hidden_size, std::move(options)) {}

GRU::GRU(int hidden_size, RNNLayerOptions options)
    : RecurrentLayer("gru", "gru", hidden_size, std::move(options)) {}

}  // namespace mixnet::gluon::rnn
