"""The CUDA matmul's switches and ladder: float32 matmul precision and
backends.cuda.matmul.allow_tf32 (PyTorch's semantics, checked against torch on the CPU),
the kernel choice (NORCH_CUDA_MATMUL, backends.cuda.set_matmul_kernel), and, on a GPU,
every ladder kernel against cuBLAS and NumPy, TF32 numerics, and the matmul composites
(linear, addmm, baddbmm, broadcast matmul) forward and backward."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

import norch
import norch.nn.functional as F

from _oracle import T, assert_close, check_op

cuda_only = pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")
RNG = np.random.default_rng(7)


def rand(*shape, dtype=np.float64):
    return RNG.uniform(-1, 1, size=shape).astype(dtype)


@pytest.fixture
def restore_settings():
    precision, kernel = norch.get_float32_matmul_precision(), norch.backends.cuda.get_matmul_kernel()
    yield
    norch.set_float32_matmul_precision(precision)
    norch.backends.cuda.set_matmul_kernel(kernel)


# ---- flag plumbing (every machine) ------------------------------------------------------

def test_precision_and_allow_tf32_are_one_setting_as_in_torch(restore_settings):
    t_prec = torch.get_float32_matmul_precision()
    try:
        assert norch.get_float32_matmul_precision() == t_prec == "highest"
        assert norch.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
        for p in ("high", "medium", "highest"):
            norch.set_float32_matmul_precision(p)
            torch.set_float32_matmul_precision(p)
            assert norch.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == p
            assert norch.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32
        for flag in (True, False):
            norch.backends.cuda.matmul.allow_tf32 = flag
            torch.backends.cuda.matmul.allow_tf32 = flag
            assert norch.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
            assert norch.backends.cuda.matmul.allow_tf32 is flag
    finally:
        torch.set_float32_matmul_precision(t_prec)


def test_bad_precision_warns_and_changes_nothing_as_in_torch(restore_settings):
    norch.set_float32_matmul_precision("high")
    with pytest.warns(UserWarning, match="fast is not one of"):
        norch.set_float32_matmul_precision("fast")
    assert norch.get_float32_matmul_precision() == "high"


def test_allow_tf32_refuses_non_bool_and_unknown_names():
    with pytest.raises(RuntimeError, match="expects a bool, but got str"):
        norch.backends.cuda.matmul.allow_tf32 = "yes"
    with pytest.raises(RuntimeError, match="expects a bool"):
        torch.backends.cuda.matmul.allow_tf32 = "yes"
    with pytest.raises(AttributeError, match="Unknown attribute allow_tf64"):
        norch.backends.cuda.matmul.allow_tf64 = True
    with pytest.raises(AttributeError, match="Unknown attribute"):
        norch.backends.cuda.matmul.allow_tf64
    assert norch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction is True


def test_cpu_matmul_is_fp32_at_every_precision(restore_settings):
    a, b = rand(64, 300, dtype=np.float32), rand(300, 32, dtype=np.float32)
    ref = norch.mm(T(a), T(b)).numpy()
    norch.set_float32_matmul_precision("medium")
    np.testing.assert_array_equal(norch.mm(T(a), T(b)).numpy(), ref)


def test_matmul_kernel_choice_round_trip(restore_settings):
    assert norch.backends.cuda.get_matmul_kernel() == "cublas"
    for k in ("naive", "tiled", "cublas"):
        norch.backends.cuda.set_matmul_kernel(k)
        assert norch.backends.cuda.get_matmul_kernel() == k
    with pytest.raises(ValueError, match="expected 'cublas', 'tiled' or 'naive', but got 'fast'"):
        norch.backends.cuda.set_matmul_kernel("fast")
    assert norch.backends.cuda.get_matmul_kernel() == "cublas"


def _run(code, env_value):
    env = dict(os.environ, NORCH_CUDA_MATMUL=env_value)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120)


def test_matmul_kernel_from_environment():
    r = _run("import norch; print(norch.backends.cuda.get_matmul_kernel())", "tiled")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "tiled"


def test_bad_matmul_kernel_environment_is_an_error_until_set():
    r = _run("""
        import norch
        try:
            norch.backends.cuda.get_matmul_kernel()
        except RuntimeError as e:
            print("error:", e)
        norch.backends.cuda.set_matmul_kernel("naive")
        print(norch.backends.cuda.get_matmul_kernel())
        """, "fastest")
    assert r.returncode == 0, r.stderr
    assert "error: NORCH_CUDA_MATMUL=fastest is not a CUDA matmul kernel" in r.stdout
    assert r.stdout.strip().endswith("naive")


# ---- the ladder against cuBLAS (GPU) ----------------------------------------------------

LADDER_SHAPES = [  # (batch, n, k, m): tile edges, odd sizes, k not a multiple of 32, one row/column
    (1, 1, 1, 1), (1, 32, 32, 32), (1, 33, 65, 31), (3, 17, 129, 257), (2, 1, 300, 5), (4, 64, 1, 64),
    (70000, 2, 3, 2),  # more batches than one launch's grid z
]


def _views(x, kind):
    """x [B, r, c] as a contiguous tensor, a transposed view of the same values, or a strided slice."""
    if kind == "contiguous":
        return x
    if kind == "transposed":
        return x.transpose(1, 2).contiguous().transpose(1, 2)
    return norch.stack([x, x], dim=3).reshape(x.shape[0], x.shape[1], -1)[:, :, ::2]


@cuda_only
@pytest.mark.parametrize("kernel", ["naive", "tiled"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", LADDER_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_ladder_matches_cublas(kernel, dtype, shape, restore_settings):
    B, n, k, m = shape
    a, b = rand(B, n, k, dtype=dtype), rand(B, k, m, dtype=dtype)
    ref = a.astype(np.float64) @ b
    ta, tb = T(a, device="cuda"), T(b, device="cuda")
    norch.backends.cuda.set_matmul_kernel("cublas")
    blas = norch.bmm(ta, tb)
    norch.backends.cuda.set_matmul_kernel(kernel)
    for va in ("contiguous", "transposed", "strided"):
        for vb in ("contiguous", "transposed", "strided"):
            out = norch.bmm(_views(ta, va), _views(tb, vb))
            assert_close(out, blas, k=k)
            assert_close(out, ref, k=k)


@cuda_only
@pytest.mark.parametrize("kernel", ["naive", "tiled", "cublas"])
def test_every_kernel_runs_the_broadcast_matmul_and_backward(kernel, restore_settings):
    norch.backends.cuda.set_matmul_kernel(kernel)
    check_op(norch.matmul, [rand(2, 1, 5, 7), rand(3, 7, 4)], device="cuda", gradgrad=False)


@cuda_only
def test_integer_matmul_on_cuda():
    a = RNG.integers(-5, 6, (3, 17, 40)).astype(np.int64)
    b = RNG.integers(-5, 6, (3, 40, 9)).astype(np.int64)
    np.testing.assert_array_equal(norch.bmm(T(a, device="cuda"), T(b, device="cuda")).cpu().numpy(), a @ b)
    ref = norch._C._bmm_reference(T(a, device="cuda"), T(b, device="cuda"))
    np.testing.assert_array_equal(ref.cpu().numpy(), a @ b)


# ---- TF32 numerics (GPU) ----------------------------------------------------------------

@cuda_only
def test_tf32_only_when_allowed(restore_settings):
    # TF32 keeps 10 mantissa bits of each input: over k = 1024 the error is ~1e-3 relative,
    # a hundred times FP32's. "highest" must stay at FP32 accuracy; "high" must not.
    a, b = rand(256, 1024, dtype=np.float32), rand(1024, 256, dtype=np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(ref).max()

    def err():
        return np.abs(norch.mm(T(a, device="cuda"), T(b, device="cuda")).cpu().numpy() - ref).max() / scale

    norch.set_float32_matmul_precision("highest")
    fp32 = err()
    norch.backends.cuda.matmul.allow_tf32 = True
    tf32 = err()
    norch.set_float32_matmul_precision("medium")
    medium = err()
    assert fp32 < 1e-5, fp32
    assert tf32 > 10 * fp32 and tf32 < 1e-2, (tf32, fp32)
    assert medium > 10 * fp32, (medium, fp32)
    # float64 ignores the setting.
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    assert_close(norch.mm(T(a64, device="cuda"), T(b64, device="cuda")), ref, k=1024)


# ---- the composites on the device (every machine; CUDA against the CPU on a GPU) ---------

COMPOSITES = [
    ("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), [(4, 5, 6), (3, 6), (3,)]),
    ("linear_no_bias", lambda L, x, w: L.nn.functional.linear(x, w), [(7, 6), (3, 6)]),
    ("addmm", lambda L, i, a, b: L.addmm(i, a, b, beta=0.5, alpha=2.0), [(3,), (4, 6), (6, 3)]),
    ("baddbmm", lambda L, i, a, b: L.baddbmm(i, a, b, beta=0.25, alpha=1.5), [(2, 4, 3), (2, 4, 6), (2, 6, 3)]),
    ("matmul_broadcast", lambda L, a, b: L.matmul(a, b), [(2, 1, 3, 5), (1, 4, 5, 2)]),
    ("matmul_vec", lambda L, a, b: L.matmul(a, b), [(3, 4, 5), (5,)]),
]


@pytest.mark.parametrize("name,fn,shapes", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_composites_match_torch_forward_and_backward(name, fn, shapes, device):
    arrays = [rand(*s) for s in shapes]
    ours = [T(x, device=device, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    out, ref = fn(norch, *ours), fn(torch, *theirs)
    assert out.device.type == device
    assert_close(out, ref, k=8)
    g = rand(*ref.shape)
    (out * T(g, device=device)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for o, t in zip(ours, theirs):
        assert o.grad.device.type == device
        assert_close(o.grad, t.grad, k=8)
