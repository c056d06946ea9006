// Parameter, Constant and ParameterDict (MXNet 1.x gluon.Parameter semantics).
#include "mixnet/gluon/parameter.h"

#include <algorithm>
#include <iostream>
#include <regex>
#include <sstream>

#include "mixnet/base/error.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/symbol/symbol.h"
#include "mixnet/symbol/trace.h"

namespace mixnet::gluon {
namespace {

// Gluon's shapes use 0 (MXNet 1.x) or -1 for an unknown dimension, and an unknown rank.
bool DimKnown(int64_t d) {
  return d > 0;
}

/*! \brief The known dims of `want` agree with `got` (an unknown rank agrees with anything). */
bool Compatible(const Shape& want, const Shape& got) {
  if (want.is_unknown()) return true;
  if (want.ndim() != got.ndim()) return false;
  for (int i = 0; i < want.ndim(); ++i)
    if (DimKnown(want[i]) && DimKnown(got[i]) && want[i] != got[i]) return false;
  return true;
}

bool FullyKnown(const Shape& s) {
  if (s.is_unknown()) return false;
  for (int i = 0; i < s.ndim(); ++i)
    if (!DimKnown(s[i])) return false;
  return true;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i];
  return out;
}

}  // namespace

// ---------------------------------------------------------------- Parameter

Parameter::Parameter(std::string name, Shape shape, ParameterOptions options)
    : lr_mult(options.lr_mult),
      wd_mult(options.wd_mult),
      name_(std::move(name)),
      shape_(std::move(shape)),
      dtype_(options.dtype),
      grad_req_(options.differentiable ? options.grad_req : GradReq::kNull),
      init_(std::move(options.init)),
      allow_deferred_init_(options.allow_deferred_init),
      differentiable_(options.differentiable) {}

void Parameter::SetShape(const Shape& shape) {
  MX_CHECK(Compatible(shape_, shape), ValueError)
      << "Parameter '" << name_ << "': expected shape " << shape_
      << " is incompatible with given shape " << shape;
  if (shape_.is_unknown()) {
    shape_ = shape;
    return;
  }
  std::vector<int64_t> dims(shape_.begin(), shape_.end());
  for (size_t i = 0; i < dims.size(); ++i)
    if (!DimKnown(dims[i])) dims[i] = shape[static_cast<int>(i)];
  shape_ = Shape(dims);
}

void Parameter::SetGradReq(GradReq req) {
  if (!differentiable_) req = GradReq::kNull;
  if (req == grad_req_) return;
  grad_req_ = req;
  if (req == GradReq::kNull) {
    grad_.clear();
    for (NDArray& d : data_)
      d = autograd::Detach(d);
  } else if (initialized()) {
    AttachGrads();
  }
}

void Parameter::Initialize(init::InitializerPtr init, std::vector<Context> ctxs,
                           init::InitializerPtr default_init, bool force_reinit) {
  if (initialized() && !force_reinit) {
    std::cerr << "Warning: Parameter '" << name_
              << "' is already initialized, ignoring. Set force_reinit=True to re-initialize.\n";
    return;
  }
  data_.clear();
  grad_.clear();
  ctxs_ = ctxs.empty() ? std::vector<Context>{Context::cpu()} : std::move(ctxs);
  // MXNet: the parameter's own initializer wins over the one passed here (the block's).
  init::InitializerPtr chosen = init_ ? init_ : init ? init : default_init;
  if (!chosen) chosen = std::make_shared<init::Uniform>();
  if (!FullyKnown(shape_)) {
    MX_CHECK(allow_deferred_init_, ValueError)
        << "Parameter '" << name_ << "': cannot initialize with unknown shape " << shape_
        << " (allow_deferred_init is off); give the full shape";
    deferred_ = true;
    deferred_init_ = std::move(chosen);
    return;
  }
  AllocateAndInit(chosen);
}

void Parameter::FinishDeferredInit() {
  if (!deferred_) return;
  MX_CHECK(FullyKnown(shape_), ValueError)
      << "Parameter '" << name_ << "': cannot finish deferred initialization, the shape " << shape_
      << " is still unknown after the layer inferred shapes from its input";
  deferred_ = false;
  AllocateAndInit(deferred_init_);
  deferred_init_.reset();
}

void Parameter::AllocateAndInit(const init::InitializerPtr& init) {
  NDArray first = NDArray::Zeros(shape_, dtype_, ctxs_[0]);
  // MXNet 1.x hands the chosen initializer to the global one as the `__init__` attribute, which
  // applies its weight rule whatever the name: layers give biases their own (zero) initializer.
  init->InitWeight(name_, first);
  data_.clear();
  data_.push_back(first);
  for (size_t i = 1; i < ctxs_.size(); ++i)
    data_.push_back(first.Copy(ctxs_[i]));
  if (grad_req_ != GradReq::kNull) AttachGrads();
}

void Parameter::AttachGrads() {
  grad_.clear();
  for (NDArray& d : data_) {
    d = autograd::Detach(d);
    NDArray g = NDArray::Zeros(d.shape(), d.dtype(), d.ctx());
    autograd::MarkVariables(std::span<NDArray>(&d, 1), std::span<const NDArray>(&g, 1),
                            std::span<const GradReq>(&grad_req_, 1));
    grad_.push_back(g);
  }
}

namespace {
size_t CtxIndex(const std::vector<Context>& ctxs, Context ctx, const std::string& name,
                const char* what) {
  for (size_t i = 0; i < ctxs.size(); ++i)
    if (ctxs[i] == ctx) return i;
  std::ostringstream os;
  for (size_t i = 0; i < ctxs.size(); ++i)
    os << (i ? ", " : "") << ctxs[i];
  MX_THROW(ValueError) << "Parameter '" << name << "': " << what << " was not initialized on "
                       << ctx << ". It was only initialized on [" << os.str() << "]";
}
}  // namespace

NDArray Parameter::data(Context ctx) const {
  if (data_.empty()) {
    MX_CHECK(!deferred_, ValueError)
        << "Parameter '" << name_
        << "' has not been initialized yet because initialization was deferred (shape " << shape_
        << " is not known yet). Actual initialization happens during the first forward pass: "
           "pass one batch of data through the network before accessing Parameters";
    MX_THROW(ValueError) << "Parameter '" << name_
                         << "' has not been initialized. Note that you should initialize "
                            "parameters and create Trainer with Block.collect_params() instead of "
                            "Block.params because the later does not include Parameters of "
                            "nested child Blocks";
  }
  const NDArray& d = data_[CtxIndex(ctxs_, ctx, name_, "data")];
  if (sym::TraceScope* trace = sym::TraceScope::Current()) {
    sym::VariableOptions v;
    v.shape = shape_;
    v.dtype = dtype_;
    v.lr_mult = lr_mult;
    v.wd_mult = wd_mult;
    return trace->Variable(d, name_, v);
  }
  return d;
}

std::vector<NDArray> Parameter::list_data() const {
  if (data_.empty()) (void)data(Context::cpu());  // raises the right error
  return data_;
}

NDArray Parameter::grad(Context ctx) const {
  MX_CHECK(grad_req_ != GradReq::kNull, ValueError)
      << "Parameter '" << name_ << "': cannot get gradient array because grad_req='null'";
  if (data_.empty()) (void)data(ctx);
  return grad_[CtxIndex(ctxs_, ctx, name_, "gradient")];
}

std::vector<NDArray> Parameter::list_grad() const {
  MX_CHECK(grad_req_ != GradReq::kNull, ValueError)
      << "Parameter '" << name_ << "': cannot get gradient array because grad_req='null'";
  if (data_.empty()) (void)data(Context::cpu());
  return grad_;
}

std::vector<Context> Parameter::list_ctx() const {
  MX_CHECK(!data_.empty() || deferred_, ValueError)
      << "Parameter '" << name_ << "' has not been initialized";
  return ctxs_;
}

void Parameter::SetData(const NDArray& value) {
  MX_CHECK(!value.is_none(), ValueError) << "Parameter '" << name_ << "': set_data with none";
  if (data_.empty()) {
    SetShape(value.shape());
    if (ctxs_.empty()) ctxs_ = {Context::cpu()};
    deferred_ = false;
    deferred_init_.reset();
    data_.clear();
    for (const Context& c : ctxs_) {
      NDArray d(shape_, c, dtype_);
      value.CopyTo(d);
      data_.push_back(d);
    }
    if (grad_req_ != GradReq::kNull) AttachGrads();
    return;
  }
  MX_CHECK(value.shape() == shape_, ValueError)
      << "Parameter '" << name_ << "': set_data with shape " << value.shape()
      << " but the parameter has shape " << shape_;
  for (const NDArray& d : data_)
    value.CopyTo(d);
}

void Parameter::Load(const NDArray& value, const std::string& saved_name, const std::string& file,
                     bool cast_dtype, const std::vector<Context>& ctxs) {
  MX_CHECK(Compatible(shape_, value.shape()), ValueError)
      << "Failed loading Parameter '" << saved_name << "' (" << name_
      << ") from saved params: shape incompatible expected " << shape_ << " vs saved "
      << value.shape() << " (file '" << file << "')";
  MX_CHECK(cast_dtype || value.dtype() == dtype_, ValueError)
      << "Failed loading Parameter '" << saved_name << "' from saved params: dtype incompatible "
      << "expected " << DTypeName(dtype_) << " vs saved " << DTypeName(value.dtype()) << " (file '"
      << file << "'). Set cast_dtype=True to cast the dtype of saved params.";
  if (!ctxs.empty() && !initialized()) ResetCtx(ctxs);
  SetData(value);
}

void Parameter::ZeroGrad() {
  for (const NDArray& g : grad_)
    g.Fill(0);
}

void Parameter::ResetCtx(std::vector<Context> ctxs) {
  if (ctxs.empty()) ctxs = {Context::cpu()};
  if (!data_.empty()) {
    const NDArray first = data_[0];
    data_.clear();
    for (const Context& c : ctxs)
      data_.push_back(autograd::Detach(first).Copy(c));
    ctxs_ = std::move(ctxs);
    if (grad_req_ != GradReq::kNull) AttachGrads();
  } else {
    ctxs_ = std::move(ctxs);
  }
}

void Parameter::Cast(DType dtype) {
  dtype_ = dtype;
  if (data_.empty()) return;
  for (NDArray& d : data_) {
    NDArray c(d.shape(), d.ctx(), dtype);
    d.CopyTo(c);
    d = c;
  }
  if (grad_req_ != GradReq::kNull) AttachGrads();
}

sym::Symbol Parameter::var() const {
  sym::VariableOptions v;
  if (!shape_.is_unknown()) v.shape = shape_;
  v.dtype = dtype_;
  v.lr_mult = lr_mult;
  v.wd_mult = wd_mult;
  return sym::Symbol::Variable(name_, v);
}

std::string Parameter::Repr() const {
  std::ostringstream os;
  os << "Parameter " << name_ << " (shape=" << shape_ << ", dtype=" << DTypeName(dtype_) << ")";
  return os.str();
}

Constant::Constant(std::string name, NDArray value)
    : Parameter(std::move(name), value.shape(),
                ParameterOptions{.grad_req = GradReq::kNull,
                                 .dtype = value.dtype(),
                                 .init = std::make_shared<init::Constant>(value),
                                 .differentiable = false}),
      value_(std::move(value)) {}

// ---------------------------------------------------------------- ParameterDict

ParameterPtr ParameterDict::Find(const std::string& full_name) const {
  for (const auto& [n, p] : items_)
    if (n == full_name) return p;
  return nullptr;
}

const ParameterPtr& ParameterDict::at(const std::string& full_name) const {
  for (const auto& item : items_)
    if (item.first == full_name) return item.second;
  std::vector<std::string> names;
  for (const auto& [n, p] : items_)
    names.push_back(n);
  MX_THROW(ValueError) << "ParameterDict: no parameter '" << full_name << "'; it has "
                       << JoinNames(names);
}

ParameterPtr ParameterDict::FindOrShare(const std::string& full) {
  ParameterPtr p = Find(full);
  if (!p && shared_) {
    p = shared_->Find(full);
    if (p) items_.emplace_back(full, p);
  }
  return p;
}

ParameterPtr ParameterDict::Get(const std::string& name, Shape shape, ParameterOptions options) {
  const std::string full = prefix_ + name;
  ParameterPtr p = FindOrShare(full);
  if (p) {
    if (!shape.is_unknown()) p->SetShape(shape);
    return p;
  }
  p = std::make_shared<Parameter>(full, std::move(shape), std::move(options));
  items_.emplace_back(full, p);
  return p;
}

ParameterPtr ParameterDict::GetConstant(const std::string& name, const NDArray& value) {
  const std::string full = prefix_ + name;
  ParameterPtr p = FindOrShare(full);
  if (p) {
    MX_CHECK(dynamic_cast<Constant*>(p.get()), ValueError)
        << "ParameterDict: '" << full << "' exists and is not a Constant";
    return p;
  }
  p = std::make_shared<Constant>(full, value);
  items_.emplace_back(full, p);
  return p;
}

void ParameterDict::Add(ParameterPtr param) {
  ParameterPtr existing = Find(param->name());
  if (existing) {
    MX_CHECK(existing == param, ValueError)
        << "ParameterDict: cannot add parameter '" << param->name()
        << "': another parameter of that name is already in the dict";
    return;
  }
  items_.emplace_back(param->name(), std::move(param));
}

void ParameterDict::Update(const ParameterDict& other) {
  for (const auto& [n, p] : other.items_) {
    ParameterPtr existing = Find(n);
    MX_CHECK(!existing || existing == p, ValueError)
        << "ParameterDict: cannot update with parameter '" << n
        << "': a different parameter of that name is already in the dict";
    if (!existing) items_.emplace_back(n, p);
  }
}

ParameterDict ParameterDict::Select(const std::string& regex) const {
  ParameterDict out(prefix_);
  if (regex.empty()) {
    out.items_ = items_;
    return out;
  }
  std::regex re;
  try {
    re = std::regex(regex);
  } catch (const std::regex_error& e) {
    MX_THROW(ValueError) << "ParameterDict.select: invalid regular expression '" << regex
                         << "': " << e.what();
  }
  for (const auto& item : items_)
    if (std::regex_search(item.first, re, std::regex_constants::match_continuous))
      out.items_.push_back(item);
  return out;
}

void ParameterDict::Initialize(init::InitializerPtr init, std::vector<Context> ctxs, bool verbose,
                               bool force_reinit) {
  if (!init) init = std::make_shared<init::Uniform>();
  for (const auto& [n, p] : items_) {
    if (verbose)
      std::cerr << "Initializing " << n << " with " << (p->init() ? p->init() : init)->ToString()
                << "\n";
    p->Initialize(nullptr, ctxs, init, force_reinit);
  }
}

void ParameterDict::ZeroGrad() {
  for (const auto& [n, p] : items_)
    if (p->grad_req() != GradReq::kNull && p->initialized()) p->ZeroGrad();
}

void ParameterDict::ResetCtx(std::vector<Context> ctxs) {
  for (const auto& [n, p] : items_)
    p->ResetCtx(ctxs);
}

void ParameterDict::SetAttr(const std::function<void(Parameter&)>& fn) {
  for (const auto& [n, p] : items_)
    fn(*p);
}

void ParameterDict::Save(const std::string& path, const std::string& strip_prefix) const {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  for (const auto& [n, p] : items_) {
    MX_CHECK(n.compare(0, strip_prefix.size(), strip_prefix) == 0, ValueError)
        << "ParameterDict.save: prefix '" << strip_prefix << "' is to be stripped before saving, "
        << "but Parameter's name '" << n << "' does not start with it";
    arrays.push_back(autograd::Detach(p->list_data()[0]));
    names.push_back(n.substr(strip_prefix.size()));
  }
  SaveNDArrays(path, arrays, names);
}

void ParameterDict::Load(const std::string& path, std::vector<Context> ctxs, bool allow_missing,
                         bool ignore_extra, const std::string& restore_prefix, bool cast_dtype) {
  NDArrayList loaded = LoadNDArrays(path);
  MX_CHECK(loaded.names.size() == loaded.arrays.size(), ValueError)
      << "ParameterDict.load: '" << path << "' holds an unnamed list of arrays, not parameters";
  std::vector<std::pair<std::string, NDArray>> arrays;
  for (size_t i = 0; i < loaded.arrays.size(); ++i) {
    std::string n = loaded.names[i];
    if (n.rfind("arg:", 0) == 0 || n.rfind("aux:", 0) == 0) n = n.substr(4);
    arrays.emplace_back(restore_prefix + n, loaded.arrays[i]);
  }
  std::vector<std::string> file_names, own_names;
  for (const auto& [n, a] : arrays)
    file_names.push_back(n);
  for (const auto& [n, p] : items_)
    own_names.push_back(n);
  if (!allow_missing) {
    for (const auto& [n, p] : items_)
      MX_CHECK(std::find(file_names.begin(), file_names.end(), n) != file_names.end(), ValueError)
          << "Parameter '" << n << "' is missing in file '" << path
          << "', which contains parameters: " << JoinNames(file_names)
          << ". Set allow_missing=True to ignore missing parameters.";
  }
  for (const auto& [n, a] : arrays) {
    ParameterPtr p = Find(n);
    if (!p) {
      MX_CHECK(ignore_extra, ValueError)
          << "Parameter '" << n << "' loaded from file '" << path
          << "' is not present in ParameterDict, which contains parameters: "
          << JoinNames(own_names) << ". Set ignore_extra=True to ignore.";
      continue;
    }
    p->Load(a, n, path, cast_dtype, ctxs);
  }
}

}  // namespace mixnet::gluon
