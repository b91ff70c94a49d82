"""conv2d in norch beside PyTorch (oneDNN), one shape at a time: forward, the input
gradient alone, the weight gradient alone, and forward with both gradients, each with
the time ratio (norch / torch, lower is better) and norch's GFLOP/s (2 * N * OC * oh *
ow * C/groups * kh * kw per pass), at LeNet's shapes and at the CIFAR example's small
ResNet (examples/cifar10/main.py, width 16, batch 128), then a LeNet-style training step.

    PYTHONPATH=python python3 benchmarks/bench_conv.py [--threads 1] [--cpu-time]
        [--repeat 15] [--only lenet|resnet]

Samples alternate between the libraries so a burst of load hits both; each figure is the
median of `repeat` samples. --cpu-time measures process CPU time, steadier on a busy
machine with 1 thread (with 2 it also counts the threads' waiting)."""
import argparse
import statistics
import time

import numpy as np
import torch

import norch
import norch.nn.functional as F

# (label, input shape, weight shape, stride, padding)
LENET = [
    ("lenet conv1", (64, 1, 28, 28), (6, 1, 5, 5), 1, 0),
    ("lenet conv2", (64, 6, 12, 12), (16, 6, 5, 5), 1, 0),
]
RESNET = [
    ("resnet stem 3->16 @32", (128, 3, 32, 32), (16, 3, 3, 3), 1, 1),
    ("resnet 16->16 @32", (128, 16, 32, 32), (16, 16, 3, 3), 1, 1),
    ("resnet 16->32 s2 @32", (128, 16, 32, 32), (32, 16, 3, 3), 2, 1),
    ("resnet 1x1 16->32 s2", (128, 16, 32, 32), (32, 16, 1, 1), 2, 0),
    ("resnet 32->32 @16", (128, 32, 16, 16), (32, 32, 3, 3), 1, 1),
    ("resnet 32->64 s2 @16", (128, 32, 16, 16), (64, 32, 3, 3), 2, 1),
    ("resnet 1x1 32->64 s2", (128, 32, 16, 16), (64, 32, 1, 1), 2, 0),
    ("resnet 64->64 @8", (128, 64, 8, 8), (64, 64, 3, 3), 1, 1),
]


def timed(fns, repeat, clock):
    """fns: {name: callable}; interleaved samples, each a batch of calls of ~10 ms."""
    counts = {}
    for name, fn in fns.items():
        fn()
        t0 = clock()
        fn()
        counts[name] = max(1, int(0.01 / max(clock() - t0, 1e-6)))
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = clock()
            for _ in range(counts[name]):
                fn()
            samples[name].append((clock() - t0) / counts[name])
    return {name: statistics.median(s) for name, s in samples.items()}


def conv_passes(lib, Fn, x, w, stride, padding):
    """The four timed passes of one library: forward, grad input, grad weight, both."""
    g = lib.ones(*Fn.conv2d(x, w, None, stride, padding).shape) if lib is norch else None

    def fwd():
        with lib.no_grad():
            Fn.conv2d(x, w, None, stride, padding)

    def grad(need_x, need_w):
        xi = x.detach().requires_grad_(need_x)
        wi = w.detach().requires_grad_(need_w)

        def run():
            out = Fn.conv2d(xi, wi, None, stride, padding)
            out.backward(g if g is not None else lib.ones_like(out))
            xi.grad = None
            wi.grad = None
        return run

    return {"forward": fwd, "grad input": grad(True, False), "grad weight": grad(False, True),
            "fwd+both": grad(True, True)}


def conv_rows(cases, repeat, clock):
    rng = np.random.default_rng(0)
    print(f"{'shape':24} {'pass':12} {'norch':>9} {'torch':>9} {'ratio':>6} {'GFLOP/s':>8} {'torch':>7}")
    for label, xs, ws, stride, padding in cases:
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        n = conv_passes(norch, F, norch.tensor(x), norch.tensor(w), stride, padding)
        t = conv_passes(torch, torch.nn.functional, torch.tensor(x), torch.tensor(w), stride, padding)
        oh = (xs[2] + 2 * padding - ws[2]) // stride + 1
        ow = (xs[3] + 2 * padding - ws[3]) // stride + 1
        flop = 2.0 * xs[0] * ws[0] * oh * ow * ws[1] * ws[2] * ws[3]
        for name in n:
            r = timed({"norch": n[name], "torch": t[name]}, repeat, clock)
            passes = {"forward": 1, "grad input": 2, "grad weight": 2, "fwd+both": 3}[name]
            print(f"{label:24} {name:12} {r['norch'] * 1e3:7.3f}ms {r['torch'] * 1e3:7.3f}ms "
                  f"{r['norch'] / r['torch']:6.2f} {passes * flop / r['norch'] / 1e9:8.1f} "
                  f"{passes * flop / r['torch'] / 1e9:7.1f}")


def lenet_step(lib, F_, params, x, y_onehot):
    c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b = params
    h = F_.max_pool2d(lib.relu(F_.conv2d(x, c1w, c1b)), 2)          # [64, 6, 12, 12]
    h = F_.max_pool2d(lib.relu(F_.conv2d(h, c2w, c2b)), 2)          # [64, 16, 4, 4]
    h = h.reshape((h.shape[0], 256))
    h = lib.relu(lib.matmul(h, f1w) + f1b)                          # [64, 120]
    out = lib.matmul(h, f2w) + f2b                                  # [64, 10]
    loss = ((out - y_onehot) * (out - y_onehot)).sum()
    loss.backward()
    return loss


def lenet(repeat, clock):
    rng = np.random.default_rng(0)
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (256, 120), (120,), (120, 10), (10,)]
    arrs = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    n_params = [norch.tensor(a, requires_grad=True) for a in arrs]
    t_params = [torch.tensor(a, requires_grad=True) for a in arrs]
    nx, ny, tx, ty = norch.tensor(x), norch.tensor(y), torch.tensor(x), torch.tensor(y)
    r = timed({"norch": lambda: lenet_step(norch, F, n_params, nx, ny),
               "torch": lambda: lenet_step(torch, torch.nn.functional, t_params, tx, ty)}, repeat, clock)
    print(f"LeNet-style step (batch 64, no optimizer): norch {r['norch'] * 1e3:.3f} ms torch "
          f"{r['torch'] * 1e3:.3f} ms ({r['norch'] / r['torch']:.2f}x)")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("threads_pos", nargs="?", type=int, help=argparse.SUPPRESS)   # the old positional form
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--cpu-time", action="store_true")
    p.add_argument("--only", choices=("lenet", "resnet"))
    a = p.parse_args()
    threads = a.threads or a.threads_pos
    if threads:
        norch.set_num_threads(threads)
        torch.set_num_threads(threads)
    clock = time.process_time if a.cpu_time else time.perf_counter
    print(f"threads: norch {norch.get_num_threads()}, torch {torch.get_num_threads()}; "
          f"clock: {'process CPU time' if a.cpu_time else 'wall'}")
    cases = {"lenet": LENET, "resnet": RESNET, None: LENET + RESNET}[a.only]
    conv_rows(cases, a.repeat, clock)
    if a.only != "resnet":
        lenet(a.repeat, clock)


if __name__ == "__main__":
    main()
