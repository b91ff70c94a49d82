"""CUDA kernels against the CPU ones, which are the reference: casts between every dtype
pair on every layout; where/clamp/lerp/nan_to_num/fill; reductions over any dims with
keepdim (values, indices, NaN and ties, the chunked long-row and long-column paths, run to
run determinism) and scans; gather/scatter/sort and the index ops built on them; every
random fill bit for bit; out-of-range indices raising instead of faulting. Everything but
the random-math test needs a GPU and skips without one; the random-math test checks on
the CPU the per-element Philox math both devices share."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import norch
import norch.nn.functional as F
from _oracle import ALL, FLOATS, INTS, NUMERIC, T, make, to_np

cuda = pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")


def same(cpu, gpu, rtol=None):
    """The CUDA result equals the CPU one: same dtype and shape; bits, unless rtol is given
    (float results whose summation order differs between the devices)."""
    assert gpu.device.type == "cuda", gpu.device
    a, b = to_np(cpu), to_np(gpu)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    if rtol is None or a.dtype.kind != "f":
        np.testing.assert_array_equal(b, a)
    else:
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol, equal_nan=True)


def tol(dtype):
    return 1e-12 if str(dtype).endswith("float64") else 2e-5


def on_both(fn, *arrays, rtol=None):
    """fn on CPU tensors and on CUDA tensors of the same arrays, compared."""
    cpu = fn(*[T(a) for a in arrays])
    gpu = fn(*[T(a).to("cuda") for a in arrays])
    if isinstance(cpu, (tuple, list)):
        for c, g in zip(cpu, gpu):
            same(c, g, rtol)
    else:
        same(cpu, gpu, rtol)


# Views of one base tensor that reach each kernel path: contiguous (vectorized),
# transposed and sliced (strided), expanded (stride 0), 0-d and empty.
LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.t(),
    "sliced": lambda t: t[1:, ::2],
    "expanded": lambda t: t[:1].expand(3, t.shape[0], t.shape[1]),
    "scalar": lambda t: t[1, 2],
    "empty": lambda t: t[:0],
}


def cast_values(dtype, shape=(5, 6)):
    """Values every dtype converts the same way on both devices: negatives, fractions,
    large integers (float32 rounding), zeros."""
    rng = np.random.default_rng(3)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype == "uint8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    if dtype in ("int32", "int64"):
        a = rng.integers(-200, 200, shape)
        a.flat[0] = 0
        if dtype == "int64":
            a.flat[1] = 2**40 + 1  # rounds in float32
        return a.astype(dtype)
    a = rng.uniform(-150, 150, shape)
    a.flat[0] = 0.0
    a.flat[1] = -2.7
    return a.astype(dtype)


@cuda
@pytest.mark.parametrize("src,dst", list(itertools.product(ALL, ALL)))
def test_cast_every_pair_every_layout(src, dst):
    base = cast_values(src)
    for name, view in LAYOUTS.items():
        on_both(lambda t: view(t).to(getattr(norch, dst)), base)
    # Into a strided destination of another dtype (copy_ with a cast).
    def into_strided(t):
        out = norch.zeros(6, 5, dtype=getattr(norch, dst), device=t.device).t()
        return out.copy_(t)
    on_both(into_strided, base)


@cuda
@pytest.mark.parametrize("dtype", ALL)
def test_where_fill_and_masked_fill(dtype):
    c, a, b = make("bool", (4, 1)), make(dtype, (4, 5)), make(dtype, (5,), seed=1)
    on_both(lambda c, a, b: norch.where(c, a, b), c, a, b)
    on_both(lambda c, a, b: norch.where(c, a.t().t()[:, ::2], b[::2]), c, a, b)
    on_both(lambda a: a.t().clone().fill_(1), a)
    on_both(lambda c, a: a.masked_fill(c, 0), c, a)


@cuda
@pytest.mark.parametrize("dtype", NUMERIC)
def test_clamp_and_nan_to_num(dtype):
    a = make(dtype, (4, 6))
    on_both(lambda t: norch.clamp(t, 1, 3), a)
    on_both(lambda t: t.t().clamp(min=2), a)
    on_both(lambda t: t[:, ::2].clamp(max=1), a)
    if dtype in FLOATS:
        x = a.copy()
        x[0, :3] = [np.nan, np.inf, -np.inf]
        on_both(lambda t: norch.nan_to_num(t), x)
        on_both(lambda t: norch.nan_to_num(t.t(), nan=1.0, posinf=2.0, neginf=-3.0), x)
        on_both(lambda t: norch.clamp(t, float("nan"), 1.0), x)


@cuda
@pytest.mark.parametrize("dtype", FLOATS)
def test_lerp_where_clamp_backward(dtype):
    a, b, w = make(dtype, (3, 4)), make(dtype, (4,), seed=1), make(dtype, (3, 1), "unit", 2)
    c = make("bool", (3, 4), seed=4)

    def grads(device):
        x, y = T(a, device=device, requires_grad=True), T(b, device=device, requires_grad=True)
        z = T(w, device=device, requires_grad=True)
        out = norch.lerp(x, y, z) + norch.where(T(c, device=device), x, y) * 2 + x.clamp(-0.5, 0.5)
        out.sum().backward()
        return [out, x.grad, y.grad, z.grad]

    for cpu, gpu in zip(grads("cpu"), grads("cuda")):
        same(cpu, gpu, rtol=tol(dtype))


# --- reductions ------------------------------------------------------------------------
REDUCTIONS = [
    # name, fn(t, dim, keepdim), dtypes, exact (integers, or order-free results)
    ("sum", lambda t, d, k: t.sum(d, keepdim=k) if d is not None else t.sum(), ALL),
    ("mean", lambda t, d, k: t.mean(d, keepdim=k) if d is not None else t.mean(), FLOATS),
    ("prod", lambda t, d, k: t.prod(d, keepdim=k) if isinstance(d, int) else t.prod(), NUMERIC),
    ("amax", lambda t, d, k: norch.amax(t, d if d is not None else (), keepdim=k), NUMERIC),
    ("amin", lambda t, d, k: norch.amin(t, d if d is not None else (), keepdim=k), NUMERIC),
    ("max", lambda t, d, k: t.max(d, keepdim=k) if isinstance(d, int) else t.max(), NUMERIC),
    ("min", lambda t, d, k: t.min(d, keepdim=k) if isinstance(d, int) else t.min(), NUMERIC),
    ("argmax", lambda t, d, k: t.argmax(d, keepdim=k) if isinstance(d, int) else t.argmax(), NUMERIC),
    ("argmin", lambda t, d, k: t.argmin(d, keepdim=k) if isinstance(d, int) else t.argmin(), NUMERIC),
    ("var", lambda t, d, k: t.var(d, keepdim=k) if d is not None else t.var(), FLOATS),
    ("std", lambda t, d, k: t.std(d, keepdim=k) if d is not None else t.std(), FLOATS),
    ("norm", lambda t, d, k: norch.norm(t, dim=d, keepdim=k), FLOATS),
    ("logsumexp", lambda t, d, k: norch.logsumexp(t, d if d is not None else (0, 1, 2), keepdim=k), FLOATS),
    ("any", lambda t, d, k: t.any(d, keepdim=k) if isinstance(d, int) else t.any(), ALL),
    ("all", lambda t, d, k: t.all(d, keepdim=k) if isinstance(d, int) else t.all(), ALL),
    ("cumsum", lambda t, d, k: t.cumsum(d if isinstance(d, int) else 0), NUMERIC),
    ("cumprod", lambda t, d, k: t.cumprod(d if isinstance(d, int) else 0), NUMERIC),
]
DIMS = [None, 0, 1, 2, -1, (0, 2), (1, 2)]


def reduce_input(dtype, shape=(4, 5, 6)):
    """Values with ties (small integers) and, for floats, NaN in one row, -inf in another."""
    a = make(dtype, shape, "small" if dtype in INTS else "real")
    if dtype in FLOATS:
        a = np.round(a, 1)  # ties
        a[1, 2, 3] = np.nan
        a[2, 0, :] = -np.inf
    return a


@cuda
@pytest.mark.parametrize("name,fn,dtypes", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions_match_cpu(name, fn, dtypes):
    for dtype in dtypes:
        a = reduce_input(dtype)
        if name in ("cumprod", "prod") and dtype in FLOATS:
            a = np.clip(np.nan_to_num(a, nan=0.5, neginf=-1.0), -2, 2)
        for d, k in itertools.product(DIMS, (False, True)):
            if name in ("max", "min", "argmax", "argmin", "prod", "any", "all", "cumsum", "cumprod") and \
                    isinstance(d, tuple):
                continue
            if name == "logsumexp" and d is None and k:
                continue
            for layout in (lambda t: t, lambda t: t.permute(2, 0, 1).contiguous().permute(1, 2, 0),
                           lambda t: t[:, ::2, 1:]):
                on_both(lambda t: fn(layout(t), d, k), a, rtol=tol(dtype))


@cuda
@pytest.mark.parametrize("dtype", FLOATS)
def test_reduction_gradients_match_cpu(dtype):
    a = make(dtype, (3, 4, 5), "pos")
    ops = [lambda t: t.sum(1), lambda t: t.mean((0, 2)), lambda t: t.prod(2), lambda t: norch.amax(t, 1),
           lambda t: t.max(0)[0], lambda t: t.var(1), lambda t: t.std(2, keepdim=True),
           lambda t: norch.norm(t, dim=1), lambda t: norch.logsumexp(t, 2), lambda t: t.cumsum(1),
           lambda t: t.cumprod(2)]
    for op in ops:
        outs = []
        for device in ("cpu", "cuda"):
            x = T(a, device=device, requires_grad=True)
            y = op(x)
            (y * T(np.linspace(0.5, 1.5, y.numel()).reshape(y.shape).astype(dtype), device=device)).sum().backward()
            outs.append((y, x.grad))
        same(outs[0][0], outs[1][0], tol(dtype))
        same(outs[0][1], outs[1][1], tol(dtype))


@cuda
@pytest.mark.parametrize("shape,dim", [((1 << 20,), 0), ((3, 200000), 1), ((200000, 3), 0), ((50000, 7), 0),
                                       ((64, 70000), 1), ((9, 300), 1)])
def test_long_reductions_chunk_and_stay_deterministic(shape, dim):
    """Long rows and long columns take the two-pass (chunked) paths; every result is the
    same bits on every run, and argmax finds the first of tied maxima."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape).astype(np.float32)
    ties = np.zeros(shape, np.float32)
    idx = [slice(None)] * len(shape)
    idx[dim] = slice(-3, None)
    ties[tuple(idx)] = 5.0  # maxima at the end
    idx[dim] = slice(7, 9)
    ties[tuple(idx)] = 5.0  # and earlier: the first pair wins
    g, gt = T(a).to("cuda"), T(ties).to("cuda")
    # float32 columns accumulate in float32 on the CPU but in float64 on CUDA: loose there.
    for fn, rtol in ((lambda t: t.sum(dim), 1e-3), (lambda t: t.max(dim)[0], None),
                     (lambda t: t.argmax(dim), None), (lambda t: t.argmin(dim), None),
                     (lambda t: t.double().sum(dim), 1e-12), (lambda t: t.var(dim), 1e-3),
                     (lambda t: (t > 0).any(dim), None), (lambda t: (t > -10).all(dim), None)):
        first, second = fn(g), fn(g)
        np.testing.assert_array_equal(to_np(first), to_np(second))  # run to run: bits
        same(fn(T(a)), first, rtol)
    same(T(ties).argmax(dim), gt.argmax(dim))
    same(T(ties).max(dim)[1], gt.max(dim)[1])


@cuda
@pytest.mark.parametrize("shape,dim", [((300000,), 0), ((5, 40000), 1), ((3000, 4), 0), ((4, 3000, 3), 1)])
@pytest.mark.parametrize("dtype", ["float64", "int64", "int32"])
def test_long_scans(shape, dim, dtype):
    a = make(dtype, shape, "small")
    on_both(lambda t: t.cumsum(dim), a, rtol=1e-9)
    if dtype != "float64":
        on_both(lambda t: (t % 3 - 1).cumprod(dim), a)  # integers wrap identically on both
    x = T(a.astype(np.float64), device="cuda", requires_grad=True)
    x.cumsum(dim).sum().backward()  # the backward is a reverse scan
    ref = T(a.astype(np.float64), requires_grad=True)
    ref.cumsum(dim).sum().backward()
    same(ref.grad, x.grad, rtol=1e-9)


# --- indexing --------------------------------------------------------------------------
INDEX_OPS = [
    ("gather", lambda L, a: L.gather(a, 1, L.tensor([[0, 2, 2], [1, 0, 3], [3, 3, 0]]))),
    ("gather_T", lambda L, a: L.gather(a.t(), 0, L.tensor([[0, 2], [1, 0], [2, 3]]))),
    ("scatter", lambda L, a: L.zeros(3, 5, dtype=a.dtype, device=a.device).scatter(
        1, L.tensor([[0, 2, 4], [1, 0, 3], [2, 4, 1]]), a[:, :3])),
    ("scatter_add_dup", lambda L, a: L.zeros(3, 5, dtype=a.dtype, device=a.device).scatter_add(
        1, L.tensor([[0, 0, 0, 1], [2, 2, 4, 4], [3, 3, 3, 3]]), a)),
    ("index_select", lambda L, a: L.index_select(a, 1, L.tensor([3, 0, 0, 2]))),
    ("index_add", lambda L, a: L.zeros(3, 2, dtype=a.dtype, device=a.device).index_add(
        1, L.tensor([1, 0, 1, 1]), a)),
    ("getitem_adv", lambda L, a: a[L.tensor([2, 0, 2]), L.tensor([1, 3, 3])]),
    ("getitem_mask", lambda L, a: a[a > a[0, 0]]),
    ("getitem_slices", lambda L, a: a[1:, 1::2]),
    ("setitem_dup", lambda L, a: _setitem(a, (L.tensor([0, 0, 2]),), a[1])),
    ("index_put_acc", lambda L, a: a.clone().index_put_((L.tensor([0, 0, 2, 1]), L.tensor([1, 1, 3, 0])),
                                                      a[0, :4], accumulate=True)),
    ("masked_select", lambda L, a: L.masked_select(a, a > a[1, 1])),
    ("masked_fill", lambda L, a: a.masked_fill(a > a[1, 1], 7)),
    ("nonzero", lambda L, a: L.nonzero(a > a[1, 1])),
    ("tril", lambda L, a: L.tril(a, -1)),
    ("triu", lambda L, a: L.triu(a.t(), 1)),
    ("flip", lambda L, a: L.flip(a, (0, 1))),
    ("roll", lambda L, a: L.roll(a, (1, -2), (0, 1))),
    ("repeat", lambda L, a: a.t().repeat(2, 1, 3)),
    ("cat", lambda L, a: L.cat([a, a.flip(0), a[:, :1].expand(3, 2)], 1)),
    ("stack", lambda L, a: L.stack([a, a.t().t()], 0)),
]


def _setitem(a, ix, v):
    out = a.clone()
    out[ix] = v
    return out


@cuda
@pytest.mark.parametrize("name,fn", INDEX_OPS, ids=[o[0] for o in INDEX_OPS])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8"])
def test_index_ops_match_cpu(name, fn, dtype):
    a = make(dtype, (3, 4), "small")

    class OnCuda:
        def __getattr__(self, n):
            return getattr(norch, n)

        def tensor(self, data, **kw):
            return norch.tensor(data, device="cuda", **kw)

    same(fn(norch, T(a)), fn(OnCuda(), T(a).to("cuda")), rtol=tol(dtype))


@cuda
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_sort_topk_argsort_match_cpu(dtype):
    a = make(dtype, (5, 37), "small")  # many ties: the order must be the stable one
    if dtype in FLOATS:
        a[0, [3, 10, 30]] = np.nan
        a[1, 4] = np.inf
    for desc in (False, True):
        on_both(lambda t: norch.sort(t, 1, descending=desc), a)
        on_both(lambda t: norch.sort(t.t(), 0, descending=desc), a)
        on_both(lambda t: norch.argsort(t[:, ::2], 1, descending=desc), a)
        if dtype != "bool":
            on_both(lambda t: norch.topk(t, 5, 1, largest=desc), a)
    big = make(dtype, (3, 5000), "small")
    on_both(lambda t: norch.sort(t, 1, stable=True), big)


@cuda
def test_sort_backward_and_scatter_gradients_match_cpu():
    a = make("float64", (4, 6))

    def run(device):
        x = T(a, device=device, requires_grad=True)
        idx = norch.tensor([[0, 5, 5], [1, 1, 2], [3, 4, 0], [2, 2, 2]], device=device)
        y = norch.sort(x, 1, descending=True)[0][:, :3] * 2 + x.gather(1, idx) + norch.topk(x, 2, 1)[0].sum()
        y.sum().backward()
        return y, x.grad

    for c, g in zip(run("cpu"), run("cuda")):
        same(c, g, rtol=1e-12)


@cuda
@pytest.mark.parametrize("dtype", ["float64", "int64", "int32", "uint8", "bool"])
def test_large_scatter_add_with_duplicates(dtype):
    """Many lines (a thread per line, in order) and one long line (spread over threads,
    atomic adds): both equal the CPU's sums."""
    rng = np.random.default_rng(2)
    many_idx = rng.integers(0, 4, (4096, 8))
    src = make(dtype, (4096, 8), "small")
    on_both(lambda s, i: norch.zeros(4096, 4, dtype=s.dtype, device=s.device).scatter_add(1, i, s), src, many_idx,
            rtol=1e-12)
    one_idx = rng.integers(0, 10, 100000)
    src1 = make(dtype, (100000,), "small")
    on_both(lambda s, i: norch.zeros(10, dtype=s.dtype, device=s.device).scatter_add(0, i, s), src1, one_idx,
            rtol=1e-9)
    on_both(lambda s, i: norch.zeros(10, dtype=s.dtype, device=s.device).index_put_((i,), s, accumulate=True), src1,
            one_idx, rtol=1e-9)


@cuda
def test_out_of_range_indices_raise_and_the_device_stays_usable():
    # gather/scatter check CUDA indices on the device (a flag read after the kernel),
    # with the CPU's message; the other ops check on the host.
    x = norch.arange(12.0, device="cuda").reshape(3, 4)
    for dtype in (norch.int64, norch.int32):
        with pytest.raises(RuntimeError, match=r"^gather\(\): index 4 is out of bounds for dimension 1 with size 4"):
            x.gather(1, norch.tensor([[0, 4]], dtype=dtype, device="cuda"))
        with pytest.raises(RuntimeError, match=r"^gather\(\): index -1 is out of bounds"):
            x.gather(0, norch.tensor([[0, -1]], dtype=dtype, device="cuda"))
    with pytest.raises(RuntimeError, match=r"^scatter\(\): index 5 is out of bounds for dimension 0 with size 3"):
        norch.zeros(3, device="cuda").scatter_(0, norch.tensor([5], device="cuda"), norch.ones(1, device="cuda"))
    y = norch.zeros(3, device="cuda")
    with pytest.raises(RuntimeError, match=r"^scatter_add\(\): index 3 is out of bounds"):
        y.scatter_add_(0, norch.tensor([0, 3], device="cuda"), norch.ones(2, device="cuda"))
    np.testing.assert_array_equal(to_np(y), np.zeros(3))  # the failed in-place op left self alone
    g = x.clone().requires_grad_()
    with pytest.raises(RuntimeError, match="out of bounds"):
        g.gather(1, norch.tensor([[9]], device="cuda")).sum().backward()
    with pytest.raises(IndexError, match="out of range"):
        norch.index_select(x, 0, norch.tensor([3], device="cuda"))
    with pytest.raises(IndexError, match="out of bounds"):
        x[norch.tensor([0, 7], device="cuda")]
    with pytest.raises(IndexError, match="out of bounds"):
        x[norch.tensor([-4], device="cuda")] = 1.0
    np.testing.assert_array_equal(to_np((x + 1).sum(0)), np.arange(12.0).reshape(3, 4).sum(0) + 3)


# --- random ----------------------------------------------------------------------------
def _noncontig(shape, dtype, device):
    return norch.empty(shape[::-1], dtype=dtype, device=device).t()


RANDOM_FILLS = [
    ("rand32", lambda d: norch.rand(1000, 3, device=d)),
    ("rand64", lambda d: norch.rand(3001, dtype=norch.float64, device=d)),
    ("randn32", lambda d: norch.randn(5000, device=d)),
    ("randn64", lambda d: norch.randn(7, 300, dtype=norch.float64, device=d)),
    ("randint", lambda d: norch.randint(-5, 9, (4000,), device=d)),
    ("randint_uint8", lambda d: norch.randint(0, 200, (999,), dtype=norch.uint8, device=d)),
    ("randint_float", lambda d: norch.randint(0, 1000, (999,), dtype=norch.float32, device=d)),
    ("random_", lambda d: norch.empty(777, dtype=norch.int64, device=d).random_()),
    ("normal_", lambda d: norch.empty(1234, dtype=norch.float64, device=d).normal_(2.0, 0.5)),
    ("normal_tensor", lambda d: norch.normal(norch.zeros(3, 4, device=d), 2.0)),
    ("uniform_", lambda d: norch.empty(1234, device=d).uniform_(-3, 5)),
    ("uniform_noncontig", lambda d: _noncontig((40, 30), norch.float64, d).uniform_()),
    ("normal_noncontig", lambda d: _noncontig((40, 30), norch.float32, d).normal_()),
    ("bernoulli_p", lambda d: norch.empty(3000, device=d).bernoulli_(0.3)),
    ("bernoulli_tensor", lambda d: norch.bernoulli(norch.linspace(0, 1, 2000, device=d))),
    ("bernoulli_bool", lambda d: norch.empty(500, dtype=norch.bool, device=d).bernoulli_(0.5)),
    ("exponential_", lambda d: norch.empty(2000, dtype=norch.float64, device=d).exponential_(1.5)),
    ("dropout", lambda d: F.dropout(norch.ones(64, 33, device=d), 0.4, training=True)),
    ("randperm", lambda d: norch.randperm(1000, device=d)),
    ("large", lambda d: norch.randn(1 << 20, device=d)),
]


@cuda
@pytest.mark.parametrize("name,fill", RANDOM_FILLS, ids=[r[0] for r in RANDOM_FILLS])
def test_random_fills_are_bit_identical_on_cpu_and_cuda(name, fill):
    norch.manual_seed(1234)
    cpu = fill("cpu")
    then_cpu = norch.rand(3)
    norch.manual_seed(1234)
    gpu = fill("cuda")
    then_gpu = norch.rand(3)
    same(cpu, gpu)
    np.testing.assert_array_equal(to_np(then_gpu), to_np(then_cpu))  # the same counters were reserved


def _philox(counter, key):
    m0, m1, w0, w1, mask = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85, 0xFFFFFFFF
    c = [counter & mask, counter >> 32, 0, 0]
    k0, k1 = key & mask, key >> 32
    for _ in range(10):
        p0, p1 = m0 * c[0], m1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & mask, (p0 >> 32) ^ c[3] ^ k1, p0 & mask]
        k0, k1 = (k0 + w0) & mask, (k1 + w1) & mask
    return c


def _fma(a, b, c):
    return float(Fraction(a) * Fraction(b) + Fraction(c))  # one rounding, like fma()


def _uniform53(hi, lo):
    return float(((hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0)


def _log(x):
    m, e = math.frexp(x)
    if m < 0.70710678118654752440:
        m, e = m * 2.0, e - 1
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = 2.0 / 23.0
    for d in (21, 19, 17, 15, 13, 11, 9, 7, 5, 3):
        p = _fma(p, s2, 2.0 / d)
    logm = _fma(s * s2, p, 2.0 * s)
    return e * 6.93147180369123816490e-01 + _fma(e, 1.90821492927058770002e-10, logm)


def _cos_2pi(u):
    t = u * 4.0
    qf = math.floor(t)
    a = (t - qf) * 1.57079632679489661923
    a2 = a * a
    inv = [1.0]
    for n in range(1, 26):
        inv.append(inv[-1] / n)
    c, s = inv[24], inv[25]
    for k in range(11, -1, -1):
        c, s = _fma(-c, a2, inv[2 * k]), _fma(-s, a2, inv[2 * k + 1])
    return [c, -(a * s), -c, a * s][int(qf) & 3]


def test_random_math_shared_by_both_devices_gives_the_cpu_kernels_bits():
    """The per-element math (Note [Portable random math]): every step exactly rounded, so
    this pure-Python replay of Philox, the portable log/cos and Box-Muller reproduces the
    CPU kernel's float64 normals and exponentials bit for bit (CUDA runs the same
    functions, checked above on a GPU), and stays within a few ulp of libm's formula."""
    key, n = 20240611, 300
    g = norch.Generator().manual_seed(key)
    normals = to_np(norch.randn(n, dtype=norch.float64, generator=g))
    g.manual_seed(key)
    expos = to_np(norch.empty(n, dtype=norch.float64).exponential_(2.0, generator=g))
    g.manual_seed(key)
    unif = to_np(norch.rand(n, dtype=norch.float64, generator=g))
    for i in range(n):
        b = _philox(i, key)
        u1, u2 = 1.0 - _uniform53(b[0], b[1]), _uniform53(b[2], b[3])
        z = 0.0 + (1.0 * math.sqrt(-2.0 * _log(u1))) * _cos_2pi(u2)
        assert normals[i] == z, (i, normals[i], z)
        assert expos[i] == -_log(1.0 - _uniform53(b[0], b[1])) / 2.0, i
        assert unif[i] == _uniform53(b[0], b[1]), i
        libm = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        assert abs(z - libm) <= 1e-14 * max(1.0, abs(libm)), (i, z, libm)
