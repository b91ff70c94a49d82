"""The CUDA matmul ladder beside cuBLAS and PyTorch: float32 square matmuls through
norch's naive, tiled and cublas kernels (Note [CUDA matmul ladder]) and torch.mm, in
FP32 and with TF32 allowed, as TFLOP/s and as a ratio to PyTorch's time.
Run on a GPU machine: PYTHONPATH=python python3 benchmarks/bench_cuda_matmul.py [--sizes 1024,4096]
The naive and tiled kernels are skipped above --ladder-max (they take seconds there)."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import norch  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def timed(fn, sync, repeat):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="512,1024,2048,4096")
    p.add_argument("--ladder-max", type=int, default=2048)
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    if not norch.cuda.is_available():
        print("bench_cuda_matmul: no CUDA device; nothing to time")
        return
    torch_ok = torch is not None and torch.cuda.is_available()
    print(f"norch {norch.__version__}; torch {torch.__version__ if torch_ok else 'absent'}")
    print(f"{'n':>6} {'mode':>5} {'kernel':>7} {'ms':>9} {'TFLOP/s':>8} {'vs torch':>9}")
    old_kernel, old_prec = norch.backends.cuda.get_matmul_kernel(), norch.get_float32_matmul_precision()
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            a, b = norch.randn(n, n, device="cuda"), norch.randn(n, n, device="cuda")
            flops = 2.0 * n ** 3
            for mode in ("fp32", "tf32"):
                norch.set_float32_matmul_precision("highest" if mode == "fp32" else "high")
                t_torch = None
                if torch_ok:
                    torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
                    ta, tb = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
                    t_torch = timed(lambda: torch.mm(ta, tb), torch.cuda.synchronize, args.repeat)
                    print(f"{n:>6} {mode:>5} {'torch':>7} {t_torch * 1e3:>9.3f} {flops / t_torch / 1e12:>8.2f} {'1.00':>9}")
                for kernel in ("naive", "tiled", "cublas"):
                    if kernel != "cublas" and (n > args.ladder_max or mode == "tf32"):
                        continue  # the ladder computes FP32 only, and slowly
                    norch.backends.cuda.set_matmul_kernel(kernel)
                    t = timed(lambda: norch.mm(a, b), norch.cuda.synchronize, args.repeat)
                    ratio = f"{t / t_torch:.2f}" if t_torch else "-"
                    print(f"{n:>6} {mode:>5} {kernel:>7} {t * 1e3:>9.3f} {flops / t / 1e12:>8.2f} {ratio:>9}")
    finally:
        norch.backends.cuda.set_matmul_kernel(old_kernel)
        norch.set_float32_matmul_precision(old_prec)
        if torch_ok:
            torch.backends.cuda.matmul.allow_tf32 = False


if __name__ == "__main__":
    main()
