"""Helpers the half-precision tests share: moving tensors of every dtype between
norch and the torch oracle bit for bit (NumPy has no bfloat16, so its bits travel
as float16, a same-size reinterpretation in both libraries), and the tolerance a
half-type result is held to."""
import numpy as np
import torch

import norch

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64", "float16", "bfloat16"]
HALF = ["float16", "bfloat16"]
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def nd(name):
    return getattr(norch, name)


def td(name):
    return getattr(torch, name)


def to_torch(t):
    t = t.detach().cpu()
    if t.dtype == norch.bfloat16:
        return torch.from_numpy(t.view(norch.float16).numpy().copy()).view(torch.bfloat16)
    return torch.from_numpy(t.numpy().copy())


def to_norch(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        return norch.from_numpy(t.view(torch.float16).numpy().copy()).view(norch.bfloat16)
    return norch.from_numpy(t.numpy().copy())


def bits(t):
    """The raw element bits of a norch or torch tensor, as an unsigned NumPy array."""
    if isinstance(t, norch.Tensor):
        t = to_torch(t)
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        return t.numpy().view(np.uint8)
    size = t.element_size()
    as_int = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[size]
    return t.view(as_int).numpy().view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[size])


def rtol(name):
    """Two units in the last place of the dtype: one for each library's own rounding."""
    return {"float16": 2 * 2.0 ** -10, "bfloat16": 2 * 2.0 ** -7, "float32": 1e-5, "float64": 1e-12}[name]


def assert_close_dtype(actual, expected, name, atol_scale=1.0):
    """A norch result against torch's for the same inputs, within the dtype's rounding."""
    assert str(actual.dtype) == "norch." + name, (actual.dtype, name)
    a = to_torch(actual).double()
    e = expected.detach().double()
    assert a.shape == e.shape, (a.shape, e.shape)
    torch.testing.assert_close(a, e, rtol=rtol(name), atol=rtol(name) * atol_scale, equal_nan=True)
