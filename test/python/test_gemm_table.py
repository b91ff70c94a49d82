"""The packed GEMM with B addressed through a table of row or column offsets
(GemmArgs::b_rows / b_cols in src/kernels/cpu/isa/gemm.h, norch._C._gemm_table), the
operand of the stride-1 convolution (Note [Row-table convolution]): against the
reference loop (_bmm_reference) and NumPy in float64, on every kernel version, thread
count and SIMD level, with shapes that leave partial row and column panels, K not a
multiple of any step, windows that overlap and a B that is read in place or packed."""
import os

import numpy as np
import pytest

import norch
from _oracle import SIMD_LEVELS, run_at_simd_level

RNG = np.random.default_rng(7)

# (M, N, K): one row panel and few columns; two row panels with a ragged edge; more
# row panels than are read in place (packed from the table); long K cut into slices;
# M = 1 and N = 1, which plain GEMMs send to the matrix-vector loops; one large enough
# that 2 and 3 threads each take a rectangle of it.
SHAPES = [(5, 37, 9), (16, 70, 27), (90, 45, 50), (7, 300, 700), (1, 33, 20), (13, 1, 11), (32, 64, 144),
          (64, 400, 300)]


def table_case(M, N, K, columns, dtype):
    a = RNG.standard_normal((M, K)).astype(dtype)
    span = K if columns else N
    count = N if columns else K
    # Overlapping windows at unaligned offsets, like a convolution's taps (c*P + ki*Wp + kj).
    buf = RNG.standard_normal(span + 3 * count + 17).astype(dtype)
    off = RNG.integers(0, buf.size - span + 1, count).astype(np.int64)
    if columns:
        b = np.stack([buf[o:o + K] for o in off], axis=1)       # [K, N]
    else:
        b = np.stack([buf[o:o + N] for o in off], axis=0)       # [K, N]
    return a, buf, off, b


def check(M, N, K, columns, dtype, threads):
    a, buf, off, b = table_case(M, N, K, columns, dtype)
    got = norch._C._gemm_table(norch.tensor(a), norch.tensor(buf), norch.tensor(off), N, columns, threads).numpy()
    ref = norch._C._bmm_reference(norch.tensor(a[None]), norch.tensor(b[None])).numpy()[0]
    exact = a.astype(np.float64) @ b.astype(np.float64)
    tol = 2e-5 * np.sqrt(K) if dtype == np.float32 else 1e-12 * K
    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol, err_msg=f"{(M, N, K)} columns={columns}")
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
    assert got.shape == (M, N) and got.dtype == dtype


def every_version(dtype, threads=1):
    old = norch._C._set_gemm_kernel(0)
    try:
        for version in range(1, norch._C._gemm_kernel_latest() + 1):
            norch._C._set_gemm_kernel(version)
            for shape in SHAPES:
                for columns in (False, True):
                    check(*shape, columns, dtype, threads)
    finally:
        norch._C._set_gemm_kernel(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gemm_table_matches_reference(dtype, threads):
    every_version(dtype, threads)


def test_gemm_table_bit_identical_on_every_thread_count():
    for columns in (False, True):
        a, buf, off, _ = table_case(64, 400, 300, columns, np.float32)
        args = (norch.tensor(a), norch.tensor(buf), norch.tensor(off), 400, columns)
        one = norch._C._gemm_table(*args, 1).numpy()
        for threads in (2, 3):
            np.testing.assert_array_equal(one, norch._C._gemm_table(*args, threads).numpy())


def test_gemm_table_rejects_windows_outside_the_buffer():
    a = norch.tensor(np.ones((2, 3), np.float32))
    buf = norch.tensor(np.ones(10, np.float32))
    with pytest.raises(RuntimeError, match="leaves the buffer"):
        norch._C._gemm_table(a, buf, norch.tensor(np.array([0, 1, 5], np.int64)), 6, False, 1)
    with pytest.raises(RuntimeError, match="row offsets"):
        norch._C._gemm_table(a, buf, norch.tensor(np.array([0, 1], np.int64)), 4, False, 1)


SIMD_CHECK = r"""
import os, sys
import numpy as np, norch
sys.path.insert(0, os.environ["TEST_DIR"])
import test_gemm_table as t
for dtype in (np.float32, np.float64):
    t.every_version(dtype, 2)
assert norch._C._simd_level() == os.environ["EXPECTED_SIMD"], norch._C._simd_level()
"""


@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_gemm_table_on_every_simd_level(level):
    run_at_simd_level(level, SIMD_CHECK, os.path.dirname(__file__))
