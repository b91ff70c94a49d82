#!/usr/bin/env bash
# Installs norch from this checkout and runs every test: the C++ suite through
# ctest, then the Python suite through pytest against the installed package.
# What the tests need is installed when it is missing (PyTorch 2.13.0 as the oracle,
# pytest, graphviz, safetensors, GoogleTest, Graphviz's dot, Open MPI and mpi4py); what cannot be installed
# is an error, never a skip. A package that `pip install .` built from this checkout is
# reused as installed (Note [Reusing the first build] below); otherwise it is built
# without build isolation in the persistent build directory of pyproject.toml.
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

# The test requirements of pyproject.toml's [test] extra, installed by name so that pip
# does not build the package again to resolve the extra.
mapfile -t test_reqs < <("$PY" - <<'PYEOF'
import re
text = open("pyproject.toml").read()
block = re.search(r"^test = \[(.*?)\]", text, re.S | re.M).group(1)
print("\n".join(re.findall(r'"([^"]+)"', block)))
PYEOF
)
"$PY" -m pip install -q "numpy>=1.21" "${test_reqs[@]}"

# Note [Reusing the first build]: the README's `pip install .` builds in an isolated
# environment, and scikit-build-core clears a build directory made by another
# environment, so a second pip build would compile everything again. Instead the
# installed package records what it was built from (norch/_build_info.py, written by
# scripts/source_stamp.py at configure time): when that matches this checkout, the
# installed build is used as it is; otherwise it is rebuilt without isolation in
# pyproject.toml's persistent build directory, where later runs are incremental.
stamp=$("$PY" scripts/source_stamp.py)
installed=$(cd / && "$PY" -c "import norch._build_info as b; print(b.SOURCE_STAMP)" 2>/dev/null || true)
if [ "$stamp" = "$installed" ]; then
  echo "run_tests.sh: the installed norch was built from this checkout; reusing it"
else
  echo "run_tests.sh: building norch from this checkout (no build isolation, persistent build/)"
  "$PY" -m pip install -q --no-build-isolation --no-deps .
fi
pkg_dir=$(cd / && "$PY" -c "import norch, os; print(os.path.dirname(norch.__file__))")

# The C++ suite links the installed libnorch: only the test files are compiled.
cpp_build=build/cpp-installed
cmake -S test/cpp -B "$cpp_build" -G Ninja -DNORCH_PACKAGE_DIR="$pkg_dir" >/dev/null
cmake --build "$cpp_build"
ctest --test-dir "$cpp_build" --output-on-failure

# python/ is not on sys.path here, so the tests import the installed package.
"$PY" -m pytest test/python -q -p no:cacheprovider "$@"
