# Reference cycles through the C++ graph (issue 9, item 15): Python objects held
# by hooks and by a Python Function's node are visible to the garbage
# collector, so a cycle through them is freed by gc.collect(), as in PyTorch,
# and nothing still reachable is freed. Note [Cycles through the graph].
import gc
import weakref

import pytest

import norch


class _Marker:
    """A weakref-able Python object whose lifetime the tests watch."""


def _hook_cycle(n):
    x = norch.randn(n, requires_grad=True)
    x.register_hook(lambda g: g + x.detach() * 0)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0] * n
    return weakref.ref(x)


def test_hook_closing_over_its_own_leaf_is_collected():
    refs = [_hook_cycle(1000) for _ in range(5)]
    gc.collect()
    assert all(r() is None for r in refs)


def test_hook_cycle_memory_is_released():
    # 1 MiB per tensor: without collection, 20 iterations would keep 20 MiB alive.
    refs = [_hook_cycle(1 << 18) for _ in range(20)]
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_hook_on_non_leaf_closing_over_it_is_collected():
    def make():
        x = norch.randn(10, requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g + y.detach() * 0)
        keep = _Marker()
        y.grad_fn.register_hook(lambda gi, go, keep=keep, y=y: None)
        y.sum().backward()
        return weakref.ref(keep)
    refs = [make() for _ in range(3)]
    gc.collect()
    assert all(r() is None for r in refs)


class _KeepsOutput(norch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x * 2
        ctx.out = out
        ctx.marker = _Marker()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * 2 + out * 0


def _ctx_cycle(n):
    x = norch.randn(n, requires_grad=True)
    y = _KeepsOutput.apply(x)
    ref = weakref.ref(y.grad_fn.marker)
    y.sum().backward()
    assert x.grad.tolist() == [2.0] * n
    return ref


def test_function_storing_its_output_on_ctx_is_collected():
    refs = [_ctx_cycle(1 << 18) for _ in range(10)]
    gc.collect()
    assert all(r() is None for r in refs)


def test_grad_fn_object_stored_on_ctx_is_collected():
    class StoresNode(norch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.marker = _Marker()
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    def make():
        y = StoresNode.apply(norch.randn(4, requires_grad=True))
        node = y.grad_fn
        node.marker.node = node  # ctx -> marker -> grad_fn object -> node -> ctx
        return weakref.ref(node.marker)
    refs = [make() for _ in range(3)]
    gc.collect()
    assert all(r() is None for r in refs)


def test_collection_keeps_what_is_still_reachable():
    # A live tensor with a self-referencing hook, and a live graph whose ctx
    # holds its output: gc.collect() must not clear either.
    x = norch.ones(3, requires_grad=True)
    x.register_hook(lambda g: g * 3 + x.detach() * 0)
    y = _KeepsOutput.apply(norch.ones(3, requires_grad=True))
    node = y.grad_fn
    del y
    gc.collect()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]
    assert isinstance(node.marker, _Marker)
    assert node.out.tolist() == [2.0, 2.0, 2.0]
    gc.collect()
    z = _KeepsOutput.apply(norch.ones(2, requires_grad=True))
    gc.collect()
    z.sum().backward(retain_graph=True)
    gc.collect()
    z.sum().backward()


def test_parameter_subclass_with_hook_cycle_is_collected():
    def make():
        p = norch.nn.Parameter(norch.randn(5))
        p.register_hook(lambda g: g + p.detach() * 0)
        (p * 2).sum().backward()
        return weakref.ref(p)
    refs = [make() for _ in range(3)]
    gc.collect()
    assert all(r() is None for r in refs)


@pytest.mark.parametrize("rounds", [3])
def test_gc_during_backward_hooks(rounds):
    # The collector running inside a hook (allocation-triggered or explicit)
    # must leave the graph the engine is walking intact.
    x = norch.randn(6, requires_grad=True)

    def hook(g):
        gc.collect()
        return g * 2
    for _ in range(rounds):
        x.grad = None
        y = _KeepsOutput.apply(x)
        y.register_hook(hook)
        (y * 1).sum().backward()
        assert x.grad.tolist() == [4.0] * 6
