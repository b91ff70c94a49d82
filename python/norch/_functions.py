"""Top-level functions PyTorch has beyond norch's core ops: function forms of Python-side
Tensor methods, stacking helpers, global flags, dtype info, layouts and norch.compile.

Flags that select a kernel in PyTorch (matmul precision, determinism) are kept and
reported so scripts that set them run unchanged; in norch they select no kernel, and
float32 matmuls compute in float32 whatever they say.
"""
import builtins
import functools
import inspect
import math
import warnings

import numpy as np

from . import _C
from ._C import Tensor
from ._tensor_compat import broadcast_shapes  # noqa: F401  (re-exported as norch.broadcast_shapes)
from .amp import autocast_mode as _autocast

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None


class layout:
    """A tensor's memory layout. norch tensors are always strided (dense)."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"norch.{self._name}"


strided = layout("strided")
Tensor.layout = property(lambda self: strided)


class memory_format:
    """The memory_format argument of clone/contiguous/empty_like; norch keeps row-major (contiguous) order."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"norch.{self._name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")

# Function forms of Tensor methods: norch.name(input, *args) calls input.name(*args).
METHOD_FUNCTIONS = [
    "absolute", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asinh", "atanh",
    "addbmm", "addcdiv", "addcmul", "addmv", "addr", "baddbmm", "allclose", "aminmax", "bincount", "clamp_max",
    "clamp_min", "clone", "copysign", "corrcoef", "count_nonzero", "cov", "cross", "deg2rad", "rad2deg", "detach",
    "diag", "diag_embed", "diagflat", "diagonal", "diagonal_scatter", "diff", "dist", "dsplit", "hsplit", "vsplit",
    "equal", "fix", "fliplr", "flipud", "float_power", "fmax", "fmin", "gcd", "lcm", "ger", "greater_equal",
    "less_equal", "not_equal", "hardshrink", "heaviside", "histc", "histogram", "hypot", "index_copy", "index_fill",
    "inner", "is_floating_point", "is_nonzero", "is_same_size", "is_signed", "isclose", "isneginf", "isposinf",
    "isreal", "kron", "kthvalue", "ldexp", "logaddexp", "logaddexp2", "logcumsumexp", "logit", "masked_scatter",
    "matrix_power", "median", "moveaxis", "msort", "nanmean", "nanquantile", "nansum", "narrow_copy",
    "nonzero_static", "positive", "prelu", "put", "quantile", "ravel", "renorm", "rot90",
    "select_scatter", "slice_scatter", "as_strided_scatter", "signbit", "split_with_sizes", "subtract", "swapdims",
    "take", "take_along_dim", "tensor_split", "trace", "unique_consecutive", "vdot", "xlogy", "sgn", "angle",
    "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_complex", "is_conj", "is_neg", "is_inference",
    "softmax", "log_softmax", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "adjoint", "get_device",
    "abs_", "acos_", "asin_", "atan_", "ceil_", "cos_", "cosh_", "erf_", "exp_", "exp2_", "expm1_", "floor_",
    "frac_", "log_", "log10_", "log1p_", "log2_", "neg_", "negative_", "reciprocal_", "relu_", "round_", "rsqrt_",
    "sigmoid_", "sin_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "clamp_", "clip_", "fix_",
    "acosh_", "asinh_", "atanh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "deg2rad_", "rad2deg_", "gcd_", "lcm_", "ldexp_", "logit_", "nan_to_num_", "index_put_", "detach_",
    "fill_", "zero_", "addmv_", "xlogy_", "clamp_min_", "clamp_max_", "cummax", "cummin", "nanmedian", "frexp",
    "erfc", "erfc_", "sinc", "sinc_", "lgamma", "digamma", "mvlgamma", "i0", "i0_", "erfinv",
    "nextafter", "cholesky", "cholesky_solve", "cholesky_inverse", "triangular_solve", "lu_solve", "det",
    "slogdet", "logdet", "inverse", "qr", "matrix_exp", "mode",
]


def _method_function(name):
    method = getattr(Tensor, name)

    @functools.wraps(method)
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = name
    fn.__qualname__ = name
    try:  # PyTorch names the first argument `input` in function form
        sig = inspect.signature(method)
        params = list(sig.parameters.values())
        if params and params[0].name == "self":
            fn.__signature__ = sig.replace(parameters=[params[0].replace(name="input")] + params[1:])
    except (ValueError, TypeError):
        del fn.__wrapped__  # a core method: pybind11 gives no signature to follow
    return fn


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """input.repeat_interleave(repeats, dim); with one tensor of counts, each index i repeated counts[i] times."""
    if repeats is None:
        return _C.arange(input.numel(), device=input.device).repeat_interleave(input.reshape(-1))
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def polygamma(n, input):
    """polygamma(n, input): PyTorch puts the order first here (the method is input.polygamma(n))."""
    return input.polygamma(n)


def combinations(input, r=2, with_replacement=False):
    import itertools
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = list(pick(builtins.range(input.shape[0]), r))
    if not idx:
        return _C.empty((0, r) if r else (0,), dtype=input.dtype, device=input.device)
    flat = _C.tensor([i for c in idx for i in c], dtype=_C.int64, device=input.device)
    return input.index_select(0, flat).reshape(len(idx), r)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A tensor over the bytes of a Python buffer (shared, as in PyTorch: it writes through)."""
    arr = np.frombuffer(buffer, dtype=np.dtype(str(dtype).replace("norch.", "")), count=count, offset=offset)
    if not arr.flags.writeable:
        import warnings
        warnings.warn("The given buffer is not writable, and norch does not support non-writable tensors. This means "
                      "you can write to the underlying (supposedly non-writable) buffer using the tensor. You may want "
                      "to copy the buffer to protect its data or make it writable before converting it to a tensor.",
                      UserWarning, stacklevel=2)
        with warnings.catch_warnings():  # from_numpy's own warning would name a NumPy array
            warnings.simplefilter("ignore", UserWarning)
            out = _C.from_numpy(arr)
    else:
        out = _C.from_numpy(arr)
    return out.requires_grad_(True) if requires_grad else out


def empty_permuted(size, physical_layout, *, dtype=None, device=None, requires_grad=False):
    """An empty tensor of ``size`` whose memory is laid out in the order ``physical_layout``."""
    physical = [size[d] for d in physical_layout]
    inverse = [list(physical_layout).index(i) for i in builtins.range(len(size))]
    out = _C.empty(physical, dtype=dtype or _C.get_default_dtype(), device=device).permute(inverse)
    return out.requires_grad_(True) if requires_grad else out


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) with A = P L U from the (LU, pivots) that Tensor.lu returns."""
    n = LU_data.shape[-1]
    eye = _C.eye(n, dtype=LU_data.dtype, device=LU_data.device)
    L = LU_data.tril(-1) + eye
    U = LU_data.triu()
    piv = LU_pivots.reshape(-1, n)
    mats = []
    for row in piv.tolist():
        perm = list(builtins.range(n))
        for k, p in enumerate(row):
            perm[k], perm[p - 1] = perm[p - 1], perm[k]
        mats.append(eye.index_select(1, _C.tensor([perm.index(i) for i in builtins.range(n)], dtype=_C.int64,
                                                   device=LU_data.device)).t())
    P = _C.stack(mats).reshape(tuple(LU_pivots.shape[:-1]) + (n, n))
    return P, L, U


def get_default_device():
    """Always cpu: norch creates tensors on the CPU unless a device is given."""
    return _C.device("cpu")


def set_default_tensor_type(t):
    """Deprecated in PyTorch: a float legacy type sets the default dtype; norch has no default device."""
    from ._legacy import _BY_NAME
    cls = _BY_NAME.get(t, t) if isinstance(t, str) else t
    if getattr(cls, "_device", "cpu") != "cpu":
        raise TypeError("set_default_tensor_type: norch has no default CUDA device; create tensors with device='cuda'")
    if not cls.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _C.set_default_dtype(cls.dtype)


def get_device_module(device=None):
    import sys
    name = device.type if isinstance(device, _C.device) else (device or "cuda").split(":")[0]
    if name == "cuda":
        return sys.modules["norch.cuda"]
    if name == "cpu":
        return sys.modules["norch.cpu"] if "norch.cpu" in sys.modules else None
    raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as 'norch.{name}'.")


def init_num_threads():
    """Nothing to do: norch's OpenMP threads start on first use."""


def fill(input, value):
    return _C.full_like(input, value)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def atleast_1d(*tensors):
    out = [t.reshape(1) if t.dim() == 0 else t for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    def up(t):
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.reshape(1, -1, 1)
        if t.dim() == 2:
            return t.unsqueeze(-1)
        return t
    out = [up(t) for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def _flat(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


def hstack(tensors):
    ts = atleast_1d(*tensors)
    ts = [ts] if isinstance(ts, Tensor) else ts
    return _C.cat(ts, 0 if ts[0].dim() == 1 else 1)


def vstack(tensors):
    ts = atleast_2d(*tensors)
    return _C.cat([ts] if isinstance(ts, Tensor) else ts, 0)


row_stack = vstack


def dstack(tensors):
    ts = atleast_3d(*tensors)
    return _C.cat([ts] if isinstance(ts, Tensor) else ts, 2)


def column_stack(tensors):
    return _C.cat([t.reshape(-1, 1) if t.dim() <= 1 else t for t in tensors], 1)


def block_diag(*tensors):
    mats = [t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t for t in tensors]
    dtype = functools.reduce(_C.promote_types, [m.dtype for m in mats]) if mats else _C.get_default_dtype()
    cols = builtins.sum(m.shape[1] for m in mats)
    rows, c = [], 0
    for m in mats:
        left = _C.zeros((m.shape[0], c), dtype=dtype, device=m.device)
        right = _C.zeros((m.shape[0], cols - c - m.shape[1]), dtype=dtype, device=m.device)
        rows.append(_C.cat([left, m.to(dtype), right], 1))
        c += m.shape[1]
    return _C.cat(rows, 0) if rows else _C.zeros((0, 0), dtype=dtype)


def meshgrid(*tensors, indexing="ij"):
    ts = _flat(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        out.append(t.reshape(view).expand(shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _C.stack([g.reshape(-1) for g in grids], 1)


def _into(out, result):
    # PyTorch's out=: the result written into `out` (reshaped when its shape differs), `out` returned
    if out is None:
        return result
    if tuple(out.shape) != tuple(result.shape):
        out.data = _C.empty(list(result.shape), dtype=out.dtype, device=out.device)
    return out.copy_(result)


def tensordot(a, b, dims=2, out=None):
    if out is not None:
        return _into(out, tensordot(a, b, dims))
    if isinstance(dims, builtins.int):
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist() if dims.dim() else builtins.int(dims.item()))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    da = [d % a.dim() for d in da]
    db = [d % b.dim() for d in db]
    fa = [i for i in range(a.dim()) if i not in da]
    fb = [i for i in range(b.dim()) if i not in db]
    k = builtins.int(np.prod([a.shape[d] for d in da])) if da else 1
    am = a.permute(fa + da).reshape(-1, k)
    bm = b.permute(db + fb).reshape(k, -1)
    return am.mm(bm).reshape([a.shape[i] for i in fa] + [b.shape[i] for i in fb])


def cdist(x1, x2, p=2.0, compute_mode=None):
    if _autocast.active():  # float32 under autocast, as in PyTorch
        x1, x2 = _autocast.cast_args("fp32", x1, x2)
    if x1.dtype in (_C.float16, _C.bfloat16):
        raise NotImplementedError(f"\"cdist\" not implemented for '{'Half' if x1.dtype == _C.float16 else 'BFloat16'}'")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 0:
        return (d != 0).to(x1.dtype).sum(-1)
    if p == math.inf:
        return d.abs().amax(-1)
    if p == 2:
        return (d * d).sum(-1).sqrt()
    return (d.abs() ** p).sum(-1) ** (1.0 / p)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    out = _C.pow(base, _C.linspace(start, end, steps, dtype=_C.float64, device=device))
    out = out.to(dtype or _C.get_default_dtype())
    return out.requires_grad_(requires_grad) if requires_grad else out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _C.full((), s, dtype=dtype or _C.get_default_dtype(), device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data.to(dtype=dtype or data.dtype, device=device or data.device)
    if isinstance(data, np.ndarray) and (device is None or _C.device(device).type == "cpu") and \
            (dtype is None or str(dtype).replace("norch.", "") == data.dtype.name):
        try:
            return _C.from_numpy(data)
        except (TypeError, RuntimeError, ValueError):
            pass
    return _C.tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        out = out.clone()
    return out.requires_grad_(True) if requires_grad else out


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    span = 1 + builtins.sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    base = _C.empty(builtins.max(span, 0), dtype=dtype or _C.get_default_dtype(), device=device)
    out = base.as_strided(tuple(size), tuple(stride))
    return out.requires_grad_(True) if requires_grad else out


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


Tensor.new_empty_strided = _new_empty_strided


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    e_ = elements if isinstance(elements, Tensor) else _C.tensor(elements)
    t = test_elements if isinstance(test_elements, Tensor) else _C.tensor(test_elements)
    out = (e_.unsqueeze(-1) == t.reshape(-1)).any(-1) if t.numel() else _C.zeros_like(e_, dtype=_C.bool)
    return ~out if invert else out


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    if side is not None:
        right = side == "right"
    seq = sorted_sequence if sorter is None else sorted_sequence.gather(-1, sorter)
    x = input if isinstance(input, Tensor) else _C.tensor(input, dtype=seq.dtype, device=seq.device)
    if seq.dim() == 1:
        cmp = seq <= x.unsqueeze(-1) if right else seq < x.unsqueeze(-1)
    else:
        cmp = seq.unsqueeze(-2) <= x.unsqueeze(-1) if right else seq.unsqueeze(-2) < x.unsqueeze(-1)
    out = cmp.sum(-1)
    return out.int() if out_int32 else out


def bucketize(input, boundaries, *, out_int32=False, right=False):
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unravel_index(indices, shape):
    idx = indices if isinstance(indices, Tensor) else _C.tensor(indices)
    shape = [shape] if isinstance(shape, builtins.int) else list(shape)
    out = []
    for s in reversed(shape):
        out.append(idx.remainder(s))
        idx = idx.floor_divide(s)
    return tuple(reversed(out))


def trapezoid(y, x=None, *, dx=None, dim=-1):
    n = y.shape[dim]
    avg = (y.narrow(dim, 1, n - 1) + y.narrow(dim, 0, n - 1)) / 2
    if x is None:
        return avg.sum(dim) * (1.0 if dx is None else dx)
    dxs = x.diff(dim=-1 if x.dim() == 1 else dim)
    if x.dim() == 1:
        shape = [1] * y.dim()
        shape[dim] = -1
        dxs = dxs.reshape(shape)
    return (avg * dxs).sum(dim)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    n = y.shape[dim]
    avg = (y.narrow(dim, 1, n - 1) + y.narrow(dim, 0, n - 1)) / 2
    if x is not None:
        dxs = x.diff(dim=-1 if x.dim() == 1 else dim)
        if x.dim() == 1:
            shape = [1] * y.dim()
            shape[dim] = -1
            dxs = dxs.reshape(shape)
        avg = avg * dxs
    elif dx is not None:
        avg = avg * dx
    return avg.cumsum(dim)


def var_mean(input, dim=None, *, correction=1, keepdim=False):
    kw = {"correction": correction, "keepdim": keepdim}
    return (input.var(dim, **kw), input.mean(dim, keepdim=keepdim)) if dim is not None else \
        (input.var(correction=correction), input.mean())


def std_mean(input, dim=None, *, correction=1, keepdim=False):
    v, m = var_mean(input, dim, correction=correction, keepdim=keepdim)
    return v.sqrt(), m


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated in PyTorch in favour of arange: includes ``end``."""
    import warnings
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    n = builtins.int(math.floor((end - start) / step)) + 1
    out = _C.arange(n, dtype=_C.float64, device=device) * step + start
    out = out.to(dtype or _C.get_default_dtype())
    return out.requires_grad_(True) if requires_grad else out


def chain_matmul(*matrices, out=None):
    return _into(out, functools.reduce(lambda a, b: a.mm(b), matrices))


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The matrix or vector norm of input (Tensor.norm), with PyTorch's out= argument."""
    return _into(out, _C.norm(input, p, dim, keepdim, dtype))


def vander(x, N=None, increasing=False):
    n = x.shape[0] if N is None else N
    powers = _C.arange(n, device=x.device)
    if not increasing:
        powers = powers.flip(0)
    base = x if x.dtype.is_floating_point else x.long()
    return _C.pow(base.unsqueeze(1), powers.unsqueeze(0).to(base.dtype))


has_openmp = True   # the CPU kernels are threaded with OpenMP
has_mkl = False
has_lapack = False
has_spectral = False


def rsub(input, other, *, alpha=1):
    return other - input * alpha if alpha != 1 else other - input


def can_cast(from_, to):
    order = {_C.bool: 0, _C.uint8: 1, _C.int32: 1, _C.int64: 1, _C.float32: 2, _C.float64: 2, _C.float16: 2,
             _C.bfloat16: 2}
    return order[from_] <= order[to]


def is_storage(obj):
    return False


def is_nonzero(input):
    return input.is_nonzero()


class finfo:
    """Machine limits of a floating-point dtype (PyTorch's torch.finfo)."""

    def __init__(self, type=None):
        type = type or _C.get_default_dtype()
        if not type.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'torch.finfo'")
        self.dtype = str(type).replace("norch.", "")
        if type == _C.bfloat16:
            # NumPy has no bfloat16: 8 significand bits, float32's exponent range.
            self.bits, self.eps, self.max = 16, 2.0 ** -7, (2.0 - 2.0 ** -7) * 2.0 ** 127
            self.min, self.tiny = -self.max, 2.0 ** -126
        else:
            i = np.finfo({_C.float32: np.float32, _C.float16: np.float16}.get(type, np.float64))
            self.bits, self.eps, self.max, self.min = (i.bits, builtins.float(i.eps), builtins.float(i.max),
                                                       builtins.float(i.min))
            self.tiny = builtins.float(i.tiny)
        # PyTorch's: 10 ** -(the decimal digits eps resolves).
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))
        self.smallest_normal = self.tiny

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype (PyTorch's torch.iinfo)."""

    def __init__(self, type):
        if type == _C.bool:
            raise TypeError(f"{type} is not supported by torch.iinfo")
        if type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            f"'{type}'")
        name = str(type).replace("norch.", "")
        i = np.iinfo(name)
        self.dtype, self.bits, self.min, self.max = name, i.bits, builtins.int(i.min), builtins.int(i.max)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# --- global flags ---------------------------------------------------------------------------

_flags = {"deterministic": False, "deterministic_warn_only": False,
          "warn_always": False, "interop_threads": 1}


def set_float32_matmul_precision(precision):
    """PyTorch's setting: "highest" computes float32 matmuls in full FP32; "high" and "medium"
    let CUDA matmuls use TF32 tensor cores (norch.backends.cuda.matmul.allow_tf32 is the same
    switch). CPU matmuls stay FP32. An unknown name warns and changes nothing, as in PyTorch."""
    if not _C._set_float32_matmul_precision(builtins.str(precision)):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)


def get_float32_matmul_precision():
    return _C._get_float32_matmul_precision()


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded and reported (are_deterministic_algorithms_enabled); it selects no kernel in norch."""
    _flags["deterministic"] = builtins.bool(mode)
    _flags["deterministic_warn_only"] = builtins.bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _flags["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _flags["deterministic_warn_only"]


def set_deterministic_debug_mode(debug_mode):
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes[debug_mode] if isinstance(debug_mode, str) else builtins.int(debug_mode)
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def get_deterministic_debug_mode():
    if not _flags["deterministic"]:
        return 0
    return 1 if _flags["deterministic_warn_only"] else 2


def set_warn_always(b):
    _flags["warn_always"] = builtins.bool(b)


def is_warn_always_enabled():
    return _flags["warn_always"]


def get_num_interop_threads():
    return _flags["interop_threads"]


def set_num_interop_threads(n):
    _flags["interop_threads"] = builtins.int(n)


def set_flush_denormal(mode):
    return False  # as PyTorch does where the CPU lacks the control: reports it was not set


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            name=None, disable=False, recompile_limit=None, isolate_recompiles=False, shapes_spec=None):
    """Returns ``model`` unchanged: norch has no compiler, so there is nothing to optimize.

    Accepts PyTorch's arguments so ``model = torch.compile(model)``, ``@torch.compile`` and
    ``@torch.compile(mode="max-autotune")`` run unchanged after changing the import; the
    model then runs eagerly, exactly as it would without the call.
    """
    if model is None:
        return lambda fn: fn
    return model


def install(namespace):
    for name in METHOD_FUNCTIONS:
        if name not in namespace and hasattr(Tensor, name):
            namespace[name] = _method_function(name)
