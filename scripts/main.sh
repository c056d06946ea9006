#!/usr/bin/env bash
# The main job: install, build, then train LeNet on Fashion-MNIST with the C++ Gluon API
# (examples/fashion_mnist.cc): a progress bar per epoch, a summary line per epoch, then
# "final test accuracy: ...", with the exported checkpoint (MXNet's -symbol.json + .params),
# the training curves (PNG) and the history (CSV) in output/. Arguments go to fashion_mnist
# (--model mlp|lenet|resnet, --epochs, --batch-size, --hybridize 1|0, --lr, --seed,
# --data-dir, --output-dir, --max-batches; --help lists them). The same job in Python:
# python -m mixnet.examples.fashion_mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh >/dev/null
bash scripts/build.sh
source scripts/cpu_env.sh
exec build/examples/fashion_mnist "$@"
