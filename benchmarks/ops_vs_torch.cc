// Operator speed, mixnet vs PyTorch (libtorch, C++), side by side in one process.
//
// Each workload runs the same computation in both with the same number of threads (all
// cores: mixnet's OpenMP team, torch::set_num_threads). The two run in alternating batches;
// figures are medians over repetitions of the time per call (mixnet: asynchronous pushes,
// then a wait, amortised) and the median of the per-batch ratios. Workloads whose
// mixnet op is not registered yet print "not registered".
//
//   ops_vs_torch [--reps R] [--filter SUBSTRING]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "mixnet/op/invoke.h"
#include "operator/gradient.h"
#include "operator/op_def.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace mo = mixnet::op;
using mixnet::NDArray;
using mixnet::Shape;

/*! \brief Seconds per call of `call` over a batch of `inner` calls ended by `sync`. */
double BatchSeconds(const std::function<void()>& call, const std::function<void()>& sync,
                    int inner) {
  const auto t0 = Clock::now();
  for (int i = 0; i < inner; ++i)
    call();
  sync();
  return std::chrono::duration<double>(Clock::now() - t0).count() / inner;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/*! \brief Medians of both times and of their per-repetition ratio (torch / mixnet). */
struct Timing {
  double mixnet, torch, ratio;
};

/*!
 * \brief Times the two sides in alternating batches, so a burst of load on this shared
 * machine hits both, and reports the median of the per-pair ratios with the median times.
 */
Timing Compare(const std::function<void()>& mx, const std::function<void()>& th, int reps,
               int inner) {
  const auto mx_sync = [] { mixnet::Engine::Get()->WaitForAll(); };
  const auto th_sync = [] {};
  mx();
  mx_sync();  // warm up (allocations, caches, primitive creation)
  th();
  std::vector<double> tm, tt, ratio;
  for (int r = 0; r < reps; ++r) {
    tm.push_back(BatchSeconds(mx, mx_sync, inner));
    tt.push_back(BatchSeconds(th, th_sync, inner));
    ratio.push_back(tt.back() / tm.back());
  }
  return {Median(tm), Median(tt), Median(ratio)};
}

NDArray MxRandom(const Shape& s, float lo = -1, float hi = 1) {
  torch::Tensor t = torch::rand(std::vector<int64_t>(s.begin(), s.end())) * (hi - lo) + lo;
  return NDArray::FromHost(t.data_ptr<float>(), s, mixnet::DType::kFloat32);
}

struct Workload {
  std::string name;
  std::string op;                                      // mixnet op it needs
  double flops = 0;                                    // per call, for GFLOP/s; 0 = bandwidth-bound
  std::function<std::function<void()>()> make_mixnet;  // returns the call
  std::function<std::function<void()>()> make_torch;
  int inner = 10;
};

/*! \brief Forward, or forward + gradient through the op's gradient graph. */
std::function<void()> MixnetCall(const std::string& op, std::vector<NDArray> in, mo::AttrDict attrs,
                                 bool backward) {
  if (!backward) {
    return [=] { mo::Invoke(op, in, attrs); };
  }
  return [=] {
    const auto out = mo::Invoke(op, in, attrs, {}, {.is_train = true});
    const mo::OpDef& def = mo::Registry::Get(op);
    mo::EagerGradBuilder g;
    std::vector<mo::GValue> iv, ov, hv;
    for (const auto& a : in)
      iv.push_back(g.Add(a));
    for (const auto& o : out) {
      ov.push_back(g.Add(o));
      hv.push_back(g.Add(NDArray::Ones(o.shape())));
    }
    def.gradient(g, def.ParseAttrs(attrs), iv, ov, hv);
  };
}

std::vector<Workload> Workloads() {
  std::vector<Workload> w;
  // One-input ops on n floats, forward or forward + backward (ones as the head gradient).
  const auto unary = [](std::string name, std::string op, int64_t n, bool backward,
                        std::function<torch::Tensor(const torch::Tensor&)> th) {
    Workload wl{name + ", " + std::to_string(n) + " floats" + (backward ? " fwd+bwd" : ""),
                op,
                0,
                [=] { return MixnetCall(op, {MxRandom({n})}, {}, backward); },
                [=] {
                  auto x = torch::rand({n}).requires_grad_(backward);
                  return std::function<void()>([=] {
                    auto y = th(x);
                    if (backward) y.backward(torch::ones_like(y));
                  });
                },
                n < 1000000 ? 200 : 5};
    return wl;
  };
  for (int64_t n : {int64_t{1000}, int64_t{100000}, int64_t{10000000}}) {
    for (const bool backward : {false, true}) {
      w.push_back(unary("exp", "exp", n, backward, [](const auto& x) { return torch::exp(x); }));
      w.push_back(unary("sigmoid", "sigmoid", n, backward,
                        [](const auto& x) { return torch::sigmoid(x); }));
      w.push_back(unary("sum", "sum", n, backward, [](const auto& x) { return torch::sum(x); }));
    }
    w.push_back({"add, " + std::to_string(n) + " floats", "elemwise_add", 0,
                 [n] {
                   return MixnetCall("elemwise_add", {MxRandom({n}), MxRandom({n})}, {}, false);
                 },
                 [n] {
                   auto x = torch::rand({n}), y = torch::rand({n});
                   return std::function<void()>([x, y] { torch::add(x, y); });
                 },
                 n < 1000000 ? 200 : 5});
  }
  w.push_back({"sum over axis 1 of (1000, 10000)", "sum", 0,
               [] {
                 return MixnetCall("sum", {MxRandom({1000, 10000})}, {{"axis", "1"}}, false);
               },
               [] {
                 auto x = torch::rand({1000, 10000});
                 return std::function<void()>([x] { torch::sum(x, 1); });
               },
               5});
  w.push_back({"sum over axis 0 of (10000, 1000)", "sum", 0,
               [] {
                 return MixnetCall("sum", {MxRandom({10000, 1000})}, {{"axis", "0"}}, false);
               },
               [] {
                 auto x = torch::rand({10000, 1000});
                 return std::function<void()>([x] { torch::sum(x, 0); });
               },
               5});
  for (const bool backward : {false, true}) {
    w.push_back({std::string("softmax (128, 1000)") + (backward ? " fwd+bwd" : ""), "softmax", 0,
                 [=] {
                   return MixnetCall("softmax", {MxRandom({128, 1000})}, {}, backward);
                 },
                 [=] {
                   auto x = torch::rand({128, 1000}).requires_grad_(backward);
                   return std::function<void()>([=] {
                     auto y = torch::softmax(x, -1);
                     if (backward) y.backward(torch::ones_like(y));
                   });
                 },
                 50});
  }
  const auto fc = [](int64_t b, int64_t in, int64_t out, bool backward) {
    Workload wl{"FullyConnected " + std::to_string(b) + "x" + std::to_string(in) + " -> " +
                    std::to_string(out) + (backward ? " fwd+bwd" : " fwd"),
                "FullyConnected",
                2.0 * b * in * out * (backward ? 3 : 1),
                [=] {
                  return MixnetCall("FullyConnected",
                                    {MxRandom({b, in}), MxRandom({out, in}), MxRandom({out})},
                                    {{"num_hidden", std::to_string(out)}}, backward);
                },
                [=] {
                  auto x = torch::rand({b, in}).requires_grad_(backward);
                  auto wt = torch::rand({out, in}).requires_grad_(backward);
                  auto bias = torch::rand({out}).requires_grad_(backward);
                  return std::function<void()>([=] {
                    auto y = torch::linear(x, wt, bias);
                    if (backward) y.backward(torch::ones_like(y));
                  });
                },
                10};
    return wl;
  };
  for (const bool backward : {false, true}) {
    w.push_back(fc(128, 784, 512, backward));   // LeNet/MLP
    w.push_back(fc(32, 2048, 1000, backward));  // ResNet-50 classifier
  }
  w.push_back(
      {"dot 1024x1024x1024", "dot", 2.0 * 1024 * 1024 * 1024,
       [] {
         return MixnetCall("dot", {MxRandom({1024, 1024}), MxRandom({1024, 1024})}, {}, false);
       },
       [] {
         auto x = torch::rand({1024, 1024}), y = torch::rand({1024, 1024});
         return std::function<void()>([x, y] { torch::mm(x, y); });
       },
       3});
  const auto conv = [](std::string label, int64_t n, int64_t c, int64_t hw, int64_t f, int64_t k,
                       int64_t pad, bool backward) {
    const int64_t out_hw = hw + 2 * pad - k + 1;
    const double flops = 2.0 * n * f * out_hw * out_hw * c * k * k * (backward ? 3 : 1);
    Workload wl{label + (backward ? " fwd+bwd" : " fwd"),
                "Convolution",
                flops,
                [=] {
                  return MixnetCall(
                      "Convolution",
                      {MxRandom({n, c, hw, hw}), MxRandom({f, c, k, k}), MxRandom({f})},
                      {{"kernel", "(" + std::to_string(k) + ", " + std::to_string(k) + ")"},
                       {"pad", "(" + std::to_string(pad) + ", " + std::to_string(pad) + ")"},
                       {"num_filter", std::to_string(f)}},
                      backward);
                },
                [=] {
                  auto x = torch::rand({n, c, hw, hw}).requires_grad_(backward);
                  auto wt = torch::rand({f, c, k, k}).requires_grad_(backward);
                  auto bias = torch::rand({f}).requires_grad_(backward);
                  return std::function<void()>([=] {
                    auto y = torch::conv2d(x, wt, bias, 1, pad);
                    if (backward) y.backward(torch::ones_like(y));
                  });
                },
                backward ? 2 : 3};
    return wl;
  };
  w.push_back(conv("Conv LeNet-1 (128,1,28,28) 5x5x20", 128, 1, 28, 20, 5, 0, false));
  w.push_back(conv("Conv LeNet-1 (128,1,28,28) 5x5x20", 128, 1, 28, 20, 5, 0, true));
  for (const bool backward : {false, true}) {
    w.push_back(conv("Conv LeNet-2 (128,20,12,12) 5x5x50", 128, 20, 12, 50, 5, 0, backward));
    w.push_back(conv("Conv ResNet-18 (8,64,56,56) 3x3x64", 8, 64, 56, 64, 3, 1, backward));
    w.push_back(conv("Conv ResNet-18 (8,256,14,14) 3x3x256", 8, 256, 14, 256, 3, 1, backward));
    w.push_back(conv("Conv ResNet-50 (8,256,56,56) 1x1x64", 8, 256, 56, 64, 1, 0, backward));
  }
  const auto pool = [](std::string label, Shape shape, int64_t k, int64_t stride, int64_t pad,
                       std::string type, bool backward) {
    const std::string kk = std::to_string(k), ss = std::to_string(stride), pp = std::to_string(pad);
    Workload wl{label + (backward ? " fwd+bwd" : " fwd"),
                "Pooling",
                0,
                [=] {
                  return MixnetCall("Pooling", {MxRandom(shape)},
                                    {{"kernel", "(" + kk + ", " + kk + ")"},
                                     {"stride", "(" + ss + ", " + ss + ")"},
                                     {"pad", "(" + pp + ", " + pp + ")"},
                                     {"pool_type", type}},
                                    backward);
                },
                [=] {
                  auto x = torch::rand(std::vector<int64_t>(shape.begin(), shape.end()))
                               .requires_grad_(backward);
                  return std::function<void()>([=] {
                    auto y = type == "max" ? torch::max_pool2d(x, k, stride, pad)
                                           : torch::avg_pool2d(x, k, stride, pad);
                    if (backward) y.backward(torch::ones_like(y));
                  });
                },
                backward ? 5 : 10};
    return wl;
  };
  for (const bool backward : {false, true}) {
    w.push_back(
        pool("MaxPool 2x2/2 LeNet (128,20,24,24)", {128, 20, 24, 24}, 2, 2, 0, "max", backward));
    w.push_back(pool("MaxPool 3x3/2 ResNet stem (8,64,112,112)", {8, 64, 112, 112}, 3, 2, 1, "max",
                     backward));
    w.push_back(pool("AvgPool 2x2/2 (8,256,28,28)", {8, 256, 28, 28}, 2, 2, 0, "avg", backward));
  }
  const auto bn = [](bool train) {
    Workload wl{
        std::string("BatchNorm (32,64,56,56) ") + (train ? "training fwd+bwd" : "inference"),
        "BatchNorm",
        0,
        [=] {
          return MixnetCall("BatchNorm",
                            {MxRandom({32, 64, 56, 56}), MxRandom({64}), MxRandom({64}),
                             MxRandom({64}), MxRandom({64}, 0.5, 1.5)},
                            {{"fix_gamma", "False"}}, train);
        },
        [=] {
          auto x = torch::rand({32, 64, 56, 56}).requires_grad_(train);
          auto g = torch::rand({64}).requires_grad_(train);
          auto b = torch::rand({64}).requires_grad_(train);
          auto m = torch::rand({64}), v = torch::rand({64}) + 0.5;
          return std::function<void()>([=] {
            auto y = torch::batch_norm(x, g, b, m, v, train, 0.1, 1e-3, false);
            if (train) y.backward(torch::ones_like(y));
          });
        },
        train ? 3 : 5};
    return wl;
  };
  w.push_back(bn(false));
  w.push_back(bn(true));
  for (const bool backward : {false, true}) {
    w.push_back(
        {std::string("LayerNorm (2048, 768)") + (backward ? " fwd+bwd" : " fwd"), "LayerNorm", 0,
         [=] {
           return MixnetCall("LayerNorm", {MxRandom({2048, 768}), MxRandom({768}), MxRandom({768})},
                             {{"eps", "1e-5"}}, backward);
         },
         [=] {
           auto x = torch::rand({2048, 768}).requires_grad_(backward);
           auto g = torch::rand({768}).requires_grad_(backward);
           auto b = torch::rand({768}).requires_grad_(backward);
           return std::function<void()>([=] {
             auto y = torch::layer_norm(x, {768}, g, b, 1e-5);
             if (backward) y.backward(torch::ones_like(y));
           });
         },
         10});
  }
  w.push_back(
      {"LRN nsize 5 (8,64,56,56) fwd", "LRN", 0,
       [] {
         return MixnetCall("LRN", {MxRandom({8, 64, 56, 56})}, {{"nsize", "5"}}, false);
       },
       [] {
         auto x = torch::rand({8, 64, 56, 56});
         return std::function<void()>([x] {
           torch::nn::functional::local_response_norm(
               x,
               torch::nn::functional::LocalResponseNormFuncOptions(5).alpha(1e-4).beta(0.75).k(2));
         });
       },
       5});
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) {
      filter = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--reps R] [--filter SUBSTRING]\n", argv[0]);
      return 2;
    }
  }
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(threads);
  torch::NoGradGuard no_grad_default;  // re-enabled per workload where it needs gradients
  std::printf("Operator time per call, median of %d; %d threads each; torch %s\n\n", reps, threads,
              TORCH_VERSION);
  std::printf(
      "| workload | mixnet ms | torch ms | torch / mixnet | mixnet GFLOP/s |\n"
      "|---|---:|---:|---:|---:|\n");
  for (const Workload& w : Workloads()) {
    if (!filter.empty() && w.name.find(filter) == std::string::npos) continue;
    if (!mo::Registry::Find(w.op)) {
      std::printf("| %s | not registered | | | |\n", w.name.c_str());
      continue;
    }
    try {
      const auto mx_call = w.make_mixnet();
      torch::AutoGradMode grad(true);
      const auto th_call = w.make_torch();
      const Timing t = Compare(mx_call, th_call, reps, w.inner);
      char rate[32] = "";
      if (w.flops > 0) std::snprintf(rate, sizeof(rate), "%.1f", w.flops / t.mixnet * 1e-9);
      std::printf("| %s | %.3f | %.3f | %.2fx | %s |\n", w.name.c_str(), t.mixnet * 1e3,
                  t.torch * 1e3, t.ratio, rate);
    } catch (const std::exception& e) {
      std::printf("| %s | error: %s | | | |\n", w.name.c_str(), e.what());
    }
    std::fflush(stdout);
  }
  return 0;
}
