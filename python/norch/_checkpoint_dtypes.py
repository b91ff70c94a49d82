"""The one table of tensor dtypes that checkpoints may hold (norch.save / norch.load).

Each row is a safetensors dtype code, the norch dtype it loads as (None while norch has no
such dtype: a file holding one is refused with an error naming it) and the NumPy dtype its
little-endian bytes are read with. Enabling a dtype in norch is filling in its name here.
Everything a checkpoint names as a dtype (a tensor's ``dtype`` entry, a ``__dtype__`` value,
a pickled dtype) is looked up in this table and nowhere else, so a file can never reach
another attribute of norch._C through a dtype name.
"""
import numpy as np

from . import _C

_TABLE = [
    # code       norch name   NumPy dtype of the stored bytes
    ("F64",      "float64",   np.float64),
    ("F32",      "float32",   np.float32),
    ("I64",      "int64",     np.int64),
    ("I32",      "int32",     np.int32),
    ("U8",       "uint8",     np.uint8),
    ("BOOL",     "bool",      np.bool_),
    ("F16",      "float16",   np.float16),
    ("BF16",     "bfloat16",  np.uint16),    # NumPy has no bfloat16: its raw bits (numpy_bits below)
    ("I16",      None,        np.int16),     # int16
    ("I8",       None,        np.int8),      # int8
    ("U16",      None,        np.uint16),    # uint16
    ("U32",      None,        np.uint32),    # uint32
    ("U64",      None,        np.uint64),    # uint64
    ("F8_E4M3",  None,        np.uint8),     # float8_e4m3fn
    ("F8_E5M2",  None,        np.uint8),     # float8_e5m2
]
_TORCH_NAMES = {"F64": "float64", "F32": "float32", "I64": "int64", "I32": "int32", "U8": "uint8", "BOOL": "bool",
                "F16": "float16", "BF16": "bfloat16", "I16": "int16", "I8": "int8", "U16": "uint16",
                "U32": "uint32", "U64": "uint64", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}

CODES = {code: (name, np.dtype(np_dtype)) for code, name, np_dtype in _TABLE}
BY_NAME = {name: (code, np.dtype(np_dtype)) for code, name, np_dtype in _TABLE if name is not None}


def numpy_bits(t):
    """A tensor's data as a NumPy array of the table's dtype: bfloat16 travels as its uint16
    bits (through a float16 view: same size, no conversion)."""
    t = t.detach().cpu()
    if t.dtype == _C.bfloat16:
        return t.view(_C.float16).numpy().view(np.uint16)
    return t.numpy()


def tensor_from_bits(arr):
    """The inverse of numpy_bits: uint16 is only ever bfloat16's bits (norch has no uint16)."""
    if arr.dtype == np.uint16:
        return _C.from_numpy(arr.view(np.float16)).view(_C.bfloat16)
    return _C.from_numpy(arr)


def code_of(np_dtype):
    """The safetensors code for a NumPy array's dtype (one norch can hold)."""
    for code, name, np_t in _TABLE:
        if name is not None and np.dtype(np_t) == np_dtype:
            return code
    raise TypeError(f"norch.save: no checkpoint dtype for NumPy dtype {np_dtype}")


def describe(code):
    """How an error names a safetensors dtype code: the code and PyTorch's name for it."""
    return f"{code} ({_TORCH_NAMES[code]})" if code in _TORCH_NAMES else repr(code)


def dtype(name):
    """The norch dtype object a checkpoint's dtype name stands for, or None if it names none."""
    if not isinstance(name, str) or name not in BY_NAME:
        return None
    return getattr(_C, name)
