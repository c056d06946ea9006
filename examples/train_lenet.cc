// Trains MXNet's classic LeNet on Fashion-MNIST, imperatively: autograd + optimizer on NDArray
// ops, batch 128, pixels / 255, shuffled each epoch with a fixed seed.
//
//   build/examples/train_lenet [--epochs N] [--lr LR] [--optimizer sgd|adam] [--data-dir DIR] ...
//
// Defaults: SGD momentum 0.9, lr 0.05 cosine-annealed to 0, wd 1e-4 (not on biases), relu,
// 8 epochs; see the commit message for the accuracy and time measured.
#include <cstdio>
#include <exception>

#include "train_loop.h"

int main(int argc, char** argv) {
  train::Options defaults;
  defaults.epochs = 8;
  const train::Options o = train::ParseArgs(argc, argv, defaults);
  try {
    models::LeNet net(o.act);
    return train::Run(net, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_lenet: %s\n", e.what());
    return 1;
  }
}
