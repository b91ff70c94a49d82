"""A torchrun-compatible launcher that starts the ranks through the MPI launcher.

    python -m norch.distributed.run --nproc_per_node=2 train.py --epochs 3
    python -m norch.distributed.run --standalone --nproc_per_node=4 -m my_package.train
    python -m norch.distributed.run --nnodes=2 --node_rank=0 --nproc_per_node=8 \\
        --hosts=node1,node2 --master_addr=node1 train.py              # run on node1 only

Each rank runs norch.distributed._worker, which sets PyTorch's variables (RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, GROUP_RANK) from
the MPI launcher's and then runs the script as ``__main__``. The MPI launcher ends the
whole job when one rank fails; _worker makes sure a Python error is such a failure.

Several nodes: torchrun is started on every node and the nodes meet at MASTER_ADDR;
mpirun instead starts every node's ranks from one place (over ssh or the cluster's
scheduler). So with --nnodes > 1 the node with --node_rank=0 launches the whole job on
--hosts (or --hostfile), and the other nodes' invocations only say so and exit 0.
This module imports no MPI itself; it runs the mpirun/mpiexec program.
"""
import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys

from ._engine import INSTALL_HELP


def _parser():
    p = argparse.ArgumentParser(prog="python -m norch.distributed.run",
                                description="Start a norch distributed job (torchrun's options) through MPI.")

    def opt(name, **kw):
        flags = ["--" + name] + (["--" + name.replace("_", "-")] if "_" in name else [])
        p.add_argument(*flags, dest=name, **kw)
    opt("nproc_per_node", default="1", help="ranks per node: a number, or 'cpu'/'auto' for one per CPU core")
    opt("nnodes", default="1", help="number of nodes (torchrun's MIN:MAX form takes MAX)")
    opt("node_rank", type=int, default=0)
    opt("master_addr", default="127.0.0.1")
    opt("master_port", type=int, default=29500)
    opt("standalone", action="store_true", help="one node, a free local port")
    opt("rdzv_endpoint", default="", help="HOST[:PORT], read as master_addr/master_port")
    opt("rdzv_backend", default="static")
    opt("rdzv_id", default="none")
    opt("max_restarts", type=int, default=0)
    opt("hosts", default="", help="norch: comma-separated host names for --nnodes > 1 (node 0 first)")
    opt("hostfile", default="", help="norch: an MPI hostfile for --nnodes > 1")
    opt("mpirun", default=os.environ.get("NORCH_MPIRUN", ""), help="norch: the MPI launcher program")
    opt("dry_run", action="store_true", help="norch: print the MPI launcher's command instead of running it")
    p.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    opt("no_python", action="store_true", help="run the target as a program, not a Python script")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mpi_flavour(mpirun):
    try:
        out = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=20)
        text = out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if "Open MPI" in text or "OpenRTE" in text or "Open RTE" in text:
        return "openmpi"
    if "HYDRA" in text or "MPICH" in text or "Intel" in text:
        return "mpich"
    return "unknown"


def build_command(args, env):
    """(argv of the MPI launcher, environment) for parsed launcher ``args``."""
    npn = args.nproc_per_node
    if npn == "gpu":
        raise SystemExit("norch.distributed.run: --nproc_per_node=gpu needs the NCCL backend, which is not "
                         "implemented yet; give a number, or 'cpu'")
    npn = (os.cpu_count() or 1) if npn in ("cpu", "auto") else int(npn)
    nnodes = int(str(args.nnodes).split(":")[-1])
    if npn < 1 or nnodes < 1:
        raise SystemExit(f"norch.distributed.run: --nproc_per_node ({npn}) and --nnodes ({nnodes}) must be >= 1")
    if args.max_restarts:
        raise SystemExit("norch.distributed.run: --max_restarts is not supported (MPI jobs are not elastic)")
    master_addr, master_port = args.master_addr, args.master_port
    if args.rdzv_endpoint:
        host, _, port = args.rdzv_endpoint.partition(":")
        master_addr, master_port = host or master_addr, int(port) if port else master_port
    if args.standalone:
        nnodes, master_addr, master_port = 1, "127.0.0.1", _free_port()
    mpirun = args.mpirun or shutil.which("mpirun") or shutil.which("mpiexec")
    if not mpirun:
        raise SystemExit(f"norch.distributed.run: no MPI launcher (mpirun or mpiexec) on PATH. {INSTALL_HELP}")
    flavour = _mpi_flavour(mpirun)
    world = npn * nnodes
    env = dict(env)
    # The ranks must import this very norch, also when it came from PYTHONPATH or the current directory.
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([package_parent] + [p for p in paths if p != package_parent])
    env.update(MASTER_ADDR=master_addr, MASTER_PORT=str(master_port), NORCH_NPROC_PER_NODE=str(npn),
               TORCHELASTIC_RUN_ID=str(args.rdzv_id))
    cmd = [mpirun, "-n", str(world)]
    if flavour == "openmpi":
        # Ranks run norch's own threads, so no pinning to one core; more ranks than cores is allowed.
        cmd += ["--oversubscribe", "--bind-to", "none"]
        if os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        for var in ("MASTER_ADDR", "MASTER_PORT", "NORCH_NPROC_PER_NODE", "TORCHELASTIC_RUN_ID", "PYTHONPATH"):
            if var in env:
                cmd += ["-x", var]
    if nnodes > 1:
        if args.hostfile:
            cmd += ["--hostfile" if flavour == "openmpi" else "-f", args.hostfile]
        elif args.hosts:
            hosts = [h for h in args.hosts.split(",") if h]
            if len(hosts) != nnodes:
                raise SystemExit(f"norch.distributed.run: --hosts names {len(hosts)} hosts but --nnodes is {nnodes}")
            cmd += (["--host", ",".join(f"{h}:{npn}" for h in hosts)] if flavour == "openmpi"
                    else ["-hosts", ",".join(hosts)])
        else:
            raise SystemExit("norch.distributed.run: --nnodes > 1 needs --hosts or --hostfile: MPI starts every "
                             "node's ranks from node 0")
        cmd += ["--npernode", str(npn)] if flavour == "openmpi" else ["-ppn", str(npn)]
    if args.no_python:
        cmd += [args.training_script]
    else:
        cmd += [sys.executable, "-m", "norch.distributed._worker"] + (["-m"] if args.module else [])
        cmd += [args.training_script]
    return cmd + list(args.training_script_args), env


def main(argv=None):
    args = _parser().parse_args(argv)
    nnodes = int(str(args.nnodes).split(":")[-1])
    if nnodes > 1 and args.node_rank != 0 and not args.standalone:
        print(f"norch.distributed.run: node_rank {args.node_rank}: the MPI launcher on node_rank 0 starts this "
              "node's ranks; nothing to do here", file=sys.stderr)
        return 0
    cmd, env = build_command(args, os.environ)
    if args.dry_run:
        print(" ".join(shlex.quote(c) for c in cmd))
        return 0
    proc = subprocess.Popen(cmd, env=env)

    def forward(signum, frame):
        proc.send_signal(signum)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    rc = proc.wait()
    if rc != 0:
        print(f"norch.distributed.run: the job failed (exit code {rc}); see the failing rank's error above",
              file=sys.stderr)
    return 1 if rc < 0 else rc


if __name__ == "__main__":
    sys.exit(main())
