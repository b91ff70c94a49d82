"""norch on CUDA beside PyTorch on CUDA, in one run, with the issue's targets checked:

  elementwise add of 256M float32    >= 85% of the device-to-device copy bandwidth of this run
  sum of 256M float32                >= 80% of that bandwidth (bytes read per second)
  float32 matmul 4096^3              >= 0.95x PyTorch's TFLOP/s (full FP32, no TF32 on either side)
  784-256-10 MLP and LeNet steps     no slower than PyTorch, batch 64 and 1024
  seed 002's example on cuda         <= 0.5x PyTorch's time

    python benchmarks/bench_cuda.py [--repeat 7] [--numel 268435456] [--json out.json]

Each sample synchronizes both libraries' devices before and after a batch of calls, and
norch and PyTorch samples are interleaved, so a slow moment hits both. Without a GPU it
says so, runs every case once on the CPU at a tiny size (so the cases and their PyTorch
side stay runnable) and exits 0; --require-gpu makes that exit 1 instead.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import norch  # noqa: E402

try:
    import torch
except ImportError:  # the norch side still runs; ratios are left out
    torch = None

LIBS = {"norch": norch, "torch": torch}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7, help="samples per library (the median is reported)")
    p.add_argument("--target-ms", type=float, default=50.0, help="approximate duration of one sample")
    p.add_argument("--numel", type=int, default=256 * 1024 * 1024, help="elements for add, copy and sum")
    p.add_argument("--matmul-n", type=int, default=4096, help="n of the n x n x n float32 matmul")
    p.add_argument("--seed-epochs", type=int, default=10, help="epochs of seed 002's example (as written: 10)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--require-gpu", action="store_true", help="exit 1 when no CUDA device is available")
    return p.parse_args(argv)


def _sync(lib, device):
    if device == "cuda":
        lib.cuda.synchronize()


def time_interleaved(fns, device, repeat, target_s):
    """Median seconds per call of each function, samples interleaved across libraries."""
    batch = {}
    for name, fn in fns.items():
        lib = LIBS[name]
        fn()
        _sync(lib, device)
        t0 = time.perf_counter()
        fn()
        _sync(lib, device)
        one = max(time.perf_counter() - t0, 1e-7)
        batch[name] = max(1, min(10000, int(target_s / one)))
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            lib = LIBS[name]
            _sync(lib, device)
            t0 = time.perf_counter()
            for _ in range(batch[name]):
                fn()
            _sync(lib, device)
            samples[name].append((time.perf_counter() - t0) / batch[name])
    return {name: statistics.median(v) for name, v in samples.items()}


# --- the cases: each returns {lib name: a no-argument function doing one call} ---------------

def case_copy(n, device):
    fns = {}
    for name, lib in LIBS.items():
        if lib is None:
            continue
        src = lib.ones(n, device=device)
        dst = lib.empty(n, device=device)
        fns[name] = (lambda d=dst, s=src: d.copy_(s))
    return fns


def case_add(n, device):
    fns = {}
    for name, lib in LIBS.items():
        if lib is None:
            continue
        a, b = lib.ones(n, device=device), lib.ones(n, device=device)
        fns[name] = (lambda a=a, b=b: a + b)
    return fns


def case_sum(n, device):
    fns = {}
    for name, lib in LIBS.items():
        if lib is None:
            continue
        a = lib.ones(n, device=device)
        fns[name] = (lambda a=a: a.sum())
    return fns


def case_matmul(n, device):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    fns = {}
    for name, lib in LIBS.items():
        if lib is None:
            continue
        x, y = lib.tensor(a).to(device), lib.tensor(b).to(device)
        fns[name] = (lambda x=x, y=y: x @ y)
    return fns


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def case_training(make, shape, device):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(shape).astype(np.float32)
    y_np = rng.integers(0, 10, shape[0]).astype(np.int64)
    fns = {}
    for name, lib in LIBS.items():
        if lib is None:
            continue
        lib.manual_seed(0)
        model = make(lib).to(device)
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = lib.nn.CrossEntropyLoss()
        x, y = lib.tensor(x_np).to(device), lib.tensor(y_np).to(device)

        def step(model=model, opt=opt, loss_fn=loss_fn, x=x, y=y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        fns[name] = step
    return fns


def seed_example(lib, device, epochs):
    """Seed 002's example as written, with `device = "cuda"`, without its printing."""
    nn, optim = lib.nn, lib.optim

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(1, 10)
            self.sigmoid = nn.Sigmoid()
            self.fc2 = nn.Linear(10, 1)

        def forward(self, x):
            return self.fc2(self.sigmoid(self.fc1(x)))

    model = MyModel().to(device)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.001)
    x_values = [i * 0.4 for i in range(51)]
    y_true = [math.pow(math.sin(x), 2) for x in x_values]
    loss = None
    for _ in range(epochs):
        for x, target in zip(x_values, y_true):
            x = lib.Tensor([[x]]).T.to(device)
            target = lib.Tensor([[target]]).T.to(device)
            outputs = model(x)
            loss = criterion(outputs, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return float(loss.item())


def case_seed(device, epochs):
    return {name: (lambda lib=lib: seed_example(lib, device, epochs)) for name, lib in LIBS.items() if lib is not None}


def cases(args, device):
    """(name, make the functions, work per call, unit) for every row."""
    n, m = args.numel, args.matmul_n
    rows = [
        ("d2d copy", f"device-to-device copy, {n:,} float32", lambda: case_copy(n, device), 2 * 4 * n, "B"),
        ("add", f"add, {n:,} float32", lambda: case_add(n, device), 3 * 4 * n, "B"),
        ("sum", f"sum, {n:,} float32", lambda: case_sum(n, device), 4 * n, "B"),
        ("matmul", f"matmul {m}x{m}x{m} float32", lambda: case_matmul(m, device), 2 * m ** 3, "FLOP"),
    ]
    for bs in (64, 1024):
        rows.append((f"mlp{bs}", f"MLP 784-256-10 step, batch {bs}",
                     lambda bs=bs: case_training(mlp, (bs, 784), device), None, ""))
        rows.append((f"lenet{bs}", f"LeNet step, batch {bs}",
                     lambda bs=bs: case_training(lenet, (bs, 1, 28, 28), device), None, ""))
    rows.append(("seed002", "seed 002 example on cuda, end to end", lambda: case_seed(device, args.seed_epochs),
                 None, ""))
    return rows


def dry_run(args):
    """No GPU: every case once on the CPU at a tiny size, both libraries, nothing timed."""
    small = argparse.Namespace(**{**vars(args), "numel": 1024, "matmul_n": 16, "seed_epochs": 1})
    failures = 0
    for key, title, make, _, _ in cases(small, "cpu"):
        try:
            for fn in make().values():
                fn()
            print(f"  ok    {title} (cpu, tiny)")
        except Exception as e:  # a broken case is reported, and fails the dry run
            failures += 1
            print(f"  FAIL  {title}: {type(e).__name__}: {e}")
    return failures


def _rate(work, t, unit):
    if not work or not t:
        return "-"
    r = work / t
    return f"{r / 1e12:.1f} TFLOP/s" if unit == "FLOP" else f"{r / 1e9:.0f} GB/s"


def main(argv=None):
    args = parse_args(argv)
    print(f"norch {getattr(norch, '__version__', '?')}, torch {torch.__version__ if torch else 'not installed'}, "
          f"numpy {np.__version__}")
    if not norch.cuda.is_available():
        why = "norch was built without CUDA" if not norch.cuda.is_compiled() else norch._C._cuda.status()[3]
        print(f"no CUDA device: norch.cuda.is_available() is False ({why or 'no GPU found'}); "
              f"torch.cuda.is_available() is {torch.cuda.is_available() if torch else '-'}. Nothing was timed.")
        print("dry run of every case on the CPU at a tiny size:")
        failures = dry_run(args)
        if failures:
            return 1
        return 1 if args.require_gpu else 0
    if torch is not None and not torch.cuda.is_available():
        print("PyTorch here has no CUDA: norch is timed alone")
        LIBS["torch"] = None
    if LIBS["torch"] is not None:
        torch.backends.cuda.matmul.allow_tf32 = False  # full FP32 on both sides (norch's default)
        print(f"device: {torch.cuda.get_device_name()}")
    results = {}
    print(f"\n{'case':40} {'norch':>11} {'torch':>11} {'norch/torch':>11} {'norch rate':>15} {'torch rate':>15}")
    for key, title, make, work, unit in cases(args, "cuda"):
        fns = None
        try:
            fns = make()
            repeat = max(3, args.repeat // 2) if key == "seed002" else args.repeat
            med = time_interleaved(fns, "cuda", repeat, 0 if key == "seed002" else args.target_ms / 1000)
        except Exception as e:  # a missing CUDA kernel is a row that says so, not the end of the run
            print(f"{title:40} norch failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
            results[key] = {"error": f"{type(e).__name__}: {e}"}
            continue
        finally:
            fns = None  # the case's tensors go before the caches are emptied
            norch.cuda.empty_cache()
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()
        n, t = med.get("norch"), med.get("torch")
        ratio = n / t if n and t else None
        results[key] = {"norch_s": n, "torch_s": t, "ratio": ratio, "work": work, "unit": unit}
        print(f"{title:40} {n * 1e3:9.3f}ms {t * 1e3 if t else float('nan'):9.3f}ms "
              f"{ratio if ratio else float('nan'):11.2f} {_rate(work, n, unit):>15} {_rate(work, t, unit):>15}")
    print("\ntargets:")
    lines = check_targets(results)
    for line in lines:
        print("  " + line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "targets": lines}, f, indent=2)
    return 0


def check_targets(r):
    """The issue's targets as lines 'met'/'MISSED' (or why they could not be judged)."""
    def bw(key, lib):
        x = r.get(key, {})
        return x.get("work") / x[f"{lib}_s"] if x.get(f"{lib}_s") else None

    out = []
    copy_bw = max(filter(None, (bw("d2d copy", "norch"), bw("d2d copy", "torch"))), default=None)
    for key, goal, what in (("add", 0.85, "add"), ("sum", 0.80, "sum")):
        b = bw(key, "norch")
        if b and copy_bw:
            out.append(f"{what}: {b / 1e9:.0f} GB/s = {b / copy_bw:.0%} of the copy bandwidth {copy_bw / 1e9:.0f} GB/s "
                       f"(target {goal:.0%}): {'met' if b / copy_bw >= goal else 'MISSED'}")
        else:
            out.append(f"{what}: not measured")
    for key, goal, cmp, what in (("matmul", 0.95, "tflops", "matmul 4096^3"),
                                 ("mlp64", 1.0, "time", "MLP batch 64"), ("mlp1024", 1.0, "time", "MLP batch 1024"),
                                 ("lenet64", 1.0, "time", "LeNet batch 64"),
                                 ("lenet1024", 1.0, "time", "LeNet batch 1024"),
                                 ("seed002", 0.5, "time", "seed 002 example")):
        x = r.get(key, {})
        if not x.get("ratio"):
            out.append(f"{what}: not measured ({x.get('error', 'no PyTorch CUDA to compare with')[:80]})")
        elif cmp == "tflops":
            speed = 1 / x["ratio"]
            out.append(f"{what}: {speed:.2f}x PyTorch's TFLOP/s (target >= {goal}x): "
                       f"{'met' if speed >= goal else 'MISSED'}")
        else:
            out.append(f"{what}: norch/torch time {x['ratio']:.2f} (target <= {goal}): "
                       f"{'met' if x['ratio'] <= goal else 'MISSED'}")
    return out


if __name__ == "__main__":
    sys.exit(main())
