#!/usr/bin/env bash
# Developer build: compiles libnorch and norch._C straight into python/norch so
# that `PYTHONPATH=python` imports the working tree. Pass extra CMake args, e.g.
#   scripts/build.sh -DNORCH_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/dev}
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DNORCH_DEV_OUTPUT=ON -DNORCH_BUILD_TESTS=${NORCH_BUILD_TESTS:-OFF} \
    -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" "$@" >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
