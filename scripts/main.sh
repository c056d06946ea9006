#!/usr/bin/env bash
# The main job: install, build, run. For now: the NDArray + engine demo (Fashion-MNIST
# training arrives with the operator library).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh >/dev/null
bash scripts/build.sh
source scripts/cpu_env.sh
exec build/examples/ndarray_engine_demo "$@"
