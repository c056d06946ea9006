// Training throughput, mixnet vs PyTorch (libtorch, C++), side by side in one process: the
// same LeNet (examples/models.h; conv 5x5x20, pool, conv 5x5x50, pool, FC 500, FC 10) trained
// on Fashion-MNIST batches with forward + backward + an SGD-momentum step.
//
// Both use the same number of threads (mixnet's OpenMP team, OMP_NUM_THREADS, default all
// cores; torch::set_num_threads to match). They run in alternating timed batches of `steps`
// training steps (mixnet: asynchronous pushes, at most one step ahead as in the examples'
// loop, then a wait), so a burst of load on a shared
// machine hits both; reported are the median seconds per step of each, the samples/s they
// give, and the median of the per-batch ratios mixnet samples/s / torch samples/s
// (above 1: mixnet is faster).
//
//   train_vs_torch [--reps R (7)] [--steps S (10)] [--batch-size B (128)] [--act relu|tanh]
//                  [--data-dir DIR]   (synthetic images when the dataset is not there)
//                  [--breakdown]      (also time the forward and forward + backward alone)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "fashion_mnist.h"
#include "mixnet/engine/engine.h"
#include "mixnet/op/random.h"
#include "mixnet/optimizer/optimizer.h"
#include "models.h"
#include "torch_peer.h"

namespace {

using Clock = std::chrono::steady_clock;
using mixnet::NDArray;
namespace autograd = mixnet::autograd;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/*! \brief The same LeNet in libtorch. */
struct TorchLeNet : torch::nn::Module {
  explicit TorchLeNet(bool tanh) : tanh_(tanh) {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 20, 5)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(20, 50, 5)));
    fc1 = register_module("fc1", torch::nn::Linear(800, 500));
    fc2 = register_module("fc2", torch::nn::Linear(500, 10));
  }
  torch::Tensor Act(const torch::Tensor& x) const {
    return tanh_ ? torch::tanh(x) : torch::relu(x);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::max_pool2d(Act(conv1->forward(x)), 2, 2);
    h = torch::max_pool2d(Act(conv2->forward(h)), 2, 2);
    h = Act(fc1->forward(h.flatten(1)));
    return fc2->forward(h);
  }
  bool tanh_;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};

struct Batch {
  NDArray mx_data, mx_label;
  torch::Tensor th_data, th_label;
};

/*! \brief `count` batches of real data (the first images of the training set) or noise. */
std::vector<Batch> MakeBatches(const std::string& dir, int64_t batch, int count, bool* real) {
  std::vector<Batch> out;
  try {
    const fashion_mnist::Dataset d = fashion_mnist::Load(dir, "train");
    fashion_mnist::BatchIter it(d, batch, /*shuffle=*/true, 42, /*drop_last=*/true);
    it.Reset();
    for (int i = 0; i < count && it.Next(); ++i) {
      Batch b{it.data(), it.label(), {}, {}};
      b.th_data = torch::empty({batch, 1, 28, 28});
      b.th_label = torch::empty({batch});
      it.data().SyncCopyToHost(b.th_data.data_ptr<float>(), static_cast<size_t>(b.th_data.numel()));
      it.label().SyncCopyToHost(b.th_label.data_ptr<float>(), static_cast<size_t>(batch));
      b.th_label = b.th_label.to(torch::kLong);
      out.push_back(b);
    }
    *real = true;
    return out;
  } catch (const std::exception& e) {
    std::printf("(%s: using synthetic data)\n", e.what());
  }
  *real = false;
  for (int i = 0; i < count; ++i) {
    Batch b;
    b.th_data = torch::rand({batch, 1, 28, 28});
    auto label = torch::randint(0, 10, {batch}).to(torch::kFloat32);
    b.mx_data =
        NDArray::FromHost(b.th_data.data_ptr<float>(), {batch, 1, 28, 28}, mixnet::DType::kFloat32);
    b.mx_label = NDArray::FromHost(label.data_ptr<float>(), {batch}, mixnet::DType::kFloat32);
    b.th_label = label.to(torch::kLong);
    out.push_back(b);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, steps = 10;
  int64_t batch = 128;
  bool breakdown = false;
  std::string act = "relu", dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (a == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (a == "--batch-size" && i + 1 < argc) {
      batch = std::atol(argv[++i]);
    } else if (a == "--act" && i + 1 < argc) {
      act = argv[++i];
    } else if (a == "--data-dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--breakdown") {
      breakdown = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--reps R] [--steps S] [--batch-size B] [--act relu|tanh] "
                   "[--data-dir DIR] [--breakdown]\n",
                   argv[0]);
      return 2;
    }
  }
  const int threads = MatchTorchThreads();
  mixnet::op::SeedRandom(0);

  bool real = false;
  const std::vector<Batch> batches = MakeBatches(dir, batch, 16, &real);
  const double lr = 0.05, momentum = 0.9, wd = 1e-4;  // torch's; mixnet's kwargs below

  // mixnet: the training step of examples/train_loop.h.
  models::LeNet mx_net(act);
  mx_net.params.Init(mixnet::init::Xavier("uniform", "avg", 3));
  mx_net.params.AttachGrads();
  char rescale[32];
  std::snprintf(rescale, sizeof(rescale), "%.9g", 1.0 / static_cast<double>(batch));
  auto opt = mixnet::optimizer::CreateOptimizer(
      "sgd",
      {{"learning_rate", "0.05"}, {"momentum", "0.9"}, {"wd", "1e-4"}, {"rescale_grad", rescale}});
  std::vector<int> indices(mx_net.params.arrays.size());
  std::iota(indices.begin(), indices.end(), 0);
  NDArray mx_loss;
  size_t mx_next = 0;
  const auto mx_step = [&] {
    const Batch& b = batches[mx_next++ % batches.size()];
    const NDArray prev_loss = mx_loss;
    {
      autograd::RecordScope record;
      mx_loss = mixnet::op::softmax_cross_entropy(mx_net.Forward(b.mx_data), b.mx_label);
    }
    autograd::Backward({mx_loss});
    opt->Update(indices, mx_net.params.arrays, mx_net.params.grads);
    if (!prev_loss.is_none()) prev_loss.WaitToRead();  // one step in flight, as train_loop.h
  };

  // torch: the same step.
  TorchLeNet th_net(act == "tanh");
  torch::optim::SGD th_opt(th_net.parameters(),
                           torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(wd));
  torch::Tensor th_loss;
  size_t th_next = 0;
  const auto th_step = [&] {
    const Batch& b = batches[th_next++ % batches.size()];
    th_opt.zero_grad();
    th_loss = torch::nn::functional::cross_entropy(th_net.forward(b.th_data), b.th_label);
    th_loss.backward();
    th_opt.step();
  };

  const auto timed = [&](const std::function<void()>& step, bool mixnet_side) {
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i)
      step();
    if (mixnet_side) mixnet::Engine::Get()->WaitForAll();
    return std::chrono::duration<double>(Clock::now() - t0).count() / steps;
  };
  struct Timing {
    double mixnet, torch, ratio;  // seconds per step; ratio = mixnet samples/s / torch's
  };
  const auto compare = [&](const std::function<void()>& mx, const std::function<void()>& th) {
    timed(mx, true);  // warm-up: allocations, oneDNN primitives, caches
    timed(th, false);
    std::vector<double> tm, tt, ratio;
    for (int r = 0; r < reps; ++r) {
      tm.push_back(timed(mx, true));
      tt.push_back(timed(th, false));
      ratio.push_back(tt.back() / tm.back());
    }
    return Timing{Median(tm), Median(tt), Median(ratio)};
  };

  const Timing step = compare(mx_step, th_step);
  std::printf(
      "LeNet (%s) training step (forward + backward + SGD momentum), batch %ld, %s data; "
      "%d threads each; torch %s; median of %d batches of %d steps\n\n",
      act.c_str(), static_cast<long>(batch), real ? "Fashion-MNIST" : "synthetic", threads,
      TORCH_VERSION, reps, steps);
  std::printf("| | ms / step | samples/s | loss after %d steps |\n|---|---:|---:|---:|\n",
              (reps + 1) * steps);
  std::printf("| mixnet | %.2f | %.0f | %.4f |\n", step.mixnet * 1e3,
              static_cast<double>(batch) / step.mixnet,
              mx_loss.ToVector<float>()[0] / static_cast<double>(batch));
  std::printf("| torch  | %.2f | %.0f | %.4f |\n", step.torch * 1e3,
              static_cast<double>(batch) / step.torch, th_loss.item<float>());
  std::printf("\nmixnet / torch throughput: %.2fx (median of per-batch ratios)\n", step.ratio);
  std::fflush(stdout);
  if (!breakdown) return 0;

  // Where the step's time goes: the forward alone (no recording / no_grad), then forward +
  // backward without the update, timed the same way.
  const auto mx_forward = [&] {
    const Batch& b = batches[mx_next++ % batches.size()];
    const NDArray prev = mx_loss;
    mx_loss = mixnet::op::softmax_cross_entropy(mx_net.Forward(b.mx_data), b.mx_label);
    if (!prev.is_none()) prev.WaitToRead();
  };
  const auto th_forward = [&] {
    torch::NoGradGuard no_grad;
    const Batch& b = batches[th_next++ % batches.size()];
    th_loss = torch::nn::functional::cross_entropy(th_net.forward(b.th_data), b.th_label);
  };
  const auto mx_fwd_bwd = [&] {
    const Batch& b = batches[mx_next++ % batches.size()];
    {
      autograd::RecordScope record;
      mx_loss = mixnet::op::softmax_cross_entropy(mx_net.Forward(b.mx_data), b.mx_label);
    }
    // Without an update, the next forward does not wait for this backward, so waiting for
    // the loss would not bound the run-ahead: wait for the previous backward's last gradient.
    mx_net.params.grads[0].WaitToRead();
    autograd::Backward({mx_loss});
  };
  const auto th_fwd_bwd = [&] {
    const Batch& b = batches[th_next++ % batches.size()];
    th_opt.zero_grad();
    th_loss = torch::nn::functional::cross_entropy(th_net.forward(b.th_data), b.th_label);
    th_loss.backward();
  };
  const Timing fwd = compare(mx_forward, th_forward);
  const Timing fwd_bwd = compare(mx_fwd_bwd, th_fwd_bwd);
  std::printf(
      "\n| phase | mixnet ms | torch ms | mixnet / torch throughput |\n|---|---:|---:|---:|\n");
  const auto row = [](const char* name, const Timing& t) {
    std::printf("| %s | %.2f | %.2f | %.2fx |\n", name, t.mixnet * 1e3, t.torch * 1e3, t.ratio);
  };
  row("forward (+ loss)", fwd);
  row("forward + backward", fwd_bwd);
  row("full step (with update)", step);
  return 0;
}
