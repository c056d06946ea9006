# Sourced by scripts that run mixnet: environment for the CPU libraries.
# OpenBLAS picks kernels by CPU model name and falls back to SSE3 on unnamed (virtualised)
# CPUs (NOTE [ GEMM backends ] in src/operator/linalg/gemm.h); give it the core type instead.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
