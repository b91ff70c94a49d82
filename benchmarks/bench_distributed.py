"""norch.distributed on local ranks: all_reduce bandwidth beside mpi4py's, and the DDP step's overhead.

    python benchmarks/bench_distributed.py              # starts itself on 2 ranks
    python benchmarks/bench_distributed.py --quick      # fewer samples and sizes
    python -m norch.distributed.run --nproc_per_node=4 benchmarks/bench_distributed.py

1. all_reduce (SUM, float32, in place) from 1 KB to 64 MB: norch's dist.all_reduce on a
   tensor, and mpi4py's comm.Allreduce on the very same memory (the tensor's .numpy()),
   interleaved. Bus bandwidth is PyTorch's/NCCL's convention, 2 (n - 1) / n * bytes / time,
   so it compares across world sizes. norch/mpi4py is a time ratio (1.00 = no overhead).
2. DDP step (forward, backward, SGD step) of the digits MLP and of a wider MLP, on B
   samples per rank: every rank runs the plain module (no communication) and then the
   DDP-wrapped one, interleaved, so both see the same load; the difference is the cost of
   communication left over after overlap. "comm alone" is one blocking all_reduce of all
   gradients; "exposed" is how long the last gradient hook waited for the buckets.
Each figure is the best sample (of --repeat) of the slowest rank: on a shared machine, other
work only ever adds time, and ranks that wait for each other feel every descheduling, so the
best sample is the steadiest estimate. One intra-op thread per rank.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))


def _launch_self():
    import subprocess
    nproc = os.environ.get("NPROC", "2")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "norch.distributed.run", f"--nproc_per_node={nproc}", os.path.abspath(__file__)]
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(HERE, "..", "python"), env.get("PYTHONPATH", "")])
    return subprocess.call(cmd + sys.argv[1:], env=env)


def _slowest(seconds, comm, MPI):
    return comm.allreduce(seconds, op=MPI.MAX)


def _time(fn, comm, MPI, calls):
    comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return _slowest((time.perf_counter() - t0) / calls, comm, MPI)


def bench_all_reduce(args, dist, comm, MPI, norch):
    n = comm.Get_size()
    sizes = [1 << k for k in range(10, 27, 2 if args.quick else 1)]         # 1 KB .. 64 MB
    rows = []
    for nbytes in sizes:
        t = norch.ones(nbytes // 4)
        a = t.numpy()                          # the same memory, for mpi4py
        calls = max(1, min(2000, int(20e6 / nbytes)))
        fns = {"norch": lambda: dist.all_reduce(t), "mpi4py": lambda: comm.Allreduce(MPI.IN_PLACE, a, MPI.SUM)}
        for fn in fns.values():
            fn()
        samples = {k: [] for k in fns}
        for _ in range(args.repeat):
            for k, fn in fns.items():
                samples[k].append(_time(fn, comm, MPI, calls))
        med = {k: min(v) for k, v in samples.items()}
        bus = 2 * (n - 1) / n * nbytes
        rows.append((nbytes, med["norch"], med["mpi4py"], bus / med["norch"] / 1e9, bus / med["mpi4py"] / 1e9))
    if comm.Get_rank() == 0:
        print(f"\nall_reduce, {n} ranks, float32 SUM in place")
        print(f"{'size':>8} {'norch':>10} {'mpi4py':>10} {'norch GB/s':>11} {'mpi4py GB/s':>12} {'norch/mpi4py':>13}")
        for nbytes, tn, tm, bn, bm in rows:
            size = f"{nbytes >> 20} MB" if nbytes >= 1 << 20 else f"{nbytes >> 10} KB"
            print(f"{size:>8} {tn * 1e6:>8.1f}us {tm * 1e6:>8.1f}us {bn:>11.3f} {bm:>12.3f} {tn / tm:>13.2f}")


def bench_ddp(args, dist, comm, MPI, norch):
    import norch.nn as nn
    from norch.nn.parallel import DistributedDataParallel as DDP
    n = comm.Get_size()
    cases = [("digits MLP 256-128-10", [256, 128, 10], args.batch),
             ("wide MLP 1024-2048-2048-10", [1024, 2048, 2048, 10], args.batch)]
    rows = []
    for name, widths, batch in cases:
        def make():
            norch.manual_seed(0)
            layers = []
            for i in range(len(widths) - 1):
                layers += [nn.Linear(widths[i], widths[i + 1]), nn.ReLU()]
            return nn.Sequential(*layers[:-1])
        plain, wrapped = make(), DDP(make())
        x = norch.randn(batch, widths[0])
        y = norch.randint(0, widths[-1], (batch,))
        loss_fn = nn.CrossEntropyLoss()
        opts = {m: norch.optim.SGD(m.parameters(), lr=1e-3) for m in (plain, wrapped)}

        def step(m):
            opts[m].zero_grad()
            loss_fn(m(x), y).backward()
            opts[m].step()
        grads = [p for p in plain.parameters()]
        flat = norch.zeros(sum(p.numel() for p in grads))
        comm_alone = lambda: dist.all_reduce(flat)   # noqa: E731
        fns = {"1 rank": lambda: step(plain), "ddp": lambda: step(wrapped), "comm": comm_alone}
        for fn in fns.values():
            fn()
        samples = {k: [] for k in fns}
        exposed = []
        for _ in range(args.repeat):
            for k, fn in fns.items():
                samples[k].append(_time(fn, comm, MPI, args.steps))
                if k == "ddp":
                    exposed.append(_slowest(wrapped.reducer.last_wait_s, comm, MPI))
        med = {k: min(v) for k, v in samples.items()}
        params = sum(p.numel() for p in grads)
        rows.append((name, params, len(wrapped.reducer.buckets), batch, med["1 rank"], med["ddp"], med["comm"],
                     min(exposed)))
    if comm.Get_rank() == 0:
        print(f"\nDDP training step, {n} ranks x batch {args.batch} vs the plain module on batch {args.batch}")
        print(f"{'model':<28} {'params':>9} {'buckets':>7} {'1 rank':>9} {'ddp':>9} {'overhead':>9} "
              f"{'comm alone':>11} {'exposed':>9} {'hidden':>7}")
        for name, params, nb, batch, t1, td, tc, te in rows:
            hidden = max(0.0, min(1.0, 1 - (td - t1) / tc)) if tc > 0 else 0.0
            print(f"{name:<28} {params:>9} {nb:>7} {t1 * 1e3:>7.2f}ms {td * 1e3:>7.2f}ms {(td / t1 - 1) * 100:>8.1f}% "
                  f"{tc * 1e3:>9.2f}ms {te * 1e3:>7.2f}ms {hidden * 100:>6.0f}%")
        print("hidden: the share of 'comm alone' that the DDP step did not add to the 1-rank step")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--batch", type=int, default=64, help="samples per rank")
    p.add_argument("--steps", type=int, default=5, help="training steps per sample")
    args = p.parse_args()
    if args.repeat is None:
        args.repeat = 3 if args.quick else 9
    if "OMPI_COMM_WORLD_SIZE" not in os.environ and "PMI_SIZE" not in os.environ:
        sys.exit(_launch_self())
    import norch
    import norch.distributed as dist
    norch.set_num_threads(1)
    dist.init_process_group()
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    if dist.get_rank() == 0:
        load = os.getloadavg()
        print(f"norch.distributed over {MPI.Get_library_version().splitlines()[0].strip()}; mpi4py "
              f"{__import__('mpi4py').__version__}; {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}")
    bench_all_reduce(args, dist, comm, MPI, norch)
    bench_ddp(args, dist, comm, MPI, norch)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
