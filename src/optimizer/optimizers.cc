// The optimizers of MXNet 1.9's mx.optimizer (and AdamW as MXNet 2.0 runs it), each a thin
// layer that computes the step's rate and pushes the fused update op with MXNet's arguments.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "mixnet/base/env.h"
#include "mixnet/op/invoke.h"
#include "mixnet/optimizer/optimizer.h"

namespace mixnet::optimizer {
namespace {

/*! \brief Shortest round-trip text of a double (the op parses back the same value). */
std::string Num(double x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string NumList(const std::vector<double>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + Num(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

/*! \brief Runs `op` on inputs with out=weight (the fused ops update their states in place). */
void Push(std::string_view op, std::vector<NDArray> inputs, const op::AttrDict& attrs,
          const NDArray& weight) {
  op::Invoke(op, inputs, attrs, std::span<const NDArray>(&weight, 1));
}

std::vector<NDArray> ZerosLike(const NDArray& w, int n) {
  std::vector<NDArray> s;
  for (int i = 0; i < n; ++i)
    s.push_back(NDArray::Zeros(w.shape(), w.dtype(), w.ctx()));
  return s;
}

/*! \brief SGD, NAG and Signum: an optional momentum state (none when momentum is 0). */
class MomentumOptimizer : public Optimizer {
 protected:
  MomentumOptimizer(const char* name, const op::AttrDict& kw, double default_momentum)
      : Optimizer(name, kw, 0.01) {
    momentum_ = Float("momentum", default_momentum);
    Require(momentum_ >= 0 && momentum_ < 1, "momentum", "must be in [0, 1)");
  }
  std::vector<NDArray> CreateState(const NDArray& w) override {
    return ZerosLike(w, momentum_ != 0 ? 1 : 0);
  }
  /*! \brief Pushes `with_momentum` on (weight, grad, mom), else `without` on (weight, grad). */
  void PushEach(std::span<const Item> items, const char* with_momentum, const char* without,
                const op::AttrDict& momentum_attrs) {
    for (const Item& it : items) {
      op::AttrDict attrs{{"lr", Num(it.lr)},
                         {"wd", Num(it.wd)},
                         {"rescale_grad", Num(rescale_grad_)},
                         {"clip_gradient", Num(clip_for_op())}};
      if (momentum_ > 0) {
        attrs.insert(attrs.end(), momentum_attrs.begin(), momentum_attrs.end());
        Push(with_momentum, {it.weight, it.grad, it.states->at(0)}, attrs, it.weight);
      } else {
        Push(without, {it.weight, it.grad}, attrs, it.weight);
      }
    }
  }

  double momentum_;
};

/*! \brief SGD with momentum; every group is one multi_sgd_update / multi_sgd_mom_update push. */
class SGD : public MomentumOptimizer {
 public:
  explicit SGD(const op::AttrDict& kw) : MomentumOptimizer("sgd", kw, 0.0) {
    Bool("lazy_update", true);  // row_sparse only: dense arrays update every row
    // MXNet's Updater aggregates SGD by MXNET_OPTIMIZER_AGGREGATION_SIZE (default 4).
    aggregate_num_ =
        static_cast<int>(std::max<int64_t>(1, GetEnvInt("MIXNET_OPTIMIZER_AGGREGATION_SIZE", 4)));
  }

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    std::vector<NDArray> inputs, outputs;
    std::vector<double> lrs, wds;
    for (const Item& it : items) {
      inputs.push_back(it.weight);
      inputs.push_back(it.grad);
      if (momentum_ > 0) inputs.push_back(it.states->at(0));
      outputs.push_back(it.weight);
      lrs.push_back(it.lr);
      wds.push_back(it.wd);
    }
    op::AttrDict attrs{{"lrs", NumList(lrs)},
                       {"wds", NumList(wds)},
                       {"rescale_grad", Num(rescale_grad_)},
                       {"clip_gradient", Num(clip_for_op())},
                       {"num_weights", std::to_string(items.size())}};
    if (momentum_ > 0) attrs.emplace_back("momentum", Num(momentum_));
    op::Invoke(momentum_ > 0 ? "multi_sgd_mom_update" : "multi_sgd_update", inputs, attrs, outputs);
  }
};

/*! \brief Nesterov momentum (nag_mom_update); plain sgd_update when momentum is 0. */
class NAG : public MomentumOptimizer {
 public:
  explicit NAG(const op::AttrDict& kw) : MomentumOptimizer("nag", kw, 0.0) {}

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    PushEach(items, "nag_mom_update", "sgd_update", {{"momentum", Num(momentum_)}});
  }
};

/*! \brief Signum (signum_update); signsgd_update when momentum is 0 ("signsgd": the default). */
class Signum : public MomentumOptimizer {
 public:
  Signum(const op::AttrDict& kw, const char* name, double default_momentum)
      : MomentumOptimizer(name, kw, default_momentum) {
    wd_lh_ = Float("wd_lh", 0.0);
  }

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    PushEach(items, "signum_update", "signsgd_update",
             {{"momentum", Num(momentum_)}, {"wd_lh", Num(wd_lh_)}});
  }

 private:
  double wd_lh_;
};

/*!
 * \brief The Adam family: two states (first and second moment, or Adamax's norm) and beta1,
 * beta2 and (where the optimizer has one) epsilon.
 */
class MomentOptimizer : public Optimizer {
 protected:
  MomentOptimizer(const char* name, const op::AttrDict& kw, double lr,
                  std::optional<double> epsilon)
      : Optimizer(name, kw, lr) {
    beta1_ = Float("beta1", 0.9);
    beta2_ = Float("beta2", 0.999);
    Require(beta1_ >= 0 && beta1_ < 1, "beta1", "must be in [0, 1)");
    Require(beta2_ >= 0 && beta2_ < 1, "beta2", "must be in [0, 1)");
    if (epsilon) {
      epsilon_ = Float("epsilon", *epsilon);
      Require(epsilon_ >= 0, "epsilon", "must be >= 0");
    }
  }
  std::vector<NDArray> CreateState(const NDArray& w) override { return ZerosLike(w, 2); }
  /*! \brief Adam's bias correction folded into the rate: sqrt(1 - beta2^t) / (1 - beta1^t). */
  double Correction(int64_t t) const {
    const double td = static_cast<double>(t);
    return std::sqrt(1 - std::pow(beta2_, td)) / (1 - std::pow(beta1_, td));
  }
  /*! \brief lr, the betas, epsilon (if any), wd, rescale_grad and clip_gradient. */
  op::AttrDict Attrs(double lr, double wd, double clip) const {
    op::AttrDict a{{"lr", Num(lr)},
                   {"beta1", Num(beta1_)},
                   {"beta2", Num(beta2_)},
                   {"wd", Num(wd)},
                   {"rescale_grad", Num(rescale_grad_)},
                   {"clip_gradient", Num(clip)}};
    if (epsilon_) a.emplace_back("epsilon", Num(*epsilon_));
    return a;
  }
  /*! \brief The item's (weight, grad, state 0, state 1). */
  static std::vector<NDArray> Inputs(const Item& it) {
    return {it.weight, it.grad, it.states->at(0), it.states->at(1)};
  }

  double beta1_, beta2_;
  std::optional<double> epsilon_;
};

class Adam : public MomentOptimizer {
 public:
  explicit Adam(const op::AttrDict& kw) : MomentOptimizer("adam", kw, 0.001, 1e-8) {
    Bool("lazy_update", true);
  }

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items)
      Push("adam_update", Inputs(it), Attrs(it.lr * Correction(it.t), it.wd, clip_for_op()),
           it.weight);
  }
};

/*!
 * \brief AdamW (decoupled weight decay), absent from MXNet 1.x's mx.optimizer: _adamw_update
 * with eta = the step's rate and lr = Adam's bias correction (1 without correct_bias), so
 * w -= rate * (correction * mean / (sqrt(var) + epsilon) + wd * w).
 */
class AdamW : public MomentOptimizer {
 public:
  explicit AdamW(const op::AttrDict& kw) : MomentOptimizer("adamw", kw, 0.001, 1e-6) {
    correct_bias_ = Bool("correct_bias", true);
  }

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    if (rescale_array_.is_none() || rescale_value_ != rescale_grad_) {
      rescale_value_ = rescale_grad_;
      rescale_array_ = NDArray::Full(Shape{1}, rescale_grad_);
    }
    for (const Item& it : items) {
      std::vector<NDArray> in = Inputs(it);
      in.push_back(rescale_array_);
      op::AttrDict attrs = Attrs(correct_bias_ ? Correction(it.t) : 1.0, it.wd, clip_for_op());
      std::erase_if(attrs, [](const auto& kv) { return kv.first == "rescale_grad"; });
      attrs.emplace_back("eta", Num(it.lr));
      Push("_adamw_update", in, attrs, it.weight);
    }
  }

 private:
  bool correct_bias_;
  NDArray rescale_array_;  //!< _adamw_update takes rescale_grad as a (1,) array
  double rescale_value_ = 0;
};

/*!
 * \brief MXNet's Python-level optimizers clip when `clip_gradient is not None`, so 0 clips to
 * 0 (the fused ops' callers skip a falsy value instead); unset (or negative): off.
 */
double PythonClip(const std::optional<double>& clip) {
  return clip.value_or(-1.0);
}

/*! \brief AdaGrad (adagrad_update); MXNet 1.x names its epsilon `eps` (`epsilon` also read). */
class AdaGrad : public Optimizer {
 public:
  explicit AdaGrad(const op::AttrDict& kw) : Optimizer("adagrad", kw, 0.01) {
    eps_ = Float("epsilon", Float("eps", 1e-7));
    Require(eps_ >= 0, "eps", "must be >= 0");
  }

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return ZerosLike(w, 1); }
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      Push("adagrad_update", {it.weight, it.grad, it.states->at(0)},
           {{"lr", Num(it.lr)},
            {"epsilon", Num(eps_)},
            {"wd", Num(it.wd)},
            {"rescale_grad", Num(rescale_grad_)},
            {"clip_gradient", Num(PythonClip(clip_gradient_))}},
           it.weight);
    }
  }

 private:
  double eps_;
};

/*! \brief AdaDelta (adadelta_update): no learning rate, as MXNet. */
class AdaDelta : public Optimizer {
 public:
  explicit AdaDelta(const op::AttrDict& kw) : Optimizer("adadelta", kw, 0.01) {
    rho_ = Float("rho", 0.9);
    epsilon_ = Float("epsilon", 1e-5);
    Require(rho_ >= 0 && rho_ <= 1, "rho", "must be in [0, 1]");
    Require(epsilon_ >= 0, "epsilon", "must be >= 0");
  }

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return ZerosLike(w, 2); }
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      Push("adadelta_update", {it.weight, it.grad, it.states->at(0), it.states->at(1)},
           {{"rho", Num(rho_)},
            {"epsilon", Num(epsilon_)},
            {"wd", Num(it.wd)},
            {"rescale_grad", Num(rescale_grad_)},
            {"clip_gradient", Num(PythonClip(clip_gradient_))}},
           it.weight);
    }
  }

 private:
  double rho_, epsilon_;
};

/*! \brief RMSProp: rmsprop_update, or rmspropalex_update (Graves) when centered. */
class RMSProp : public Optimizer {
 public:
  explicit RMSProp(const op::AttrDict& kw) : Optimizer("rmsprop", kw, 0.001) {
    gamma1_ = Float("gamma1", 0.9);
    gamma2_ = Float("gamma2", 0.9);
    epsilon_ = Float("epsilon", 1e-8);
    centered_ = Bool("centered", false);
    clip_weights_ = Float("clip_weights", 0.0);
    Require(gamma1_ >= 0 && gamma1_ < 1, "gamma1", "must be in [0, 1)");
    Require(gamma2_ >= 0 && gamma2_ < 1, "gamma2", "must be in [0, 1)");
    Require(epsilon_ >= 0, "epsilon", "must be >= 0");
  }

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override {
    return ZerosLike(w, centered_ ? 3 : 1);
  }
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      op::AttrDict attrs{{"lr", Num(it.lr)},
                         {"gamma1", Num(gamma1_)},
                         {"epsilon", Num(epsilon_)},
                         {"wd", Num(it.wd)},
                         {"rescale_grad", Num(rescale_grad_)},
                         {"clip_gradient", Num(clip_for_op())},
                         {"clip_weights", Num(clip_weights_ ? clip_weights_ : -1.0)}};
      std::vector<NDArray> in{it.weight, it.grad};
      in.insert(in.end(), it.states->begin(), it.states->end());
      if (centered_) attrs.emplace_back("gamma2", Num(gamma2_));
      Push(centered_ ? "rmspropalex_update" : "rmsprop_update", in, attrs, it.weight);
    }
  }

 private:
  double gamma1_, gamma2_, epsilon_, clip_weights_;
  bool centered_;
};

class Ftrl : public Optimizer {
 public:
  explicit Ftrl(const op::AttrDict& kw) : Optimizer("ftrl", kw, 0.1) {
    lamda1_ = Float("lamda1", 0.01);
    beta_ = Float("beta", 1.0);
  }

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return ZerosLike(w, 2); }
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      Push("ftrl_update", {it.weight, it.grad, it.states->at(0), it.states->at(1)},
           {{"lr", Num(it.lr)},
            {"lamda1", Num(lamda1_)},
            {"beta", Num(beta_)},
            {"wd", Num(it.wd)},
            {"rescale_grad", Num(rescale_grad_)},
            {"clip_gradient", Num(clip_for_op())}},
           it.weight);
    }
  }

 private:
  double lamda1_, beta_;
};

/*! \brief AdaMax (adamax_update; MXNet 1.x ran it as NDArray arithmetic in Python). */
class Adamax : public MomentOptimizer {
 public:
  explicit Adamax(const op::AttrDict& kw) : MomentOptimizer("adamax", kw, 0.002, std::nullopt) {}

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      const double lr = it.lr / (1 - std::pow(beta1_, static_cast<double>(it.t)));
      Push("adamax_update", Inputs(it), Attrs(lr, it.wd, PythonClip(clip_gradient_)), it.weight);
    }
  }
};

/*!
 * \brief Nesterov Adam (nadam_update). As MXNet, the momentum schedule product m_schedule is
 * one optimizer-wide value multiplied on every parameter's update (saved with the states).
 */
class Nadam : public MomentOptimizer {
 public:
  explicit Nadam(const op::AttrDict& kw) : MomentOptimizer("nadam", kw, 0.001, 1e-8) {
    schedule_decay_ = Float("schedule_decay", 0.004);
  }

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      const double t = static_cast<double>(it.t);
      const double momentum_t = beta1_ * (1 - 0.5 * std::pow(0.96, t * schedule_decay_));
      const double momentum_t_1 = beta1_ * (1 - 0.5 * std::pow(0.96, (t + 1) * schedule_decay_));
      m_schedule_ *= momentum_t;
      op::AttrDict attrs = Attrs(it.lr, it.wd, PythonClip(clip_gradient_));
      attrs.insert(attrs.end(), {{"t", std::to_string(it.t)},
                                 {"momentum_t", Num(momentum_t)},
                                 {"momentum_t_1", Num(momentum_t_1)},
                                 {"m_schedule", Num(m_schedule_)}});
      Push("nadam_update", Inputs(it), attrs, it.weight);
    }
  }
  std::vector<double> SaveScalars() const override { return {m_schedule_}; }
  void LoadScalars(std::span<const double> s) override {
    if (!s.empty()) m_schedule_ = s[0];
  }

 private:
  double schedule_decay_;
  double m_schedule_ = 1;
};

/*!
 * \brief LAMB: lamb_update_phase1 gives the direction g, then lamb_update_phase2 scales the
 * rate by ||w|| / ||g|| (norms as arrays: nothing waits). Four pushes per parameter.
 */
class LAMB : public MomentOptimizer {
 public:
  explicit LAMB(const op::AttrDict& kw) : MomentOptimizer("lamb", kw, 0.001, 1e-6) {
    lower_bound_ = OptionalFloat("lower_bound");
    upper_bound_ = OptionalFloat("upper_bound");
    bias_correction_ = Bool("bias_correction", true);
  }

 protected:
  void UpdateGroup(std::span<const Item> items) override {
    for (const Item& it : items) {
      op::AttrDict attrs = Attrs(0, it.wd, clip_for_op());
      attrs.erase(attrs.begin());  // phase 1 has no lr
      attrs.insert(attrs.end(), {{"t", std::to_string(it.t)},
                                 {"bias_correction", bias_correction_ ? "True" : "False"}});
      const NDArray g = op::Invoke("lamb_update_phase1", Inputs(it), attrs)[0];
      const NDArray r1 = op::Invoke("norm", {it.weight})[0].Reshape(Shape{1});
      const NDArray r2 = op::Invoke("norm", {g})[0].Reshape(Shape{1});
      // MXNet passes a bound only when it is truthy (None and 0 leave it off).
      Push("lamb_update_phase2", {it.weight, g, r1, r2},
           {{"lr", Num(it.lr)},
            {"lower_bound", Num(lower_bound_.value_or(0) ? *lower_bound_ : -1.0)},
            {"upper_bound", Num(upper_bound_.value_or(0) ? *upper_bound_ : -1.0)}},
           it.weight);
    }
  }

 private:
  std::optional<double> lower_bound_, upper_bound_;
  bool bias_correction_;
};

template <typename T>
OptimizerFactory Make() {
  return [](const op::AttrDict& kw) { return std::make_unique<T>(kw); };
}

}  // namespace

void AddBuiltinOptimizers(std::map<std::string, OptimizerFactory>& f) {
  f["sgd"] = Make<SGD>();
  f["ccsgd"] = Make<SGD>();  // MXNet's deprecated alias
  f["nag"] = Make<NAG>();
  f["signum"] = [](const op::AttrDict& kw) { return std::make_unique<Signum>(kw, "signum", 0.9); };
  f["signsgd"] = [](const op::AttrDict& kw) {
    return std::make_unique<Signum>(kw, "signsgd", 0.0);
  };
  f["adam"] = Make<Adam>();
  f["adamw"] = Make<AdamW>();
  f["adagrad"] = Make<AdaGrad>();
  f["adadelta"] = Make<AdaDelta>();
  f["rmsprop"] = Make<RMSProp>();
  f["ftrl"] = Make<Ftrl>();
  f["adamax"] = Make<Adamax>();
  f["nadam"] = Make<Nadam>();
  f["lamb"] = Make<LAMB>();
}

}  // namespace mixnet::optimizer
