#!/usr/bin/env bash
# Configures and builds mixnet (Release, ccache) into ${MIXNET_BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${MIXNET_BUILD_DIR:-build}"
MXNET_VENV="${MIXNET_MXNET_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/mxnet-1.9.1-venv}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMIXNET_MXNET_PYTHON="$( [ -x "$MXNET_VENV/bin/python" ] && echo "$MXNET_VENV/bin/python" )" \
  "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
