"""norch.distributed, DistributedDataParallel and DistributedSampler.

The multi-process tests start 2 ranks on this machine through the launcher
(python -m norch.distributed.run) or plain mpirun, each running a worker script from
dist_workers/ that checks its results against NumPy and prints "OK <case>" lines; here
only the exit code and those lines are checked. They need Open MPI and mpi4py: where
those are missing the tests FAIL with what to install (scripts/install_mpi.sh).
"""
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import norch
import norch.distributed as dist
from norch.utils.data import DistributedSampler

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dist_workers")
MISSING = ("Open MPI and mpi4py are needed for the distributed tests: run `bash scripts/install_mpi.sh` "
           "(apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py)")


def _env():
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(norch.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_parent, env.get("PYTHONPATH", "")])
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    return env


@pytest.fixture
def mpi():
    if not dist.is_available() or not (shutil.which("mpirun") or shutil.which("mpiexec")):
        pytest.fail(MISSING)


def _launch(worker, *args, nproc=2, timeout=120, plain_mpirun=False):
    script = os.path.join(WORKERS, worker)
    if plain_mpirun:
        cmd = [shutil.which("mpirun"), "-n", str(nproc), "--oversubscribe", sys.executable, script]
    else:
        cmd = [sys.executable, "-m", "norch.distributed.run", f"--nproc_per_node={nproc}", script]
    return subprocess.run(cmd + list(args), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)


def _ok_lines(proc):
    return set(re.findall(r"^rank (\d+): OK (.+)$", proc.stdout, flags=re.M))


def test_collectives_all_dtypes_async_and_groups(mpi):
    proc = _launch("collectives.py")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    cases = ["float32", "float64", "int64", "int32", "uint8", "all"]
    assert _ok_lines(proc) == {(str(r), c) for r in range(2) for c in cases}, proc.stdout


def test_ddp_matches_single_process_and_no_sync(mpi):
    proc = _launch("ddp.py")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    cases = ["training", "no_sync", "buffers", "find_unused_parameters", "unused error", "sampler"]
    assert _ok_lines(proc) == {(str(r), c) for r in range(2) for c in cases}, proc.stdout


@pytest.mark.parametrize("how,code", [("raise", 1), ("exit", 3), ("kill", None), ("early", 1)])
def test_failing_rank_stops_the_job(mpi, how, code):
    # timeout=60 would catch a hang; the job ends in about a second and a half.
    proc = _launch("fail.py", how, timeout=60)
    assert proc.returncode != 0 and (code is None or proc.returncode == code), (proc.returncode, proc.stderr[-3000:])
    assert "rank 0: finished" not in proc.stdout
    if how == "raise":
        assert "ValueError: rank 1 fails on purpose" in proc.stderr
        assert "[rank 1] failed; stopping the job" in proc.stderr
    if how == "early":
        assert "ImportError: rank 1 fails before init_process_group" in proc.stderr
    assert "the job failed" in proc.stderr


def test_plain_mpirun(mpi):
    ok = _launch("fail.py", "none", plain_mpirun=True)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "rank 1: started (RANK=1, LOCAL_RANK=1)" in ok.stdout and "rank 0: finished" in ok.stdout
    bad = _launch("fail.py", "raise", plain_mpirun=True, timeout=60)
    assert bad.returncode != 0 and "rank 1 fails on purpose" in bad.stderr


def test_no_engine_gives_install_instructions():
    proc = subprocess.run([sys.executable, os.path.join(WORKERS, "no_engine.py")], env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "openmpi-bin libopenmpi-dev" in proc.stdout and "pip install mpi4py" in proc.stdout
    assert "nvidia-nccl-cu13" in proc.stdout


def test_backend_names_and_uninitialised_errors():
    # These raise before any MPI call, so they run in this process without starting MPI.
    with pytest.raises(RuntimeError, match="NCCL backend needs a CUDA build"):
        dist.init_process_group("nccl")
    with pytest.raises(RuntimeError, match="NCCL"):
        dist.init_process_group("cpu:gloo,cuda:nccl")
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("ucc")
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(norch.ones(1))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    assert dist.Backend("MPI") == "mpi" and dist.ReduceOp.SUM is dist.ReduceOp.RedOpType.SUM


def test_importing_starts_no_mpi():
    code = ("import sys, norch, norch.distributed as d, norch.nn.parallel, norch.distributed.run\n"
            "assert 'mpi4py' not in sys.modules, sorted(m for m in sys.modules if 'mpi' in m)\n"
            "assert d.is_available() in (True, False) and 'mpi4py' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_launcher_command_lines(mpi):
    def dry(*args):
        proc = subprocess.run([sys.executable, "-m", "norch.distributed.run", "--dry-run", *args], cwd=ROOT,
                              env=_env(), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()
    cmd = dry("--nproc-per-node=3", "--standalone", "train.py", "--lr", "0.1")
    assert cmd[1:3] == ["-n", "3"] and cmd[-3:] == ["train.py", "--lr", "0.1"]
    assert "norch.distributed._worker" in cmd
    cmd = dry("--nnodes=2", "--node_rank=0", "--nproc_per_node=4", "--hosts=a,b", "-m", "pkg.train")
    assert cmd[1:3] == ["-n", "8"] and cmd[-2:] == ["-m", "pkg.train"] and "a:4,b:4" in cmd
    proc = subprocess.run([sys.executable, "-m", "norch.distributed.run", "--nnodes=2", "--node_rank=1",
                           "--nproc_per_node=4", "train.py"], env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "node_rank 0 starts" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "norch.distributed.run", "--nnodes=2", "--nproc_per_node=4",
                           "train.py"], env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "--hosts or --hostfile" in proc.stderr


# ---- DistributedSampler: no process group needed when num_replicas and rank are given ----

def _torch_sampler(n, replicas, rank, drop_last, shuffle, perm=None):
    import torch
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    sampler = TorchSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle, drop_last=drop_last)
    if perm is None:
        return list(sampler), len(sampler)
    real = torch.randperm
    torch.randperm = lambda *a, **k: torch.tensor(perm)    # the same permutation through torch's assignment code
    try:
        return list(sampler), len(sampler)
    finally:
        torch.randperm = real


@pytest.mark.parametrize("n", [1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch(n, replicas, drop_last):
    for rank in range(replicas):
        s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert (list(s), len(s)) == _torch_sampler(n, replicas, rank, drop_last, False)
        s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=4, drop_last=drop_last)
        s.set_epoch(3)
        g = norch.Generator()
        g.manual_seed(4 + 3)
        perm = norch.randperm(n, generator=g).tolist()
        assert (list(s), len(s)) == _torch_sampler(n, replicas, rank, drop_last, True, perm)


def test_distributed_sampler_partitions_and_epochs():
    n, replicas = 23, 4
    shares = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=1)) for r in range(replicas)]
    assert all(len(s) == math.ceil(n / replicas) for s in shares)
    flat = [i for s in shares for i in s]
    assert sorted(set(flat)) == list(range(n)) and len(flat) == replicas * math.ceil(n / replicas)
    dropped = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, drop_last=True)) for r in range(4)]
    flat = [i for s in dropped for i in s]
    assert len(flat) == len(set(flat)) == replicas * (n // replicas)
    s = DistributedSampler(range(n), num_replicas=replicas, rank=0)
    first = list(s)
    assert list(s) == first                 # same epoch, same order
    s.set_epoch(1)
    assert list(s) != first and sorted(first) != first
    assert np.array_equal(sorted(list(DistributedSampler(range(n), 1, 0))), np.arange(n))


def test_distributed_sampler_bad_rank_and_no_group():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(5), num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(5))


def test_ddp_example_runs(mpi):
    script = os.path.join(ROOT, "examples", "ddp_train.py")
    proc = subprocess.run([sys.executable, "-m", "norch.distributed.run", "--nproc_per_node=2", script,
                           "--epochs", "1", "--train-samples", "400", "--test-samples", "100"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    acc = float(re.search(r"test accuracy: (\d+\.\d+)%", proc.stdout).group(1))
    assert acc > 20.0, proc.stdout          # chance is 10%
    assert proc.stdout.count("test accuracy:") == 1, proc.stdout     # rank 0 reports
