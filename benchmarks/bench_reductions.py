"""Reductions and scans: norch beside NumPy (and PyTorch when installed), best of
several runs, with the norch/NumPy ratio. Usage:

    PYTHONPATH=python python3 benchmarks/bench_reductions.py [--threads N] [--n 16777216]

Note: on a machine with more runnable processes than cores, OpenMP's active
spin-waiting makes multi-threaded kernels slower than one thread; compare with
--threads 1 or OMP_WAIT_POLICY=passive there.
"""
import argparse
import timeit

import numpy as np

import norch

try:
    import torch
except ImportError:
    torch = None


def best_ms(fn, number=5, repeat=7):
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16 * 2**20)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        norch.set_num_threads(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    a = np.random.default_rng(0).standard_normal(args.n).astype(np.float32)
    m = a.reshape(-1, 1024)
    t, tm = norch.from_numpy(a), norch.from_numpy(m)
    cases = [
        ("sum (all)", lambda: t.sum(), lambda: a.sum(), lambda x: x.sum()),
        ("sum (rows)", lambda: tm.sum(1), lambda: m.sum(1), lambda x: x.reshape(-1, 1024).sum(1)),
        ("sum (cols)", lambda: tm.sum(0), lambda: m.sum(0), lambda x: x.reshape(-1, 1024).sum(0)),
        ("amax (all)", lambda: t.amax(), lambda: a.max(), lambda x: x.amax()),
        ("argmax (rows)", lambda: tm.argmax(1), lambda: m.argmax(1), lambda x: x.reshape(-1, 1024).argmax(1)),
        ("var (all)", lambda: t.var(), lambda: a.var(ddof=1), lambda x: x.var()),
        ("cumsum (rows)", lambda: tm.cumsum(1), lambda: m.cumsum(1), lambda x: x.reshape(-1, 1024).cumsum(1)),
    ]
    print(f"n = {args.n} float32, norch threads = {norch.get_num_threads()}")
    print(f"{'op':<16}{'norch ms':>10}{'numpy ms':>10}{'ratio':>8}{'torch ms':>10}")
    tt = torch.from_numpy(a) if torch is not None else None
    for name, fn_norch, fn_numpy, fn_torch in cases:
        n_ms, np_ms = best_ms(fn_norch), best_ms(fn_numpy)
        t_ms = f"{best_ms(lambda: fn_torch(tt)):10.2f}" if tt is not None else f"{'-':>10}"
        print(f"{name:<16}{n_ms:10.2f}{np_ms:10.2f}{n_ms / np_ms:8.2f}{t_ms}")


if __name__ == "__main__":
    main()
