"""norch.autograd.Function: custom ops with a Python backward.

A subclass defines ``forward(ctx, *args)`` and ``backward(ctx, *grads)``
(both static) and is called through ``apply``. The forward runs under no_grad;
the outputs are then connected to a C++ node (PyNode, src/python/python_function.cpp)
that the engine calls like any other and that calls ``backward`` with the GIL.
With ``create_graph=True`` backward runs with grad mode on, so a backward
written with norch ops can itself be differentiated.
"""
import functools

from .. import _C
from . import no_grad, is_grad_enabled

_ag = _C._autograd


class FunctionCtx:
    """What forward and backward share: saved tensors and flags."""

    _to_save = ()
    _dirty = ()
    _non_differentiable = ()
    _materialize_grads = True
    _node_ref = None
    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        # After apply, saved tensors live in the node, which checks them against
        # in-place changes and refuses them once the graph has been freed.
        if self._node_ref is None:
            return tuple(self._to_save)
        return self._node_ref.saved_tensors()


class BackwardCFunction(FunctionCtx):
    """The ctx object passed to forward and backward of one call."""

    def __init__(self, cls):
        self._forward_cls = cls


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_name = name + "Backward"


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations (PyTorch's API)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("norch.autograd.Function is used through its classmethod apply(); do not instantiate it")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = BackwardCFunction(cls)
        needs = tuple(isinstance(a, _C.Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = needs
        record = is_grad_enabled() and any(needs)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        if not record:
            return outputs
        if isinstance(outputs, list):
            outputs = tuple(outputs)
        result = _ag._function_finish(ctx, cls.backward, cls._backward_name, args, outputs, tuple(ctx._to_save),
                                      tuple(ctx._dirty), tuple(ctx._non_differentiable), ctx._materialize_grads)
        # The node holds what was saved from here on (ctx.saved_tensors reads it
        # there); tuples left on ctx would keep the outputs, and through them
        # the node and ctx itself, alive.
        ctx._to_save = ctx._dirty = ctx._non_differentiable = ()
        return result


def once_differentiable(fn):
    """Marks a backward that is not itself differentiable: it runs under no_grad."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper
