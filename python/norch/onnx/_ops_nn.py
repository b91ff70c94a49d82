"""ONNX handlers for norch.nn.functional's fused ops and the recurrent layers.

The C++ ops of ``norch._C._nn`` map onto ONNX's Conv, pooling, normalization and
Softmax nodes. ``F.linear`` becomes Gemm (or MatMul + Add) on the weight initializer
itself, and ``RNNBase.forward`` (RNN, LSTM, GRU) becomes one ONNX RNN/LSTM/GRU node per
layer, with the gates reordered by Slice/Concat of the parameters so that the
initializers keep their state_dict names. ``F.embedding_bag`` is recorded whole too (its
eager form reads the ids into Python): a Gather and a masked reduction per bag, with 1-D
input's bags found by comparing positions against the offsets. Python composites such as
gelu, silu, softplus and MultiheadAttention need no handler: they are traced through.
"""
import numpy as np

from .. import _C
from ._graph import Unsupported
from ._symint import SymInt
from ._tracer import handler
from . import _ops_shape, _ops_tensor  # noqa: F401  (register their handlers too)


def python_targets():
    """The Python callables recorded whole: key -> (owner, attribute)."""
    from ..nn import functional as F
    from ..nn.modules.rnn import RNNBase
    T = _C.Tensor
    return {"F.linear": (F, "linear"), "F.leaky_relu": (F, "leaky_relu"), "F.elu": (F, "elu"),
            "F.hardtanh": (F, "hardtanh"), "F.relu6": (F, "relu6"),
            "F.instance_norm": (F, "instance_norm"), "F.embedding_bag": (F, "embedding_bag"),
            "nn.RNNBase.forward": (RNNBase, "forward"),
            "Tensor.to": (T, "to"), "Tensor.type_as": (T, "type_as")}


def _tup(v, n):
    # kernel sizes, strides and paddings are node attributes: a dynamic size cannot become one
    for x in (v if isinstance(v, (list, tuple)) else [v]):
        if isinstance(x, SymInt) and not x.static:
            raise Unsupported("a window, stride or padding computed from a dynamic axis")
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v] if len(v) == n else [int(v[0])] * n
    return [int(v)] * n


# ---- linear and convolution ----------------------------------------------------------
@handler("F.linear")
def _linear(g, input, weight, bias=None):
    dt = g.out.dtype
    x, w = g.v(input, dt), g.v(weight, dt)
    if input.dim() == 2:
        return g.op("Gemm", x, w, None if bias is None else g.v(bias, dt), transB=1)
    y = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]) if weight.dim() == 2 else w)
    return y if bias is None else g.op("Add", y, g.v(bias, dt))


def _conv(nd):
    def h(g, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        d = _tup(dilation, nd)
        if padding == "valid":
            begin = end = [0] * nd
        elif padding == "same":
            # PyTorch puts the odd element of the total padding at the end
            total = [di * (k - 1) for di, k in zip(d, weight.shape[2:])]
            begin = [t // 2 for t in total]
            end = [t - b for t, b in zip(total, begin)]
        elif isinstance(padding, str):
            raise Unsupported(f"padding={padding!r}")
        else:
            begin = end = _tup(padding, nd)
        unbatched = input.dim() == nd + 1
        x = g.v(input)
        if unbatched:
            x = g.op("Unsqueeze", x, g.i64([0]))
        y = g.op("Conv", x, g.v(weight), None if bias is None else g.v(bias), strides=_tup(stride, nd),
                 pads=list(begin) + list(end), dilations=d, group=int(groups),
                 kernel_shape=list(weight.shape[2:]))
        return g.op("Squeeze", y, g.i64([0])) if unbatched else y
    return h


handler("_nn.conv1d")(_conv(1))
handler("_nn.conv2d")(_conv(2))


@handler("_nn.conv_transpose2d")
def _conv_transpose2d(g, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    unbatched = input.dim() == 3
    x = g.v(input)
    if unbatched:
        x = g.op("Unsqueeze", x, g.i64([0]))
    p = _tup(padding, 2)
    y = g.op("ConvTranspose", x, g.v(weight), None if bias is None else g.v(bias), strides=_tup(stride, 2),
             pads=p + p, dilations=_tup(dilation, 2), group=int(groups), output_padding=_tup(output_padding, 2),
             kernel_shape=list(weight.shape[2:]))
    return g.op("Squeeze", y, g.i64([0])) if unbatched else y


# ---- pooling -------------------------------------------------------------------------
def _batched(g, input, nd, fn):
    unbatched = input.dim() == nd + 1
    x = g.v(input)
    if unbatched:
        x = g.op("Unsqueeze", x, g.i64([0]))
    ys = fn(x)
    ys = ys if isinstance(ys, list) else [ys]
    if unbatched:
        ys = [g.op("Squeeze", y, g.i64([0])) for y in ys]
    return ys if len(ys) > 1 else ys[0]


def _max_pool(nd):
    def h(g, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        k = _tup(kernel_size, nd)
        s = _tup(stride, nd) if stride not in (None, [], ()) else k
        p = _tup(padding, nd)

        def fn(x):
            y, idx = g.op("MaxPool", x, outputs=2, kernel_shape=k, strides=s, pads=p + p,
                          dilations=_tup(dilation, nd), ceil_mode=int(bool(ceil_mode)))
            # ONNX numbers indices over the whole tensor, PyTorch within each (N, C) plane:
            # the flat index of each plane's first element comes from a 1x1 pool.
            _, base = g.op("MaxPool", x, outputs=2, kernel_shape=[1] * nd, strides=[1] * nd)
            ones = g.i64([1] * nd)
            zeros = g.i64([0] * nd)
            base = g.op("Slice", base, zeros, ones, g.i64(list(range(2, 2 + nd))))
            return [y, g.op("Sub", idx, base)]
        return _batched(g, input, nd, fn)
    return h


handler("_nn.max_pool1d_with_indices")(_max_pool(1))
handler("_nn.max_pool2d_with_indices")(_max_pool(2))


# ---- normalization -------------------------------------------------------------------
def _affine_or(g, t, n, value, dt):
    return g.v(t, dt) if t is not None else g.const(np.full([n], value, dtype=_np(dt)))


def _np(dt):
    from ._graph import np_dtype
    return np_dtype(dt)


@handler("_nn.batch_norm")
def _batch_norm(g, input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                eps=1e-5):
    if training or running_mean is None:
        raise Unsupported("batch statistics (training mode or track_running_stats=False); export in eval mode")
    dt = g.out.dtype
    c = input.shape[1]
    x = g.v(input, dt)
    y = g.op("BatchNormalization", x, _affine_or(g, weight, c, 1.0, dt), _affine_or(g, bias, c, 0.0, dt),
             g.v(running_mean, dt), g.v(running_var, dt), epsilon=float(eps))
    return y


@handler("_nn.layer_norm")
def _layer_norm(g, input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dt = g.out.dtype
    k = len(normalized_shape)
    scale = g.v(weight, dt) if weight is not None else g.const(np.ones(list(normalized_shape), dtype=_np(dt)))
    b = g.v(bias, dt) if bias is not None else None
    return g.op("LayerNormalization", g.v(input, dt), scale, b, axis=-k, epsilon=float(eps))


@handler("_nn.group_norm")
def _group_norm(g, input, num_groups, weight=None, bias=None, eps=1e-5):
    dt = g.out.dtype
    x = g.v(input, dt)
    shape = _ops_shape._shape_of(g, input)
    grouped = g.op("Reshape", x, g.i64([0, int(num_groups), -1]))
    mean = g.op("ReduceMean", grouped, axes=[2], keepdims=1)
    d = g.op("Sub", grouped, mean)
    var = g.op("ReduceMean", g.op("Mul", d, d), axes=[2], keepdims=1)
    y = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps, dt))))
    y = g.op("Reshape", y, shape)
    bshape = g.i64([input.shape[1]] + [1] * (input.dim() - 2))
    if weight is not None:
        y = g.op("Mul", y, g.op("Reshape", g.v(weight, dt), bshape))
    if bias is not None:
        y = g.op("Add", y, g.op("Reshape", g.v(bias, dt), bshape))
    return y


# ---- softmax, embedding, dropout, padding, activations -------------------------------
def _softmax(op_type):
    def h(g, input, dim, dtype=None):
        x = g.v(input, g.out.dtype)
        if input.dim() == 0:
            return g.op("Squeeze", g.op(op_type, g.op("Unsqueeze", x, g.i64([0])), axis=0), g.i64([0]))
        return g.op(op_type, x, axis=int(dim) % input.dim())
    return h


handler("_nn.softmax")(_softmax("Softmax"))
handler("_nn.log_softmax")(_softmax("LogSoftmax"))


@handler("_nn.embedding")
def _embedding(g, input, weight, padding_idx=None, *args):
    return g.op("Gather", g.v(weight), g.v(input, _C.int64), axis=0)


@handler("F.embedding_bag")
def _embedding_bag(g, input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                   sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if max_norm is not None:
        raise Unsupported("max_norm (renormalises the weight in place)")
    dt = g.out.dtype
    ids = g.v(input, _C.int64)
    emb = g.op("Gather", g.v(weight), ids, axis=0)  # (B, L, D) or (n, D)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    keep = g.op("Not", g.op("Equal", ids, g.const(np.int64(padding_idx)))) if padding_idx is not None else None
    if input.dim() == 2:
        if per_sample_weights is not None:
            emb = g.op("Mul", emb, g.op("Unsqueeze", g.v(per_sample_weights, dt), g.i64([-1])))
        member = None if keep is None else g.op("Unsqueeze", keep, g.i64([-1]))  # (B, L, 1)
        axis = 1
    else:
        # member[b, i]: element i lies in bag b (its offset is the last one <= i) and is not padding
        n = g.op("Squeeze", g.op("Shape", ids), g.i64([0]))
        pos = g.op("Range", g.const(np.int64(0)), n, g.const(np.int64(1)))
        off = g.v(offsets, _C.int64)
        bag = g.op("Sub", g.op("ReduceSum", g.cast(g.op("LessOrEqual", g.op("Unsqueeze", off, g.i64([0])),
                                                              g.op("Unsqueeze", pos, g.i64([1]))), _C.int64),
                                 g.i64([1]), keepdims=0), g.const(np.int64(1)))
        nb = g.op("Shape", off)
        if include_last_offset:
            nb = g.op("Sub", nb, g.i64([1]))
        bags = g.op("Range", g.const(np.int64(0)), g.op("Squeeze", nb, g.i64([0])), g.const(np.int64(1)))
        member = g.op("Equal", g.op("Unsqueeze", bags, g.i64([1])), g.op("Unsqueeze", bag, g.i64([0])))
        if keep is not None:
            member = g.op("And", member, g.op("Unsqueeze", keep, g.i64([0])))
        if per_sample_weights is not None:
            emb = g.op("Mul", emb, g.op("Unsqueeze", g.v(per_sample_weights, dt), g.i64([-1])))
        emb = g.op("Unsqueeze", emb, g.i64([0]))  # (1, n, D) against member (B, n, 1)
        member = g.op("Unsqueeze", member, g.i64([-1]))
        axis = 1
    zero = g.scalar(0.0, dt)
    if mode == "max":
        if member is None:
            return g.op("ReduceMax", emb, axes=[axis], keepdims=0)
        low = g.scalar(-np.inf, dt)
        m = g.op("ReduceMax", g.op("Where", member, emb, low), axes=[axis], keepdims=0)
        return g.op("Where", g.op("Equal", m, low), zero, m)  # an empty bag is 0
    if member is not None:
        emb = g.op("Where", member, emb, zero)
    total = g.op("ReduceSum", emb, g.i64([axis]), keepdims=0)
    if mode == "sum":
        return total
    if member is None:
        return g.op("ReduceMean", emb, axes=[axis], keepdims=0)
    count = g.op("ReduceSum", g.cast(member, dt), g.i64([axis]), keepdims=0)
    return g.op("Div", total, g.op("Max", count, g.scalar(1.0, dt)))


@handler("_nn.dropout")
def _dropout(g, input, p=0.5, training=True):
    if training and p > 0:
        raise Unsupported("dropout in training mode")
    return g.op("Identity", g.v(input))


@handler("F.leaky_relu")
def _leaky_relu(g, input, negative_slope=0.01, inplace=False):
    return g.op("LeakyRelu", g.v(input), alpha=float(negative_slope))


@handler("F.elu")
def _elu(g, input, alpha=1.0, inplace=False):
    return g.op("Elu", g.v(input), alpha=float(alpha))


@handler("F.hardtanh")
def _hardtanh(g, input, min_val=-1.0, max_val=1.0, inplace=False):
    dt = g.out.dtype
    return g.op("Clip", g.v(input), g.scalar(min_val, dt), g.scalar(max_val, dt))


@handler("F.relu6")
def _relu6(g, input, inplace=False):
    return _hardtanh(g, input, 0.0, 6.0)


from . import _ops_rnn, _ops_loss, _ops_window, _ops_math  # noqa: E402,F401
