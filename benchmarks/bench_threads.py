"""Do threads ever hurt? norch (and PyTorch beside it) on 1 and 2 threads, on the machine
as it is and with a busy neighbour: processes this script starts that spin on every core
for the length of the measurement, as a shared server or a laptop running a build does.

    python benchmarks/bench_threads.py [--repeat 7] [--neighbours N] [--no-torch]

For each case the table gives the best-of-N time on 1 and 2 threads and their ratio
(2-thread time / 1-thread time: below 1 is a speed-up, above 1 means the second thread
made it slower). The OpenMP settings norch runs with are printed first.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import norch  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SPIN = "import os, signal\nsignal.signal(signal.SIGTERM, lambda *a: os._exit(0))\nwhile True:\n    pass\n"


def best_time(fn, repeat, target_s):
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= target_s / 2 or n >= 4096:
            break
        n *= 2
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def step_fn(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def cases(lib, rng):
    """(name, callable) pairs on the same data for norch or torch."""
    t = lib.from_numpy
    out = []
    for m, k, n in ((1024, 1024, 1024), (64, 784, 256), (256, 256, 256)):
        a, b = t(rng.random((m, k), dtype=np.float32)), t(rng.random((k, n), dtype=np.float32))
        out.append((f"matmul {m}x{k} @ {k}x{n}", lambda a=a, b=b: a @ b))
    x, y = t(rng.random(1 << 24, dtype=np.float32)), t(rng.random(1 << 24, dtype=np.float32))
    out.append(("add 16M float32", lambda: x + y))
    out.append(("sum 16M float32", lambda: x.sum()))
    small = t(rng.random(4096, dtype=np.float32))
    out.append(("add 4096 float32", lambda: small + small))
    for name, make, shape in (("MLP 784-256-10 step, batch 64", mlp, (64, 784)),
                              ("LeNet step, batch 64", lenet, (64, 1, 28, 28))):
        xb = lib.tensor(rng.standard_normal(shape).astype(np.float32))
        yb = lib.tensor(rng.integers(0, 10, shape[0]).astype(np.int64))
        out.append((name, step_fn(lib, make(lib), xb, yb)))
    return out


def measure(lib, set_threads, repeat, target_s):
    rng = np.random.default_rng(0)
    res = {}
    for name, fn in cases(lib, rng):
        for nt in (1, 2):
            set_threads(nt)
            res[(name, nt)] = best_time(fn, repeat, target_s)
    return res


def load_line():
    return "load avg " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--target-ms", type=float, default=20.0)
    p.add_argument("--neighbours", type=int, default=os.cpu_count() or 2, help="spinning processes to start")
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args()
    libs = {"norch": (norch, norch.set_num_threads)}
    if torch is not None and not args.no_torch:
        libs["torch"] = (torch, torch.set_num_threads)
    print(f"norch OpenMP settings: {norch._omp_defaults or 'as the environment sets them'}; {os.cpu_count()} CPUs; {load_line()}")
    results = {}
    for label in ("as is", "busy neighbour"):
        procs = []
        if label == "busy neighbour":
            procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.neighbours)]
            time.sleep(0.3)
        try:
            loads = load_line()
            for lib_name, (lib, set_threads) in libs.items():
                results[(label, lib_name)] = measure(lib, set_threads, args.repeat, args.target_ms / 1000)
        finally:
            for pr in procs:
                pr.terminate()
            for pr in procs:
                pr.wait()
        print(f"measured '{label}' with {len(procs)} spinning neighbour(s), {loads}")
    names = [n for n, _ in cases(norch, np.random.default_rng(0))]
    head = ["case"]
    for label in ("as is", "busy neighbour"):
        for lib_name in libs:
            head += [f"{lib_name} 1T", "2T", "2T/1T"]
        head.append("|")
    rows = []
    for name in names:
        row = [name]
        for label in ("as is", "busy neighbour"):
            for lib_name in libs:
                r = results[(label, lib_name)]
                t1, t2 = r[(name, 1)], r[(name, 2)]
                row += [f"{t1 * 1e3:.3g} ms", f"{t2 * 1e3:.3g} ms", f"{t2 / t1:.2f}"]
            row.append("|")
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print("\ncolumns: machine as is | with the busy neighbour; best-of-N times; 2T/1T > 1 means 2 threads hurt")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
