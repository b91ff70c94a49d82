"""The bfloat16 GEMM paths: the AVX-512 BF16 kernel (vdpbf16ps, where the CPU has
it; every kernel version) and the float32-GEMM path (NORCH_SIMD=avx2 or baseline, or a
CPU without it) against the reference loop on edge, odd-K, multi-slice-K, batched,
transposed and strided shapes, bit for bit across versions and thread counts, and
against PyTorch's bfloat16 matmul."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import norch

from _half_util import to_norch, to_torch

SHAPES = [(1, 1, 1, 1), (1, 5, 7, 3), (3, 13, 9, 33), (2, 1, 300, 70), (1, 70, 300, 1), (1, 129, 513, 65),
          (2, 17, 1, 40), (1, 64, 256, 96), (4, 9, 31, 31), (1, 8, 260, 32), (2, 3, 0, 4), (1, 0, 5, 3)]


def _layouts(a, b):
    """Row-major, transposed (column-major) and strided views of the same operands."""
    ta, tb = to_norch(a), to_norch(b)
    wa = torch.zeros(a.shape[0], a.shape[1], 2 * a.shape[2], dtype=a.dtype)
    wa[:, :, ::2] = a
    wb = torch.zeros(b.shape[0], b.shape[1], 2 * b.shape[2], dtype=b.dtype)
    wb[:, :, ::2] = b
    return [(ta, tb),
            (to_norch(a.transpose(1, 2).contiguous()).transpose(1, 2), to_norch(b.transpose(1, 2).contiguous()).transpose(1, 2)),
            (to_norch(wa)[:, :, ::2], to_norch(wb)[:, :, ::2])]


def _tolerance(a, b):
    """One bfloat16 rounding of the result plus float32 accumulation over K."""
    mag = (a.double().abs() @ b.double().abs())
    k = max(a.shape[-1], 1)
    return 2.0 ** -8 * mag + k * 2.0 ** -23 * mag + 1e-30


@pytest.mark.parametrize("shape", SHAPES)
def test_bf16_bmm_matches_reference_and_torch(shape):
    bs, m, k, n = shape
    g = torch.Generator().manual_seed(sum(shape))
    a = torch.empty(bs, m, k).uniform_(-1, 1, generator=g).bfloat16()
    b = torch.empty(bs, k, n).uniform_(-1, 1, generator=g).bfloat16()
    exact = a.double() @ b.double()
    tol = _tolerance(a, b)
    ref = to_torch(norch._C._bmm_reference(to_norch(a), to_norch(b))).double()
    assert ((ref - exact).abs() <= tol).all()
    for x, y in _layouts(a, b):
        out = norch.bmm(x, y)
        assert out.dtype == norch.bfloat16 and tuple(out.shape) == (bs, m, n)
        got = to_torch(out).double()
        assert ((got - exact).abs() <= tol).all(), (shape, (got - exact).abs().max().item())
    theirs = (a @ b).double()
    assert ((to_torch(norch.bmm(*_layouts(a, b)[0])).double() - theirs).abs() <= 2 * tol).all()


def test_bf16_matmul_special_values():
    a = torch.tensor([[1.0, float("inf")], [float("nan"), 2.0], [3e38, 3e38]]).bfloat16()
    b = torch.tensor([[1.0, 0.5], [1.0, 2.0]]).bfloat16()
    got, want = to_torch(to_norch(a) @ to_norch(b)).float(), (a @ b).float()
    np.testing.assert_array_equal(got.isnan().numpy(), want.isnan().numpy())
    finite = ~want.isnan()
    np.testing.assert_array_equal(got[finite].numpy(), want[finite].numpy())


def test_float32_path_agrees_with_the_dot_path():
    # NORCH_SIMD=avx2 or baseline turns the AVX-512 BF16 kernel off: the float32-GEMM path must agree.
    code = """
import sys, numpy as np, norch
rng = np.random.default_rng(1)
a = norch.from_numpy(rng.uniform(-1, 1, (3, 37, 130)).astype(np.float32)).bfloat16()
b = norch.from_numpy(rng.uniform(-1, 1, (3, 130, 45)).astype(np.float32)).bfloat16()
np.save(sys.argv[1], norch.bmm(a, b).view(norch.float16).numpy())
"""
    outs = []
    for level in ("avx2", "baseline", "avx512", ""):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"norch_bf16_{level or 'best'}_{os.getpid()}.npy")
        env = dict(os.environ, NORCH_SIMD=level)
        subprocess.run([sys.executable, "-c", code, path], check=True, env=env)
        outs.append(torch.from_numpy(np.load(path)).view(torch.bfloat16).double())
        os.remove(path)
    # All accumulate in float32 and round once: at most one bfloat16 unit apart.
    for other in outs[:-1]:
        diff = (other - outs[-1]).abs()
        assert (diff <= 2.0 ** -7 * outs[-1].abs() + 1e-6).all()
    # NORCH_SIMD=avx512 is the best level here: the same kernel as no setting, bit for bit.
    assert torch.equal(outs[2], outs[3])


def test_bf16_matmul_rounds_once_to_nearest_even():
    # K = 1: each result is one product, exact in float32, so the output is that
    # product rounded once: PyTorch's bits, ties, overflow to inf and subnormals included.
    g = torch.Generator().manual_seed(5)
    a = (torch.randn(40, 1, generator=g) * torch.logspace(-20, 20, 40).unsqueeze(1)).bfloat16()
    b = (torch.randn(1, 70, generator=g) * torch.logspace(-19, 19, 70)).bfloat16()
    a[0, 0], b[0, 0] = 3e38, 2.0
    want = (a.float() @ b.float()).bfloat16()
    got = to_torch(to_norch(a) @ to_norch(b))
    # vdpbf16ps flushes subnormal inputs and results to zero (PyTorch keeps them): normal results only.
    normal = want.float().abs() >= 2.0 ** -126
    np.testing.assert_array_equal(got.view(torch.int16)[normal].numpy(), want.view(torch.int16)[normal].numpy())


# ---- kernel versions (src/kernels/cpu/isa/gemm_bf16.cpp's header) ------------------------
VERSIONS = range(1, norch._C._gemm_bf16_kernel_latest() + 1)

# Odd sizes around the tile edges (12 x 32 for v2/v3, 8 x 32 for v1), K past one slice
# (v2/v3 keep 1024 in registers, v1 256), odd K, batches; K = 2500 is no multiple of a
# slice, and at N = 600 its B takes two blocks (v2's 256-pair and v3's 512-pair slices).
VERSION_SHAPES = [(1, 13, 7, 33), (1, 25, 1026, 47), (2, 12, 1025, 32), (1, 37, 2051, 65), (3, 1, 64, 100),
                  (1, 100, 64, 1), (1, 190, 130, 70), (1, 26, 2500, 600)]


def _bits(t):
    return to_torch(t).view(torch.int16)


def _with_kernel(v, fn):
    old = norch._C._set_gemm_bf16_kernel(v)
    try:
        return fn()
    finally:
        norch._C._set_gemm_bf16_kernel(old)


def _with_threads(n, fn):
    old = norch.get_num_threads()
    norch.set_num_threads(n)
    try:
        return fn()
    finally:
        norch.set_num_threads(old)


@pytest.mark.parametrize("shape", VERSION_SHAPES)
def test_bf16_kernel_versions_match_reference_and_each_other(shape):
    bs, m, k, n = shape
    g = torch.Generator().manual_seed(7 + sum(shape))
    a = torch.empty(bs, m, k).uniform_(-1, 1, generator=g).bfloat16()
    b = torch.empty(bs, k, n).uniform_(-1, 1, generator=g).bfloat16()
    exact = a.double() @ b.double()
    tol = _tolerance(a, b)
    layouts = _layouts(a, b)
    first = None
    for v in VERSIONS:
        # Every combination of row-major, transposed and strided A and B.
        for x, _ in layouts:
            for _, y in layouts:
                out = _with_kernel(v, lambda: norch.bmm(x, y))
                err = (to_torch(out).double() - exact).abs()
                assert (err <= tol).all(), (v, shape, x.stride(), y.stride(), err.max().item())
                # The same float32 sums in the same order: every version and layout gives the same bits.
                if first is None:
                    first = _bits(out)
                assert torch.equal(_bits(out), first), (v, shape, x.stride(), y.stride())


def test_bf16_kernel_every_edge_tile():
    # Each row count of an edge tile (1..12) and each column count of an edge panel (1..32).
    g = torch.Generator().manual_seed(3)
    for m in range(1, 14):
        for n in (1, 5, 16, 17, 31, 33):
            a = torch.empty(1, m, 6).uniform_(-1, 1, generator=g).bfloat16()
            b = torch.empty(1, 6, n).uniform_(-1, 1, generator=g).bfloat16()
            exact, tol = a.double() @ b.double(), _tolerance(a, b)
            first = None
            for v in VERSIONS:
                for x, y in _layouts(a, b):
                    got = _with_kernel(v, lambda: norch.bmm(x, y))
                    assert ((to_torch(got).double() - exact).abs() <= tol).all(), (v, m, n, x.stride(), y.stride())
                    first = _bits(got) if first is None else first
                    assert torch.equal(_bits(got), first), (v, m, n, x.stride(), y.stride())


@pytest.mark.parametrize("shape", [(1, 300, 520, 200), (1, 64, 2050, 96), (4, 70, 130, 90), (1, 1, 4096, 700)])
def test_bf16_kernel_bit_identical_across_threads(shape):
    bs, m, k, n = shape
    g = torch.Generator().manual_seed(11)
    a = torch.empty(bs, m, k).uniform_(-1, 1, generator=g).bfloat16()
    b = torch.empty(bs, k, n).uniform_(-1, 1, generator=g).bfloat16()
    for v in VERSIONS:
        for x, y in _layouts(a, b)[:2]:
            outs = [_with_threads(t, lambda: _with_kernel(v, lambda: norch.bmm(x, y))) for t in (1, 2, 3)]
            assert torch.equal(_bits(outs[0]), _bits(outs[1])) and torch.equal(_bits(outs[0]), _bits(outs[2])), (v, shape)


def test_bf16_kernel_special_values_every_version_and_layout():
    a = torch.tensor([[1.0, float("inf"), 0.0, 1.0], [float("nan"), 2.0, 1.0, 0.0], [3e38, 3e38, 0.0, 0.0]]).bfloat16()
    b = torch.tensor([[1.0, 0.5], [1.0, 2.0], [float("-inf"), 1.0], [1.0, 1.0]]).bfloat16()
    want = (a @ b).float()
    for v in VERSIONS:
        for x, y in _layouts(a.unsqueeze(0), b.unsqueeze(0)):
            got = to_torch(_with_kernel(v, lambda: norch.bmm(x, y))[0]).float()
            np.testing.assert_array_equal(got.isnan().numpy(), want.isnan().numpy())
            finite = ~want.isnan()
            np.testing.assert_array_equal(got[finite].numpy(), want[finite].numpy())


def test_bf16_kernel_nan_and_tiny_sums_same_bits_every_version():
    # v3 rounds with vcvtne2ps2bf16: a NaN of either sign must still come out as norch's
    # 0x7fc0 (inf + -inf gives x86's negative default NaN), and sums near and below
    # 2^-126 must round as v1/v2 round them.
    a = torch.tensor([[float("inf"), 1.0, 0.0, 0.0], [float("nan"), 0.0, 0.0, 0.0], [2.0 ** -63, 2.0 ** -64, 0.0, 0.0],
                      [2.0 ** -60, -(2.0 ** -60), 2.0 ** -70, 1e-30], [-(2.0 ** -66), 2.0 ** -63, 3.0, 0.0]]).bfloat16()
    b = torch.tensor([[1.0, -1.0, 2.0 ** -63], [float("-inf"), 1.0, 2.0 ** -62], [2.0 ** -60, 2.0 ** -59, 1e-30],
                      [1e-20, 2.0 ** -64, 1.0]]).bfloat16()
    # Five rows x 33 columns, so that the tile has a full 32-column panel and an edge one.
    b = b.repeat(1, 11)
    first = None
    for v in VERSIONS:
        for x, y in _layouts(a.unsqueeze(0), b.unsqueeze(0)):
            got = _bits(_with_kernel(v, lambda: norch.bmm(x, y))[0])
            nan = to_torch(_with_kernel(v, lambda: norch.bmm(x, y))[0]).isnan()
            assert nan[0, 0] and nan[1].all(), v  # inf * 1 + 1 * -inf; NaN * anything
            assert (got[nan] == 0x7fc0).all(), (v, got[nan])
            first = got if first is None else first
            assert torch.equal(got, first), (v, x.stride(), y.stride())


def test_bf16_linear_backward_forms_match_torch():
    # The three products of linear's forward and backward: x @ W^T, dY @ W and dY^T @ x.
    g = torch.Generator().manual_seed(2)
    x = torch.empty(33, 130).uniform_(-1, 1, generator=g).bfloat16().requires_grad_()
    w = torch.empty(70, 130).uniform_(-1, 1, generator=g).bfloat16().requires_grad_()
    dy = torch.empty(33, 70).uniform_(-1, 1, generator=g).bfloat16()
    nx, nw = to_norch(x.detach()).requires_grad_(), to_norch(w.detach()).requires_grad_()
    y = norch.nn.functional.linear(nx, nw)
    y.backward(to_norch(dy))
    want_y = torch.nn.functional.linear(x, w)
    want_y.backward(dy)
    for got, want, (p, q) in ((y, want_y, (x, w.t())), (nx.grad, x.grad, (dy, w)), (nw.grad, w.grad, (dy.t(), x))):
        tol = _tolerance(p, q)
        assert ((to_torch(got).double() - want.double()).abs() <= 2 * tol).all()


def test_bf16_kernel_setter_round_trips():
    old = norch._C._set_gemm_bf16_kernel(1)
    assert norch._C._set_gemm_bf16_kernel(old) == 1
    assert norch._C._gemm_bf16_kernel_latest() >= 3
