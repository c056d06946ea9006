#!/usr/bin/env bash
# Peers for the benchmarks (not needed to build or test): PyTorch's C++ library from Debian.
# MXNet 1.9.1 comes with scripts/install_deps.sh.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if ! dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed"; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libtorch-dev >/dev/null
fi
