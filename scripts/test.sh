#!/usr/bin/env bash
# Installs, builds and runs every test: formatting, the gtest suites, the MXNet 1.9.1
# interoperability tests (all through ctest), the engine suites under ThreadSanitizer, and the
# Python package installed with pip from this tree and its pytest suites.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/install_deps.sh >/dev/null

echo "== clang-format check"
git ls-files '*.h' '*.cc' | xargs clang-format --dry-run --Werror

echo "== build (Release)"
bash scripts/build.sh

if [ "${MIXNET_SKIP_TSAN:-0}" != 1 ]; then
  echo "== runtime suites (engine, storage, NDArray) under ThreadSanitizer"
  MIXNET_BUILD_DIR=build-tsan bash scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMIXNET_SANITIZE_THREAD=ON -DMIXNET_BUILD_BENCHMARKS=OFF -DMIXNET_BUILD_EXAMPLES=OFF
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1" \
    build-tsan/tests/mixnet_tests --gtest_brief=1 --gtest_filter='Engine*:Engines/*:ThreadedEngine*:NDArray*:Storage*:Serialize*'
fi

echo "== NDArray, serialization, operator and executor suites under the naive engine, then ctest"
MIXNET_ENGINE_TYPE=NaiveEngine build/tests/mixnet_tests --gtest_brief=1 \
  --gtest_filter='NDArray*:Serialize*:Storage*:AllOps*:Op*:Executor*:SymbolPassEndToEnd*:GluonBlock*:GluonRnn*'
echo "== Python package: pip install . (a wheel built from this tree) and its pytest suites"
PY_VENV="${MIXNET_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mixnet/py-venv}"
# CXX=c++: the compiler CMake picks for build/ (pip would take Python's x86_64-linux-gnu-g++),
# so that ccache serves the library's objects from the build above.
CXX="${CXX:-c++}" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$PY_VENV/bin/pip" install -q --disable-pip-version-check \
  --no-build-isolation --force-reinstall --no-deps .
"$PY_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/python
echo "== $(( $(date +%s) - start ))s so far; ctest runs last so its summary closes the log"
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
