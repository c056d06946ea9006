// Trains a 784-256-128-10 MLP on Fashion-MNIST, imperatively: autograd + optimizer on NDArray
// ops, batch 128, pixels / 255, shuffled each epoch with a fixed seed.
//
//   build/examples/train_mlp [--epochs N] [--lr LR] [--optimizer sgd|adam] [--data-dir DIR] ...
#include <cstdio>
#include <exception>

#include "train_loop.h"

int main(int argc, char** argv) {
  train::Options defaults;
  defaults.epochs = 10;
  const train::Options o = train::ParseArgs(argc, argv, defaults);
  try {
    models::MLP net(o.act);
    return train::Run(net, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_mlp: %s\n", e.what());
    return 1;
  }
}
