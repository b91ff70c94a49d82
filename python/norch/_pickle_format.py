"""Whole-object checkpoints: norch.save of any picklable object, loaded PyTorch 2.6's way.

Note [Pickled checkpoints]
Objects the safetensors format cannot describe (a whole module, an optimizer, a dict
holding a class instance) are pickled. The file is the 8-byte magic ``NORCHPKL`` and a
pickle stream in which every tensor, dtype and device is a persistent id (dtype name,
shape, device, requires_grad and the raw little-endian bytes), so no norch object is
pickled by its Python class and loading a tensor never calls a constructor named by the
file. ``norch.load(f)`` defaults to ``weights_only=True``: the unpickler then resolves
only the globals in ``_SAFE_GLOBALS`` plus those the user allows with
``add_safe_globals`` / ``safe_globals``; any other global (``os.system``, a class) is
refused with pickle.UnpicklingError naming it, before anything from it runs.
``weights_only=False`` is the explicit opt-in to a plain unpickler.
"""
import builtins
import collections
import contextlib
import io
import math
import pickle

import numpy as np

from . import _C
from . import _checkpoint_dtypes
from ._C import Tensor

MAGIC = b"NORCHPKL"
_PROTOCOL = 4

_user_safe = {}  # "module.qualname" -> object


def _key(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _builtin_safe():
    from ._size import Size
    objs = [collections.OrderedDict, collections.Counter, builtins.set, builtins.frozenset, builtins.complex,
            builtins.bytearray, builtins.slice, builtins.range, Size]
    return {_key(o): o for o in objs}


def add_safe_globals(safe_globals):
    """Allows these classes/functions in ``norch.load(..., weights_only=True)``. Entries are objects
    or ``(object, "module.name")`` pairs, as in PyTorch."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, name = g
            _user_safe[name] = obj
        else:
            _user_safe[_key(g)] = g


def get_safe_globals():
    return list(_user_safe.values())


def clear_safe_globals():
    _user_safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager: the listed globals are allowed inside the with-block only."""
    saved = dict(_user_safe)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_safe.clear()
        _user_safe.update(saved)


def _dtype_name(dtype):
    return str(dtype).replace("norch.", "")


class _Pickler(pickle.Pickler):
    def __init__(self, f):
        super().__init__(f, protocol=_PROTOCOL)
        self._ids = {}
        self._keep = []

    def persistent_id(self, obj):
        if isinstance(obj, Tensor):
            if id(obj) in self._ids:
                return ("tensor", self._ids[id(obj)], None)
            idx = len(self._ids)
            self._ids[id(obj)] = idx
            self._keep.append(obj)
            arr = np.ascontiguousarray(_checkpoint_dtypes.numpy_bits(obj))
            kind = "parameter" if type(obj).__name__ == "Parameter" else "tensor"
            data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            return ("tensor", idx, (kind, _dtype_name(obj.dtype), tuple(arr.shape), str(obj.device),
                                    bool(obj.requires_grad), data))
        if isinstance(obj, _C.dtype):
            return ("dtype", _dtype_name(obj))
        if isinstance(obj, _C.device):
            return ("device", str(obj))
        return None


def dumps(obj):
    buf = io.BytesIO()
    buf.write(MAGIC)
    try:
        _Pickler(buf).dump(obj)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise pickle.PicklingError(f"norch.save: cannot save an object of type {type(obj).__name__}: {e}") from None
    return buf.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, weights_only, place, where):
        super().__init__(f)
        self._weights_only = weights_only
        self._place = place
        self._where = where
        self._tensors = {}
        self._safe = {**_builtin_safe(), **_user_safe} if weights_only else None

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        obj = self._safe.get(f"{module}.{name}")
        if obj is None:
            raise pickle.UnpicklingError(
                f"Weights only load failed: {self._where} refers to the global '{module}.{name}', which is not "
                f"allowed with weights_only=True (the default since PyTorch 2.6). If you trust the file, load it "
                f"with norch.load(..., weights_only=False), which can run arbitrary code; or allow this global "
                f"with norch.serialization.add_safe_globals([{name}]) or the "
                f"norch.serialization.safe_globals([{name}]) context manager.")
        return obj

    def persistent_load(self, pid):
        try:
            tag = pid[0]
        except (TypeError, IndexError):
            raise pickle.UnpicklingError(f"norch.load: {self._where} has an unknown persistent id") from None
        if tag == "dtype" and _checkpoint_dtypes.dtype(pid[1]) is not None:
            return _checkpoint_dtypes.dtype(pid[1])
        if tag == "device":
            return _C.device(pid[1])
        if tag == "tensor":
            idx, payload = pid[1], pid[2]
            if payload is None:
                if idx not in self._tensors:
                    raise pickle.UnpicklingError(f"norch.load: {self._where} refers to tensor {idx} before it")
                return self._tensors[idx]
            kind, dtype, shape, device, requires_grad, data = payload
            if _checkpoint_dtypes.dtype(dtype) is None:
                raise pickle.UnpicklingError(f"norch.load: {self._where} has a tensor of unknown dtype {dtype!r}")
            np_dtype = _checkpoint_dtypes.BY_NAME[dtype][1].newbyteorder("<")
            if not isinstance(shape, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                       for d in shape) or not isinstance(data, bytes):
                raise pickle.UnpicklingError(f"norch.load: {self._where} has a malformed tensor of shape {shape!r}")
            count = math.prod(shape)  # exact: a hostile shape cannot wrap to a small size
            if len(data) != count * np_dtype.itemsize:
                raise pickle.UnpicklingError(f"norch.load: {self._where} has a tensor of shape {list(shape)} with "
                                             f"{len(data)} bytes (truncated or corrupted)")
            arr = np.frombuffer(data, dtype=np_dtype).reshape(shape).astype(np_dtype.newbyteorder("="))
            t = self._place(_checkpoint_dtypes.tensor_from_bits(arr), device, False)
            if kind == "parameter":
                from .nn import Parameter
                t = Parameter(t, requires_grad=requires_grad)
            elif requires_grad:
                t.requires_grad_(True)
            self._tensors[idx] = t
            return t
        raise pickle.UnpicklingError(f"norch.load: {self._where} has an unknown persistent id {tag!r}")


def loads(buf, weights_only, place, where):
    f = io.BytesIO(memoryview(buf)[len(MAGIC):])
    try:
        return _Unpickler(f, weights_only, place, where).load()
    except pickle.UnpicklingError:
        raise
    except (EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise pickle.UnpicklingError(f"norch.load: {where} is a corrupted norch checkpoint ({type(e).__name__}: "
                                     f"{e})") from None
