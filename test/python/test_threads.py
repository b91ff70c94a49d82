"""Results that do not depend on the thread count: the CPU kernels split their loops with
parallel_for (norch/tensor/parallel.h), whose chunks depend only on the sizes and
norch.get_num_threads(), and whose reductions combine in a fixed order. Each case runs on
1, 2 and 3 threads and must give the same bits, and the values are checked against NumPy."""
import numpy as np
import pytest

import norch

THREADS = (1, 2, 3)


@pytest.fixture
def threads():
    old = norch.get_num_threads()

    def run(fn):
        out = []
        try:
            for t in THREADS:
                norch.set_num_threads(t)
                out.append(fn())
        finally:
            norch.set_num_threads(old)
        return out
    return run


def same_bits(results):
    first = results[0]
    for r in results[1:]:
        assert r.dtype == first.dtype and r.shape == first.shape
        assert r.tobytes() == first.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [65536, 65536 + 4097, 1 << 20])
def test_long_sum_same_bits(threads, dtype, n):
    # One long row: the path that splits a single row across threads.
    a = np.random.default_rng(n).standard_normal(n).astype(dtype)
    t = norch.tensor(a)
    res = threads(lambda: t.sum().numpy())
    same_bits(res)
    scale = np.abs(a.astype(np.float64)).sum()  # cancellation: the error bound is relative to sum |a|
    np.testing.assert_allclose(res[0], a.astype(np.float64).sum(), atol=scale * (1e-6 if dtype == np.float32 else 1e-14))


@pytest.mark.parametrize("op", ["sum", "amax", "amin", "prod", "mean"])
@pytest.mark.parametrize("shape,dim", [((1, 200000), 1), ((300, 700), 1), ((700, 300), 0), ((3, 40000), 1)])
def test_reductions_same_bits(threads, op, shape, dim):
    a = np.random.default_rng(1).uniform(0.999, 1.001, shape).astype(np.float32)
    t = norch.tensor(a)
    res = threads(lambda: getattr(t, op)(dim).numpy())
    same_bits(res)
    ref = getattr(np, {"amax": "max", "amin": "min"}.get(op, op))(a.astype(np.float64), axis=dim)
    np.testing.assert_allclose(res[0], ref, rtol=1e-4)


def test_exact_reductions_same_bits(threads):
    a = np.random.default_rng(2).integers(-5, 5, 300000).astype(np.int64)
    t = norch.tensor(a)
    for fn, ref in ((lambda: t.sum().numpy(), a.sum()), (lambda: t.max().numpy(), a.max()),
                    (lambda: (t > 3).any().numpy(), (a > 3).any()), (lambda: (t < 9).all().numpy(), True),
                    (lambda: t.argmax().numpy(), a.argmax())):
        res = threads(fn)
        same_bits(res)
        assert res[0] == ref


def test_scan_and_argmax_rows_same_bits(threads):
    a = np.random.default_rng(3).standard_normal((64, 2000)).astype(np.float32)
    t = norch.tensor(a)
    res = threads(lambda: norch.cumsum(t, 1).numpy())
    same_bits(res)
    np.testing.assert_allclose(res[0], np.cumsum(a.astype(np.float64), 1), rtol=1e-4, atol=1e-3)
    res = threads(lambda: t.argmax(1).numpy())
    same_bits(res)
    np.testing.assert_array_equal(res[0], a.argmax(1))
    res = threads(lambda: t.argmin(0).numpy())
    same_bits(res)
    np.testing.assert_array_equal(res[0], a.argmin(0))


def test_training_kernels_same_bits(threads):
    # Convolution, pooling, softmax/log-softmax, layer norm, embedding, SGD: one step each.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 3, 32, 32)).astype(np.float32)
    w = rng.standard_normal((8, 3, 5, 5)).astype(np.float32)
    idx = rng.integers(0, 1000, (64, 40)).astype(np.int64)
    emb = rng.standard_normal((1000, 64)).astype(np.float32)

    def step():
        xt = norch.tensor(x, requires_grad=True)
        wt = norch.tensor(w, requires_grad=True)
        y = norch.nn.functional.conv2d(xt, wt, padding=2)
        y = norch.nn.functional.max_pool2d(y, 2)
        y = norch.nn.functional.layer_norm(y, y.shape[1:])
        loss = norch.nn.functional.log_softmax(y.reshape(16, -1), 1).sum()
        loss = loss + norch.nn.functional.softmax(y.reshape(16, -1), 1).sum()
        e = norch.nn.functional.embedding(norch.tensor(idx), norch.tensor(emb))
        loss.backward()
        opt = norch.optim.SGD([wt], lr=0.1, momentum=0.9)
        opt.step()
        return np.concatenate([y.detach().numpy().ravel(), xt.grad.numpy().ravel(), wt.detach().numpy().ravel(),
                               e.numpy().ravel()])
    same_bits(threads(step))


def test_random_same_bits(threads):
    def draw():
        norch.manual_seed(7)
        return np.concatenate([norch.rand(100000).numpy(), norch.randn(100000).numpy().astype(np.float32),
                               norch.bernoulli(norch.full((100000,), 0.3)).numpy()])
    same_bits(threads(draw))
