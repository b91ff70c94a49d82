"""ONNX handlers for the tensor ops opset 17 has no single node for: cumprod, atan2, hypot,
sinc, nan_to_num, integer bitwise ops and shifts, index_add, index_put, nonzero, unique and
masked_select.

cumprod is a Scan whose body multiplies the running product by each slice: the products
are taken in norch's order, so the result is exact, and the scanned axis may be dynamic.
Integer and/or/xor (BitwiseAnd and friends are opset 18) take the operands apart into
their W bits with BitShift on the unsigned type of the same width, combine the bits, and
sum them back with the top bit weighted -2**(W-1) for a signed type, so that two's
complement comes back without overflow (64-bit values in two 32-bit halves, as
onnxruntime's int64 ReduceSum is not exact past 2**53). Shifts run BitShift on the
unsigned type too (ONNX's BitShift takes unsigned integers only): an arithmetic right
shift of a negative value is ~(~x >> s), and shift amounts outside [0, W) give 0 or -1.
"""
import math

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from .. import _C
from ._graph import Unsupported, np_dtype
from ._tracer import handler


def _keys(*names, inplace=True):
    keys = []
    for n in names:
        keys += [n, "Tensor." + n]
        if inplace:
            keys.append("Tensor." + n + "_")
    return keys


# ---- cumprod -------------------------------------------------------------------------
@handler(*_keys("cumprod"))
def _cumprod(g, input, dim, *, dtype=None):
    dt = g.out.dtype
    x = g.v(input, dt)
    if input.dim() == 0:
        return g.op("Identity", x)
    axis = dim % input.dim()
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype(dt)))
    state, item = g._unique("cumprod_state"), g._unique("cumprod_item")
    prod, out = g._unique("cumprod_prod"), g._unique("cumprod_out")
    body = helper.make_graph(
        [helper.make_node("Mul", [state, item], [prod], name=g._unique("cumprod_Mul")),
         helper.make_node("Identity", [prod], [out], name=g._unique("cumprod_Identity"))],
        g._unique("cumprod_body"),
        [helper.make_tensor_value_info(state, elem, None), helper.make_tensor_value_info(item, elem, None)],
        [helper.make_tensor_value_info(prod, elem, None), helper.make_tensor_value_info(out, elem, None)])
    # the running product starts at ones shaped like one slice (the input without the axis)
    full = g.op("Shape", x)
    parts = []
    if axis > 0:
        parts.append(g.op("Slice", full, g.i64([0]), g.i64([axis])))
    if axis < input.dim() - 1:
        parts.append(g.op("Slice", full, g.i64([axis + 1]), g.i64([input.dim()])))
    slice_shape = (parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0)) if parts else g.i64([])
    ones = g.op("ConstantOfShape", slice_shape, value=numpy_helper.from_array(np.ones([1], dtype=np_dtype(dt))))
    _, y = g.op("Scan", ones, x, outputs=2, body=body, num_scan_inputs=1, scan_input_axes=[axis],
                scan_output_axes=[axis])
    return y


# ---- atan2, hypot, sinc, nan_to_num --------------------------------------------------
def _sign_bit(g, x, dt):
    # x < 0, or -0.0 (1 / -0.0 is -inf)
    zero = g.scalar(0.0, dt)
    return g.op("Or", g.op("Less", x, zero), g.op("Less", g.op("Div", g.scalar(1.0, dt), x), zero))


@handler(*_keys("atan2", "arctan2"))
def _atan2(g, input, other):
    dt = g.out.dtype
    y, x = g.v(input, dt), g.v(other, dt)
    zero, one = g.scalar(0.0, dt), g.scalar(1.0, dt)
    xneg, yneg = _sign_bit(g, x, dt), _sign_bit(g, y, dt)
    both_zero = g.op("And", g.op("Equal", x, zero), g.op("Equal", y, zero))
    both_inf = g.op("And", g.op("IsInf", x), g.op("IsInf", y))
    xs = g.op("Where", xneg, g.op("Neg", one), one)
    ys = g.op("Where", yneg, g.op("Neg", one), one)
    # (0, 0) divides a signed zero by a signed one; (inf, inf) the signs: the quadrant stays right
    x2 = g.op("Where", g.op("Or", both_zero, both_inf), xs, x)
    y2 = g.op("Where", both_inf, ys, y)
    base = g.op("Atan", g.op("Div", y2, x2))
    pi = g.scalar(math.pi, dt)
    turn = g.op("Where", yneg, g.op("Neg", pi), pi)
    return g.op("Where", xneg, g.op("Add", base, turn), base)


@handler(*_keys("hypot"))
def _hypot(g, input, other):
    dt = g.out.dtype
    a, b = g.v(input, dt), g.v(other, dt)
    return g.op("Sqrt", g.op("Add", g.op("Mul", a, a), g.op("Mul", b, b)))


@handler(*_keys("sinc"))
def _sinc(g, input):
    dt = g.out.dtype
    x = g.v(input, dt)
    px = g.op("Mul", x, g.scalar(math.pi, dt))
    zero = g.op("Equal", x, g.scalar(0.0, dt))
    safe = g.op("Where", zero, g.scalar(1.0, dt), px)
    return g.op("Where", zero, g.scalar(1.0, dt), g.op("Div", g.op("Sin", safe), safe))


@handler(*_keys("nan_to_num"))
def _nan_to_num(g, input, nan=0.0, posinf=None, neginf=None):
    dt = g.out.dtype
    x = g.v(input, dt)
    if not dt.is_floating_point:
        return g.op("Identity", x)
    fi = np.finfo(np_dtype(dt))
    x = g.op("Where", g.op("IsNaN", x), g.scalar(0.0 if nan is None else nan, dt), x)
    x = g.op("Where", g.op("IsInf", x, detect_negative=0), g.scalar(fi.max if posinf is None else posinf, dt), x)
    return g.op("Where", g.op("IsInf", x, detect_positive=0), g.scalar(fi.min if neginf is None else neginf, dt), x)


# ---- integer bitwise ops and shifts --------------------------------------------------
_UNSIGNED = {"norch.uint8": (TensorProto.UINT8, 8, False), "norch.int32": (TensorProto.UINT32, 32, True),
             "norch.int64": (TensorProto.UINT64, 64, True)}


def _width(dt):
    k = _UNSIGNED.get(str(dt))
    if k is None:
        raise Unsupported(f"bitwise ops on {dt}")
    return k


def _bits(g, x, dt):
    """x's W bits (least significant first) along a new last axis, as int64 0/1."""
    u, W, _ = _width(dt)
    ux = g.op("Unsqueeze", g.op("Cast", x, to=u), g.i64([-1]))
    shifts = g.op("Cast", g.i64(list(range(W))), to=u)
    top = g.op("Cast", g.i64([W - 1]), to=u)
    bit = g.op("BitShift", g.op("BitShift", g.op("BitShift", ux, shifts, direction="RIGHT"), top, direction="LEFT"),
               top, direction="RIGHT")
    return g.cast(bit, _C.int64)


def _from_bits(g, bits, dt):
    _, W, signed = _width(dt)

    def weighted_sum(b, n, top_negative):
        weights = [1 << i for i in range(n)]
        if top_negative:
            weights[-1] = -(1 << (n - 1))
        return g.op("ReduceSum", g.op("Mul", b, g.const(np.asarray(weights, dtype=np.int64))), g.i64([-1]),
                    keepdims=0)
    if W <= 32:
        return g.cast(weighted_sum(bits, W, signed), dt)
    # onnxruntime's int64 ReduceSum loses sums past 2**53: two 32-bit halves, joined by int64 arithmetic
    low = weighted_sum(g.op("Slice", bits, g.i64([0]), g.i64([32]), g.i64([-1])), 32, False)
    high = weighted_sum(g.op("Slice", bits, g.i64([32]), g.i64([64]), g.i64([-1])), 32, signed)
    return g.op("Add", g.op("Mul", high, g.const(np.int64(1 << 32))), low)


def _bitwise(bool_op):
    def h(g, input, other):
        dt = g.out.dtype
        if str(dt) == "norch.bool":
            return g.op(bool_op, g.v(input, _C.bool), g.v(other, _C.bool))
        a, b = _bits(g, g.v(input, dt), dt), _bits(g, g.v(other, dt), dt)
        if bool_op == "And":
            c = g.op("Mul", a, b)
        elif bool_op == "Or":
            c = g.op("Max", a, b)
        else:
            c = g.op("Abs", g.op("Sub", a, b))
        return _from_bits(g, c, dt)
    return h


for _n, _op in (("and", "And"), ("or", "Or"), ("xor", "Xor")):
    handler(f"Tensor.__{_n}__", f"Tensor.__r{_n}__", f"Tensor.__i{_n}__", *_keys(f"bitwise_{_n}"))(_bitwise(_op))


@handler(*_keys("bitwise_not"), "Tensor.__invert__")
def _bitwise_not(g, input):
    dt = g.out.dtype
    x = g.v(input, dt)
    if str(dt) == "norch.bool":
        return g.op("Not", x)
    _, W, signed = _width(dt)
    return g.op("Sub", g.scalar(-1 if signed else (1 << W) - 1, dt), x)


@handler(*_keys("logical_not"))
def _logical_not(g, input):
    return g.op("Not", g.v(input, _C.bool))


def _shift(left, swap=False):
    def h(g, input, other):
        dt = g.out.dtype
        a, s = (other, input) if swap else (input, other)
        u, W, signed = _width(dt)
        x, n = g.v(a, dt), g.v(s, dt)
        lo, hi = g.scalar(0, dt), g.scalar(W - 1, dt)
        out_of_range = g.op("Or", g.op("Less", n, lo), g.op("Greater", n, hi)) if signed else \
            g.op("Greater", n, hi)
        un = g.op("Cast", g.op("Min", g.op("Max", n, lo), hi), to=u)
        zero = g.scalar(0, dt)
        if left:
            r = g.cast(g.op("BitShift", g.op("Cast", x, to=u), un, direction="LEFT"), dt)
            return g.op("Where", out_of_range, zero, r)
        if not signed:
            r = g.cast(g.op("BitShift", g.op("Cast", x, to=u), un, direction="RIGHT"), dt)
            return g.op("Where", out_of_range, zero, r)
        minus1 = g.scalar(-1, dt)
        neg = g.op("Less", x, zero)
        ux = g.op("Cast", g.op("Where", neg, g.op("Sub", minus1, x), x), to=u)
        r = g.cast(g.op("BitShift", ux, un, direction="RIGHT"), dt)
        r = g.op("Where", neg, g.op("Sub", minus1, r), r)
        return g.op("Where", out_of_range, g.op("Where", neg, minus1, zero), r)
    return h


handler(*_keys("bitwise_left_shift"), "Tensor.__lshift__", "Tensor.__ilshift__")(_shift(True))
handler(*_keys("bitwise_right_shift"), "Tensor.__rshift__", "Tensor.__irshift__")(_shift(False))
handler("Tensor.__rlshift__")(_shift(True, swap=True))
handler("Tensor.__rrshift__")(_shift(False, swap=True))


# ---- index_add, nonzero, masked_select -----------------------------------------------
@handler(*_keys("index_add"))
def _index_add(g, input, dim, index, source, *, alpha=1):
    dt = g.out.dtype
    n = input.dim()
    d = dim % max(n, 1)
    if n == 0:
        raise Unsupported("a 0-d input")
    perm = [d] + [i for i in range(n) if i != d]
    inv = [perm.index(i) for i in range(n)]
    src = g.v(source, dt)
    if alpha != 1:
        src = g.op("Mul", src, g.scalar(alpha, dt))
    if source.dim() == 0:
        src = g.op("Unsqueeze", src, g.i64([0]))
    x = g.op("Transpose", g.v(input, dt), perm=perm) if d else g.v(input, dt)
    u = g.op("Transpose", src, perm=perm) if d else src
    idx = g.op("Unsqueeze", g.v(index, _C.int64), g.i64([-1]))
    if index.dim() == 0:
        idx = g.op("Unsqueeze", idx, g.i64([0]))
    y = g.op("ScatterND", x, idx, u, reduction="add")
    return g.op("Transpose", y, perm=inv) if d else y


@handler(*_keys("nonzero", inplace=False))
def _nonzero(g, input, *, as_tuple=False):
    if input.dim() == 0:
        raise Unsupported("a 0-d input")
    nz = g.op("NonZero", g.v(input))  # (ndim, n)
    if not as_tuple:
        return g.op("Transpose", nz, perm=[1, 0])
    if input.dim() == 1:
        return [g.op("Squeeze", nz, g.i64([0]))]
    rows = g.op("Split", nz, g.i64([1] * input.dim()), axis=0, outputs=input.dim())
    return [g.op("Squeeze", r, g.i64([0])) for r in rows]


@handler(*_keys("argwhere", inplace=False))
def _argwhere(g, input):
    if input.dim() == 0:
        raise Unsupported("a 0-d input")
    return g.op("Transpose", g.op("NonZero", g.v(input)), perm=[1, 0])


@handler(*_keys("masked_select", inplace=False))
def _masked_select(g, input, mask):
    dt = g.out.dtype
    m = g.v(mask, _C.bool)
    x = g.v(input, dt)
    xb = g.op("Where", m, x, x)  # input broadcast against the mask
    return g.op("Compress", g.op("Reshape", xb, g.i64([-1])),
                g.op("Reshape", g.op("Expand", m, g.op("Shape", xb)), g.i64([-1])), axis=0)


@handler(*_keys("unique", inplace=False))
def _unique(g, input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    # norch (as PyTorch on the CPU) sorts whatever ``sorted`` says, as ONNX's Unique with sorted=1
    x = g.v(input)
    if dim is None:
        y, _, inverse, counts = g.op("Unique", x, outputs=4, sorted=1)
        inverse = g.op("Reshape", inverse, g.op("Shape", x))
    else:
        axis = dim % max(input.dim(), 1)
        y, _, inverse, counts = g.op("Unique", x, outputs=4, sorted=1, axis=axis)
    names = [y]
    if return_inverse:
        names.append(inverse)
    if return_counts:
        names.append(counts)
    return names


@handler(*_keys("index_put"))
def _index_put(g, input, indices, values, accumulate=False):
    dt = g.out.dtype
    indices = list(indices)
    if not indices or any(not isinstance(i, _C.Tensor) or str(i.dtype) == "norch.bool" for i in indices):
        raise Unsupported("indices other than integer tensors (a boolean mask gives a data-dependent shape)")
    x = g.v(input, dt)
    idx = [g.v(i, _C.int64) for i in indices]
    # the index tensors broadcast together; each becomes one coordinate of ScatterND's last axis
    common = idx[0]
    for i in idx[1:]:
        common = g.op("Add", common, i)
    shape = g.op("Shape", common)
    coords = g.op("Concat", *[g.op("Unsqueeze", g.op("Expand", i, shape), g.i64([-1])) for i in idx], axis=-1)
    # negative indices count from the end of their dim
    sizes = g.op("Slice", g.op("Shape", x), g.i64([0]), g.i64([len(idx)]))
    coords = g.op("Where", g.op("Less", coords, g.const(np.int64(0))), g.op("Add", coords, sizes), coords)
    rest = g.op("Slice", g.op("Shape", x), g.i64([len(idx)]), g.i64([np.iinfo(np.int64).max]))
    upd = g.op("Expand", g.v(values, dt), g.op("Concat", shape, rest, axis=0))
    return g.op("ScatterND", x, coords, upd, reduction="add" if accumulate else None)
