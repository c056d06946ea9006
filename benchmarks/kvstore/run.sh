#!/usr/bin/env bash
# dist_sync communication benchmarks, 2 workers on loopback:
#   - allreduce of 4 KB .. 64 MB: raw MPI_Allreduce vs mixnet's communication thread vs
#     KVStore('dist_sync') pushpull (medians), and the fitted latency / per-byte cost with the
#     ring-allreduce scaling model for 8 .. 256 workers;
#   - bytes sent for the same gradients with and without 2-bit compression;
#   - Trainer step time with communication overlapping backward vs forced serial.
# Prints the tables and writes benchmarks/results/kvstore_latest.json.
#
#   bash benchmarks/kvstore/run.sh
#
# Needs build/ with the kvstore_allreduce_bench target (built here if missing) and the Python
# package (PYTHON, default the worktree's .venv or python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
BIN=build/benchmarks/kvstore_allreduce_bench
if [ ! -x "$BIN" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIXNET_BUILD_BENCHMARKS=ON \
    -DMIXNET_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build --target kvstore_allreduce_bench -j2 >/dev/null
fi
export OMP_NUM_THREADS=1
LINES=$(mktemp)
trap 'rm -f "$LINES"' EXIT
# Medians of each mode; the modes run one after the other, so a busy phase of a shared machine
# hits them unevenly: rerun when the raw column is not monotonic.
for mode in raw comm kvstore compress; do
  "$PYTHON" tools/launch.py -n 2 --timeout 300 "$BIN" "$mode" >>"$LINES"
done
"$PYTHON" tools/launch.py -n 2 --timeout 300 "$PYTHON" benchmarks/kvstore/overlap.py >>"$LINES"
mkdir -p benchmarks/results
"$PYTHON" benchmarks/kvstore/summarize.py "$LINES" benchmarks/results/kvstore_latest.json
