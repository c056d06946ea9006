// Trains train_lenet's LeNet on Fashion-MNIST the symbolic way, as MXNet 1.x scripts did: the
// network is a Symbol, mod::Module::Fit trains it through io::NDArrayIter, printing MXNet's
// per-epoch lines (Epoch[0] Train-accuracy=..., Time cost=..., Validation-accuracy=...).
//
//   build/examples/train_lenet_module [--epochs N] [--lr LR] [--optimizer sgd|adam] ...
//
// The same hyper-parameters as train_lenet: batch 128, pixels / 255, shuffled each epoch with a
// fixed seed (the incomplete last batch dropped), SGD momentum 0.9, lr 0.05 cosine-annealed to
// 0, wd 1e-4 (not on biases), Xavier uniform weights and zero biases, relu, 8 epochs.
#include <chrono>
#include <cstdio>
#include <exception>

#include "mixnet/io/data_iter.h"
#include "mixnet/module/module.h"
#include "train_loop.h"

namespace {

namespace sym = mixnet::sym;
using mixnet::NDArray;

/*! \brief models::LeNet as a symbol, with the same parameter names. */
sym::Symbol LeNetSymbol(const std::string& act) {
  auto conv = [](const sym::Symbol& x, const char* filters, const char* name) {
    return sym::Symbol::Create("Convolution", {x}, {{"kernel", "(5, 5)"}, {"num_filter", filters}},
                               name);
  };
  auto relu = [&](const sym::Symbol& x) {
    return sym::Symbol::Create("Activation", {x}, {{"act_type", act}});
  };
  auto pool = [](const sym::Symbol& x) {
    return sym::Symbol::Create("Pooling", {x},
                               {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}});
  };
  sym::Symbol h = sym::Symbol::Variable("data");
  h = pool(relu(conv(h, "20", "conv1")));
  h = pool(relu(conv(h, "50", "conv2")));
  h = sym::Symbol::Create("Flatten", {h});
  h = relu(sym::Symbol::Create("FullyConnected", {h}, {{"num_hidden", "500"}}, "fc1"));
  h = sym::Symbol::Create("FullyConnected", {h}, {{"num_hidden", "10"}}, "fc2");
  return sym::Symbol::Create("SoftmaxOutput", {h}, {}, "softmax");
}

/*! \brief A dataset as whole arrays: images (N, 1, rows, cols) and labels (N,). */
mixnet::io::NDArrayIter::Named Images(const fashion_mnist::Dataset& d) {
  return {{"data", NDArray::FromHost(d.images.data(), {d.num, 1, d.rows, d.cols},
                                     mixnet::DType::kFloat32)}};
}
mixnet::io::NDArrayIter::Named Labels(const fashion_mnist::Dataset& d) {
  return {{"softmax_label", NDArray::FromHost(d.labels.data(), {d.num}, mixnet::DType::kFloat32)}};
}

int Run(const train::Options& o) {
  using Clock = std::chrono::steady_clock;
  namespace io = mixnet::io;
  const auto t_load = Clock::now();
  const fashion_mnist::Dataset train = fashion_mnist::Load(o.data_dir, "train");
  const fashion_mnist::Dataset test = fashion_mnist::Load(o.data_dir, "t10k");
  io::NDArrayIter train_it(Images(train), Labels(train), static_cast<int>(o.batch_size),
                           /*shuffle=*/true, io::LastBatch::kDiscard, o.seed);
  io::NDArrayIter test_it(Images(test), Labels(test),
                          static_cast<int>(o.batch_size));  // padded; Score drops the pad

  const sym::Symbol net = LeNetSymbol(o.act);
  const auto shapes = net.InferShape({{"data", train_it.provide_data()[0].shape}});
  const auto args = net.ListArguments();
  int64_t count = 0;  // parameters: every argument but the data and the label
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "data" && args[i] != "softmax_label") count += shapes.arg[i].Size();
  }
  train::PrintSetup(
      "LeNet symbol conv5x5x20-pool-conv5x5x50-pool-fc500-fc10 (" + o.act + "), Module.Fit", count,
      train, test, std::chrono::duration<double>(Clock::now() - t_load).count(), o);

  mixnet::mod::Module mod(net);
  mod.set_logger([](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  });
  mixnet::mod::FitOptions fit;
  fit.eval_data = &test_it;
  fit.eval_metric = "acc";
  // The module gives the optimizer its parameter names (wd_mult 0 for biases).
  fit.optimizer_object = train::MakeOptimizer(o, o.epochs * (train.num / o.batch_size));
  fit.initializer = std::make_shared<mixnet::init::Xavier>("uniform", "avg", 3);
  mixnet::op::SeedRandom(o.seed);
  fit.num_epoch = o.epochs;
  const auto t0 = Clock::now();
  mod.Fit(train_it, fit);
  const double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto acc = mixnet::metric::CreateMetric("acc");
  const double test_acc = mod.Score(test_it, *acc)[0].second;
  std::printf("trained %d epochs in %.1f s\n", o.epochs, total_s);
  std::printf("final test accuracy: %.4f\n", test_acc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  train::Options defaults;
  defaults.epochs = 8;
  const train::Options o = train::ParseArgs(argc, argv, defaults);
  try {
    return Run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_lenet_module: %s\n", e.what());
    return 1;
  }
}
