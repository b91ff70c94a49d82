"""ONNX handlers for shape ops, indexing, joins and splits, casts and factories.

Sizes given to reshape, expand, narrow, slicing or a factory may be SymInts (see
_symint.py); ``g.shape``/``g.sym`` turn them into Shape-derived tensors, so these ops
follow a dynamic axis instead of freezing its export-time value.
"""
import numpy as np

from .. import _C
from ._graph import Unsupported
from ._symint import SymInt
from ._tracer import handler

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def _keys(*names):
    return [k for n in names for k in (n, "Tensor." + n)]


def _size_args(args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    return list(args)


def _dyn(s):
    return isinstance(s, SymInt) and not s.static


# ---- reshapes ------------------------------------------------------------------------
@handler("reshape")
def _reshape(g, input, shape):
    return g.op("Reshape", g.v(input), g.shape(list(shape)))


@handler("Tensor.reshape", "Tensor.view")
def _view(g, self, *shape):
    if len(shape) == 1 and isinstance(shape[0], _C.dtype):
        raise Unsupported("view(dtype) reinterprets memory")
    return g.op("Reshape", g.v(self), g.shape(_size_args(shape)))


@handler("Tensor.view_as", "Tensor.reshape_as")
def _view_as(g, self, other):
    return g.op("Reshape", g.v(self), _shape_of(g, other))


def _shape_of(g, t):
    return g.shape(list(g.sizes(t)))


@handler(*_keys("flatten"), "ravel", "Tensor.ravel")
def _flatten(g, input, start_dim=0, end_dim=-1):
    n = input.dim()
    if n == 0:
        return g.op("Reshape", g.v(input), g.i64([1]))
    s, e = start_dim % n, end_dim % n
    sizes = list(g.sizes(input))
    return g.op("Reshape", g.v(input), g.shape(sizes[:s] + [-1] + sizes[e + 1:]))


@handler(*_keys("unflatten"))
def _unflatten(g, input, dim, sizes):
    d = dim % input.dim()
    full = list(g.sizes(input))
    return g.op("Reshape", g.v(input), g.shape(full[:d] + list(sizes) + full[d + 1:]))


@handler("Tensor.expand")
def _expand(g, self, *sizes):
    sizes = _size_args(sizes)
    cur = list(g.sizes(self))
    off = len(sizes) - len(cur)
    target = [cur[i - off] if (i >= off and int(s) == -1) else s for i, s in enumerate(sizes)]
    return g.op("Expand", g.v(self), g.shape(target))


@handler(*_keys("broadcast_to"))
def _broadcast_to(g, input, shape):
    return _expand(g, input, list(shape))


@handler("Tensor.expand_as")
def _expand_as(g, self, other):
    return g.op("Expand", g.v(self), _shape_of(g, other))


@handler(*_keys("permute"))
def _permute(g, input, *dims):
    dims = _size_args(dims)
    return g.op("Transpose", g.v(input), perm=[int(d) % input.dim() for d in dims])


def _swap_perm(n, a, b):
    perm = list(range(n))
    a, b = a % n, b % n
    perm[a], perm[b] = perm[b], perm[a]
    return perm


@handler(*_keys("transpose", "swapaxes", "swapdims"))
def _transpose(g, input, dim0, dim1):
    if input.dim() < 2:
        return g.op("Identity", g.v(input))
    return g.op("Transpose", g.v(input), perm=_swap_perm(input.dim(), dim0, dim1))


@handler(*_keys("t"))
def _t(g, input):
    return _transpose(g, input, 0, 1)


@handler("Tensor.T")
def _T(g, self):
    return g.op("Transpose", g.v(self), perm=list(range(self.dim()))[::-1])


@handler("Tensor.mT")
def _mT(g, self):
    return _transpose(g, self, -2, -1)


@handler(*_keys("movedim", "moveaxis"))
def _movedim(g, input, source, destination):
    n = input.dim()
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src, dst = [s % n for s in src], [d % n for d in dst]
    rest = [i for i in range(n) if i not in src]
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = [p if p is not None else next(it) for p in perm]
    return g.op("Transpose", g.v(input), perm=perm)


@handler(*_keys("squeeze"))
def _squeeze(g, input, dim=None):
    n = input.dim()
    shape = list(input.shape)
    dims = range(n) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    axes = sorted({d % n for d in dims if n and shape[d % n] == 1})
    if not axes:
        return g.op("Identity", g.v(input))
    return g.op("Squeeze", g.v(input), g.i64(axes))


@handler(*_keys("unsqueeze"))
def _unsqueeze(g, input, dim):
    return g.op("Unsqueeze", g.v(input), g.i64([dim % (input.dim() + 1)]))


# ---- slicing and indexing ------------------------------------------------------------
@handler(*_keys("narrow"))
def _narrow(g, input, dim, start, length):
    d = dim % input.dim()
    if isinstance(start, _C.Tensor):
        raise Unsupported("a tensor start")
    if not _dyn(start) and int(start) < 0:
        start = int(start) + input.shape[d]
    return g.op("Slice", g.v(input), g.sym(start), g.sym(start + length), g.i64([d]))


@handler(*_keys("select"))
def _select(g, input, dim, index):
    return g.op("Gather", g.v(input), g.index(index), axis=dim % input.dim())


@handler("Tensor.__getitem__")
def _getitem(g, self, index):
    # One node per index item, left to right; ``pos`` is the output axis the next item reads.
    if not isinstance(index, tuple):
        index = (index,)
    for i in index:
        if isinstance(i, _C.Tensor) and str(i.dtype) == "norch.bool":
            raise Unsupported("a boolean mask index gives a data-dependent shape")
    n_used = sum(1 for i in index if i is not None and i is not Ellipsis and not isinstance(i, bool))
    expanded = []
    for i in index:
        expanded += [slice(None)] * (self.dim() - n_used) if i is Ellipsis else [i]
    x, pos, advanced = g.v(self), 0, 0
    for i in expanded:
        if i is None:
            x = g.op("Unsqueeze", x, g.i64([pos]))
            pos += 1
        elif isinstance(i, bool):
            raise Unsupported("a bool index")
        elif isinstance(i, int):
            x = g.op("Gather", x, g.index(i), axis=pos)
        elif isinstance(i, slice):
            step = 1 if i.step is None else i.step
            if i.start is not None or i.stop is not None or step != 1:
                start = 0 if i.start is None else i.start
                stop = _INT64_MAX if i.stop is None else i.stop
                x = g.op("Slice", x, g.sym(start), g.sym(stop), g.i64([pos]), g.i64([step]))
            pos += 1
        elif isinstance(i, (list, _C.Tensor)):
            advanced += 1
            if advanced > 1:
                raise Unsupported("more than one tensor index")
            if isinstance(i, _C.Tensor):
                idx, nd = g.v(i, _C.int64), i.dim()
            else:
                arr = np.asarray(i, dtype=np.int64)
                idx, nd = g.const(arr), arr.ndim
            x = g.op("Gather", x, idx, axis=pos)
            pos += nd
        else:
            raise Unsupported(f"an index of type {type(i).__name__}")
    return x


@handler(*_keys("gather"))
def _gather(g, input, dim, index, *, sparse_grad=False):
    return g.op("GatherElements", g.v(input), g.v(index, _C.int64), axis=dim % max(input.dim(), 1))


@handler(*_keys("index_select"))
def _index_select(g, input, dim, index):
    return g.op("Gather", g.v(input), g.v(index, _C.int64), axis=dim % max(input.dim(), 1))


@handler(*_keys("flip"))
def _flip(g, input, *dims):
    dims = [d % input.dim() for d in _size_args(dims)]
    k = len(dims)
    return g.op("Slice", g.v(input), g.i64([-1] * k), g.i64([_INT64_MIN] * k), g.i64(dims), g.i64([-1] * k))


def _trilu(upper):
    def h(g, input, diagonal=0):
        return g.op("Trilu", g.v(input), g.const(int(diagonal), "int64"), upper=int(upper))
    return h


handler(*_keys("triu"), "Tensor.triu_")(_trilu(True))
handler(*_keys("tril"), "Tensor.tril_")(_trilu(False))


# ---- joins and splits ----------------------------------------------------------------
@handler("cat", "concat", "concatenate")
def _cat(g, tensors, dim=0):
    dt = g.out.dtype
    parts = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0 and g.out.dim() != 1)]
    return g.op("Concat", *[g.v(t, dt) for t in parts], axis=dim % g.out.dim())


@handler("stack")
def _stack(g, tensors, dim=0):
    dt = g.out.dtype
    d = dim % g.out.dim()
    return g.op("Concat", *[g.op("Unsqueeze", g.v(t, dt), g.i64([d])) for t in tensors], axis=d)


def _split_sizes(g, input, outs, dim):
    d = dim % input.dim()
    if _dyn(g.sizes(input)[d]):
        raise Unsupported("splitting along a dynamic axis")
    return d, [o.shape[d] for o in outs]


@handler(*_keys("split", "unsafe_split", "chunk", "unsafe_chunk"))
def _split(g, tensor, split_size_or_sections, dim=0):
    d, sizes = _split_sizes(g, tensor, list(g.out), dim)
    if len(sizes) == 1:
        return [g.op("Identity", g.v(tensor))]
    return g.op("Split", g.v(tensor), g.i64(sizes), axis=d, outputs=len(sizes))


@handler(*_keys("unbind"))
def _unbind(g, input, dim=0):
    d = dim % input.dim()
    if _dyn(g.sizes(input)[d]):
        raise Unsupported("unbinding along a dynamic axis")
    sizes = [1] * input.shape[d]
    parts = g.op("Split", g.v(input), g.i64(sizes), axis=d, outputs=len(sizes)) if len(sizes) > 1 \
        else [g.v(input)]
    return [g.op("Squeeze", p, g.i64([d])) for p in parts]


def _tile_name(g, x, ndim, reps):
    reps = list(reps)
    if len(reps) > ndim:
        x = g.op("Reshape", x, g.shape([1] * (len(reps) - ndim) + [0] * ndim))
    elif len(reps) < ndim:
        reps = [1] * (ndim - len(reps)) + reps
    return g.op("Tile", x, g.shape(reps))


@handler("Tensor.repeat")
def _repeat(g, self, *sizes):
    return _tile_name(g, g.v(self), self.dim(), _size_args(sizes))


@handler(*_keys("tile"))
def _tile(g, input, dims):
    return _tile_name(g, g.v(input), input.dim(), list(dims))


# ---- copies and casts ----------------------------------------------------------------
@handler("Tensor.contiguous", "Tensor.clone", "Tensor.detach", "Tensor.detach_", "Tensor.cpu", "Tensor.data",
         "Tensor.positive", "clone", "detach")
def _identity(g, self, *args, **kwargs):
    return g.op("Identity", g.v(self))


@handler("Tensor.float", "Tensor.double", "Tensor.long", "Tensor.int", "Tensor.bool", "Tensor.byte", "Tensor.to",
         "Tensor.type_as", "Tensor.half", "Tensor.bfloat16")
def _cast(g, self, *args, **kwargs):
    if str(self.dtype) == str(g.out.dtype):
        return g.op("Identity", g.v(self))
    return g.cast(g.v(self), g.out.dtype)


@handler("Tensor.copy_")
def _copy(g, self, src, non_blocking=False):
    return g.op("Expand", g.v(src, self.dtype), _shape_of(g, self))


# ---- factories with traced sizes -----------------------------------------------------
def _fill(g, sizes, value):
    arr = np.asarray([value], dtype=np.dtype(_np(g.out.dtype)))
    from onnx import numpy_helper
    return g.op("ConstantOfShape", g.shape(sizes), value=numpy_helper.from_array(arr))


def _np(dtype):
    from ._graph import np_dtype
    return np_dtype(dtype)


@handler("zeros", "empty")
def _zeros(g, *size, **kwargs):
    return _fill(g, _size_args(size), 0)


@handler("ones")
def _ones(g, *size, **kwargs):
    return _fill(g, _size_args(size), 1)


@handler("full")
def _full(g, size, fill_value, **kwargs):
    return _fill(g, list(size), fill_value)


@handler("Tensor.new_zeros", "Tensor.new_empty")
def _new_zeros(g, self, *size, **kwargs):
    return _fill(g, _size_args(size), 0)


@handler("Tensor.new_ones")
def _new_ones(g, self, *size, **kwargs):
    return _fill(g, _size_args(size), 1)


@handler("Tensor.new_full")
def _new_full(g, self, size, fill_value, **kwargs):
    return _fill(g, list(size), fill_value)


@handler("zeros_like", "empty_like")
def _zeros_like(g, input, **kwargs):
    return _fill(g, list(g.sizes(input)), 0)


@handler("ones_like")
def _ones_like(g, input, **kwargs):
    return _fill(g, list(g.sizes(input)), 1)


@handler("full_like")
def _full_like(g, input, fill_value, **kwargs):
    return _fill(g, list(g.sizes(input)), fill_value)


@handler("arange")
def _arange(g, start, end=None, step=1, **kwargs):
    if end is None:
        start, end = 0, start
    dt = g.out.dtype

    def scalar(v):
        if isinstance(v, SymInt) and not v.static:
            return g.cast(g.op("Squeeze", g.sym(v), g.i64([0])), dt)
        return g.scalar(v, dt)
    return g.op("Range", scalar(start), scalar(end), scalar(step))


# ---- sorting, scattering, rolling, filling -------------------------------------------
@handler(*_keys("topk"))
def _topk(g, input, k, dim=-1, largest=True, sorted=True):
    return g.op("TopK", g.v(input), g.sym(k), axis=dim % input.dim(), largest=int(bool(largest)), sorted=1,
                outputs=2)


def _sorted(g, input, dim, descending):
    # ONNX's TopK puts the lower index first among equal values: a stable sort either way.
    d = dim % input.dim()
    return g.op("TopK", g.v(input), g.sym(g.sizes(input)[d]), axis=d, largest=int(bool(descending)), sorted=1,
                outputs=2)


@handler(*_keys("sort"))
def _sort(g, input, dim=-1, descending=False, *, stable=False):
    return _sorted(g, input, dim, descending)


@handler(*_keys("argsort"))
def _argsort(g, input, dim=-1, descending=False, *, stable=False):
    return _sorted(g, input, dim, descending)[1]


def _scatter_name(g, input, dim, index, src, value, reduction):
    dt = g.out.dtype
    idx = g.v(index, _C.int64)
    updates = g.v(src, dt) if isinstance(src, _C.Tensor) else \
        g.op("Expand", g.scalar(value if src is None else src, dt), g.op("Shape", idx))
    return g.op("ScatterElements", g.v(input, dt), idx, updates, axis=dim % input.dim(), reduction=reduction)


@handler(*_keys("scatter"), "Tensor.scatter_")
def _scatter(g, input, dim, index, src=None, *, value=None, reduce=None):
    if reduce is not None:
        raise Unsupported(f"reduce={reduce!r}")
    return _scatter_name(g, input, dim, index, src, value, None)


@handler(*_keys("scatter_add"), "Tensor.scatter_add_")
def _scatter_add(g, input, dim, index, src):
    return _scatter_name(g, input, dim, index, src, None, "add")


@handler(*_keys("roll"))
def _roll(g, input, shifts, dims=None):
    x = g.v(input)
    if dims is None:
        if any(_dyn(s) for s in g.sizes(input)):
            raise Unsupported("rolling a flattened tensor with a dynamic axis")
        flat = g.op("Reshape", x, g.i64([-1]))
        rolled = _roll_axes(g, flat, [input.numel()], [shifts if isinstance(shifts, int) else shifts[0]], [0])
        return g.op("Reshape", rolled, _shape_of(g, input))
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [dims] if isinstance(dims, int) else list(dims)
    sizes = g.sizes(input)
    if any(_dyn(sizes[d]) for d in dims):
        raise Unsupported("rolling along a dynamic axis")
    return _roll_axes(g, x, [input.shape[d] for d in dims], shifts, [d % input.dim() for d in dims])


def _roll_axes(g, x, sizes, shifts, dims):
    for n, s, d in zip(sizes, shifts, dims):
        s = int(s) % n if n else 0
        if s:
            tail = g.op("Slice", x, g.i64([n - s]), g.i64([n]), g.i64([d]))
            head = g.op("Slice", x, g.i64([0]), g.i64([n - s]), g.i64([d]))
            x = g.op("Concat", tail, head, axis=d)
    return x


@handler("Tensor.fill_")
def _fill_(g, self, value):
    if isinstance(value, _C.Tensor):
        return g.op("Expand", g.v(value, self.dtype), _shape_of(g, self))
    return _fill(g, list(g.sizes(self)), value)


@handler("Tensor.zero_")
def _zero_(g, self):
    return _fill(g, list(g.sizes(self)), 0)


@handler("eye")
def _eye(g, n, m=None, **kwargs):
    # recorded only when a size follows a dynamic axis
    base = _fill(g, [n, n if m is None else m], 0)
    return g.op("EyeLike", base)


@handler("linspace")
def _linspace(g, start, end, steps, **kwargs):
    dt = g.out.dtype
    f = _C.float64
    n = g.cast(g.op("Squeeze", g.sym(steps), g.i64([0])), f)
    i = g.op("Range", g.scalar(0.0, f), n, g.scalar(1.0, f))
    step = g.op("Div", g.scalar(float(end) - float(start), f), g.op("Max", g.op("Sub", n, g.scalar(1.0, f)),
                                                                     g.scalar(1.0, f)))
    return g.cast(g.op("Add", g.scalar(float(start), f), g.op("Mul", i, step)), dt)


@handler("sum_to")
def _sum_to(g, input, size):
    size = list(size)
    n, k = input.dim(), len(size)
    lead = list(range(n - k))
    # the dims that were broadcast from 1: known from the traced shapes, fixed by the target size
    axes = lead + [n - k + i for i, s in enumerate(size) if int(s) == 1 and input.shape[n - k + i] != 1]
    if not axes:
        return g.op("Identity", g.v(input))
    y = g.op("ReduceSum", g.v(input), g.i64(axes), keepdims=1)
    return g.op("Reshape", y, g.shape(size)) if lead else y
