"""Tensor methods (see _tensor_compat.py): reductions, order statistics, quantiles, histograms."""
import builtins
import math

from . import _C
from ._C import Tensor
from ._tensor_compat import (  # noqa: F401
    _method, _methods, _named, _values_indices, _aminmax_t, _histogram_t, broadcast_shapes, _float_dtype, _as_tensor,
)


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
def nanmedian(self, dim=None, keepdim=False):
    if not self.dtype.is_floating_point:
        return self.median(dim, keepdim)
    x = self.reshape(-1) if dim is None else self.movedim(dim, -1)
    v, i = x.sort(-1)  # NaN sorts last
    valid = (~x.isnan()).sum(-1, keepdim=True)
    k = ((valid - 1) // 2).clamp(min=0)
    vals, idx = v.gather(-1, k), i.gather(-1, k)
    if dim is None:
        return vals.reshape(())
    if keepdim:
        return _values_indices["nanmedian"](vals.movedim(-1, dim), idx.movedim(-1, dim))
    return _values_indices["nanmedian"](vals.squeeze(-1), idx.squeeze(-1))


@_method()
def msort(self):
    return self.sort(0)[0]


@_method()
def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    if self.dtype in (_C.float16, _C.bfloat16):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    return _quantile(self, q, dim, keepdim, interpolation, ignore_nan=False)


@_method()
def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    if self.dtype in (_C.float16, _C.bfloat16):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
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


@_method()
def mode(self, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest among ties) and an index where it occurs."""
    if self.dim() == 0:
        return _values_indices["mode"](self.clone(), _C.zeros((), dtype=_C.int64, device=self.device))
    x = self.movedim(dim, -1)
    v, i = x.sort(-1)
    n = x.shape[-1]
    pos = _C.arange(n, device=self.device) + _C.zeros_like(v, dtype=_C.int64)
    starts = _C.cat([_C.ones_like(v.narrow(-1, 0, 1), dtype=_C.bool), v.narrow(-1, 1, n - 1) != v.narrow(-1, 0, n - 1)],
                    -1)
    last_start = _C.where(starts, pos, _C.zeros_like(pos)).cummax(-1)[0]
    run = pos - last_start + 1
    best = run.argmax(-1, keepdim=True)
    vals, idx = v.gather(-1, best).squeeze(-1), i.gather(-1, best).squeeze(-1)
    if keepdim:
        vals, idx = vals.unsqueeze(dim % self.dim()), idx.unsqueeze(dim % self.dim())
    return _values_indices["mode"](vals, idx)
