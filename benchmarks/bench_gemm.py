"""GEMM throughput: norch's packed SGEMM/DGEMM beside NumPy (OpenBLAS with its AVX-512
kernels forced) and PyTorch, on 1 and 2 threads, as GFLOP/s and as a fraction of the
machine's FMA peak, which a short kernel measures in the same run.

    python benchmarks/bench_gemm.py [--repeat 9] [--threads 1,2] [--quick] [--versions] [--only TEXT]

Times are the minimum over samples (best of N): on a shared machine the minimum is the
run that other processes disturbed least, and the peak is measured the same way, so the
fraction of peak compares like with like. `--versions` adds a table of every kernel
version (src/kernels/cpu/isa/gemm_isa.cpp's header) on one thread.
"""
import argparse
import os
import sys
import time

# OpenBLAS picks its kernels when it loads: force the AVX-512 (SkylakeX) ones, overriding
# any OPENBLAS_CORETYPE in the environment (a Haswell setting halves its speed on an
# AVX-512 machine). Its thread count is set per phase below with threadpoolctl.
os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import norch  # noqa: E402

PEAK_SRC = r"""
#include <pybind11/pybind11.h>
#include <immintrin.h>
#include <chrono>
#include <thread>
#include <vector>

// 12 independent FMA chains: enough to cover the FMA latency on two pipes. One function
// per ISA, each compiled for it whole (a target boundary inside the loop would spill).
#define NORCH_CHAINS(R, FMA, SET, LANES)                                                      \
  R a[12], b = SET(1.0000001), c = SET(1e-7);                                                  \
  for (int i = 0; i < 12; ++i) a[i] = SET(i);                                                  \
  auto t0 = std::chrono::steady_clock::now();                                                  \
  for (long n = 0; n < iters; ++n)                                                             \
    for (int i = 0; i < 12; ++i) a[i] = FMA(a[i], b, c);                                       \
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();    \
  volatile R sink;                                                                             \
  for (int i = 0; i < 12; ++i) sink = a[i];                                                    \
  (void)sink;                                                                                  \
  return iters * 12.0 * 2.0 * LANES / s / 1e9;

__attribute__((target("avx512f"))) static double f32_512(long iters) {
  NORCH_CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, 16)
}
__attribute__((target("avx512f"))) static double f64_512(long iters) {
  NORCH_CHAINS(__m512d, _mm512_fmadd_pd, _mm512_set1_pd, 8)
}
__attribute__((target("avx2,fma"))) static double f32_256(long iters) {
  NORCH_CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, 8)
}
__attribute__((target("avx2,fma"))) static double f64_256(long iters) {
  NORCH_CHAINS(__m256d, _mm256_fmadd_pd, _mm256_set1_pd, 4)
}
static double run512(bool dbl, long it) { return dbl ? f64_512(it) : f32_512(it); }
static double run256(bool dbl, long it) { return dbl ? f64_256(it) : f32_256(it); }

// Sum over `threads` threads of each one's FMA rate, over about 10 ms.
static double peak(bool dbl, int threads, bool avx512) {
  std::vector<double> rate(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { rate[t] = avx512 ? run512(dbl, 200000) : run256(dbl, 200000); });
  for (auto& th : pool) th.join();
  double s = 0;
  for (double r : rate) s += r;
  return s;
}

PYBIND11_MODULE(NORCH_EXTENSION_NAME, m) {
  m.def("peak", [](bool dbl, int threads, bool avx512) {
    pybind11::gil_scoped_release nogil;
    return peak(dbl, threads, avx512);
  });
}
"""


def fma_peak(dtype, threads, avx512, ext, samples=15):
    """Best of `samples` short runs: GFLOP/s of pure register FMAs on `threads` threads."""
    return max(ext.peak(dtype == np.float64, threads, avx512) for _ in range(samples))


def best_time(fns, repeat, target_s):
    """fns: {name: callable}, run interleaved; the minimum seconds per call of each."""
    counts = {}
    for name, fn in fns.items():
        fn()
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            if time.perf_counter() - t0 >= target_s / 2 or n >= 4096:
                break
            n *= 2
        counts[name] = n
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            n = counts[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    return best


def operands(rng, bs, m, k, n, dtype, ta=False, tb=False):
    """The same operands for the three libraries; ta/tb: A or B is a transposed view."""
    a = rng.uniform(-1, 1, (bs, k, m) if ta else (bs, m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (bs, n, k) if tb else (bs, k, n)).astype(dtype)
    out = []
    for lib in ("norch", "numpy", "torch"):
        x = {"norch": norch.from_numpy, "numpy": lambda v: v, "torch": torch.from_numpy}[lib](a)
        y = {"norch": norch.from_numpy, "numpy": lambda v: v, "torch": torch.from_numpy}[lib](b)
        if ta:
            x = x.transpose(1, 2) if lib != "numpy" else x.transpose(0, 2, 1)
        if tb:
            y = y.transpose(1, 2) if lib != "numpy" else y.transpose(0, 2, 1)
        if bs == 1:
            x, y = x[0], y[0]
        out.append((x, y))
    return out


def cases(quick):
    """(label, batch, M, K, N, A transposed, B transposed, dtype)."""
    f32, f64 = np.float32, np.float64
    sq = (64, 128, 256, 512, 1024) if quick else (64, 128, 256, 512, 1024, 2048)
    out = [(f"square {s}", 1, s, s, s, False, False, f32) for s in sq]
    out += [
        ("MLP fwd 64x784 @ 784x256", 1, 64, 784, 256, False, False, f32),
        ("MLP dX  64x256 @ (784x256)^T", 1, 64, 256, 784, False, True, f32),
        ("MLP dW  (64x784)^T @ 64x256", 1, 784, 64, 256, True, False, f32),
        ("MLP fwd 64x256 @ 256x10", 1, 64, 256, 10, False, False, f32),
        ("MLP dX  64x10 @ (256x10)^T", 1, 64, 10, 256, False, True, f32),
        ("MLP dW  (64x256)^T @ 64x10", 1, 256, 64, 10, True, False, f32),
        ("LeNet conv1 fwd 6x25 @ 25x36864", 1, 6, 25, 36864, False, False, f32),
        ("LeNet conv1 dW 6x36864 @ (25x36864)^T", 1, 6, 36864, 25, False, True, f32),
        ("LeNet conv2 fwd 16x150 @ 150x4096", 1, 16, 150, 4096, False, False, f32),
        ("LeNet conv2 dX (16x150)^T @ 16x4096", 1, 150, 16, 4096, True, False, f32),
        ("LeNet conv2 dW 16x4096 @ (150x4096)^T", 1, 16, 4096, 150, False, True, f32),
        ("ResNet 3x3 64ch fwd 64x576 @ 576x4096", 1, 64, 576, 4096, False, False, f32),
        # The per-block products of the blocked conv2d (conv_kernel.cpp, Note [Blocked
        # convolution]): LeNet conv2 in blocks of 10 samples, the CIFAR ResNet's 3x3
        # layers (batch 128) in blocks of 1, 1 and 2 samples.
        ("LeNet conv2 block fwd 16x150 @ 150x640", 1, 16, 150, 640, False, False, f32),
        ("LeNet conv2 block dX (16x150)^T @ 16x640", 1, 150, 16, 640, True, False, f32),
        ("LeNet conv2 block dW 16x640 @ (150x640)^T", 1, 16, 640, 150, False, True, f32),
        ("ResNet 16ch@32 block fwd 16x144 @ 144x1024", 1, 16, 144, 1024, False, False, f32),
        ("ResNet 16ch@32 block dX (16x144)^T @ 16x1024", 1, 144, 16, 1024, True, False, f32),
        ("ResNet 16ch@32 block dW 16x1024 @ (144x1024)^T", 1, 16, 1024, 144, False, True, f32),
        ("ResNet 32ch@16 block fwd 32x288 @ 288x256", 1, 32, 288, 256, False, False, f32),
        ("ResNet 64ch@8 block fwd 64x576 @ 576x128", 1, 64, 576, 128, False, False, f32),
        ("ResNet 64ch@8 block dX (64x576)^T @ 64x128", 1, 576, 64, 128, True, False, f32),
        ("ResNet 64ch@8 block dW 64x128 @ (576x128)^T", 1, 64, 128, 576, False, True, f32),
        ("attention 32x(128x64 @ (128x64)^T)", 32, 128, 64, 128, False, True, f32),
        ("attention 32x(128x128 @ 128x64)", 32, 128, 128, 64, False, False, f32),
        ("DGEMM square 1024", 1, 1024, 1024, 1024, False, False, f64),
        ("DGEMM MLP fwd 64x784 @ 784x256", 1, 64, 784, 256, False, False, f64),
    ]
    if not quick:
        out.append(("DGEMM square 2048", 1, 2048, 2048, 2048, False, False, f64))
    return out


def blas_line():
    info = [f"{i['internal_api']} {i.get('version')} {i.get('architecture')} threads={i['num_threads']}"
            for i in threadpool_info() if i["user_api"] == "blas"]
    return "; ".join(info) or "no BLAS found by threadpoolctl"


def load_line():
    return "load avg " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def fmt_row(cells, widths):
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))


def print_table(title, head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print(f"\n{title}")
    print(fmt_row(head, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for r in rows:
        print(fmt_row(r, widths))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=9, help="samples per implementation (minimum reported)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--target-ms", type=float, default=15.0, help="approximate duration of one sample")
    p.add_argument("--quick", action="store_true", help="leave out the N = 2048 cases")
    p.add_argument("--versions", action="store_true", help="also time every kernel version on one thread")
    p.add_argument("--only", default="", help="run only the cases whose label contains this text")
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    avx512 = norch._C._simd_level() == "avx512"

    from norch.utils.cpp_extension import load_inline
    ext = load_inline("norch_bench_fma_peak", PEAK_SRC, no_implicit_headers=True, extra_cflags=["-O2", "-funroll-loops"])

    print(f"norch simd={norch._C._simd_level()} kernel v{norch._C._gemm_kernel_latest()}, torch {torch.__version__}, "
          f"numpy {np.__version__}, {load_line()}")
    print(f"NumPy BLAS (threadpoolctl): {blas_line()}")
    rng = np.random.default_rng(0)
    target = args.target_ms / 1000
    for nt in threads:
        norch.set_num_threads(nt)
        torch.set_num_threads(nt)
        with threadpool_limits(limits=nt, user_api="blas"):
            peaks = {dt: fma_peak(dt, nt, avx512, ext) for dt in (np.float32, np.float64)}
            rows = []
            for label, bs, m, k, n, ta, tb, dt in cases(args.quick):
                if args.only not in label:
                    continue
                (na, nb), (pa, pb), (ta_, tb_) = operands(rng, bs, m, k, n, dt, ta, tb)
                mm_n = norch.bmm if bs > 1 else norch.matmul
                best = best_time({"norch": lambda: mm_n(na, nb), "numpy": lambda: pa @ pb,
                                  "torch": lambda: ta_ @ tb_}, args.repeat, target)
                flop = 2.0 * bs * m * k * n
                g = {k_: flop / v / 1e9 for k_, v in best.items()}
                rows.append([label, f"{g['norch']:.1f}", f"{100 * g['norch'] / peaks[dt]:.0f}%",
                             f"{g['numpy']:.1f}", f"{g['torch']:.1f}",
                             f"{best['norch'] / best['numpy']:.2f}", f"{best['norch'] / best['torch']:.2f}",
                             f"{best['norch'] / min(best['numpy'], best['torch']):.2f}"])
            print_table(f"{nt} thread(s): FMA peak float32 {peaks[np.float32]:.0f} GFLOP/s, "
                        f"float64 {peaks[np.float64]:.0f} GFLOP/s (measured now), {load_line()}, "
                        f"BLAS: {blas_line()}",
                        ["case", "norch GF/s", "of peak", "numpy GF/s", "torch GF/s", "n/numpy", "n/torch",
                         "n/best"], rows)
    print("(GF/s from the best of the samples; n/x = norch time / x's time, lower is better for norch)")

    if args.versions:
        norch.set_num_threads(1)
        latest = norch._C._gemm_kernel_latest()
        rows = []
        shapes = [("square 1024", 1024, 1024, 1024), ("square 2048", 2048, 2048, 2048),
                  ("MLP fwd 64x784x256", 64, 784, 256), ("square 256", 256, 256, 256)]
        for label, m, k, n in shapes:
            a = norch.from_numpy(rng.uniform(-1, 1, (1, m, k)).astype(np.float32))
            b = norch.from_numpy(rng.uniform(-1, 1, (1, k, n)).astype(np.float32))

            def run(v):
                def f():
                    norch._C._set_gemm_kernel(v)
                    norch.bmm(a, b)
                return f
            fns = {f"v{v}": run(v) for v in range(1, latest + 1)}
            if m <= 256:
                fns["reference"] = lambda: norch._C._bmm_reference(a, b)
            best = best_time(fns, args.repeat, target)
            rows.append([label] + [f"{2.0 * m * k * n / best[k_] / 1e9:.1f}" for k_ in fns])
        norch._C._set_gemm_kernel(0)
        print_table(f"kernel versions, 1 thread, GFLOP/s, {load_line()}",
                    ["case"] + [f"v{v}" for v in range(1, latest + 1)] + ["reference"],
                    [r + ["-"] * (latest + 2 - len(r)) for r in rows])


if __name__ == "__main__":
    main()
