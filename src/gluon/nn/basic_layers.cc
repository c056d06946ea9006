// Gluon basic layers (MXNet 1.9.1 gluon/nn/basic_layers.py and gluon/contrib/nn): the same
// parameters (names, shapes, grad_req, default initializers) and the same ops.
#include "mixnet/gluon/nn/basic_layers.h"

#include "layer_util.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::nn {

using detail::CallOp;
using detail::FloatRepr;
using detail::OrDefault;
using detail::SingleInput;
using op::AttrValue;

namespace {

// The (gamma, beta) pair of the normalisation layers: grad_req null for the one switched
// off (scale / center false), as MXNet.
std::pair<ParameterPtr, ParameterPtr> RegisterGammaBeta(Block* block, int64_t size, bool scale,
                                                        bool center,
                                                        const init::InitializerPtr& gamma_init,
                                                        const init::InitializerPtr& beta_init) {
  ParameterPtr gamma = block->RegisterParameter(
      "gamma", Shape{size},
      {.grad_req = scale ? GradReq::kWrite : GradReq::kNull, .init = OrDefault(gamma_init, true)});
  ParameterPtr beta = block->RegisterParameter(
      "beta", Shape{size},
      {.grad_req = center ? GradReq::kWrite : GradReq::kNull, .init = OrDefault(beta_init, false)});
  return {gamma, beta};
}

// Deferred shape of the per-channel parameters: the input's size along `axis`.
void SetChannels(const std::vector<NDArray>& inputs, int axis, std::string_view layer,
                 std::initializer_list<ParameterPtr> params) {
  const Shape& s = SingleInput(inputs, layer).shape();
  const int64_t channels = s[detail::NormalizeAxis(axis, s.ndim(), layer)];
  for (const ParameterPtr& p : params)
    p->SetShape(Shape{channels});
}

std::string NormRepr(const char* name, const std::string& content) {
  return std::string(name) + "(" + content + ")";
}

}  // namespace

// ---- containers ----

template <typename Base>
BlockPtr SequentialContainer<Base>::operator[](size_t i) const {
  MX_CHECK(i < size(), IndexError)
      << this->name() << ": index " << i << " is out of range for " << size() << " children";
  return this->children()[i].second;
}
template class SequentialContainer<Block>;
template class SequentialContainer<HybridBlock>;

namespace {
// Each child's outputs are the next one's inputs.
std::vector<NDArray> RunInSequence(const Block& block, std::vector<NDArray> x) {
  for (const auto& [key, child] : block.children())
    x = (*child)(x);
  return x;
}

// Each child on the same inputs, first outputs joined on `axis` (MXNet's F.concat).
NDArray RunConcurrent(const Block& block, const std::vector<NDArray>& inputs, int axis) {
  std::vector<NDArray> outs;
  for (const auto& [key, child] : block.children())
    outs.push_back((*child)(inputs).at(0));
  MX_CHECK(!outs.empty(), ValueError) << block.name() << ": Concurrent has no children";
  return CallOp("Concat", outs,
                {{"num_args", std::to_string(outs.size())}, {"dim", std::to_string(axis)}});
}
}  // namespace

std::vector<NDArray> Sequential::Forward(const std::vector<NDArray>& inputs) {
  return RunInSequence(*this, inputs);
}

std::string Sequential::Repr() const {
  return detail::ChildrenRepr("Sequential", *this);
}

std::vector<NDArray> HybridSequential::HybridForward(const std::vector<NDArray>& inputs) {
  return RunInSequence(*this, inputs);
}

std::string HybridSequential::Repr() const {
  return detail::ChildrenRepr("HybridSequential", *this);
}

Concurrent::Concurrent(int axis, BlockArgs args)
    : Sequential("concurrent", std::move(args)), axis_(axis) {}

std::vector<NDArray> Concurrent::Forward(const std::vector<NDArray>& inputs) {
  return {RunConcurrent(*this, inputs, axis_)};
}

std::string Concurrent::Repr() const {
  return detail::ChildrenRepr("Concurrent", *this);
}

HybridConcurrent::HybridConcurrent(int axis, BlockArgs args)
    : HybridSequential("hybridconcurrent", std::move(args)), axis_(axis) {}

std::vector<NDArray> HybridConcurrent::HybridForward(const std::vector<NDArray>& inputs) {
  return {RunConcurrent(*this, inputs, axis_)};
}

std::string HybridConcurrent::Repr() const {
  return detail::ChildrenRepr("HybridConcurrent", *this);
}

Identity::Identity(BlockArgs args) : HybridBlock("identity", std::move(args)) {}

std::vector<NDArray> Identity::HybridForward(const std::vector<NDArray>& inputs) {
  return {SingleInput(inputs, "Identity")};
}

std::string Identity::Repr() const {
  return detail::ChildrenRepr("Identity", *this);
}

Lambda::Lambda(LambdaFunction function, BlockArgs args)
    : Block("lambda", std::move(args)), function_(std::move(function)) {
  MX_CHECK(function_ != nullptr, ValueError) << "Lambda: the function is empty";
}

std::vector<NDArray> Lambda::Forward(const std::vector<NDArray>& inputs) {
  return function_(inputs);
}

std::string Lambda::Repr() const {
  return "Lambda(<lambda>)";
}

HybridLambda::HybridLambda(LambdaFunction function, std::string alias, BlockArgs args)
    : HybridBlock(std::move(alias), std::move(args)), function_(std::move(function)) {
  MX_CHECK(function_ != nullptr, ValueError) << "HybridLambda: the function is empty";
}

std::vector<NDArray> HybridLambda::HybridForward(const std::vector<NDArray>& inputs) {
  return function_(inputs);
}

std::string HybridLambda::Repr() const {
  return "HybridLambda(<lambda>)";
}

// ---- Dense ----

Dense::Dense(int units, DenseOptions options)
    : HybridBlock("dense", options), units_(units), flatten_(options.flatten) {
  MX_CHECK(units > 0, ValueError) << "Dense: units must be positive, got " << units;
  MX_CHECK(options.in_units >= 0, ValueError)
      << "Dense: in_units must be >= 0 (0: inferred), got " << options.in_units;
  BlockScope scope(this);
  weight_ = RegisterParameter("weight", Shape{units, options.in_units},
                              {.dtype = options.dtype, .init = options.weight_initializer});
  if (options.use_bias) {
    bias_ = RegisterParameter(
        "bias", Shape{units},
        {.dtype = options.dtype, .init = OrDefault(options.bias_initializer, false)});
  }
  act_ = detail::RegisterActivation(this, options.activation);
}

void Dense::InferShape(const std::vector<NDArray>& inputs) {
  const Shape& s = SingleInput(inputs, "Dense").shape();
  MX_CHECK(s.ndim() >= 1, ValueError) << "Dense: the input must have at least 1 axis, got a "
                                      << "scalar";
  const int64_t in_units = flatten_ ? s.ProdDims(1, s.ndim()) : s[s.ndim() - 1];
  weight_->SetShape(Shape{units_, in_units});
}

std::vector<NDArray> Dense::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "Dense");
  std::vector<NDArray> in{x, weight_->data(x.ctx())};
  if (bias_) in.push_back(bias_->data(x.ctx()));
  NDArray y = CallOp("FullyConnected", in,
                     {{"num_hidden", std::to_string(units_)},
                      {"no_bias", AttrValue(bias_ == nullptr)},
                      {"flatten", AttrValue(flatten_)}});
  if (act_) y = (*act_)(y);
  return {y};
}

std::string Dense::Repr() const {
  const Shape& w = weight_->shape();
  const std::string in = w.ndim() == 2 && w[1] > 0 ? std::to_string(w[1]) : "None";
  return "Dense(" + in + " -> " + std::to_string(units_) + ", " + (act_ ? act_->Repr() : "linear") +
         ")";
}

// ---- Dropout ----

Dropout::Dropout(double rate, DropoutOptions options)
    : HybridBlock("dropout", options), rate_(rate), axes_(std::move(options.axes)) {
  MX_CHECK(rate >= 0 && rate < 1, ValueError) << "Dropout: rate must be in [0, 1), got " << rate;
}

std::vector<NDArray> Dropout::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "Dropout");
  if (rate_ > 0) {
    return {CallOp("Dropout", {x},
                   {{"p", AttrValue(rate_)}, {"axes", AttrValue(detail::ToInt64(axes_))}})};
  }
  return {CallOp("_copy", {x})};  // MXNet's F.identity
}

std::string Dropout::Repr() const {
  return "Dropout(p = " + FloatRepr(rate_) + ", axes=" + detail::TupleRepr(axes_) + ")";
}

// ---- BatchNorm ----

BatchNorm::BatchNorm(BatchNormOptions options) : HybridBlock("batchnorm", options), o_(options) {
  MX_CHECK(options.in_channels >= 0, ValueError)
      << "BatchNorm: in_channels must be >= 0 (0: inferred), got " << options.in_channels;
  std::tie(gamma_, beta_) =
      RegisterGammaBeta(this, options.in_channels, options.scale, options.center,
                        options.gamma_initializer, options.beta_initializer);
  // The running statistics are aux states: no gradient, updated by the op in training.
  running_mean_ = RegisterParameter("running_mean", Shape{options.in_channels},
                                    {.grad_req = GradReq::kNull,
                                     .init = OrDefault(options.running_mean_initializer, false),
                                     .differentiable = false});
  running_var_ = RegisterParameter("running_var", Shape{options.in_channels},
                                   {.grad_req = GradReq::kNull,
                                    .init = OrDefault(options.running_variance_initializer, true),
                                    .differentiable = false});
}

void BatchNorm::InferShape(const std::vector<NDArray>& inputs) {
  SetChannels(inputs, o_.axis, "BatchNorm", {gamma_, beta_, running_mean_, running_var_});
}

std::vector<NDArray> BatchNorm::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "BatchNorm");
  const Context ctx = x.ctx();
  return {CallOp(
      "BatchNorm",
      {x, gamma_->data(ctx), beta_->data(ctx), running_mean_->data(ctx), running_var_->data(ctx)},
      {{"axis", std::to_string(o_.axis)},
       {"eps", AttrValue(o_.epsilon)},
       {"momentum", AttrValue(o_.momentum)},
       {"fix_gamma", AttrValue(!o_.scale)},
       {"use_global_stats", AttrValue(o_.use_global_stats)}})};
}

void BatchNorm::Cast(DType dtype) {
  HybridBlock::Cast(dtype == DType::kFloat16 ? DType::kFloat32 : dtype);
}

std::string BatchNorm::Repr() const {
  const int64_t c = gamma_->shape().ndim() == 1 ? gamma_->shape()[0] : 0;
  return NormRepr("BatchNorm", "axis=" + std::to_string(o_.axis) + ", eps=" +
                                   FloatRepr(o_.epsilon) + ", momentum=" + FloatRepr(o_.momentum) +
                                   ", fix_gamma=" + AttrValue(!o_.scale) +
                                   ", use_global_stats=" + AttrValue(o_.use_global_stats) +
                                   ", in_channels=" + (c ? std::to_string(c) : "None"));
}

// ---- LayerNorm, GroupNorm, InstanceNorm ----

LayerNorm::LayerNorm(LayerNormOptions options) : HybridBlock("layernorm", options), o_(options) {
  std::tie(gamma_, beta_) =
      RegisterGammaBeta(this, options.in_channels, options.scale, options.center,
                        options.gamma_initializer, options.beta_initializer);
}

void LayerNorm::InferShape(const std::vector<NDArray>& inputs) {
  SetChannels(inputs, o_.axis, "LayerNorm", {gamma_, beta_});
}

std::vector<NDArray> LayerNorm::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "LayerNorm");
  return {CallOp("LayerNorm", {x, gamma_->data(x.ctx()), beta_->data(x.ctx())},
                 {{"axis", std::to_string(o_.axis)}, {"eps", AttrValue(o_.epsilon)}})};
}

std::string LayerNorm::Repr() const {
  return NormRepr("LayerNorm",
                  "eps=" + FloatRepr(o_.epsilon) + ", axis=" + std::to_string(o_.axis) +
                      ", center=" + AttrValue(o_.center) + ", scale=" + AttrValue(o_.scale) +
                      ", in_channels=" + std::to_string(gamma_->shape()[0]));
}

GroupNorm::GroupNorm(GroupNormOptions options) : HybridBlock("groupnorm", options), o_(options) {
  MX_CHECK(options.num_groups >= 1, ValueError)
      << "GroupNorm: num_groups must be >= 1, got " << options.num_groups;
  std::tie(gamma_, beta_) =
      RegisterGammaBeta(this, options.num_groups, options.scale, options.center,
                        options.gamma_initializer, options.beta_initializer);
}

std::vector<NDArray> GroupNorm::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "GroupNorm");
  return {CallOp("GroupNorm", {x, gamma_->data(x.ctx()), beta_->data(x.ctx())},
                 {{"num_groups", std::to_string(o_.num_groups)}, {"eps", AttrValue(o_.epsilon)}})};
}

std::string GroupNorm::Repr() const {
  return NormRepr("GroupNorm",
                  "eps=" + FloatRepr(o_.epsilon) + ", num_groups=" + std::to_string(o_.num_groups) +
                      ", center=" + AttrValue(o_.center) + ", scale=" + AttrValue(o_.scale));
}

InstanceNorm::InstanceNorm(InstanceNormOptions options)
    : HybridBlock("instancenorm", options), o_(options) {
  std::tie(gamma_, beta_) =
      RegisterGammaBeta(this, options.in_channels, options.scale, options.center,
                        options.gamma_initializer, options.beta_initializer);
}

void InstanceNorm::InferShape(const std::vector<NDArray>& inputs) {
  SetChannels(inputs, o_.axis, "InstanceNorm", {gamma_, beta_});
}

std::vector<NDArray> InstanceNorm::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "InstanceNorm");
  // The op normalises per (sample, axis 1): another channel axis is swapped there and back,
  // as MXNet does.
  const bool swap = o_.axis != 1;
  const op::AttrDict swap_attrs{{"dim1", "1"}, {"dim2", std::to_string(o_.axis)}};
  NDArray y = swap ? CallOp("SwapAxis", {x}, swap_attrs) : x;
  y = CallOp("InstanceNorm", {y, gamma_->data(x.ctx()), beta_->data(x.ctx())},
             {{"eps", AttrValue(o_.epsilon)}});
  return {swap ? CallOp("SwapAxis", {y}, swap_attrs) : y};
}

std::string InstanceNorm::Repr() const {
  return NormRepr("InstanceNorm",
                  "eps=" + FloatRepr(o_.epsilon) + ", axis=" + std::to_string(o_.axis) +
                      ", center=" + AttrValue(o_.center) + ", scale=" + AttrValue(o_.scale) +
                      ", in_channels=" + std::to_string(gamma_->shape()[0]));
}

// ---- Embedding, Flatten ----

Embedding::Embedding(int input_dim, int output_dim, EmbeddingOptions options)
    : HybridBlock("embedding", options),
      input_dim_(input_dim),
      output_dim_(output_dim),
      o_(options) {
  MX_CHECK(input_dim > 0 && output_dim > 0, ValueError)
      << "Embedding: input_dim and output_dim must be positive, got " << input_dim << " and "
      << output_dim;
  weight_ = RegisterParameter("weight", Shape{input_dim, output_dim},
                              {.dtype = options.dtype, .init = options.weight_initializer});
}

std::vector<NDArray> Embedding::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, "Embedding");
  return {CallOp("Embedding", {x, weight_->data(x.ctx())},
                 {{"input_dim", std::to_string(input_dim_)},
                  {"output_dim", std::to_string(output_dim_)},
                  {"dtype", DTypeName(o_.dtype)},
                  {"sparse_grad", AttrValue(o_.sparse_grad)}})};
}

std::string Embedding::Repr() const {
  return "Embedding(" + std::to_string(input_dim_) + " -> " + std::to_string(output_dim_) + ", " +
         DTypeName(o_.dtype) + ")";
}

Flatten::Flatten(BlockArgs args) : HybridBlock("flatten", std::move(args)) {}

std::vector<NDArray> Flatten::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("Flatten", {SingleInput(inputs, "Flatten")})};
}

std::string Flatten::Repr() const {
  return "Flatten";
}

}  // namespace mixnet::gluon::nn
