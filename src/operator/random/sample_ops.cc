// Random samplers: _random_uniform, _random_normal, _random_randint, _random_exponential,
// _random_gamma, _random_poisson (no inputs; shape, ctx and dtype attributes), plus
// _sample_multinomial and _shuffle. All draw from the context's generator (NeedsRandom), one
// element after another, so SeedRandom(s) and the same ops give the same numbers. Samplers are
// not differentiable.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "operator/tensor/elemwise.h"
#include "operator/tensor/init_op.h"

namespace mixnet::op {
namespace {

/*! \brief MXNet's dtype choices for float samplers; None is float32 unless the output says. */
const std::vector<std::string> kFloatDTypes = {"None", "float32", "float64", "float16"};
const std::vector<std::string> kIntDTypes = {"None", "int32", "int64"};

/*! \brief Declares the attributes every sampler without inputs has. */
template <typename P>
void DeclareOutput(ParamDecl<P>& d, const std::vector<std::string>& dtypes) {
  d.Field("shape", &P::shape).Default({}).Doc("Shape of the output.");
  d.Field("ctx", &P::ctx)
      .Default("")
      .Doc("Context of output, in format [cpu|gpu|cpu_pinned](n). Only used for imperative calls.");
  d.Field("dtype", &P::dtype)
      .Enum(dtypes)
      .Default("None")
      .Doc("DType of the output in case this can't be inferred.");
}

struct UniformParam {
  double low = 0, high = 1;
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<UniformParam>& d) {
    d.Field("low", &UniformParam::low).Default(0.0).Doc("Lower bound of the distribution.");
    d.Field("high", &UniformParam::high).Default(1.0).Doc("Upper bound of the distribution.");
    DeclareOutput(d, kFloatDTypes);
  }
};

struct NormalParam {
  double loc = 0, scale = 1;
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<NormalParam>& d) {
    d.Field("loc", &NormalParam::loc).Default(0.0).Doc("Mean of the distribution.");
    d.Field("scale", &NormalParam::scale)
        .Default(1.0)
        .Doc("Standard deviation of the distribution.");
    DeclareOutput(d, kFloatDTypes);
  }
};

struct RandIntParam {
  int64_t low = 0, high = 0;
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<RandIntParam>& d) {
    d.Field("low", &RandIntParam::low).Doc("Lower bound of the distribution (inclusive).");
    d.Field("high", &RandIntParam::high).Doc("Upper bound of the distribution (exclusive).");
    DeclareOutput(d, kIntDTypes);
  }
};

struct ExponentialParam {
  double lam = 1;
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<ExponentialParam>& d) {
    d.Field("lam", &ExponentialParam::lam)
        .Default(1.0)
        .Doc("Lambda parameter (rate) of the exponential distribution.");
    DeclareOutput(d, kFloatDTypes);
  }
};

struct GammaParam {
  double alpha = 1, beta = 1;
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<GammaParam>& d) {
    d.Field("alpha", &GammaParam::alpha).Default(1.0).Doc("Alpha parameter (shape).");
    d.Field("beta", &GammaParam::beta).Default(1.0).Doc("Beta parameter (scale).");
    DeclareOutput(d, kFloatDTypes);
  }
};

struct PoissonParam {
  double lam = 1;
  std::vector<int64_t> shape;
  std::string ctx;
  int dtype = 0;
  static void Declare(ParamDecl<PoissonParam>& d) {
    d.Field("lam", &PoissonParam::lam)
        .Default(1.0)
        .Doc("Lambda parameter (rate) of the Poisson distribution.");
    DeclareOutput(d, kFloatDTypes);
  }
};

/*! \brief ValueError naming the op and the argument. */
void CheckArg(const Attrs& attrs, bool ok, const char* arg, double value, const char* rule) {
  MX_CHECK(ok, ValueError) << attrs.op->name << ": argument '" << arg << "' is " << value << " but "
                           << rule;
}

/*!
 * \brief Registers a sampler without inputs. `check` validates the params (before anything
 * runs); `dist(p)` returns a callable drawing one double from a generator.
 */
template <typename P, typename Check, typename Dist>
OpDef& RegisterSampler(const char* name, const char* doc, bool integer, Check check, Dist dist) {
  return Registry::Add(name)
      .Describe(doc)
      .Param<P>()
      .NeedsRandom()
      .InferShape([check](const Attrs& attrs, std::vector<Shape>*, std::vector<Shape>* out) {
        check(attrs, attrs.param<P>());
        AssignParamShape(attrs, attrs.param<P>().shape, out);
      })
      .InferType([integer](const Attrs& attrs, std::vector<int>*, std::vector<int>* out) {
        const int choice = attrs.param<P>().dtype;
        if (choice == 0 && (*out)[0] >= 0) return;  // None: the given output decides
        const DType t = integer ? (choice == 2 ? DType::kInt64 : DType::kInt32)
                                : (choice == 0 ? DType::kFloat32 : static_cast<DType>(choice - 1));
        AssignType(attrs, "output", &(*out)[0], static_cast<int>(t));
      })
      .Kernel("reference", [dist](const OpContext& ctx, const Attrs& attrs, std::span<const TBlob>,
                                  std::span<const OpReq>, std::span<const TBlob> out) {
        auto draw = dist(attrs.param<P>());
        DispatchDType(out[0].dtype, [&](auto tag) {
          using T = typename decltype(tag)::type;
          T* y = out[0].data<T>();
          for (int64_t i = 0, n = out[0].Size(); i < n; ++i)
            y[i] = FromDouble<T>(draw(*ctx.rng));
        });
      });
}

struct MultinomialParam {
  std::vector<int64_t> shape;
  bool get_prob = false;
  int dtype = 0;
  static const std::vector<std::string>& DTypes() {
    static const std::vector<std::string> names = {"int32", "float16", "float32", "float64",
                                                   "uint8"};
    return names;
  }
  static void Declare(ParamDecl<MultinomialParam>& d) {
    d.Field("shape", &MultinomialParam::shape)
        .Default({})
        .Doc("Shape to be sampled from each random distribution.");
    d.Field("get_prob", &MultinomialParam::get_prob)
        .Default(false)
        .Doc("Whether to also return the log probability of sampled result.");
    d.Field("dtype", &MultinomialParam::dtype)
        .Enum(DTypes())
        .Default("int32")
        .Doc("DType of the output in case this can't be inferred.");
  }
};

void MultinomialShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  MX_CHECK(data.ndim() >= 1, ValueError)
      << attrs.op->name << ": data must have at least one axis (the categories), got shape "
      << data;
  const auto& shape = attrs.param<MultinomialParam>().shape;
  std::vector<int64_t> dims(data.begin(), data.end() - 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  if (dims.empty()) dims.push_back(1);  // MXNet: one sample from a single distribution is (1,)
  for (size_t i = 0; i < out->size(); ++i)
    AssignShape(attrs, i ? "prob" : "output", &(*out)[i], Shape(std::span(dims)));
}

void MultinomialType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = (*in)[0];
  MX_CHECK(t < 0 || IsFloatingDType(static_cast<DType>(t)), TypeError)
      << attrs.op->name << ": data has dtype " << DTypeName(static_cast<DType>(t))
      << "; expected a floating dtype";
  const auto& p = attrs.param<MultinomialParam>();
  const DType want = DTypeFromName(MultinomialParam::DTypes()[static_cast<size_t>(p.dtype)]);
  AssignType(attrs, "output", &(*out)[0], static_cast<int>(want));
  if (out->size() > 1) AssignType(attrs, "prob", &(*out)[1], t);
}

void MultinomialForward(const OpContext& ctx, const Attrs&, std::span<const TBlob> in,
                        std::span<const OpReq>, std::span<const TBlob> out) {
  const int64_t k = in[0].shape[in[0].shape.ndim() - 1];
  const int64_t n = k ? in[0].Size() / k : 0;
  const int64_t m = n ? out[0].Size() / n : 0;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  DispatchFloat(in[0].dtype, [&](auto ptag) {
    using P = typename decltype(ptag)::type;
    const P* prob = in[0].data<P>();
    DispatchDType(out[0].dtype, [&](auto otag) {
      using O = typename decltype(otag)::type;
      O* y = out[0].data<O>();
      P* logp = out.size() > 1 ? out[1].data<P>() : nullptr;
      for (int64_t i = 0; i < n; ++i) {
        const P* dist = prob + i * k;
        for (int64_t j = 0; j < m; ++j) {
          const double u = uniform(*ctx.rng);
          // The first category whose cumulative probability exceeds u; the last if rounding
          // (or probabilities not summing to 1) leaves none.
          int64_t c = 0;
          double acc = 0;
          for (; c < k - 1; ++c) {
            acc += static_cast<double>(dist[c]);
            if (acc > u) break;
          }
          y[i * m + j] = FromDouble<O>(static_cast<double>(c));
          if (logp) logp[i * m + j] = FromDouble<P>(std::log(static_cast<double>(dist[c])));
        }
      }
    });
  });
}

void ShuffleForward(const OpContext& ctx, const Attrs&, std::span<const TBlob> in,
                    std::span<const OpReq>, std::span<const TBlob> out) {
  const int64_t rows = in[0].shape.ndim() > 0 ? in[0].shape[0] : 1;
  const size_t row_bytes =
      rows ? static_cast<size_t>(in[0].Size() / rows) * DTypeSize(in[0].dtype) : 0;
  std::vector<int64_t> perm(static_cast<size_t>(rows));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  // Fisher-Yates with our own index draws: std::shuffle's draws are not specified.
  for (int64_t i = rows - 1; i > 0; --i) {
    std::uniform_int_distribution<int64_t> pick(0, i);
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(pick(*ctx.rng))]);
  }
  const auto* src = static_cast<const char*>(in[0].dptr);
  std::vector<char> copy;
  if (in[0].dptr == out[0].dptr) {  // out= the input: permute from a copy
    copy.assign(src, src + row_bytes * static_cast<size_t>(rows));
    src = copy.data();
  }
  auto* dst = static_cast<char*>(out[0].dptr);
  for (int64_t i = 0; i < rows; ++i) {
    std::memcpy(dst + static_cast<size_t>(i) * row_bytes,
                src + static_cast<size_t>(perm[static_cast<size_t>(i)]) * row_bytes, row_bytes);
  }
}

const bool kRegistered = [] {
  const OpSample float_sample{.attrs = {{"shape", "(4, 5)"}}};
  RegisterSampler<UniformParam>(
      "_random_uniform", "Samples from a uniform distribution on [low, high).", false,
      [](const Attrs& attrs, const UniformParam& p) {
        CheckArg(attrs, p.low <= p.high, "low", p.low, "must be <= high");
      },
      [](const UniformParam& p) { return std::uniform_real_distribution<double>(p.low, p.high); })
      .Alias("uniform")
      .Alias("random_uniform")
      .Sample(float_sample)
      .Sample(OpSample{.attrs = {{"low", "2"}, {"high", "2"}, {"shape", "(3,)"}},
                       .expected = [](const std::vector<std::vector<double>>&) {
                         return std::vector<std::vector<double>>{{2, 2, 2}};
                       }});
  RegisterSampler<NormalParam>(
      "_random_normal", "Samples from a normal (Gaussian) distribution.", false,
      [](const Attrs& attrs, const NormalParam& p) {
        CheckArg(attrs, p.scale > 0, "scale", p.scale, "must be > 0");
      },
      [](const NormalParam& p) { return std::normal_distribution<double>(p.loc, p.scale); })
      .Alias("normal")
      .Alias("random_normal")
      .Sample(OpSample{.attrs = {{"loc", "1"}, {"scale", "2"}, {"shape", "(2, 3)"}}});
  RegisterSampler<RandIntParam>(
      "_random_randint", "Samples integers uniformly from [low, high).", true,
      [](const Attrs& attrs, const RandIntParam& p) {
        CheckArg(attrs, p.low < p.high, "low", static_cast<double>(p.low), "must be < high");
      },
      [](const RandIntParam& p) {
        return [d = std::uniform_int_distribution<int64_t>(p.low, p.high - 1)](
                   std::mt19937_64& g) mutable { return static_cast<double>(d(g)); };
      })
      .Alias("random_randint")
      .Sample(OpSample{.attrs = {{"low", "-3"}, {"high", "7"}, {"shape", "(10,)"}}})
      .Sample(
          OpSample{.attrs = {{"low", "5"}, {"high", "6"}, {"shape", "(2,)"}, {"dtype", "int64"}},
                   .expected = [](const std::vector<std::vector<double>>&) {
                     return std::vector<std::vector<double>>{{5, 5}};
                   }});
  RegisterSampler<ExponentialParam>(
      "_random_exponential", "Samples from an exponential distribution with rate lam.", false,
      [](const Attrs& attrs, const ExponentialParam& p) {
        CheckArg(attrs, p.lam > 0, "lam", p.lam, "must be > 0");
      },
      [](const ExponentialParam& p) { return std::exponential_distribution<double>(p.lam); })
      .Alias("random_exponential")
      .Sample(float_sample);
  RegisterSampler<GammaParam>(
      "_random_gamma", "Samples from a gamma distribution with shape alpha and scale beta.", false,
      [](const Attrs& attrs, const GammaParam& p) {
        CheckArg(attrs, p.alpha > 0, "alpha", p.alpha, "must be > 0");
        CheckArg(attrs, p.beta > 0, "beta", p.beta, "must be > 0");
      },
      [](const GammaParam& p) { return std::gamma_distribution<double>(p.alpha, p.beta); })
      .Alias("random_gamma")
      .Sample(OpSample{.attrs = {{"alpha", "2.5"}, {"beta", "0.5"}, {"shape", "(3, 3)"}}});
  RegisterSampler<PoissonParam>(
      "_random_poisson", "Samples from a Poisson distribution with rate lam.", false,
      [](const Attrs& attrs, const PoissonParam& p) {
        CheckArg(attrs, p.lam >= 0, "lam", p.lam, "must be >= 0");
      },
      [](const PoissonParam& p) {
        // std::poisson_distribution needs a positive mean; lam = 0 always gives 0.
        return [d = std::poisson_distribution<int64_t>(p.lam > 0 ? p.lam : 1.0), zero = p.lam == 0](
                   std::mt19937_64& g) mutable { return zero ? 0.0 : static_cast<double>(d(g)); };
      })
      .Alias("random_poisson")
      .Sample(OpSample{.attrs = {{"lam", "4"}, {"shape", "(2, 5)"}}});

  Registry::Add("_sample_multinomial")
      .Describe(
          "Samples category indices from multinomial distributions given by the last axis of "
          "data (probabilities summing to 1); with get_prob also their log probabilities.")
      .Alias("sample_multinomial")
      .Param<MultinomialParam>()
      .NeedsRandom()
      .Inputs({"data"})
      .Outputs([](const Attrs& attrs) {
        return attrs.param<MultinomialParam>().get_prob ? std::vector<std::string>{"output", "prob"}
                                                        : std::vector<std::string>{"output"};
      })
      .InferShape(MultinomialShape)
      .InferType(MultinomialType)
      .Kernel("reference", MultinomialForward)
      .Sample(OpSample{.attrs = {{"shape", "(2, 3)"}, {"get_prob", "True"}},
                       .inputs = {Shape{4, 5}},
                       .ranges = {{0.0, 0.4}}})
      .Sample(OpSample{.attrs = {{"shape", "4"}},
                       .inputs = {Shape{3}},
                       .ranges = {{1.0, 2.0}},  // the first category's mass alone exceeds 1
                       .expected = [](const std::vector<std::vector<double>>&) {
                         return std::vector<std::vector<double>>{{0, 0, 0, 0}};
                       }});

  Registry::Add("_shuffle")
      .Describe("Randomly permutes the elements of data along its first axis.")
      .Alias("shuffle")
      .NeedsRandom()
      .Inputs({"data"})
      .InferShape(SameShape)
      .InferType(SameType)
      .Kernel("reference", ShuffleForward)
      .Sample(OpSample{.inputs = {Shape{6, 2}}})
      .Sample(OpSample{.inputs = {Shape{1, 3}},
                       .expected = [](const std::vector<std::vector<double>>& in) { return in; }});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
