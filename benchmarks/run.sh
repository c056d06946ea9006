#!/usr/bin/env bash
# Runs the benchmark suite: engine micro-benchmarks, then mixnet vs MXNet 1.9.1 and PyTorch side by
# side (the Python dispatch run needs the package installed in the project venv).
# Assumes scripts/build.sh has built build/ and scripts/install_deps.sh made the MXNet venv.
set -euo pipefail
cd "$(dirname "$0")/.."
MXNET_VENV="${MIXNET_MXNET_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/mxnet-1.9.1-venv}"
lib=$(ls "$MXNET_VENV"/lib/python3*/site-packages/mxnet/libmxnet.so 2>/dev/null | head -n1 || true)
source scripts/cpu_env.sh
echo "== engine micro-benchmarks (medians of 5)"
build/benchmarks/engine_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_display_aggregates_only=true 2>&1 | grep -E "median|^Benchmark|^---"
echo
echo "== engine push cost: mixnet vs MXNet 1.9.1"
MIXNET_MXNET_LIB="$lib" build/benchmarks/engine_vs_mxnet "$@"

PY_VENV="${MIXNET_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/py-venv}"
if "$PY_VENV/bin/python" -c "import mixnet" 2>/dev/null; then
  echo
  echo "== per-op dispatch from Python: mixnet vs NumPy, PyTorch, MXNet 1.9.1"
  MXNET_PYTHON="$MXNET_VENV/bin/python" "$PY_VENV/bin/python" benchmarks/python_dispatch.py
  echo
  echo "== data: ImageRecordIter vs MXNet 1.9.1 and PIL; DataLoader vs PyTorch; data waits in training"
  MIXNET_MXNET_PYTHON="$MXNET_VENV/bin/python" "$PY_VENV/bin/python" benchmarks/image_record_iter_vs_mxnet.py
  "$PY_VENV/bin/python" benchmarks/dataloader_vs_torch.py
  "$PY_VENV/bin/python" benchmarks/dataloader_wait.py
else
  echo
  echo "== Python dispatch skipped: install the package (scripts/test.sh does) into $PY_VENV"
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
  echo "== operators and training vs PyTorch skipped: run scripts/install_bench_deps.sh, then scripts/build.sh"
fi
