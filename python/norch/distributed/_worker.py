"""What each rank runs under norch.distributed.run: PyTorch's variables, then the script.

    python -m norch.distributed._worker [-m] script.py args...

RANK, LOCAL_RANK, WORLD_SIZE and LOCAL_WORLD_SIZE come from the MPI launcher's own
variables (Open MPI's OMPI_COMM_WORLD_*, or the PMI ones of MPICH and Intel MPI), so the
script can read them before it calls init_process_group. An exception that escapes the
script is printed and then aborts the whole MPI job (MPI_Abort), so the other ranks never
wait forever in a collective for a rank that has died.
"""
import os
import runpy
import sys
import traceback


def _first(*names, default=None):
    for name in names:
        if os.environ.get(name) not in (None, ""):
            return os.environ[name]
    return default


def set_environment():
    rank = int(_first("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", default="0"))
    world = int(_first("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", default="1"))
    npn = int(os.environ.get("NORCH_NPROC_PER_NODE", world))
    local_rank = int(_first("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", default=str(rank % npn)))
    local_world = int(_first("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", default=str(npn)))
    values = dict(RANK=rank, WORLD_SIZE=world, LOCAL_RANK=local_rank, LOCAL_WORLD_SIZE=local_world,
                  GROUP_RANK=rank // max(npn, 1), ROLE_RANK=rank, ROLE_WORLD_SIZE=world, GROUP_WORLD_SIZE=world // npn)
    os.environ.update({k: str(v) for k, v in values.items()})
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    return rank


def _abort(code):
    sys.stdout.flush()
    sys.stderr.flush()
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        mpi.COMM_WORLD.Abort(code)
    os._exit(code)


def main():
    argv = sys.argv[1:]
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python -m norch.distributed._worker [-m] script.py args...")
    rank = set_environment()
    # mpirun merges the ranks' output line by line; whole lines, written promptly, keep it readable.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True, write_through=False)
    sys.argv = argv
    try:
        if as_module:
            runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code != 0:
            if not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
            print(f"[rank {rank}] exited with code {code}; stopping the job", file=sys.stderr)
            _abort(code)
        raise
    except BaseException:
        traceback.print_exc()
        print(f"[rank {rank}] failed; stopping the job", file=sys.stderr)
        _abort(1)


if __name__ == "__main__":
    main()
