// The convolution passes (NOTE [ Conv view ]) on oneDNN primitives, for float32.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "mixnet/base/env.h"
#include "operator/dnnl/dnnl_util.h"
#include "operator/nn/conv_util.h"
#include "operator/parallel.h"
#include "operator/step_state.h"

namespace mixnet::op::nn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
namespace du = dnnl_util;

/*! \brief The plain (MXNet) descriptors of one convolution, and its window in oneDNN's terms. */
struct ConvDescs {
  memory::desc src, weights, dst, bias;
  memory::dims strides, dilates, pad_l, pad_r;
};

ConvDescs PlainDescs(const ConvGeom& g) {
  static constexpr Tag kData[] = {Tag::ncw, Tag::nchw, Tag::ncdhw};
  static constexpr Tag kWeights[] = {Tag::oiw, Tag::oihw, Tag::oidhw};
  static constexpr Tag kGroupWeights[] = {Tag::goiw, Tag::goihw, Tag::goidhw};
  const int nd = g.w.nd;
  memory::dims src{g.batch, g.in_c}, dst{g.batch, g.out_c}, weights;
  if (g.groups > 1) {
    weights = {g.groups, g.out_c / g.groups, g.in_c / g.groups};
  } else {
    weights = {g.out_c, g.in_c};
  }
  ConvDescs d;
  for (int i = 3 - nd; i < 3; ++i) {
    src.push_back(g.in[i]);
    dst.push_back(g.out[i]);
    weights.push_back(g.w.k[i]);
    d.strides.push_back(g.w.s[i]);
    d.dilates.push_back(g.w.d[i] - 1);
    // MXNet pads both sides by `pad` and floors the output size; oneDNN floors the same way.
    d.pad_l.push_back(g.w.p[i]);
    d.pad_r.push_back(g.w.p[i]);
  }
  const auto f32 = memory::data_type::f32;
  d.src = memory::desc(src, f32, kData[nd - 1]);
  d.dst = memory::desc(dst, f32, kData[nd - 1]);
  d.weights = memory::desc(weights, f32, g.groups > 1 ? kGroupWeights[nd - 1] : kWeights[nd - 1]);
  d.bias = memory::desc({g.out_c}, f32, Tag::x);
  return d;
}

/*! \brief (1, out_c, 1...): a per-channel operand of a binary post-op. */
memory::desc ChannelDesc(const ConvGeom& g) {
  static constexpr Tag kData[] = {Tag::ncw, Tag::nchw, Tag::ncdhw};
  memory::dims dims(static_cast<size_t>(g.w.nd) + 2, 1);
  dims[1] = g.out_c;
  return memory::desc(dims, memory::data_type::f32, kData[g.w.nd - 1]);
}

/*! \brief The primitive attributes: a user scratchpad, and the forward's post-ops if any. */
dnnl::primitive_attr MakeAttr(const ConvGeom& g, const ConvPostOps* post) {
  dnnl::primitive_attr attr = du::ScratchpadAttr();
  if (post) {
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_mul, ChannelDesc(g));
    ops.append_binary(dnnl::algorithm::binary_add, ChannelDesc(g));
    if (post->relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

memory::desc Any(const memory::desc& d) {
  return memory::desc(d.dims(), d.data_type(), Tag::any);
}

/*!
 * \brief The activations' descs of a training forward's blocked candidate (NOTE [ Training
 * forward layout ]): nChw16c (src plain when its channels are not a multiple of 16), or the
 * `any` descs where no such layout exists.
 *
 * NOTE [ Training forward layout ]
 * With `any`, oneDNN 3.x gives the forward its brgconv kernel on NHWC, while the backward
 * passes (on `any` too) take the jit kernels on nChw16c, as MXNet's forward_training does.
 * In a training step the forward's reorders (NCHW <-> NHWC) then come on top of the backward's,
 * and brgconv is slower than the jit kernel on the small late-stage images (4x4 at 512
 * channels: 1.6x). Training forwards therefore ask for nChw16c; inference keeps `any`.
 */
std::pair<memory::desc, memory::desc> TrainingBlockedDescs(const ConvGeom& g, const ConvDescs& d) {
  static constexpr Tag kBlocked[] = {Tag::nCw16c, Tag::nChw16c, Tag::nCdhw16c};
  static constexpr Tag kData[] = {Tag::ncw, Tag::nchw, Tag::ncdhw};
  const int nd = g.w.nd;
  const auto src_tag = g.in_c % 16 == 0 ? kBlocked[nd - 1] : kData[nd - 1];
  return {memory::desc(d.src.dims(), d.src.data_type(), src_tag),
          memory::desc(d.dst.dims(), d.dst.data_type(), kBlocked[nd - 1])};
}

/*! \brief A cached pass: its primitive and how each argument reaches it. */
struct ConvEntry {
  dnnl::primitive prim;
  dnnl::primitive_desc_base pd;
  du::Arg a, b, out;            // as in RunConvPass: (x, w) -> y, (dy, w) -> dx, (x, dy) -> dw
  bool post_ops = false;        // the forward's ConvPostOps run in the primitive (else after it)
  memory::desc b_user, b_want;  // the forward's weights: plain, and as the primitive reads them
};

/*!
 * \brief The forward's weights reordered once into the primitive's layout, kept with an
 * inference step for as long as the weights are unchanged (NOTE [ Step state ]).
 */
struct KeptWeights {
  const void* user = nullptr;
  uint64_t version = 0;
  memory mem;
};

/*! \brief The forward's weights (user data `w`) in the primitive's layout, in a buffer of their
 * own. */
memory ReorderWeights(const ConvEntry& e, const void* w) {
  memory user = du::Mem(e.b_user, w), want(e.b_want, du::Engine());
  dnnl::reorder(user, want).execute(du::Stream(), user, want);
  du::Stream().wait();
  return want;
}

/*!
 * \brief y[n, c, ...] = y * scale[c] + shift[c] (then ReLU) on a plain output, for primitives
 * that run without the post-ops: oneDNN's plain-layout (GEMM) convolution applies binary
 * post-ops element by element, slower than this pass over the output still in cache.
 */
void ApplyPostOps(const ConvGeom& g, const ConvPostOps& post, float* y) {
  const int64_t inner = g.OutSize();
  ParallelFor(g.batch * g.out_c, std::max<int64_t>(1, kElementwiseGrain / (inner + 1)),
              [&](int64_t lo, int64_t hi) {
                for (int64_t i = lo; i < hi; ++i) {
                  const float s = post.scale[i % g.out_c], b = post.shift[i % g.out_c];
                  float* row = y + i * inner;
                  if (post.relu) {
                    for (int64_t j = 0; j < inner; ++j)
                      row[j] = std::max(row[j] * s + b, 0.0f);
                  } else {
                    for (int64_t j = 0; j < inner; ++j)
                      row[j] = row[j] * s + b;
                  }
                }
              });
}

/*!
 * \brief The pass's primitive with the activations in oneDNN's preferred (blocked) layouts or
 * in the plain ones; weights always take the preferred layout (they are small).
 */
std::shared_ptr<ConvEntry> BuildEntry(ConvPass pass, const ConvGeom& g, bool bias, bool blocked,
                                      const ConvPostOps* post, bool training = false) {
  const ConvDescs d = PlainDescs(g);
  const auto& eng = du::Engine();
  const dnnl::primitive_attr attr = MakeAttr(g, pass == ConvPass::kForward ? post : nullptr);
  const auto alg = dnnl::algorithm::convolution_direct;
  const auto fwd_kind =
      pass == ConvPass::kForward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward;
  const memory::desc weights = Any(d.weights);
  const memory::desc src = blocked ? Any(d.src) : d.src, dst = blocked ? Any(d.dst) : d.dst;
  auto make_fwd = [&](const memory::desc& s, const memory::desc& o) {
    return dnnl::convolution_forward::primitive_desc(
        bias ? dnnl::convolution_forward::desc(fwd_kind, alg, s, weights, Any(d.bias), o, d.strides,
                                               d.dilates, d.pad_l, d.pad_r)
             : dnnl::convolution_forward::desc(fwd_kind, alg, s, weights, o, d.strides, d.dilates,
                                               d.pad_l, d.pad_r),
        attr, eng);
  };
  dnnl::convolution_forward::primitive_desc fwd;
  if (blocked && training && pass == ConvPass::kForward) {
    try {
      const auto [s16, o16] = TrainingBlockedDescs(g, d);
      fwd = make_fwd(s16, o16);
    } catch (const dnnl::error&) {  // no kernel for the fixed layouts: oneDNN's own choice
      fwd = make_fwd(src, dst);
    }
  } else {
    fwd = make_fwd(src, dst);
  }
  auto e = std::make_shared<ConvEntry>();
  e->post_ops = pass == ConvPass::kForward && post != nullptr;
  switch (pass) {
    case ConvPass::kForward:
      e->prim = dnnl::convolution_forward(fwd);
      e->pd = fwd;
      e->a.Plan(d.src, fwd.src_desc(), true);
      e->b.Plan(d.weights, fwd.weights_desc(), true);
      e->out.Plan(d.dst, fwd.dst_desc(), false);
      e->b_user = d.weights;
      e->b_want = fwd.weights_desc();
      break;
    case ConvPass::kBackwardData: {
      const dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(alg, src, weights, dst, d.strides, d.dilates,
                                                d.pad_l, d.pad_r),
          attr, eng, fwd);
      e->prim = dnnl::convolution_backward_data(pd);
      e->pd = pd;
      e->a.Plan(d.dst, pd.diff_dst_desc(), true);
      e->b.Plan(d.weights, pd.weights_desc(), true);
      e->out.Plan(d.src, pd.diff_src_desc(), false);
      break;
    }
    case ConvPass::kBackwardWeight: {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(alg, src, weights, dst, d.strides, d.dilates,
                                                   d.pad_l, d.pad_r),
          attr, eng, fwd);
      e->prim = dnnl::convolution_backward_weights(pd);
      e->pd = pd;
      e->a.Plan(d.src, pd.src_desc(), true);
      e->b.Plan(d.dst, pd.diff_dst_desc(), true);
      e->out.Plan(d.weights, pd.diff_weights_desc(), false);
      break;
    }
  }
  return e;
}

/*!
 * \brief Runs a built pass: (a, b) -> y, with y plain and written (not accumulated). A forward
 * takes its weights from `kept_b` if given, already in the primitive's layout.
 */
void RunEntry(const ConvEntry& e, ConvPass pass, const ConvGeom& g, const TBlob& a, const TBlob& b,
              const TBlob* bias, const ConvPostOps* post, float* y, TempSpace& temp,
              const memory* kept_b = nullptr) {
  du::BoundArg ma(e.a, a.dptr, temp), mo(e.out, y, temp);
  std::optional<du::BoundArg> mb;
  if (!kept_b) mb.emplace(e.b, b.dptr, temp);
  std::unordered_map<int, memory> args;
  switch (pass) {
    case ConvPass::kForward:
      args = {{DNNL_ARG_SRC, ma.mem()},
              {DNNL_ARG_WEIGHTS, kept_b ? *kept_b : mb->mem()},
              {DNNL_ARG_DST, mo.mem()}};
      if (bias) {
        args[DNNL_ARG_BIAS] = memory(memory::desc({g.out_c}, memory::data_type::f32, Tag::x),
                                     du::Engine(), bias->dptr);
      }
      if (post && e.post_ops) {
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
            du::Mem(ChannelDesc(g), post->scale);
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] =
            du::Mem(ChannelDesc(g), post->shift);
      }
      break;
    case ConvPass::kBackwardData:
      args = {{DNNL_ARG_DIFF_DST, ma.mem()},
              {DNNL_ARG_WEIGHTS, mb->mem()},
              {DNNL_ARG_DIFF_SRC, mo.mem()}};
      break;
    case ConvPass::kBackwardWeight:
      args = {{DNNL_ARG_SRC, ma.mem()},
              {DNNL_ARG_DIFF_DST, mb->mem()},
              {DNNL_ARG_DIFF_WEIGHTS, mo.mem()}};
      break;
  }
  du::Execute(e.prim, e.pd, std::move(args), temp);
  mo.Finish();
  if (post && !e.post_ops) ApplyPostOps(g, *post, y);
}

/*!
 * \brief Picks the layouts for a pass (NOTE [ Conv layouts ]), timing both candidates on
 * this call's data when the choice matters.
 *
 * NOTE [ Conv layouts ]
 * oneDNN's convolution kernels on its blocked layouts (nChw16c) run up to twice as fast as
 * those on plain NCHW, but arrays stay plain between ops, so the blocked kernels need
 * reorders in and out, which move the activations again: cheap while they fit in cache,
 * slow (a few GB/s) when they do not. Which wins depends on the shape and the machine, so
 * like cuDNN's autotuning in MXNet, the first call of a large enough convolution times both
 * (a warm-up run and the best of three timed runs each, into scratch memory, alternating so
 * that a burst of load on the machine hits both) and the faster is cached
 * with the primitive. Small ones, and cases where the blocked kernel needs no reorder of the
 * activations, skip the timing. MIXNET_CONV_LAYOUT=blocked or plain fixes the choice. A
 * forward's ConvPostOps run inside the blocked primitive, and as a pass after the plain one.
 * The timing must not cost memory afterwards: the runs write into the call's own output, and
 * the pool's free blocks (both candidates' reorder buffers and scratchpads, up to a few
 * times the activations at batch 32) are returned to the system once the choice is made; only
 * the chosen primitive is cached, and weights are reordered per call, except that an inference
 * executor's step keeps its forward's reordered weights while they are unchanged (NOTE [ Step
 * state ]), so the timing then leaves their reorder out. The kept copies cost memory (ResNet-50
 * at batch 1: about 60 MB more resident) and save a reorder of them per call.
 * Primitives are cached per thread, but the choice is made once per process (per cache key):
 * a second thread reuses it instead of timing again, so a shape runs the same kernel whichever
 * thread runs it (eager ops on the engine's worker, hybridized serial segments in the pushing
 * thread) and gives the same rounding. Separate timings could pick different kernels, whose
 * last-bit differences flip max-pooling's argmax and so route gradients elsewhere.
 */
std::shared_ptr<ConvEntry> MakeEntry(const std::string& key, ConvPass pass, const ConvGeom& g,
                                     const TBlob& a, const TBlob& b, const TBlob* bias,
                                     const ConvPostOps* post, float* y, const std::string& layout,
                                     bool keep_weights, bool training) {
  if (layout != "auto") {
    MX_CHECK(layout == "blocked" || layout == "plain", ValueError)
        << "MIXNET_CONV_LAYOUT is '" << layout << "'; expected auto, blocked or plain";
    const bool blocked = layout == "blocked";
    return BuildEntry(pass, g, bias != nullptr, blocked, blocked ? post : nullptr, training);
  }
  auto blocked = BuildEntry(pass, g, bias != nullptr, true, post, training);
  const bool reorders =
      blocked->a.reordered() ||
      (pass != ConvPass::kBackwardWeight ? blocked->out.reordered() : blocked->b.reordered());
  const double flops = 2.0 * g.batch * g.out_c * g.OutSize() * (g.in_c / g.groups) * g.w.Size();
  constexpr double kMinFlopsToTime = 2e7;  // below this the difference is a few microseconds
  if (!reorders) return blocked;
  auto plain = BuildEntry(pass, g, bias != nullptr, false, nullptr);
  if (flops < kMinFlopsToTime) return plain;
  static std::mutex chosen_mu;
  static std::unordered_map<std::string, bool> chosen_blocked;  // key -> blocked won
  {
    std::lock_guard<std::mutex> lock(chosen_mu);
    auto it = chosen_blocked.find(key);
    if (it != chosen_blocked.end()) return it->second ? blocked : plain;
  }
  // The timing needs both candidates' buffers at once, on top of the arrays already held
  // (the first call of a graph): make room from the pool's free blocks first.
  Storage::Get()->EmptyCache(Context::cpu());
  // Weights kept by an inference step are reordered once, not per run: time the runs so.
  auto kept = [&](const ConvEntry& e) {
    return keep_weights && e.b.reordered() ? std::optional(ReorderWeights(e, b.dptr))
                                           : std::nullopt;
  };
  const std::optional<memory> kept_blocked = kept(*blocked), kept_plain = kept(*plain);
  auto seconds = [&](const ConvEntry& e, const std::optional<memory>& kept_b) {
    const auto t0 = std::chrono::steady_clock::now();
    TempSpace temp;  // per run, so the runs reuse the same pooled blocks
    RunEntry(e, pass, g, a, b, bias, post, y, temp, kept_b ? &*kept_b : nullptr);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  seconds(*blocked, kept_blocked);  // warm-up: first-touch of scratch memory, caches
  seconds(*plain, kept_plain);
  double best_blocked = seconds(*blocked, kept_blocked), best_plain = seconds(*plain, kept_plain);
  for (int round = 0; round < 2; ++round) {  // alternate, keep the best: robust to noise
    best_blocked = std::min(best_blocked, seconds(*blocked, kept_blocked));
    best_plain = std::min(best_plain, seconds(*plain, kept_plain));
  }
  // The runs' scratch went back to the pool: both candidates' reorder buffers and scratchpads,
  // sized for this one shape, which later calls (one layout) would mostly never reuse.
  Storage::Get()->EmptyCache(Context::cpu());
  std::lock_guard<std::mutex> lock(chosen_mu);  // a thread that timed it meanwhile wins
  if (chosen_blocked.size() >= 4096) chosen_blocked.clear();  // shapes that keep changing
  return chosen_blocked.try_emplace(key, best_blocked < best_plain).first->second ? blocked : plain;
}

std::string CacheKey(ConvPass pass, const ConvGeom& g, bool bias, const ConvPostOps* post,
                     const std::string& layout, bool training) {
  du::Key k("conv/" + layout);
  k << static_cast<int>(pass) << training << bias << (post ? 1 + post->relu : 0) << g.w.nd
    << g.batch << g.in_c << g.out_c << g.groups;
  for (int i = 0; i < 3; ++i)
    k << g.in[i] << g.out[i] << g.w.k[i] << g.w.s[i] << g.w.p[i] << g.w.d[i];
  return k.str();
}

}  // namespace

void DnnlConvPass(ConvPass pass, const ConvGeom& g, const TBlob& a, const TBlob& b,
                  const TBlob* bias, OpReq req, const TBlob& out, TempSpace& temp,
                  const ConvPostOps* post, bool training) {
  if (pass != ConvPass::kForward) post = nullptr;
  training = training && pass == ConvPass::kForward;  // only the forward's layout depends on it
  const std::string layout = GetEnvString("MIXNET_CONV_LAYOUT", "auto");
  // An inference step's forward keeps its reordered weights (NOTE [ Step state ]).
  StepState* step = pass == ConvPass::kForward ? tl_step_state : nullptr;
  const std::optional<uint64_t> version =
      step ? step->InputVersion(b.dptr) : std::optional<uint64_t>();
  du::WriteFloatOutput(req, out, temp, [&](float* y) {
    // The layout timing writes into y too: it is overwritten by the run below.
    const std::string key =
        CacheKey(pass, g, bias != nullptr, post, layout, training) + (version ? "/kept" : "");
    const ConvEntry& e = du::Cached<ConvEntry>(key, [&] {
      return MakeEntry(key, pass, g, a, b, bias, post, y, layout, version.has_value(), training);
    });
    const memory* kept_b = nullptr;
    if (version && e.b.reordered()) {
      auto k = std::static_pointer_cast<KeptWeights>(step->kept);
      if (!k || k->user != b.dptr || k->version != *version || k->mem.get_desc() != e.b_want) {
        k = std::make_shared<KeptWeights>(KeptWeights{b.dptr, *version, ReorderWeights(e, b.dptr)});
        step->kept = k;
      }
      kept_b = &k->mem;
    }
    RunEntry(e, pass, g, a, b, bias, post, y, temp, kept_b);
  });
}

}  // namespace mixnet::op::nn
