// mx.mod.Module in C++: a symbol bound to one executor, with MXNet 1.9's training loop
// (python/mxnet/module/module.py, base_module.py) and checkpoints (python/mxnet/model.py).
#include "mixnet/module/module.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "mixnet/initializer/create.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/invoke.h"

namespace mixnet::mod {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

size_t IndexOf(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin());
}

std::string Join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", '" : "'") + v[i] + "'";
  return out + "]";
}

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return buf;
}

std::vector<std::string> Names(const std::vector<io::DataDesc>& descs) {
  std::vector<std::string> out;
  for (const auto& d : descs)
    out.push_back(d.name);
  return out;
}

bool SameNames(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

/*!
 * \brief The initializer a variable names in its `__init__` attribute (MXNet's
 * `mx.init.create(json)`), the error naming the parameter.
 */
init::InitializerPtr InitializerFromJSON(const std::string& text, const std::string& param) {
  try {
    return init::InitializerFromJSON(text);
  } catch (const Error& e) {
    ThrowError(e.kind(),
               "init_params: parameter '" + param + "' has __init__ '" + text + "': " + e.what());
  }
}

/*! \brief `arrays` in the order of `order`, then the rest by name. */
void AppendOrdered(const ParamDict& arrays, const std::vector<std::string>& order,
                   const std::string& prefix, std::vector<NDArray>* out,
                   std::vector<std::string>* names) {
  std::set<std::string> done;
  for (const auto& name : order) {
    auto it = arrays.find(name);
    if (it == arrays.end() || !done.insert(name).second) continue;
    out->push_back(it->second);
    names->push_back(prefix + name);
  }
  for (const auto& [name, a] : arrays) {
    if (done.count(name)) continue;
    out->push_back(a);
    names->push_back(prefix + name);
  }
}

/*! \brief ValueError for a name in `given` that is not among `names` (allow_extra unset). */
void CheckNoExtra(const ParamDict* given, const std::vector<std::string>& names, const char* kind,
                  const char* what) {
  if (!given) return;
  for (const auto& [name, a] : *given) {
    MX_CHECK(Contains(names, name), ValueError)
        << "Module." << what << ": " << kind << " has '" << name
        << "', which the symbol does not take (pass allow_extra to ignore it); the module's "
        << kind << " are " << Join(names);
  }
}

/*! \brief The batch size Module normalizes gradients by (MXNet's exec_group.batch_size). */
int64_t BatchSize(const std::vector<io::DataDesc>& data) {
  MX_CHECK(!data.empty() && data[0].shape.ndim() >= 1, ValueError)
      << "Module.InitOptimizer: the module has no batched data input to take the batch size from";
  return data[0].shape[0];
}

std::string ParamsPath(const std::string& prefix, int epoch, const char* ext) {
  return prefix + Format("-%04d.", epoch) + ext;
}

/*!
 * \brief MXNet's _split_input_slice with equal work loads: each context gets round(batch / n)
 * rows (Python's round, half to even), the last context the remainder. Where that leaves a
 * context without rows but the batch has enough of them (6 over 4, where MXNet raised), the
 * rows are split as evenly as possible instead, the first contexts taking one more.
 */
std::vector<std::pair<int64_t, int64_t>> SplitInputSlice(int64_t batch, size_t num) {
  const auto n = static_cast<int64_t>(num);
  MX_CHECK(batch >= n, ValueError) << "Module: the batch has " << batch << " rows, fewer than the "
                                   << n << " contexts to split it over (Too many slices: some "
                                   << "splits would be empty)";
  const int64_t each = static_cast<int64_t>(std::nearbyint(static_cast<double>(batch) / n));
  std::vector<int64_t> sizes(num, each);
  if (each * n < batch) sizes.back() += batch - each * n;
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t end = 0;
  for (int64_t size : sizes) {
    const int64_t begin = std::min(end, batch);
    end = std::min(begin + size, batch);
    out.emplace_back(begin, end);
  }
  if (out.back().first < out.back().second) return out;
  out.clear();
  end = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t begin = end;
    end = begin + batch / n + (k < batch % n ? 1 : 0);
    out.emplace_back(begin, end);
  }
  return out;
}

/*! \brief The rows of the batch `data` describes for each of `num` contexts. */
std::vector<std::pair<int64_t, int64_t>> BatchSlices(const std::vector<io::DataDesc>& data,
                                                     size_t num) {
  const int64_t rows = data.empty() || data[0].shape.ndim() == 0 ? 0 : data[0].shape[0];
  if (num == 1) return {{0, rows}};
  return SplitInputSlice(rows, num);
}

}  // namespace

// ---------------------------------------------------------------- construction

Module::Module(sym::Symbol symbol, std::vector<std::string> data_names,
               std::vector<std::string> label_names, Context ctx,
               std::vector<std::string> fixed_param_names)
    : Module(std::move(symbol), std::move(data_names), std::move(label_names),
             std::vector<Context>{ctx}, std::move(fixed_param_names)) {}

Module::Module(sym::Symbol symbol, std::vector<std::string> data_names,
               std::vector<std::string> label_names, std::vector<Context> contexts,
               std::vector<std::string> fixed_param_names)
    : symbol_(std::move(symbol)),
      data_names_(std::move(data_names)),
      label_names_(std::move(label_names)),
      fixed_param_names_(std::move(fixed_param_names)),
      contexts_(std::move(contexts)) {
  MX_CHECK(!contexts_.empty(), ValueError) << "Module: context is an empty list";
  const auto args = symbol_.ListArguments();
  // MXNet lists the arguments that are not parameters as the likely names.
  std::vector<std::string> inputs;
  for (const auto& a : args) {
    const bool param = a.ends_with("_weight") || a.ends_with("_bias") || a.ends_with("_gamma") ||
                       a.ends_with("_beta");
    if (!param) inputs.push_back(a);
  }
  std::set<std::string> seen;
  for (const auto& n : data_names_) {
    MX_CHECK(seen.insert(n).second, ValueError)
        << "Module: '" << n << "' is given twice in data_names and label_names";
    MX_CHECK(Contains(args, n), ValueError)
        << "Module: data_names has '" << n
        << "', which is not an argument of the symbol; inputs that are not parameters: "
        << Join(inputs);
  }
  for (const auto& n : label_names_) {
    MX_CHECK(seen.insert(n).second, ValueError)
        << "Module: '" << n << "' is given twice in data_names and label_names";
    if (!Contains(args, n)) {
      Log("Warning: Module: label_names has '" + n +
          "', which is not an argument of the symbol (fine for a network without a loss); "
          "inputs that are not parameters: " +
          Join(inputs));
    }
  }
  for (const auto& n : fixed_param_names_) {
    MX_CHECK(Contains(args, n) && !Contains(data_names_, n) && !Contains(label_names_, n),
             ValueError)
        << "Module: fixed_param_names has '" << n << "', which is not a parameter of the symbol";
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (Contains(data_names_, args[i]) || Contains(label_names_, args[i])) continue;
    param_names_.push_back(args[i]);
    param_args_.push_back(i);
  }
  aux_names_ = symbol_.ListAuxiliaryStates();
}

void Module::Log(const std::string& line) const {
  if (logger_) {
    logger_(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Module::CheckReady(const char* what, bool need_optimizer) const {
  MX_CHECK(binded(), ValueError) << "Module." << what
                                 << ": the module is not bound; call Bind (or Fit) first";
  MX_CHECK(params_initialized_, ValueError)
      << "Module." << what << ": the parameters are not initialized; call InitParams first";
  MX_CHECK(!need_optimizer || optimizer_, ValueError)
      << "Module." << what << ": the optimizer is not initialized; call InitOptimizer first";
}

// ---------------------------------------------------------------- bind

void Module::Bind(const std::vector<io::DataDesc>& data_shapes,
                  const std::vector<io::DataDesc>& label_shapes, bool for_training,
                  bool inputs_need_grad, bool force_rebind, const Module* shared_module,
                  GradReq grad_req) {
  if (force_rebind && binded()) {
    // MXNet rebinds from its host copies, which may predate the last updates; sync them first.
    if (params_initialized_ && params_dirty_) SyncParamsFromExecutor();
    cur_.clear();
    reshaped_.clear();
    execs_.clear();
  }
  if (binded()) {
    Log("Warning: Module.Bind: already bound, ignoring Bind (pass force_rebind to bind again)");
    return;
  }
  MX_CHECK(for_training || !inputs_need_grad, ValueError)
      << "Module.Bind: inputs_need_grad needs for_training";
  MX_CHECK(SameNames(Names(data_shapes), data_names_), ValueError)
      << "Module.Bind: data_shapes name " << Join(Names(data_shapes))
      << " but the module's data_names are " << Join(data_names_);
  if (!SameNames(Names(label_shapes), label_names_)) {
    Log("Warning: Module.Bind: label_shapes name " + Join(Names(label_shapes)) +
        " but the module's label_names are " + Join(label_names_));
  }
  if (shared_module) {
    MX_CHECK(shared_module->binded() && shared_module->params_initialized_, ValueError)
        << "Module.Bind: shared_module must be bound and have its parameters initialized";
    MX_CHECK(shared_module->contexts_ == contexts_, ValueError)
        << "Module.Bind: shared_module runs on " << shared_module->contexts_.size()
        << " contexts that differ from this module's " << contexts_.size();
  }
  const auto args = symbol_.ListArguments();
  std::vector<io::DataDesc> labels;  // those the symbol takes
  const auto& label_descs = labels;
  for (const auto& d : label_shapes) {
    if (Contains(label_names_, d.name) && Contains(args, d.name)) labels.push_back(d);
  }
  std::unordered_map<std::string, DType> dtypes;
  for (const std::vector<io::DataDesc>* descs : {&data_shapes, &label_descs}) {
    for (const auto& d : *descs)
      dtypes[d.name] = d.dtype;
  }
  // MXNet's DataParallelExecutorGroup: parameters take grad_req unless fixed, data inputs only
  // with inputs_need_grad, everything else (labels) none; nothing without for_training.
  std::unordered_map<std::string, GradReq> reqs;
  for (const auto& a : args) {
    GradReq r = GradReq::kNull;
    if (for_training && Contains(param_names_, a) && !Contains(fixed_param_names_, a)) r = grad_req;
    if (for_training && inputs_need_grad && Contains(data_names_, a)) r = grad_req;
    reqs[a] = r;
  }
  // Everything that may throw first, so that a failed Bind leaves the module unbound.
  const auto slices = BatchSlices(data_shapes, contexts_.size());
  std::vector<std::unique_ptr<exec::Executor>> execs;
  for (size_t k = 0; k < contexts_.size(); ++k) {
    execs.push_back(exec::Executor::SimpleBind(
        symbol_, contexts_[k], SlicedShapes(data_shapes, labels, slices, k), dtypes, GradReq::kNull,
        reqs, shared_module ? shared_module->execs_[k].get() : nullptr));
  }
  execs_ = std::move(execs);
  for (const auto& e : execs_)
    cur_.push_back(e.get());
  slices_ = slices;
  batch_rows_ = slices.back().second;
  data_shapes_ = data_shapes;
  label_shapes_ = labels;
  data_args_.clear();
  label_args_.clear();
  for (const auto& d : data_shapes_)
    data_args_.push_back(IndexOf(args, d.name));
  for (const auto& d : label_shapes_)
    label_args_.push_back(IndexOf(args, d.name));
  for_training_ = for_training;
  inputs_need_grad_ = inputs_need_grad;
  grad_req_ = grad_req;

  if (shared_module) {
    shared_module->SyncParamsFromExecutor();
    arg_params_ = shared_module->arg_params_;
    aux_params_ = shared_module->aux_params_;
    params_initialized_ = true;
    params_dirty_ = false;
    if (shared_module->optimizer_) optimizer_ = shared_module->optimizer_;  // borrow_optimizer
  } else if (params_initialized_) {
    // Rebinding, or a module from Module::Load: its parameters go into the new executor.
    const auto missing = CopyParamsIn(&arg_params_, &aux_params_, false, "Bind");
    MX_CHECK(missing.empty(), ValueError)
        << "Module.Bind: the module's parameters lack " << Join(missing)
        << " (the checkpoint does not match the symbol?)";
    params_dirty_ = false;
  } else {
    const auto& arrays = execs_[0]->arg_arrays();
    arg_params_.clear();
    aux_params_.clear();
    for (size_t i = 0; i < param_names_.size(); ++i) {
      const NDArray& a = arrays[param_args_[i]];
      arg_params_[param_names_[i]] = NDArray::Zeros(a.shape(), a.dtype(), contexts_[0]);
    }
    for (size_t i = 0; i < aux_names_.size(); ++i) {
      const NDArray& a = execs_[0]->aux_arrays()[i];
      aux_params_[aux_names_[i]] = NDArray::Zeros(a.shape(), a.dtype(), contexts_[0]);
    }
  }
}

std::unordered_map<std::string, Shape> Module::SlicedShapes(const std::vector<io::DataDesc>& data,
                                                            const std::vector<io::DataDesc>& label,
                                                            const Slices& slices, size_t k) const {
  const int64_t rows = slices.back().second;
  std::unordered_map<std::string, Shape> shapes;
  for (const std::vector<io::DataDesc>* descs : {&data, &label}) {
    for (const auto& d : *descs) {
      Shape s = d.shape;
      if (contexts_.size() > 1) {
        // MXNet slices every input along its batch axis (axis 0 here).
        MX_CHECK(s.ndim() >= 1 && s[0] == rows, ValueError)
            << "Module: input '" << d.name << "' has shape " << s << " but the batch has " << rows
            << " rows along axis 0 to split over " << contexts_.size() << " contexts";
        s[0] = slices[k].second - slices[k].first;
      }
      shapes[d.name] = s;
    }
  }
  return shapes;
}

NDArray Module::SliceFor(const NDArray& a, size_t k) const {
  const auto [begin, end] = slices_[k];
  if (a.shape().ndim() == 0 || a.shape()[0] != batch_rows_ || (begin == 0 && end == batch_rows_))
    return a;
  return a.Slice(begin, end);
}

// ---------------------------------------------------------------- parameters

std::vector<std::string> Module::CopyParamsIn(const ParamDict* arg, const ParamDict* aux,
                                              bool allow_extra, const char* what) {
  std::vector<std::string> missing;
  auto copy = [&](const ParamDict* from, const std::string& name, size_t arg, bool is_aux) {
    auto it = from ? from->find(name) : ParamDict::const_iterator();
    if (!from || it == from->end()) {
      missing.push_back(name);
      return;
    }
    const NDArray& src = it->second;
    for (const auto& e : execs_) {  // every context gets a copy
      const NDArray& dst = is_aux ? e->aux_arrays()[arg] : e->arg_arrays()[arg];
      MX_CHECK(!src.is_none() && src.shape() == dst.shape(), ValueError)
          << "Module." << what << ": " << (is_aux ? "auxiliary state" : "parameter") << " '" << name
          << "' has shape " << dst.shape() << " in the module but the given array has "
          << (src.is_none() ? std::string("none") : src.Describe());
      if (!(src.SharesStorageWith(dst) && src.byte_offset() == dst.byte_offset())) src.CopyTo(dst);
    }
  };
  for (size_t i = 0; i < param_names_.size(); ++i)
    copy(arg, param_names_[i], param_args_[i], false);
  for (size_t i = 0; i < aux_names_.size(); ++i)
    copy(aux, aux_names_[i], i, true);
  if (!allow_extra) {
    CheckNoExtra(arg, param_names_, "arg_params", what);
    CheckNoExtra(aux, aux_names_, "aux_params", what);
  }
  // Reshaped executors share these arrays (same shapes), so they see the copies too.
  return missing;
}

void Module::SyncParamsFromExecutor() const {
  if (execs_.empty()) return;
  const size_t n = execs_.size();
  // MXNet's exec_group.get_params: the sum over the contexts divided by their number, for
  // parameters (equal on every context after an update through a store) and auxiliary states
  // (each context's BatchNorm saw its own slice).
  auto average = [&](size_t arg, bool is_aux, NDArray& dst) {
    const NDArray& first = is_aux ? execs_[0]->aux_arrays()[arg] : execs_[0]->arg_arrays()[arg];
    if (dst.is_none() || dst.shape() != first.shape())
      dst = NDArray(first.shape(), contexts_[0], first.dtype());
    if (n == 1) {
      first.CopyTo(dst);
      return;
    }
    std::vector<NDArray> parts;
    for (const auto& e : execs_)
      parts.push_back(
          (is_aux ? e->aux_arrays()[arg] : e->arg_arrays()[arg]).AsInContext(dst.ctx()));
    op::Invoke("add_n", parts, {{"num_args", std::to_string(n)}}, {&dst, 1});
    op::Invoke("_div_scalar", std::span<const NDArray>(&dst, 1), {{"scalar", std::to_string(n)}},
               {&dst, 1});
  };
  for (size_t i = 0; i < param_names_.size(); ++i)
    average(param_args_[i], false, arg_params_[param_names_[i]]);
  for (size_t i = 0; i < aux_names_.size(); ++i)
    average(i, true, aux_params_[aux_names_[i]]);
  params_dirty_ = false;
}

void Module::InitParams(const init::Initializer* initializer, const ParamDict* arg_params,
                        const ParamDict* aux_params, bool allow_missing, bool force_init,
                        bool allow_extra) {
  if (params_initialized_ && !force_init) {
    Log("Warning: Module.InitParams: parameters already initialized and force_init=false; "
        "call ignored");
    return;
  }
  MX_CHECK(binded(), ValueError)
      << "Module.InitParams: the module is not bound; call Bind before initializing parameters";
  const init::Uniform fallback(0.01);
  const init::Initializer& init = initializer ? *initializer : fallback;
  const auto attrs = symbol_.AttrDict();
  // MXNet's _impl: copied from the given dict, else (allow_missing, or no dict) initialized.
  // Names in sorted order, as MXNet iterates, so that a seed draws the same numbers.
  auto fill = [&](ParamDict& own, const ParamDict* given, const char* kind) {
    for (auto& [name, arr] : own) {
      if (given) {
        auto it = given->find(name);
        if (it != given->end()) {
          MX_CHECK(!it->second.is_none() && it->second.shape() == arr.shape(), ValueError)
              << "Module.InitParams: " << kind << " '" << name << "' has shape " << arr.shape()
              << " but " << (kind[0] == 'p' ? "arg_params" : "aux_params") << " gives "
              << (it->second.is_none() ? std::string("none") : it->second.Describe());
          if (!it->second.SharesStorageWith(arr)) it->second.CopyTo(arr);
          continue;
        }
        MX_CHECK(allow_missing, ValueError)
            << "Module.InitParams: " << kind << " '" << name << "' (shape " << arr.shape()
            << ") is missing from " << (kind[0] == 'p' ? "arg_params" : "aux_params")
            << "; pass allow_missing to initialize it with the initializer";
      }
      // A variable's own initializer (__init__) wins, as in MXNet's Initializer.__call__.
      const auto a = attrs.find(name);
      const auto own_init = a == attrs.end()              ? std::optional<std::string>()
                            : a->second.count("__init__") ? a->second.at("__init__")
                                                          : std::optional<std::string>();
      if (own_init) {
        InitializerFromJSON(*own_init, name)->InitWeight(name, arr);
      } else {
        init(name, &arr);
      }
    }
  };
  // Extra names: MXNet's documented allow_extra (its init_params ignored them silently).
  if (!allow_extra) {
    CheckNoExtra(arg_params, param_names_, "arg_params", "InitParams");
    CheckNoExtra(aux_params, aux_names_, "aux_params", "InitParams");
  }
  fill(arg_params_, arg_params, "parameter");
  fill(aux_params_, aux_params, "auxiliary state");
  CopyParamsIn(&arg_params_, &aux_params_, true, "InitParams");
  params_initialized_ = true;
  params_dirty_ = false;
}

void Module::SetParams(const ParamDict& arg_params, const ParamDict& aux_params, bool allow_missing,
                       bool force_init, bool allow_extra) {
  if (!allow_missing) {
    InitParams(nullptr, &arg_params, &aux_params, false, force_init, allow_extra);
    return;
  }
  if (params_initialized_ && !force_init) {
    Log("Warning: Module.SetParams: parameters already initialized and force_init=false; "
        "call ignored");
    return;
  }
  MX_CHECK(binded(), ValueError) << "Module.SetParams: the module is not bound; call Bind first";
  CopyParamsIn(&arg_params, &aux_params, allow_extra, "SetParams");  // missing ones stay
  params_dirty_ = true;
  params_initialized_ = true;
}

std::pair<ParamDict, ParamDict> Module::GetParams() const {
  MX_CHECK(params_initialized_, ValueError)
      << "Module.GetParams: the parameters are not initialized; call InitParams first";
  if (params_dirty_) SyncParamsFromExecutor();
  return {arg_params_, aux_params_};
}

// ---------------------------------------------------------------- optimizer

void Module::InitOptimizer(const std::string& optimizer, const op::AttrDict& optimizer_params,
                           bool force_init, const KVStoreConfig& kvstore) {
  CheckReady("InitOptimizer");
  if (optimizer_ && !force_init) {
    Log("Warning: Module.InitOptimizer: optimizer already initialized, ignoring");
    return;
  }
  SetupKVStore(kvstore);
  const int64_t batch_size = GlobalBatchSize();
  op::AttrDict kwargs = optimizer_params;
  const bool has_rescale = std::any_of(kwargs.begin(), kwargs.end(),
                                       [](const auto& kv) { return kv.first == "rescale_grad"; });
  if (!has_rescale) kwargs.emplace_back("rescale_grad", Format("%.17g", 1.0 / batch_size));
  auto opt = ::mixnet::optimizer::CreateOptimizer(optimizer, kwargs);
  // MXNet creates it with sym=: lr_mult and wd_mult come from the arguments' attributes.
  std::map<std::string, double> lr_mult, wd_mult;
  const auto attrs = symbol_.AttrDict();
  for (const auto& name : symbol_.ListArguments()) {
    auto it = attrs.find(name);
    if (it == attrs.end()) continue;
    for (auto [key, into] :
         {std::pair{"__lr_mult__", &lr_mult}, std::pair{"__wd_mult__", &wd_mult}}) {
      auto m = it->second.find(key);
      if (m == it->second.end()) continue;
      char* end = nullptr;
      const double v = std::strtod(m->second.c_str(), &end);
      MX_CHECK(end != m->second.c_str() && *end == '\0', ValueError)
          << "Module.InitOptimizer: argument '" << name << "' has " << key << " '" << m->second
          << "', which is not a number";
      (*into)[name] = v;
    }
  }
  opt->SetLrMult(std::move(lr_mult));
  opt->SetWdMult(std::move(wd_mult));
  InstallOptimizer(std::move(opt));
}

void Module::InitOptimizer(std::shared_ptr<::mixnet::optimizer::Optimizer> optimizer,
                           bool force_init, const KVStoreConfig& kvstore) {
  CheckReady("InitOptimizer");
  MX_CHECK(optimizer != nullptr, ValueError) << "Module.InitOptimizer: the optimizer is null";
  if (optimizer_ && !force_init) {
    Log("Warning: Module.InitOptimizer: optimizer already initialized, ignoring");
    return;
  }
  SetupKVStore(kvstore);
  const double rescale = 1.0 / static_cast<double>(GlobalBatchSize());
  if (std::abs(optimizer->rescale_grad() - rescale) > 1e-12 * rescale) {
    Log(
        Format("Warning: Module.InitOptimizer: the optimizer's rescale_grad is not normalized to "
               "1.0/batch_size (%g vs. %g). Is this intended?",
               optimizer->rescale_grad(), rescale));
  }
  InstallOptimizer(std::move(optimizer));
}

void Module::SetupKVStore(const KVStoreConfig& config) {
  kv_.reset();
  update_on_kv_ = false;
  const char* env = std::getenv("MXNET_UPDATE_ON_KVSTORE");
  bool update_on_kv = env == nullptr || std::atoi(env) != 0;
  if (config.object) {
    kv_ = config.object;
  } else if (!config.kind.empty() && config.kind != "none" &&
             (contexts_.size() > 1 || config.kind.find("dist") != std::string::npos)) {
    // One context and a non-distributed kind need no store (MXNet's num_device == 1).
    kv_ = std::shared_ptr<kvstore::KVStore>(kvstore::KVStore::Create(config.kind));
    if (config.kind == "local") {
      // MXNet: 'local' with a parameter over 16M elements updates on the devices.
      int64_t max_size = 0;
      for (size_t a : param_args_)
        max_size = std::max(max_size, execs_[0]->arg_arrays()[a].shape().Size());
      if (max_size > 1024 * 1024 * 16) update_on_kv = false;
    }
  }
  if (!kv_) return;
  update_on_kv_ = update_on_kv;
  if (!config.compression_params.empty()) kv_->SetGradientCompression(config.compression_params);
}

int64_t Module::GlobalBatchSize() const {
  int64_t batch_size = BatchSize(data_shapes_);
  if (kv_ && kv_->type().find("dist") != std::string::npos &&
      kv_->type().find("_sync") != std::string::npos)
    batch_size *= kv_->num_workers();
  return batch_size;
}

void Module::InstallOptimizer(std::shared_ptr<::mixnet::optimizer::Optimizer> optimizer) {
  if (optimizer->param_names().empty()) {
    // Updating on the contexts, copy k of parameter i is index i * n + k (Update).
    const size_t n = update_on_kv_ ? 1 : contexts_.size();
    std::map<int, std::string> idx2name;
    for (size_t i = 0; i < param_names_.size(); ++i) {
      for (size_t k = 0; k < n; ++k)
        idx2name[static_cast<int>(i * n + k)] = param_names_[i];
    }
    optimizer->SetParamNames(std::move(idx2name));
  }
  optimizer_ = std::move(optimizer);
  if (kv_) {
    if (update_on_kv_) kv_->SetOptimizer(optimizer_);
    // MXNet's _initialize_kvstore, plus a pull in every case: all workers start from rank 0's
    // values (MXNet pulls only with update_on_kvstore).
    for (size_t i = 0; i < param_names_.size(); ++i) {
      std::vector<NDArray> copies;
      for (const auto& e : execs_)
        copies.push_back(e->arg_arrays()[param_args_[i]]);
      kv_->Init(std::vector<std::string>{param_names_[i]}, {copies[0]});
      kv_->Pull(std::vector<std::string>{param_names_[i]}, {copies}, -static_cast<int>(i));
    }
    params_dirty_ = true;
  }
  if (preload_opt_states_) {
    const std::string path = *preload_opt_states_;
    preload_opt_states_.reset();
    LoadOptimizerStates(path);
  }
}

void Module::SaveOptimizerStates(const std::string& path) const {
  MX_CHECK(optimizer_, ValueError)
      << "Module.SaveOptimizerStates: the optimizer is not initialized; call InitOptimizer first";
  if (update_on_kv_) {  // MXNet: the store's optimizer holds the states
    kv_->SaveOptimizerStates(path);
    return;
  }
  optimizer_->SaveStatesFile(path, "Module.SaveOptimizerStates");
}

void Module::LoadOptimizerStates(const std::string& path) {
  MX_CHECK(optimizer_, ValueError)
      << "Module.LoadOptimizerStates: the optimizer is not initialized; call InitOptimizer first";
  if (update_on_kv_) {
    kv_->LoadOptimizerStates(path);
    return;
  }
  optimizer_->LoadStatesFile(path, "Module.LoadOptimizerStates");
}

// ---------------------------------------------------------------- computation

void Module::Reshape(const std::vector<io::DataDesc>& data,
                     const std::vector<io::DataDesc>& label) {
  std::string key;
  for (const std::vector<io::DataDesc>* descs : {&data, &label}) {
    for (const auto& d : *descs) {
      std::ostringstream os;
      os << d.name << ':' << d.shape << ';';
      key += os.str();
    }
  }
  const auto slices = BatchSlices(data, contexts_.size());
  std::vector<std::unordered_map<std::string, Shape>> shapes;
  bool same = true;
  for (size_t k = 0; k < contexts_.size(); ++k) {
    shapes.push_back(SlicedShapes(data, label, slices, k));
    const auto& args = execs_[k]->arg_arrays();
    for (size_t i = 0; i < data.size(); ++i)
      same = same && shapes[k].at(data[i].name) == args[data_args_[i]].shape();
    for (size_t i = 0; i < label.size(); ++i)
      same = same && shapes[k].at(label[i].name) == args[label_args_[i]].shape();
  }
  if (same) {
    for (size_t k = 0; k < contexts_.size(); ++k)
      cur_[k] = execs_[k].get();
  } else {
    auto& execs = reshaped_[key];
    // MXNet reshapes its default executors (allow_up_sizing); labels a batch does not carry
    // are inferred (partial_shaping), where MXNet raised.
    for (size_t k = execs.size(); k < contexts_.size(); ++k)
      execs.push_back(
          execs_[k]->Reshape(shapes[k], /*partial_shaping=*/true, /*allow_up_sizing=*/true));
    for (size_t k = 0; k < contexts_.size(); ++k)
      cur_[k] = execs[k].get();
  }
  slices_ = slices;
  batch_rows_ = slices.back().second;
  data_shapes_ = data;
  if (!label.empty()) label_shapes_ = label;
}

void Module::Forward(const io::DataBatch& batch, std::optional<bool> is_train) {
  CheckReady("Forward");
  MX_CHECK(batch.data.size() == data_shapes_.size(), ValueError)
      << "Module.Forward: the batch has " << batch.data.size() << " data arrays but the module "
      << "was bound with " << data_shapes_.size() << " (" << Join(Names(data_shapes_)) << ")";
  const bool with_label = !batch.label.empty() && !label_shapes_.empty();
  MX_CHECK(!with_label || batch.label.size() == label_shapes_.size(), ValueError)
      << "Module.Forward: the batch has " << batch.label.size() << " label arrays but the module "
      << "was bound with " << label_shapes_.size() << " (" << Join(Names(label_shapes_)) << ")";
  bool differ = false;
  for (size_t i = 0; i < batch.data.size(); ++i)
    differ = differ || batch.data[i].shape() != data_shapes_[i].shape;
  if (differ) {
    std::vector<io::DataDesc> data = data_shapes_, label;
    for (size_t i = 0; i < data.size(); ++i)
      data[i].shape = batch.data[i].shape();
    if (with_label) {
      label = label_shapes_;
      for (size_t i = 0; i < label.size(); ++i)
        label[i].shape = batch.label[i].shape();
    }
    Reshape(data, label);
  }
  // MXNet's _load_data/_load_label: each context gets a copy of its rows.
  for (size_t k = 0; k < cur_.size(); ++k) {
    const auto& args = cur_[k]->arg_arrays();
    for (size_t i = 0; i < batch.data.size(); ++i) {
      const NDArray src = SliceFor(batch.data[i], k);
      MX_CHECK(src.shape() == args[data_args_[i]].shape(), ValueError)
          << "Module.Forward: data '" << data_shapes_[i].name << "' has shape "
          << batch.data[i].shape() << " but the executor has " << args[data_args_[i]].shape();
      src.CopyTo(args[data_args_[i]]);
    }
    for (size_t i = 0; with_label && i < label_shapes_.size(); ++i) {
      const NDArray src = SliceFor(batch.label[i], k);
      MX_CHECK(src.shape() == args[label_args_[i]].shape(), ValueError)
          << "Module.Forward: label '" << label_shapes_[i].name << "' has shape "
          << batch.label[i].shape() << " but the executor has " << args[label_args_[i]].shape();
      src.CopyTo(args[label_args_[i]]);
    }
  }
  const bool train = is_train.value_or(for_training_);
  for (exec::Executor* e : cur_)
    e->Forward(train);
  merged_outputs_.clear();
  if (train) params_dirty_ = true;  // auxiliary states (BatchNorm) move in training forwards
}

void Module::Backward(std::span<const NDArray> out_grads) {
  CheckReady("Backward");
  MX_CHECK(for_training_, ValueError)
      << "Module.Backward: the module was bound with for_training=false; bind again for training";
  if (cur_.size() == 1) {
    cur_[0]->Backward(out_grads);
    return;
  }
  // MXNet's exec_group.backward: each context gets its rows of the output gradients.
  for (size_t k = 0; k < cur_.size(); ++k) {
    std::vector<NDArray> sliced;
    for (const NDArray& g : out_grads)
      sliced.push_back(SliceFor(g, k).AsInContext(contexts_[k]));
    cur_[k]->Backward(sliced);
  }
}

void Module::ForwardBackward(const io::DataBatch& batch) {
  Forward(batch, true);
  Backward();
}

void Module::Update() {
  CheckReady("Update", true);
  const size_t n = cur_.size();
  std::vector<int> indices;  // trainable parameters
  const auto& reqs = cur_[0]->grad_reqs();
  for (size_t i = 0; i < param_names_.size(); ++i) {
    const size_t a = param_args_[i];
    if (reqs[a] == GradReq::kNull || cur_[0]->grad_arrays()[a].is_none()) continue;  // fixed
    indices.push_back(static_cast<int>(i));
  }
  auto weight = [&](size_t k, int i) {
    return cur_[k]->arg_arrays()[param_args_[static_cast<size_t>(i)]];
  };
  auto grad = [&](size_t k, int i) {
    return cur_[k]->grad_arrays()[param_args_[static_cast<size_t>(i)]];
  };
  if (kv_) {
    // Last parameter first, priority -index (NOTE [ Reverse pushpull order ] in
    // src/gluon/trainer.cc); keys are the parameters' names, as MXNet's Module. The contexts'
    // gradients are summed; the result goes to every context's weight (update_on_kvstore) or
    // gradient.
    for (size_t j = indices.size(); j-- > 0;) {
      const int i = indices[j];
      std::vector<NDArray> grads, outs;
      for (size_t k = 0; k < n; ++k) {
        grads.push_back(grad(k, i));
        outs.push_back(update_on_kv_ ? weight(k, i) : grad(k, i));
      }
      kv_->PushPull(std::vector<std::string>{param_names_[static_cast<size_t>(i)]}, {grads}, {outs},
                    -i);
    }
    if (update_on_kv_) {
      params_dirty_ = true;
      return;
    }
  }
  // MXNet's _update_params: context k's copy of parameter i is optimizer index i * n + k, so
  // that each context keeps its own states (without a store each context applies its own
  // gradient, as MXNet).
  std::vector<NDArray> weights, grads;
  for (size_t k = 0; k < n; ++k) {
    weights.clear();
    grads.clear();
    for (int i : indices) {
      weights.push_back(weight(k, i));
      grads.push_back(grad(k, i));
    }
    if (n == 1) {
      optimizer_->Update(indices, weights, grads);
      continue;
    }
    std::vector<int> idx;
    for (int i : indices)
      idx.push_back(static_cast<int>(static_cast<size_t>(i) * n + k));
    optimizer_->Update(idx, weights, grads);
  }
  params_dirty_ = true;
}

std::vector<NDArray> Module::Merge(const std::vector<std::vector<NDArray>>& per_context,
                                   const char* what) const {
  // MXNet's _merge_multi_context: concat along the batch axis on the first context.
  std::vector<NDArray> out;
  for (const auto& parts : per_context) {
    std::vector<NDArray> on_first;
    for (const NDArray& p : parts) {
      MX_CHECK(p.shape().ndim() >= 1, ValueError)
          << "Module." << what << ": an array of shape " << p.shape()
          << " has no batch axis to merge the contexts along";
      on_first.push_back(p.AsInContext(contexts_[0]));
    }
    out.push_back(op::Invoke("Concat", on_first,
                             {{"dim", "0"}, {"num_args", std::to_string(on_first.size())}})[0]);
  }
  return out;
}

std::vector<std::vector<NDArray>> Module::GetOutputsPerContext() const {
  CheckReady("GetOutputs");
  std::vector<std::vector<NDArray>> out(cur_[0]->outputs().size());
  for (exec::Executor* e : cur_) {
    for (size_t i = 0; i < out.size(); ++i)
      out[i].push_back(e->outputs()[i]);
  }
  return out;
}

const std::vector<NDArray>& Module::GetOutputs() const {
  CheckReady("GetOutputs");
  if (cur_.size() == 1) return cur_[0]->outputs();
  if (merged_outputs_.empty()) merged_outputs_ = Merge(GetOutputsPerContext(), "GetOutputs");
  return merged_outputs_;
}

std::vector<std::vector<NDArray>> Module::GetInputGradsPerContext() const {
  CheckReady("GetInputGrads");
  MX_CHECK(inputs_need_grad_, ValueError)
      << "Module.GetInputGrads: bind with inputs_need_grad=true to get input gradients";
  std::vector<std::vector<NDArray>> out;
  for (size_t a : data_args_) {
    out.emplace_back();
    for (exec::Executor* e : cur_)
      out.back().push_back(e->grad_arrays()[a]);
  }
  return out;
}

std::vector<NDArray> Module::GetInputGrads() const {
  auto per_context = GetInputGradsPerContext();
  if (cur_.size() > 1) return Merge(per_context, "GetInputGrads");
  std::vector<NDArray> out;
  for (auto& g : per_context)
    out.push_back(std::move(g[0]));
  return out;
}

void Module::UpdateMetricRows(metric::EvalMetric& metric, const std::vector<NDArray>& labels,
                              int64_t valid_rows) const {
  for (size_t k = 0; k < cur_.size(); ++k) {
    const auto [begin, end] = slices_[k];
    int64_t stop = std::min(end, valid_rows);
    if (stop <= begin) {
      if (cur_.size() > 1) continue;  // only pad rows here
      stop = end;                     // a batch of pad rows only: counted whole, as MXNet
    }
    std::vector<NDArray> label, preds;
    for (const NDArray& l : labels) {
      const bool batched = l.shape().ndim() >= 1 && l.shape()[0] == batch_rows_;
      label.push_back(batched && (begin > 0 || stop < batch_rows_) ? l.Slice(begin, stop) : l);
    }
    for (const NDArray& o : cur_[k]->outputs()) {
      const bool batched = o.shape().ndim() >= 1 && o.shape()[0] == end - begin;
      preds.push_back(batched && stop < end && stop > begin ? o.Slice(0, stop - begin) : o);
    }
    metric.update(label, preds);
  }
}

void Module::UpdateMetric(metric::EvalMetric& metric, const std::vector<NDArray>& labels) const {
  CheckReady("UpdateMetric");
  UpdateMetricRows(metric, labels, batch_rows_);
}

// ---------------------------------------------------------------- high level

void Module::Fit(io::DataIter& train_data, const FitOptions& o) {
  using Clock = std::chrono::steady_clock;
  Bind(train_data.provide_data(), train_data.provide_label(), true, false, o.force_rebind);
  const init::Uniform fallback(0.01);
  InitParams(o.initializer ? o.initializer.get() : &fallback, o.arg_params, o.aux_params,
             o.allow_missing, o.force_init);
  if (o.optimizer_object) {
    InitOptimizer(o.optimizer_object, false, o.kvstore);
  } else {
    InitOptimizer(o.optimizer, o.optimizer_params, false, o.kvstore);
  }
  std::shared_ptr<metric::EvalMetric> eval_metric = o.eval_metric_object;
  if (!eval_metric) eval_metric = metric::CreateMetric(o.eval_metric);

  for (int epoch = o.begin_epoch; epoch < o.num_epoch; ++epoch) {
    const auto tic = Clock::now();
    eval_metric->reset();
    MX_CHECK(train_data.Next(), ValueError)
        << "Module.Fit: train_data yields no batch in epoch " << epoch;
    metric::NameValues name_values;
    for (int nbatch = 0;; ++nbatch) {
      const io::DataBatch& batch = train_data.Value();
      ForwardBackward(batch);
      Update();
      UpdateMetric(*eval_metric, batch.label);
      // The next batch is fetched before the callbacks, and the epoch's values read on the
      // last batch before them too (a callback such as Speedometer may reset the metric).
      const bool end = !train_data.Next();
      if (end) name_values = eval_metric->get();
      for (const auto& cb : o.batch_end_callback)
        cb({epoch, nbatch, eval_metric.get()});
      if (end) break;
    }
    for (const auto& [name, value] : name_values)
      Log(Format("Epoch[%d] Train-%s=%f", epoch, name.c_str(), value));
    Log(Format("Epoch[%d] Time cost=%.3f", epoch,
               std::chrono::duration<double>(Clock::now() - tic).count()));
    // MXNet then sets the parameters back to average auxiliary states over devices; with one
    // executor that is a copy onto itself, so only the host copies are refreshed there.
    const auto [arg, aux] = GetParams();
    if (contexts_.size() > 1) CopyParamsIn(&arg, &aux, true, "Fit");
    for (const auto& cb : o.epoch_end_callback)
      cb(epoch, symbol_, arg, aux);
    if (o.eval_data) {
      // MXNet validates with the training metric object when one is given (Score resets it).
      std::shared_ptr<metric::EvalMetric> validation_metric = o.eval_metric_object;
      if (!validation_metric) validation_metric = metric::CreateMetric(o.eval_metric);
      const auto res =
          Score(*o.eval_data, *validation_metric, -1, true, epoch, o.eval_batch_end_callback);
      for (const auto& [name, value] : res)
        Log(Format("Epoch[%d] Validation-%s=%f", epoch, name.c_str(), value));
    }
    train_data.Reset();
  }
}

metric::NameValues Module::Score(io::DataIter& eval_data, metric::EvalMetric& metric, int num_batch,
                                 bool reset, int epoch,
                                 const std::vector<BatchEndCallback>& batch_end_callback) {
  CheckReady("Score");
  if (reset) eval_data.Reset();
  metric.reset();
  for (int nbatch = 0; (num_batch < 0 || nbatch < num_batch) && eval_data.Next(); ++nbatch) {
    const io::DataBatch& batch = eval_data.Value();
    Forward(batch, false);
    // Pad rows repeat samples already counted: left out of the metric (MXNet counted them).
    UpdateMetricRows(metric, batch.label, batch_rows_ - std::max(batch.pad, 0));
    for (const auto& cb : batch_end_callback)
      cb({epoch, nbatch, &metric});
  }
  return metric.get();
}

std::vector<NDArray> Module::Predict(io::DataIter& eval_data, int num_batch, bool reset) {
  CheckReady("Predict");
  if (reset) eval_data.Reset();
  std::vector<std::vector<NDArray>> batches;
  for (int nbatch = 0; (num_batch < 0 || nbatch < num_batch) && eval_data.Next(); ++nbatch) {
    const io::DataBatch& batch = eval_data.Value();
    Forward(batch, false);
    std::vector<NDArray> outs;
    for (const NDArray& out : GetOutputs()) {
      MX_CHECK(out.shape().ndim() >= 1 && out.shape()[0] >= batch.pad, ValueError)
          << "Module.Predict: output of shape " << out.shape() << " has no batch axis to remove "
          << batch.pad << " pad rows from";
      outs.push_back(out.Slice(0, out.shape()[0] - batch.pad).Copy(out.ctx()));
    }
    batches.push_back(std::move(outs));
  }
  std::vector<NDArray> merged;
  if (batches.empty()) return merged;
  for (size_t k = 0; k < batches[0].size(); ++k) {
    const NDArray& first = batches[0][k];
    int64_t total = 0;
    for (const auto& b : batches) {
      const Shape& s = b[k].shape();
      bool same_rest = s.ndim() == first.shape().ndim();
      for (int d = 1; same_rest && d < s.ndim(); ++d)
        same_rest = s[d] == first.shape()[d];
      MX_CHECK(same_rest && b[k].dtype() == first.dtype(), ValueError)
          << "Module.Predict: cannot merge output " << k << " of shapes " << first.shape()
          << " and " << s << " along axis 0";
      total += s[0];
    }
    std::vector<int64_t> dims = {total};
    for (int d = 1; d < first.shape().ndim(); ++d)
      dims.push_back(first.shape()[d]);
    NDArray out(Shape(dims), first.ctx(), first.dtype());
    int64_t row = 0;
    for (const auto& b : batches) {
      const int64_t n = b[k].shape()[0];
      if (n > 0) b[k].CopyTo(out.Slice(row, row + n));
      row += n;
    }
    merged.push_back(std::move(out));
  }
  return merged;
}

// ---------------------------------------------------------------- checkpoints

void Module::SaveCheckpoint(const std::string& prefix, int epoch,
                            bool save_optimizer_states) const {
  const auto [arg, aux] = GetParams();
  mod::SaveCheckpoint(prefix, epoch, symbol_, arg, aux);
  Log("Saved checkpoint to \"" + ParamsPath(prefix, epoch, "params") + "\"");
  if (save_optimizer_states) {
    const std::string states = ParamsPath(prefix, epoch, "states");
    SaveOptimizerStates(states);
    Log("Saved optimizer state to \"" + states + "\"");
  }
}

Module Module::Load(const std::string& prefix, int epoch, bool load_optimizer_states,
                    std::vector<std::string> data_names, std::vector<std::string> label_names,
                    Context ctx) {
  return Load(prefix, epoch, load_optimizer_states, std::move(data_names), std::move(label_names),
              std::vector<Context>{ctx});
}

Module Module::Load(const std::string& prefix, int epoch, bool load_optimizer_states,
                    std::vector<std::string> data_names, std::vector<std::string> label_names,
                    std::vector<Context> contexts) {
  auto [symbol, arg, aux] = LoadCheckpoint(prefix, epoch);
  Module m(std::move(symbol), std::move(data_names), std::move(label_names), std::move(contexts));
  m.arg_params_ = std::move(arg);
  m.aux_params_ = std::move(aux);
  m.params_initialized_ = true;  // copied into the executor by Bind
  if (load_optimizer_states) m.preload_opt_states_ = ParamsPath(prefix, epoch, "states");
  return m;
}

void SaveCheckpoint(const std::string& prefix, int epoch, const sym::Symbol& symbol,
                    const ParamDict& arg_params, const ParamDict& aux_params) {
  symbol.Save(prefix + "-symbol.json");
  // The symbol's order (what MXNet's Module dicts hold), so files match MXNet's byte for byte.
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  AppendOrdered(arg_params, symbol.ListArguments(), "arg:", &arrays, &names);
  AppendOrdered(aux_params, symbol.ListAuxiliaryStates(), "aux:", &arrays, &names);
  SaveNDArrays(ParamsPath(prefix, epoch, "params"), arrays, names);
}

std::tuple<sym::Symbol, ParamDict, ParamDict> LoadCheckpoint(const std::string& prefix, int epoch) {
  sym::Symbol symbol = sym::Symbol::Load(prefix + "-symbol.json");
  const std::string path = ParamsPath(prefix, epoch, "params");
  const NDArrayList list = LoadNDArrays(path);
  MX_CHECK(list.arrays.empty() || list.names.size() == list.arrays.size(), ValueError)
      << "LoadCheckpoint: '" << path << "' holds " << list.arrays.size()
      << " arrays without names; a checkpoint names them arg:NAME or aux:NAME";
  ParamDict arg, aux;
  for (size_t i = 0; i < list.arrays.size(); ++i) {
    const std::string& key = list.names[i];
    const size_t colon = key.find(':');
    MX_CHECK(colon != std::string::npos, ValueError)
        << "LoadCheckpoint: '" << path << "' has an array named '" << key
        << "'; a checkpoint names them arg:NAME or aux:NAME";
    const std::string kind = key.substr(0, colon), name = key.substr(colon + 1);
    if (kind == "arg") arg[name] = list.arrays[i];
    if (kind == "aux") aux[name] = list.arrays[i];  // other prefixes are skipped, as in MXNet
  }
  return {std::move(symbol), std::move(arg), std::move(aux)};
}

}  // namespace mixnet::mod
