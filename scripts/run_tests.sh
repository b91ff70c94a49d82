#!/usr/bin/env bash
# Installs norch from this checkout and runs every test: the C++ suite through
# ctest, then the Python suite through pytest against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

"$PY" -m pip install -q ".[test]"

if "$PY" -c "import sys; sys.exit(0)" && [ -f /usr/include/gtest/gtest.h ]; then
  cmake -S . -B build/cpp -G Ninja -DNORCH_BUILD_TESTS=ON -DNORCH_CUDA=OFF >/dev/null
  cmake --build build/cpp -j"$(nproc)"
  ctest --test-dir build/cpp --output-on-failure
else
  echo "GoogleTest not found (apt-get install libgtest-dev): skipping the C++ tests"
fi

# Run from test/ so that the source tree's python/ never shadows the installed package.
"$PY" -m pytest test/python -q -p no:cacheprovider "$@"
