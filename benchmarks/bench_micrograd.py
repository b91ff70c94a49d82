"""Engine overhead: forward + backward of micrograd's sanity-check expression on
one-element tensors, norch vs PyTorch (when installed). Prints microseconds per run."""
import sys
import time


def sanity(lib, dtype):
    x = lib.tensor([-4.0], dtype=dtype, requires_grad=True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return x.grad


def bench(lib, repeat=2000):
    dtype = lib.float64
    for _ in range(200):
        sanity(lib, dtype)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            sanity(lib, dtype)
        best = min(best, (time.perf_counter() - t0) / repeat)
    return best * 1e6


def main():
    import norch
    assert float(sanity(norch, norch.float64).item()) == 46.0  # micrograd's expected dy/dx
    results = {"norch": bench(norch)}
    try:
        import torch
        torch.set_num_threads(1)
        results["torch"] = bench(torch)
    except ImportError:
        pass
    for name, us in results.items():
        print(f"{name:6s} {us:8.1f} us per forward+backward")
    if "torch" in results:
        print(f"ratio norch/torch: {results['norch'] / results['torch']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
