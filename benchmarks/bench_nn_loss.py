"""Times the loss side of a 784-256-10 MLP step (cross_entropy forward+backward,
and the whole forward+backward) and the fused norms in norch and PyTorch, side by side.

    PYTHONPATH=python python3 benchmarks/bench_nn_loss.py
"""
import timeit

import numpy as np
import torch
import torch.nn.functional as TF

import norch
import norch.nn.functional as F


def best(fn, number):
    fn()
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6  # microseconds


def main():
    # One thread each: the comparison is of the kernels, not of thread scheduling.
    torch.set_num_threads(1)
    norch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for B in (64, 256):
        x = rng.standard_normal((B, 784)).astype(np.float32)
        y = rng.integers(0, 10, B)
        w1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
        w2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
        logits = rng.standard_normal((B, 10)).astype(np.float32)
        nx, ny, nl = norch.tensor(x), norch.tensor(y), norch.tensor(logits, requires_grad=True)
        tx, ty, tl = torch.tensor(x), torch.tensor(y), torch.tensor(logits, requires_grad=True)
        nw1, nw2 = norch.tensor(w1, requires_grad=True), norch.tensor(w2, requires_grad=True)
        tw1, tw2 = torch.tensor(w1, requires_grad=True), torch.tensor(w2, requires_grad=True)
        rows = [
            ("cross_entropy fwd", lambda: F.cross_entropy(nl.detach(), ny),
             lambda: TF.cross_entropy(tl.detach(), ty)),
            ("cross_entropy fwd+bwd", lambda: F.cross_entropy(nl, ny).backward(),
             lambda: TF.cross_entropy(tl, ty).backward()),
            ("log_softmax fwd+bwd", lambda: F.log_softmax(nl, 1).sum().backward(),
             lambda: TF.log_softmax(tl, 1).sum().backward()),
            ("mse_loss fwd+bwd", lambda: F.mse_loss(nl, nl.detach() * 0.5).backward(),
             lambda: TF.mse_loss(tl, tl.detach() * 0.5).backward()),
            ("MLP fwd+bwd", lambda: F.cross_entropy(norch.relu(nx.matmul(nw1)).matmul(nw2), ny).backward(),
             lambda: TF.cross_entropy(torch.relu(tx.matmul(tw1)).matmul(tw2), ty).backward()),
        ]
        for name, fn_n, fn_t in rows:
            tn, tt_ = best(fn_n, 200), best(fn_t, 200)
            print(f"B={B:4d} {name:24s} norch {tn:9.1f} us  torch {tt_:9.1f} us  ratio {tn / tt_:5.2f}")
    x = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    w = rng.standard_normal(64).astype(np.float32)
    nx, tx = norch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nw, tw = norch.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    h = rng.standard_normal((256, 1024)).astype(np.float32)
    nh, th = norch.tensor(h, requires_grad=True), torch.tensor(h, requires_grad=True)
    nlw, tlw = norch.tensor(np.ones(1024, np.float32), requires_grad=True), torch.ones(1024, requires_grad=True)
    rows = [
        ("batch_norm [32,64,16,16]", lambda: F.batch_norm(nx, None, None, nw, nw, True).sum().backward(),
         lambda: TF.batch_norm(tx, None, None, tw, tw, True).sum().backward()),
        ("group_norm [32,64,16,16]", lambda: F.group_norm(nx, 8, nw, nw).sum().backward(),
         lambda: TF.group_norm(tx, 8, tw, tw).sum().backward()),
        ("layer_norm [256,1024]", lambda: F.layer_norm(nh, (1024,), nlw, nlw).sum().backward(),
         lambda: TF.layer_norm(th, (1024,), tlw, tlw).sum().backward()),
    ]
    for name, fn_n, fn_t in rows:
        tn, tt_ = best(fn_n, 10), best(fn_t, 10)
        print(f"fwd+bwd {name:24s} norch {tn:9.1f} us  torch {tt_:9.1f} us  ratio {tn / tt_:5.2f}")


if __name__ == "__main__":
    main()
