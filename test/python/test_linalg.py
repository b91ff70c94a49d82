"""The matmul family (matmul, mm, bmm, mv, dot, outer, addmm) against NumPy, its gradients,
its errors, and the fast GEMM against the plain reference loop under every SIMD level."""
import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import norch

from _oracle import SIMD_LEVELS, T, assert_close, check_op, run_at_simd_level

RNG = np.random.default_rng(1234)
ODD = (1, 3, 17, 65, 129, 257)
NP_DTYPE = {norch.float32: np.float32, norch.float64: np.float64, norch.int64: np.int64}


def rand(shape, dtype=norch.float64):
    np_dtype = NP_DTYPE[dtype]
    if np.issubdtype(np_dtype, np.integer):
        return RNG.integers(-5, 6, size=shape).astype(np_dtype)
    return RNG.uniform(-1, 1, size=shape).astype(np_dtype)


# ---- forward against NumPy ------------------------------------------------------------

# (shape of a, shape of b): every 1-d / 2-d / batched combination, with batch broadcasting.
MATMUL_SHAPES = [
    ((5,), (5,)),
    ((3, 5), (5,)),
    ((5,), (5, 4)),
    ((3, 5), (5, 4)),
    ((2, 3, 5), (5,)),
    ((5,), (2, 5, 4)),
    ((2, 3, 5), (5, 4)),
    ((3, 5), (2, 5, 4)),
    ((2, 3, 5), (2, 5, 4)),
    ((2, 1, 3, 5), (4, 5, 2)),
    ((1, 3, 5), (6, 5, 4)),
    ((2, 1, 3, 5), (1, 7, 5, 4)),
    ((7, 1, 3, 5), (5,)),
]


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.int64])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_shapes(sa, sb, dtype, device):
    a, b = rand(sa, dtype), rand(sb, dtype)
    ta, tb = T(a, device=device), T(b, device=device)
    out = norch.matmul(ta, tb)
    assert out.dtype == dtype
    assert_close(out, np.matmul(a, b), k=sa[-1])
    assert_close(ta @ tb, np.matmul(a, b), k=sa[-1])


# One row per op: (norch function, NumPy reference, input shapes).
def np_addmm(i, a, b):
    return i + a @ b


OPS = [
    ("mm", norch.mm, np.matmul, [(4, 6), (6, 3)]),
    ("bmm", norch.bmm, np.matmul, [(3, 4, 6), (3, 6, 5)]),
    ("mv", norch.mv, np.matmul, [(4, 6), (6,)]),
    ("dot", norch.dot, np.dot, [(7,), (7,)]),
    ("outer", norch.outer, np.outer, [(4,), (5,)]),
    ("addmm", norch.addmm, np_addmm, [(4, 3), (4, 6), (6, 3)]),
    ("addmm_broadcast", norch.addmm, np_addmm, [(3,), (4, 6), (6, 3)]),
    ("matmul_batched", norch.matmul, np.matmul, [(2, 1, 3, 4), (5, 4, 2)]),
]


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.int64])
@pytest.mark.parametrize("name,fn,ref,shapes", OPS, ids=[r[0] for r in OPS])
def test_ops_forward(name, fn, ref, shapes, dtype, device):
    arrays = [rand(s, dtype) for s in shapes]
    assert_close(fn(*[T(x, device=device) for x in arrays]), ref(*arrays), k=shapes[0][-1])


@pytest.mark.parametrize("name,fn,ref,shapes", OPS, ids=[r[0] for r in OPS])
def test_ops_non_contiguous(name, fn, ref, shapes, device):
    # Each input is the transpose of a contiguous array (1-d inputs: every other element).
    arrays = [rand(s) for s in shapes]
    views = []
    for x in arrays:
        if x.ndim == 1:
            base = T(np.repeat(x, 2), device=device)
            v = base[::2]
        else:
            base = T(np.ascontiguousarray(np.swapaxes(x, -1, -2)), device=device)
            v = base.transpose(-1, -2)
        assert not v.is_contiguous() or x.ndim == 1 and x.shape[0] == 1
        views.append(v)
    assert_close(fn(*views), ref(*arrays), k=shapes[0][-1])


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64])
@pytest.mark.parametrize("m,k,n", list(itertools.product(ODD, ODD, ODD)))
def test_mm_odd_sizes(m, k, n, dtype, device):
    a, b = rand((m, k), dtype), rand((k, n), dtype)
    assert_close(norch.mm(T(a, device=device), T(b, device=device)), a.astype(np.float64) @ b, k=k)


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.int64])
@pytest.mark.parametrize("batch", ODD)
def test_bmm_odd_batches(batch, dtype, device):
    # Small matrices in many batches run one matrix per thread; a broadcast batch operand
    # (stride 0 after expand) is read in place.
    a, b = rand((batch, 3, 17), dtype), rand((batch, 17, 65), dtype)
    assert_close(norch.bmm(T(a, device=device), T(b, device=device)), np.matmul(a, b), k=17)
    assert_close(norch.matmul(T(a, device=device), T(b[:1], device=device)), np.matmul(a, b[:1]), k=17)


@pytest.mark.parametrize("ta,tb", [(False, True), (True, False), (True, True)])
@pytest.mark.parametrize("dtype", [norch.float32, norch.float64])
def test_mm_transposed_and_strided(ta, tb, dtype, device):
    m, k, n = 67, 300, 45
    a, b = rand((m, k), dtype), rand((k, n), dtype)
    va = T(a.T, device=device).t() if ta else T(a, device=device)
    vb = T(b.T, device=device).t() if tb else T(b, device=device)
    assert_close(va @ vb, a.astype(np.float64) @ b, k=k)
    # Neither row nor column stride is 1: a column slice of a wider matrix with a step.
    wide = rand((m, 2 * k), dtype)
    assert_close(T(wide, device=device)[:, ::2] @ vb, wide[:, ::2].astype(np.float64) @ b, k=k)
    # Row-major with a leading dimension wider than the row (a column block of a wider matrix).
    assert_close(T(wide, device=device)[:, :k] @ vb, wide[:, :k].astype(np.float64) @ b, k=k)


def test_matmul_expanded_operand(device):
    # A stride-0 operand (expanded) is read in place.
    row = rand((1, 9))
    b = rand((9, 4))
    assert_close(T(row, device=device).expand(5, 9) @ T(b, device=device), np.broadcast_to(row, (5, 9)) @ b, k=9)
    # A column expanded across the row: neither stride is 1 (copied before the product).
    col = rand((9, 1))
    assert_close(T(b.T, device=device) @ T(col, device=device).expand(9, 3), b.T @ np.broadcast_to(col, (9, 3)),
                 k=9)


@pytest.mark.parametrize("sa,sb", [((3, 0), (0, 4)), ((0, 5), (5, 4)), ((3, 5), (5, 0)), ((2, 3, 0), (2, 0, 4)),
                                   ((0, 3, 5), (0, 5, 4)), ((0,), (0,)), ((3, 0), (0,))])
@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.int64])
def test_matmul_empty(sa, sb, dtype, device):
    a, b = rand(sa, dtype), rand(sb, dtype)
    out = norch.matmul(T(a, device=device), T(b, device=device))
    assert_close(out, np.matmul(a, b))  # k == 0 gives zeros


def test_thread_counts():
    # Many small matrices go one per thread; a large one is cut into per-thread rectangles
    # (rows, columns, or both for 4 threads), and a 2-d/1-d product into row ranges.
    a, b = rand((64, 17, 33), norch.float32), rand((64, 33, 19), norch.float32)
    big_a, big_b = rand((100, 200), norch.float64), rand((200, 90), norch.float64)
    wide_a, wide_b = rand((40, 300), norch.float32), rand((300, 700), norch.float32)
    vec = rand((200,), norch.float64)
    old = norch.get_num_threads()
    try:
        for threads in (1, 2, 3, 4):
            norch.set_num_threads(threads)
            assert_close(norch.bmm(T(a), T(b)), a.astype(np.float64) @ b, k=33)
            assert_close(norch.mm(T(big_a), T(big_b)), big_a @ big_b, k=200)
            assert_close(norch.mm(T(wide_a), T(wide_b)), wide_a.astype(np.float64) @ wide_b, k=300)
            assert_close(norch.mv(T(big_a), T(vec)), big_a @ vec, k=200)
            assert_close(norch.matmul(T(vec), T(big_b)), vec @ big_b, k=200)
    finally:
        norch.set_num_threads(old)


def test_addmm_beta_alpha():
    i, a, b = rand((4, 3)), rand((4, 6)), rand((6, 3))
    assert_close(norch.addmm(T(i), T(a), T(b), beta=0.5, alpha=2), 0.5 * i + 2 * (a @ b), k=6)
    # beta=0 ignores input, even NaN in it, as PyTorch does.
    nan = np.full((4, 3), np.nan)
    assert_close(norch.addmm(T(nan), T(a), T(b), beta=0), a @ b, k=6)


# ---- gradients ----------------------------------------------------------------------------

GRAD_CASES = [
    ("mm", norch.mm, [(3, 4), (4, 2)]),
    ("bmm", norch.bmm, [(2, 3, 4), (2, 4, 2)]),
    ("mv", norch.mv, [(3, 4), (4,)]),
    ("dot", norch.dot, [(5,), (5,)]),
    ("outer", norch.outer, [(3,), (2,)]),
    ("addmm", lambda i, a, b: norch.addmm(i, a, b, beta=0.5, alpha=1.5), [(2,), (3, 4), (4, 2)]),
    ("matmul_1d_2d", norch.matmul, [(4,), (4, 3)]),
    ("matmul_broadcast", norch.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    ("matmul_3d_1d", norch.matmul, [(2, 3, 4), (4,)]),
    ("matmul_transposed", lambda a, b: norch.matmul(a.t(), b.t()), [(4, 3), (2, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(name, fn, shapes, device):
    check_op(fn, [rand(s) for s in shapes], device=device)


def test_backward_matches_closed_form():
    a, b, g = rand((5, 7)), rand((7, 3)), rand((5, 3))
    ta, tb = T(a, requires_grad=True), T(b, requires_grad=True)
    (ta @ tb).backward(T(g))
    assert_close(ta.grad, g @ b.T, k=3)
    assert_close(tb.grad, a.T @ g, k=5)


# ---- errors -----------------------------------------------------------------------------

ERRORS = [
    (lambda: norch.ones(2, 3) @ norch.ones(4, 5), r"\(2x3 and 4x5\)"),
    (lambda: norch.mm(norch.ones(2, 3), norch.ones(4, 5)), r"2x3 and 4x5"),
    (lambda: norch.ones(2, 2, 3) @ norch.ones(2, 4, 5), r"\(2, 2, 3\) and \(2, 4, 5\)"),
    (lambda: norch.ones(2, 3, 4) @ norch.ones(3, 4, 5), r"\(2, 3, 4\) and \(3, 4, 5\)"),
    (lambda: norch.bmm(norch.ones(2, 3, 4), norch.ones(3, 4, 5)), r"\(2, 3, 4\) and \(3, 4, 5\)"),
    (lambda: norch.bmm(norch.ones(2, 3, 4), norch.ones(2, 5, 5)), r"\(2, 3, 4\) and \(2, 5, 5\)"),
    (lambda: norch.ones(3) @ norch.ones(4), r"\[3\] .*\[4\]"),
    (lambda: norch.ones(2, 3) @ norch.ones(4), r"mat \(2x3\), vec \(4\)"),
    (lambda: norch.ones(3) @ norch.ones(4, 5), r"1x3 and 4x5"),
    (lambda: norch.ones(2, 3) @ norch.ones(3, 4, dtype=norch.float64), "same dtype.*float32.*float64"),
    (lambda: norch.dot(norch.ones(3), norch.ones(3, dtype=norch.float64)), "same dtype"),
    (lambda: norch.bmm(norch.ones(1, 2, 3), norch.ones(1, 3, 4, dtype=norch.int64)), "same dtype"),
    (lambda: norch.tensor(1.0) @ norch.ones(3), "at least 1D"),
    (lambda: norch.ones(3) @ norch.tensor(1.0), "at least 1D"),
    (lambda: norch.mm(norch.tensor(1.0), norch.ones(1, 1)), "must be a matrix"),
    (lambda: norch.bmm(norch.ones(2, 3), norch.ones(2, 3, 4)), "3D tensor"),
    (lambda: norch.mv(norch.ones(2, 3), norch.ones(3, 1)), "vector"),
    (lambda: norch.dot(norch.tensor(1.0), norch.ones(1)), "1D tensors expected"),
    (lambda: norch.outer(norch.tensor(1.0), norch.ones(3)), "outer"),
    (lambda: norch.addmm(norch.ones(3), norch.ones(2, 3), norch.ones(3, 4)), r"\(3,\).*\(2, 4\)"),
    (lambda: norch.ones(2, 3, dtype=norch.bool) @ norch.ones(3, 2, dtype=norch.bool), "bool"),
    (lambda: norch._C._bmm_reference(norch.ones(2, 3, 4), norch.ones(2, 5, 5)), r"\(2, 3, 4\) and \(2, 5, 5\)"),
]


@pytest.mark.parametrize("fn,match", ERRORS)
def test_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


# ---- fast kernel against the reference loop, under each SIMD level ---------------------

# Every kernel version runs. Shapes cross the kernel's register tiles (up to 12 x 32; N
# of exactly one vector, 2 to 16 elements, takes the narrow kernels), its cache blocks
# (KC up to 256, NC up to 512, MCO 1152), k = 0 and m or n = 1, with every operand
# layout the packing routines read: row-major, transposed and strided.
SIMD_CHECK = textwrap.dedent("""
    import os, numpy as np, norch
    rng = np.random.default_rng(0)
    shapes = [(1, 1, 1, 1), (1, 5, 7, 1), (3, 13, 7, 33), (2, 1, 300, 70), (2, 70, 300, 1),
              (1, 1200, 300, 530), (1, 64, 784, 256), (1, 129, 513, 65), (64, 17, 33, 19),
              (2, 13, 40, 16), (1, 30, 20, 8), (3, 7, 9, 4), (1, 25, 11, 2), (1, 64, 256, 10),
              (2, 6, 5, 0), (2, 3, 0, 4), (1, 1, 9, 1100), (1, 1100, 9, 1), (1, 20, 40, 1100)]
    versions = range(1, norch._C._gemm_kernel_latest() + 1)
    for dtype in (np.float32, np.float64):
        for (bs, m, k, n) in shapes:
            a = rng.uniform(-1, 1, (bs, m, k)).astype(dtype)
            b = rng.uniform(-1, 1, (bs, k, n)).astype(dtype)
            # Row-major, transposed (column-major) and strided (every other element of a
            # wider buffer, so neither stride is 1) operands.
            wa = np.zeros((bs, m, 2 * k), dtype); wa[:, :, ::2] = a
            wb = np.zeros((bs, k, 2 * n), dtype); wb[:, :, ::2] = b
            layouts = [(norch.from_numpy(a), norch.from_numpy(b)),
                       (norch.from_numpy(np.ascontiguousarray(a.transpose(0, 2, 1))).transpose(1, 2),
                        norch.from_numpy(np.ascontiguousarray(b.transpose(0, 2, 1))).transpose(1, 2)),
                       (norch.from_numpy(wa)[:, :, ::2], norch.from_numpy(wb)[:, :, ::2])]
            ref = norch._C._bmm_reference(*layouts[0]).numpy().astype(np.float64)
            assert ref.shape == (bs, m, n)
            tol = np.finfo(dtype).eps * 16 * max(k, 1)
            for v in versions:
                norch._C._set_gemm_kernel(v)
                for ta, tb in [(x, y) for x, _ in layouts for _, y in layouts]:
                    out = norch.bmm(ta, tb).numpy()
                    err = np.abs(out - ref).max() if out.size else 0.0
                    assert out.shape == ref.shape and err <= tol, (v, dtype, bs, m, k, n, err)
            norch._C._set_gemm_kernel(0)
    assert norch._C._simd_level() == os.environ["EXPECTED_SIMD"], norch._C._simd_level()
""")


@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_fast_kernel_matches_reference(level):
    # NORCH_SIMD never raises the level above what the CPU has: asking for more runs the best it has.
    run_at_simd_level(level, SIMD_CHECK, os.path.dirname(__file__))


def test_simd_level_reported():
    assert norch._C._simd_level() in ("baseline", "avx2", "avx512")


def test_simd_env_unknown_value_is_ignored():
    env = dict(os.environ, NORCH_SIMD="sse9")
    code = "import norch; print(norch._C._simd_level(), float((norch.ones(3, 4) @ norch.ones(4, 5)).sum()))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ignoring NORCH_SIMD=sse9" in proc.stderr
    level, total = proc.stdout.split()
    assert level in ("baseline", "avx2", "avx512") and float(total) == 60.0


def test_reference_matches_numpy():
    a, b = rand((2, 5, 7), norch.int64), rand((2, 7, 3), norch.int64)
    assert_close(norch._C._bmm_reference(T(a), T(b)), a @ b)
    assert_close(norch._C._bmm_reference(T(a[:, :, :0]), T(b[:, :0, :])), np.zeros((2, 5, 3), np.int64))


def test_fast_kernel_concurrent_callers():
    # GEMM's thread pool serves one call at a time; a call that finds it busy runs on its
    # own thread. Both must give the reference's result.
    import threading
    rng = np.random.default_rng(3)
    a = norch.from_numpy(rng.uniform(-1, 1, (2, 300, 200)).astype(np.float32))
    b = norch.from_numpy(rng.uniform(-1, 1, (2, 200, 260)).astype(np.float32))
    ref = norch._C._bmm_reference(a, b).numpy()
    errors = []

    def worker():
        for _ in range(20):
            err = np.abs(norch.bmm(a, b).numpy() - ref).max()
            if err > 1e-3:
                errors.append(err)
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
