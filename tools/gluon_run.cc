// mixnet_gluon_run: Gluon checkpoints between MXNet 1.9.1 and mixnet, for the interoperability
// tests.
//   mixnet_gluon_run imports SYMBOL.json PARAMS INPUTS.params OUT.params [GRADS.params]
//       SymbolBlock::Imports with the inputs named in INPUTS (a dict: name -> array), runs it
//       hybridized on them and writes the outputs as a list. With GRADS: also records the call
//       and runs backward from the sum of the first output; writes every parameter's gradient
//       (grad_req write) under its name.
//   mixnet_gluon_run export PREFIX INPUTS.params OUT.params
//       Builds the test network of test_mxnet_gluon.py (Conv2D, BatchNorm, relu, MaxPool2D,
//       Flatten, Dense(8, tanh), Dense(3)) with Xavier weights, runs it hybridized on INPUTS'
//       "data", writes the output as a list and exports PREFIX-symbol.json + PREFIX-0000.params.
// Errors go to stderr with exit code 1.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/gluon/block.h"
#include "mixnet/gluon/nn.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/invoke.h"

namespace {

using mixnet::NDArray;

int Imports(int argc, char** argv) {
  const mixnet::NDArrayList in = mixnet::LoadNDArrays(argv[4]);
  auto block = mixnet::gluon::SymbolBlock::Imports(argv[2], in.names, argv[3]);
  block->Hybridize();
  std::vector<NDArray> outputs = (*block)(in.arrays);
  mixnet::SaveNDArrays(argv[5], outputs);
  if (argc > 6) {
    {
      mixnet::autograd::RecordScope record;
      outputs = (*block)(in.arrays);
      const NDArray loss = mixnet::op::Invoke("sum", {outputs[0]})[0];
      mixnet::autograd::Backward({loss});
    }
    std::vector<NDArray> grads;
    std::vector<std::string> names;
    for (const auto& [name, p] : block->CollectParams()) {
      if (p->grad_req() == mixnet::autograd::GradReq::kNull) continue;
      grads.push_back(p->grad());
      names.push_back(name);
    }
    mixnet::SaveNDArrays(argv[6], grads, names);
  }
  return 0;
}

int Export(char** argv) {
  namespace nn = mixnet::gluon::nn;
  const mixnet::NDArrayList in = mixnet::LoadNDArrays(argv[3]);
  auto net = std::make_shared<nn::HybridSequential>();
  {
    mixnet::gluon::BlockScope scope(net.get());
    net->Add({std::make_shared<nn::Conv2D>(4, std::vector<int>{3}, nn::ConvOptions{.padding = {1}}),
              std::make_shared<nn::BatchNorm>(), std::make_shared<nn::Activation>("relu"),
              std::make_shared<nn::MaxPool2D>(), std::make_shared<nn::Flatten>(),
              std::make_shared<nn::Dense>(8, nn::DenseOptions{.activation = "tanh"}),
              std::make_shared<nn::Dense>(3)});
  }
  net->Initialize(std::make_shared<mixnet::init::Xavier>());
  net->Hybridize();
  const NDArray out = (*net)(in.arrays.at(0));
  mixnet::SaveNDArrays(argv[4], std::vector<NDArray>{out});
  net->Export(argv[2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "imports" && (argc == 6 || argc == 7)) return Imports(argc, argv);
    if (mode == "export" && argc == 5) return Export(argv);
    std::fprintf(stderr,
                 "usage: mixnet_gluon_run imports SYMBOL.json PARAMS INPUTS.params OUT.params "
                 "[GRADS.params]\n       mixnet_gluon_run export PREFIX INPUTS.params "
                 "OUT.params\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
