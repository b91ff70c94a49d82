"""The bfloat16 GEMM paths: the AVX-512 BF16 kernel (vdpbf16ps, where the CPU has
it) and the float32-GEMM path (NORCH_SIMD=avx2, or a CPU without it) against the
reference loop on edge, odd-K, batched, transposed and strided shapes, and against
PyTorch's bfloat16 matmul."""
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
    # NORCH_SIMD=avx2 turns the AVX-512 BF16 kernel off: the float32-GEMM path must agree.
    code = """
import sys, numpy as np, norch
rng = np.random.default_rng(1)
a = norch.from_numpy(rng.uniform(-1, 1, (3, 37, 130)).astype(np.float32)).bfloat16()
b = norch.from_numpy(rng.uniform(-1, 1, (3, 130, 45)).astype(np.float32)).bfloat16()
np.save(sys.argv[1], norch.bmm(a, b).view(norch.float16).numpy())
"""
    outs = []
    for level in ("avx2", ""):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"norch_bf16_{level or 'best'}_{os.getpid()}.npy")
        env = dict(os.environ, NORCH_SIMD=level)
        subprocess.run([sys.executable, "-c", code, path], check=True, env=env)
        outs.append(torch.from_numpy(np.load(path)).view(torch.bfloat16).double())
        os.remove(path)
    # Both accumulate in float32 and round once: at most one bfloat16 unit apart.
    diff = (outs[0] - outs[1]).abs()
    assert (diff <= 2.0 ** -7 * outs[1].abs() + 1e-6).all()


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
