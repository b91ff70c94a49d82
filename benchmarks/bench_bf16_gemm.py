"""bfloat16 matmul: norch's AVX-512 BF16 path (vdpbf16ps, float32 accumulation) in GFLOP/s
beside norch's own float32 GEMM and PyTorch's bfloat16 matmul, on the same shapes.

    python benchmarks/bench_bf16_gemm.py [--threads 2] [--repeat 15]

Where the CPU lacks avx512_bf16 (or NORCH_SIMD lowers the level), norch's bfloat16
matmul converts to float32 and uses the float32 GEMM; the header line says which ran.
"""
import numpy as np

from common import header, norch, parse_args, time_interleaved, torch


def has_bf16_dot():
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read() and norch._C._simd_level() == "avx512"
    except OSError:
        return False


def main():
    args = parse_args(__doc__)
    print(header(args) + f", bf16 path={'avx512_bf16' if has_bf16_dot() else 'float32 GEMM'}")
    rng = np.random.default_rng(0)
    target = args.target_ms / 1000
    rows = []
    for m, k, n in ((256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (64, 784, 256), (2048, 512, 128)):
        a32 = norch.from_numpy(rng.random((m, k), dtype=np.float32))
        b32 = norch.from_numpy(rng.random((k, n), dtype=np.float32))
        a16, b16 = a32.bfloat16(), b32.bfloat16()
        fns = {"norch bf16": lambda: a16 @ b16, "norch f32": lambda: a32 @ b32}
        if torch is not None:
            ta = torch.from_numpy(a32.numpy()).bfloat16()
            tb = torch.from_numpy(b32.numpy()).bfloat16()
            fns["torch bf16"] = lambda: ta @ tb
        med = time_interleaved(fns, args.repeat, target)
        flop = 2.0 * m * k * n
        rows.append((f"{m}x{k} @ {k}x{n}", {name: flop / t / 1e9 for name, t in med.items()}))
    names = ["norch bf16", "norch f32", "torch bf16"]
    head = ["case"] + [f"{x} GFLOP/s" for x in names] + ["bf16/f32", "norch/torch bf16"]
    lines = []
    for case, rate in rows:
        r = [case] + [f"{rate[x]:.1f}" if x in rate else "-" for x in names]
        r.append(f"{rate['norch bf16'] / rate['norch f32']:.2f}x")
        r.append(f"{rate['norch bf16'] / rate['torch bf16']:.2f}x" if "torch bf16" in rate else "-")
        lines.append(r)
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
    print("\nbfloat16 matmul (throughput; higher is better; ratios are rate ratios)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for r in lines:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
