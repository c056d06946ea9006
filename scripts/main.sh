#!/usr/bin/env bash
# The main job: install, build, then train LeNet on Fashion-MNIST (imperative autograd +
# SGD momentum; per-epoch progress, then "final test accuracy: ..."). Arguments go to
# train_lenet (--epochs, --lr, --batch-size, --optimizer, --data-dir, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh >/dev/null
bash scripts/build.sh
source scripts/cpu_env.sh
exec build/examples/train_lenet "$@"
