"""Python-side Tensor methods: printing, iteration, list conversion, copy.deepcopy, pickling.

These are naturally Python (formatting text, building lists); everything that
computes lives in the C++ core.
"""
import copy
import sys

import numpy as np

from . import _C
from ._C import Tensor


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80)}
_print_options = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """PyTorch's torch.set_printoptions: digits, summarization threshold, edge items, line width, profile."""
    if profile is not None:
        _print_options.update(_PROFILES[profile])
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _print_options[k] = v
    _print_options["sci_mode"] = sci_mode


def get_printoptions():
    return dict(_print_options)


def _format_array(t):
    t = t.detach().cpu()
    # PyTorch formats a half-type tensor from its values widened to float32.
    if t.dtype in (_C.float16, _C.bfloat16):
        t = t.float()
    arr = t.numpy()
    o = _print_options
    common = dict(separator=", ", prefix="tensor(", threshold=o["threshold"], edgeitems=o["edgeitems"],
                  max_line_width=o["linewidth"])
    if arr.dtype == np.bool_:
        body = np.array2string(arr, formatter={"bool": lambda v: "True" if v else "False"}, **common)
    elif arr.dtype.kind == "f":
        if o["sci_mode"]:
            p = o["precision"]
            body = np.array2string(arr, formatter={"float_kind": lambda v: f"{v:.{p}e}"}, **common)
        else:
            body = np.array2string(arr, precision=o["precision"], floatmode="maxprec_equal", suppress_small=True,
                                   **common)
    else:
        body = np.array2string(arr, **common)
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
    t = self.detach().cpu()
    if t.dtype == _C.bfloat16:
        t = t.float()  # exact: NumPy has no bfloat16
    return t.numpy().tolist()


def _contains(self, element):
    return bool((self == element).any().item())


def _reversed(self):
    return self.flip(0) if self.dim() > 0 else self


def _deepcopy(self, memo):
    # PyTorch's rule: only graph leaves copy (a copied non-leaf would lose its history).
    # Storage shared between tensors is not preserved across the copy.
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                           "deepcopy protocol at the moment.")
    if id(self) in memo:
        return memo[id(self)]
    new = self.detach().clone()
    if self.requires_grad:
        new.requires_grad_(True)
    if self.grad is not None:
        new.grad = copy.deepcopy(self.grad, memo)
    memo[id(self)] = new
    return new


def _reduce_ex(self, protocol):
    # Plain pickle (multiprocessing, pickle.dumps) keeps what PyTorch keeps: values, dtype,
    # device and requires_grad; never the graph or .grad. norch.save has its own format.
    return (_rebuild_tensor, (self.detach().cpu().numpy().copy(order="C"), str(self.dtype).replace("norch.", ""),
                              str(self.device), self.requires_grad))


def _rebuild_tensor(array, dtype_name, device, requires_grad):
    from . import _dtype_by_name
    t = _C.from_numpy(np.array(array)).to(_dtype_by_name(dtype_name))
    if device != "cpu":
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t


Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__format__ = _format
Tensor.__iter__ = _iter
Tensor.tolist = _tolist
Tensor.__contains__ = _contains
Tensor.__reversed__ = _reversed
Tensor.__deepcopy__ = _deepcopy
Tensor.__reduce_ex__ = _reduce_ex
Tensor.__array_priority__ = 1000  # NumPy defers to Tensor's reflected operators
