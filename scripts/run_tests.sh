#!/usr/bin/env bash
# Installs norch from this checkout and runs every test: the C++ suite through
# ctest, then the Python suite through pytest against the installed package.
# What the tests need is installed when it is missing (PyTorch 2.13.0 as the oracle,
# pytest, graphviz, safetensors, GoogleTest, Graphviz's dot, Open MPI and mpi4py); what cannot be installed
# is an error, never a skip. The package is built without build isolation in the persistent
# build directory of pyproject.toml, so a checkout that was built before is only
# brought up to date, not rebuilt from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$JOBS}

die() { echo "run_tests.sh: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
has_module() { "$PY" -c "import $1" 2>/dev/null; }

# Build requirements first: the package builds without isolation. The test requirements
# (PyTorch 2.13.0 as the oracle, pytest, graphviz, safetensors) come with the [test] extra.
need_pip=()
has_module scikit_build_core || need_pip+=("scikit-build-core>=0.10")
has_module pybind11 || need_pip+=("pybind11>=2.13")
command -v cmake >/dev/null || need_pip+=("cmake>=3.24")
command -v ninja >/dev/null || need_pip+=("ninja")
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "run_tests.sh: installing ${need_pip[*]}"
  "$PY" -m pip install -q "${need_pip[@]}"
fi

# System packages: GoogleTest for the C++ suite, Graphviz's `dot` for the graph-render test.
need_apt=()
[ -f /usr/include/gtest/gtest.h ] || need_apt+=(libgtest-dev)
command -v dot >/dev/null || need_apt+=(graphviz)
if [ ${#need_apt[@]} -gt 0 ]; then
  if is_root && command -v apt-get >/dev/null; then
    echo "run_tests.sh: installing ${need_apt[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; }
  else
    die "missing ${need_apt[*]}: install them (e.g. sudo apt-get install ${need_apt[*]}) and rerun"
  fi
fi

# norch.distributed's tests need an MPI and mpi4py.
if ! command -v mpirun >/dev/null || ! has_module mpi4py; then
  PYTHON="$PY" bash scripts/install_mpi.sh
fi

# One build tree serves the package and the C++ suite: pyproject.toml's build-dir
# (build/{wheel_tag}), which a plain `pip install .` also uses.
"$PY" -m pip install -q --no-build-isolation -Ccmake.define.NORCH_BUILD_TESTS=ON ".[test]"
pkg_build=
for cache in $(ls -t build/*/CMakeCache.txt 2>/dev/null); do
  if grep -q '^SKBUILD:' "$cache" && grep -q '^NORCH_BUILD_TESTS:BOOL=ON' "$cache"; then
    pkg_build=$(dirname "$cache")
    break
  fi
done
[ -n "$pkg_build" ] || die "no package build directory with the C++ tests under build/"
ctest --test-dir "$pkg_build" --output-on-failure

# python/ is not on sys.path here, so the tests import the installed package.
"$PY" -m pytest test/python -q -p no:cacheprovider "$@"
