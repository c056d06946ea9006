// Gluon speed: hybridized vs eager mixnet, and both against PyTorch (libtorch, C++, eager), side
// by side in one process, on the same networks:
//   LeNet (MXNet's classic: Conv2D 5x5x20 relu, MaxPool2D, Conv2D 5x5x50 relu, MaxPool2D,
//          Dense 500 relu, Dense 10; a HybridSequential), input (B, 1, 28, 28), B = 1 and 128;
//   ResNet-18 v1 (the zoo's resnet18_v1, classes 10; default with the CIFAR 3x3 stem, MXNet's
//          thumbnail=True, as exec_memory_vs_torch's), input (64, 3, 32, 32).
//
// Phases: inference (forward in predict mode; torch: eval() and no_grad), at batch 1 also its
// latency (each call waits for its result, as when serving one request at a time: the
// pipelined inference lets eager calls overlap the next call's dispatch), and a training step
// (forward, SoftmaxCrossEntropyLoss, backward, gluon::Trainer SGD-momentum step; torch:
// cross_entropy, backward, optim::SGD). mixnet "eager" runs HybridForward op by op; mixnet
// "hybridized" has the network and the loss hybridized (one CachedOp call each). Data is
// synthetic (speed does not depend on the values).
//
// Each configuration runs in timed batches of `steps` steps (mixnet: asynchronous pushes, at
// most one step ahead, as examples/train_loop.h, then a wait for all), the three alternating
// so that a burst of load on a shared machine hits all of them; after one warm-up batch each
// (tracing, binding, oneDNN primitives). Reported: median ms per step, and medians of the
// per-batch throughput ratios (a / b above 1: a is faster). Same thread count on both sides
// (OMP_NUM_THREADS; torch::set_num_threads to match).
//
//   gluon_vs_torch [--net lenet|resnet|all] [--reps R (5)] [--steps-scale S (1)]
//                  [--resnet-stem cifar|imagenet]
//                  [--profile eager|hybridized|torch --phase train|infer|fwdbwd --workload N]
//                  (--profile: runs only that configuration's steps of workload N (0: LeNet
//                  batch 1, 1: LeNet batch 128, 2: ResNet-18) for perf record, no timing table;
//                  fwdbwd, mixnet only: a training step without the Trainer's update)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mixnet/engine/engine.h"
#include "mixnet/gluon/loss.h"
#include "mixnet/gluon/model_zoo.h"
#include "mixnet/gluon/nn.h"
#include "mixnet/gluon/trainer.h"
#include "mixnet/initializer/initializer.h"
#include "mixnet/op/random.h"
#include "torch_peer.h"

namespace {

using Clock = std::chrono::steady_clock;
using mixnet::NDArray;
namespace autograd = mixnet::autograd;
namespace gluon = mixnet::gluon;
namespace nn = mixnet::gluon::nn;
namespace vision = mixnet::gluon::model_zoo::vision;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---- the networks ----

std::shared_ptr<gluon::HybridBlock> GluonLeNet() {
  auto net = std::make_shared<nn::HybridSequential>();
  gluon::BlockScope scope(net.get());
  const nn::ConvOptions relu{.activation = "relu"};
  net->Add({std::make_shared<nn::Conv2D>(20, std::vector<int>{5}, relu),
            std::make_shared<nn::MaxPool2D>(),
            std::make_shared<nn::Conv2D>(50, std::vector<int>{5}, relu),
            std::make_shared<nn::MaxPool2D>(),
            std::make_shared<nn::Dense>(500, nn::DenseOptions{.activation = "relu"}),
            std::make_shared<nn::Dense>(10)});
  return net;
}

torch::nn::Sequential TorchLeNetSeq() {
  namespace tn = torch::nn;
  return tn::Sequential(
      tn::Conv2d(tn::Conv2dOptions(1, 20, 5)), tn::ReLU(), tn::MaxPool2d(tn::MaxPool2dOptions(2)),
      tn::Conv2d(tn::Conv2dOptions(20, 50, 5)), tn::ReLU(), tn::MaxPool2d(tn::MaxPool2dOptions(2)),
      tn::Flatten(), tn::Linear(800, 500), tn::ReLU(), tn::Linear(500, 10));
}

/*! \brief The zoo's BasicBlockV1: relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x)). */
struct TorchBasicBlockV1 : torch::nn::Module {
  TorchBasicBlockV1(int64_t in, int64_t out, int64_t stride) {
    namespace tn = torch::nn;
    const auto conv = [](int64_t i, int64_t o, int64_t k, int64_t s) {
      return tn::Conv2d(tn::Conv2dOptions(i, o, k).stride(s).padding(k / 2).bias(false));
    };
    body = register_module(
        "body", tn::Sequential(conv(in, out, 3, stride), tn::BatchNorm2d(out), tn::ReLU(),
                               conv(out, out, 3, 1), tn::BatchNorm2d(out)));
    if (in != out) {
      downsample = register_module("downsample",
                                   tn::Sequential(conv(in, out, 1, stride), tn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::relu(body->forward(x) + (downsample ? downsample->forward(x) : x));
  }
  torch::nn::Sequential body{nullptr}, downsample{nullptr};
};

/*! \brief resnet18_v1: stem, 4 stages of 2 basic blocks (64/128/256/512), pool, Dense. */
struct TorchResNet18V1 : torch::nn::Module {
  TorchResNet18V1(int64_t classes, bool cifar_stem) {
    namespace tn = torch::nn;
    if (cifar_stem) {  // the zoo's thumbnail stem: the convolution alone
      stem = register_module(
          "stem", tn::Sequential(tn::Conv2d(tn::Conv2dOptions(3, 64, 3).padding(1).bias(false))));
    } else {
      stem = register_module(
          "stem",
          tn::Sequential(tn::Conv2d(tn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)),
                         tn::BatchNorm2d(64), tn::ReLU(),
                         tn::MaxPool2d(tn::MaxPool2dOptions(3).stride(2).padding(1))));
    }
    int64_t in = 64;
    for (int64_t stage = 0; stage < 4; ++stage) {
      const int64_t out = 64 << stage;
      for (int64_t b = 0; b < 2; ++b) {
        blocks.push_back(register_module(
            "block" + std::to_string(2 * stage + b),
            std::make_shared<TorchBasicBlockV1>(in, out, b == 0 && stage > 0 ? 2 : 1)));
        in = out;
      }
    }
    fc = register_module("fc", tn::Linear(512, classes));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = stem->forward(x);
    for (const auto& b : blocks)
      h = b->forward(h);
    return fc->forward(torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1));
  }
  torch::nn::Sequential stem{nullptr};
  std::vector<std::shared_ptr<TorchBasicBlockV1>> blocks;
  torch::nn::Linear fc{nullptr};
};

// ---- the two sides ----

/*! \brief A libtorch network and its forward (torch::nn::Module has no virtual forward). */
struct TorchNet {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
};

struct Workload {
  std::string name;
  std::vector<int64_t> input;  // NCHW
  int steps;                   // per timed batch, training (inference: twice as many)
  std::function<std::shared_ptr<gluon::HybridBlock>()> mixnet_net;
  std::function<TorchNet()> torch_net;
};

/*! \brief One mixnet configuration: a network, its loss and Trainer, eager or hybridized. */
struct MixnetSide {
  MixnetSide(const Workload& w, bool hybridize, const NDArray& data) {
    net = w.mixnet_net();
    net->Initialize(std::make_shared<mixnet::init::Xavier>("uniform", "avg", 3));
    (*net)(data);  // finishes the deferred initialisation, before the Trainer takes the params
    net->Hybridize(hybridize);
    loss.Hybridize(hybridize);
    trainer = std::make_unique<gluon::Trainer>(
        net->CollectParams(), "sgd",
        mixnet::op::AttrDict{{"learning_rate", "0.05"}, {"momentum", "0.9"}, {"wd", "1e-4"}});
  }
  void TrainStep(const NDArray& data, const NDArray& label) {
    const NDArray prev = last;
    {
      autograd::RecordScope record;
      last = loss({(*net)(data), label})[0];
    }
    autograd::Backward({last});
    trainer->Step(static_cast<int>(data.shape()[0]));
    if (!prev.is_none()) prev.WaitToRead();  // one step in flight
  }
  /*! \brief TrainStep without the update (--profile --phase fwdbwd). */
  void ForwardBackward(const NDArray& data, const NDArray& label) {
    {
      autograd::RecordScope record;
      last = loss({(*net)(data), label})[0];
    }
    // Without an update the next forward does not wait for this backward: wait for the
    // previous backward's gradients instead (as train_vs_torch's breakdown).
    trainer->params()[0]->grad().WaitToRead();
    autograd::Backward({last});
  }
  void Infer(const NDArray& data) {
    const NDArray prev = last;
    last = (*net)(data);
    if (!prev.is_none()) prev.WaitToRead();
  }
  /*! \brief One request at a time: the call and its result (latency, as when serving). */
  void InferWait(const NDArray& data) { (*net)(data).WaitToRead(); }

  std::shared_ptr<gluon::HybridBlock> net;
  gluon::loss::SoftmaxCrossEntropyLoss loss;
  std::unique_ptr<gluon::Trainer> trainer;
  NDArray last;
};

struct TorchSide {
  explicit TorchSide(const Workload& w)
      : torch_net(w.torch_net()),
        net(torch_net.module),
        opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-4)) {}
  void TrainStep(const torch::Tensor& data, const torch::Tensor& label) {
    opt.zero_grad();
    torch::Tensor l = torch::nn::functional::cross_entropy(torch_net.forward(data), label);
    l.backward();
    opt.step();
  }
  void Infer(const torch::Tensor& data) {
    torch::NoGradGuard no_grad;
    last = torch_net.forward(data);
  }
  TorchNet torch_net;
  std::shared_ptr<torch::nn::Module> net;
  torch::optim::SGD opt;
  torch::Tensor last;
};

/*! \brief Seconds per step of `steps` calls, everything pushed finished. */
double TimeSteps(const std::function<void()>& step, int steps) {
  const auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i)
    step();
  mixnet::Engine::Get()->WaitForAll();
  return std::chrono::duration<double>(Clock::now() - t0).count() / steps;
}

struct PhaseTiming {
  double eager, hybrid, torch;                              // median seconds per step
  double hybrid_vs_eager, hybrid_vs_torch, eager_vs_torch;  // median per-batch throughput ratios
};

/*! \brief Alternating timed batches of the three configurations, after one warm-up each. */
PhaseTiming Compare(const std::function<void()>& eager, const std::function<void()>& hybrid,
                    const std::function<void()>& torch_step, int steps, int reps) {
  TimeSteps(eager, steps);
  TimeSteps(hybrid, steps);
  TimeSteps(torch_step, steps);
  std::vector<double> te, th, tt, he, ht, et;
  for (int r = 0; r < reps; ++r) {
    te.push_back(TimeSteps(eager, steps));
    th.push_back(TimeSteps(hybrid, steps));
    tt.push_back(TimeSteps(torch_step, steps));
    he.push_back(te.back() / th.back());
    ht.push_back(tt.back() / th.back());
    et.push_back(tt.back() / te.back());
  }
  return {Median(te), Median(th), Median(tt), Median(he), Median(ht), Median(et)};
}

struct Inputs {
  NDArray mx_data, mx_label;
  torch::Tensor th_data, th_label;
};

Inputs MakeInputs(const std::vector<int64_t>& shape) {
  Inputs in;
  in.th_data = torch::rand(shape);
  const torch::Tensor label = torch::randint(0, 10, {shape[0]}).to(torch::kFloat32);
  in.mx_data = NDArray::FromHost(in.th_data.data_ptr<float>(), mixnet::Shape(shape),
                                 mixnet::DType::kFloat32);
  in.mx_label = NDArray::FromHost(label.data_ptr<float>(), mixnet::Shape({shape[0]}),
                                  mixnet::DType::kFloat32);
  in.th_label = label.to(torch::kLong);
  return in;
}

struct Result {
  std::string name;
  int64_t batch;
  PhaseTiming infer, train;
  std::optional<PhaseTiming> latency;  // batch 1 only
};

Result RunWorkload(const Workload& w, int reps, int threads) {
  const Inputs in = MakeInputs(w.input);
  MixnetSide eager(w, false, in.mx_data), hybrid(w, true, in.mx_data);
  TorchSide th(w);
  const int64_t batch = w.input[0];

  th.net->eval();
  const PhaseTiming infer =
      Compare([&] { eager.Infer(in.mx_data); }, [&] { hybrid.Infer(in.mx_data); },
              [&] { th.Infer(in.th_data); }, 2 * w.steps, reps);
  std::optional<PhaseTiming> latency;
  if (batch == 1) {
    latency = Compare([&] { eager.InferWait(in.mx_data); }, [&] { hybrid.InferWait(in.mx_data); },
                      [&] { th.Infer(in.th_data); }, 2 * w.steps, reps);
  }
  th.net->train();
  const PhaseTiming train = Compare([&] { eager.TrainStep(in.mx_data, in.mx_label); },
                                    [&] { hybrid.TrainStep(in.mx_data, in.mx_label); },
                                    [&] { th.TrainStep(in.th_data, in.th_label); }, w.steps, reps);

  std::printf("== %s, input (", w.name.c_str());
  for (size_t i = 0; i < w.input.size(); ++i)
    std::printf("%s%ld", i ? ", " : "", static_cast<long>(w.input[i]));
  std::printf(
      "); %d threads each; medians of %d batches of %d (inference) / %d (training) steps\n\n",
      threads, reps, 2 * w.steps, w.steps);
  std::printf(
      "| phase | eager ms | hybridized ms | torch ms | hybridized / eager | hybridized / torch | "
      "eager / torch |\n|---|---:|---:|---:|---:|---:|---:|\n");
  const auto row = [](const char* phase, const PhaseTiming& t) {
    std::printf("| %s | %.3f | %.3f | %.3f | %.2fx | %.2fx | %.2fx |\n", phase, t.eager * 1e3,
                t.hybrid * 1e3, t.torch * 1e3, t.hybrid_vs_eager, t.hybrid_vs_torch,
                t.eager_vs_torch);
  };
  row("inference", infer);
  if (latency) row("inference latency (one call at a time)", *latency);
  row("training step", train);
  const auto sps = [&](double s) { return static_cast<double>(batch) / s; };
  std::printf("\ntraining throughput, samples/s: eager %.0f, hybridized %.0f, torch %.0f\n\n",
              sps(train.eager), sps(train.hybrid), sps(train.torch));
  std::fflush(stdout);
  return {w.name, batch, infer, train, latency};
}

/*! \brief --profile: one configuration's steps only, for perf record / callgrind. */
int Profile(const Workload& w, const std::string& config, const std::string& phase, int steps) {
  const Inputs in = MakeInputs(w.input);
  std::function<void()> step;
  std::unique_ptr<MixnetSide> mx;
  std::unique_ptr<TorchSide> th;
  if (config == "torch") {
    th = std::make_unique<TorchSide>(w);
    th->net->train(phase == "train");
    step = phase == "train" ? std::function<void()>([&] { th->TrainStep(in.th_data, in.th_label); })
                            : [&] { th->Infer(in.th_data); };
  } else {
    mx = std::make_unique<MixnetSide>(w, config == "hybridized", in.mx_data);
    if (phase == "train") {
      step = [&] { mx->TrainStep(in.mx_data, in.mx_label); };
    } else if (phase == "fwdbwd") {
      step = [&] { mx->ForwardBackward(in.mx_data, in.mx_label); };
    } else {
      step = [&] { mx->Infer(in.mx_data); };
    }
  }
  TimeSteps(step, 2);  // warm-up (trace, bind)
  const double s = TimeSteps(step, steps);
  std::printf("%s, %s %s: %d steps, %.3f ms / step\n", w.name.c_str(), config.c_str(),
              phase.c_str(), steps, s * 1e3);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, scale = 1, workload = -1;
  std::string net = "all", stem = "cifar", profile, phase = "train";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--net" && has_value) {
      net = argv[++i];
    } else if (a == "--reps" && has_value) {
      reps = std::atoi(argv[++i]);
    } else if (a == "--steps-scale" && has_value) {
      scale = std::atoi(argv[++i]);
    } else if (a == "--resnet-stem" && has_value) {
      stem = argv[++i];
    } else if (a == "--profile" && has_value) {
      profile = argv[++i];
    } else if (a == "--phase" && has_value) {
      phase = argv[++i];
    } else if (a == "--workload" && has_value) {
      workload = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--net lenet|resnet|all] [--reps R] [--steps-scale S] "
                   "[--resnet-stem cifar|imagenet] [--profile eager|hybridized|torch --phase "
                   "train|infer|fwdbwd --workload 0|1|2]\n",
                   argv[0]);
      return 2;
    }
  }
  if (reps < 1 || scale < 1 || (stem != "cifar" && stem != "imagenet")) {
    std::fprintf(stderr, "need --reps >= 1, --steps-scale >= 1, --resnet-stem cifar|imagenet\n");
    return 2;
  }
  const int threads = MatchTorchThreads();
  mixnet::op::SeedRandom(0);

  const auto lenet = [&](int64_t batch, int steps) {
    return Workload{
        "LeNet, batch " + std::to_string(batch), {batch, 1, 28, 28}, steps * scale, GluonLeNet, [] {
          torch::nn::Sequential seq = TorchLeNetSeq();
          return TorchNet{seq.ptr(),
                          [seq](const torch::Tensor& x) mutable { return seq->forward(x); }};
        }};
  };
  const bool cifar = stem == "cifar";
  const std::vector<Workload> workloads = {
      lenet(1, 100), lenet(128, 10),
      Workload{
          std::string("ResNet-18 v1 (") + (cifar ? "CIFAR 3x3 stem" : "ImageNet stem") +
              "), batch 64",
          {64, 3, 32, 32},
          (cifar ? 1 : 4) * scale,
          [cifar] { return vision::GetModel("resnet18_v1", {.classes = 10, .thumbnail = cifar}); },
          [cifar] {
            auto m = std::make_shared<TorchResNet18V1>(10, cifar);
            return TorchNet{m, [m](const torch::Tensor& x) { return m->forward(x); }};
          }}};

  if (!profile.empty()) {
    const bool phase_ok =
        phase == "train" || phase == "infer" || (phase == "fwdbwd" && profile != "torch");
    if (workload < 0 || workload > 2 || !phase_ok ||
        (profile != "eager" && profile != "hybridized" && profile != "torch")) {
      std::fprintf(stderr,
                   "--profile needs eager|hybridized|torch, --phase train|infer|fwdbwd (fwdbwd: "
                   "mixnet only) and --workload 0|1|2\n");
      return 2;
    }
    return Profile(workloads[static_cast<size_t>(workload)], profile, phase,
                   reps * workloads[static_cast<size_t>(workload)].steps);
  }

  std::printf("Gluon: hybridized vs eager mixnet, and vs PyTorch %s (libtorch, eager)\n\n",
              TORCH_VERSION);
  std::vector<Result> results;
  for (size_t i = 0; i < workloads.size(); ++i) {
    const bool is_lenet = i < 2;
    if (net == "all" || (net == "lenet") == is_lenet) {
      results.push_back(RunWorkload(workloads[i], reps, threads));
    }
  }
  // Within 2% is within the noise of a shared machine.
  const auto verdict = [](double ratio) {
    return ratio > 1.02 ? "faster than" : ratio >= 0.98 ? "on par with" : "NOT faster than";
  };
  std::printf("== goals\n");
  for (const Result& r : results) {
    std::printf(
        "%s: hybridized training %s torch (%.2fx), inference %s torch (%.2fx); hybridized / "
        "eager: training %.2fx, inference %.2fx",
        r.name.c_str(), verdict(r.train.hybrid_vs_torch), r.train.hybrid_vs_torch,
        verdict(r.infer.hybrid_vs_torch), r.infer.hybrid_vs_torch, r.train.hybrid_vs_eager,
        r.infer.hybrid_vs_eager);
    if (r.latency) {
      const auto met = [](double x) { return x >= 1.3 ? "met" : "NOT met"; };
      std::printf(
          ", inference latency %.2fx (goal at batch 1: >= 1.3x; training %s, inference "
          "throughput %s, latency %s)",
          r.latency->hybrid_vs_eager, met(r.train.hybrid_vs_eager), met(r.infer.hybrid_vs_eager),
          met(r.latency->hybrid_vs_eager));
    }
    std::printf("\n");
  }
  return 0;
}
