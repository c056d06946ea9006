// HybridBlock: eager forward, deferred initialisation, and hybridization (NOTE [ Hybridize ]).
//
// NOTE [ Hybridize ]
// A hybridized block keeps one CacheEntry per input signature (shapes, dtypes, context). A new
// signature runs the forward eagerly under a sym::TraceScope: the inputs become variables
// "data"/"data0".., Parameter::data() hands out its array as a variable named after the
// parameter, and every op is recorded as it runs (NOTE [ Deferred compute ]). So the first call
// returns eager results (recorded by autograd like any eager code) and finishes deferred
// initialisation on the way. Later calls with that signature run the traced graph through an
// exec::CachedOp (memory planning, fusion, bulked engine pushes), with the parameters bound
// in place; under autograd recording the call is one tape node whose backward runs the
// graph's. Blocks called inside another block's trace run eagerly, so the outer graph inlines
// them.
#include <iostream>
#include <sstream>

#include "mixnet/base/error.h"
#include "mixnet/executor/cached_op.h"
#include "mixnet/gluon/block.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/symbol/trace.h"

namespace mixnet::gluon {
namespace {

/*! \brief Re-tracing this many signatures warns once: the shapes are probably not stable. */
constexpr size_t kRetraceWarning = 8;

/*! \brief Shapes, dtypes and contexts of the inputs; a none input (an optional argument left
 * out, as MXNet's None) is part of the signature. */
std::string Signature(const std::vector<NDArray>& inputs) {
  std::ostringstream os;
  for (const NDArray& x : inputs) {
    if (x.is_none()) {
      os << "none;";
    } else {
      os << x.shape() << DTypeName(x.dtype()) << x.ctx() << ';';
    }
  }
  return os.str();
}

Context ContextOf(const std::vector<NDArray>& inputs) {
  for (const NDArray& x : inputs)
    if (!x.is_none()) return x.ctx();
  return Context::cpu();
}

std::vector<std::string> InputNames(size_t n) {
  if (n == 1) return {"data"};
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i)
    names.push_back("data" + std::to_string(i));
  return names;
}

/*! \brief The arrays without their trace entries (outputs returned to the caller). */
std::vector<NDArray> Untraced(std::vector<NDArray> arrays) {
  for (NDArray& a : arrays)
    a.set_trace_entry({});
  return arrays;
}

}  // namespace

struct HybridBlock::CacheEntry {
  std::shared_ptr<exec::CachedOp> op;
  // Per CachedOp input: the block input it is (>= 0), or -1 with the parameter in `params`.
  std::vector<int> data_index;
  std::vector<ParameterPtr> params;
};

HybridBlock::~HybridBlock() = default;

void HybridBlock::Hybridize(bool active, const HybridizeOptions& options) {
  active_ = active;
  options_ = options;
  cache_.clear();
  Block::Hybridize(active, options);
}

void HybridBlock::ClearCache() {
  cache_.clear();
  Block::ClearCache();
}

void HybridBlock::InferShape(const std::vector<NDArray>&) {
  std::ostringstream os;
  for (const auto& [n, p] : reg_params())
    if (p->deferred()) os << " '" << p->name() << "' " << p->shape();
  MX_THROW(ValueError) << "Block '" << name() << "' cannot infer the shapes of its parameters"
                       << os.str()
                       << " from its inputs: give the full shapes (e.g. in_units/in_channels), "
                          "or override HybridBlock::InferShape";
}

void HybridBlock::FinishOwnDeferredInit(const std::vector<NDArray>& inputs) {
  bool pending = false;
  for (const auto& [n, p] : reg_params())
    pending = pending || p->deferred();
  if (!pending) return;
  InferShape(inputs);
  for (const auto& [n, p] : reg_params())
    p->FinishDeferredInit();
}

std::vector<NDArray> HybridBlock::Forward(const std::vector<NDArray>& inputs) {
  if (!active_ || sym::TraceScope::Current() != nullptr) {
    FinishOwnDeferredInit(inputs);
    return HybridForward(inputs);
  }
  return CallCached(inputs);
}

sym::Symbol HybridBlock::Trace(const std::vector<NDArray>& inputs) {
  std::vector<NDArray> out;
  return TraceForward(inputs, &out);
}

sym::Symbol HybridBlock::TraceForward(const std::vector<NDArray>& inputs,
                                      std::vector<NDArray>* out) {
  sym::TraceScope trace;
  std::vector<NDArray> vars;
  const std::vector<std::string> names = InputNames(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    vars.push_back(inputs[i].is_none() ? NDArray() : trace.Variable(inputs[i], names[i]));
  FinishOwnDeferredInit(vars);
  *out = HybridForward(vars);
  return trace.GetSymbol(*out);
}

std::vector<NDArray> HybridBlock::CallCached(const std::vector<NDArray>& inputs) {
  std::shared_ptr<CacheEntry>& entry = cache_[Signature(inputs)];
  if (!entry) {
    // Trace (computing eagerly) and build the cached graph for this signature.
    std::vector<NDArray> out;
    const sym::Symbol graph = TraceForward(inputs, &out);
    auto e = std::make_shared<CacheEntry>();
    const ParameterDict params = CollectParams();
    const std::vector<std::string> names = InputNames(inputs.size());
    std::vector<bool> is_static;
    for (const std::string& in : graph.ListInputs()) {
      auto it = std::find(names.begin(), names.end(), in);
      if (it != names.end()) {
        e->data_index.push_back(static_cast<int>(it - names.begin()));
        e->params.push_back(nullptr);
        is_static.push_back(false);
      } else {
        ParameterPtr p = params.Find(in);
        MX_CHECK(p != nullptr, ValueError)
            << "Block '" << name() << "': the traced graph reads '" << in
            << "', which is neither an input nor a parameter of this block (a parameter of "
               "another block? register that block as a child)";
        e->data_index.push_back(-1);
        e->params.push_back(p);
        is_static.push_back(true);
      }
    }
    e->op = std::make_shared<exec::CachedOp>(graph, is_static);
    entry = e;
    last_symbol_ = graph;
    if (++num_traces_ == kRetraceWarning) {
      std::cerr << "Warning: HybridBlock '" << name() << "' has been traced " << num_traces_
                << " times, once per new input shape; each new shape traces and binds the graph "
                   "again. Pad or bucket inputs to a few shapes\n";
    }
    return Untraced(std::move(out));
  }
  const Context ctx = ContextOf(inputs);
  std::vector<NDArray> args;
  args.reserve(entry->data_index.size());
  for (size_t i = 0; i < entry->data_index.size(); ++i) {
    const int d = entry->data_index[i];
    args.push_back(d >= 0 ? inputs[static_cast<size_t>(d)] : entry->params[i]->data(ctx));
  }
  last_symbol_ = entry->op->symbol();
  return (*entry->op)(args);
}

std::pair<std::string, std::string> HybridBlock::Export(const std::string& path, int epoch) const {
  MX_CHECK(last_symbol_.NumOutputs() > 0, ValueError)
      << "Block '" << name()
      << "'.export: please first call block.hybridize() and then run forward with this block at "
         "least once before calling export";
  const std::string sym_file = path + "-symbol.json";
  last_symbol_.Save(sym_file);
  const ParameterDict params = CollectParams();
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  for (const std::string& a : last_symbol_.ListArguments()) {
    if (ParameterPtr p = params.Find(a)) {
      arrays.push_back(autograd::Detach(p->list_data()[0]));
      names.push_back("arg:" + a);
    }
  }
  for (const std::string& a : last_symbol_.ListAuxiliaryStates()) {
    if (ParameterPtr p = params.Find(a)) {
      arrays.push_back(autograd::Detach(p->list_data()[0]));
      names.push_back("aux:" + a);
    }
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d", epoch);
  const std::string param_file = path + "-" + buf + ".params";
  SaveNDArrays(param_file, arrays, names);
  return {sym_file, param_file};
}

}  // namespace mixnet::gluon
