"""ONNX handlers for the sliding-window ops opset 17 has no node for: unfold (im2col),
fold (col2im, Col2Im is opset 18), adaptive average pooling whose output size does not
divide the input, average pooling with divisor_override, circular padding (Pad's "wrap"
mode is opset 19) and instance normalization.

unfold and fold read and write each window through one constant table of flat positions
(Gather, ScatterElements with reduction="add"): exact, any dtype, and the batch stays
dynamic; the spatial sizes are fixed by the table. Adaptive average pooling is separable,
so each spatial axis is reduced on its own: one Slice + ReduceMean per output position.
"""
import numpy as np
from onnx import numpy_helper

from ._graph import Unsupported, np_dtype
from ._symint import SymInt
from ._tracer import handler


def _static(g, input, dims, what):
    sizes = g.sizes(input)
    if any(isinstance(sizes[d], SymInt) and not sizes[d].static for d in dims):
        raise Unsupported(f"{what} along a dynamic axis (the window table fixes the spatial sizes)")


def _pair(v, n=2):
    return [int(x) for x in v] if isinstance(v, (list, tuple)) and len(v) == n else [int(v[0] if isinstance(
        v, (list, tuple)) else v)] * n


def _window_table(H, W, k, d, p, s):
    """Flat positions in the padded (H + 2p) x (W + 2p) plane: shape (kh * kw, L), channel-major
    kernel order, as unfold lays out its rows."""
    Hp, Wp = H + 2 * p[0], W + 2 * p[1]
    oh = (Hp - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (Wp - d[1] * (k[1] - 1) - 1) // s[1] + 1
    ki, kj = np.meshgrid(np.arange(k[0]), np.arange(k[1]), indexing="ij")
    oi, oj = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
    rows = oi.reshape(1, -1) * s[0] + ki.reshape(-1, 1) * d[0]
    cols = oj.reshape(1, -1) * s[1] + kj.reshape(-1, 1) * d[1]
    return (rows * Wp + cols).astype(np.int64), Hp, Wp


def _unbatch(g, input, batched_dim, x):
    if input.dim() == batched_dim - 1:
        return g.op("Unsqueeze", x, g.i64([0])), True
    return x, False


@handler("_nn.unfold")
def _unfold(g, input, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    _static(g, input, [input.dim() - 2, input.dim() - 1], "unfold")
    C, H, W = input.shape[-3:]
    table, Hp, Wp = _window_table(H, W, k, d, p, s)
    x, squeeze = _unbatch(g, input, 4, g.v(input))
    if any(p):
        x = g.op("Pad", x, g.i64([0, 0, p[0], p[1], 0, 0, p[0], p[1]]))
    x = g.op("Reshape", x, g.i64([0, 0, Hp * Wp]))
    y = g.op("Gather", x, g.const(table), axis=2)  # (N, C, K, L)
    y = g.op("Reshape", y, g.i64([0, C * table.shape[0], table.shape[1]]))
    return g.op("Squeeze", y, g.i64([0])) if squeeze else y


@handler("_nn.fold")
def _fold(g, input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    H, W = _pair(output_size)
    table, Hp, Wp = _window_table(H, W, k, d, p, s)
    K = table.shape[0]
    C = input.shape[-2] // K
    x, squeeze = _unbatch(g, input, 3, g.v(input))
    cols = g.op("Reshape", x, g.i64([0, C, -1]))  # (N, C, K * L), the table's order
    n = g.sizes(input)[0] if not squeeze else 1
    zeros = g.op("ConstantOfShape", g.shape([n, C, Hp * Wp]),
                 value=numpy_helper.from_array(np.zeros([1], dtype=np_dtype(g.out.dtype))))
    idx = g.op("Expand", g.const(table.reshape(1, 1, -1)), g.op("Shape", cols))
    y = g.op("ScatterElements", zeros, idx, cols, axis=2, reduction="add")
    y = g.op("Reshape", y, g.i64([0, C, Hp, Wp]))
    if any(p):
        y = g.op("Slice", y, g.i64([p[0], p[1]]), g.i64([p[0] + H, p[1] + W]), g.i64([2, 3]))
    return g.op("Squeeze", y, g.i64([0])) if squeeze else y


# ---- adaptive average pooling ----------------------------------------------------------
def adaptive_avg_name(g, x, ins, outs):
    """Average-pools the spatial axes of x (N, C, *ins) to ``outs``, with PyTorch's windows
    [floor(i * L / o), ceil((i + 1) * L / o)); an axis the output divides is one AveragePool."""
    for a, (L, o) in enumerate(zip(ins, outs)):
        axis = 2 + a
        if L == o:
            continue
        if L % o == 0:
            k = [1] * len(ins)
            k[a] = L // o
            x = g.op("AveragePool", x, kernel_shape=k, strides=k)
            continue
        parts = []
        for i in range(o):
            lo, hi = (i * L) // o, -((-(i + 1) * L) // o)
            sl = g.op("Slice", x, g.i64([lo]), g.i64([hi]), g.i64([axis]))
            parts.append(g.op("ReduceMean", sl, axes=[axis], keepdims=1))
        x = g.op("Concat", *parts, axis=axis)
    return x


def _adaptive_avg(nd):
    def h(g, input, output_size):
        ins = list(input.shape[-nd:])
        outs = list(g.out.shape[-nd:])
        _static(g, input, list(range(input.dim() - nd, input.dim())), "adaptive pooling")
        x, squeeze = _unbatch(g, input, nd + 2, g.v(input))
        if all(o == 1 for o in outs):
            y = g.op("GlobalAveragePool", x)
        else:
            y = adaptive_avg_name(g, x, ins, outs)
        return g.op("Squeeze", y, g.i64([0])) if squeeze else y
    return h


handler("_nn.adaptive_avg_pool1d")(_adaptive_avg(1))
handler("_nn.adaptive_avg_pool2d")(_adaptive_avg(2))


# ---- average pooling with a divisor ----------------------------------------------------
def _avg_pool(nd):
    def h(g, input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
          divisor_override=None):
        from ._ops_nn import _tup
        k = _tup(kernel_size, nd)
        s = _tup(stride, nd) if stride not in (None, [], ()) else k
        p = _tup(padding, nd)
        if ceil_mode and (any(p) or divisor_override is not None):
            raise Unsupported("ceil_mode with padding or divisor_override (ONNX counts the windows differently)")
        x, squeeze = _unbatch(g, input, nd + 2, g.v(input))
        include = 1 if divisor_override is not None else int(bool(count_include_pad))
        y = g.op("AveragePool", x, kernel_shape=k, strides=s, pads=p + p, ceil_mode=int(bool(ceil_mode)),
                 count_include_pad=include)
        if divisor_override is not None:
            # the window mean times its size is the window sum, then PyTorch's divisor
            y = g.op("Mul", y, g.scalar(float(np.prod(k)) / float(divisor_override), g.out.dtype))
        return g.op("Squeeze", y, g.i64([0])) if squeeze else y
    return h


handler("_nn.avg_pool1d")(_avg_pool(1))
handler("_nn.avg_pool2d")(_avg_pool(2))


# ---- circular padding ------------------------------------------------------------------
def circular_pad_name(g, input, x, pad):
    n = input.dim()
    sizes = list(input.shape)
    for j in range(len(pad) // 2):
        dim = n - 1 - j
        lo, hi = int(pad[2 * j]), int(pad[2 * j + 1])
        if lo or hi:
            _static(g, input, [dim], "circular padding")
        if lo < 0 or hi < 0:  # negative padding crops first, as PyTorch does
            start, stop = max(-lo, 0), sizes[dim] - max(-hi, 0)
            x = g.op("Slice", x, g.i64([start]), g.i64([stop]), g.i64([dim]))
            sizes[dim] = stop - start
            lo, hi = max(lo, 0), max(hi, 0)
        L = sizes[dim]
        parts = []
        if lo:
            parts.append(g.op("Slice", x, g.i64([L - lo]), g.i64([L]), g.i64([dim])))
        parts.append(x)
        if hi:
            parts.append(g.op("Slice", x, g.i64([0]), g.i64([hi]), g.i64([dim])))
        if len(parts) > 1:
            x = g.op("Concat", *parts, axis=dim)
        sizes[dim] = L + lo + hi
    return x


@handler("_nn.pad")
def _pad(g, input, pad, mode="constant", value=None):
    n = input.dim()
    pad = [int(p) for p in pad]
    dt = g.out.dtype
    if mode == "circular":
        return circular_pad_name(g, input, g.v(input, dt), pad)
    begins, ends = [0] * n, [0] * n
    for i in range(len(pad) // 2):
        d = n - 1 - i
        begins[d], ends[d] = pad[2 * i], pad[2 * i + 1]
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(mode)
    if onnx_mode is None:
        raise Unsupported(f"mode={mode!r}")
    cv = g.scalar(0 if value is None else value, dt) if onnx_mode == "constant" else None
    return g.op("Pad", g.v(input, dt), g.i64(begins + ends), cv, mode=onnx_mode)


# ---- instance normalization ------------------------------------------------------------
@handler("F.instance_norm")
def _instance_norm(g, input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                   momentum=0.1, eps=1e-5):
    from ._ops_nn import _affine_or
    dt = g.out.dtype
    c = input.shape[1]
    x = g.v(input, dt)
    scale, b = _affine_or(g, weight, c, 1.0, dt), _affine_or(g, bias, c, 0.0, dt)
    if use_input_stats:
        return g.op("InstanceNormalization", x, scale, b, epsilon=float(eps))
    return g.op("BatchNormalization", x, scale, b, g.v(running_mean, dt), g.v(running_var, dt), epsilon=float(eps))
