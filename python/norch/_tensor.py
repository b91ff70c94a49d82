"""Python-side Tensor methods: printing (its formatting lives in _tensor_str.py), iteration, list conversion, copy.deepcopy, pickling.

These are naturally Python (formatting text, building lists); everything that
computes lives in the C++ core.
"""
import copy

import numpy as np

from . import _C
from ._C import Tensor
from . import _tensor_str
from ._tensor_str import set_printoptions, get_printoptions  # noqa: F401


def _repr(self):
    return _tensor_str.tensor_repr(self)


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
