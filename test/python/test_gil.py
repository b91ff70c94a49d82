"""The GIL is released around kernels that do real work (Note [GIL release] in
src/python/convert.h): another Python thread runs while a large matmul, a
reduction or a backward pass computes in this one."""
import sys
import threading

import numpy as np
import pytest

import norch


def _progress_during(op):
    """Runs ``op`` in a thread and returns True when this thread ran Python while
    ``op`` was running. The switch interval is made huge, so the interpreter never
    takes the GIL from a thread: this thread gets it only when the other one gives it
    up. Held through ``op``, the other thread finishes (and sets ``done``) before this
    one runs again; released inside ``op``, this thread runs its loop first, and the
    other cannot set ``done`` until this one blocks in ``join``."""
    go, done = threading.Event(), threading.Event()
    result = {}

    def worker():
        go.set()
        result["value"] = op()
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        go.wait()
        n = 0
        for _ in range(1000):
            n += 1
        ran_during_op = not done.is_set()
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert n == 1000 and "value" in result
    return ran_during_op


def _big(n, seed):
    return norch.from_numpy(np.random.default_rng(seed).random((n, n), dtype=np.float32))


def test_matmul_releases_gil():
    a, b = _big(2048, 0), _big(2048, 1)
    assert _progress_during(lambda: norch.matmul(a, b))


def test_conv2d_releases_gil():
    x = norch.rand(1, 64, 192, 192)
    w = norch.rand(64, 64, 3, 3)
    assert _progress_during(lambda: norch.nn.functional.conv2d(x, w, padding=1))


def test_backward_releases_gil():
    a = _big(1536, 2).requires_grad_()
    b = _big(1536, 3).requires_grad_()
    loss = (a @ b).sum()

    def run():
        loss.backward()
        return a.grad

    assert _progress_during(run)
    # The gradient is still right: d sum(a @ b) / d a = ones @ b^T.
    expected = np.ones((1536, 1536), np.float32) @ b.detach().numpy().T
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-4, atol=1e-2)


def test_hooks_and_python_functions_run_under_a_released_engine():
    # The engine calls back into Python (tensor and node hooks, a Python Function's
    # backward) from the thread that released the GIL; each takes it back.
    class Double(norch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    seen = []
    x = norch.tensor([1.0, 2.0], requires_grad=True)
    y = Double.apply(x)
    y.register_hook(lambda g: seen.append("tensor") or g * 3)
    y.grad_fn.register_hook(lambda gi, go: seen.append("node"))
    out = {}

    def run():
        y.sum().backward()
        out["grad"] = x.grad.tolist()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert out["grad"] == [6.0, 6.0]
    assert seen == ["tensor", "node"]


def test_anomaly_mode_records_stacks_from_a_released_engine():
    # Double backward under detect_anomaly records nodes inside the engine, which
    # captures the Python stack: it must take the GIL to do so.
    x = norch.tensor([1.0, 2.0, 3.0], dtype=norch.float64, requires_grad=True)
    with norch.autograd.detect_anomaly():
        y = (x ** 3).sum()
        (g,) = norch.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy())


def test_anomaly_mode_in_a_forward_op_that_released_the_gil():
    # A large matmul records its node (and the Python stack) with the GIL released.
    a = _big(256, 5).requires_grad_()
    with norch.autograd.detect_anomaly():
        y = a @ a
    assert y.grad_fn is not None
    y.sum().backward()
    assert a.grad.shape == (256, 256)


def test_errors_raised_with_the_gil_released_keep_their_type():
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        norch.matmul(_big(200, 4), norch.zeros(3, 200))
