"""Reductions and scans over 16M float32: whole tensor, rows, columns.

    python benchmarks/bench_reductions.py [--threads 2] [--repeat 15] [--cpu-time]
"""
import numpy as np

from common import Table, header, norch, parse_args, torch


def main():
    args = parse_args(__doc__)
    print(header(args))
    target = args.target_ms / 1000
    n = 16 * 1024 * 1024
    flat = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    rows = flat.reshape(-1, 1024)
    nf, nr = norch.from_numpy(flat), norch.from_numpy(rows)
    tf, tr = (torch.from_numpy(flat), torch.from_numpy(rows)) if torch is not None else (None, None)
    cases = [  # (name, call on a norch/torch tensor, the NumPy call)
        ("sum 16M", lambda x: x.sum(), lambda: flat.sum(), True),
        ("sum rows [16384, 1024] dim 1", lambda x: x.sum(1), lambda: rows.sum(1), False),
        ("sum cols [16384, 1024] dim 0", lambda x: x.sum(0), lambda: rows.sum(0), False),
        ("amax 16M", lambda x: x.amax(), lambda: flat.max(), True),
        ("argmax rows dim 1", lambda x: x.argmax(1), lambda: rows.argmax(1), False),
        ("var 16M", lambda x: x.var(), lambda: flat.var(ddof=1), True),
        ("cumsum rows dim 1", lambda x: x.cumsum(1), lambda: rows.cumsum(1), False),
    ]
    tab = Table("reductions, float32")
    for name, call, np_call, is_flat in cases:
        a, t = (nf, tf) if is_flat else (nr, tr)
        tab.add(name, {"norch": lambda: call(a), "numpy": np_call,
                       "torch": (lambda: call(t)) if t is not None else None},
                args.repeat, target, work=4 * n, unit="B")
    tab.print()


if __name__ == "__main__":
    main()
