"""The blocked CPU conv2d (Note [Blocked convolution] in src/kernels/cpu/conv_kernel.cpp):
forward, input gradient and weight gradient against PyTorch and against the unfold +
matmul reference computed in float64 by NumPy, on shapes that cut the batch into several
blocks with a partial last one, odd sizes, strides, padding, dilation, groups, 1 x 1
kernels, non-contiguous operands, float32 and float64, every thread count (bit for bit)
and every SIMD level the dispatcher can select. The stride-1 cases with few channels run
the row-table path (Note [Row-table convolution], conv_rows_kernel.cpp), whose products
read B through a table of row or column offsets; ROWS lists them, and their forward and
input gradient are also checked on every GEMM kernel version."""
import os

import numpy as np
import pytest
import torch  # the oracle
import torch.nn.functional as TF

import norch
import norch.nn.functional as F
from norch.autograd import gradcheck, gradgradcheck
from _oracle import SIMD_LEVELS, run_at_simd_level

RNG = np.random.default_rng(3)

# (input shape, weight shape, stride, padding, dilation, groups, bias)
CASES = [
    ((64, 1, 28, 28), (6, 1, 5, 5), 1, 0, 1, 1, True),          # LeNet 1
    ((64, 6, 12, 12), (16, 6, 5, 5), 1, 0, 1, 1, True),         # LeNet 2: 7 blocks, the last partial
    ((13, 16, 16, 16), (16, 16, 3, 3), 1, 1, 1, 1, False),      # ResNet-like: blocks of 1-2 samples
    ((9, 16, 15, 17), (32, 16, 3, 3), 2, 1, 1, 1, False),       # stride-2 downsampling, odd sizes
    ((9, 16, 15, 17), (32, 16, 1, 1), 2, 0, 1, 1, False),       # 1 x 1 shortcut
    ((5, 6, 11, 10), (9, 2, 3, 2), (2, 1), (1, 2), (2, 1), 3, True),   # groups, dilation, mixed
    ((3, 4, 7, 9), (4, 1, 3, 3), 1, 1, 1, 4, True),             # depthwise
    ((4, 3, 6, 5), (5, 3, 6, 5), 1, 0, 1, 1, True),             # kernel = whole plane: L = 1
    ((2, 3, 5, 5), (7, 3, 3, 3), 3, 2, 2, 1, True),             # padding wider than the taps reach
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, 1, True),
    ((3, 2, 1, 9), (4, 2, 1, 3), 1, (0, 1), 1, 1, True),        # conv1d's form
    ((3, 16, 24, 24), (16, 8, 3, 3), 1, 1, 1, 2, True),         # one-sample blocks: output and grad used in place
    ((2, 3, 14, 7), (4, 3, 3, 3), (3, 1), (0, 1), 1, 1, True),  # padded plane: last input rows beyond every window
    ((3, 4, 9, 7), (5, 4, 3, 3), (2, 1), (0, 3), (1, 2), 1, False),  # padding wider than the taps reach, dilated
    # Stride 1 with at most 16 output channels per group: the row-table forward
    # (Note [Row-table convolution]), B rows read in place from padded planes.
    ((3, 5, 9, 11), (7, 5, 3, 3), 1, 2, 1, 1, True),             # padding 2, odd padded width (15)
    ((2, 6, 10, 13), (10, 3, 3, 3), 1, 1, 2, 2, False),          # dilation 2, groups
    ((3, 7, 12, 12), (14, 7, 3, 5), 1, (1, 2), 1, 1, True),      # K = 105 (no whole K step), 12 + 2 rows
    ((2, 4, 20, 21), (16, 4, 3, 3), 1, 0, (2, 1), 1, True),      # no padding: read from x itself
    ((2, 3, 40, 40), (4, 3, 3, 3), 1, 1, 1, 1, False),           # several column blocks, ragged last panel
    ((2, 8, 9, 9), (24, 8, 3, 3), 1, 1, 1, 1, False),            # 24 channels: unfolded forward, row-table dW
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 3, 1, 1, True),              # padding past d*(k-1): grad input unfolds
]
ROWS = [14, 15, 16, 17, 18, 20, 2, 6, 11]   # cases the row-table forward (and grad input) runs
IDS = [f"case{i}" for i in range(len(CASES))]


def make(case, dtype):
    xs, ws, stride, padding, dilation, groups, has_bias = case
    x = RNG.standard_normal(xs).astype(dtype)
    w = (RNG.standard_normal(ws) * 0.3).astype(dtype)
    b = RNG.standard_normal(ws[0]).astype(dtype) if has_bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, w, b, kw


def torch_ref(x, w, b, kw, g=None):
    """Output and gradients in float64 by PyTorch."""
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True) if b is not None else None
    out = TF.conv2d(tx, tw, tb, **kw)
    out.backward(torch.tensor(g, dtype=torch.float64) if g is not None else torch.ones_like(out))
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), None if tb is None else tb.grad.numpy()


def numpy_forward(x, w, b, kw):
    """The unfold + matmul reference in float64: F.unfold is checked against torch elsewhere."""
    N, C = x.shape[:2]
    OC, Cg, kh, kwid = w.shape
    G = kw["groups"]
    cols = F.unfold(norch.tensor(x.astype(np.float64)), (kh, kwid), dilation=kw["dilation"], padding=kw["padding"],
                    stride=kw["stride"]).numpy()                         # [N, C*kh*kw, L]
    cols = cols.reshape(N, G, Cg * kh * kwid, -1)
    wm = w.astype(np.float64).reshape(G, OC // G, Cg * kh * kwid)
    out = np.einsum("gok,ngkl->ngol", wm, cols).reshape(N, OC, -1)
    if b is not None:
        out = out + b.astype(np.float64)[None, :, None]
    return out


def tol(dtype, case):
    xs, ws = case[0], case[1]
    k = ws[1] * ws[2] * ws[3]
    return (2e-5 * np.sqrt(k) if dtype == np.float32 else 1e-12 * k), 1e-4 if dtype == np.float32 else 1e-10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_blocked_conv2d_matches_references(case, dtype):
    x, w, b, kw = make(case, dtype)
    nx, nw = norch.tensor(x, requires_grad=True), norch.tensor(w, requires_grad=True)
    nb = norch.tensor(b, requires_grad=True) if b is not None else None
    out = F.conv2d(nx, nw, nb, **kw)
    g = RNG.standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(norch.tensor(g))
    ref_out, ref_gx, ref_gw, ref_gb = torch_ref(x, w, b, kw, g)
    atol, rtol = tol(dtype, case)
    np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=rtol, atol=atol)
    np.testing.assert_allclose(out.detach().numpy().reshape(ref_out.shape[0], ref_out.shape[1], -1),
                               numpy_forward(x, w, b, kw), rtol=rtol, atol=atol)
    scale = np.sqrt(ref_out.shape[0] * ref_out.shape[2] * ref_out.shape[3])
    np.testing.assert_allclose(nx.grad.numpy(), ref_gx, rtol=rtol, atol=atol)
    np.testing.assert_allclose(nw.grad.numpy(), ref_gw, rtol=rtol, atol=atol * scale)
    if b is not None:
        np.testing.assert_allclose(nb.grad.numpy(), ref_gb, rtol=rtol, atol=atol * scale)
    assert out.dtype == nx.dtype and nx.grad.dtype == nx.dtype and nw.grad.dtype == nx.dtype


@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[5], CASES[11], CASES[12]],
                         ids=["lenet2", "stride2", "groups", "one_sample_blocks", "padded_plane"])
def test_blocked_conv2d_each_gradient_alone(case):
    # Only the input, or only the weight, requiring grad runs one backward kernel by itself.
    x, w, b, kw = make(case, np.float32)
    _, ref_gx, ref_gw, _ = torch_ref(x, w, b, kw)
    atol, rtol = tol(np.float32, case)
    nx = norch.tensor(x, requires_grad=True)
    F.conv2d(nx, norch.tensor(w), None if b is None else norch.tensor(b), **kw).sum().backward()
    np.testing.assert_allclose(nx.grad.numpy(), ref_gx, rtol=rtol, atol=atol)
    nw = norch.tensor(w, requires_grad=True)
    out = F.conv2d(norch.tensor(x), nw, None if b is None else norch.tensor(b), **kw)
    out.sum().backward()
    np.testing.assert_allclose(nw.grad.numpy(), ref_gw, rtol=rtol, atol=atol * np.sqrt(out.numel()))


@pytest.mark.parametrize("case", [CASES[3], CASES[11]], ids=["stride2", "one_sample_blocks"])
def test_blocked_conv2d_noncontiguous_operands(case):
    x, w, b, kw = make(case, np.float32)
    nx = norch.tensor(np.ascontiguousarray(np.swapaxes(x, -1, -2))).transpose(-1, -2).requires_grad_(True)
    nw = norch.tensor(np.ascontiguousarray(np.swapaxes(w, 0, 1))).transpose(0, 1).requires_grad_(True)
    assert not nx.is_contiguous() and not nw.is_contiguous()
    out = F.conv2d(nx, nw, None, **kw)
    out.sum().backward()
    ref_out, ref_gx, ref_gw, _ = torch_ref(x, w, None, kw)
    atol, rtol = tol(np.float32, case)
    np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=rtol, atol=atol)
    np.testing.assert_allclose(nx.grad.numpy(), ref_gx, rtol=rtol, atol=atol)
    np.testing.assert_allclose(nw.grad.numpy(), ref_gw, rtol=rtol, atol=atol * np.sqrt(out.numel()))


def test_blocked_conv2d_unbatched_and_conv1d():
    x, w, b, kw = make(CASES[5], np.float64)
    out = F.conv2d(norch.tensor(x[0]), norch.tensor(w), norch.tensor(b), **kw)
    np.testing.assert_allclose(out.numpy(), torch_ref(x[:1], w, b, kw)[0][0], rtol=1e-10, atol=1e-10)
    a = RNG.standard_normal((4, 3, 20)).astype(np.float32)
    k = RNG.standard_normal((5, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(F.conv1d(norch.tensor(a), norch.tensor(k), stride=2, padding=1).numpy(),
                               TF.conv1d(torch.tensor(a), torch.tensor(k), stride=2, padding=1).numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [((2, 4, 9, 7), (6, 4, 3, 3), 2, 1, 1, 1, True), CASES[5], CASES[12], CASES[13],
                                  CASES[14], CASES[15]],
                         ids=["stride2", "groups", "padded_plane", "wide_padding", "rows_pad2", "rows_dilated"])
def test_blocked_conv2d_gradcheck(case):
    xs, ws, stride, padding, dilation, groups, _ = case
    xs = (2,) + xs[1:3] + (min(xs[3], 7),)
    x = norch.tensor(RNG.standard_normal(xs), requires_grad=True)
    w = norch.tensor(RNG.standard_normal(ws) * 0.3, requires_grad=True)
    b = norch.tensor(RNG.standard_normal(ws[0]), requires_grad=True)
    fn = lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def _grads_on(threads, x, w, b, kw):
    old = norch.get_num_threads()
    try:
        norch.set_num_threads(threads)
        nx, nw = norch.tensor(x, requires_grad=True), norch.tensor(w, requires_grad=True)
        out = F.conv2d(nx, nw, norch.tensor(b) if b is not None else None, **kw)
        out.backward(norch.tensor(np.cos(np.arange(out.numel(), dtype=x.dtype)).reshape(tuple(out.shape))))
        return out.detach().numpy(), nx.grad.numpy(), nw.grad.numpy()
    finally:
        norch.set_num_threads(old)


@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[5], CASES[11], CASES[12], CASES[15], CASES[18],
                                  CASES[19]],
                         ids=["lenet2", "resnet", "groups", "one_sample_blocks", "padded_plane", "rows_groups",
                              "rows_blocks", "rows_weight_only"])
def test_blocked_conv2d_bit_identical_on_every_thread_count(case):
    x, w, b, kw = make(case, np.float32)
    ref = _grads_on(1, x, w, b, kw)
    for threads in (2, 3):
        for r, got in zip(ref, _grads_on(threads, x, w, b, kw)):
            np.testing.assert_array_equal(r, got)


def _forward_on_every_gemm_kernel(cases, dtype):
    # Versions before 5 pack B from the row table; 5 reads its whole panels in place.
    # The input gradient of these cases runs the same product on grad.
    old = norch._C._set_gemm_kernel(0)
    try:
        for version in range(1, norch._C._gemm_kernel_latest() + 1):
            norch._C._set_gemm_kernel(version)
            for case in cases:
                x, w, b, kw = make(case, dtype)
                nx = norch.tensor(x, requires_grad=True)
                out = F.conv2d(nx, norch.tensor(w), None if b is None else norch.tensor(b), **kw)
                g = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(dtype)
                out.backward(norch.tensor(g))
                ref_out, ref_gx, _, _ = torch_ref(x, w, b, kw, g)
                atol, rtol = tol(dtype, case)
                np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=rtol, atol=atol,
                                           err_msg=f"GEMM kernel {version}, case {case}")
                np.testing.assert_allclose(nx.grad.numpy(), ref_gx, rtol=rtol, atol=atol,
                                           err_msg=f"grad input, GEMM kernel {version}, case {case}")
    finally:
        norch._C._set_gemm_kernel(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_table_forward_on_every_gemm_kernel(dtype):
    _forward_on_every_gemm_kernel([CASES[i] for i in ROWS], dtype)


SIMD_CHECK = r"""
import os, sys
import numpy as np, torch, norch
sys.path.insert(0, os.environ["TEST_DIR"])
import test_conv_blocked as t
for dtype in (np.float32, np.float64):
    for case in t.CASES[1:]:   # LeNet 1 is the slowest and adds no new blocking
        t.test_blocked_conv2d_matches_references(case, dtype)
    t._forward_on_every_gemm_kernel([t.CASES[i] for i in t.ROWS], dtype)
assert norch._C._simd_level() == os.environ["EXPECTED_SIMD"], norch._C._simd_level()
"""


@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_blocked_conv2d_on_every_simd_level(level):
    run_at_simd_level(level, SIMD_CHECK, os.path.dirname(__file__))


def test_blocked_conv2d_sample_too_large_to_keep_scratch():
    # One sample's columns (8 * 9 * 300 * 300 floats, 26 MB) exceed what a thread keeps
    # between calls: that block gets scratch of its own.
    x, w, b, kw = make(((1, 8, 300, 300), (4, 8, 3, 3), 1, 1, 1, 1, True), np.float32)
    nx, nw = norch.tensor(x, requires_grad=True), norch.tensor(w, requires_grad=True)
    out = F.conv2d(nx, nw, norch.tensor(b), **kw)
    out.sum().backward()
    ref_out, ref_gx, ref_gw, _ = torch_ref(x, w, b, kw)
    np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(nx.grad.numpy(), ref_gx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(nw.grad.numpy(), ref_gw, rtol=1e-4, atol=0.05)


@pytest.mark.parametrize("where", [(0, 0, 0, 9), (1, 2, 5, 0), (0, 1, 9, 9)])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_row_table_grad_weight_with_non_finite_input(where, value):
    # The row-table weight gradient's padded-width grid multiplies its zero columns by
    # real inputs; an inf there must not turn into NaN (0 * inf) where torch's sum is not.
    x = RNG.standard_normal((2, 3, 10, 10)).astype(np.float32)
    x[where] = value
    wt = RNG.standard_normal((8, 3, 3, 3)).astype(np.float32)
    g = RNG.standard_normal((2, 8, 10, 10)).astype(np.float32)
    xn, wn = norch.tensor(x, requires_grad=True), norch.tensor(wt, requires_grad=True)
    F.conv2d(xn, wn, padding=1).backward(norch.tensor(g))
    xt, wt_t = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
    TF.conv2d(xt, wt_t, padding=1).backward(torch.tensor(g))
    got, want = wn.grad.numpy(), wt_t.grad.numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-4)
