#!/usr/bin/env bash
# Installs everything mixnet needs on a fresh Debian 12 machine (idempotent), including the
# MXNet 1.9.1 virtual environment used by the interoperability tests and benchmarks.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(build-essential cmake ninja-build ccache clang-format
          libgtest-dev libbenchmark-dev libopenblas-dev libdnnl-dev
          python3 python3-venv python3-pip python3-dev  # the Python package (nanobind extension)
          python3-numpy python3-pytest python3-torch     # its tests; torch is a benchmark peer
          nlohmann-json3-dev  # symbol JSON
          zlib1g-dev dataset-fashion-mnist  # the examples' gzipped idx files
          pkg-config libturbojpeg0-dev libpng-dev  # image codecs (mx.image, record files)
          libopenmpi-dev openmpi-bin libzmq3-dev  # dist_sync (MPI) and dist_async (ZeroMQ) kvstores
          python3-pil  # a reference decoder in the image tests
          wamerican)  # /usr/share/dict/words: the char-LSTM example's default text
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# MXNet 1.9.1 (the format oracle) in its own venv: it needs numpy<1.24.
MXNET_VENV="${MIXNET_MXNET_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/mxnet-1.9.1-venv}"
if [ ! -f "$MXNET_VENV/.ready" ]; then
  echo "== creating $MXNET_VENV (mxnet==1.9.1, numpy<1.24, pytest)"
  rm -rf "$MXNET_VENV"
  python3 -m venv "$MXNET_VENV"
  "$MXNET_VENV/bin/pip" install -q --disable-pip-version-check "mxnet==1.9.1" "numpy<1.24" pytest
  "$MXNET_VENV/bin/python" -c "import mxnet; assert mxnet.__version__ == '1.9.1'"
  touch "$MXNET_VENV/.ready"
fi

# The project's own venv for the Python package: Debian's python3 with its numpy, pytest and
# torch visible (--system-site-packages), plus the build tools of pyproject.toml from PyPI.
PY_VENV="${MIXNET_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/py-venv}"
if [ ! -f "$PY_VENV/.ready" ]; then
  echo "== creating $PY_VENV (nanobind, scikit-build-core; numpy, pytest, torch from Debian)"
  rm -rf "$PY_VENV"
  /usr/bin/python3 -m venv --system-site-packages "$PY_VENV"
  "$PY_VENV/bin/pip" install -q --disable-pip-version-check "nanobind>=2.0,<4" "scikit-build-core>=0.10"
  touch "$PY_VENV/.ready"
fi
echo "$MXNET_VENV"
