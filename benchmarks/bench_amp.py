"""bfloat16-autocast training steps, norch beside PyTorch under torch.autocast("cpu",
dtype=torch.bfloat16), with the float32 step of the same model beside them: a 784-256-10
ReLU MLP at batch 64 (small, per-op costs show) and a 1024-4096-4096-10 one at batch 256
(GEMM dominates), each with SGD (momentum 0.9) and with Adam. One step is zero_grad, the
forward and loss inside the autocast region, backward and the optimizer step outside it,
as a loop written for torch.autocast does; the parameters stay float32.

    python benchmarks/bench_amp.py [--thread-counts 1,2] [--repeat 7] [--cpu-time] [--quick]

Each thread count gets its own table; `norch/torch` is a time ratio (below 1: norch is
faster). `--quick` drops the large MLP.
"""
import numpy as np

from common import header, norch, parse_args, time_interleaved, torch


def mlp(lib, sizes):
    nn = lib.nn
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def step_fn(lib, model, x, y, opt_name, amp):
    params = list(model.parameters())
    opt = (lib.optim.SGD(params, lr=0.01, momentum=0.9) if opt_name == "SGD" else lib.optim.Adam(params, lr=1e-3))
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        with lib.autocast("cpu", dtype=lib.bfloat16, enabled=amp):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def same_model(sizes, seed):
    """norch and torch models with the same float32 weights."""
    torch.manual_seed(seed)
    tm = mlp(torch, sizes)
    nm = mlp(norch, sizes)
    with torch.no_grad():
        for p, q in zip(nm.parameters(), tm.parameters()):
            p.data = norch.from_numpy(q.detach().numpy().copy())
    return nm, tm


def main():
    args = parse_args(__doc__, thread_counts=dict(default="1,2", help="comma-separated thread counts"),
                      quick=dict(action="store_true", help="only the small MLP"))
    cases = [("784-256-10, batch 64", (784, 256, 10), 64)]
    if not args.quick:
        cases.append(("1024-4096-4096-10, batch 256", (1024, 4096, 4096, 10), 256))
    for threads in [int(t) for t in args.thread_counts.split(",")]:
        norch.set_num_threads(threads)
        torch.set_num_threads(threads)
        args.threads = threads
        print(header(args))
        rows = []
        for label, sizes, bs in cases:
            rng = np.random.default_rng(0)
            xs = rng.standard_normal((bs, sizes[0])).astype(np.float32)
            ys = rng.integers(0, sizes[-1], bs).astype(np.int64)
            for opt_name in ("SGD", "Adam"):
                fns = {}
                for amp in (True, False):
                    nm, tm = same_model(sizes, 0)
                    tag = "amp" if amp else "f32"
                    fns[f"norch {tag}"] = step_fn(norch, nm, norch.from_numpy(xs), norch.from_numpy(ys), opt_name, amp)
                    fns[f"torch {tag}"] = step_fn(torch, tm, torch.from_numpy(xs), torch.from_numpy(ys), opt_name, amp)
                # A large step takes ~0.1 s: fewer, single-call samples there.
                big = sizes[1] >= 1024
                med = time_interleaved(fns, max(3, args.repeat // 2) if big else args.repeat,
                                       0.001 if big else args.target_ms / 1000)
                rows.append((f"{label}, {opt_name}", med))
        head = ["step", "norch amp", "torch amp", "norch/torch amp", "norch f32", "torch f32", "norch/torch f32",
                "norch amp/f32"]
        lines = []
        for case, m in rows:
            lines.append([case, f"{m['norch amp'] * 1e3:.2f} ms", f"{m['torch amp'] * 1e3:.2f} ms",
                          f"{m['norch amp'] / m['torch amp']:.2f}", f"{m['norch f32'] * 1e3:.2f} ms",
                          f"{m['torch f32'] * 1e3:.2f} ms", f"{m['norch f32'] / m['torch f32']:.2f}",
                          f"{m['norch amp'] / m['norch f32']:.2f}"])
        widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
        print(f"\nbfloat16-autocast training step, {threads} thread(s) (per-step medians; ratios are time ratios)")
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        print("  ".join("-" * w for w in widths))
        for r in lines:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        print()


if __name__ == "__main__":
    main()
