#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU (made for an H100/H200 with 16 cores,
# nvcc 13 and a python3 that has PyTorch with CUDA, pytest, NumPy, pybind11, CMake,
# ninja and the nvidia-cublas wheel; offline; only the working tree is there), in this
# order, each step time-boxed so that the whole check ends inside 10 minutes:
#   1. build     libnorch and norch._C for the GPU (sm_90, -j16) into python/norch,
#                with the C++ tests when GoogleTest is installed
#   2. ctest     the C++ suite (the caching allocator's policy among it)
#   3. pytest    the whole Python suite, CUDA cases included
#   4. memcheck  compute-sanitizer's memcheck over the CUDA cases of the op tests
#   5. bench     benchmarks/bench_cuda.py beside PyTorch CUDA, with the issue's targets
# Logs go to OUTDIR (one per step) and OUTDIR/summary.txt says what each step gave.
#
#   bash scripts/gpu_check.sh OUTDIR
# Time boxes (seconds) can be changed: T_BUILD, T_CTEST, T_PYTEST, T_MEMCHECK, T_BENCH.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash scripts/gpu_check.sh OUTDIR" >&2
  exit 2
fi
OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.." || exit 2

PY=${PYTHON:-python3}
JOBS=${JOBS:-16}
ARCH=${CUDA_ARCH:-90-real}
BUILD_DIR=${BUILD_DIR:-build/gpu}
T_BUILD=${T_BUILD:-210}
T_CTEST=${T_CTEST:-30}
T_PYTEST=${T_PYTEST:-150}
T_MEMCHECK=${T_MEMCHECK:-80}
T_BENCH=${T_BENCH:-100}
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
export CMAKE_BUILD_PARALLEL_LEVEL=$JOBS
START=$(date +%s)

say() { echo "$*" | tee -a "$SUMMARY"; }

# run NAME SECONDS CMD...: runs CMD under `timeout`, logs to OUT/NAME.log, records rc and time.
run() {
  local name=$1 limit=$2
  shift 2
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  local took=$(( $(date +%s) - t0 ))
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    say "$name: TIMED OUT after ${took}s (limit ${limit}s), log $name.log"
  else
    say "$name: rc=$rc in ${took}s, log $name.log"
  fi
  return $rc
}

say "norch GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi failed"
  nvcc --version 2>&1 | tail -n 2 || echo "no nvcc on PATH"
  "$PY" -c "import sys, torch, numpy; print('python', sys.version.split()[0], '| torch', torch.__version__, '| torch cuda', torch.version.cuda, torch.cuda.is_available(), '| numpy', numpy.__version__)" 2>&1
  echo "cores: $(nproc)"
} > "$OUT/env.log" 2>&1
sed 's/^/  /' "$OUT/env.log" | tee -a "$SUMMARY"

# 1. build --------------------------------------------------------------------------------
tests_flag=OFF
if [ -f /usr/include/gtest/gtest.h ] || [ -n "${GTEST_ROOT:-}" ]; then tests_flag=ON; fi
export BUILD_DIR ARCH JOBS PY tests_flag
# `timeout` runs a program, not a shell function: the build is one `bash -c`.
# shellcheck disable=SC2016
if ! run build "$T_BUILD" bash -c '
  cmake -S . -B "$BUILD_DIR" -G Ninja -DNORCH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DNORCH_DEV_OUTPUT=ON \
    -DNORCH_BUILD_TESTS="$tests_flag" -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" \
    -DPython_EXECUTABLE="$(command -v "$PY")" && cmake --build "$BUILD_DIR" -j "$JOBS"'; then
  say "build failed: the last lines of build.log:"
  tail -n 25 "$OUT/build.log" | tee -a "$SUMMARY"
  say "total: $(( $(date +%s) - START ))s"
  exit 1
fi
grep -E "norch: (CUDA|cuBLAS)" "$OUT/build.log" | sed 's/^/  /' | tee -a "$SUMMARY"
"$PY" -c "import norch; c = norch.cuda; print('  norch.cuda.is_available():', c.is_available(), '| devices:', c.device_count(), '|', c.get_device_name() if c.is_available() else c._cuda.status())" 2>&1 | tee -a "$SUMMARY"

# 2. C++ suite ----------------------------------------------------------------------------
if [ "$tests_flag" = ON ]; then
  run ctest "$T_CTEST" ctest --test-dir "$BUILD_DIR" --output-on-failure
  grep -E "tests passed|tests failed" "$OUT/ctest.log" | sed 's/^/  /' | tee -a "$SUMMARY"
else
  say "ctest: not run (no GoogleTest on this machine)"
fi

# 3. the whole Python suite ---------------------------------------------------------------
run pytest "$T_PYTEST" "$PY" -m pytest test/python -q -p no:cacheprovider -rfE --junitxml="$OUT/pytest.xml"
grep -E "^(FAILED|ERROR) " "$OUT/pytest.log" | head -n 40 | sed 's/^/  /' | tee -a "$SUMMARY"
tail -n 1 "$OUT/pytest.log" | sed 's/^/  /' | tee -a "$SUMMARY"
"$PY" - "$OUT/pytest.xml" <<'EOF' 2>/dev/null | tee -a "$SUMMARY"
import collections, sys, xml.etree.ElementTree as ET
reasons = collections.Counter(s.get("message", "") for s in ET.parse(sys.argv[1]).iter("skipped"))
for reason, n in reasons.most_common(5):
    print(f"  skipped {n}: {reason[:100]}")
EOF

# 4. compute-sanitizer memcheck over the CUDA op tests --------------------------------------
SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ -n "$SANITIZER" ]; then
  # The op-table tests on the `device` fixture, CUDA cases only: a memcheck run is 10-50x slower.
  op_tests=()
  for f in test_elementwise test_reduce test_index test_shape test_linalg test_nn_functional test_nn_conv test_random \
      test_cuda_runtime test_cuda_half; do
    [ -f "test/python/$f.py" ] && op_tests+=("test/python/$f.py")
  done
  run memcheck "$T_MEMCHECK" "$SANITIZER" --tool memcheck --error-exitcode 99 --leak-check no \
    "$PY" -m pytest "${op_tests[@]}" -q -p no:cacheprovider -x -k cuda
  grep -E "ERROR SUMMARY|Invalid|passed|failed" "$OUT/memcheck.log" | tail -n 8 | sed 's/^/  /' | tee -a "$SUMMARY"
else
  say "memcheck: not run (no compute-sanitizer on this machine)"
fi

# 5. benchmark beside PyTorch CUDA ---------------------------------------------------------
run bench "$T_BENCH" "$PY" benchmarks/bench_cuda.py --repeat 5 --json "$OUT/bench.json" --require-gpu
sed -n '/^case/,$p' "$OUT/bench.log" | sed 's/^/  /' | tee -a "$SUMMARY"

say "total: $(( $(date +%s) - START ))s"
