"""The vector reduction loops (src/kernels/cpu/isa/reduce_isa.cpp) against references:
sum/prod/amax/amin/argmax/argmin/var/std on lengths around every lane, chunk and block
boundary, strided, transposed, 0-d and empty input, every dtype; accuracy on adversarial
sums compared with PyTorch's cascade sum; the same bits on every SIMD level the dispatcher
can select (NORCH_SIMD, in subprocesses) and on 1, 2 and 3 threads."""
import hashlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import norch

try:
    import torch
except ImportError:  # the accuracy comparison needs it; the rest does not
    torch = None

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# Around 2 x lanes (32 floats, 16 doubles), a chunk (512 / 256), the argmax block (2048)
# and the sum block (65536), plus a length that crosses several blocks.
LENGTHS = [1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 511, 512, 513, 2047, 2048, 2049,
           4097, 65535, 65536, 65537, 3 * 65536 + 17]
FLOATS = [np.float32, np.float64]
INTS = [np.int64, np.int32]


def fsum_err(values, result):
    """|result - exact sum| relative to sum |x| (the scale any summation error bound uses)."""
    x = np.asarray(values, dtype=np.float64)
    scale = math.fsum(np.abs(x)) or 1.0
    return abs(float(result) - math.fsum(x)) / scale


def data(n, dtype, seed=0):
    rng = np.random.default_rng(seed + n)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-1000, 1000, n).astype(dtype)
    return rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", LENGTHS)
def test_float_sum_lengths(dtype, n):
    a = data(n, dtype)
    s = norch.from_numpy(a).sum().item()
    assert fsum_err(a, s) <= (4e-7 if dtype == np.float32 else 1e-15)
    # mean is the same sum divided by n
    np.testing.assert_allclose(norch.from_numpy(a).mean().item(), math.fsum(a.astype(np.float64)) / n,
                               rtol=0, atol=(4e-7 if dtype == np.float32 else 1e-15) * np.abs(a).sum() / n)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("n", LENGTHS)
def test_extremes_and_arg_lengths(dtype, n):
    a = data(n, dtype)
    t = norch.from_numpy(a)
    assert t.amax().item() == a.max() and t.amin().item() == a.min()
    assert t.argmax().item() == a.argmax() and t.argmin().item() == a.argmin()
    v, i = t.max(0)
    assert v.item() == a.max() and i.item() == a.argmax()


@pytest.mark.parametrize("n", LENGTHS)
def test_int_sum_and_prod_lengths(n):
    a = data(n, np.int64)
    t = norch.from_numpy(a)
    assert t.sum().item() == int(a.sum())
    small = (a % 3 - 1).astype(np.int64)  # -1, 0, 1: the product stays in range
    assert norch.from_numpy(small).prod().item() == int(np.prod(small))
    assert norch.from_numpy(a.astype(np.int32)).sum().item() == int(a.sum())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 31, 32, 33, 65, 513, 4097, 65537])
def test_float_prod_lengths(dtype, n):
    a = (1 + 1e-3 * data(n, np.float64)).astype(dtype)
    np.testing.assert_allclose(norch.from_numpy(a).prod().item(), np.prod(a.astype(np.float64)),
                               rtol=(2e-6 if dtype == np.float32 else 1e-13) * math.sqrt(n))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 2, 17, 33, 257, 4097, 65537, 3 * 65536 + 17])
@pytest.mark.parametrize("correction", [0, 1, 2.5])
def test_var_std_lengths(dtype, n, correction):
    a = data(n, dtype) * 3 + 100  # an offset: a one-pass formula would lose digits here
    t = norch.from_numpy(a)
    x = a.astype(np.float64)
    dev = x - math.fsum(x) / n
    ref = math.fsum(dev * dev) / max(0.0, n - correction) if n - correction > 0 else float("nan")
    got = t.var(correction=correction).item()
    if math.isnan(ref):
        assert math.isnan(got) or math.isinf(got)
        return
    tol = 2e-7 if dtype == np.float32 else 1e-14
    assert abs(got - ref) <= tol * abs(ref) * 4
    assert abs(t.std(correction=correction).item() - math.sqrt(ref)) <= tol * math.sqrt(ref) * 4


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((300, 700), 1), ((700, 300), 0), ((7, 5, 33), (0, 2)), ((5, 1, 70000), 2),
                                       ((1000, 3), 1), ((3, 1000), 0)])
def test_var_dims_layouts(dtype, shape, dim):
    a = data(int(np.prod(shape)), dtype).reshape(shape) + 10
    for keepdim in (False, True):
        got = norch.from_numpy(a).var(dim, keepdim=keepdim).numpy()
        ref = a.astype(np.float64).var(axis=dim, ddof=1, keepdims=keepdim)
        np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # the transposed view runs the column layout, the strided one a copy
    at = np.ascontiguousarray(a.T).T
    np.testing.assert_allclose(norch.from_numpy(np.ascontiguousarray(a.T)).transpose(0, -1).var(dim).numpy()
                               if a.ndim == 2 else norch.from_numpy(a).var(dim).numpy(),
                               at.astype(np.float64).var(axis=dim, ddof=1), rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_var_special_inputs():
    assert math.isnan(norch.tensor([], dtype=norch.float32).var().item())
    assert norch.tensor(3.0).var(correction=0).item() == 0.0
    assert math.isnan(norch.tensor(3.0).var().item())
    assert math.isnan(norch.tensor([1.0, float("nan"), 2.0]).var().item())
    assert math.isnan(norch.tensor([1.0, float("inf"), 2.0]).var().item())
    e = norch.zeros(3, 0).var(1)
    assert e.shape == (3,) and all(math.isnan(v) for v in e.tolist())
    # float16 has no fused kernel: the composite gives the same answer
    h = np.random.default_rng(0).standard_normal(1000).astype(np.float16)
    np.testing.assert_allclose(norch.from_numpy(h).var().item(), h.astype(np.float64).var(ddof=1), rtol=2e-3)
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        norch.tensor([1, 2, 3]).var()


def test_var_gradients():
    from norch.autograd.gradcheck import gradcheck, gradgradcheck
    x = norch.tensor(np.random.default_rng(3).standard_normal((4, 37)), requires_grad=True)
    for fn in (lambda t: t.var(), lambda t: t.var(1, correction=0), lambda t: t.var(0, keepdim=True),
               lambda t: t.std(1)):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    y = x.var()
    assert y.grad_fn.name() == "VarBackward0"
    if torch is not None:
        tx = torch.tensor(x.detach().numpy(), requires_grad=True)
        tx.var(1).sum().backward()
        x.var(1).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_noncontiguous_zero_d_empty(dtype):
    a = data(3 * 70001, dtype)
    t = norch.from_numpy(a)
    s, sa = t[::3], a[::3]
    assert s.amax().item() == sa.max() and s.argmin().item() == sa.argmin()
    if np.issubdtype(dtype, np.floating):
        assert fsum_err(sa, s.sum().item()) <= 1e-6
    else:
        assert s.sum().item() == int(sa.sum())
    m = a[: 300 * 700].reshape(300, 700)
    tm = norch.from_numpy(np.ascontiguousarray(m.T)).t()  # a transposed view: the column layout
    np.testing.assert_array_equal(tm.amax(1).numpy(), m.max(1))
    np.testing.assert_array_equal(tm.argmax(0).numpy(), m.argmax(0))
    scale = np.abs(m.astype(np.float64)).sum(0)  # cancellation: the bound is relative to sum |x|
    assert (np.abs(tm.sum(0).numpy() - m.astype(np.float64).sum(0)) <= 1e-6 * scale).all()
    z = norch.from_numpy(np.array(a[5]))
    assert z.sum().item() == a[5] and z.amax().item() == a[5] and z.argmax().item() == 0
    e = norch.from_numpy(a[:0])
    assert e.sum().item() == 0 and e.prod().item() == 1
    with pytest.raises(RuntimeError):
        e.amax()
    with pytest.raises(IndexError):
        e.argmax()


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_and_ties(dtype):
    n = 3 * 2048 + 5
    a = np.zeros(n, dtype)
    a[100], a[5000] = 1, 1  # a tie in two blocks: the first wins
    t = norch.from_numpy(a)
    assert t.argmax().item() == 100 and t.argmin().item() == 0
    a[[2047, 2048, 6000]] = -0.0, 0.0, -0.0  # signed zeros equal 0: still the first zero
    assert norch.from_numpy(a).argmin().item() == 0
    a[4100], a[4200], a[50] = np.nan, np.nan, -np.inf
    t = norch.from_numpy(a)
    assert t.argmax().item() == 4100 and t.argmin().item() == 4100
    assert math.isnan(t.amax().item()) and math.isnan(t.amin().item())
    assert math.isnan(t.sum().item())
    b = np.full(70000, -np.inf, dtype)
    assert norch.from_numpy(b).amax().item() == -np.inf and norch.from_numpy(b).argmax().item() == 0


ADVERSARIAL = {
    # 3e7 ones: a naive float32 sum stops at 2^24
    "ones": lambda: np.ones(30_000_000, np.float32),
    # large and small alternating: the small ones vanish next to the large in a float lane
    "alternating": lambda: np.where(np.arange(1 << 20) % 2 == 0, np.float32(1e6), np.float32(1e-2)).astype(np.float32),
    # cancellation: values and their negatives, shuffled, plus a small remainder
    "cancellation": lambda: np.random.default_rng(7).permutation(np.concatenate([
        (x := (np.random.default_rng(8).standard_normal(1 << 19) * 1e4).astype(np.float32)), -x,
        np.full(1000, 0.001, np.float32)])),
    "growing": lambda: (np.arange(1, (1 << 21) + 1) * np.float32(1.001)).astype(np.float32),
}


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_adversarial_sum_accuracy(case):
    a = ADVERSARIAL[case]()
    err = fsum_err(a, norch.from_numpy(a).sum().item())
    if case == "ones":
        assert norch.from_numpy(a).sum().item() == 30_000_000
    assert err <= 1e-7
    if torch is not None:
        terr = fsum_err(a, torch.from_numpy(a).sum().item())
        # at least as good as PyTorch's cascade sum (up to one float rounding of the result)
        assert err <= terr + 6e-8


def digest(t):
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()[:16]


_LEVEL_SCRIPT = r"""
import hashlib, numpy as np, norch
def d(t): return hashlib.sha256(t.numpy().tobytes()).hexdigest()[:16]
out = [norch._C._simd_level()]
for dt in (np.float32, np.float64):
    for n in (33, 513, 4097, 65537, 3 * 65536 + 17):
        a = np.random.default_rng(n).standard_normal(n).astype(dt)
        t = norch.from_numpy(a)
        r = norch.from_numpy(a[: n - n % 37].reshape(-1, 37))
        near1 = norch.from_numpy((1 + 1e-3 * a).astype(dt))
        out += [d(t.sum()), d(t.mean()), d(t.var()), d(t.std(correction=0)), d(near1.prod()), d(t.amax()),
                d(t.argmin()), d(r.sum(1)), d(r.var(1)), d(r.amax(1)), d(r.argmax(1)), d(r.sum(0)), d(r.var(0))]
for dt in (np.int64, np.int32):
    a = np.random.default_rng(1).integers(-99, 99, 70001).astype(dt)
    t = norch.from_numpy(a)
    out += [d(t.sum()), d(t.amax()), d(t.amin()), d(t.argmax()), d(t.argmin())]
print(" ".join(out))
"""


def _run_level(level):
    env = dict(os.environ)
    env.pop("NORCH_SIMD", None)
    if level is not None:
        env["NORCH_SIMD"] = level
    # The child imports the norch this process runs (the source tree or the installed package).
    root = os.path.dirname(os.path.dirname(os.path.abspath(norch.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _LEVEL_SCRIPT], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_same_bits_on_every_simd_level():
    best = _run_level(None)
    levels = {"avx512": ["avx512", "avx2", "baseline"], "avx2": ["avx2", "baseline"]}.get(best[0], ["baseline"])
    for level in levels:
        got = _run_level(level)
        assert got[0] == level
        assert got[1:] == best[1:], f"{level} differs from {best[0]}"


@pytest.fixture
def threads():
    old = norch.get_num_threads()

    def run(fn):
        out = []
        try:
            for t in (1, 2, 3):
                norch.set_num_threads(t)
                out.append(fn())
        finally:
            norch.set_num_threads(old)
        return out
    return run


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("n", [65536, 2 * 65536 + 3, 5 * 65536 + 4097])
def test_same_bits_on_any_thread_count(threads, dtype, n):
    a = data(n, dtype, seed=11)
    t = norch.from_numpy(a)
    calls = [lambda: t.sum(), lambda: t.amax(), lambda: t.amin(), lambda: t.argmax(), lambda: t.argmin()]
    if np.issubdtype(dtype, np.floating):
        near1 = norch.from_numpy((1 + 1e-4 * a).astype(dtype))
        calls += [lambda: t.var(), lambda: t.std(), lambda: t.mean(), lambda: near1.prod()]
        r = norch.from_numpy(a[: n - n % 1000].reshape(-1, 1000))
        calls += [lambda: r.var(1), lambda: r.var(0), lambda: r.sum(1)]
    for call in calls:
        res = threads(lambda: digest(call()))
        assert res[0] == res[1] == res[2]
    assert t.argmax().item() == a.argmax() and t.argmin().item() == a.argmin()


@pytest.mark.parametrize("dtype", FLOATS + INTS + [np.float16, np.uint8])
@pytest.mark.parametrize("K", [1023, 2048, 5000, 40000])
def test_column_blocks(threads, dtype, K):
    # Down the columns of [K, M]: K >= 2048 rows are cut into blocks of whole rows.
    M = 37
    a = data(K * M, np.float64 if np.dtype(dtype).kind == "f" else np.int64, seed=5).reshape(K, M)
    a = (a % 200).astype(dtype) if np.dtype(dtype).kind == "u" else a.astype(dtype)
    a[K // 2, 3] = a[:, 3].max()  # a tie in a later block: the first occurrence wins
    t = norch.from_numpy(a)
    for op, ref in (("sum", None), ("amax", a.max(0)), ("amin", a.min(0)), ("argmax", a.argmax(0)),
                    ("argmin", a.argmin(0))):
        res = threads(lambda: getattr(t, op)(0).numpy())
        assert res[0].tobytes() == res[1].tobytes() == res[2].tobytes(), op
        if ref is not None:
            np.testing.assert_array_equal(res[0], ref)
        else:
            x = a.astype(np.float64)
            tol = {np.float16: 2e-3, np.float32: 1e-6, np.float64: 1e-14}.get(dtype, 0)
            assert (np.abs(res[0] - x.sum(0)) <= tol * np.abs(x).sum(0)).all()
    if np.dtype(dtype).kind == "f":
        a[K - 3, 5] = np.nan
        a[K // 3, 6] = np.nan
        t = norch.from_numpy(a)
        assert t.argmax(0)[5].item() == K - 3 and t.argmin(0)[6].item() == K // 3
        assert math.isnan(t.amax(0)[5].item()) and math.isnan(t.sum(0)[6].item())
