"""PyTorch's legacy typed constructors: norch.FloatTensor, norch.LongTensor, ..., norch.cuda.FloatTensor.

Old training scripts still build tensors with ``torch.FloatTensor(3, 4)`` or
``torch.LongTensor([1, 2])`` and check ``isinstance(x, torch.FloatTensor)``; these classes
keep that working. Each is a class whose instances are never created: calling it returns
an ordinary norch.Tensor of its dtype and device, and isinstance matches a Tensor of that
dtype and device, as PyTorch's tensortype does.
"""
import builtins

from . import _C
from ._C import Tensor


class _TensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == cls._device

    def __call__(cls, *args, device=None):
        dev = cls._device if device is None else _C.device(device)
        if not args:
            return _C.empty(0, dtype=cls.dtype, device=dev)
        if len(args) == 1:
            a = args[0]
            if isinstance(a, Tensor):
                if a.dtype != cls.dtype:
                    raise TypeError(f"expected {cls.__module__}.{cls.__name__} (got {a.type()})")
                return a
            if isinstance(a, (list, tuple)) and not _is_size(a):
                return _C.tensor(list(a), dtype=cls.dtype, device=dev)
            if _is_size(a) and not isinstance(a, builtins.int):
                return _C.empty(tuple(a), dtype=cls.dtype, device=dev)
            if not isinstance(a, builtins.int) and hasattr(a, "__len__"):
                return _C.tensor(a, dtype=cls.dtype, device=dev)
        if all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool) for a in args):
            return _C.empty(args, dtype=cls.dtype, device=dev)
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _is_size(a):
    from ._size import Size
    return isinstance(a, Size)


_NAMES = {"FloatTensor": "float32", "DoubleTensor": "float64", "LongTensor": "int64", "IntTensor": "int32",
          "BoolTensor": "bool", "ByteTensor": "uint8", "HalfTensor": "float16", "BFloat16Tensor": "bfloat16"}


def _make(name, dtype, device, module):
    cls = _TensorType(name, (), {"dtype": getattr(_C, dtype), "_device": device, "is_cuda": device == "cuda",
                                 "__module__": module,
                                 "__doc__": f"Legacy constructor: {name}(*sizes), {name}(data) or {name}(); "
                                            f"returns a norch.Tensor of dtype {dtype} on {device}."})
    return cls


CPU_TYPES = {n: _make(n, d, "cpu", "norch") for n, d in _NAMES.items()}
CUDA_TYPES = {n: _make(n, d, "cuda", "norch.cuda") for n, d in _NAMES.items()}
_BY_NAME = {f"norch.{n}": c for n, c in CPU_TYPES.items()}
_BY_NAME.update({f"norch.cuda.{n}": c for n, c in CUDA_TYPES.items()})
_BY_NAME.update({k.replace("norch.", "torch.", 1): v for k, v in list(_BY_NAME.items())})


def new(self, *args, **kwargs):
    """Tensor.new(...): a legacy constructor call with this tensor's dtype and device."""
    device = kwargs.pop("device", self.device)
    if kwargs:
        raise TypeError(f"new() got unexpected keyword arguments {sorted(kwargs)}")
    if not args:
        return _C.empty(0, dtype=self.dtype, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0]
    if len(args) == 1 and isinstance(args[0], (list, tuple)) and not _is_size(args[0]):
        return _C.tensor(list(args[0]), dtype=self.dtype, device=device)
    sizes = tuple(args[0]) if len(args) == 1 and not isinstance(args[0], builtins.int) else args
    return _C.empty(sizes, dtype=self.dtype, device=device)


_core_type = Tensor.type


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """Tensor.type(): the type name ('norch.FloatTensor'), or a copy converted to a dtype, a legacy type
    class or a type name ('norch.LongTensor', 'torch.cuda.FloatTensor')."""
    if dtype is None:
        return _core_type(self)
    if isinstance(dtype, str):
        if dtype not in _BY_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _BY_NAME[dtype]
    if isinstance(dtype, _TensorType):
        return self.to(device=dtype._device, dtype=dtype.dtype)
    return _core_type(self, dtype)


def install(namespace):
    namespace.update(CPU_TYPES)
    Tensor.new = new
    Tensor.type = type_
