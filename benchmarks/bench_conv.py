"""Times conv2d forward+backward and a LeNet-style training step (batch 64) in norch
and PyTorch side by side and prints the ratio.
Run: PYTHONPATH=python python3 benchmarks/bench_conv.py [threads] [--cpu-time]
Both libraries use `threads`. On a busy shared machine wall-clock minima are noise;
--cpu-time measures the process's CPU time instead, which is stable with 1 thread."""
import sys
import time

import numpy as np
import torch

import norch
import norch.nn.functional as F


CLOCK = time.process_time if "--cpu-time" in sys.argv else time.perf_counter


def best_of(fn, repeat=50):
    fn()
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return min(times) * 1e3


def conv_case(x_shape, w_shape):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape, w_shape[:1]))
    nx, nw, nb = (norch.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))

    def n_step():
        F.conv2d(nx, nw, nb).sum().backward()

    def t_step():
        torch.nn.functional.conv2d(tx, tw, tb).sum().backward()

    def n_fwd():
        with norch.no_grad():
            F.conv2d(nx, nw, nb)

    def t_fwd():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb)

    return best_of(n_fwd), best_of(t_fwd), best_of(n_step), best_of(t_step)


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


def lenet():
    rng = np.random.default_rng(0)
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (256, 120), (120,), (120, 10), (10,)]
    arrs = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    np_params = [norch.tensor(a, requires_grad=True) for a in arrs]
    t_params = [torch.tensor(a, requires_grad=True) for a in arrs]
    n = best_of(lambda: lenet_step(norch, F, np_params, norch.tensor(x), norch.tensor(y)))
    t = best_of(lambda: lenet_step(torch, torch.nn.functional, t_params, torch.tensor(x), torch.tensor(y)))
    return n, t


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if args:
        norch.set_num_threads(int(args[0]))
        torch.set_num_threads(int(args[0]))
    print(f"threads: norch {norch.get_num_threads()}, torch {torch.get_num_threads()}")
    for xs, ws in [((64, 1, 28, 28), (6, 1, 5, 5)), ((64, 6, 12, 12), (16, 6, 5, 5))]:
        nf, tf, nb, tb = conv_case(xs, ws)
        print(f"conv2d {xs} x {ws}: forward norch {nf:.2f} ms torch {tf:.2f} ms ({nf / tf:.2f}x); "
              f"forward+backward norch {nb:.2f} ms torch {tb:.2f} ms ({nb / tb:.2f}x)")
    n, t = lenet()
    print(f"LeNet training step (batch 64): norch {n:.2f} ms torch {t:.2f} ms ({n / t:.2f}x)")
