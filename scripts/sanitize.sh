#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run: builds libnorch, the C++
# tests and norch._C with NORCH_SANITIZE=ON in their own build directory, runs
# ctest, then a slice of the Python suite against that build.
#
#   bash scripts/sanitize.sh                      # default slice
#   bash scripts/sanitize.sh test/python/test_index.py -k slice   # pytest args instead
#
# Why it is built this way (see CONTRIBUTING.md, "Sanitizer build"):
# - The Python process must load libasan first, so it runs under LD_PRELOAD;
#   nothing in that process may start a compiler (the compiler would run under
#   ASan too), so the package is staged into the build directory and imported
#   through PYTHONPATH, not installed in editable mode.
# - UBSan is compiled with -fno-sanitize-recover (undefined and
#   float-cast-overflow): the first report aborts the process (abort_on_error,
#   so a forked child dies of SIGABRT and the fuzzer counts a crash).
# - Where reports go: ASan honours log_path (report files), but UBSan running
#   inside the ASan runtime (GCC 12) ignores log_path and always writes to fd 2.
#   pytest's default fd capture would swallow that, and a process that dies
#   never prints what it captured; so pytest runs with --capture=sys (Python's
#   sys.stderr is captured, fd 2 is not), ctest's and pytest's output are also
#   written to a log, and any sanitizer report, in a report file or in the log,
#   fails the run and is printed.
# - Leak checking is off: CPython's own allocations at exit would drown it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${SANITIZE_BUILD_DIR:-build/asan}
JOBS=${JOBS:-2}
PY=${PYTHON:-python3}
START=$(date +%s)

# -O1 keeps the instrumented tests fast enough without hiding the reports.
cmake -S . -B "$BUILD" -G Ninja -DNORCH_SANITIZE=ON -DNORCH_CUDA=OFF -DNORCH_BUILD_TESTS=ON \
  -DNORCH_BUILD_PYTHON=ON -DNORCH_DEV_OUTPUT=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$BUILD" -j"$JOBS"

# Stage an importable package: the Python sources plus the sanitized libraries.
BUILD_ABS=$(cd "$BUILD" && pwd)
PKG=$BUILD_ABS/pkg
rm -rf "$PKG"
"$PY" - "$ROOT/python/norch" "$PKG/norch" <<'EOF'
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], ignore=shutil.ignore_patterns("*.so", "*.so.*", "__pycache__"))
EOF
cp "$BUILD"/libnorch.so "$BUILD"/_C*.so "$PKG/norch/"

LOGS=$BUILD_ABS/reports
rm -rf "$LOGS"
mkdir -p "$LOGS"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$LOGS/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan"
OUTPUT_LOG=$BUILD_ABS/output.log
: > "$OUTPUT_LOG"

status=0
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" 2>&1 | tee -a "$OUTPUT_LOG" || status=1

if [ $# -gt 0 ]; then
  TESTS=("$@")
else
  TESTS=(test/python/test_numerics_hostile.py test/python/test_float_int_cast.py test/python/test_checkpoint_hostile.py
         test/python/test_autograd.py test/python/test_autograd_function.py
         test/python/test_index.py test/python/test_shape.py test/python/test_reduce.py
         test/python/test_inplace_views.py test/python/test_nn_loss.py test/python/test_gc_cycles.py
         test/python/test_fuzz.py
         # RSS is not a leak measure under ASan: freed blocks sit in its quarantine.
         -k "not test_memory_is_steady_over_many_training_steps")
fi
# libstdc++ is preloaded too: python itself does not link it, and ASan, which
# resolves the real __cxa_throw when it starts, would otherwise abort at the
# first C++ exception ("CHECK failed ... real___cxa_throw").
PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libstdc++.so.6)"
# From test/, so that the source tree's python/ never shadows the staged package.
(cd test && LD_PRELOAD="$PRELOAD" PYTHONPATH="$PKG" NORCH_FUZZ_SECONDS=${NORCH_FUZZ_SECONDS:-20} \
   "$PY" -m pytest "${TESTS[@]//test\/python/python}" -q -p no:cacheprovider --capture=sys) 2>&1 \
   | tee -a "$OUTPUT_LOG" || status=1

if compgen -G "$LOGS/*" >/dev/null; then
  echo "sanitizer reports:" >&2
  cat "$LOGS"/* >&2
  status=1
fi
# UBSan's reports (and any report a child wrote to its stderr) are only in the output.
REPORT_PATTERN='runtime error: |ERROR: AddressSanitizer|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)'
if grep -Eq "$REPORT_PATTERN" "$OUTPUT_LOG"; then
  echo "sanitizer reports in the test output:" >&2
  grep -E -A12 "$REPORT_PATTERN" "$OUTPUT_LOG" | head -200 >&2
  status=1
fi
echo "sanitize.sh: $(( $(date +%s) - START )) s, $([ $status = 0 ] && echo clean || echo FAILED)"
exit $status
