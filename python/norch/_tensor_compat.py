"""Tensor methods PyTorch has that are compositions of norch's core ops.

Each is written with differentiable norch ops, so autograd flows through them with no
extra backward code; the handful that are not differentiable in PyTorch either (counts,
comparisons, random fills, index bookkeeping) say so. Aliases point at the same function
object, as PyTorch's do. In-place variants write the out-of-place result with copy_,
which keeps version counters and the in-place checks of the core.
"""
import builtins
import collections
import math

import numpy as np

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


# --- elementwise -------------------------------------------------------------------

@_method()
def acosh(self):
    return (self + (self * self - 1).sqrt()).log()


@_method()
def asinh(self):
    a = self.abs()
    return self.sign() * (a + (a * a + 1).sqrt()).log()


@_method()
def atanh(self):
    return 0.5 * (self.log1p() - (-self).log1p())


@_method()
def deg2rad(self):
    return self * (math.pi / 180.0)


@_method()
def rad2deg(self):
    return self * (180.0 / math.pi)


@_method()
def signbit(self):
    if self.dtype.is_floating_point:
        return (self < 0) | ((self == 0) & ((1.0 / self) < 0))
    return self < 0


@_method()
def copysign(self, other):
    other = _as_tensor(other, self)
    mag = self.abs() if self.dtype.is_floating_point else self.abs().to(_C.get_default_dtype())
    sb = other.signbit() if other.dtype.is_floating_point else other < 0
    return _C.where(sb, -mag, mag)


@_method()
def hypot(self, other):
    return (self * self + other * other).sqrt()


@_method()
def logaddexp(self, other):
    m = _C.maximum(self, other)
    out = m + (-(self - other).abs()).exp().log1p()
    return _C.where(self == other, self + math.log(2.0), out)  # equal infinities stay finite-safe


@_method()
def logaddexp2(self, other):
    m = _C.maximum(self, other)
    out = m + (-(self - other).abs() * math.log(2.0)).exp().log1p() / math.log(2.0)
    return _C.where(self == other, self + 1.0, out)


@_method()
def xlogy(self, other):
    other = _as_tensor(other, self)
    out = self * other.log()
    return _C.where((self == 0) & ~other.isnan(), _C.zeros_like(out), out)


@_method()
def logit(self, eps=None):
    x = self if eps is None else self.clamp(eps, 1.0 - eps)
    return (x / (1 - x)).log()


@_method()
def float_power(self, exponent):
    e = exponent.double() if isinstance(exponent, Tensor) else builtins.float(exponent)
    return self.double().pow(e)


@_method()
def ldexp(self, other):
    return self * _C.pow(2.0, _as_tensor(other, self).to(_float_dtype(self)))


@_method()
def fmax(self, other):
    return _C.where(self.isnan(), other, _C.where(other.isnan(), self, _C.maximum(self, other)))


@_method()
def fmin(self, other):
    return _C.where(self.isnan(), other, _C.where(other.isnan(), self, _C.minimum(self, other)))


@_method()
def heaviside(self, values):
    pos = (self > 0).to(self.dtype)
    return _C.where(self == 0, values.to(self.dtype) if isinstance(values, Tensor) else values, pos)


@_method()
def hardshrink(self, lambd=0.5):
    return _C.where(self.abs() > lambd, self, _C.zeros_like(self))


@_method()
def sgn(self):
    return self.sign()


@_method()
def angle(self):
    out = _C.where(self < 0, _C.full_like(self, math.pi, dtype=_float_dtype(self)),
                   _C.zeros_like(self, dtype=_float_dtype(self)))
    return _C.where(self.isnan(), self.to(out.dtype), out) if self.dtype.is_floating_point else out


def _gcd(a, b):
    a, b = a.abs(), b.abs()
    a, b = a + _C.zeros_like(b), b + _C.zeros_like(a)  # broadcast both
    while bool((b != 0).any().item()):
        nz = b != 0
        r = _C.where(nz, a.remainder(_C.where(nz, b, _C.ones_like(b))), a)
        a, b = _C.where(nz, b, a), _C.where(nz, r, b)
    return a


@_method()
def gcd(self, other):
    if self.dtype.is_floating_point or other.dtype.is_floating_point:
        raise RuntimeError(f"gcd is not implemented for dtype {self.dtype} and {other.dtype}: it takes integers")
    return _gcd(self, other)


@_method()
def lcm(self, other):
    g = _gcd(self, other)
    return _C.where(g == 0, _C.zeros_like(g), (self // _C.where(g == 0, _C.ones_like(g), g) * other).abs())


@_method()
def isneginf(self):
    return self.isinf() & (self < 0)


@_method()
def isposinf(self):
    return self.isinf() & (self > 0)


@_method()
def isreal(self):
    return _C.ones_like(self, dtype=_C.bool)


@_method()
def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    other = _as_tensor(other, self)
    if self.dtype != other.dtype:
        raise RuntimeError(f"isclose: {self.dtype} did not match {other.dtype}")
    if not self.dtype.is_floating_point:
        a, b = self.double(), other.double()
    else:
        a, b = self, other
    close = (a == b) | ((a - b).abs() <= atol + rtol * b.abs())
    close = close & ~(a.isinf() ^ b.isinf()) | (a == b)
    if equal_nan:
        close = close | (a.isnan() & b.isnan())
    return close


@_method()
def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(self.isclose(other, rtol, atol, equal_nan).all().item())


@_method()
def equal(self, other):
    return tuple(self.shape) == tuple(other.shape) and builtins.bool((self == other).all().item())


@_method()
def clamp_min(self, min):
    return self.clamp(min=min)


@_method()
def clamp_max(self, max):
    return self.clamp(max=max)


# --- fused multiply-adds ---------------------------------------------------------------

def _scaled(x, beta, base, alpha):
    out = x if alpha == 1 else x * alpha
    if beta == 0:  # PyTorch ignores the input entirely (NaN included) when beta is 0
        return out + _C.zeros_like(base)
    return out + (base if beta == 1 else base * beta)


@_method()
def addcmul(self, tensor1, tensor2, *, value=1):
    return self + tensor1 * tensor2 * value if value != 1 else self + tensor1 * tensor2


@_method()
def addcdiv(self, tensor1, tensor2, *, value=1):
    return self + tensor1 / tensor2 * value if value != 1 else self + tensor1 / tensor2


@_method()
def addmv(self, mat, vec, *, beta=1, alpha=1):
    return _scaled(mat.mv(vec), beta, self, alpha)


@_method()
def addr(self, vec1, vec2, *, beta=1, alpha=1):
    return _scaled(vec1.outer(vec2), beta, self, alpha)


@_method()
def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    return _scaled(batch1.bmm(batch2), beta, self, alpha)


@_method()
def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    return _scaled(batch1.bmm(batch2).sum(0), beta, self, alpha)


@_method()
def inner(self, other):
    if self.dim() == 0 or other.dim() == 0:
        return self * other
    a = self.reshape(-1, self.shape[-1])
    b = other.reshape(-1, other.shape[-1])
    return a.mm(b.t()).reshape(tuple(self.shape[:-1]) + tuple(other.shape[:-1]))


@_method()
def vdot(self, other):
    return self.dot(other)


@_method()
def ger(self, vec2):
    return self.outer(vec2)


@_method()
def kron(self, other):
    n = builtins.max(self.dim(), other.dim())
    a = self.reshape((1,) * (n - self.dim()) + tuple(self.shape))
    b = other.reshape((1,) * (n - other.dim()) + tuple(other.shape))
    a_shape, b_shape = [], []
    for i in range(n):
        a_shape += [a.shape[i], 1]
        b_shape += [1, b.shape[i]]
    out = a.reshape(a_shape) * b.reshape(b_shape)
    return out.reshape([a.shape[i] * b.shape[i] for i in range(n)])


@_method()
def matrix_power(self, n):
    if n < 0:
        raise RuntimeError("matrix_power: negative powers need a matrix inverse, which norch does not have yet")
    if self.dim() < 2 or self.shape[-1] != self.shape[-2]:
        raise RuntimeError(f"matrix_power: expected a batch of square matrices, got shape {tuple(self.shape)}")
    out = _C.zeros_like(self) + _C.eye(self.shape[-1], dtype=self.dtype, device=self.device)
    base = self
    while n:
        if n & 1:
            out = out.matmul(base)
        n >>= 1
        if n:
            base = base.matmul(base)
    return out


@_method()
def dist(self, other, p=2):
    return (self - other).norm(p)


@_method()
def cross(self, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(broadcast_shapes(self.shape, other.shape)) if s == 3)
    if self.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {self.shape[dim]} and "
                           f"{other.shape[dim]}")
    a = [self.narrow(dim, i, 1) for i in range(3)]
    b = [other.narrow(dim, i, 1) for i in range(3)]
    return _C.cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], dim)


# --- reductions -------------------------------------------------------------------------

@_method()
def count_nonzero(self, dim=None):
    return (self != 0).sum() if dim is None else (self != 0).sum(dim)


@_method()
def nansum(self, dim=None, keepdim=False, *, dtype=None):
    x = _C.where(self.isnan(), _C.zeros_like(self), self) if self.dtype.is_floating_point else self
    out = x.sum() if dim is None else x.sum(dim, keepdim)
    return out if dtype is None else out.to(dtype)


@_method()
def nanmean(self, dim=None, keepdim=False, *, dtype=None):
    valid = ~self.isnan()
    n = valid.sum() if dim is None else valid.sum(dim, keepdim)
    return self.nansum(dim, keepdim, dtype=dtype) / n


@_method()
def aminmax(self, *, dim=None, keepdim=False):
    if dim is None:
        return _aminmax_t(self.amin(), self.amax())
    return _aminmax_t(self.amin(dim, keepdim), self.amax(dim, keepdim))


def _sorted_pick(self, pos_fn, dim, keepdim, name):
    if dim is None:
        flat = self.reshape(-1)
        v, i = flat.sort()
        return v[pos_fn(flat.numel())]
    v, i = self.sort(dim)
    k = pos_fn(self.shape[dim])
    vals, idx = v.select(dim, k), i.select(dim, k)
    if keepdim:
        vals, idx = vals.unsqueeze(dim), idx.unsqueeze(dim)
    return _values_indices[name](vals, idx)


@_method()
def kthvalue(self, k, dim=-1, keepdim=False):
    n = self.shape[dim] if self.dim() else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {dim} (k={k}, size {n})")
    return _sorted_pick(self if self.dim() else self.reshape(1), lambda n: k - 1, dim, keepdim, "kthvalue")


@_method()
def median(self, dim=None, keepdim=False):
    if dim is None:
        if self.numel() == 0:
            return _C.full((), math.nan, dtype=self.dtype)
        if self.dtype.is_floating_point and builtins.bool(self.isnan().any().item()):
            return _C.full((), math.nan, dtype=self.dtype, device=self.device)
    return _sorted_pick(self, lambda n: (n - 1) // 2, dim, keepdim, "median")


@_method()
def msort(self):
    return self.sort(0)[0]


@_method()
def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(self, q, dim, keepdim, interpolation, ignore_nan=False)


@_method()
def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(self, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(self, q, dim, keepdim, interpolation, ignore_nan):
    name = "nanquantile" if ignore_nan else "quantile"
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    scalar_q = not isinstance(q, Tensor)
    qt = _C.tensor([builtins.float(q)] if scalar_q else q.reshape(-1).tolist(), dtype=self.dtype, device=self.device)
    if bool(((qt < 0) | (qt > 1)).any().item()):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    x = self.reshape(-1) if dim is None else self.movedim(dim, -1)
    v, _ = x.sort(-1)  # NaN sorts last
    n = x.shape[-1]
    nan = x.isnan()
    valid = (~nan).sum(-1, keepdim=True).to(self.dtype) if ignore_nan else _C.full(
        tuple(x.shape[:-1]) + (1,), n, dtype=self.dtype, device=self.device)
    pos = qt * (valid - 1).clamp(min=0)  # (..., nq)
    lo, hi = pos.floor(), pos.ceil()
    if interpolation == "lower":
        pos = lo
    elif interpolation == "higher":
        pos = hi
    elif interpolation == "nearest":
        pos = pos.round()
    elif interpolation not in ("linear", "midpoint"):
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                         f"Got {interpolation}")
    lo_i = (lo if interpolation in ("linear", "midpoint") else pos).long()
    hi_i = hi.long() if interpolation in ("linear", "midpoint") else lo_i
    vlo, vhi = v.gather(-1, lo_i), v.gather(-1, hi_i)
    w = (pos - lo) if interpolation == "linear" else 0.5 * (hi != lo).to(self.dtype)
    out = vlo + (vhi - vlo) * w if interpolation in ("linear", "midpoint") else vlo
    bad = (valid == 0) if ignore_nan else nan.any(-1, keepdim=True)
    out = _C.where(bad, _C.full_like(out, math.nan), out)  # (..., nq)
    out = out.movedim(-1, 0)
    if keepdim:
        shape = [1] * self.dim() if dim is None else list(self.shape)
        if dim is not None:
            shape[dim] = 1
        out = out.reshape([out.shape[0]] + shape)
    return out[0] if scalar_q else out


@_method()
def logcumsumexp(self, dim):
    m = self.amax(dim, keepdim=True).detach()
    m = _C.where(m.isinf(), _C.zeros_like(m), m)
    return (self - m).exp().cumsum(dim).log() + m


@_method()
def cov(self, *, correction=1, fweights=None, aweights=None):
    x = self if self.dim() == 2 else self.reshape(1, -1)
    x = x if x.dtype.is_floating_point else x.to(_C.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        mean = x.mean(1, keepdim=True)
        wsum = _C.tensor(builtins.float(n), dtype=x.dtype, device=x.device)
        xc = x - mean
        c = xc.mm(xc.t())
        norm = wsum - correction
    else:
        wsum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / wsum
        xc = x - mean
        c = (xc * w).mm(xc.t())
        if aweights is None or correction == 0:
            norm = wsum - correction
        else:
            norm = wsum - correction * (w * aweights.to(x.dtype)).sum() / wsum
    c = c / norm.clamp(min=0)
    return c.reshape(()) if self.dim() < 2 else c


@_method()
def corrcoef(self):
    c = self.cov()
    if c.dim() == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)


@_method()
def bincount(self, weights=None, minlength=0):
    if self.dim() != 1 or self.dtype.is_floating_point:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {self.dim()}-d {self.dtype}")
    if self.numel() and builtins.bool((self < 0).any().item()):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    size = builtins.max(builtins.int(self.max().item()) + 1 if self.numel() else 0, minlength)
    dtype = _C.int64 if weights is None else (weights.dtype if weights.dtype.is_floating_point else _C.float64)
    src = _C.ones(self.shape, dtype=dtype, device=self.device) if weights is None else weights.to(dtype)
    return _C.zeros(size, dtype=dtype, device=self.device).index_add(0, self.long(), src)


@_method()
def histc(self, bins=100, min=0, max=0):
    lo, hi = builtins.float(min), builtins.float(max)
    if lo == hi and self.numel():
        lo, hi = self.min().item(), self.max().item()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    x = self.reshape(-1).detach()
    inside = (x >= lo) & (x <= hi)
    idx = ((x - lo) * (bins / (hi - lo))).floor().long().clamp(0, bins - 1)
    src = inside.to(self.dtype)
    return _C.zeros(bins, dtype=self.dtype, device=self.device).index_add(0, idx, src)


@_method()
def histogram(self, bins=100, *, range=None, weight=None, density=False):
    if isinstance(bins, Tensor):
        edges = bins.to(self.dtype)
    else:
        lo, hi = range if range is not None else ((self.min().item(), self.max().item()) if self.numel() else (0., 0.))
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = _C.linspace(lo, hi, bins + 1, dtype=self.dtype, device=self.device)
    x = self.reshape(-1).detach()
    nb = edges.numel() - 1
    idx = (x.unsqueeze(1) >= edges[1:].unsqueeze(0)).sum(1).clamp(0, nb - 1)
    inside = (x >= edges[0]) & (x <= edges[-1])
    w = inside.to(self.dtype) if weight is None else weight.reshape(-1).to(self.dtype) * inside.to(self.dtype)
    hist = _C.zeros(nb, dtype=self.dtype, device=self.device).index_add(0, idx, w)
    if density:
        hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    return _histogram_t(hist, edges)


# --- shapes and views -------------------------------------------------------------------

@_method()
def diagonal(self, offset=0, dim1=0, dim2=1):
    nd = self.dim()
    dim1, dim2 = dim1 % nd, dim2 % nd
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    s, st = list(self.shape), list(self.stride())
    if offset >= 0:
        n = builtins.max(builtins.min(s[dim1], s[dim2] - offset), 0)
        start = offset * st[dim2]
    else:
        n = builtins.max(builtins.min(s[dim1] + offset, s[dim2]), 0)
        start = -offset * st[dim1]
    keep = [i for i in range(nd) if i not in (dim1, dim2)]
    return self.as_strided([s[i] for i in keep] + [n], [st[i] for i in keep] + [st[dim1] + st[dim2]],
                           self.storage_offset() + (start if n else 0))


@_method()
def diag_embed(self, offset=0, dim1=-2, dim2=-1):
    n = self.shape[-1]
    m = n + builtins.abs(offset)
    ar = _C.arange(n, device=self.device)
    r = (_C.arange(m, device=self.device).unsqueeze(0) == (ar + builtins.max(-offset, 0)).unsqueeze(1)).to(self.dtype)
    c = (_C.arange(m, device=self.device).unsqueeze(0) == (ar + builtins.max(offset, 0)).unsqueeze(1)).to(self.dtype)
    out = (r.t() * self.unsqueeze(-2)).matmul(c)  # (..., m, m)
    nd = out.dim()
    d1, d2 = dim1 % nd, dim2 % nd
    if (d1, d2) != (nd - 2, nd - 1):
        out = out.movedim((nd - 2, nd - 1), (d1, d2))
    return out


@_method()
def diag(self, diagonal=0):
    if self.dim() == 1:
        return self.diag_embed(diagonal)
    if self.dim() == 2:
        return self.diagonal(diagonal).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.dim()}D")


@_method()
def diagflat(self, offset=0):
    return self.reshape(-1).diag_embed(offset)


@_method()
def trace(self):
    if self.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.dim()}")
    return self.diagonal().sum()


@_method()
def fill_diagonal_(self, fill_value, wrap=False):
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    n = builtins.min(self.shape)
    step = builtins.sum(self.stride())
    if self.dim() == 2 and wrap and self.shape[0] > self.shape[1] + 1:
        rows = self.shape[0]
        n = (rows + self.shape[1]) // (self.shape[1] + 1)
        step = (self.shape[1] + 1) * self.stride(1) if self.is_contiguous() else step
        n = len(range(0, rows * self.shape[1], self.shape[1] + 1))
    self.as_strided((n,), (step,), self.storage_offset()).fill_(fill_value)
    return self


@_method()
def diff(self, n=1, dim=-1, prepend=None, append=None):
    x = self
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [x] + ([append] if append is not None else [])
        x = _C.cat(parts, dim)
    for _ in range(n):
        length = x.shape[dim]
        if length == 0:
            break
        a, b = x.narrow(dim, 1, length - 1), x.narrow(dim, 0, length - 1)
        x = (a != b) if x.dtype == _C.bool else a - b
    return x


@_method()
def fliplr(self):
    if self.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return self.flip(1)


@_method()
def flipud(self):
    if self.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return self.flip(0)


@_method()
def rot90(self, k=1, dims=(0, 1)):
    d0, d1 = dims
    k %= 4
    if k == 1:
        return self.flip(d1).transpose(d0, d1)
    if k == 2:
        return self.flip(d0).flip(d1)
    if k == 3:
        return self.flip(d0).transpose(d0, d1)
    return self.clone()


@_method()
def ravel(self):
    return self.reshape(-1)


@_method()
def positive(self):
    return self


@_method()
def tensor_split(self, indices_or_sections, dim=0):
    n = self.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, builtins.int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be greater than 0, but got {k}")
        q, r = divmod(n, k)
        bounds, b = [], 0
        for i in range(k - 1):
            b += q + (1 if i < r else 0)
            bounds.append(b)
    else:
        bounds = list(indices_or_sections)
    out, start = [], 0
    for b in bounds + [n]:
        b = builtins.min(builtins.max(b if b >= 0 else b + n, 0), n)
        e = builtins.max(b, start)
        out.append(self.narrow(dim, start, e - start))
        start = e
    return tuple(out)


def _split_helper(name, dim, min_dim):
    def fn(self, indices_or_sections):
        if self.dim() < min_dim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor "
                               f"with {self.dim()} dimensions!")
        d = 0 if name == "hsplit" and self.dim() == 1 else dim
        if isinstance(indices_or_sections, builtins.int) and self.shape[d] % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the dimension "
                               f"{self.shape[d]} is not divisible by the split_size {indices_or_sections}!")
        return self.tensor_split(indices_or_sections, d)
    fn.__name__ = name
    return fn


_methods["hsplit"] = _split_helper("hsplit", 1, 1)
_methods["vsplit"] = _split_helper("vsplit", 0, 2)
_methods["dsplit"] = _split_helper("dsplit", 2, 3)


@_method()
def split_with_sizes(self, split_sizes, dim=0):
    return self.split(list(split_sizes), dim)


@_method()
def unfold(self, dimension, size, step):
    if self.dim() == 0:
        return self.reshape(1).unfold(0, size, step) if size <= 1 else self.reshape(1).unfold(0, size, step)
    d = dimension % self.dim()
    n = self.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    shape, stride = list(self.shape), list(self.stride())
    shape[d] = (n - size) // step + 1
    st = stride[d]
    stride[d] = st * step
    return self.as_strided(shape + [size], stride + [st], self.storage_offset())


@_method()
def narrow_copy(self, dim, start, length):
    return self.narrow(dim, start, length).clone()


@_method()
def take(self, index):
    return self.reshape(-1).index_select(0, index.reshape(-1)).reshape(index.shape)


@_method()
def take_along_dim(self, indices, dim=None):
    if dim is None:
        return self.reshape(-1).index_select(0, indices.reshape(-1)).reshape(indices.shape)
    shape = list(broadcast_shapes(self.shape, indices.shape))
    s_shape, i_shape = list(shape), list(shape)
    s_shape[dim], i_shape[dim] = self.shape[dim], indices.shape[dim]
    return self.expand(s_shape).gather(dim, indices.expand(i_shape))


@_method()
def sum_to_size(self, *size):
    size = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], builtins.int) else size
    return _C.sum_to(self, size)


@_method()
def repeat_interleave(self, repeats, dim=None, *, output_size=None):
    x = self.reshape(-1) if dim is None else self
    d = 0 if dim is None else dim
    n = x.shape[d]
    reps = repeats.tolist() if isinstance(repeats, Tensor) else repeats
    reps = [reps] * n if isinstance(reps, builtins.int) or (isinstance(reps, list) and len(reps) == 1 and n != 1
                                                           and not isinstance(repeats, list)) else reps
    if isinstance(reps, list) and len(reps) == 1 and n != 1:
        reps = reps * n
    if len(reps) != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{len(reps)} and input.size({d}) = {n}")
    idx = _C.from_numpy(np.repeat(np.arange(n, dtype=np.int64), reps)).to(self.device)
    return x.index_select(d, idx)


@_method()
def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
    x = self.reshape(-1) if dim is None else self.movedim(dim, 0)
    n = x.shape[0]
    if n == 0:
        change = _C.zeros(0, dtype=_C.bool, device=self.device)
    else:
        diff = x.narrow(0, 1, n - 1) != x.narrow(0, 0, n - 1)
        if diff.dim() > 1:
            diff = diff.reshape(n - 1, -1).any(1)
        change = _C.cat([_C.ones(1, dtype=_C.bool, device=self.device), diff])
    starts = change.nonzero().reshape(-1)
    values = x.index_select(0, starts)
    if dim is not None:
        values = values.movedim(0, dim)
    out = [values]
    if return_inverse:
        inv = change.long().cumsum(0) - 1
        out.append(inv.reshape(self.shape) if dim is None else inv)
    if return_counts:
        ends = _C.cat([starts.narrow(0, 1, starts.numel() - 1) if starts.numel() else starts,
                       _C.tensor([n], device=self.device)])
        out.append(ends - starts)
    return out[0] if len(out) == 1 else tuple(out)


@_method()
def masked_scatter(self, mask, source):
    shape = broadcast_shapes(self.shape, mask.shape)
    m = mask.expand(shape).reshape(-1)
    pos = (m.long().cumsum(0) - 1).clamp(min=0)
    if m.numel() and builtins.int(m.sum().item()) > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as ones in mask")
    picked = source.reshape(-1).index_select(0, pos) if source.numel() else _C.zeros_like(pos, dtype=self.dtype)
    return _C.where(m, picked, self.expand(shape).reshape(-1)).reshape(shape)


@_method()
def index_copy(self, dim, index, source):
    return self.index_add(dim, index, source - self.index_select(dim, index))


@_method()
def index_fill(self, dim, index, value):
    sel = self.index_select(dim, index)
    return self.index_add(dim, index, _C.zeros_like(sel) + value - sel)


@_method()
def put(self, index, source, accumulate=False):
    out = self.clone()
    return out.put_(index, source, accumulate)


@_method()
def put_(self, index, source, accumulate=False):
    flat = self.view(-1)
    flat.index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
    return self


def _scatter_view(name, view_fn):
    def fn(self, src, *args):
        out = self.clone()
        view_fn(out, *args).copy_(src)
        return out
    fn.__name__ = name
    return fn


_methods["select_scatter"] = _scatter_view("select_scatter", lambda t, dim, index: t.select(dim, index))
_methods["slice_scatter"] = _scatter_view(
    "slice_scatter", lambda t, dim=0, start=None, end=None, step=1: t[(slice(None),) * (dim % t.dim())
                                                                      + (slice(start, end, step),)])
_methods["diagonal_scatter"] = _scatter_view(
    "diagonal_scatter", lambda t, offset=0, dim1=0, dim2=1: t.diagonal(offset, dim1, dim2))
_methods["as_strided_scatter"] = _scatter_view(
    "as_strided_scatter", lambda t, size, stride, storage_offset=None: t.as_strided(size, stride, storage_offset))


@_method()
def renorm(self, p, dim, maxnorm):
    others = [i for i in range(self.dim()) if i != dim % self.dim()]
    norms = (self.abs() ** p).sum(others, keepdim=True) ** (1.0 / p)
    scale = _C.where(norms > maxnorm, maxnorm / (norms + 1e-7), _C.ones_like(norms))
    return self * scale.detach()


@_method()
def nonzero_static(self, *, size, fill_value=-1):
    nz = self.nonzero()
    k = nz.shape[0]
    if k >= size:
        return nz[:size]
    pad = _C.full((size - k, nz.shape[1]), fill_value, dtype=nz.dtype, device=nz.device)
    return _C.cat([nz, pad])


@_method()
def dim_order(self, *, ambiguity_check=False):
    return tuple(sorted(range(self.dim()), key=lambda i: (-self.stride(i), i)))


@_method()
def prelu(self, weight):
    w = weight
    if w.numel() != 1 and self.dim() >= 2:
        w = w.reshape([1, -1] + [1] * (self.dim() - 2))
    return _C.where(self >= 0, self, w * self)


@_method()
def softmax(self, dim, dtype=None):
    from .nn import functional as F
    return F.softmax(self, dim, dtype=dtype)


@_method()
def log_softmax(self, dim, dtype=None):
    from .nn import functional as F
    return F.log_softmax(self, dim, dtype=dtype)


@_method()
def type_as(self, other):
    return self.to(other.dtype)


@_method()
def get_device(self):
    return -1 if self.device.type == "cpu" else self.device.index or 0


@_method()
def is_same_size(self, other):
    return tuple(self.shape) == tuple(other.shape)


@_method()
def is_signed(self):
    return self.dtype not in (_C.uint8, _C.bool)


@_method()
def is_nonzero(self):
    if self.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous" if self.numel()
                           else "Boolean value of Tensor with no values is ambiguous")
    return builtins.bool(self.item() != 0)


@_method()
def is_inference(self):
    return False


@_method()
def is_complex(self):
    return False


@_method()
def is_conj(self):
    return False


@_method()
def is_neg(self):
    return False


@_method()
def is_pinned(self, device=None):
    return False


@_method()
def is_shared(self):
    return False


@_method()
def is_distributed(self):
    return False


for _n in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "to_dense"):
    _methods[_n] = (lambda self, *a, **k: self)


@_method()
def apply_(self, callable):
    if self.device.type != "cpu":
        raise TypeError("apply_ is only implemented on CPU tensors")
    arr = self.detach().numpy()
    vals = np.vectorize(callable, otypes=[arr.dtype])(arr) if arr.size else arr
    self.copy_(_C.from_numpy(np.ascontiguousarray(vals)))
    return self


@_method()
def map_(self, tensor, callable):
    arr = self.detach().numpy()
    other = np.broadcast_to(tensor.detach().cpu().numpy(), arr.shape)
    vals = np.vectorize(callable, otypes=[arr.dtype])(arr, other) if arr.size else arr
    self.copy_(_C.from_numpy(np.ascontiguousarray(vals)))
    return self


# --- random fills --------------------------------------------------------------------------

@_method()
def log_normal_(self, mean=1, std=2, *, generator=None):
    self.normal_(mean, std, generator=generator) if generator is not None else self.normal_(mean, std)
    return self.exp_()


@_method()
def cauchy_(self, median=0, sigma=1, *, generator=None):
    u = _C.rand(self.shape, dtype=self.dtype, device=self.device)
    return self.copy_(median + sigma * (math.pi * (u - 0.5)).tan())


@_method()
def geometric_(self, p, *, generator=None):
    u = _C.rand(self.shape, dtype=_C.float64, device=self.device)
    return self.copy_(((1 - u).log() / math.log1p(-p)).ceil().clamp(min=1))


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
    "acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "deg2rad", "rad2deg", "copysign", "hypot",
    "xlogy", "logit", "ldexp", "heaviside", "sgn", "gcd", "lcm", "addcmul", "addcdiv", "addmv", "addr",
    "baddbmm", "addbmm", "addmm", "clamp_min", "clamp_max", "cumsum", "cumprod", "tril", "triu", "lerp",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "index_copy", "index_fill", "renorm", "float_power",
    "masked_scatter")}


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


def install():
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
    if not hasattr(Tensor, "real"):
        Tensor.real = property(lambda self: self)


def _raise_h(self):
    raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
