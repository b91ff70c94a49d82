#!/usr/bin/env bash
# Installs what norch.distributed needs: Open MPI (Debian's packages) and mpi4py (pip).
# Idempotent: whatever is already there is left alone. Without root it uses sudo for
# apt-get when sudo exists, and says what to run otherwise. The integrator calls it from
# .ci/run before the tests; test/python/test_distributed.py fails (not skips) without it.
set -euo pipefail

PYTHON=${PYTHON:-python3}

have_packages() {
  command -v mpirun >/dev/null 2>&1 || return 1
  command -v dpkg-query >/dev/null 2>&1 || return 0     # not Debian: an MPI on PATH is enough
  [ "$(dpkg-query -W -f='${Status}\n' openmpi-bin libopenmpi-dev 2>/dev/null | grep -c 'install ok installed')" = 2 ]
}

if ! have_packages; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install_mpi.sh: not root and no sudo; run as root: apt-get install -y openmpi-bin libopenmpi-dev" >&2
        exit 1
      fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null
  else
    echo "install_mpi.sh: no apt-get; install an MPI (Open MPI or MPICH) with this system's package manager" >&2
    exit 1
  fi
fi

# The mpi4py wheel loads the system's MPI library at run time (no compiler needed).
if ! "$PYTHON" -c "import mpi4py" >/dev/null 2>&1; then
  "$PYTHON" -m pip install -q mpi4py
fi

# Open MPI refuses to start as root unless told that it is meant.
if [ "$(id -u)" = "0" ]; then
  echo "install_mpi.sh: running as root: Open MPI needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" \
       "(norch.distributed.run sets them itself)"
fi
"$PYTHON" -c "import mpi4py; print('mpi4py', mpi4py.__version__)"
mpirun --version | head -1
