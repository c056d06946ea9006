// Gluon convolution, pooling and padding layers (MXNet 1.9.1 gluon/nn/conv_layers.py) over the
// Convolution, Deconvolution, Pooling and Pad ops.
#include "mixnet/gluon/nn/conv_layers.h"

#include "layer_util.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::nn {

using detail::CallOp;
using detail::SingleInput;
using detail::TupleRepr;
using op::AttrValue;

namespace {

const char* DefaultLayout(int ndim) {
  return ndim == 1 ? "NCW" : ndim == 2 ? "NCHW" : "NCDHW";
}

// The layouts MXNet's layers accept for `ndim` spatial dimensions (the ops themselves run
// channels-first only and reject the others with their own error).
std::string CheckLayout(const std::string& layout, int ndim, bool channels_last_ok,
                        const std::string& layer) {
  static const char* const kLast[] = {"NWC", "NHWC", "NDHWC"};
  const std::string l = layout.empty() ? DefaultLayout(ndim) : layout;
  MX_CHECK(l == DefaultLayout(ndim) || (channels_last_ok && l == kLast[ndim - 1]), ValueError)
      << layer << ": unsupported layout '" << l << "'";
  return l;
}

// One value per spatial dimension: `v` itself, a single value repeated, or `fallback` when
// empty (MXNet's "if isinstance(x, numeric_types): x = (x,) * len(kernel_size)").
std::vector<int> PerDim(const std::vector<int>& v, int ndim, int fallback, const char* what,
                        const std::string& layer) {
  if (v.empty()) return std::vector<int>(ndim, fallback);
  if (v.size() == 1) return std::vector<int>(ndim, v[0]);
  MX_CHECK(static_cast<int>(v.size()) == ndim, ValueError)
      << layer << ": " << what << " must have 1 or " << ndim << " values, got " << TupleRepr(v);
  return v;
}

}  // namespace

// ---- convolutions ----

ConvBase::ConvBase(std::string class_name, int ndim, bool transpose, int channels,
                   std::vector<int> kernel_size, ConvOptions options)
    : HybridBlock("conv", options),  // NOTE: MXNet's _Conv._alias is "conv" for every form
      class_name_(std::move(class_name)),
      transpose_(transpose),
      channels_(channels),
      o_(std::move(options)) {
  const std::string& n = class_name_;
  MX_CHECK(!kernel_size.empty(), ValueError) << n << ": kernel_size is empty";
  kernel_ = PerDim(kernel_size, ndim, 0, "kernel_size", n);
  strides_ = PerDim(o_.strides, ndim, 1, "strides", n);
  padding_ = PerDim(o_.padding, ndim, 0, "padding", n);
  dilation_ = PerDim(o_.dilation, ndim, 1, "dilation", n);
  MX_CHECK(transpose || o_.output_padding.empty(), ValueError)
      << n << ": output_padding applies to the transposed convolutions only";
  output_padding_ = PerDim(o_.output_padding, ndim, 0, "output_padding", n);
  o_.layout = CheckLayout(o_.layout, ndim, ndim > 1, n);
  MX_CHECK(channels > 0, ValueError) << n << ": channels must be positive, got " << channels;
  MX_CHECK(o_.groups >= 1 && channels % o_.groups == 0, ValueError)
      << n << ": groups=" << o_.groups << " must be >= 1 and divide channels=" << channels;
  MX_CHECK(o_.in_channels >= 0 && o_.in_channels % o_.groups == 0, ValueError)
      << n << ": in_channels=" << o_.in_channels << " must be >= 0 (0: inferred) and divisible "
      << "by groups=" << o_.groups;
  BlockScope scope(this);
  weight_ =
      RegisterParameter("weight", WeightShape(o_.in_channels), {.init = o_.weight_initializer});
  if (o_.use_bias) {
    bias_ = RegisterParameter("bias", Shape{channels},
                              {.init = detail::OrDefault(o_.bias_initializer, false)});
  }
  act_ = detail::RegisterActivation(this, o_.activation);
}

// MXNet's weight shapes, in the data layout's order: N -> out, C -> in / groups (Convolution),
// or N -> in, C -> out / groups (Deconvolution); spatial axes take the kernel.
Shape ConvBase::WeightShape(int64_t in_channels) const {
  const int64_t n = transpose_ ? in_channels : channels_;
  const int64_t c = transpose_ ? channels_ / o_.groups : in_channels / o_.groups;
  std::vector<int64_t> dims;
  size_t k = 0;
  for (char axis : o_.layout)
    dims.push_back(axis == 'N' ? n : axis == 'C' ? c : kernel_[k++]);
  return Shape(std::span<const int64_t>(dims));
}

void ConvBase::InferShape(const std::vector<NDArray>& inputs) {
  const Shape& s = SingleInput(inputs, class_name_).shape();
  MX_CHECK(s.ndim() == static_cast<int>(o_.layout.size()), ValueError)
      << class_name_ << ": expects input with " << o_.layout.size() << " axes (" << o_.layout
      << "), got shape " << s;
  const int64_t in_channels = s[static_cast<int>(o_.layout.find('C'))];
  MX_CHECK(in_channels % o_.groups == 0, ValueError)
      << class_name_ << ": the input's " << in_channels
      << " channels are not divisible by groups=" << o_.groups;
  weight_->SetShape(WeightShape(in_channels));
}

std::vector<NDArray> ConvBase::HybridForward(const std::vector<NDArray>& inputs) {
  const NDArray& x = SingleInput(inputs, class_name_);
  std::vector<NDArray> in{x, weight_->data(x.ctx())};
  if (bias_) in.push_back(bias_->data(x.ctx()));
  op::AttrDict attrs{{"kernel", AttrValue(detail::ToInt64(kernel_))},
                     {"stride", AttrValue(detail::ToInt64(strides_))},
                     {"dilate", AttrValue(detail::ToInt64(dilation_))},
                     {"pad", AttrValue(detail::ToInt64(padding_))},
                     {"num_filter", std::to_string(channels_)},
                     {"num_group", std::to_string(o_.groups)},
                     {"no_bias", AttrValue(bias_ == nullptr)},
                     {"layout", o_.layout}};
  if (transpose_) attrs.emplace_back("adj", AttrValue(detail::ToInt64(output_padding_)));
  NDArray y = CallOp(transpose_ ? "Deconvolution" : "Convolution", in, attrs);
  if (act_) y = (*act_)(y);
  return {y};
}

std::string ConvBase::Repr() const {
  // MXNet prints weight.shape[1] -> weight.shape[0] for every form (for the transposed ones
  // that is out / groups -> in).
  const Shape& w = weight_->shape();
  std::string s = class_name_ + "(" + (w[1] ? std::to_string(w[1]) : "None") + " -> " +
                  std::to_string(w[0]) + ", kernel_size=" + TupleRepr(kernel_) +
                  ", stride=" + TupleRepr(strides_);
  const size_t nd = kernel_.size();
  if (padding_ != std::vector<int>(nd, 0)) s += ", padding=" + TupleRepr(padding_);
  if (dilation_ != std::vector<int>(nd, 1)) s += ", dilation=" + TupleRepr(dilation_);
  if (o_.groups != 1) s += ", groups=" + std::to_string(o_.groups);
  if (!bias_) s += ", bias=False";
  if (act_) s += ", " + act_->Repr();
  return s + ")";
}

// ---- pooling ----

PoolBase::PoolBase(std::string class_name, int ndim, std::string pool_type, PoolOptions options)
    : PoolBase(std::move(class_name), ndim, std::move(pool_type), false, std::move(options)) {}

PoolBase::PoolBase(std::string class_name, int ndim, std::string pool_type,
                   GlobalPoolOptions options)
    : PoolBase(std::move(class_name), ndim, std::move(pool_type), true, [&] {
        // MXNet's global pools: pool_size (1, ...), ceil_mode True, count_include_pad unset.
        PoolOptions p;
        static_cast<BlockArgs&>(p) = options;
        p.pool_size = {1};
        p.ceil_mode = true;
        p.layout = options.layout;
        return p;
      }()) {}

PoolBase::PoolBase(std::string class_name, int ndim, std::string pool_type, bool global_pool,
                   PoolOptions options)
    : HybridBlock("pool", options),  // MXNet's _Pooling._alias is "pool" for every form
      class_name_(std::move(class_name)),
      pool_type_(std::move(pool_type)),
      global_pool_(global_pool),
      ceil_mode_(options.ceil_mode),
      count_include_pad_(options.count_include_pad) {
  pool_size_ = PerDim(options.pool_size, ndim, 2, "pool_size", class_name_);
  strides_ = options.strides.empty() ? pool_size_
                                     : PerDim(options.strides, ndim, 1, "strides", class_name_);
  padding_ = PerDim(options.padding, ndim, 0, "padding", class_name_);
  layout_ = CheckLayout(options.layout, ndim, true, class_name_);
}

std::vector<NDArray> PoolBase::HybridForward(const std::vector<NDArray>& inputs) {
  op::AttrDict attrs{{"kernel", AttrValue(detail::ToInt64(pool_size_))},
                     {"stride", AttrValue(detail::ToInt64(strides_))},
                     {"pad", AttrValue(detail::ToInt64(padding_))},
                     {"global_pool", AttrValue(global_pool_)},
                     {"pool_type", pool_type_},
                     {"layout", layout_},
                     {"pooling_convention", ceil_mode_ ? "full" : "valid"}};
  // MXNet passes count_include_pad only from the (non-global) average pools.
  if (pool_type_ == "avg" && !global_pool_)
    attrs.emplace_back("count_include_pad", AttrValue(count_include_pad_));
  return {CallOp("Pooling", {SingleInput(inputs, class_name_)}, attrs)};
}

std::string PoolBase::Repr() const {
  return class_name_ + "(size=" + TupleRepr(pool_size_) + ", stride=" + TupleRepr(strides_) +
         ", padding=" + TupleRepr(padding_) + ", ceil_mode=" + AttrValue(ceil_mode_) +
         ", global_pool=" + AttrValue(global_pool_) + ", pool_type=" + pool_type_ +
         ", layout=" + layout_ + ")";
}

// ---- padding ----

ReflectionPad2D::ReflectionPad2D(std::vector<int> padding, BlockArgs args)
    : HybridBlock("reflectionpad2d", std::move(args)) {
  if (padding.size() == 1) {
    const int p = padding[0];
    padding = {0, 0, 0, 0, p, p, p, p};
  }
  MX_CHECK(padding.size() == 8, ValueError)
      << "ReflectionPad2D: padding must be one value or 8 pad_width values, got "
      << TupleRepr(padding);
  padding_ = std::move(padding);
}

std::vector<NDArray> ReflectionPad2D::HybridForward(const std::vector<NDArray>& inputs) {
  return {CallOp("Pad", {SingleInput(inputs, "ReflectionPad2D")},
                 {{"mode", "reflect"}, {"pad_width", AttrValue(detail::ToInt64(padding_))}})};
}

std::string ReflectionPad2D::Repr() const {
  return detail::ChildrenRepr("ReflectionPad2D", *this);
}

}  // namespace mixnet::gluon::nn
