"""Autograd overhead: micrograd's sanity-check expression on one-element tensors,
forward and backward, where nearly all the time is per-op and per-node bookkeeping.

    python benchmarks/bench_autograd.py [--repeat 15]
"""
from common import Table, header, norch, parse_args, torch


def sanity_check(lib):
    """micrograd's test_sanity_check (test/test_engine.py), 11 ops, then backward."""
    x = lib.tensor([-4.0], requires_grad=True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return x, y


def main():
    args = parse_args(__doc__)
    print(header(args))
    libs = {"norch": norch, "torch": torch}
    for name, lib in libs.items():
        if lib is None:
            continue
        x, y = sanity_check(lib)
        # micrograd's expected values: y = -20, dy/dx = 46.
        assert abs(y.item() + 20.0) < 1e-6 and abs(x.grad.item() - 46.0) < 1e-6, (name, y, x.grad)
    tab = Table("autograd", others=("torch",))
    tab.add("micrograd sanity check, fwd+bwd", {"norch": lambda: sanity_check(norch),
                                                "torch": (lambda: sanity_check(torch)) if torch else None},
            args.repeat, args.target_ms / 1000)
    tab.print()


if __name__ == "__main__":
    main()
