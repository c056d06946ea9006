// Block: naming, children, parameters, checkpoints, hooks, summary (MXNet 1.x gluon.Block).
//
// NOTE [ Block names ]
// MXNet 1.x names a block when it is constructed: outside any block's name scope the prefix is
// the alias and a per-thread counter ("dense0_"); inside the scope of `parent` (a BlockScope,
// Python's `with parent.name_scope():`) it is parent's prefix plus the alias and a counter
// kept by the parent ("net0_dense1_"). Parameter full names are the dict prefix plus the
// parameter name. Checkpoints written by save_parameters use the structural names instead:
// the path of registered child names and the parameter's registered name ("features.0.weight"),
// which do not depend on how many blocks were created before.
#include "mixnet/gluon/block.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <typeinfo>

#include "mixnet/base/error.h"
#include "mixnet/ndarray/serialize.h"

namespace mixnet::gluon {
namespace {

thread_local Block* t_scope_block = nullptr;
thread_local std::map<std::string, int> t_top_counter;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i];
  return out;
}

}  // namespace

void ResetBlockNames() {
  t_top_counter.clear();
}

BlockScope::BlockScope(Block* block) : prev_(t_scope_block), active_(!block->empty_prefix_) {
  if (!active_) return;
  t_scope_block = block;
  sym_scope_ = std::make_unique<sym::NameScope>(block->prefix());
}

BlockScope::~BlockScope() {
  if (!active_) return;
  sym_scope_.reset();
  t_scope_block = prev_;
}

Block::Block(std::string alias, BlockArgs args)
    : alias_(std::move(alias)), empty_prefix_(args.prefix && args.prefix->empty()) {
  Block* parent = t_scope_block;
  std::string prefix;
  if (args.prefix) {
    prefix = *args.prefix;
  } else if (!parent) {
    prefix = alias_ + std::to_string(t_top_counter[alias_]++) + "_";
  } else {
    prefix = alias_ + std::to_string(parent->child_counter_[alias_]++) + "_";
  }
  if (args.params) {
    params_ = ParameterDict(args.params->prefix(), std::make_shared<ParameterDict>(*args.params));
  } else if (parent) {
    params_ = ParameterDict(parent->params_.prefix() + prefix, parent->params_.shared_dict());
  } else {
    params_ = ParameterDict(prefix);
  }
  prefix_ = parent ? parent->prefix_ + prefix : prefix;
  name_ =
      !prefix_.empty() && prefix_.back() == '_' ? prefix_.substr(0, prefix_.size() - 1) : prefix_;
}

Block::~Block() = default;

void Block::AddChild(BlockPtr child, std::string name) {
  MX_CHECK(child != nullptr, ValueError) << "Block '" << name_ << "': register_child with null";
  if (name.empty()) name = std::to_string(children_.size());
  for (auto& [n, c] : children_) {
    if (n == name) {
      c = std::move(child);
      return;
    }
  }
  children_.emplace_back(std::move(name), std::move(child));
}

ParameterPtr Block::RegisterParameter(const std::string& name, Shape shape,
                                      ParameterOptions options) {
  ParameterPtr p = params_.Get(name, std::move(shape), std::move(options));
  for (auto& [n, q] : reg_params_) {
    if (n == name) {
      q = p;
      return p;
    }
  }
  reg_params_.emplace_back(name, p);
  return p;
}

ParameterPtr Block::RegisterConstant(const std::string& name, const NDArray& value) {
  ParameterPtr p = params_.GetConstant(name, value);
  reg_params_.emplace_back(name, p);
  return p;
}

ParameterDict Block::CollectParams(const std::string& select) const {
  ParameterDict ret = params_.Select(select);
  for (const auto& [n, c] : children_)
    ret.Update(c->CollectParams(select));
  return ret;
}

std::vector<std::pair<std::string, ParameterPtr>> Block::CollectParamsWithPrefix(
    const std::string& prefix) const {
  const std::string p = prefix.empty() ? "" : prefix + ".";
  std::vector<std::pair<std::string, ParameterPtr>> ret;
  for (const auto& [n, param] : reg_params_)
    ret.emplace_back(p + n, param);
  for (const auto& [n, c] : children_)
    for (auto& item : c->CollectParamsWithPrefix(p + n))
      ret.push_back(std::move(item));
  return ret;
}

void Block::Initialize(init::InitializerPtr init, std::vector<Context> ctxs, bool verbose,
                       bool force_reinit) {
  CollectParams().Initialize(std::move(init), std::move(ctxs), verbose, force_reinit);
}

void Block::Cast(DType dtype) {
  for (auto& [n, c] : children_)
    c->Cast(dtype);
  for (auto& [n, p] : params_)
    p->Cast(dtype);
  ClearCache();
}

void Block::Apply(const std::function<void(Block&)>& fn) {
  for (auto& [n, c] : children_)
    c->Apply(fn);
  fn(*this);
}

void Block::ZeroGrad() {
  CollectParams().ZeroGrad();
}

void Block::Hybridize(bool active, const HybridizeOptions& options) {
  for (auto& [n, c] : children_)
    c->Hybridize(active, options);
}

void Block::ClearCache() {
  for (auto& [n, c] : children_)
    c->ClearCache();
}

void Block::SaveParameters(const std::string& path, bool deduplicate) const {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  std::set<const Parameter*> seen;
  for (const auto& [n, p] : CollectParamsWithPrefix()) {
    if (deduplicate && !seen.insert(p.get()).second) continue;
    MX_CHECK(p->initialized(), ValueError)
        << "Block.save_parameters: parameter '" << n << "' (" << p->name() << ") is not initialized"
        << (p->deferred() ? " (its initialization is deferred until "
                            "the first forward pass)"
                          : "");
    arrays.push_back(autograd::Detach(p->list_data()[0]));
    names.push_back(n);
  }
  SaveNDArrays(path, arrays, names);
}

void Block::LoadParameters(const std::string& path, std::vector<Context> ctxs, bool allow_missing,
                           bool ignore_extra, bool cast_dtype) {
  NDArrayList loaded = LoadNDArrays(path);
  MX_CHECK(loaded.names.size() == loaded.arrays.size(), ValueError)
      << "Block.load_parameters: '" << path << "' holds an unnamed list of arrays, not parameters";
  const auto params = CollectParamsWithPrefix();
  if (loaded.arrays.empty() && params.empty()) return;
  const bool legacy = std::none_of(loaded.names.begin(), loaded.names.end(),
                                   [](const auto& n) { return n.find('.') != std::string::npos; });
  if (legacy) {  // MXNet's save_params: full names, restored with this block's prefix
    ParameterDict all = CollectParams();
    all.Load(path, std::move(ctxs), allow_missing, ignore_extra, prefix_, cast_dtype);
    return;
  }
  std::vector<std::string> own;
  for (const auto& [n, p] : params)
    own.push_back(n);
  if (!allow_missing) {
    for (const auto& [n, p] : params)
      MX_CHECK(std::find(loaded.names.begin(), loaded.names.end(), n) != loaded.names.end(),
               ValueError)
          << "Parameter '" << n << "' is missing in file '" << path
          << "', which contains parameters: " << JoinNames(loaded.names)
          << ". Set allow_missing=True to ignore missing parameters.";
  }
  for (size_t i = 0; i < loaded.names.size(); ++i) {
    const std::string& n = loaded.names[i];
    auto it =
        std::find_if(params.begin(), params.end(), [&](const auto& x) { return x.first == n; });
    if (it == params.end()) {
      MX_CHECK(ignore_extra, ValueError)
          << "Parameter '" << n << "' loaded from file '" << path
          << "' is not present in Block, which contains parameters: " << JoinNames(own)
          << ". Set ignore_extra=True to ignore.";
      continue;
    }
    it->second->Load(loaded.arrays[i], n, path, cast_dtype, ctxs);
  }
}

std::vector<NDArray> Block::operator()(const std::vector<NDArray>& inputs) {
  for (auto& [id, hook] : pre_hooks_)
    hook(*this, inputs);
  std::vector<NDArray> out = Forward(inputs);
  for (auto& [id, hook] : hooks_)
    hook(*this, inputs, out);
  return out;
}

NDArray Block::operator()(const NDArray& x) {
  std::vector<NDArray> out = (*this)(std::vector<NDArray>{x});
  MX_CHECK(out.size() == 1, ValueError)
      << "Block '" << name_ << "' returned " << out.size()
      << " outputs; call it with a vector of inputs to get them all";
  return out[0];
}

size_t Block::RegisterForwardPreHook(ForwardPreHook hook) {
  pre_hooks_.emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

size_t Block::RegisterForwardHook(ForwardHook hook) {
  hooks_.emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

void Block::RemoveHook(size_t handle) {
  std::erase_if(pre_hooks_, [&](const auto& h) { return h.first == handle; });
  std::erase_if(hooks_, [&](const auto& h) { return h.first == handle; });
}

/*! \brief "mixnet::gluon::nn::Dense" -> "Dense". */
std::string Block::ClassName() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && d ? d : mangled;
  std::free(d);
  const size_t colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

std::string Block::Repr() const {
  const std::string args = ReprArgs();
  if (!args.empty() || children_.empty()) return ClassName() + "(" + args + ")";
  std::ostringstream os;
  os << ClassName() << "(\n";
  for (const auto& [n, c] : children_) {
    std::string r = c->Repr();
    for (size_t pos = r.find('\n'); pos != std::string::npos; pos = r.find('\n', pos + 1))
      r.insert(pos + 1, "  ");
    os << "  (" << n << "): " << r << "\n";
  }
  os << ")";
  return os.str();
}

std::string Block::Summary(const std::vector<NDArray>& inputs) {
  struct Row {
    std::string layer, shape;
    int64_t params;
  };
  std::vector<Row> rows;
  std::set<const Parameter*> seen;
  int64_t total = 0, trainable = 0, shared = 0;
  std::vector<std::pair<Block*, size_t>> handles;
  auto shapes_of = [](const std::vector<NDArray>& v) {
    std::ostringstream os;
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? ", " : "") << v[i].shape();
    return os.str();
  };
  std::function<void(Block&)> add_hooks = [&](Block& b) {
    for (auto& [n, c] : b.children_)
      add_hooks(*c);
    const size_t h = b.RegisterForwardHook(
        [&](Block& blk, const std::vector<NDArray>&, const std::vector<NDArray>& out) {
          int64_t count = 0;
          for (const auto& [n, p] : blk.reg_params_) {
            const int64_t size = p->shape().Size();
            count += size;
            if (!seen.insert(p.get()).second) {
              shared += size;
              continue;
            }
            total += size;
            if (p->grad_req() != GradReq::kNull) trainable += size;
          }
          rows.push_back(
              {blk.ClassName() + "-" + std::to_string(rows.size() + 1), shapes_of(out), count});
        });
    handles.emplace_back(&b, h);
  };
  add_hooks(*this);
  try {
    (*this)(inputs);
  } catch (...) {
    for (auto& [b, h] : handles)
      b->RemoveHook(h);
    throw;
  }
  for (auto& [b, h] : handles)
    b->RemoveHook(h);
  std::ostringstream os;
  const std::string line(80, '-'), dline(80, '=');
  os << line << "\n"
     << std::setw(30) << "Layer (type)" << std::setw(30) << "Output Shape" << std::setw(20)
     << "Param #"
     << "\n"
     << dline << "\n"
     << std::setw(30) << "Input" << std::setw(30) << shapes_of(inputs) << std::setw(20) << 0
     << "\n";
  for (const Row& r : rows)
    os << std::setw(30) << r.layer << std::setw(30) << r.shape << std::setw(20) << r.params << "\n";
  os << dline << "\n"
     << "Parameters in forward computation graph, duplicate included\n"
     << "   Total params: " << total << "\n"
     << "   Trainable params: " << trainable << "\n"
     << "   Non-trainable params: " << total - trainable << "\n"
     << "Shared params in forward computation graph: " << shared << "\n"
     << "Unique parameters in model: " << total << "\n"
     << line << "\n";
  return os.str();
}

}  // namespace mixnet::gluon
