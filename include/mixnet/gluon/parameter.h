/*!
 * \file parameter.h
 * \brief Gluon parameters: a named weight with its gradient, per context, and their dicts.
 *
 *   auto w = std::make_shared<gluon::Parameter>("dense0_weight", Shape{10, 0});  // 0: unknown
 *   w->Initialize(std::make_shared<init::Xavier>());   // deferred until the shape is known
 *   w->SetShape({10, 784});                             // a layer's InferShape does this
 *   w->FinishDeferredInit();
 *   NDArray x = w->data();                              // w->grad() after backward
 *
 * A Parameter owns one array per context and (unless grad_req is null) one gradient each,
 * attached to autograd as variables, so recorded computations on data() reach grad(). A shape
 * with zeros is partly unknown: initialisation waits until a layer fills it (MXNet's deferred
 * initialisation), and data() before that raises a ValueError naming the parameter.
 */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/base/context.h"
#include "mixnet/initializer/initializer.h"
#include "mixnet/ndarray/ndarray.h"

namespace mixnet::sym {
class Symbol;
}

namespace mixnet::gluon {

using autograd::GradReq;

struct ParameterOptions {
  GradReq grad_req = GradReq::kWrite;
  DType dtype = DType::kFloat32;
  double lr_mult = 1.0;
  double wd_mult = 1.0;
  /*! \brief This parameter's own initializer; null: the one given to Initialize. */
  init::InitializerPtr init;
  bool allow_deferred_init = true;
  /*! \brief False for parameters no gradient can reach (a Constant): grad_req is forced null. */
  bool differentiable = true;
};

class Parameter {
 public:
  /*! \brief `shape` may hold zeros (unknown dimensions) or be empty (unknown rank). */
  explicit Parameter(std::string name, Shape shape = Shape(), ParameterOptions options = {});
  virtual ~Parameter() = default;

  const std::string& name() const { return name_; }
  const Shape& shape() const { return shape_; }
  /*!
   * \brief Fills unknown dimensions; ValueError naming the parameter if a known one differs
   * (MXNet's shape setter). Does not allocate: FinishDeferredInit does.
   */
  void SetShape(const Shape& shape);
  DType dtype() const { return dtype_; }
  GradReq grad_req() const { return grad_req_; }
  /*! \brief Changing to null drops the gradients; from null allocates them (if initialised). */
  void SetGradReq(GradReq req);
  double lr_mult = 1.0;
  double wd_mult = 1.0;
  const init::InitializerPtr& init() const { return init_; }

  /*!
   * \brief Allocates and initialises the data on `ctxs` (default: cpu) with this parameter's
   * own initializer, else `init`, else `default_init` (Uniform). With an unknown shape the work
   * waits for FinishDeferredInit (ValueError if deferral is not allowed). Initialising twice
   * warns and keeps the data unless `force_reinit`.
   */
  void Initialize(init::InitializerPtr init = nullptr, std::vector<Context> ctxs = {},
                  init::InitializerPtr default_init = nullptr, bool force_reinit = false);
  /*! \brief True when Initialize ran but the shape was not known yet. */
  bool deferred() const { return deferred_; }
  bool initialized() const { return !data_.empty(); }
  /*! \brief Completes a deferred Initialize now that the shape is known. */
  void FinishDeferredInit();

  /*! \brief The data on `ctx`; ValueError if not initialised (naming why), or not on ctx. */
  NDArray data(Context ctx = Context::cpu()) const;
  std::vector<NDArray> list_data() const;
  /*! \brief The gradient on `ctx`; ValueError if grad_req is null or not initialised. */
  NDArray grad(Context ctx = Context::cpu()) const;
  std::vector<NDArray> list_grad() const;
  std::vector<Context> list_ctx() const;
  /*! \brief Copies `value` into the data on every context (shape must match; an uninitialised
   * parameter with a known or deferred shape takes it as its data). */
  void SetData(const NDArray& value);
  /*!
   * \brief Takes `value` loaded from `file` as this parameter's data (initialising it on `ctxs`
   * if needed). ValueError naming `saved_name`, the file and both shapes if the shape differs,
   * or the dtypes if they differ and not `cast_dtype`.
   */
  void Load(const NDArray& value, const std::string& saved_name, const std::string& file,
            bool cast_dtype, const std::vector<Context>& ctxs = {});
  /*! \brief Sets every gradient to zero. */
  void ZeroGrad();
  /*! \brief Moves data (and gradients) to `ctxs`, keeping the values. */
  void ResetCtx(std::vector<Context> ctxs);
  /*! \brief Converts data and gradients to `dtype`. */
  void Cast(DType dtype);
  /*! \brief The symbol variable for this parameter (name, shape, dtype, lr/wd mults, init). */
  sym::Symbol var() const;
  /*! \brief "Parameter dense0_weight (shape=(10, 784), dtype=float32)". */
  std::string Repr() const;

 protected:
  std::string name_;
  Shape shape_;
  DType dtype_;
  GradReq grad_req_;
  init::InitializerPtr init_;
  bool allow_deferred_init_, differentiable_;
  bool deferred_ = false;
  init::InitializerPtr deferred_init_;  // what the deferred Initialize chose
  std::vector<Context> ctxs_;
  std::vector<NDArray> data_, grad_;  // one per context

 private:
  void AllocateAndInit(const init::InitializerPtr& init);
  void AttachGrads();
};

/*! \brief A parameter that never changes and takes no gradient (gluon.Constant). */
class Constant : public Parameter {
 public:
  Constant(std::string name, NDArray value);
  const NDArray& value() const { return value_; }

 private:
  NDArray value_;
};

using ParameterPtr = std::shared_ptr<Parameter>;

/*!
 * \brief An ordered dict of parameters by name (gluon.ParameterDict): what Block::CollectParams
 * returns, and what a Trainer takes. Names are full names (prefix included).
 */
class ParameterDict {
 public:
  explicit ParameterDict(std::string prefix = "",
                         std::shared_ptr<const ParameterDict> shared = nullptr)
      : prefix_(std::move(prefix)), shared_(std::move(shared)) {}
  const std::string& prefix() const { return prefix_; }
  /*! \brief The dict searched before creating (MXNet's _shared), or null. */
  const std::shared_ptr<const ParameterDict>& shared_dict() const { return shared_; }

  /*!
   * \brief The parameter `prefix + name`, created with `shape` and `options` if missing.
   * An existing one must agree (unknown dimensions are filled), else ValueError.
   */
  ParameterPtr Get(const std::string& name, Shape shape = Shape(), ParameterOptions options = {});
  /*! \brief The constant `prefix + name` holding `value`, created if missing. */
  ParameterPtr GetConstant(const std::string& name, const NDArray& value);
  /*! \brief Adds `param` under its own name; ValueError if another object has that name. */
  void Add(ParameterPtr param);
  /*! \brief Adds all of `other` (the same object under a name is fine). */
  void Update(const ParameterDict& other);
  /*! \brief The parameter called `full_name`, or null. */
  ParameterPtr Find(const std::string& full_name) const;
  /*! \brief KeyError-like ValueError naming the dict's keys when missing. */
  const ParameterPtr& at(const std::string& full_name) const;
  /*! \brief The parameters whose full name matches `regex` from its start (Python's re.match;
   * "" selects all). */
  ParameterDict Select(const std::string& regex) const;

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::pair<std::string, ParameterPtr>>& items() const { return items_; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

  void Initialize(init::InitializerPtr init = nullptr, std::vector<Context> ctxs = {},
                  bool verbose = false, bool force_reinit = false);
  void ZeroGrad();
  void ResetCtx(std::vector<Context> ctxs);
  void SetAttr(const std::function<void(Parameter&)>& fn);
  /*! \brief Saves data (first context) under their names with `strip_prefix` removed. */
  void Save(const std::string& path, const std::string& strip_prefix = "") const;
  /*! \brief Loads names `restore_prefix + saved name`; errors as Block::LoadParameters. */
  void Load(const std::string& path, std::vector<Context> ctxs = {}, bool allow_missing = false,
            bool ignore_extra = false, const std::string& restore_prefix = "",
            bool cast_dtype = false);

 private:
  /*! \brief `full` from this dict, else from the shared one (then added here), else null. */
  ParameterPtr FindOrShare(const std::string& full);

  std::string prefix_;
  std::shared_ptr<const ParameterDict> shared_;  // searched by Get before creating
  std::vector<std::pair<std::string, ParameterPtr>> items_;
};

}  // namespace mixnet::gluon
