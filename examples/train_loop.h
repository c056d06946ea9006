// The imperative training loop shared by train_mlp and train_lenet: autograd records the
// forward pass, Backward fills the gradients, the optimizer updates the weights in place.
// Everything is pushed asynchronously; each step's loss and correct-prediction count are read
// (for the progress bar) after the next step is pushed, so the loop waits for step i - 1 after
// pushing step i:
// the engine stays busy while the next step is pushed, and memory stays bounded (an engine
// left to run a whole epoch ahead would hold every queued step's arrays at once).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "fashion_mnist.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/engine/engine.h"
#include "mixnet/initializer/initializer.h"
#include "mixnet/op/ops.h"
#include "mixnet/op/random.h"
#include "mixnet/optimizer/optimizer.h"
#include "mixnet/viz/progress_bar.h"
#include "models.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace train {

using mixnet::NDArray;
namespace op = mixnet::op;
namespace autograd = mixnet::autograd;

struct Options {
  int epochs = 10;
  int64_t batch_size = 128;
  std::string optimizer = "sgd";
  double lr = 0.05;
  double momentum = 0.9;
  double wd = 1e-4;
  std::string lr_schedule = "cosine";  // or "none"
  std::string act = "relu";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  uint64_t seed = 42;
};

inline void Usage(const char* prog, const Options& d) {
  std::fprintf(
      stderr,
      "usage: %s [--epochs N (%d)] [--batch-size B (%ld)] [--optimizer sgd|adam (%s)]\n"
      "          [--lr LR (%g)] [--momentum M (%g)] [--wd WD (%g)] [--act relu|tanh (%s)]\n"
      "          [--data-dir DIR (%s)] [--seed S (%lu)]\n"
      "Threads: OMP_NUM_THREADS (default: all cores).\n",
      prog, d.epochs, static_cast<long>(d.batch_size), d.optimizer.c_str(), d.lr, d.momentum, d.wd,
      d.act.c_str(), d.data_dir.c_str(), static_cast<unsigned long>(d.seed));
}

/*! \brief Parses argv over `defaults`; exits with usage on a bad or unknown option. */
inline Options ParseArgs(int argc, char** argv, Options o) {
  const Options defaults = o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      Usage(argv[0], defaults);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      Usage(argv[0], defaults);
      std::exit(2);
    }
    const char* v = argv[++i];
    if (a == "--epochs") {
      o.epochs = std::atoi(v);
    } else if (a == "--batch-size") {
      o.batch_size = std::atol(v);
    } else if (a == "--optimizer") {
      o.optimizer = v;
    } else if (a == "--lr") {
      o.lr = std::atof(v);
    } else if (a == "--lr-schedule") {
      o.lr_schedule = v;
    } else if (a == "--momentum") {
      o.momentum = std::atof(v);
    } else if (a == "--wd") {
      o.wd = std::atof(v);
    } else if (a == "--act") {
      o.act = v;
    } else if (a == "--data-dir") {
      o.data_dir = v;
    } else if (a == "--seed") {
      o.seed = std::strtoull(v, nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      Usage(argv[0], defaults);
      std::exit(2);
    }
  }
  if (o.epochs < 1 || o.batch_size < 1 || !(o.lr > 0) ||
      (o.lr_schedule != "cosine" && o.lr_schedule != "none")) {
    std::fprintf(stderr,
                 "need --epochs >= 1, --batch-size >= 1, --lr > 0, --lr-schedule cosine|none\n");
    std::exit(2);
  }
  return o;
}

/*! \brief A double as an attribute string, without std::to_string's fixed 6 decimals. */
inline std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

/*!
 * \brief MXNet-style optimizer kwargs (gradients are of the batch's summed loss, hence
 * rescale_grad), with the rate annealed to 0 over the run by a cosine schedule unless "none".
 * Parameter names (for wd_mult: no decay on biases) are the caller's to set.
 */
inline std::unique_ptr<mixnet::optimizer::Optimizer> MakeOptimizer(const Options& o,
                                                                   int64_t total_updates) {
  op::AttrDict kw{{"learning_rate", Num(o.lr)},
                  {"wd", Num(o.wd)},
                  {"rescale_grad", Num(1.0 / static_cast<double>(o.batch_size))}};
  if (o.optimizer == "sgd") kw.emplace_back("momentum", Num(o.momentum));
  auto opt = mixnet::optimizer::CreateOptimizer(o.optimizer, kw);
  if (o.lr_schedule == "cosine") {
    opt->SetLRScheduler(std::make_shared<mixnet::CosineScheduler>(total_updates, o.lr, 0.0));
  }
  return opt;
}

inline std::unique_ptr<mixnet::optimizer::Optimizer> MakeOptimizer(const Options& o,
                                                                   const models::Params& p,
                                                                   int64_t total_updates) {
  auto opt = MakeOptimizer(o, total_updates);
  std::map<int, std::string> names;
  for (size_t i = 0; i < p.names.size(); ++i)
    names[static_cast<int>(i)] = p.names[i];
  opt->SetParamNames(names);  // MXNet's rule by name: biases get no weight decay
  return opt;
}

/*! \brief Number of correct predictions in the batch, as a (1,) array (stays on the device). */
inline NDArray CountCorrect(const NDArray& logits, const NDArray& label) {
  return op::sum(op::broadcast_equal(op::argmax(logits, {.axis = 1}), label));
}

/*! \brief Accuracy on `it`'s data of `forward` (images -> logits; no recording). */
template <typename Forward>
double Evaluate(Forward&& forward, fashion_mnist::BatchIter& it) {
  NDArray correct = NDArray::Zeros({1});
  int64_t n = 0;
  for (it.Reset(); it.Next();) {
    const NDArray prev = correct;
    correct = op::elemwise_add(correct, CountCorrect(forward(it.data()), it.label()));
    n += it.label().Size();
    prev.WaitToRead();  // one batch in flight (see the top of this file)
  }
  return static_cast<double>(correct.ToVector<float>()[0]) / static_cast<double>(n);
}

/*! \brief The opening lines: the model, the data and the hyper-parameters. */
inline void PrintSetup(const std::string& model, int64_t num_params,
                       const fashion_mnist::Dataset& train, const fashion_mnist::Dataset& test,
                       double load_s, const Options& o) {
  int threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  std::printf("%s, %ld parameters\n", model.c_str(), static_cast<long>(num_params));
  std::printf("data: %ld train / %ld test images from %s (%.1f s)\n", static_cast<long>(train.num),
              static_cast<long>(test.num), o.data_dir.c_str(), load_s);
  char momentum[32] = "";
  if (o.optimizer == "sgd") std::snprintf(momentum, sizeof(momentum), " momentum %g", o.momentum);
  std::printf("%s lr %g (%s)%s wd %g, batch %ld, %d epochs, %d threads, seed %lu\n",
              o.optimizer.c_str(), o.lr, o.lr_schedule.c_str(), momentum, o.wd,
              static_cast<long>(o.batch_size), o.epochs, threads,
              static_cast<unsigned long>(o.seed));
  std::fflush(stdout);
}

/*!
 * \brief An epoch's running loss and accuracy, shown on a viz::ProgressBar. Each step's summed
 * loss and correct count stay on the device and are read one step later, once the next step is
 * queued: the engine stays busy while Python or C++ pushes the next step, and reading them is
 * also the wait that keeps at most one step in flight (see the top of this file).
 */
class EpochMeter {
 public:
  EpochMeter(int epoch, int epochs, int64_t steps, int64_t batch_size)
      : bar_(steps, {.prefix = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs)}),
        batch_(batch_size) {}
  /*! \brief Queues this step's (1,) loss sum and correct count; reads the previous step's. */
  void Push(NDArray loss_sum, NDArray correct) {
    if (!loss_.is_none()) Take();
    loss_ = std::move(loss_sum);
    correct_ = std::move(correct);
  }
  /*! \brief Reads the last step and ends the bar's line. */
  void Finish() {
    if (!loss_.is_none()) Take();
    loss_ = correct_ = NDArray();
    bar_.Finish();
  }
  int64_t samples() const { return steps_ * batch_; }
  double loss() const { return loss_sum_ / static_cast<double>(samples()); }
  double acc() const { return correct_sum_ / static_cast<double>(samples()); }

 private:
  void Take() {
    loss_sum_ += loss_.ToVector<float>()[0];
    correct_sum_ += correct_.ToVector<float>()[0];
    ++steps_;
    bar_.Update(steps_, samples(), {{"loss", loss()}, {"acc", acc()}});
  }

  mixnet::viz::ProgressBar bar_;
  int64_t batch_, steps_ = 0;
  double loss_sum_ = 0, correct_sum_ = 0;
  NDArray loss_, correct_;
};

inline int Run(models::Model& model, const Options& o) {
  using Clock = std::chrono::steady_clock;
  const auto t_load = Clock::now();
  const fashion_mnist::Dataset train = fashion_mnist::Load(o.data_dir, "train");
  const fashion_mnist::Dataset test = fashion_mnist::Load(o.data_dir, "t10k");
  PrintSetup(model.Describe(), model.params.Count(), train, test,
             std::chrono::duration<double>(Clock::now() - t_load).count(), o);

  mixnet::op::SeedRandom(o.seed);
  model.params.Init(mixnet::init::Xavier("uniform", "avg", 3));
  model.params.AttachGrads();
  fashion_mnist::BatchIter train_it(train, o.batch_size, /*shuffle=*/true, o.seed,
                                    /*drop_last=*/true);
  auto opt = MakeOptimizer(o, model.params, o.epochs * train_it.batches_per_epoch());
  std::vector<int> indices(model.params.arrays.size());
  std::iota(indices.begin(), indices.end(), 0);

  fashion_mnist::BatchIter test_it(test, o.batch_size, /*shuffle=*/false, 0, /*drop_last=*/false);
  double test_acc = 0, total_s = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = Clock::now();
    EpochMeter meter(epoch, o.epochs, train_it.batches_per_epoch(), o.batch_size);
    for (train_it.Reset(); train_it.Next();) {
      NDArray logits, loss;
      {
        autograd::RecordScope record;
        logits = model.Forward(train_it.data());
        loss = op::softmax_cross_entropy(logits, train_it.label());
      }
      autograd::Backward({loss});
      opt->Update(indices, model.params.arrays, model.params.grads);
      meter.Push(loss, CountCorrect(logits, train_it.label()));
    }
    meter.Finish();
    const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
    test_acc = Evaluate([&](const NDArray& x) { return model.Forward(x); }, test_it);
    const double epoch_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf(
        "epoch %d/%d: train loss %.4f, train acc %.4f, test acc %.4f, %.1f s, %.0f samples/s\n",
        epoch, o.epochs, meter.loss(), meter.acc(), test_acc, epoch_s,
        static_cast<double>(meter.samples()) / train_s);
    std::fflush(stdout);
    total_s += epoch_s;
  }
  std::printf("trained %d epochs in %.1f s\n", o.epochs, total_s);
  std::printf("final test accuracy: %.4f\n", test_acc);
  return 0;
}

}  // namespace train
