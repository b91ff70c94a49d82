"""Core op benchmarks: per-op overhead, memory-bound elementwise and reduction, matmul.

    python benchmarks/bench_core.py [--threads 2] [--repeat 15]
"""
import operator

import numpy as np

from common import Table, header, norch, parse_args, torch


def main():
    args = parse_args(__doc__)
    print(header(args))
    rng = np.random.default_rng(0)
    tab = Table("core ops")
    target = args.target_ms / 1000

    def trio(*arrays):
        """The same data as norch tensors, NumPy arrays and torch tensors."""
        arrays = [np.ascontiguousarray(a) for a in arrays]
        n = [norch.from_numpy(a) for a in arrays]
        t = [torch.from_numpy(a) for a in arrays] if torch is not None else None
        return n, arrays, t

    # Tiny op: what one Python-level op costs, nearly all of it framework overhead.
    (na, nb), (pa, pb), tt = trio(*rng.random((2, 4), dtype=np.float32))
    tab.add("a + b, shape [4]", {"norch": lambda: na + nb, "numpy": lambda: pa + pb,
                                 "torch": (lambda: tt[0] + tt[1]) if tt else None}, args.repeat, target)
    # A Python number operand (a wrapped number, cast to the tensor's dtype) and the
    # in-place form (no output to allocate; the version counter is bumped).
    tab.add("a * 2, shape [4]", {"norch": lambda: na * 2, "numpy": lambda: pa * 2,
                                 "torch": (lambda: tt[0] * 2) if tt else None}, args.repeat, target)
    tab.add("a += b, shape [4]", {"norch": lambda: operator.iadd(na, nb), "numpy": lambda: operator.iadd(pa, pb),
                                  "torch": (lambda: operator.iadd(tt[0], tt[1])) if tt else None}, args.repeat, target)

    # Memory-bound: 16M float32 each way into a fresh output (reads 2, writes 1 buffer).
    n16 = 16 * 1024 * 1024
    (na, nb), (pa, pb), tt = trio(rng.random(n16, dtype=np.float32), rng.random(n16, dtype=np.float32))
    tab.add("add 16M float32", {"norch": lambda: na + nb, "numpy": lambda: pa + pb,
                                "torch": (lambda: tt[0] + tt[1]) if tt else None},
            args.repeat, target, work=3 * 4 * n16, unit="B")
    tab.add("sum 16M float32", {"norch": lambda: na.sum(), "numpy": lambda: pa.sum(),
                                "torch": (lambda: tt[0].sum()) if tt else None},
            args.repeat, target, work=4 * n16, unit="B")
    del na, nb, pa, pb, tt

    # Matmul: a square one that the packed GEMM's throughput decides, and an MLP batch
    # (64 x 784 @ 784 x 256) where packing and threading overheads show.
    for m, k, n in ((1024, 1024, 1024), (64, 784, 256)):
        (na, nb), (pa, pb), tt = trio(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32))
        tab.add(f"matmul {m}x{k} @ {k}x{n} float32", {"norch": lambda: na @ nb, "numpy": lambda: pa @ pb,
                                                     "torch": (lambda: tt[0] @ tt[1]) if tt else None},
                args.repeat, target, work=2 * m * k * n, unit="FLOP")
    tab.print()

    # The packed GEMM against the plain loop it is tested against (STYLE: keep the simple
    # kernel beside the fast one, and measure the difference).
    ref = Table("matmul: fast kernel vs the reference loop", others=("reference",))
    for m, k, n in ((256, 256, 256), (64, 784, 256)):
        na = norch.from_numpy(rng.random((1, m, k), dtype=np.float32))
        nb = norch.from_numpy(rng.random((1, k, n), dtype=np.float32))
        ref.add(f"bmm 1x{m}x{k} @ 1x{k}x{n} float32",
                {"norch": lambda: norch.bmm(na, nb), "reference": lambda: norch._C._bmm_reference(na, nb)},
                args.repeat, target, work=2 * m * k * n, unit="FLOP")
    ref.print()


if __name__ == "__main__":
    main()
