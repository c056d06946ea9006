// Trains a Gluon network on Fashion-MNIST, written as one would in Python's mx.gluon: the model
// is a HybridBlock (hybridized by default, so each input shape is traced once into a CachedOp),
// the loss gluon::loss::SoftmaxCrossEntropyLoss, the updates gluon::Trainer.
//
//   build/examples/train_gluon [--model lenet|resnet] [--hybridize 1|0] [--max-batches N]
//                              [--width W] [train_lenet's options: --epochs, --batch-size, --lr,
//                              --optimizer, --momentum, --wd, --lr-schedule, --data-dir, --seed]
//
// Models:
//   lenet:  a HybridSequential of MXNet's classic LeNet (examples/models.h's, with Gluon layers):
//           Conv2D 5x5x20 act, MaxPool2D, Conv2D 5x5x50 act, MaxPool2D, Dense 500 act, Dense 10
//           (act: --act relu|tanh)
//   resnet: the zoo's ResNetV1 of BasicBlockV1 blocks, thin for 28x28 images: a 3x3 stem of W
//           channels (thumbnail), three stages of two blocks with W, 2W, 4W channels (strides 1,
//           2, 2), global average pool, Dense 10. W = --width (16).
// Defaults as train_lenet (SGD momentum 0.9, lr 0.05 cosine-annealed to 0, wd 1e-4, batch 128,
// Xavier weights); Gluon's Trainer decays every parameter (biases too). --max-batches limits
// each training epoch to its first N batches (the test set is always evaluated whole).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "mixnet/gluon/loss.h"
#include "mixnet/gluon/model_zoo.h"
#include "mixnet/gluon/nn.h"
#include "mixnet/gluon/trainer.h"
#include "mixnet/optimizer/lr_scheduler.h"
#include "train_loop.h"

namespace {

namespace gluon = mixnet::gluon;
namespace nn = mixnet::gluon::nn;
namespace vision = mixnet::gluon::model_zoo::vision;
namespace op = mixnet::op;
namespace autograd = mixnet::autograd;
using mixnet::NDArray;
using Clock = std::chrono::steady_clock;

struct GluonOptions {
  std::string model = "lenet";
  bool hybridize = true;
  int64_t max_batches = 0;  // 0: whole epochs
  int width = 16;
};

/*! \brief Takes this example's own options out of argv; train::ParseArgs reads the rest. */
GluonOptions TakeGluonArgs(int* argc, char** argv) {
  GluonOptions g;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {  // train::ParseArgs then prints the shared options
      std::fprintf(stderr,
                   "train_gluon options: [--model lenet|resnet (lenet)] [--hybridize 1|0 (1)] "
                   "[--max-batches N (0: all)] [--width W (16)]\n");
    }
    const bool own = a == "--model" || a == "--hybridize" || a == "--max-batches" || a == "--width";
    if (!own || i + 1 >= *argc) {
      argv[kept++] = argv[i];
      continue;
    }
    const char* v = argv[++i];
    if (a == "--model") {
      g.model = v;
    } else if (a == "--hybridize") {
      g.hybridize = std::atoi(v) != 0;
    } else if (a == "--max-batches") {
      g.max_batches = std::atol(v);
    } else {
      g.width = std::atoi(v);
    }
  }
  *argc = kept;
  if ((g.model != "lenet" && g.model != "resnet") || g.max_batches < 0 || g.width < 1) {
    std::fprintf(stderr,
                 "train_gluon: need --model lenet|resnet, --hybridize 1|0, --max-batches >= 0 "
                 "and --width >= 1 (plus train_lenet's options; --help lists them)\n");
    std::exit(2);
  }
  return g;
}

std::shared_ptr<gluon::HybridBlock> MakeLeNet(const std::string& act) {
  auto net = std::make_shared<nn::HybridSequential>();
  gluon::BlockScope scope(net.get());
  net->Add(
      {std::make_shared<nn::Conv2D>(20, std::vector<int>{5}, nn::ConvOptions{.activation = act}),
       std::make_shared<nn::MaxPool2D>(),
       std::make_shared<nn::Conv2D>(50, std::vector<int>{5}, nn::ConvOptions{.activation = act}),
       std::make_shared<nn::MaxPool2D>(),
       std::make_shared<nn::Dense>(500, nn::DenseOptions{.activation = act}),
       std::make_shared<nn::Dense>(10)});
  return net;
}

std::shared_ptr<gluon::HybridBlock> MakeNet(const GluonOptions& g, const std::string& act) {
  if (g.model == "lenet") return MakeLeNet(act);
  const int w = g.width;
  return std::make_shared<vision::ResNetV1>(vision::ResidualBlock::kBasic,
                                            std::vector<int>{2, 2, 2},
                                            std::vector<int>{w, w, 2 * w, 4 * w}, /*classes=*/10,
                                            /*thumbnail=*/true);
}

std::string Describe(const GluonOptions& g, const std::string& act) {
  const std::string mode = g.hybridize ? "hybridized" : "eager";
  if (g.model == "lenet") return "Gluon LeNet (HybridSequential, " + act + ", " + mode + ")";
  return "Gluon ResNetV1 (BasicBlockV1 x 2/2/2, widths " + std::to_string(g.width) + "/" +
         std::to_string(2 * g.width) + "/" + std::to_string(4 * g.width) + ", " + mode + ")";
}

int64_t CountParams(const gluon::Block& net) {
  int64_t n = 0;
  for (const auto& [name, p] : net.CollectParams())
    n += p->shape().Size();
  return n;
}

/*! \brief Accuracy on `it`'s data: forward in predict mode, one batch in flight. */
double Evaluate(gluon::Block& net, fashion_mnist::BatchIter& it) {
  NDArray correct = NDArray::Zeros({1});
  int64_t n = 0;
  for (it.Reset(); it.Next();) {
    const NDArray prev = correct;
    correct = op::elemwise_add(correct, train::CountCorrect(net(it.data()), it.label()));
    n += it.label().Size();
    prev.WaitToRead();
  }
  return static_cast<double>(correct.ToVector<float>()[0]) / static_cast<double>(n);
}

int Run(const GluonOptions& g, const train::Options& o) {
  const auto t_load = Clock::now();
  const fashion_mnist::Dataset train_set = fashion_mnist::Load(o.data_dir, "train");
  const fashion_mnist::Dataset test_set = fashion_mnist::Load(o.data_dir, "t10k");
  const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();

  mixnet::op::SeedRandom(o.seed);
  std::shared_ptr<gluon::HybridBlock> net = MakeNet(g, o.act);
  net->Initialize(std::make_shared<mixnet::init::Xavier>("uniform", "avg", 3));
  // One eager call finishes the deferred initialisation (in_units, in_channels) before the
  // parameters are counted and handed to the Trainer; hybridizing afterwards traces once per
  // batch shape (training batches, and the test set's last partial batch).
  (*net)(NDArray::Zeros({1, 1, train_set.rows, train_set.cols}));
  if (g.hybridize) net->Hybridize();
  gluon::loss::SoftmaxCrossEntropyLoss loss_fn;
  if (g.hybridize) loss_fn.Hybridize();
  train::PrintSetup(Describe(g, o.act), CountParams(*net), train_set, test_set, load_s, o);

  fashion_mnist::BatchIter train_it(train_set, o.batch_size, /*shuffle=*/true, o.seed,
                                    /*drop_last=*/true);
  fashion_mnist::BatchIter test_it(test_set, o.batch_size, /*shuffle=*/false, 0,
                                   /*drop_last=*/false);
  int64_t steps_per_epoch = train_it.batches_per_epoch();
  if (g.max_batches > 0 && g.max_batches < steps_per_epoch) steps_per_epoch = g.max_batches;
  mixnet::op::AttrDict kw{{"learning_rate", train::Num(o.lr)}, {"wd", train::Num(o.wd)}};
  if (o.optimizer == "sgd") kw.emplace_back("momentum", train::Num(o.momentum));
  gluon::Trainer trainer(net->CollectParams(), o.optimizer, kw);
  if (o.lr_schedule == "cosine") {
    trainer.optimizer().SetLRScheduler(
        std::make_shared<mixnet::CosineScheduler>(o.epochs * steps_per_epoch, o.lr, 0.0));
  }

  double test_acc = 0, total_s = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = Clock::now();
    NDArray loss_sum = NDArray::Zeros({1}), correct = NDArray::Zeros({1});
    NDArray prev_loss;
    int64_t n = 0;
    train_it.Reset();
    for (int64_t step = 0; step < steps_per_epoch && train_it.Next(); ++step) {
      NDArray logits, loss;
      {
        autograd::RecordScope record;
        logits = (*net)(train_it.data());
        loss = loss_fn({logits, train_it.label()})[0];  // (batch,) per-sample losses
      }
      autograd::Backward({loss});
      trainer.Step(static_cast<int>(o.batch_size));  // gradients of the sum, / batch
      loss_sum = op::elemwise_add(loss_sum, op::sum(loss));
      correct = op::elemwise_add(correct, train::CountCorrect(logits, train_it.label()));
      n += o.batch_size;
      if (!prev_loss.is_none()) prev_loss.WaitToRead();  // one step in flight (train_loop.h)
      prev_loss = loss;
    }
    const train::EpochEnd end = train::ReportEpoch(epoch, loss_sum, correct, n, t0,
                                                   [&] { return Evaluate(*net, test_it); });
    test_acc = end.test_acc;
    total_s += end.seconds;
  }
  std::printf("trained %d epochs in %.1f s (%ld traces of the network)\n", o.epochs, total_s,
              static_cast<long>(net->num_traces()));
  std::printf("final test accuracy: %.4f\n", test_acc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const GluonOptions g = TakeGluonArgs(&argc, argv);
  train::Options defaults;
  defaults.epochs = g.model == "lenet" ? 8 : 1;
  const train::Options o = train::ParseArgs(argc, argv, defaults);
  try {
    return Run(g, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_gluon: %s\n", e.what());
    return 1;
  }
}
