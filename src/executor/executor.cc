// Executor's static constructors and the name-keyed views shared by every executor.
#include "mixnet/executor/executor.h"

#include "executor/graph_executor.h"

namespace mixnet::exec {
namespace {
std::map<std::string, NDArray> Zip(const std::vector<std::string>& names,
                                   const std::vector<NDArray>& arrays) {
  std::map<std::string, NDArray> out;
  for (size_t i = 0; i < names.size() && i < arrays.size(); ++i) {
    if (!arrays[i].is_none()) out.emplace(names[i], arrays[i]);
  }
  return out;
}
}  // namespace

std::map<std::string, NDArray> Executor::arg_dict() const {
  return Zip(symbol().ListArguments(), arg_arrays());
}
std::map<std::string, NDArray> Executor::grad_dict() const {
  return Zip(symbol().ListArguments(), grad_arrays());
}
std::map<std::string, NDArray> Executor::aux_dict() const {
  return Zip(symbol().ListAuxiliaryStates(), aux_arrays());
}
std::map<std::string, NDArray> Executor::output_dict() const {
  return Zip(symbol().ListOutputs(), outputs());
}

std::unique_ptr<Executor> Executor::Bind(const sym::Symbol& symbol, Context ctx,
                                         std::vector<NDArray> args, std::vector<NDArray> arg_grads,
                                         std::vector<GradReq> grad_reqs,
                                         std::vector<NDArray> aux_states, const Executor* shared,
                                         const ExecutorOptions& options) {
  return std::make_unique<GraphExecutor>(symbol, ctx, std::move(args), std::move(arg_grads),
                                         std::move(grad_reqs), std::move(aux_states),
                                         dynamic_cast<const GraphExecutor*>(shared), options);
}

std::unique_ptr<Executor> Executor::SimpleBind(
    const sym::Symbol& symbol, Context ctx, const std::unordered_map<std::string, Shape>& shapes,
    const std::unordered_map<std::string, DType>& dtypes, GradReq grad_req,
    const std::unordered_map<std::string, GradReq>& grad_reqs, const Executor* shared,
    const ExecutorOptions& options) {
  const auto arg_names = symbol.ListArguments();
  const auto aux_names = symbol.ListAuxiliaryStates();
  for (const auto& [name, req] : grad_reqs) {
    MX_CHECK(std::find(arg_names.begin(), arg_names.end(), name) != arg_names.end(), ValueError)
        << "simple_bind: grad_req given for '" << name << "', which is not an argument"
        << op::DidYouMean(name, arg_names);
  }
  const auto s = symbol.InferShape(shapes);
  const auto t = symbol.InferType(dtypes);
  const auto shared_args = shared ? shared->arg_dict() : std::map<std::string, NDArray>{};
  const auto shared_grads = shared ? shared->grad_dict() : std::map<std::string, NDArray>{};
  const auto shared_aux = shared ? shared->aux_dict() : std::map<std::string, NDArray>{};
  // An array of the shared executor when its name, shape and dtype match (bucketing).
  auto take = [&](const std::map<std::string, NDArray>& from, const std::string& name,
                  const Shape& shape, DType dtype) {
    auto it = from.find(name);
    if (it != from.end() && it->second.shape() == shape && it->second.dtype() == dtype) {
      return it->second;
    }
    return NDArray::Zeros(shape, dtype, ctx);
  };
  std::vector<NDArray> args, grads, aux;
  std::vector<GradReq> reqs;
  for (size_t i = 0; i < arg_names.size(); ++i) {
    args.push_back(take(shared_args, arg_names[i], s.arg[i], t.arg[i]));
    auto it = grad_reqs.find(arg_names[i]);
    const GradReq req = it != grad_reqs.end() ? it->second : grad_req;
    reqs.push_back(req);
    grads.push_back(req == GradReq::kNull ? NDArray()
                                          : take(shared_grads, arg_names[i], s.arg[i], t.arg[i]));
  }
  for (size_t i = 0; i < aux_names.size(); ++i)
    aux.push_back(take(shared_aux, aux_names[i], s.aux[i], t.aux[i]));
  return Bind(symbol, ctx, std::move(args), std::move(grads), std::move(reqs), std::move(aux),
              shared, options);
}

}  // namespace mixnet::exec
