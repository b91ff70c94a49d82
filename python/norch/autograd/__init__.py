"""norch.autograd: grad mode, backward, grad, custom Functions, anomaly mode, graph views."""
import functools

from .. import _C

_ag = _C._autograd


def is_grad_enabled():
    return _ag.is_grad_enabled()


class _GradModeContext:
    """Base of no_grad / enable_grad: a context manager and a decorator (``@no_grad()`` or ``@no_grad``)."""

    _mode = True

    def __new__(cls, *args, **kwargs):
        if cls in (no_grad, enable_grad) and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])  # bare decorator: @no_grad
        return super().__new__(cls)

    def __enter__(self):
        self._prev = _ag.is_grad_enabled()
        _ag.set_grad_enabled(self._mode)
        return None

    def __exit__(self, *exc):
        _ag.set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    _mode = False


class enable_grad(_GradModeContext):
    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode on construction (like PyTorch); restores it on exit."""

    def __init__(self, mode):
        self._prev = _ag.is_grad_enabled()
        self._mode = bool(mode)
        _ag.set_grad_enabled(self._mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _ag.set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        _ag.set_grad_enabled(self._prev)
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(_GradModeContext):
    """Like no_grad (norch has no separate inference tensors): ``inference_mode(mode=True)``, as a
    context manager, ``@inference_mode()`` or ``@inference_mode``."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self._mode = not self.mode if self.mode else _ag.is_grad_enabled()

    def __enter__(self):
        self._prev = _ag.is_grad_enabled()
        _inference[0] += self.mode
        if self.mode:
            _ag.set_grad_enabled(False)

    def __exit__(self, *exc):
        _inference[0] -= self.mode
        _ag.set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


_inference = [0]


def is_inference_mode_enabled():
    return _inference[0] > 0


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _C.Tensor)


class Variable(metaclass=_VariableMeta):
    """The pre-0.4 wrapper, now the Tensor itself: Variable(t, requires_grad=...) returns a tensor."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        out = data.detach()
        return out.requires_grad_(True) if requires_grad else out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    _ag.backward(tensors, grad_tensors, retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    return _ag.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)


from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: E402,F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: E402,F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled  # noqa: E402,F401
from . import graph  # noqa: E402,F401
from . import functional  # noqa: E402,F401
