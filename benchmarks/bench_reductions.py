"""Reductions and scans over 16M elements (float32, float64, int64): whole tensor, rows, columns.

    python benchmarks/bench_reductions.py [--threads 2] [--repeat 15] [--cpu-time]
                                          [--dtypes float32,float64,int64] [--only sum,var]

Rates count the bytes of input read once (16M x itemsize): these reductions are bound by
memory bandwidth, so the rate says how close each library comes to streaming its input.
"""
import numpy as np

from common import Table, header, norch, parse_args, torch


def cases_for(dtype):
    """(name, norch/torch call, NumPy call on the same array, which array) for one dtype."""
    floating = dtype != "int64"
    out = [
        ("sum 16M", lambda x: x.sum(), lambda a: a.sum(), "flat"),
        ("sum rows [16384, 1024] dim 1", lambda x: x.sum(1), lambda a: a.sum(1), "rows"),
        ("sum cols [16384, 1024] dim 0", lambda x: x.sum(0), lambda a: a.sum(0), "rows"),
        ("sum rows [1M, 16] dim 1", lambda x: x.sum(1), lambda a: a.sum(1), "narrow"),
        ("amax 16M", lambda x: x.amax(), lambda a: a.max(), "flat"),
        ("amin 16M", lambda x: x.amin(), lambda a: a.min(), "flat"),
        ("amax rows dim 1", lambda x: x.amax(1), lambda a: a.max(1), "rows"),
        ("argmax 16M", lambda x: x.argmax(), lambda a: a.argmax(), "flat"),
        ("argmax rows dim 1", lambda x: x.argmax(1), lambda a: a.argmax(1), "rows"),
        ("argmax cols dim 0", lambda x: x.argmax(0), lambda a: a.argmax(0), "rows"),
    ]
    if floating:
        out += [
            ("mean 16M", lambda x: x.mean(), lambda a: a.mean(), "flat"),
            ("mean rows dim 1", lambda x: x.mean(1), lambda a: a.mean(1), "rows"),
            ("var 16M", lambda x: x.var(), lambda a: a.var(ddof=1), "flat"),
            ("std 16M", lambda x: x.std(), lambda a: a.std(ddof=1), "flat"),
            ("var rows dim 1", lambda x: x.var(1), lambda a: a.var(1, ddof=1), "rows"),
            ("prod 16M", lambda x: x.prod(), lambda a: a.prod(), "near1"),
            ("cumsum rows dim 1", lambda x: x.cumsum(1), lambda a: a.cumsum(1), "rows"),
        ]
    return out


def main():
    args = parse_args(__doc__, dtypes=dict(default="float32,float64,int64"), only=dict(default=""))
    print(header(args))
    target = args.target_ms / 1000
    only = [s for s in args.only.split(",") if s]
    n = 16 * 1024 * 1024
    rng = np.random.default_rng(0)
    normal = rng.standard_normal(n)
    for dtype in args.dtypes.split(","):
        if dtype == "int64":
            flat = rng.integers(-1000, 1000, n, dtype=np.int64)
            near1 = flat
        else:
            flat = normal.astype(dtype)
            # A product of 16M values near 1 stays finite and normal (no denormal slow path).
            near1 = (1 + 1e-4 * normal).astype(dtype)
        arrays = {"flat": flat, "rows": flat.reshape(-1, 1024), "narrow": flat.reshape(-1, 16), "near1": near1}
        nt = {k: norch.from_numpy(v) for k, v in arrays.items()}
        tt = {k: torch.from_numpy(v) for k, v in arrays.items()} if torch is not None else None
        tab = Table(f"reductions, {dtype}")
        for name, call, np_call, which in cases_for(dtype):
            if only and not any(o in name for o in only):
                continue
            a, arr = nt[which], arrays[which]
            t = tt[which] if tt is not None else None
            tab.add(name, {"norch": lambda: call(a), "numpy": lambda: np_call(arr),
                           "torch": (lambda: call(t)) if t is not None else None},
                    args.repeat, target, work=arr.nbytes, unit="B")
        tab.print()


if __name__ == "__main__":
    main()
