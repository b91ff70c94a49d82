"""Random numbers: seeds and generators, moments of the distributions, ranges, errors."""
import numpy as np
import pytest

import norch

from _oracle import to_np

N = 200_000


@pytest.fixture(autouse=True)
def _seeded():
    # Statistical checks run on a fixed stream so that a tolerance of a few
    # standard deviations can never fail by chance.
    norch.manual_seed(20261121)


@pytest.mark.parametrize("fn", [
    lambda **kw: norch.rand(3, 5, **kw),
    lambda **kw: norch.randn(4, 2, dtype=norch.float64, **kw),
    lambda **kw: norch.randint(-3, 7, (10,), **kw),
    lambda **kw: norch.randperm(20, **kw),
    lambda **kw: norch.multinomial(norch.tensor([0.2, 0.3, 0.5]), 6, True, **kw),
    lambda **kw: norch.bernoulli(norch.full((8,), 0.4), **kw),
])
def test_manual_seed_reproduces_stream(fn):
    norch.manual_seed(1234)
    a1, a2 = fn(), fn()
    norch.manual_seed(1234)
    b1, b2 = fn(), fn()
    np.testing.assert_array_equal(to_np(a1), to_np(b1))
    np.testing.assert_array_equal(to_np(a2), to_np(b2))
    # A generator seeded alike gives the same stream and leaves the global one alone.
    g = norch.Generator().manual_seed(1234)
    np.testing.assert_array_equal(to_np(fn(generator=g)), to_np(a1))
    state = norch.get_rng_state()
    fn(generator=g)
    np.testing.assert_array_equal(to_np(norch.get_rng_state()), to_np(state))


def test_different_seeds_differ_and_calls_advance():
    norch.manual_seed(0)
    a = to_np(norch.rand(100))
    b = to_np(norch.rand(100))
    norch.manual_seed(1)
    c = to_np(norch.rand(100))
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


def test_generator_state_roundtrip():
    g = norch.Generator()
    assert g.initial_seed() == 67280421310721
    g.manual_seed(-1)
    assert g.initial_seed() == 2**64 - 1
    g.manual_seed(7)
    assert g.initial_seed() == 7
    norch.rand(5, generator=g)
    state = g.get_state()
    assert state.dtype == norch.uint8
    x = to_np(norch.randn(10, generator=g))
    g.set_state(state)
    np.testing.assert_array_equal(to_np(norch.randn(10, generator=g)), x)
    g.set_state(bytes(state.numpy().tobytes()))
    np.testing.assert_array_equal(to_np(norch.randn(10, generator=g)), x)
    with pytest.raises(RuntimeError, match="16 bytes"):
        g.set_state(norch.zeros(3, dtype=norch.uint8))
    with pytest.raises(TypeError):
        g.set_state(norch.zeros(16))
    s = norch.seed()
    assert norch.initial_seed() == s


def test_same_values_for_any_layout():
    # Element i depends on counter i only, so a transposed fill matches a contiguous one.
    g = norch.Generator().manual_seed(3)
    a = norch.empty(4, 6)
    a.uniform_(generator=g)
    g.manual_seed(3)
    b = norch.empty(6, 4).t()
    b.uniform_(generator=g)
    assert not b.is_contiguous()
    np.testing.assert_array_equal(to_np(a).ravel(), to_np(b.contiguous()).ravel())


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.float16, norch.bfloat16])
def test_uniform_moments_and_range(dtype):
    x = to_np(norch.rand(N, dtype=dtype)).astype(np.float64)
    assert x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.005 and abs(x.var() - 1 / 12) < 0.002
    t = norch.empty(N, dtype=dtype).uniform_(-2, 3)
    y = to_np(t).astype(np.float64)
    assert y.min() >= -2 and y.max() < 3 and abs(y.mean() - 0.5) < 0.03


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.float16, norch.bfloat16])
def test_normal_moments(dtype):
    x = to_np(norch.randn(N, dtype=dtype)).astype(np.float64)
    assert abs(x.mean()) < 0.01 and abs(x.var() - 1) < 0.015
    # Third and fourth moments of a standard normal: 0 and 3.
    assert abs((x ** 3).mean()) < 0.05 and abs((x ** 4).mean() - 3) < 0.1
    y = to_np(norch.empty(N, dtype=dtype).normal_(2.0, 0.5)).astype(np.float64)
    assert abs(y.mean() - 2) < 0.01 and abs(y.std() - 0.5) < 0.01
    z = to_np(norch.normal(1.0, 2.0, (N,))).astype(np.float64)
    assert abs(z.mean() - 1) < 0.03 and abs(z.std() - 2) < 0.03


def test_exponential_and_bernoulli_moments():
    e = to_np(norch.empty(N, dtype=norch.float64).exponential_(2.0))
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01 and abs(e.var() - 0.25) < 0.01
    b = to_np(norch.empty(N).bernoulli_(0.3))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    p = norch.tensor([0.0, 1.0, 0.25])
    draws = np.stack([to_np(norch.bernoulli(p)) for _ in range(2000)])
    np.testing.assert_allclose(draws.mean(0), [0, 1, 0.25], atol=0.05)  # 5 standard deviations
    assert norch.bernoulli(p).dtype == norch.float32
    t = norch.empty(2000, 3, dtype=norch.int64).bernoulli_(p)
    np.testing.assert_allclose(to_np(t).mean(0), [0, 1, 0.25], atol=0.05)
    assert norch.bernoulli(norch.zeros(3), 1.0).numpy().tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("dtype", [norch.int64, norch.int32, norch.uint8, norch.float32, norch.float64,
                                   norch.float16, norch.bfloat16])
def test_randint_range_and_uniformity(dtype):
    lo = 0 if dtype == norch.uint8 else -3
    x = to_np(norch.randint(lo, 7, (N,), dtype=dtype))
    assert x.dtype == to_np(norch.zeros(1, dtype=dtype)).dtype
    counts = np.bincount((x - lo).astype(np.int64), minlength=7 - lo)
    assert len(counts) == 7 - lo and x.min() == lo and x.max() == 6
    np.testing.assert_allclose(counts / N, 1 / (7 - lo), atol=0.01)
    assert norch.randint(5, (3,)).dtype == norch.int64
    assert to_np(norch.randint(high=4, size=(50,))).max() < 4


def test_random_inplace_ranges():
    assert set(np.unique(to_np(norch.empty(1000, dtype=norch.int64).random_(3)))) == {0, 1, 2}
    x = to_np(norch.empty(1000, dtype=norch.int32).random_(-5, -2))
    assert x.min() == -5 and x.max() == -3
    u8 = to_np(norch.empty(5000, dtype=norch.uint8).random_())
    assert u8.max() > 200
    f = to_np(norch.empty(5000).random_())
    assert f.min() >= 0 and f.max() <= 2 ** 24 and np.all(f == np.round(f))
    b = to_np(norch.empty(100, dtype=norch.bool).random_())
    assert b.any() and not b.all()


def test_like_functions():
    base = norch.zeros(3, 4, dtype=norch.float64)
    for fn in (norch.rand_like, norch.randn_like):
        t = fn(base)
        assert t.shape == (3, 4) and t.dtype == norch.float64
    assert norch.rand_like(base, dtype=norch.float32).dtype == norch.float32
    r = norch.randint_like(base, 10)
    assert r.dtype == norch.float64 and 0 <= to_np(r).min() and to_np(r).max() < 10
    r = to_np(norch.randint_like(norch.zeros(1000, dtype=norch.int64), 3, 5))
    assert set(np.unique(r)) == {3, 4}


@pytest.mark.parametrize("n", [0, 1, 2, 17, 1000])
def test_randperm_is_permutation(n):
    p = norch.randperm(n)
    assert p.dtype == norch.int64 and p.shape == (n,)
    np.testing.assert_array_equal(np.sort(to_np(p)), np.arange(n))
    assert norch.randperm(n, dtype=norch.float64).dtype == norch.float64


def test_randperm_first_position_is_uniform():
    firsts = np.array([int(norch.randperm(4)[0].item()) for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 4000, 0.25, atol=0.03)


def test_multinomial_with_replacement_frequencies():
    probs = norch.tensor([1.0, 0.0, 3.0, 6.0])
    s = to_np(norch.multinomial(probs, 50_000, replacement=True))
    np.testing.assert_allclose(np.bincount(s, minlength=4) / 50_000, [0.1, 0.0, 0.3, 0.6], atol=0.01)
    rows = norch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=norch.float64)
    out = norch.multinomial(rows, 5, True)
    assert out.shape == (2, 5) and out.dtype == norch.int64
    np.testing.assert_array_equal(to_np(out), [[1] * 5, [0] * 5])


def test_multinomial_without_replacement():
    probs = norch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0]] * 3)
    out = to_np(probs.multinomial(4))
    for row in out:
        assert sorted(row) == [0, 1, 2, 3]
    # First draw follows the weights; the second is conditional on the first.
    firsts = to_np(norch.multinomial(norch.tensor([1.0, 3.0]).expand(20000, 2), 2))
    np.testing.assert_allclose((firsts[:, 0] == 1).mean(), 0.75, atol=0.015)
    assert (firsts[:, 0] != firsts[:, 1]).all()


@pytest.mark.parametrize("call, exc, match", [
    (lambda: norch.rand(2, -1), RuntimeError, "negative dimension"),
    (lambda: norch.randn(-3), RuntimeError, "negative dimension"),
    (lambda: norch.randint(5, 5, (3,)), RuntimeError, "from=5 >= to=5"),
    (lambda: norch.randint(5, 2, (3,)), RuntimeError, "less than 'to'"),
    (lambda: norch.randint(0, 300, (3,), dtype=norch.uint8), RuntimeError, "range of uint8"),
    (lambda: norch.randint(1, 2, 3, 4), TypeError, "randint"),
    (lambda: norch.randperm(-1), RuntimeError, "non-negative"),
    (lambda: norch.rand(3, dtype=norch.int64), RuntimeError, "not implemented for dtype int64"),
    (lambda: norch.multinomial(norch.tensor([0.5, 0.5]), 3), RuntimeError, "without replacement"),
    (lambda: norch.multinomial(norch.tensor([0.5, -0.1]), 1), RuntimeError, "element < 0"),
    (lambda: norch.multinomial(norch.tensor([0.5, float("nan")]), 1), RuntimeError, "nan"),
    (lambda: norch.multinomial(norch.tensor([0.0, 0.0]), 1, True), RuntimeError, "sum of probabilities"),
    (lambda: norch.multinomial(norch.tensor([1.0, 0.0]), 2), RuntimeError, "not enough"),
    (lambda: norch.multinomial(norch.tensor([1, 2]), 1), RuntimeError, "floating"),
    (lambda: norch.multinomial(norch.ones(2, 2, 2), 1), RuntimeError, "1 or 2 dim"),
    (lambda: norch.multinomial(norch.ones(2), 0), RuntimeError, "n_sample <= 0"),
    (lambda: norch.bernoulli(norch.tensor([0.5, 1.5])), RuntimeError, r"\[0, 1\]"),
    (lambda: norch.bernoulli(norch.tensor([1, 0])), RuntimeError, "floating point"),
    (lambda: norch.empty(3).bernoulli_(-0.1), RuntimeError, r"\[0, 1\]"),
    (lambda: norch.empty(3).normal_(0, -1), RuntimeError, "std >= 0"),
    (lambda: norch.empty(3).uniform_(2, 1), RuntimeError, "from=2"),
    (lambda: norch.empty(3).exponential_(0), RuntimeError, "lambda > 0"),
    (lambda: norch.manual_seed(1.5), TypeError, "int"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_random_results_are_leaves():
    for t in (norch.rand(3, requires_grad=True), norch.randn(3, requires_grad=True),
              norch.rand_like(norch.zeros(2), requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad_fn is None
    assert norch.randn(3).grad_fn is None and not norch.randn(3).requires_grad


def test_inplace_random_on_leaf_requiring_grad_is_refused():
    w = norch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.uniform_()
    with norch.no_grad():
        w.normal_()  # initialisation under no_grad is the usual pattern
    assert w.is_leaf and w.grad_fn is None


def test_inplace_random_on_non_leaf_blocks_gradient():
    x = norch.ones(3, requires_grad=True)
    y = x * 2
    v = y._version
    y.uniform_()
    assert y._version > v
    assert y.grad_fn.name() == "UniformBackward0"
    (y * x).sum().backward()
    # The overwritten values do not depend on the old y: only the direct use of x counts.
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy(), rtol=1e-6)


def test_empty_and_zero_dim():
    assert norch.rand(0, 3).shape == (0, 3)
    assert norch.randn(()).shape == ()
    assert norch.randint(0, 2, ()).shape == ()
    assert norch.multinomial(norch.ones(0, 3), 2).shape == (0, 2)


def test_random_module_and_fork_rng():
    norch.random.manual_seed(11)
    assert norch.random.initial_seed() == 11
    before = norch.get_rng_state()
    with norch.random.fork_rng():
        norch.rand(10)
    np.testing.assert_array_equal(to_np(norch.get_rng_state()), to_np(before))
    with pytest.raises(TypeError, match="norch.Generator"):
        norch.rand(3, generator=5)


def test_normal_with_tensor_mean_and_std():
    mean = norch.tensor([[0.0], [10.0]], dtype=norch.float64)
    std = norch.tensor([1.0, 2.0, 0.0], dtype=norch.float64)
    draws = np.stack([to_np(norch.normal(mean, std)) for _ in range(3000)])
    assert draws.shape == (3000, 2, 3)
    np.testing.assert_allclose(draws.mean(0), [[0, 0, 0], [10, 10, 10]], atol=0.15)
    np.testing.assert_allclose(draws.std(0), [[1, 2, 0], [1, 2, 0]], atol=0.1)
    m = norch.zeros(4, requires_grad=True)
    out = norch.normal(m, 1.0)
    assert out.grad_fn is None and out.shape == (4,) and out.dtype == norch.float32
    with pytest.raises(RuntimeError, match="std >= 0"):
        norch.normal(norch.zeros(2), norch.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="size"):
        norch.normal(0.0, 1.0)


@pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")
def test_cuda_draws_match_cpu_draws():
    # CUDA computes its draws on the device with the CPU's per-element math, so a
    # seed gives the same numbers on every device (test_cuda_kernels.py checks every fill).
    for make in (lambda **kw: norch.rand(5, 3, **kw), lambda **kw: norch.randn(7, **kw),
                 lambda **kw: norch.randint(0, 9, (6,), **kw), lambda **kw: norch.randperm(8, **kw)):
        norch.manual_seed(5)
        cpu = make()
        norch.manual_seed(5)
        gpu = make(device="cuda")
        assert gpu.device.type == "cuda"
        np.testing.assert_array_equal(to_np(gpu.cpu()), to_np(cpu))
    t = norch.empty(4, device="cuda").uniform_(2, 3)
    assert t.device.type == "cuda" and (to_np(t.cpu()) >= 2).all()
