#!/usr/bin/env python3
"""A bounded fuzzer of norch's Python API, with PyTorch as the oracle.

Each case is one Python expression over a library `L` (random op from the
table below, random shapes including 0-d, empty and huge ones, dtypes, strided
views, argument values including negative and out-of-range ones). It runs in a
forked child, first with L = norch, then with L = torch, so that a crash is seen
as the child's signal and a hang as its timeout. Results are compared: an
exception on one side only, or a different exception class, or a different
shape, dtype or value, is a mismatch.

    python tools/fuzz.py --seconds 60 --seed 1
    python tools/fuzz.py --count 500 --op sum --op as_strided --json

It prints the counts (cases, crashes by signal, hangs, mismatches by kind) and,
for each crash and mismatch class (op, kind), the shortest one-line
reproduction. The exit status is 1 when there was a crash or a hang. Children
run single-threaded under a memory limit (--memory-gb), so a runaway
allocation fails with MemoryError instead of taking the machine.
"""
import argparse
import json
import math
import os
import random
import resource
import select
import signal
import sys
import time
import warnings

# Single-threaded before any OpenMP runtime starts: libgomp's thread pool does
# not survive fork, and the children share the machine with everything else.
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(HERE, "..", "python", "norch")) and "norch" not in sys.modules:
    # Run from a checkout: prefer an importable norch on the path (an install,
    # or PYTHONPATH), else the source tree.
    try:
        import norch  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))

import norch  # noqa: E402

try:
    import torch  # noqa: E402
    torch.set_num_threads(1)
except ImportError:  # no oracle: crashes and hangs are still found
    torch = None

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
    return f"{g.tensor()}.to(L.{g.pick(DTYPES)})"


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


# --- running and comparing -------------------------------------------------

def _describe(v, depth=0):
    """A JSON-able summary of a result, to compare across libraries."""
    if depth > 3:
        return ["deep"]
    mod = type(v).__module__ or ""
    if hasattr(v, "tolist") and hasattr(v, "dtype") and hasattr(v, "shape") and mod.split(".")[0] in ("norch", "torch"):
        dt = str(v.dtype).split(".")[-1]
        n = 1
        for s in v.shape:
            n *= s
        vals = v.detach().reshape(-1)[:64].tolist() if n else []
        return ["tensor", list(v.shape), dt, [_num(x) for x in vals]]
    if isinstance(v, (tuple, list)) or type(v).__name__ in ("Size", "torch.return_types"):
        return ["seq", [_describe(x, depth + 1) for x in v]]
    if isinstance(v, (bool, int, float)):
        return ["num", _num(v)]
    return ["obj", type(v).__name__]


def _num(x):
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def _evaluate(lib, expr):
    try:
        v = eval(expr, {"L": lib, "float": float})  # noqa: S307 (expressions are generated here)
        return {"ok": _describe(v)}
    except Exception as e:  # the exception class is part of the comparison
        return {"exc": type(e).__name__, "msg": str(e).splitlines()[0][:200] if str(e) else ""}


def _mapped_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(expr, wfd, memory_bytes):
    try:
        warnings.simplefilter("ignore")
        if memory_bytes:
            # On top of what is mapped already (the imported libraries).
            limit = memory_bytes + _mapped_bytes()
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.write(wfd, (json.dumps(_evaluate(norch, expr)) + "\n").encode())
        if torch is not None:
            os.write(wfd, (json.dumps(_evaluate(torch, expr)) + "\n").encode())
        os._exit(0)
    except BaseException:
        os._exit(3)


def run_case(expr, timeout, memory_bytes):
    """(status, norch result, torch result); status: ok | crash:SIG | hang | exit:N, or oracle-<that>
    when norch's result came back and torch then failed."""
    rfd, wfd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _child(expr, wfd, memory_bytes)
    os.close(wfd)
    data = b""
    deadline = time.monotonic() + timeout
    status = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = "hang"
            break
        ready, _, _ = select.select([rfd], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(rfd, 1 << 16)
            if chunk:
                data += chunk
                continue
            _, st = os.waitpid(pid, 0)
            if os.WIFSIGNALED(st):
                status = "crash:" + signal.Signals(os.WTERMSIG(st)).name
            elif os.WEXITSTATUS(st) != 0:
                status = f"exit:{os.WEXITSTATUS(st)}"
            else:
                status = "ok"
            break
    os.close(rfd)
    lines = [json.loads(x) for x in data.decode(errors="replace").splitlines() if x.strip()]
    ours = lines[0] if lines else None
    theirs = lines[1] if len(lines) > 1 else None
    if status != "ok" and ours is not None and torch is not None:
        status = "oracle-" + status  # norch finished; torch died or hung after it
    return status, ours, theirs


def _close(a, b, dtype):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, int) and isinstance(b, int):
        return a == b
    tol = 1e-4 if dtype in ("float32", None) else 1e-9
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def compare(ours, theirs):
    """None when they agree, else the kind of mismatch."""
    if "exc" in ours or "exc" in theirs:
        if "exc" in ours and "exc" in theirs:
            return None if ours["exc"] == theirs["exc"] else "exception-class"
        return "norch-raises" if "exc" in ours else "torch-raises"
    return _compare_desc(ours["ok"], theirs["ok"])


def _compare_desc(a, b):
    if a[0] != b[0]:
        return "result-kind"
    if a[0] == "tensor":
        if a[1] != b[1]:
            return "shape"
        if a[2] != b[2]:
            return "dtype"
        if len(a[3]) != len(b[3]) or not all(_close(x, y, a[2]) for x, y in zip(a[3], b[3])):
            return "value"
        return None
    if a[0] == "seq":
        if len(a[1]) != len(b[1]):
            return "length"
        for x, y in zip(a[1], b[1]):
            k = _compare_desc(x, y)
            if k:
                return k
        return None
    if a[0] == "num":
        return None if _close(a[1], b[1], None) else "value"
    return None if a == b else "result-kind"


def fuzz(seconds, count, seed, ops, timeout, memory_gb, verbose=False):
    rng = random.Random(seed)
    gen = Gen(rng)
    names = sorted(ops)
    memory_bytes = int(memory_gb * (1 << 30)) if memory_gb else 0
    stats = {"seed": seed, "cases": 0, "crashes": {}, "hangs": 0, "oracle_crashes": 0, "mismatches": {},
             "oracle": torch is not None}
    repro = {}  # (kind, op) -> shortest expression
    start = time.monotonic()
    while stats["cases"] < count and time.monotonic() - start < seconds:
        op = gen.pick(names)
        try:
            expr = OPS[op](gen)
        except Exception as e:  # a bug in a generator, not in norch
            raise RuntimeError(f"generator {op} failed: {e}") from e
        status, ours, theirs = run_case(expr, timeout, memory_bytes)
        stats["cases"] += 1
        kind = None
        if status == "hang":
            stats["hangs"] += 1
            kind = "hang"
        elif status.startswith("crash:") or status.startswith("exit:"):
            stats["crashes"][status] = stats["crashes"].get(status, 0) + 1
            kind = status
        elif status.startswith("oracle-"):
            stats["oracle_crashes"] += 1
            kind = status
        elif ours is not None and theirs is not None:
            m = compare(ours, theirs)
            if m:
                stats["mismatches"][m] = stats["mismatches"].get(m, 0) + 1
                kind = "mismatch:" + m
        if kind:
            key = (kind, op)
            if key not in repro or len(expr) < len(repro[key][0]):
                repro[key] = (expr, ours, theirs)
            if verbose:
                print(f"[{kind}] {expr}", flush=True)
    stats["seconds"] = round(time.monotonic() - start, 1)
    stats["repro"] = [{"kind": k[0], "op": k[1], "expr": v[0], "norch": v[1], "torch": v[2]}
                      for k, v in sorted(repro.items())]
    return stats


def report(stats):
    crashes = sum(stats["crashes"].values())
    mism = sum(stats["mismatches"].values())
    print(f"fuzz: seed {stats['seed']}, {stats['cases']} cases in {stats['seconds']} s; "
          f"{crashes} crashes {stats['crashes'] or ''}, {stats['hangs']} hangs, "
          f"{mism} mismatches {stats['mismatches'] or ''}"
          + ("" if stats["oracle"] else " (no torch: no comparison)")
          + (f", {stats['oracle_crashes']} torch crashes or hangs" if stats["oracle_crashes"] else ""))
    for r in stats["repro"]:
        line = f"  [{r['kind']}] {r['op']}: python -c \"import norch as L; print({r['expr']})\""
        if r["kind"].startswith("mismatch"):
            line += f"\n      norch {json.dumps(r['norch'])[:160]}\n      torch {json.dumps(r['torch'])[:160]}"
        print(line)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    p.add_argument("--count", type=int, default=10**9, help="at most this many cases")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: fresh, printed)")
    p.add_argument("--op", action="append", choices=sorted(OPS), help="only these table entries (repeatable)")
    p.add_argument("--exclude", action="append", default=[], choices=sorted(OPS), help="leave these entries out")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    p.add_argument("--memory-gb", type=float, default=4.0, help="address-space limit of each child (0: none)")
    p.add_argument("--json", action="store_true", help="print the statistics as one JSON object")
    p.add_argument("-v", "--verbose", action="store_true", help="print every failing case as it happens")
    a = p.parse_args(argv)
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    ops = [o for o in (a.op or OPS) if o not in a.exclude]
    stats = fuzz(a.seconds, a.count, seed, ops, a.timeout, a.memory_gb, a.verbose)
    if a.json:
        print(json.dumps(stats))
    else:
        report(stats)
    return 1 if stats["crashes"] or stats["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
