"""The autograd engine and its Python surface: accumulation, shared subgraphs,
retain/create graph, grad(), hooks, version checks, grad mode, and memory over
many steps. Custom Functions, anomaly mode and graph export: test_autograd_function.py."""
import gc
import os
import threading

import numpy as np
import pytest

import norch

from _oracle import leaf, to_np


# ---------------------------------------------------------------- engine basics

def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [2 + 3, 4 + 3])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [3, 3])


def test_diamond_graph_runs_shared_node_once():
    x = leaf([1.0, 2.0])
    a = x * 2
    calls = []
    a.grad_fn.register_prehook(lambda gout: calls.append(gout[0].numpy().copy()))
    b, c = a * 3, a * 4
    (b + c).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [14, 14])
    assert len(calls) == 1  # both branches summed before a's node runs
    np.testing.assert_allclose(calls[0], [7, 7])


def test_value_used_twice_in_one_op():
    x = leaf([3.0])
    (x * x * x).backward()
    np.testing.assert_allclose(to_np(x.grad), [27])


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(to_np(x.grad), [4, 8])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_create_graph_hessian_vector_product():
    x = leaf([1.0, -2.0, 0.5])
    v = norch.tensor([1.0, 0.5, 2.0], dtype=norch.float64)
    f = (x ** 3).sum()
    (g,) = norch.autograd.grad(f, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (hv,) = norch.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), 6 * x.detach().numpy() * v.numpy())


def test_gradient_penalty_through_double_backward():
    w = leaf([0.5, -1.5])
    x = leaf([2.0, 3.0])
    out = (w * x.tanh()).sum()
    (gx,) = norch.autograd.grad(out, x, create_graph=True)
    penalty = (gx ** 2).sum()
    penalty.backward()
    t = np.tanh([2.0, 3.0])
    d = 1 - t ** 2
    # penalty = sum(w^2 d^2): d/dw = 2 w d^2
    np.testing.assert_allclose(to_np(w.grad), 2 * np.array([0.5, -1.5]) * d ** 2, rtol=1e-10)


def test_grad_allow_unused_and_errors():
    x, y = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        norch.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = norch.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2])
    assert gy is None
    assert x.grad is None  # grad() never touches .grad


def test_backward_inputs_restricts_accumulation():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * y).sum().backward(inputs=[x])
    np.testing.assert_allclose(to_np(x.grad), [3, 4])
    assert y.grad is None
    h = x * 2
    (h * y).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), [3, 4])


def test_non_scalar_backward_needs_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(norch.tensor([1.0, 10.0], dtype=norch.float64))
    np.testing.assert_allclose(to_np(x.grad), [2, 20])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(norch.ones(3, dtype=norch.float64))


def test_backward_of_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        norch.ones(2).sum().backward()


# ---------------------------------------------------------------- hooks

def test_tensor_hook_replaces_gradient_and_can_be_removed():
    x = leaf([1.0, 2.0])
    h = x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [6, 6])
    h.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [3, 3])


def test_hook_on_intermediate_and_observer_hook():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))  # returns None: keeps the gradient
    y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], [4, 8])
    np.testing.assert_allclose(to_np(x.grad), [80, 160])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        norch.ones(2).register_hook(lambda g: g)


def test_retain_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4, 8])
    z = x * 3
    (z * 1).sum().backward()
    assert z.grad is None  # non-leaf without retain_grad


def test_node_hooks_and_prehooks():
    x = leaf([1.0, 2.0])
    y = x * 2
    node = y.grad_fn
    log = []
    pre = node.register_prehook(lambda gout: log.append(("pre", gout[0].numpy().copy())))
    post = node.register_hook(lambda gin, gout: (gin[0] + 100,))
    (y * 1).sum().backward()
    assert log[0][0] == "pre"
    np.testing.assert_allclose(log[0][1], [1, 1])
    np.testing.assert_allclose(to_np(x.grad), [102, 102])
    pre.remove()
    post.remove()
    x.grad = None
    y = x * 2
    y.grad_fn.register_prehook(lambda gout: (gout[0] * 0,))
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [0, 0])


# ---------------------------------------------------------------- version counter and in-place

def test_inplace_change_of_saved_tensor_is_caught():
    x = leaf([1.0, 2.0])
    y = x * 1
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    with norch.no_grad():
        x.add_(1)
    np.testing.assert_allclose(x.detach().numpy(), [2, 3])


def test_inplace_on_non_leaf_keeps_gradient_correct():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [6, 6])


# ---------------------------------------------------------------- grad mode

def test_grad_mode_context_managers_and_decorators():
    x = leaf([1.0])
    with norch.no_grad():
        assert not norch.is_grad_enabled()
        assert (x * 2).grad_fn is None
        with norch.enable_grad():
            assert (x * 2).requires_grad
    assert norch.is_grad_enabled()

    @norch.no_grad()
    def f(t):
        return t * 2

    @norch.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with norch.no_grad():
        assert g(x).requires_grad
    with norch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert norch.is_grad_enabled()
    norch.set_grad_enabled(False)
    assert not norch.is_grad_enabled()
    norch.set_grad_enabled(True)

    @norch.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert norch.is_grad_enabled() and not h(x).requires_grad


def test_grad_mode_is_thread_local():
    x = leaf([1.0])
    results = {}
    ready, done = threading.Event(), threading.Event()

    def worker():
        with norch.no_grad():
            ready.set()
            done.wait(5)
            results["worker"] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    ready.wait(5)
    results["main"] = (x * 2).requires_grad  # the worker's no_grad is not ours
    done.set()
    t.join()
    assert results == {"main": True, "worker": False}

    def fresh_thread():
        results["fresh"] = norch.is_grad_enabled()

    with norch.no_grad():
        th = threading.Thread(target=fresh_thread)
        th.start()
        th.join()
    assert results["fresh"] is True


def test_leaf_flags_detach_and_next_functions():
    x = norch.ones(2, 3)
    assert x.is_leaf and not x.requires_grad and x.grad_fn is None
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        norch.ones(2, dtype=norch.int64).requires_grad_()
    y = norch.ones(3, requires_grad=False)
    z = x * 2 + y
    assert not z.is_leaf and z.grad_fn.name() == "AddBackward0"
    (mul_fn, nr0), (none_fn, nr1) = z.grad_fn.next_functions
    assert mul_fn.name() == "MulBackward0" and none_fn is None
    acc = mul_fn.next_functions[0][0]
    assert acc.name() == "AccumulateGrad" and acc.variable._is_same(x)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        z.requires_grad_(False)
    d = z.detach()
    assert d.is_leaf and not d.requires_grad
    d.numpy()[0, 0] = 42.0  # shares storage
    assert z[0, 0].item() == 42.0
    z.detach_()
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None


# ---------------------------------------------------------------- memory

def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_is_steady_over_many_training_steps():
    norch.manual_seed(0)
    w1 = (norch.randn(4, 16) * 0.5).requires_grad_()
    w2 = (norch.randn(16, 16) * 0.3).requires_grad_()
    w3 = (norch.randn(16, 1) * 0.3).requires_grad_()
    x = norch.randn(8, 4)

    def step():
        h = norch.matmul(x, w1).tanh()
        h = norch.matmul(h, w2).tanh()
        loss = (norch.matmul(h, w3) ** 2).mean()
        loss.backward()
        with norch.no_grad():
            for p in (w1, w2, w3):
                p.sub_(p.grad * 0.01)
                p.grad = None
        return loss

    for _ in range(500):
        step()
    gc.collect()
    before = _rss_bytes()
    for _ in range(10_000):
        step()
    gc.collect()
    growth = _rss_bytes() - before
    # One leaked 16x16 float32 tensor per step would already be 10 MB.
    assert growth < 4 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB over 10,000 steps"
