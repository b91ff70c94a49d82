"""The op table of tools/fuzz.py: each entry makes one random expression over a
library `L` (norch or torch), from random shapes (0-d, empty, huge), dtypes,
strided views and argument values."""
import math

DTYPES = ["float32", "float64", "int64", "int32", "bool"]
FLOATS = ["float32", "float64"]
HUGE = [2**31, 2**32, 2**62, 2**63 - 1, -(2**63), -(2**31)]
SPECIAL = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 1e30, -1e30, 1e-30, 3e38, 1e300]


class Gen:
    """Random pieces of expressions. Every choice goes through self.r, so a seed
    reproduces a run."""

    def __init__(self, rng):
        self.r = rng

    def pick(self, xs):
        return xs[self.r.randrange(len(xs))]

    def chance(self, p):
        return self.r.random() < p

    def shape(self, max_rank=4):
        rank = self.pick([0, 1, 1, 2, 2, 2, 3, 3, 4][: max_rank * 2 + 1])
        return [self.pick([0, 1, 1, 2, 3, 3, 4, 5]) for _ in range(rank)]

    def dim(self, rank):
        if self.chance(0.05):
            return self.pick(HUGE + [rank, -rank - 1])
        if rank == 0:
            return self.pick([0, -1, 0, 1])
        return self.r.randrange(-rank, rank)

    def int_arg(self):
        if self.chance(0.1):
            return self.pick(HUGE)
        return self.r.randrange(-4, 6)

    def scalar(self, dtype="float64"):
        if dtype == "bool":
            return self.pick(["True", "False"])
        if dtype.startswith("int"):
            return str(self.int_arg())
        v = self.pick(SPECIAL) if self.chance(0.3) else round(self.r.uniform(-5, 5), 3)
        return _float_src(v)

    def tensor(self, shape=None, dtype=None, layout=True):
        """An expression for a tensor (values, dtype and, at random, a strided view)."""
        shape = self.shape() if shape is None else shape
        dtype = dtype or self.pick(DTYPES)
        n = 1
        for s in shape:
            n *= s
        if n <= 12 and self.chance(0.7):
            vals = [self.pick(SPECIAL) if self.chance(0.25) else round(self.r.uniform(-4, 4), 2) for _ in range(n)]
            if dtype == "bool":
                lit = _nest([bool(v) and not math.isnan(v) and v > 0 for v in vals], shape)
            elif dtype.startswith("int"):
                lit = _nest([int(v) if math.isfinite(v) and abs(v) < 2**31 else self.int_arg() for v in vals], shape)
            else:
                lit = _nest(vals, shape)
            src = f"L.tensor({_lit_src(lit)}, dtype=L.{dtype})"
        else:
            k = self.pick([1, 3, 100])
            base = f"L.arange({n}, dtype=L.float64).sin().mul({k}).reshape({tuple(shape)})"
            src = f"{base}.gt(0)" if dtype == "bool" else f"{base}.to(L.{dtype})"
        if layout and shape and self.chance(0.35):
            kind = self.pick(["t", "step", "expand"])
            if kind == "t" and len(shape) >= 2:
                src += ".transpose(0, -1)"
            elif kind == "step":
                src = f"L.cat([{src}, {src}], 0)[::2]"
            elif kind == "expand":
                src += f".unsqueeze(0).expand(2, {', '.join(map(str, shape))})"
        return src


def _float_src(v):
    if math.isnan(v):
        return "float('nan')"
    if math.isinf(v):
        return "float('inf')" if v > 0 else "-float('inf')"
    return repr(v)


def _lit_src(x):
    if isinstance(x, list):
        return "[" + ", ".join(_lit_src(v) for v in x) + "]"
    if isinstance(x, float):
        return _float_src(x)
    return repr(x)


def _nest(flat, shape):
    if not shape:
        return flat[0]
    step = len(flat) // shape[0] if shape[0] else 0
    if shape[0] == 0:
        return []
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


# --- the op table: name -> function(gen) -> expression over L ---------------

def _unary(name):
    return lambda g: f"L.{name}({g.tensor()})"


def _binary(name):
    def make(g):
        a = g.tensor()
        b = g.scalar() if g.chance(0.2) else g.tensor(g.shape(2) if g.chance(0.5) else None)
        return f"L.{name}({a}, {b})"
    return make


def _reduction(name, with_dim=True):
    def make(g):
        s = g.shape()
        t = g.tensor(s, dtype=g.pick(FLOATS) if name in ("mean", "std", "var", "logsumexp") else None)
        if not with_dim or g.chance(0.3):
            return f"L.{name}({t})" if name != "logsumexp" else f"L.logsumexp({t}, {g.dim(len(s))})"
        return f"L.{name}({t}, {g.dim(len(s))}, keepdim={g.pick(['True', 'False'])})"
    return make


def _creation(g):
    kind = g.pick(["zeros", "ones", "full", "arange", "eye", "linspace", "empty_like_shape", "tensor_nested"])
    size = [g.int_arg() if g.chance(0.3) else g.r.randrange(0, 4) for _ in range(g.r.randrange(0, 3))]
    if kind in ("zeros", "ones"):
        return f"L.{kind}({', '.join(map(str, size))}).sum()"
    if kind == "full":
        return f"L.full({tuple(size)}, {g.scalar()}).sum()"
    if kind == "arange":
        return f"L.arange({g.int_arg()}, {g.int_arg()}, {g.pick([1, 2, -1, 3, 2**62])}).sum()"
    if kind == "eye":
        return f"L.eye({g.int_arg()}).sum()"
    if kind == "linspace":
        return f"L.linspace({g.scalar()}, {g.scalar()}, {g.r.randrange(-1, 6)})"
    if kind == "empty_like_shape":
        return f"L.zeros({', '.join(map(str, size))}).shape"
    depth = g.pick([1, 2, 3, 40])
    return f"L.tensor({'[' * depth}1.0{']' * depth}).shape"


def _reshape(g):
    s = g.shape()
    n = 1
    for v in s:
        n *= v
    new = g.pick([[n], [-1], [n, 1], [-1, 1], [1, -1, 1], [g.int_arg(), -1], [2, -1], [-1, -1]])
    return f"{g.tensor(s)}.{g.pick(['reshape', 'view'])}({', '.join(map(str, new))})"


def _shape_op(g):
    s = g.shape()
    t = g.tensor(s)
    r = len(s)
    kind = g.pick(["permute", "transpose", "flatten", "unflatten", "squeeze", "unsqueeze", "expand", "narrow",
                   "split", "chunk", "flip", "roll", "repeat", "movedim", "tril", "contiguous"])
    if kind == "permute":
        dims = list(range(r))
        g.r.shuffle(dims)
        if g.chance(0.2) and dims:
            dims[0] = g.dim(r)
        return f"{t}.permute({', '.join(map(str, dims))})"
    if kind == "transpose":
        return f"{t}.transpose({g.dim(r)}, {g.dim(r)})"
    if kind == "flatten":
        return f"{t}.flatten({g.dim(r)}, {g.dim(r)})"
    if kind == "unflatten":
        return f"{t}.unflatten({g.dim(r)}, ({g.int_arg()}, -1))"
    if kind == "squeeze":
        return f"{t}.squeeze({g.dim(r)})"
    if kind == "unsqueeze":
        return f"{t}.unsqueeze({g.dim(r + 1)})"
    if kind == "expand":
        return f"{t}.expand({', '.join(str(g.pick([v, -1, 2, g.int_arg()])) for v in s)})"
    if kind == "narrow":
        return f"{t}.narrow({g.dim(r)}, {g.int_arg()}, {g.int_arg()})"
    if kind == "split":
        return f"L.split({t}, {g.int_arg()}, {g.dim(r)})"
    if kind == "chunk":
        return f"L.chunk({t}, {g.int_arg()}, {g.dim(r)})"
    if kind == "flip":
        return f"L.flip({t}, ({g.dim(r)},))"
    if kind == "roll":
        return f"L.roll({t}, {g.int_arg()}, {g.dim(r)})"
    if kind == "repeat":
        return f"{t}.repeat({', '.join(str(g.r.randrange(0, 3)) for _ in range(max(r, 1)))})"
    if kind == "movedim":
        return f"L.movedim({t}, {g.dim(r)}, {g.dim(r)})"
    if kind == "tril":
        return f"L.tril({t}, {g.int_arg()})"
    return f"{t}.contiguous()"


def _join(g):
    s = g.shape(3)
    ts = ", ".join(g.tensor(s, dtype="float32") for _ in range(g.r.randrange(1, 4)))
    return f"L.{g.pick(['cat', 'stack'])}([{ts}], {g.dim(len(s) + 1)})"


def _getitem(g):
    s = g.shape()
    t = g.tensor(s)
    parts = []
    for _ in range(g.r.randrange(0, len(s) + 2)):
        kind = g.pick(["int", "slice", "none", "ellipsis", "list", "bool"])
        if kind == "int":
            parts.append(str(g.int_arg()))
        elif kind == "slice":
            parts.append(f"{g.int_arg()}:{g.int_arg()}:{g.pick([1, 2, 3, 2**62])}")
        elif kind == "none":
            parts.append("None")
        elif kind == "ellipsis":
            parts.append("...")
        elif kind == "list":
            parts.append(f"[{g.int_arg()}, {g.int_arg()}]")
        else:
            parts.append("True")
    return f"{t}[{', '.join(parts) if parts else '()'}]"


def _index_op(g):
    s = g.shape()
    r = len(s)
    t = g.tensor(s, dtype=g.pick(FLOATS))
    kind = g.pick(["index_select", "gather", "masked_fill", "where", "take", "scatter_add"])
    idx = f"L.tensor([{g.int_arg()}, {g.int_arg()}])"
    if kind == "index_select":
        return f"L.index_select({t}, {g.dim(r)}, {idx})"
    if kind == "gather":
        return f"L.gather({t}, {g.dim(r)}, {g.tensor(s, dtype='int64', layout=False)}.abs())"
    if kind == "masked_fill":
        return f"{t}.masked_fill({g.tensor(s, dtype='bool')}, {g.scalar()})"
    if kind == "where":
        return f"L.where({g.tensor(s, dtype='bool')}, {t}, {g.tensor(g.shape(2))})"
    if kind == "take":
        return f"L.take({t}, {idx})"
    return f"L.zeros({tuple(s)}).scatter_add({g.dim(r)}, {g.tensor(s, dtype='int64', layout=False)}.abs(), {t})"


def _matmul(g):
    a, b, c = (g.pick([0, 1, 2, 3]) for _ in range(3))
    dt = g.pick(FLOATS)
    lhs = g.tensor(g.pick([[a, b], [b], [2, a, b]]), dtype=dt)
    rhs = g.tensor(g.pick([[b, c], [b], [2, b, c], [c, b]]), dtype=dt)
    return f"L.{g.pick(['matmul', 'mm', 'dot', 'bmm'])}({lhs}, {rhs})"


def _sort(g):
    s = g.shape()
    t = g.tensor(s, dtype=g.pick(["float32", "float64", "int64"]))
    kind = g.pick(["sort", "argsort", "topk", "kthvalue", "cumsum", "cumprod", "argmax", "max"])
    d = g.dim(len(s))
    if kind == "topk":
        return f"L.topk({t}, {g.int_arg()}, {d})"
    if kind == "kthvalue":
        return f"L.kthvalue({t}, {g.int_arg()}, {d})"
    if kind in ("argmax", "max") and g.chance(0.3):
        return f"L.{kind}({t})"
    return f"L.{kind}({t}, {d})"


def _clamp(g):
    t = g.tensor(dtype=g.pick(FLOATS))
    return f"L.clamp({t}, {g.scalar()}, {g.scalar()})"


def _cast(g):
    """Casts, and floats (NaN, inf, huge) written into integer tensors by every path."""
    kind = g.pick(["to", "to", "int", "full", "fill_", "masked_fill", "setitem", "tensor", "arange"])
    dt = g.pick(DTYPES)
    v = g.scalar()
    if kind == "to":
        return f"{g.tensor()}.to(L.{dt})"
    if kind == "int":
        return f"int({g.tensor(shape=[], dtype=g.pick(FLOATS))})"
    if kind == "full":
        return f"L.full((2,), {v}, dtype=L.{dt})"
    if kind == "fill_":
        return f"L.zeros(3, dtype=L.{dt}).fill_({v})"
    if kind == "masked_fill":
        return f"L.zeros(3, dtype=L.{dt}).masked_fill(L.tensor([True, False, True]), {v})"
    if kind == "setitem":
        return f"(lambda t: (t.__setitem__(1, {v}), t)[1])(L.zeros(3, dtype=L.{dt}))"
    if kind == "tensor":
        return f"L.tensor([{v}, {g.scalar()}], dtype=L.{dt})"
    return f"L.arange({v}, {g.scalar()}, {g.pick(['1', '0.5', '-1.5', '2.5'])}, dtype=L.{dt})"


def _as_strided(g):
    t = g.tensor([g.r.randrange(0, 8)], dtype="float32", layout=False)
    rank = g.r.randrange(0, 3)
    size = tuple(g.pick([0, 1, 2, 3, g.int_arg()]) for _ in range(rank))
    stride = tuple(g.pick([0, 1, 2, g.int_arg()]) for _ in range(rank))
    return f"{t}.as_strided({size}, {stride}, {g.pick([0, 1, 3, g.int_arg()])}).clone()"


def _nn(g):
    kind = g.pick(["softmax", "log_softmax", "relu", "gelu", "pad", "layer_norm", "cross_entropy", "max_pool1d",
                   "conv1d", "normalize", "dropout0", "embedding", "one_hot"])
    s = g.shape()
    r = len(s)
    t = g.tensor(s, dtype=g.pick(FLOATS))
    F = "L.nn.functional"
    if kind in ("softmax", "log_softmax"):
        return f"{F}.{kind}({t}, {g.dim(r)})"
    if kind in ("relu", "gelu"):
        return f"{F}.{kind}({t})"
    if kind == "pad":
        pads = tuple(g.r.randrange(-2, 3) for _ in range(g.pick([0, 2, 2, 4])))
        return f"{F}.pad({t}, {pads}, mode={g.pick(['constant', 'constant', 'reflect', 'replicate', 'circular'])!r})"
    if kind == "layer_norm":
        return f"{F}.layer_norm({t}, {tuple(s[-1:])})"
    if kind == "cross_entropy":
        n, c = g.r.randrange(0, 4), g.r.randrange(1, 4)
        return f"{F}.cross_entropy({g.tensor([n, c], dtype='float32')}, L.tensor({[g.int_arg() % 4 for _ in range(n)]}))"
    if kind == "max_pool1d":
        return f"{F}.max_pool1d({g.tensor([1, 2, g.r.randrange(0, 6)], dtype='float32')}, {g.int_arg()})"
    if kind == "conv1d":
        return (f"{F}.conv1d({g.tensor([1, 2, g.r.randrange(0, 6)], dtype='float32')}, "
                f"{g.tensor([3, 2, g.r.randrange(0, 4)], dtype='float32')}, stride={g.pick([1, 2, g.int_arg()])}, "
                f"padding={g.pick([0, 1, g.int_arg()])})")
    if kind == "normalize":
        return f"{F}.normalize({t}, dim={g.dim(r)})"
    if kind == "dropout0":
        return f"{F}.dropout({t}, 0.0)"
    if kind == "embedding":
        return f"{F}.embedding(L.tensor([{g.int_arg()}, 0]), {g.tensor([4, 2], dtype='float32')})"
    return f"{F}.one_hot(L.tensor([{g.int_arg()}, 1]), {g.int_arg()})"


def _backward(g):
    # A small graph differentiated in float64: gradients compared with torch's.
    s = g.shape(3)
    op = g.pick(["x.sum()", "x.prod()", "x.std()", "x.var()", "x.norm()", "(x * x).mean()", "x.exp().sum()",
                 "L.nn.functional.log_softmax(x, -1).sum()", "x.amax()", "x.cumsum(-1).sum()", "x.abs().sum()",
                 "x.sqrt().sum()", "(x / x).sum()", "L.atan2(x, x).sum()"])
    if s == [] and "-1" in op:
        s = [2]
    return (f"(lambda x: ({op}).backward() or x.grad)({g.tensor(s, dtype='float64', layout=False)}"
            f".requires_grad_())")


def _inplace(g):
    s = g.shape()
    t = g.tensor(s, dtype=g.pick(FLOATS))
    other = g.tensor(s if g.chance(0.7) else g.shape(2), dtype=g.pick(FLOATS), layout=False)
    return f"(lambda a: a.{g.pick(['add_', 'mul_', 'copy_', 'sub_'])}({other}) and a)({t}.clone())"


def _numpy(g):
    return f"L.from_numpy(__import__('numpy').zeros({tuple(g.shape())}, dtype={g.pick(['float32', 'int64', 'bool'])!r}))"


OPS = {
    "neg": _unary("neg"), "abs": _unary("abs"), "exp": _unary("exp"), "log": _unary("log"),
    "sqrt": _unary("sqrt"), "sigmoid": _unary("sigmoid"), "tanh": _unary("tanh"), "relu": _unary("relu"),
    "floor": _unary("floor"), "sign": _unary("sign"), "logical_not": _unary("logical_not"),
    "bitwise_not": _unary("bitwise_not"),
    "add": _binary("add"), "sub": _binary("sub"), "mul": _binary("mul"), "div": _binary("div"),
    "floor_divide": _binary("floor_divide"), "remainder": _binary("remainder"), "pow": _binary("pow"),
    "maximum": _binary("maximum"), "atan2": _binary("atan2"), "eq": _binary("eq"), "lt": _binary("lt"),
    "bitwise_and": _binary("bitwise_and"),
    "sum": _reduction("sum"), "mean": _reduction("mean"), "prod": _reduction("prod"), "amax": _reduction("amax"),
    "std": _reduction("std"), "var": _reduction("var"), "logsumexp": _reduction("logsumexp"),
    "any": _reduction("any"), "argmin": _reduction("argmin"),
    "creation": _creation, "reshape": _reshape, "shape": _shape_op, "join": _join, "getitem": _getitem,
    "index": _index_op, "matmul": _matmul, "sort": _sort, "clamp": _clamp, "cast": _cast,
    "as_strided": _as_strided, "nn": _nn, "backward": _backward, "inplace": _inplace, "numpy": _numpy,
}
