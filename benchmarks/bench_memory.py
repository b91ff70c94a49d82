"""Allocation behaviour of a training step, norch beside PyTorch: the MLP and LeNet steps of
bench_training.py at batch 64, after a warm-up, with per step the CPU allocator's cache hit
rate, its fresh allocations and fresh bytes (norch.cpu.allocator_stats; PyTorch's CPU
allocator keeps no such counters), and the minor page faults the process took
(getrusage ru_minflt) while each library ran.

    python benchmarks/bench_memory.py [--threads 2] [--steps 50] [--batch 64]
"""
import gc
import resource

import numpy as np

from bench_training import batch, lenet, mlp, step_fn
from common import header, norch, parse_args, torch


def minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(lib, make, shape, steps, warmup=3):
    """Per-step minor page faults and (norch only) allocator counters over `steps` steps."""
    lib.manual_seed(0)
    step = step_fn(lib, make(lib), *batch(lib, shape, np.random.default_rng(1)))
    for _ in range(warmup):
        step()
    gc.collect()
    if lib is norch:
        norch.cpu.reset_allocator_stats()
    f0 = minflt()
    for _ in range(steps):
        step()
    faults = (minflt() - f0) / steps
    row = {"faults": faults}
    if lib is norch:
        s = norch.cpu.allocator_stats()
        small = s["cache_hits"] + s["cache_misses"]
        allocs = small + s["large_allocs"]
        row.update(allocs=allocs / steps, hit_rate=s["cache_hits"] / allocs if allocs else 1.0,
                   fresh=(s["cache_misses"] + s["large_allocs"]) / steps, fresh_bytes=s["fresh_bytes"] / steps,
                   large=s["large_allocs"] / steps)
    return row


def main():
    args = parse_args(__doc__, steps=dict(type=int, default=50, help="measured steps per model"),
                      batch=dict(type=int, default=64, help="batch size"))
    print(header(args))
    b = args.batch
    rows = []
    for name, make, shape in ((f"MLP 784-256-10 step, batch {b}", mlp, (b, 784)),
                              (f"LeNet CNN step, batch {b}", lenet, (b, 1, 28, 28))):
        n = measure(norch, make, shape, args.steps)
        t = measure(torch, make, shape, args.steps) if torch is not None else None
        rows.append((name, n, t))
    head = ["case", "allocs/step", "cache hit rate", "fresh allocs/step", "of them above the cache limit", "fresh KiB/step",
            "norch minflt/step", "torch minflt/step"]
    lines = [[name, f"{n['allocs']:.0f}", f"{100 * n['hit_rate']:.1f}%", f"{n['fresh']:.2f}", f"{n['large']:.2f}",
              f"{n['fresh_bytes'] / 1024:.1f}", f"{n['faults']:.1f}", f"{t['faults']:.1f}" if t else "-"]
             for name, n, t in rows]
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
    print(f"\nallocation per training step ({args.steps} steps after 3 warm-up steps)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for r in lines:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print("(norch's counters come from norch.cpu.allocator_stats(); minflt is the process's minor page "
          "faults while that library's steps ran)")


if __name__ == "__main__":
    main()
