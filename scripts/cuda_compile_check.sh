#!/usr/bin/env bash
# CUDA compile check for machines without a GPU (CI): NORCH_CUDA=AUTO builds CPU-only
# where there is no GPU driver (Note [CUDA AUTO] in cmake/NorchCudaAuto.cmake), so this
# configures the CUDA build (NORCH_CUDA=ON, one architecture: sm_90) in its own build
# tree and compiles every .cu file, to catch code that does not compile under nvcc.
# Nothing runs: there is no GPU.
# cuBLAS comes from the toolkit, else from the nvidia-cublas wheel, installed here when
# missing. Skipped (exit 0, with a message) where there is no nvcc at all.
#
#   bash scripts/cuda_compile_check.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
BUILD_DIR=${1:-build/cuda-check}
NVCC=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$NVCC" ]; then
  echo "cuda_compile_check: no nvcc on this machine; the CUDA compile check is skipped"
  exit 0
fi
cuda_root=$(dirname "$(dirname "$(readlink -f "$NVCC")")")
if [ ! -f "$cuda_root/include/cublas_v2.h" ] && ! "$PY" -c "import nvidia, os, sys; sys.exit(not any(os.path.exists(os.path.join(p, s, 'include', 'cublas_v2.h')) for p in nvidia.__path__ for s in ('cu13', 'cublas')))" 2>/dev/null; then
  echo "cuda_compile_check: the toolkit has no cuBLAS; installing the nvidia-cublas wheel"
  "$PY" -m pip install -q nvidia-cublas
fi
start=$(date +%s)
CUDACXX=$NVCC cmake -S . -B "$BUILD_DIR" -G Ninja -DNORCH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90-real \
  -DNORCH_DEV_OUTPUT=OFF -DPython_EXECUTABLE="$(command -v "$PY")" >/dev/null
# Only the CUDA objects: the C++ sources were compiled by the CPU build already, and a
# shared library's link does not check undefined symbols, so nvcc's part is the check.
mapfile -t cu_objects < <(cmake --build "$BUILD_DIR" -- -t targets all | sed -n 's/^\(.*\.cu\.o\): .*/\1/p')
[ ${#cu_objects[@]} -gt 0 ] || { echo "cuda_compile_check: no CUDA objects in $BUILD_DIR" >&2; exit 1; }
cmake --build "$BUILD_DIR" -- "${cu_objects[@]}"
echo "cuda_compile_check: ${#cu_objects[@]} CUDA files compiled for sm_90 in $(( $(date +%s) - start ))s"
