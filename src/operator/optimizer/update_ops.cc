// Optimizer update ops with MXNet 1.9's formulas. Each writes the new weight (or LAMB's
// direction) to its output, which callers pass as out=weight, and updates its state inputs
// (momentum, moments, ...) in place, declared with MutateInputs. Not differentiable.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

// ---- shared fields ----

template <typename P>
void DeclareLr(ParamDecl<P>& d) {
  d.Field("lr", &P::lr).Doc("Learning rate.");
}
template <typename P>
void DeclareWd(ParamDecl<P>& d) {
  d.Field("wd", &P::wd)
      .Default(0.0)
      .Doc(
          "Weight decay augments the objective function with a regularization term that "
          "penalizes large weights.");
}
template <typename P>
void DeclareRescaleClip(ParamDecl<P>& d) {
  d.Field("rescale_grad", &P::rescale_grad)
      .Default(1.0)
      .Doc("Rescale gradient to grad = rescale_grad*grad.");
  d.Field("clip_gradient", &P::clip_gradient)
      .Default(-1.0)
      .Doc(
          "Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient <= "
          "0, gradient clipping is turned off.");
}
template <typename P>
void DeclareLazy(ParamDecl<P>& d) {
  d.Field("lazy_update", &P::lazy_update)
      .Default(true)
      .Doc("Only update rows present in a row_sparse gradient (dense arrays: ignored).");
}

struct SGDParam {
  double lr = 0, wd = 0, rescale_grad = 1, clip_gradient = -1;
  bool lazy_update = true;
  static void Declare(ParamDecl<SGDParam>& d) {
    DeclareLr(d);
    DeclareWd(d);
    DeclareRescaleClip(d);
    DeclareLazy(d);
  }
};

struct SGDMomParam {
  double lr = 0, momentum = 0, wd = 0, rescale_grad = 1, clip_gradient = -1;
  bool lazy_update = true;
  static void Declare(ParamDecl<SGDMomParam>& d) {
    DeclareLr(d);
    d.Field("momentum", &SGDMomParam::momentum)
        .Default(0.0)
        .Doc("The decay rate of momentum estimates at each epoch.");
    DeclareWd(d);
    DeclareRescaleClip(d);
    DeclareLazy(d);
  }
};

struct NAGMomParam {
  double lr = 0, momentum = 0, wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<NAGMomParam>& d) {
    DeclareLr(d);
    d.Field("momentum", &NAGMomParam::momentum)
        .Default(0.0)
        .Doc("The decay rate of momentum estimates at each epoch.");
    DeclareWd(d);
    DeclareRescaleClip(d);
  }
};

template <typename P>
void DeclareAdamMoments(ParamDecl<P>& d, double epsilon) {
  d.Field("beta1", &P::beta1).Default(0.9).Doc("The decay rate for the 1st moment estimates.");
  d.Field("beta2", &P::beta2).Default(0.999).Doc("The decay rate for the 2nd moment estimates.");
  d.Field("epsilon", &P::epsilon).Default(epsilon).Doc("A small constant for numerical stability.");
}

struct AdamParam {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, wd = 0, rescale_grad = 1,
         clip_gradient = -1;
  bool lazy_update = true;
  static void Declare(ParamDecl<AdamParam>& d) {
    DeclareLr(d);
    DeclareAdamMoments(d, 1e-8);
    DeclareWd(d);
    DeclareRescaleClip(d);
    DeclareLazy(d);
  }
};

struct AdamWParam {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, wd = 0, eta = 0, clip_gradient = -1;
  static void Declare(ParamDecl<AdamWParam>& d) {
    DeclareLr(d);
    DeclareAdamMoments(d, 1e-8);
    DeclareWd(d);
    d.Field("eta", &AdamWParam::eta).Doc("Learning rate schedule multiplier.");
    d.Field("clip_gradient", &AdamWParam::clip_gradient)
        .Default(-1.0)
        .Doc(
            "Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient <= "
            "0, gradient clipping is turned off.");
  }
};

struct AdaGradParam {
  double lr = 0, epsilon = 1e-7, wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<AdaGradParam>& d) {
    DeclareLr(d);
    d.Field("epsilon", &AdaGradParam::epsilon)
        .Default(1e-7)
        .Doc("A small constant for numerical stability.");
    DeclareWd(d);
    DeclareRescaleClip(d);
  }
};

struct AdaDeltaParam {
  double rho = 0.9, epsilon = 1e-5, wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<AdaDeltaParam>& d) {
    d.Field("rho", &AdaDeltaParam::rho)
        .Default(0.9)
        .Doc("Decay rate for both squared gradients and delta.");
    d.Field("epsilon", &AdaDeltaParam::epsilon)
        .Default(1e-5)
        .Doc("A small constant for numerical stability.");
    DeclareWd(d);
    DeclareRescaleClip(d);
  }
};

struct RMSPropParam {
  double lr = 0, gamma1 = 0.95, epsilon = 1e-8, wd = 0, rescale_grad = 1, clip_gradient = -1,
         clip_weights = -1;
  static void Declare(ParamDecl<RMSPropParam>& d) {
    DeclareLr(d);
    d.Field("gamma1", &RMSPropParam::gamma1).Default(0.95).Doc("The decay rate of momentum.");
    d.Field("epsilon", &RMSPropParam::epsilon)
        .Default(1e-8)
        .Doc("A small constant for numerical stability.");
    DeclareWd(d);
    DeclareRescaleClip(d);
    d.Field("clip_weights", &RMSPropParam::clip_weights)
        .Default(-1.0)
        .Doc("Clip weights to [-clip_weights, clip_weights]; off when < 0.");
  }
};

struct RMSPropAlexParam {
  double lr = 0, gamma1 = 0.95, gamma2 = 0.9, epsilon = 1e-8, wd = 0, rescale_grad = 1,
         clip_gradient = -1, clip_weights = -1;
  static void Declare(ParamDecl<RMSPropAlexParam>& d) {
    DeclareLr(d);
    d.Field("gamma1", &RMSPropAlexParam::gamma1).Default(0.95).Doc("Decay rate.");
    d.Field("gamma2", &RMSPropAlexParam::gamma2).Default(0.9).Doc("Decay rate.");
    d.Field("epsilon", &RMSPropAlexParam::epsilon)
        .Default(1e-8)
        .Doc("A small constant for numerical stability.");
    DeclareWd(d);
    DeclareRescaleClip(d);
    d.Field("clip_weights", &RMSPropAlexParam::clip_weights)
        .Default(-1.0)
        .Doc("Clip weights to [-clip_weights, clip_weights]; off when < 0.");
  }
};

struct FtrlParam {
  double lr = 0, lamda1 = 0.01, beta = 1, wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<FtrlParam>& d) {
    DeclareLr(d);
    d.Field("lamda1", &FtrlParam::lamda1).Default(0.01).Doc("The L1 regularization coefficient.");
    d.Field("beta", &FtrlParam::beta).Default(1.0).Doc("Per-Coordinate Learning Rate beta.");
    DeclareWd(d);
    DeclareRescaleClip(d);
  }
};

struct SignSGDParam {
  double lr = 0, wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<SignSGDParam>& d) {
    DeclareLr(d);
    DeclareWd(d);
    DeclareRescaleClip(d);
  }
};

struct SignumParam {
  double lr = 0, momentum = 0, wd = 0, rescale_grad = 1, clip_gradient = -1, wd_lh = 0;
  static void Declare(ParamDecl<SignumParam>& d) {
    DeclareLr(d);
    d.Field("momentum", &SignumParam::momentum)
        .Default(0.0)
        .Doc("The decay rate of momentum estimates at each epoch.");
    DeclareWd(d);
    DeclareRescaleClip(d);
    d.Field("wd_lh", &SignumParam::wd_lh)
        .Default(0.0)
        .Doc("The amount of weight decay that does not go into gradient/momentum calculations.");
  }
};

struct AdamaxParam {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<AdamaxParam>& d) {
    DeclareLr(d);
    d.Field("beta1", &AdamaxParam::beta1).Default(0.9).Doc("The decay rate for the 1st moment.");
    d.Field("beta2", &AdamaxParam::beta2)
        .Default(0.999)
        .Doc("The decay rate of the infinity norm.");
    DeclareWd(d);
    DeclareRescaleClip(d);
  }
};

struct NadamParam {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, wd = 0, rescale_grad = 1,
         clip_gradient = -1;
  int t = 1;
  double momentum_t = 0, momentum_t_1 = 0, m_schedule = 1;
  static void Declare(ParamDecl<NadamParam>& d) {
    DeclareLr(d);
    DeclareAdamMoments(d, 1e-8);
    DeclareWd(d);
    DeclareRescaleClip(d);
    d.Field("t", &NadamParam::t).Lower(1).Doc("Index update count.");
    d.Field("momentum_t", &NadamParam::momentum_t).Doc("The warming momentum at step t.");
    d.Field("momentum_t_1", &NadamParam::momentum_t_1).Doc("The warming momentum at step t+1.");
    d.Field("m_schedule", &NadamParam::m_schedule)
        .Doc("The product of the momenta up to step t (the caller's running value).");
  }
};

struct LambPhase1Param {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-6;
  int t = 0;
  bool bias_correction = true;
  double wd = 0, rescale_grad = 1, clip_gradient = -1;
  static void Declare(ParamDecl<LambPhase1Param>& d) {
    DeclareAdamMoments(d, 1e-6);
    d.Field("t", &LambPhase1Param::t).Doc("Index update count.");
    d.Field("bias_correction", &LambPhase1Param::bias_correction)
        .Default(true)
        .Doc("Whether to use bias correction.");
    d.Field("wd", &LambPhase1Param::wd)
        .Doc(
            "Weight decay augments the objective function with a regularization term that "
            "penalizes large weights.");
    DeclareRescaleClip(d);
  }
};

struct LambPhase2Param {
  double lr = 0, lower_bound = -1, upper_bound = -1;
  static void Declare(ParamDecl<LambPhase2Param>& d) {
    DeclareLr(d);
    d.Field("lower_bound", &LambPhase2Param::lower_bound)
        .Default(-1.0)
        .Doc("Lower limit of norm of weight. If lower_bound <= 0, Lower limit is not set");
    d.Field("upper_bound", &LambPhase2Param::upper_bound)
        .Default(-1.0)
        .Doc("Upper limit of norm of weight. If upper_bound <= 0, Upper limit is not set");
  }
};

struct MultiSGDParam {
  std::vector<double> lrs, wds;
  double rescale_grad = 1, clip_gradient = -1;
  int num_weights = 1;
  static void Declare(ParamDecl<MultiSGDParam>& d) {
    d.Field("lrs", &MultiSGDParam::lrs).Doc("Learning rates.");
    d.Field("wds", &MultiSGDParam::wds).Doc("Weight decay for each weight.");
    DeclareRescaleClip(d);
    d.Field("num_weights", &MultiSGDParam::num_weights)
        .Default(1)
        .Lower(1)
        .Doc("Number of updated weights.");
  }
};

struct MultiSGDMomParam {
  std::vector<double> lrs, wds;
  double momentum = 0, rescale_grad = 1, clip_gradient = -1;
  int num_weights = 1;
  static void Declare(ParamDecl<MultiSGDMomParam>& d) {
    d.Field("lrs", &MultiSGDMomParam::lrs).Doc("Learning rates.");
    d.Field("wds", &MultiSGDMomParam::wds).Doc("Weight decay for each weight.");
    d.Field("momentum", &MultiSGDMomParam::momentum)
        .Default(0.0)
        .Doc("The decay rate of momentum estimates at each epoch.");
    DeclareRescaleClip(d);
    d.Field("num_weights", &MultiSGDMomParam::num_weights)
        .Default(1)
        .Lower(1)
        .Doc("Number of updated weights.");
  }
};

struct MultiSumSqParam {
  int num_arrays = 1;
  static void Declare(ParamDecl<MultiSumSqParam>& d) {
    d.Field("num_arrays", &MultiSumSqParam::num_arrays).Lower(1).Doc("number of input arrays.");
  }
};

struct AllFiniteParam {
  bool init_output = true;
  static void Declare(ParamDecl<AllFiniteParam>& d) {
    d.Field("init_output", &AllFiniteParam::init_output)
        .Default(true)
        .Doc("Initialize output to 1 (else only write 0 when a value is not finite).");
  }
};

struct MultiAllFiniteParam {
  int num_arrays = 1;
  bool init_output = true;
  static void Declare(ParamDecl<MultiAllFiniteParam>& d) {
    d.Field("num_arrays", &MultiAllFiniteParam::num_arrays)
        .Default(1)
        .Lower(1)
        .Doc("Number of arrays.");
    d.Field("init_output", &MultiAllFiniteParam::init_output)
        .Default(true)
        .Doc("Initialize output to 1 (else only write 0 when a value is not finite).");
  }
};

// ---- kernels ----

/*! \brief MXNet's clip: x limited to [-bound, bound]; bound < 0 turns clipping off. */
template <typename C>
C Clip(C x, double bound) {
  if (bound < 0) return x;
  const C b = C(bound);
  return x > b ? b : (x < -b ? -b : x);
}

template <typename C>
C Sign(C x) {
  return C((x > C(0)) - (x < C(0)));
}

/*!
 * \brief For each element: out = f(w, g, s) where in = (weight, grad, state_0 .. state_NS-1);
 * f gets the states by reference in the compute type and may change them (written back).
 */
template <int NS, typename F>
void ApplyUpdate(std::span<const TBlob> in, const TBlob& out, F f) {
  DispatchFloat(in[0].dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* w = in[0].data<T>();
    const T* g = in[1].data<T>();
    std::array<T*, NS> st{};
    for (int k = 0; k < NS; ++k)
      st[static_cast<size_t>(k)] = in[static_cast<size_t>(2 + k)].data<T>();  // mutated inputs
    T* y = out.data<T>();
    ParallelFor(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        std::array<C, NS> s;
        for (size_t k = 0; k != NS; ++k)
          s[k] = C(st[k][i]);
        const C r = f(C(w[i]), C(g[i]), s);
        for (size_t k = 0; k != NS; ++k)
          st[k][i] = T(s[k]);
        y[i] = T(r);
      }
    });
  });
}

template <typename C>
C Sgd(C w, C g, double lr, double wd, double rescale, double clip) {
  return (C(1) - C(lr) * C(wd)) * w - C(lr) * Clip(C(rescale) * g, clip);
}

/*! \brief mom = momentum*mom - lr*wd*w - lr*clip(rescale*g); w += mom. */
template <typename C>
C SgdMom(C w, C g, C& mom, double lr, double momentum, double wd, double rescale, double clip) {
  mom = C(momentum) * mom - C(lr) * C(wd) * w - C(lr) * Clip(C(rescale) * g, clip);
  return w + mom;
}

void SGDForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<SGDParam>();
  ApplyUpdate<0>(in, out[0], [&](auto w, auto g, auto&) {
    return Sgd(w, g, p.lr, p.wd, p.rescale_grad, p.clip_gradient);
  });
}

void SGDMomForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                   std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<SGDMomParam>();
  ApplyUpdate<1>(in, out[0], [&](auto w, auto g, auto& s) {
    return SgdMom(w, g, s[0], p.lr, p.momentum, p.wd, p.rescale_grad, p.clip_gradient);
  });
}

void NAGMomForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                   std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<NAGMomParam>();
  ApplyUpdate<1>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g, p.clip_gradient) + C(p.wd) * w;
    s[0] = C(p.momentum) * s[0] + grad;
    return w - C(p.lr) * (C(p.momentum) * s[0] + grad);
  });
}

void AdamForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<AdamParam>();
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g + C(p.wd) * w, p.clip_gradient);
    s[0] = C(p.beta1) * s[0] + (C(1) - C(p.beta1)) * grad;
    s[1] = C(p.beta2) * s[1] + (C(1) - C(p.beta2)) * grad * grad;
    return w - C(p.lr) * s[0] / (std::sqrt(s[1]) + C(p.epsilon));
  });
}

/*! \brief The rescale_grad input's value (a one-element array of a floating dtype). */
double ScalarValue(const TBlob& b) {
  return DispatchFloat(b.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return static_cast<double>(ComputeType<T>(b.data<T>()[0]));
  });
}

void AdamWForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<AdamWParam>();
  const double rescale = ScalarValue(in[4]);
  if (!std::isfinite(rescale) || rescale == 0) {
    // MXNet skips the step (an overflowed loss scale): states stay, the weight is unchanged.
    if (out[0].dptr != in[0].dptr) {
      std::memcpy(out[0].dptr, in[0].dptr,
                  static_cast<size_t>(in[0].Size()) * DTypeSize(in[0].dtype));
    }
    return;
  }
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(rescale) * g, p.clip_gradient);
    s[0] = C(p.beta1) * s[0] + (C(1) - C(p.beta1)) * grad;
    s[1] = C(p.beta2) * s[1] + (C(1) - C(p.beta2)) * grad * grad;
    return w - C(p.eta) * (C(p.lr) * s[0] / (std::sqrt(s[1]) + C(p.epsilon)) + C(p.wd) * w);
  });
}

// MXNet 1.x ran AdaGrad and AdaDelta as Python code; these ops follow those formulas.
void AdaGradForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<AdaGradParam>();
  ApplyUpdate<1>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g, p.clip_gradient);
    s[0] += grad * grad;
    return w - C(p.lr) * (grad / std::sqrt(s[0] + C(p.epsilon)) + C(p.wd) * w);
  });
}

void AdaDeltaForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<AdaDeltaParam>();
  // States: acc_g (mean square gradient), acc_delta (mean square update).
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g, p.clip_gradient);
    const C rho = C(p.rho), eps = C(p.epsilon);
    s[0] = rho * s[0] + (C(1) - rho) * grad * grad;
    const C delta = std::sqrt(s[1] + eps) / std::sqrt(s[0] + eps) * grad;
    s[1] = rho * s[1] + (C(1) - rho) * delta * delta;
    return w - (delta + C(p.wd) * w);
  });
}

void RMSPropForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<RMSPropParam>();
  ApplyUpdate<1>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g + C(p.wd) * w, p.clip_gradient);
    s[0] = (C(1) - C(p.gamma1)) * grad * grad + C(p.gamma1) * s[0];
    return Clip(w - C(p.lr) * grad / std::sqrt(s[0] + C(p.epsilon)), p.clip_weights);
  });
}

void RMSPropAlexForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                        std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<RMSPropAlexParam>();
  // States: n (mean square), g (mean), delta.
  ApplyUpdate<3>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g + C(p.wd) * w, p.clip_gradient);
    s[0] = (C(1) - C(p.gamma1)) * grad * grad + C(p.gamma1) * s[0];
    s[1] = (C(1) - C(p.gamma1)) * grad + C(p.gamma1) * s[1];
    s[2] = C(p.gamma2) * s[2] - C(p.lr) * grad / std::sqrt(s[0] - s[1] * s[1] + C(p.epsilon));
    return Clip(w + s[2], p.clip_weights);
  });
}

void FtrlForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<FtrlParam>();
  // States: z, n.
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g, p.clip_gradient);
    s[0] += grad - (std::sqrt(s[1] + grad * grad) - std::sqrt(s[1])) * w / C(p.lr);
    s[1] += grad * grad;
    if (!(std::abs(s[0]) > C(p.lamda1))) return C(0);
    return (Sign(s[0]) * C(p.lamda1) - s[0]) / ((C(p.beta) + std::sqrt(s[1])) / C(p.lr) + C(p.wd));
  });
}

void SignSGDForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<SignSGDParam>();
  // The sign ignores rescale_grad and clip_gradient, as in MXNet.
  ApplyUpdate<0>(in, out[0], [&](auto w, auto g, auto&) {
    using C = decltype(w);
    return (C(1) - C(p.lr) * C(p.wd)) * w - C(p.lr) * Sign(g);
  });
}

void SignumForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                   std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<SignumParam>();
  ApplyUpdate<1>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C rest = C(1) - C(p.momentum);
    s[0] = C(p.momentum) * s[0] - rest * C(p.wd) * w -
           rest * Clip(C(p.rescale_grad) * g, p.clip_gradient);
    return (C(1) - C(p.lr) * C(p.wd_lh)) * w + C(p.lr) * Sign(s[0]);
  });
}

// MXNet 1.x ran Adamax and Nadam as Python NDArray code; these ops fuse the same formulas.
void AdamaxForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                   std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<AdamaxParam>();
  // States: m (mean), u (exponentially weighted infinity norm).
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g + C(p.wd) * w, p.clip_gradient);
    s[0] = C(p.beta1) * s[0] + (C(1) - C(p.beta1)) * grad;
    s[1] = std::max(C(p.beta2) * s[1], C(std::abs(grad)));
    return w - C(p.lr) * s[0] / s[1];
  });
}

void NadamForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                  std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<NadamParam>();
  const double m_schedule_next = p.m_schedule * p.momentum_t_1;
  const double v_scale = 1 - std::pow(p.beta2, p.t);
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g + C(p.wd) * w, p.clip_gradient);
    s[0] = C(p.beta1) * s[0] + (C(1) - C(p.beta1)) * grad;
    s[1] = C(p.beta2) * s[1] + (C(1) - C(p.beta2)) * grad * grad;
    const C grad_prime = grad / C(1 - p.m_schedule);
    const C m_prime = s[0] / C(1 - m_schedule_next);
    const C v_prime = s[1] / C(v_scale);
    const C m_bar = C(1 - p.momentum_t) * grad_prime + C(p.momentum_t_1) * m_prime;
    return w - C(p.lr) * m_bar / (std::sqrt(v_prime) + C(p.epsilon));
  });
}

void LambPhase1Forward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                       std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<LambPhase1Param>();
  ApplyUpdate<2>(in, out[0], [&](auto w, auto g, auto& s) {
    using C = decltype(w);
    const C grad = Clip(C(p.rescale_grad) * g, p.clip_gradient);
    s[0] = C(p.beta1) * s[0] + (C(1) - C(p.beta1)) * grad;
    s[1] = C(p.beta2) * s[1] + (C(1) - C(p.beta2)) * grad * grad;
    C mean = s[0], var = s[1];
    if (p.bias_correction) {
      mean /= C(1) - std::pow(C(p.beta1), C(p.t));
      var /= C(1) - std::pow(C(p.beta2), C(p.t));
    }
    return mean / (std::sqrt(var) + C(p.epsilon)) + C(p.wd) * w;
  });
}

void LambPhase2Forward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                       std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<LambPhase2Param>();
  double r1 = ScalarValue(in[2]);
  const double r2 = ScalarValue(in[3]);
  if (p.lower_bound >= 0) r1 = std::max(r1, p.lower_bound);
  if (p.upper_bound >= 0) r1 = std::min(r1, p.upper_bound);
  // The trust ratio r1/r2 (weight norm over update norm) scales lr unless a norm is zero.
  const double lr = r1 == 0 || r2 == 0 ? p.lr : p.lr * r1 / r2;
  ApplyUpdate<0>(in.first(2), out[0], [&](auto w, auto g, auto&) {
    using C = decltype(w);
    return w - C(lr) * g;
  });
}

template <typename P>
void MultiSGDForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                     std::span<const OpReq>, std::span<const TBlob> out) {
  const auto& p = attrs.param<P>();
  constexpr bool kMom = std::is_same_v<P, MultiSGDMomParam>;
  constexpr size_t kPer = kMom ? 3 : 2;
  for (size_t k = 0; k < out.size(); ++k) {
    const double lr = p.lrs[k], wd = p.wds[k];
    ApplyUpdate<kMom ? 1 : 0>(in.subspan(k * kPer, kPer), out[k], [&](auto w, auto g, auto& s) {
      if constexpr (kMom) {
        return SgdMom(w, g, s[0], lr, p.momentum, wd, p.rescale_grad, p.clip_gradient);
      } else {
        return Sgd(w, g, lr, wd, p.rescale_grad, p.clip_gradient);
      }
    });
  }
}

// ---- meta ----

/*! \brief (1,): LAMB's norms and the outputs of the reductions. */
const Shape kOne{1};

void LambPhase2Shape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  std::vector<Shape> same{(*in)[0], (*in)[1]};
  SameShape(attrs, &same, out);
  (*in)[0] = same[0];
  (*in)[1] = same[1];
  AssignShape(attrs, "r1", &(*in)[2], kOne);
  AssignShape(attrs, "r2", &(*in)[3], kOne);
}

void AdamWShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  std::vector<Shape> same(in->begin(), in->begin() + 4);
  SameShape(attrs, &same, out);
  std::copy(same.begin(), same.end(), in->begin());
  AssignShape(attrs, "rescale_grad", &(*in)[4], kOne);
}

/*! \brief TypeError naming the op and the input when one is not floating. */
void CheckFloating(const Attrs& attrs, const std::vector<int>& in) {
  for (size_t i = 0; i < in.size(); ++i) {
    MX_CHECK(in[i] < 0 || IsFloatingDType(static_cast<DType>(in[i])), TypeError)
        << attrs.op->name << ": " << InputName(attrs, i) << " has dtype "
        << DTypeName(static_cast<DType>(in[i])) << "; expected a floating dtype";
  }
}

/*! \brief All floating; the last `skip` inputs (scalars) may have their own floating dtype. */
template <size_t skip>
void FloatingSameTypeExceptLast(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  std::vector<int> same(in->begin(), in->end() - skip);
  FloatingSameType(attrs, &same, out);
  std::copy(same.begin(), same.end(), in->begin());
  CheckFloating(attrs, *in);
}

void FloatOutput(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  CheckFloating(attrs, *in);
  AssignType(attrs, "output", &(*out)[0], static_cast<int>(DType::kFloat32));
}

/*! \brief multi_*: `per` inputs for each of num_weights weights, one output per weight. */
template <typename P, int per>
void MultiShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.param<P>();
  for (const auto& [arg, v] : {std::pair{"lrs", &p.lrs}, std::pair{"wds", &p.wds}}) {
    MX_CHECK(static_cast<int>(v->size()) == p.num_weights, ValueError)
        << attrs.op->name << ": argument '" << arg << "' has " << v->size()
        << " values but num_weights is " << p.num_weights;
  }
  for (size_t k = 0; k < out->size(); ++k) {
    std::vector<Shape> group(in->begin() + static_cast<ptrdiff_t>(k * per),
                             in->begin() + static_cast<ptrdiff_t>((k + 1) * per));
    std::vector<Shape> o{(*out)[k]};
    SameShape(attrs, &group, &o);
    std::copy(group.begin(), group.end(), in->begin() + static_cast<ptrdiff_t>(k * per));
    (*out)[k] = o[0];
  }
}

template <typename P, int per>
NamesFn MultiInputNames() {
  return [](const Attrs& attrs) {
    static const char* kNames[] = {"weight_", "grad_", "mom_"};
    std::vector<std::string> names;
    for (int k = 0; k < attrs.param<P>().num_weights; ++k) {
      for (int j = 0; j < per; ++j)
        names.push_back(kNames[j] + std::to_string(k));
    }
    return names;
  };
}

/*! \brief output0 .. output{num_weights-1}: one new weight per (weight, grad, ...) group. */
template <typename P>
NamesFn MultiOutputNames() {
  return [](const Attrs& attrs) {
    std::vector<std::string> names;
    for (int k = 0; k < attrs.param<P>().num_weights; ++k)
      names.push_back("output" + std::to_string(k));
    return names;
  };
}

template <typename P>
NamesFn ArrayNames() {
  return [](const Attrs& attrs) {
    std::vector<std::string> names;
    for (int k = 0; k < attrs.param<P>().num_arrays; ++k)
      names.push_back("array_" + std::to_string(k));
    return names;
  };
}

// NOTE [ Sum of squares ]
// clip_global_norm and LAMB read the sum of squares of every gradient each step, millions of
// elements. The sum runs over fixed blocks (the same blocks whatever the thread count, so the
// result does not depend on it), each with eight independent double lanes that the compiler
// vectorises; the block sums are added in order.
/*! \brief Sum of squares of one array, accumulated in double. */
double SumSquares(const TBlob& b) {
  return DispatchFloat(b.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    constexpr int64_t kBlock = int64_t{1} << 14, kLanes = 8;
    const T* x = b.data<T>();
    const int64_t n = b.Size(), blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> part(static_cast<size_t>(blocks));
    ParallelFor(blocks, 8, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        const int64_t b0 = k * kBlock, b1 = std::min(n, b0 + kBlock);
        std::array<double, kLanes> lane{};
        int64_t i = b0;
        for (; i + kLanes <= b1; i += kLanes)
          for (int64_t j = 0; j < kLanes; ++j) {
            const auto v = static_cast<double>(ComputeType<T>(x[i + j]));
            lane[static_cast<size_t>(j)] += v * v;
          }
        double acc = 0;
        for (; i < b1; ++i) {
          const auto v = static_cast<double>(ComputeType<T>(x[i]));
          acc += v * v;
        }
        for (double l : lane)
          acc += l;
        part[static_cast<size_t>(k)] = acc;
      }
    });
    double acc = 0;
    for (double v : part)
      acc += v;
    return acc;
  });
}

bool AllFinite(const TBlob& b) {
  return DispatchFloat(b.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = b.data<T>();
    for (int64_t i = 0, n = b.Size(); i < n; ++i) {
      if (!std::isfinite(static_cast<double>(ComputeType<T>(x[i])))) return false;
    }
    return true;
  });
}

/*! \brief out[0] = 1 if init_output, then 0 if any input holds inf or NaN (MXNet keeps a 0
 * from an earlier call with init_output=False: the flag accumulates over calls). */
void AllFiniteForward(bool init_output, std::span<const TBlob> in, const TBlob& out) {
  float* y = out.data<float>();
  if (init_output) y[0] = 1.0f;
  for (const TBlob& b : in) {
    if (!AllFinite(b)) y[0] = 0.0f;
  }
}

using Values = std::vector<std::vector<double>>;

/*! \brief Registers an update op on (weight, grad, states...), mutating every state. */
template <typename P>
OpDef& RegisterUpdate(const char* name, const char* doc, std::vector<std::string> inputs,
                      ComputeFn kernel) {
  std::vector<int> states;
  for (int i = 2; i < static_cast<int>(inputs.size()); ++i)
    states.push_back(i);
  return Registry::Add(name)
      .Describe(doc)
      .Param<P>()
      .Inputs(std::move(inputs))
      .InferShape(SameShape)
      .InferType(FloatingSameType)
      .MutateInputs(std::move(states))
      .Kernel("reference", std::move(kernel));
}

OpSample UpdateSample(AttrDict attrs, int n_inputs, std::vector<std::pair<double, double>> ranges,
                      std::function<Values(const Values&)> expected = nullptr) {
  return OpSample{.attrs = std::move(attrs),
                  .inputs = std::vector<Shape>(static_cast<size_t>(n_inputs), Shape{2, 5}),
                  .ranges = std::move(ranges),
                  .expected = std::move(expected)};
}

const bool kRegistered = [] {
  const std::pair<double, double> any{-1.0, 1.0}, positive{0.1, 1.0};
  RegisterUpdate<SGDParam>("sgd_update",
                           "Stochastic gradient descent: w = (1 - lr*wd)*w - lr*clip(rescale*g).",
                           {"weight", "grad"}, SGDForward)
      .Sample(UpdateSample(
          {{"lr", "0.1"}, {"wd", "0.01"}, {"rescale_grad", "2"}, {"clip_gradient", "1.5"}}, 2, {},
          [](const Values& in) {
            std::vector<double> w(in[0].size());
            for (size_t i = 0; i < w.size(); ++i)
              w[i] = (1 - 0.1 * 0.01) * in[0][i] - 0.1 * std::clamp(2 * in[1][i], -1.5, 1.5);
            return Values{w};
          }))
      .Sample(UpdateSample({{"lr", "0.5"}}, 2, {}, [](const Values& in) {
        std::vector<double> w(in[0].size());
        for (size_t i = 0; i < w.size(); ++i)
          w[i] = in[0][i] - 0.5 * in[1][i];
        return Values{w};
      }));
  RegisterUpdate<SGDMomParam>(
      "sgd_mom_update",
      "SGD with momentum: mom = momentum*mom - lr*wd*w - lr*clip(rescale*g); w += mom.",
      {"weight", "grad", "mom"}, SGDMomForward)
      .Sample(UpdateSample(
          {{"lr", "0.1"}, {"momentum", "0.9"}, {"wd", "0.1"}}, 3, {}, [](const Values& in) {
            std::vector<double> w(in[0].size());
            for (size_t i = 0; i < w.size(); ++i) {
              const double mom = 0.9 * in[2][i] - 0.1 * 0.1 * in[0][i] - 0.1 * in[1][i];
              w[i] = in[0][i] + mom;
            }
            return Values{w};
          }));
  RegisterUpdate<NAGMomParam>(
      "nag_mom_update",
      "Nesterov momentum: g' = clip(rescale*g) + wd*w; mom = momentum*mom + g'; "
      "w -= lr*(momentum*mom + g').",
      {"weight", "grad", "mom"}, NAGMomForward)
      .Sample(UpdateSample({{"lr", "0.1"}, {"momentum", "0.9"}, {"clip_gradient", "0.5"}}, 3, {}));
  RegisterUpdate<AdamParam>("adam_update",
                            "Adam: g' = clip(rescale*g + wd*w); mean and var as running "
                            "averages of g' and g'^2; w -= lr*mean/(sqrt(var) + epsilon).",
                            {"weight", "grad", "mean", "var"}, AdamForward)
      .Sample(UpdateSample({{"lr", "0.01"}, {"wd", "0.1"}}, 4, {any, any, any, positive}));
  Registry::Add("_adamw_update")
      .Describe(
          "AdamW: Adam with decoupled weight decay, w -= eta*(lr*mean/(sqrt(var) + epsilon) + "
          "wd*w). The step is skipped when rescale_grad (an array) is NaN, inf or 0.")
      .Alias("adamw_update")
      .Param<AdamWParam>()
      .Inputs({"weight", "grad", "mean", "var", "rescale_grad"})
      .InferShape(AdamWShape)
      .InferType(FloatingSameTypeExceptLast<1>)
      .MutateInputs({2, 3})
      .Kernel("reference", AdamWForward)
      .Sample(OpSample{.attrs = {{"lr", "0.01"}, {"eta", "0.5"}, {"wd", "0.1"}},
                       .inputs = {Shape{3, 4}, Shape{3, 4}, Shape{3, 4}, Shape{3, 4}, Shape{1}},
                       .ranges = {any, any, any, positive, {0.5, 2.0}}});
  RegisterUpdate<AdaGradParam>(
      "adagrad_update",
      "AdaGrad: history += g'^2; w -= lr*(g'/sqrt(history + epsilon) + wd*w), g' = "
      "clip(rescale*g).",
      {"weight", "grad", "history"}, AdaGradForward)
      .Sample(UpdateSample({{"lr", "0.1"}, {"wd", "0.01"}, {"rescale_grad", "2"}}, 3,
                           {any, any, positive}, [](const Values& in) {
                             std::vector<double> w(in[0].size());
                             for (size_t i = 0; i < w.size(); ++i) {
                               const double g = 2 * in[1][i], h = in[2][i] + g * g;
                               w[i] = in[0][i] - 0.1 * (g / std::sqrt(h + 1e-7) + 0.01 * in[0][i]);
                             }
                             return Values{w};
                           }));
  RegisterUpdate<AdaDeltaParam>(
      "adadelta_update",
      "AdaDelta: acc_g = rho*acc_g + (1-rho)*g'^2; delta = sqrt(acc_delta + eps)/sqrt(acc_g + "
      "eps)*g'; acc_delta = rho*acc_delta + (1-rho)*delta^2; w -= delta + wd*w.",
      {"weight", "grad", "acc_g", "acc_delta"}, AdaDeltaForward)
      .Sample(UpdateSample(
          {{"rho", "0.8"}, {"wd", "0.1"}}, 4, {any, any, positive, positive}, [](const Values& in) {
            std::vector<double> w(in[0].size());
            for (size_t i = 0; i < w.size(); ++i) {
              const double g = in[1][i];
              const double acc_g = 0.8 * in[2][i] + 0.2 * g * g;
              const double delta = std::sqrt(in[3][i] + 1e-5) / std::sqrt(acc_g + 1e-5) * g;
              w[i] = in[0][i] - (delta + 0.1 * in[0][i]);
            }
            return Values{w};
          }));
  RegisterUpdate<RMSPropParam>("rmsprop_update",
                               "RMSProp (Tieleman & Hinton): n = (1-gamma1)*g'^2 + gamma1*n; "
                               "w -= lr*g'/sqrt(n + epsilon).",
                               {"weight", "grad", "n"}, RMSPropForward)
      .Sample(UpdateSample({{"lr", "0.01"}, {"clip_weights", "0.9"}}, 3, {any, any, positive}));
  RegisterUpdate<RMSPropAlexParam>(
      "rmspropalex_update",
      "Centered RMSProp (Graves 2013): delta = gamma2*delta - lr*g'/sqrt(n - g^2 + epsilon); "
      "w += delta.",
      {"weight", "grad", "n", "g", "delta"}, RMSPropAlexForward)
      .Sample(UpdateSample({{"lr", "0.01"}}, 5, {any, any, {1.0, 2.0}, {-0.5, 0.5}, any}));
  RegisterUpdate<FtrlParam>("ftrl_update",
                            "FTRL-Proximal: z and n accumulate; w = (sign(z)*lamda1 - z) / "
                            "((beta + sqrt(n))/lr + wd) where |z| > lamda1, else 0.",
                            {"weight", "grad", "z", "n"}, FtrlForward)
      .Sample(UpdateSample({{"lr", "0.1"}, {"lamda1", "0.05"}}, 4, {any, any, any, positive}));
  RegisterUpdate<SignSGDParam>("signsgd_update", "SignSGD: w = (1 - lr*wd)*w - lr*sign(g).",
                               {"weight", "grad"}, SignSGDForward)
      .Sample(UpdateSample({{"lr", "0.1"}, {"wd", "0.5"}}, 2, {}, [](const Values& in) {
        std::vector<double> w(in[0].size());
        for (size_t i = 0; i < w.size(); ++i)
          w[i] = 0.95 * in[0][i] - 0.1 * ((in[1][i] > 0) - (in[1][i] < 0));
        return Values{w};
      }));
  RegisterUpdate<SignumParam>("signum_update",
                              "Signum: mom = momentum*mom - (1-momentum)*(wd*w + clip(rescale*g)); "
                              "w = (1 - lr*wd_lh)*w + lr*sign(mom).",
                              {"weight", "grad", "mom"}, SignumForward)
      .Sample(UpdateSample({{"lr", "0.1"}, {"momentum", "0.9"}, {"wd_lh", "0.1"}}, 3, {}));
  RegisterUpdate<AdamaxParam>(
      "adamax_update",
      "AdaMax: g' = clip(rescale*g + wd*w); mean = beta1*mean + (1-beta1)*g'; u = max(beta2*u, "
      "|g'|); w -= lr*mean/u (the caller folds 1/(1 - beta1^t) into lr).",
      {"weight", "grad", "mean", "u"}, AdamaxForward)
      .Sample(UpdateSample({{"lr", "0.1"}, {"wd", "0.1"}, {"clip_gradient", "0.8"}}, 4,
                           {any, {0.5, 1.0}, any, positive}, [](const Values& in) {
                             std::vector<double> w(in[0].size());
                             for (size_t i = 0; i < w.size(); ++i) {
                               const double g = std::clamp(in[1][i] + 0.1 * in[0][i], -0.8, 0.8);
                               const double m = 0.9 * in[2][i] + 0.1 * g;
                               const double u = std::max(0.999 * in[3][i], std::abs(g));
                               w[i] = in[0][i] - 0.1 * m / u;
                             }
                             return Values{w};
                           }));
  RegisterUpdate<NadamParam>(
      "nadam_update",
      "Nadam: Adam moments of g' = clip(rescale*g + wd*w); w -= lr*m_bar/(sqrt(var/(1 - "
      "beta2^t)) + epsilon), m_bar = (1-momentum_t)*g'/(1 - m_schedule) + "
      "momentum_t_1*mean/(1 - m_schedule*momentum_t_1).",
      {"weight", "grad", "mean", "var"}, NadamForward)
      .Sample(UpdateSample({{"lr", "0.01"},
                            {"t", "2"},
                            {"momentum_t", "0.45"},
                            {"momentum_t_1", "0.46"},
                            {"m_schedule", "0.2"}},
                           4, {any, any, any, positive}));
  RegisterUpdate<LambPhase1Param>(
      "lamb_update_phase1",
      "LAMB phase 1: Adam moments of clip(rescale*g) and the direction g = mean/(sqrt(var) + "
      "epsilon) + wd*w (bias-corrected with t); its output is g, not the weight.",
      {"weight", "grad", "mean", "var"}, LambPhase1Forward)
      .Sample(UpdateSample({{"t", "3"}, {"wd", "0.1"}}, 4, {any, any, any, positive}))
      .Sample(UpdateSample({{"t", "1"}, {"wd", "0"}, {"bias_correction", "False"}}, 4,
                           {any, any, any, positive}));
  Registry::Add("lamb_update_phase2")
      .Describe(
          "LAMB phase 2: w -= lr * r1/r2 * g with r1 = ||w|| (clamped to the bounds) and r2 = "
          "||g||; lr alone when either norm is 0.")
      .Param<LambPhase2Param>()
      .Inputs({"weight", "g", "r1", "r2"})
      .InferShape(LambPhase2Shape)
      .InferType(FloatingSameTypeExceptLast<2>)
      .Kernel("reference", LambPhase2Forward)
      .Sample(OpSample{.attrs = {{"lr", "0.1"}, {"upper_bound", "0.8"}},
                       .inputs = {Shape{2, 3}, Shape{2, 3}, Shape{1}, Shape{1}},
                       .ranges = {any, any, {1.0, 2.0}, {0.5, 1.0}},
                       .expected = [](const Values& in) {
                         const double lr = 0.1 * std::min(in[2][0], 0.8) / in[3][0];
                         std::vector<double> w(in[0].size());
                         for (size_t i = 0; i < w.size(); ++i)
                           w[i] = in[0][i] - lr * in[1][i];
                         return Values{w};
                       }});

  Registry::Add("multi_sgd_update")
      .Describe("sgd_update on num_weights (weight, grad) pairs, each with its lr and wd.")
      .Param<MultiSGDParam>()
      .Inputs(MultiInputNames<MultiSGDParam, 2>())
      .Outputs(MultiOutputNames<MultiSGDParam>())
      .Signature({"*data"})
      .InferShape(MultiShape<MultiSGDParam, 2>)
      .InferType(FloatingSameType)
      .Kernel("reference", MultiSGDForward<MultiSGDParam>)
      .Sample(OpSample{.attrs = {{"lrs", "(0.1, 0.2)"}, {"wds", "(0, 0.5)"}, {"num_weights", "2"}},
                       .inputs = {Shape{3}, Shape{3}, Shape{2, 2}, Shape{2, 2}},
                       .expected = [](const Values& in) {
                         Values out(2);
                         for (size_t i = 0; i < 3; ++i)
                           out[0].push_back(in[0][i] - 0.1 * in[1][i]);
                         for (size_t i = 0; i < 4; ++i)
                           out[1].push_back((1 - 0.2 * 0.5) * in[2][i] - 0.2 * in[3][i]);
                         return out;
                       }});
  Registry::Add("multi_sgd_mom_update")
      .Describe(
          "sgd_mom_update on num_weights (weight, grad, mom) triples, each with its lr and wd.")
      .Param<MultiSGDMomParam>()
      .Inputs(MultiInputNames<MultiSGDMomParam, 3>())
      .Outputs(MultiOutputNames<MultiSGDMomParam>())
      .Signature({"*data"})
      .InferShape(MultiShape<MultiSGDMomParam, 3>)
      .InferType(FloatingSameType)
      .MutateInputs([](const Attrs& attrs) {
        std::vector<int> moms;
        for (int k = 0; k < attrs.param<MultiSGDMomParam>().num_weights; ++k)
          moms.push_back(3 * k + 2);
        return moms;
      })
      .Kernel("reference", MultiSGDForward<MultiSGDMomParam>)
      .Sample(OpSample{.attrs = {{"lrs", "(0.1, 0.2)"},
                                 {"wds", "(0.1, 0)"},
                                 {"momentum", "0.5"},
                                 {"num_weights", "2"}},
                       .inputs = {Shape{3}, Shape{3}, Shape{3}, Shape{4}, Shape{4}, Shape{4}}});

  Registry::Add("multi_sum_sq")
      .Describe("The sum of squares of each of num_arrays arrays, as a (num_arrays,) float32.")
      .Param<MultiSumSqParam>()
      .Inputs(ArrayNames<MultiSumSqParam>())
      .Signature({"*data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        AssignShape(attrs, "output", &(*out)[0],
                    Shape{int64_t{attrs.param<MultiSumSqParam>().num_arrays}});
      })
      .InferType(FloatOutput)
      .Kernel("reference",
              [](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq>,
                 std::span<const TBlob> out) {
                for (size_t k = 0; k < in.size(); ++k)
                  out[0].data<float>()[k] = static_cast<float>(SumSquares(in[k]));
              })
      // Output is float32 whatever the inputs: checked with float32 tolerances in
      // op_optimizer_test.
      .Sample(OpSample{.attrs = {{"num_arrays", "2"}}, .inputs = {Shape{3, 2}, Shape{4}}});
  Registry::Add("all_finite")
      .Describe("1 (float32, shape (1,)) if every element of data is finite, else 0.")
      .Param<AllFiniteParam>()
      .Inputs({"data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        AssignShape(attrs, "output", &(*out)[0], kOne);
      })
      .InferType(FloatOutput)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                AllFiniteForward(attrs.param<AllFiniteParam>().init_output, in, out[0]);
              })
      .Sample(OpSample{.inputs = {Shape{2, 3}},
                       .expected = [](const Values&) { return Values{{1.0}}; }});
  Registry::Add("multi_all_finite")
      .Describe("1 (float32, shape (1,)) if every element of all num_arrays arrays is finite.")
      .Param<MultiAllFiniteParam>()
      .Inputs(ArrayNames<MultiAllFiniteParam>())
      .Signature({"*data"})
      .InferShape([](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        AssignShape(attrs, "output", &(*out)[0], kOne);
      })
      .InferType(FloatOutput)
      .Kernel("reference",
              [](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                 std::span<const OpReq>, std::span<const TBlob> out) {
                AllFiniteForward(attrs.param<MultiAllFiniteParam>().init_output, in, out[0]);
              })
      .Sample(OpSample{.attrs = {{"num_arrays", "3"}},
                       .inputs = {Shape{2}, Shape{3}, Shape{1, 2}},
                       .expected = [](const Values&) { return Values{{1.0}}; }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
