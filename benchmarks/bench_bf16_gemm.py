"""bfloat16 matmul: norch's AVX-512 BF16 path (vdpbf16ps, float32 accumulation) in GFLOP/s
beside norch's own float32 GEMM and PyTorch's bfloat16 matmul, on the same shapes, and
as a fraction of the vdpbf16ps peak that a short kernel measures in the same run.

    python benchmarks/bench_bf16_gemm.py [--threads 2] [--repeat 15] [--cpu-time] [--versions]

The shapes are square products, an MLP layer's three products (forward x @ W^T, the
input gradient dY @ W and the weight gradient dY^T @ x, the transposed forms linear's
backward runs) and a tall-skinny one. `--versions` adds a column per bfloat16 kernel
version (src/kernels/cpu/isa/gemm_bf16.cpp's header). Where the CPU lacks avx512_bf16
(or NORCH_SIMD lowers the level), norch's bfloat16 matmul converts to float32 and uses
the float32 GEMM; the header line says which ran.
"""
import numpy as np

from common import header, norch, parse_args, time_interleaved, torch

PEAK_SRC = r"""
#include <pybind11/pybind11.h>
#include <immintrin.h>
#include <chrono>
#include <thread>
#include <vector>

// CHAINS independent vdpbf16ps (or FMA) chains: enough to cover the latency on two pipes.
// Each vdpbf16ps is 16 lanes x 2 products x 2 flops, each FMA 16 lanes x 2 flops.
template <int CHAINS>
__attribute__((target("avx512f,avx512bf16"))) static double dp(long iters) {
  __m512 a[CHAINS];
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  for (int i = 0; i < CHAINS; ++i) a[i] = _mm512_set1_ps(float(i));
  auto t0 = std::chrono::steady_clock::now();
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < CHAINS; ++i) a[i] = _mm512_dpbf16_ps(a[i], x, y);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile __m512 sink;
  for (int i = 0; i < CHAINS; ++i) sink = a[i];
  (void)sink;
  return iters * CHAINS * 64.0 / s / 1e9;
}
template <int CHAINS>
__attribute__((target("avx512f"))) static double fma(long iters) {
  __m512 a[CHAINS], b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; ++i) a[i] = _mm512_set1_ps(float(i));
  auto t0 = std::chrono::steady_clock::now();
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < CHAINS; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile __m512 sink;
  for (int i = 0; i < CHAINS; ++i) sink = a[i];
  (void)sink;
  return iters * CHAINS * 32.0 / s / 1e9;
}

// Sum over `threads` threads of each one's rate, over about 10 ms.
static double peak(bool bf16, int threads) {
  std::vector<double> rate(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      rate[t] = bf16 ? std::max(dp<12>(150000), dp<24>(75000)) : std::max(fma<12>(150000), fma<24>(75000));
    });
  for (auto& th : pool) th.join();
  double s = 0;
  for (double r : rate) s += r;
  return s;
}

PYBIND11_MODULE(NORCH_EXTENSION_NAME, m) {
  m.def("peak", [](bool bf16, int threads) {
    pybind11::gil_scoped_release nogil;
    return peak(bf16, threads);
  });
}
"""

# (label, M, K, N, A transposed, B transposed)
CASES = [
    ("256^3", 256, 256, 256, False, False),
    ("512^3", 512, 512, 512, False, False),
    ("1024^3", 1024, 1024, 1024, False, False),
    ("64x784 @ 784x256", 64, 784, 256, False, False),
    ("2048x512 @ 512x128", 2048, 512, 128, False, False),
    ("fwd x @ W^T 64x784 (256)", 64, 784, 256, False, True),
    ("dX = dY @ W 64x256 (784)", 64, 256, 784, False, False),
    ("dW = dY^T @ x 256x64 (784)", 256, 64, 784, True, False),
    ("fwd x @ W^T 256x1024 (4096)", 256, 1024, 4096, False, True),
    ("dX = dY @ W 256x4096 (1024)", 256, 4096, 1024, False, False),
    ("dW = dY^T @ x 4096x256 (1024)", 4096, 256, 1024, True, False),
]


def has_bf16_dot():
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read() and norch._C._simd_level() == "avx512"
    except OSError:
        return False


def measure_peak(threads, samples=9):
    """Best of `samples` short runs of register-only vdpbf16ps and FMA: (bf16, f32) GFLOP/s."""
    from norch.utils.cpp_extension import load_inline
    ext = load_inline("norch_bench_dpbf16_peak", PEAK_SRC, no_implicit_headers=True,
                      extra_cflags=["-O2", "-funroll-loops"])
    return (max(ext.peak(True, threads) for _ in range(samples)),
            max(ext.peak(False, threads) for _ in range(samples)))


def operand(rng, rows, cols, transposed):
    """A rows x cols float32 matrix, or the transposed view of a cols x rows one."""
    x = rng.uniform(-1, 1, (cols, rows) if transposed else (rows, cols)).astype(np.float32)
    t = norch.from_numpy(x)
    return t.t() if transposed else t


def main():
    args = parse_args(__doc__, versions=dict(action="store_true", help="one column per bf16 kernel version"))
    dot = has_bf16_dot()
    print(header(args) + f", bf16 path={'avx512_bf16' if dot else 'float32 GEMM'}")
    peak16, peak32 = measure_peak(args.threads) if dot else (float("nan"), float("nan"))
    print(f"measured peak on {args.threads} thread(s): vdpbf16ps {peak16:.0f} GFLOP/s, "
          f"float32 FMA {peak32:.0f} GFLOP/s")
    rng = np.random.default_rng(0)
    target = args.target_ms / 1000
    versions = list(range(1, norch._C._gemm_bf16_kernel_latest() + 1)) if args.versions else []
    rows = []
    for label, m, k, n, ta, tb in CASES:
        a32, b32 = operand(rng, m, k, ta), operand(rng, k, n, tb)
        a16, b16 = a32.bfloat16(), b32.bfloat16()
        if ta:  # keep the transposed layout of the bfloat16 copy
            a16 = a32.t().contiguous().bfloat16().t()
        if tb:
            b16 = b32.t().contiguous().bfloat16().t()
        fns = {"norch bf16": lambda: a16 @ b16, "norch f32": lambda: a32 @ b32}

        def pinned(v):
            def run():
                old = norch._C._set_gemm_bf16_kernel(v)
                try:
                    return a16 @ b16
                finally:
                    norch._C._set_gemm_bf16_kernel(old)
            return run
        for v in versions:
            fns[f"v{v}"] = pinned(v)
        if torch is not None:
            ta16 = torch.from_numpy(a16.float().numpy()).bfloat16()
            tb16 = torch.from_numpy(b16.float().numpy()).bfloat16()
            if ta:
                ta16 = ta16.t().contiguous().t()
            if tb:
                tb16 = tb16.t().contiguous().t()
            fns["torch bf16"] = lambda: ta16 @ tb16
        med = time_interleaved(fns, args.repeat, target)
        flop = 2.0 * m * k * n
        rows.append((label, {name: flop / t / 1e9 for name, t in med.items()}))
    names = ["norch bf16", "norch f32", "torch bf16"] + [f"v{v}" for v in versions]
    head = ["case"] + names + ["bf16/f32", "norch/torch", "of peak"]
    lines = []
    for case, rate in rows:
        r = [case] + [f"{rate[x]:.0f}" if x in rate else "-" for x in names]
        r.append(f"{rate['norch bf16'] / rate['norch f32']:.2f}x")
        r.append(f"{rate['norch bf16'] / rate['torch bf16']:.2f}x" if "torch bf16" in rate else "-")
        r.append(f"{100 * rate['norch bf16'] / peak16:.0f}%")
        lines.append(r)
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
    print("\nbfloat16 matmul, GFLOP/s (higher is better; ratios are rate ratios)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for r in lines:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
