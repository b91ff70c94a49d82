"""Benchmark harness: times norch, NumPy and (when importable) PyTorch side by side.

Every case runs its implementations interleaved (norch, numpy, torch, norch, ...), so
a burst of load from elsewhere on the machine hits them all alike; each sample times a
batch of calls sized to take about `target_s`, and the table reports per-call medians.
Ratios are time ratios: norch/torch = 2.0 means norch takes twice as long as PyTorch.
"""
import argparse
import os
import statistics
import sys
import time

# The checkout's python/ comes first when scripts/build.sh has put the extension there;
# otherwise (a fresh clone after `pip install .`) the installed package is the one timed.
_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
if any(name.startswith("_C.") for name in os.listdir(os.path.join(_SOURCE, "norch"))):
    sys.path.insert(0, _SOURCE)


def _threads_from_argv(default=2):
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


# NumPy's BLAS reads its thread count when it loads, so it is set before the import:
# all three libraries then get the same number of threads, and idle BLAS threads do not
# spin on cores that the other libraries are being timed on.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads_from_argv())

import numpy as np  # noqa: E402

import norch  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None

IMPLS = ("norch", "numpy", "torch")
_clock = time.perf_counter


def parse_args(description, **extra):
    """Common flags: --repeat (samples per implementation), --threads, --target-ms."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--repeat", type=int, default=15, help="samples per implementation (median reported)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads for norch and torch")
    p.add_argument("--target-ms", type=float, default=20.0, help="approximate duration of one sample")
    p.add_argument("--cpu-time", action="store_true",
                   help="time with process CPU time (all threads summed) instead of wall time: steadier "
                        "on a busy machine, but it counts threads' spinning and not their parallel speed-up")
    for name, kw in extra.items():
        p.add_argument("--" + name.replace("_", "-"), **kw)
    args = p.parse_args()
    global _clock
    _clock = time.process_time if args.cpu_time else time.perf_counter
    norch.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    return args


def _calls_per_sample(fn, target_s):
    fn()  # warm up: first-touch allocation, thread pool start, lazy dispatch tables
    n, elapsed = 1, 0.0
    while True:
        t0 = _clock()
        for _ in range(n):
            fn()
        elapsed = _clock() - t0
        if elapsed >= target_s / 4 or n >= 1 << 20:
            break
        n *= 4
    return max(1, int(n * target_s / max(elapsed, 1e-9)))


def time_interleaved(fns, repeat=15, target_s=0.02):
    """fns: {impl name: callable}. Returns {impl name: median seconds per call}."""
    counts = {name: _calls_per_sample(fn, target_s) for name, fn in fns.items()}
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            n = counts[name]
            t0 = _clock()
            for _ in range(n):
                fn()
            samples[name].append((_clock() - t0) / n)
    return {name: statistics.median(s) for name, s in samples.items()}


def _fmt_time(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


class Table:
    """Collects rows and prints them. `others` names the implementations norch is compared
    with (a column each, and a norch/<other> ratio each); `work` per call (FLOPs, bytes)
    with its `unit` adds norch's and the first other's rate in G<unit>/s."""

    def __init__(self, title, others=("numpy", "torch")):
        self.title = title
        self.others = list(others)
        self.rows = []

    def add(self, case, fns, repeat, target_s, work=None, unit=""):
        fns = {k: v for k, v in fns.items() if v is not None}
        med = time_interleaved(fns, repeat, target_s)
        self.rows.append((case, med, work, unit))
        return med

    def print(self, file=sys.stdout):
        rated = self.others[-1]
        head = (["case", "norch"] + self.others + [f"norch/{o}" for o in self.others] +
                ["norch rate", f"{rated} rate"])
        lines = []
        for case, med, work, unit in self.rows:
            n = med.get("norch")
            row = [case, _fmt_time(n)] + [_fmt_time(med.get(o)) for o in self.others]
            row += [f"{n / med[o]:.2f}" if n and med.get(o) else "-" for o in self.others]
            for impl in ("norch", rated):
                t = med.get(impl)
                row.append(f"{work / t / 1e9:.1f} G{unit}/s" if work and t else "-")
            lines.append(row)
        widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
        print(f"\n{self.title}", file=file)
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)), file=file)
        print("  ".join("-" * w for w in widths), file=file)
        for r in lines:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)), file=file)
        print("(times are per-call medians; ratios are norch time / other time, lower is better for norch)",
              file=file)


def header(args):
    """One line naming the machine state the numbers came from."""
    parts = [f"norch threads={args.threads}", f"simd={norch._C._simd_level()}",
             "clock=cpu time" if args.cpu_time else "clock=wall"]
    if torch is not None:
        parts.append(f"torch {torch.__version__}")
    parts.append(f"numpy {np.__version__}")
    try:
        parts.append("load avg " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    except OSError:
        pass
    return ", ".join(parts)
