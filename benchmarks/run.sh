#!/usr/bin/env bash
# The benchmark suite: mixnet vs PyTorch and MXNet 1.9.1 on the same workloads in one run
# (benchmarks/suite.py: Python dispatch, LeNet, LSTM LM, ResNet-18 and ResNet-50, ImageRecordIter,
# peak memory, fraction of fp32 peak), printing a table and writing benchmarks/results/latest.json
# and docs/benchmarks.md.
#
#   bash benchmarks/run.sh                     # the whole suite (about 10 minutes on 2 cores)
#   bash benchmarks/run.sh --quick             # a fast sanity pass (writes results/quick.json)
#   bash benchmarks/run.sh --only lenet,lstm   # some rows; see --help
#   bash benchmarks/run.sh --micro             # the C++ micro-benchmarks and data extras instead
#
# Needs the package installed in the project venv (scripts/test.sh does it); MXNet's venv is
# made by scripts/install_deps.sh (its rows are skipped with the reason when it is missing).
# --micro needs build/ from scripts/build.sh (and libtorch-dev from scripts/install_bench_deps.sh
# for the rows against libtorch).
set -euo pipefail
cd "$(dirname "$0")/.."
MXNET_VENV="${MIXNET_MXNET_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/mxnet-1.9.1-venv}"
PY_VENV="${MIXNET_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/py-venv}"
source scripts/cpu_env.sh

micro() {
  lib=$(ls "$MXNET_VENV"/lib/python3*/site-packages/mxnet/libmxnet.so 2>/dev/null | head -n1 || true)
  echo "== engine micro-benchmarks (medians of 5)"
  build/benchmarks/engine_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_display_aggregates_only=true 2>&1 | grep -E "median|^Benchmark|^---"
  echo
  echo "== engine push cost: mixnet vs MXNet 1.9.1"
  MIXNET_MXNET_LIB="$lib" build/benchmarks/engine_vs_mxnet
  if "$PY_VENV/bin/python" -c "import mixnet" 2>/dev/null; then
    echo
    echo "== data: DataLoader vs PyTorch; data waits in training"
    "$PY_VENV/bin/python" benchmarks/dataloader_vs_torch.py
    "$PY_VENV/bin/python" benchmarks/dataloader_wait.py
  fi
  if [ -x build/benchmarks/ops_vs_torch ]; then
    echo
    echo "== operators: mixnet vs PyTorch (libtorch)"
    build/benchmarks/ops_vs_torch
    echo
    echo "== LeNet training throughput: mixnet vs PyTorch (libtorch)"
    build/benchmarks/train_vs_torch --breakdown
    echo
    echo "== executor memory (planning, mirroring) and speed vs PyTorch (libtorch)"
    build/benchmarks/exec_memory_vs_torch
    echo
    echo "== Gluon: hybridized vs eager, and vs PyTorch (libtorch)"
    build/benchmarks/gluon_vs_torch
  else
    echo
    echo "== operators and training vs libtorch skipped: run scripts/install_bench_deps.sh, then scripts/build.sh"
  fi
}

if [ "${1:-}" = "--micro" ]; then
  micro
  exit 0
fi
if ! "$PY_VENV/bin/python" -c "import mixnet" 2>/dev/null; then
  echo "benchmarks/run.sh: mixnet is not importable from $PY_VENV: install the package (scripts/test.sh does) or set MIXNET_PY_VENV" >&2
  exit 1
fi
export MIXNET_BENCH_COMMAND="bash benchmarks/run.sh$(printf ' %q' "$@")"
exec "$PY_VENV/bin/python" benchmarks/suite.py --mxnet-python "$MXNET_VENV/bin/python" "$@"
