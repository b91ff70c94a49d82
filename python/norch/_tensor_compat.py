"""Tensor methods PyTorch has that are compositions of norch's core ops: the registry, the
aliases and in-place forms, and install(); the methods themselves live in
_tensor_elementwise.py, _tensor_reduce.py, _tensor_shape.py, _tensor_special.py and
_tensor_linalg.py.

Each is written with differentiable norch ops, so autograd flows through them with no
extra backward code; the handful that are not differentiable in PyTorch either (counts,
comparisons, random fills, index bookkeeping) say so. Aliases point at the same function
object, as PyTorch's do. In-place variants write the out-of-place result with copy_,
which keeps version counters and the in-place checks of the core.
"""
import builtins
import collections

from . import _C
from ._C import Tensor

_methods = {}


def _method(name=None):
    def deco(fn):
        _methods[name or fn.__name__] = fn
        return fn
    return deco


def _named(name, fields):
    t = collections.namedtuple(name, fields)
    t.__module__ = "norch.return_types"
    return t


_values_indices = {n: _named(n, ["values", "indices"]) for n in
                   ("kthvalue", "median", "nanmedian", "mode", "cummax", "cummin")}
_aminmax_t = _named("aminmax", ["min", "max"])
_histogram_t = _named("histogram", ["hist", "bin_edges"])


def broadcast_shapes(*shapes):
    """The shape that tensors of the given shapes broadcast to (PyTorch's rule), or RuntimeError."""
    shapes = [(s,) if isinstance(s, builtins.int) else tuple(s) for s in shapes]
    n = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * n
    for s in shapes:
        for i, d in enumerate(s):
            j = n - len(s) + i
            if d < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {d}: {list(s)}")
            if out[j] == 1:
                out[j] = d
            elif d != 1 and d != out[j]:
                raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape.  Mismatch is "
                                   f"between arg 0 and arg {shapes.index(s)}: sizes {list(shapes[0])} and {list(s)} "
                                   f"at dimension {j}")
    from ._size import Size
    return Size(out)


def _float_dtype(self):
    return self.dtype if self.dtype.is_floating_point else _C.get_default_dtype()


def _as_tensor(x, like):
    return x if isinstance(x, Tensor) else _C.tensor(x, dtype=like.dtype if not isinstance(x, builtins.float)
                                                     or like.dtype.is_floating_point else _C.get_default_dtype(),
                                                     device=like.device)


# --- aliases and in-place forms -------------------------------------------------------------

ALIASES = {
    "absolute": "abs", "absolute_": "abs_", "arccos": "acos", "arccos_": "acos_", "arcsin": "asin",
    "arcsin_": "asin_", "arctan": "atan", "arctan_": "atan_", "arctan2": "atan2", "arctan2_": "atan2_",
    "arccosh": "acosh", "arcsinh": "asinh", "arctanh": "atanh", "divide": "div", "divide_": "div_",
    "multiply_": "mul_", "subtract": "sub", "subtract_": "sub_", "true_divide": "div", "true_divide_": "div_",
    "greater_equal": "ge", "less_equal": "le", "not_equal": "ne", "fix": "trunc", "fix_": "trunc_",
    "moveaxis": "movedim", "swapdims": "transpose", "clip_": "clamp_", "negative_": "neg_",
    "unsafe_chunk": "chunk", "unsafe_split": "split", "unsafe_split_with_sizes": "split_with_sizes",
}
# in-place form -> the out-of-place method whose result it writes back
INPLACE = {n + "_": n for n in (
    "acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "deg2rad", "rad2deg", "copysign",
    "xlogy", "logit", "ldexp", "heaviside", "sgn", "gcd", "lcm", "addcmul", "addcdiv", "addmv", "addr",
    "baddbmm", "addbmm", "addmm", "clamp_min", "clamp_max", "cumsum", "cumprod", "tril", "triu", "lerp",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "index_copy", "index_fill", "renorm", "float_power",
    "masked_scatter", "erfc", "lgamma", "digamma", "polygamma", "mvlgamma", "i0", "erfinv", "nextafter")}


def _inplace(name, base):
    def fn(self, *args, **kwargs):
        out = getattr(self, base)(*args, **kwargs)
        if name == "float_power_" and self.dtype != _C.float64:
            raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the operation's result "
                               f"requires dtype Double")
        return self.copy_(out)
    fn.__name__ = name
    fn.__doc__ = f"In-place form of Tensor.{base}."
    return fn


def _property(fn):
    return property(fn)


_PROPERTIES = {
    "is_xpu": False, "is_mps": False, "is_sparse": False, "is_sparse_csr": False, "is_quantized": False,
    "is_meta": False, "is_nested": False, "is_mkldnn": False, "is_vulkan": False, "is_ipu": False,
    "is_maia": False, "is_mtia": False, "is_xla": False,
}


def _volatile(self):
    import warnings
    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
    return False


def install():
    from . import _tensor_elementwise, _tensor_reduce, _tensor_shape, _tensor_special, _tensor_linalg  # noqa: F401
    for name, fn in _methods.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name, target in ALIASES.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, getattr(Tensor, target))
    for name, base in INPLACE.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _inplace(name, base))
    for name, value in _PROPERTIES.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, property(lambda self, v=value: v))
    if not hasattr(Tensor, "H"):
        Tensor.H = property(lambda self: self.t() if self.dim() == 2 else _raise_h(self))
        Tensor.mH = property(lambda self: self.mT)
        Tensor.adjoint = lambda self: self.mT
    if not hasattr(Tensor, "volatile"):
        Tensor.volatile = property(_volatile)
    if not hasattr(Tensor, "real"):
        Tensor.real = property(lambda self: self)


def _raise_h(self):
    raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
