"""Python-side Tensor methods: printing, iteration, list conversion.

These are naturally Python (formatting text, building lists); everything that
computes lives in the C++ core.
"""
import numpy as np

from ._C import Tensor


def _format_array(t):
    arr = t.detach().cpu().numpy()
    if arr.dtype == np.bool_:
        body = np.array2string(arr, separator=", ", prefix="tensor(",
                               formatter={"bool": lambda v: "True" if v else "False"})
    elif arr.dtype.kind == "f":
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec_equal", suppress_small=True)
    else:
        body = np.array2string(arr, separator=", ", prefix="tensor(")
    return body


def _repr(self):
    body = _format_array(self)
    extras = []
    if self.device.type != "cpu":
        extras.append(f"device='{self.device}'")
    default_float = str(self.dtype) in ("norch.float32",)
    if self.dtype.is_floating_point and not default_float or self.dtype.__repr__() in ("norch.int32", "norch.uint8"):
        extras.append(f"dtype={self.dtype!r}")
    if self.numel() == 0 and self.dim() != 1:
        extras.insert(0, f"size={tuple(self.shape)}")
    fn = self.grad_fn
    if fn is not None:
        extras.append(f"grad_fn=<{fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    if extras:
        return f"tensor({body}, {', '.join(extras)})"
    return f"tensor({body})"


def _format(self, spec):
    # As PyTorch: a 0-d tensor formats like its number; any other refuses a format spec.
    if self.dim() == 0:
        return format(self.item(), spec)
    if spec:
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return repr(self)


def _iter(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self[i] for i in range(self.shape[0]))


def _tolist(self):
    return self.detach().cpu().numpy().tolist()


def _contains(self, element):
    return bool((self == element).any().item())


def _reversed(self):
    return self.flip(0) if self.dim() > 0 else self


Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__format__ = _format
Tensor.__iter__ = _iter
Tensor.tolist = _tolist
Tensor.__contains__ = _contains
Tensor.__reversed__ = _reversed
Tensor.__array_priority__ = 1000  # NumPy defers to Tensor's reflected operators
