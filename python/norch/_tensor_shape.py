"""Tensor methods (see _tensor_compat.py): diagonals, splits, windows, gathers and scatters, predicates,
random fills."""
import builtins
import math

import numpy as np

from . import _C
from ._C import Tensor
from ._tensor_compat import (  # noqa: F401
    _method, _methods, _named, _values_indices, _aminmax_t, _histogram_t, broadcast_shapes, _float_dtype, _as_tensor,
)


# --- shapes and views -------------------------------------------------------------------

def _diag_positions(a, b, offset, device):
    """Row and column of each element of the offset diagonal of an (a, b) matrix."""
    n = builtins.max(builtins.min(a, b - offset) if offset >= 0 else builtins.min(a + offset, b), 0)
    ar = _C.arange(n, device=device)
    return ar + builtins.max(-offset, 0), ar + builtins.max(offset, 0)


def _embed(src, a, b, offset):
    """An (..., a, b) matrix holding src (..., n) on its offset diagonal and zeros elsewhere, as matmuls
    with one-hot matrices so it is differentiable in src."""
    rows, cols = _diag_positions(a, b, offset, src.device)
    r = (_C.arange(a, device=src.device).unsqueeze(0) == rows.unsqueeze(1)).to(src.dtype)  # (n, a)
    c = (_C.arange(b, device=src.device).unsqueeze(0) == cols.unsqueeze(1)).to(src.dtype)  # (n, b)
    return (r.t() * src.unsqueeze(-2)).matmul(c)


def _movedims(x, src, dst):
    """movedim with sequences of dims (the core's movedim takes one)."""
    nd = x.dim()
    src, dst = [d % nd for d in src], [d % nd for d in dst]
    order = [None] * nd
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(i for i in range(nd) if i not in src)
    return x.permute([o if o is not None else next(rest) for o in order])


def _last_two(self, dim1, dim2):
    nd = self.dim()
    d1, d2 = dim1 % nd, dim2 % nd
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _movedims(self, (d1, d2), (-2, -1))


@_method()
def diagonal(self, offset=0, dim1=0, dim2=1):
    # A copy gathered with index_select (differentiable), where PyTorch returns a view.
    x = _last_two(self, dim1, dim2)
    a, b = x.shape[-2], x.shape[-1]
    rows, cols = _diag_positions(a, b, offset, self.device)
    return x.reshape(tuple(x.shape[:-2]) + (a * b,)).index_select(-1, rows * b + cols)


@_method()
def diag_embed(self, offset=0, dim1=-2, dim2=-1):
    m = self.shape[-1] + builtins.abs(offset)
    out = _embed(self, m, m, offset)
    nd = out.dim()
    d1, d2 = dim1 % nd, dim2 % nd
    if (d1, d2) != (nd - 2, nd - 1):
        out = _movedims(out, (nd - 2, nd - 1), (d1, d2))
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
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        return self.reshape(1)
    d = dimension % self.dim()
    n = self.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    windows = (n - size) // step + 1
    # Gathers the windows with index_select (differentiable), where PyTorch returns a strided view.
    idx = (_C.arange(windows, device=self.device).unsqueeze(1) * step + _C.arange(size, device=self.device)).reshape(-1)
    out = self.index_select(d, idx)
    shape = list(self.shape)
    shape[d:d + 1] = [windows, size]
    return out.reshape(shape).movedim(d + 1, -1)


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
    reps = repeats.reshape(-1).tolist() if isinstance(repeats, Tensor) else repeats
    if isinstance(reps, builtins.int):
        reps = [reps]
    if len(reps) == 1 and n != 1:  # one count broadcasts to every slice
        reps = reps * n
    if len(reps) != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{len(reps)} and input.size({d}) = {n}")
    if any(r < 0 for r in reps):
        raise RuntimeError("repeats can not be negative")
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


def _into_copy(self, view_of, src):
    # The copy's view receives src; autograd sees clone + an in-place copy into a view.
    out = self.clone()
    view_of(out).copy_(src)
    return out


@_method()
def select_scatter(self, src, dim, index):
    return _into_copy(self, lambda t: t.select(dim, index), src)


@_method()
def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
    return _into_copy(self, lambda t: t[(slice(None),) * (dim % t.dim()) + (slice(start, end, step),)], src)


@_method()
def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
    x = _last_two(self, dim1, dim2)
    a, b = x.shape[-2], x.shape[-1]
    rows, cols = _diag_positions(a, b, offset, self.device)
    mask = (_C.arange(b, device=self.device).unsqueeze(0) - _C.arange(a, device=self.device).unsqueeze(1)) == offset
    out = _C.where(mask, _embed(src.to(self.dtype), a, b, offset), x)
    nd = self.dim()
    return _movedims(out, (-2, -1), (dim1 % nd, dim2 % nd))


@_method()
def as_strided_scatter(self, src, size, stride, storage_offset=None):
    return _into_copy(self, lambda t: t.as_strided(size, stride, storage_offset), src)


@_method()
def renorm(self, p, dim, maxnorm):
    others = [i for i in range(self.dim()) if i != dim % self.dim()]
    norms = (self.abs() ** p).sum(others, keepdim=True) ** (1.0 / p)
    scale = _C.where(norms > maxnorm, maxnorm / (norms + 1e-7), _C.ones_like(norms))
    return self * scale


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


@_method()
def map2_(self, x, y, callable):
    arr = self.detach().numpy()
    a = np.broadcast_to(x.detach().cpu().numpy(), arr.shape)
    b = np.broadcast_to(y.detach().cpu().numpy(), arr.shape)
    vals = np.vectorize(callable, otypes=[arr.dtype])(arr, a, b) if arr.size else arr
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
