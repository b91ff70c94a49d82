"""nn.Parameter: a Tensor that a Module registers as one of its parameters.

norch.Tensor is a pybind11 class; a Python subclass is initialised with
``Tensor.__init__(self, data)``, which makes ``self`` an alias of ``data``
(same storage, fresh autograd identity), the behaviour PyTorch's
``Tensor._make_subclass`` gives a Parameter.
"""
from .. import _C

_Tensor = _C.Tensor

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer"]


class Parameter(_Tensor):
    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _C.empty([0])
        if not isinstance(data, _Tensor):
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
        _Tensor.__init__(self, data.detach())
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + _Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.detach().cpu().numpy(), str(self.dtype), self.requires_grad))


def _rebuild_parameter(array, dtype_name, requires_grad):
    import numpy as np
    from .. import _dtype_by_name
    t = _C.from_numpy(np.array(array)).to(_dtype_by_name(dtype_name.split(".")[-1]))
    return Parameter(t, requires_grad)


class UninitializedParameter(Parameter):
    """A placeholder Parameter with no shape yet, used by the Lazy* modules until their
    first forward; ``materialize`` returns the real Parameter, which the module stores."""

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(_C.empty([0], device=device, dtype=dtype), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        return Parameter(_C.empty(list(shape), device=device if device is not None else self.device,
                                  dtype=dtype if dtype is not None else self.dtype), self.requires_grad)

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__


class UninitializedBuffer(_Tensor):
    """A placeholder buffer with no shape yet (Lazy* normalisation layers' running stats)."""

    def __init__(self, requires_grad=False, device=None, dtype=None):
        _Tensor.__init__(self, _C.empty([0], device=device, dtype=dtype))

    def materialize(self, shape, device=None, dtype=None):
        return _C.empty(list(shape), device=device if device is not None else self.device,
                        dtype=dtype if dtype is not None else self.dtype)

    def __repr__(self):
        return "<UninitializedBuffer>"

    __str__ = __repr__
