"""ONNX handlers for the losses, interpolate and one_hot of norch.nn.functional.

Class-index cross entropy and NLL map onto ONNX's SoftmaxCrossEntropyLoss and
NegativeLogLikelihoodLoss (ignore_index and class weights included); cross entropy with
class-probability targets or label smoothing is PyTorch's formula over LogSoftmax; the regression and
binary losses are written out with elementwise nodes in PyTorch's formulas, the log in
binary_cross_entropy clamped at -100 as PyTorch clamps it.
"""
import numpy as np

from .. import _C
from ._graph import Unsupported
from ._tracer import handler


def _reduce(g, x, reduction):
    if reduction == "none":
        return x
    if reduction == "mean":
        return g.op("ReduceMean", x, keepdims=0)
    if reduction == "sum":
        return g.op("ReduceSum", x, keepdims=0)
    raise Unsupported(f"reduction={reduction!r}")


def _diff(g, input, target):
    dt = g.out.dtype
    return g.op("Sub", g.v(input, dt), g.v(target, dt)), dt


@handler("_nn.mse_loss")
def _mse(g, input, target, reduction="mean"):
    d, _ = _diff(g, input, target)
    return _reduce(g, g.op("Mul", d, d), reduction)


@handler("_nn.l1_loss")
def _l1(g, input, target, reduction="mean"):
    d, _ = _diff(g, input, target)
    return _reduce(g, g.op("Abs", d), reduction)


def _piecewise(g, input, target, reduction, k, huber):
    d, dt = _diff(g, input, target)
    a = g.op("Abs", d)
    half = g.scalar(0.5, dt)
    kk = g.scalar(k, dt)
    small = g.op("Mul", g.op("Mul", d, d), half)
    big = g.op("Sub", a, g.op("Mul", half, kk))
    if huber:
        big = g.op("Mul", big, kk)
    elif k > 0:
        small = g.op("Div", small, kk)
    return _reduce(g, g.op("Where", g.op("Less", a, kk), small, big), reduction)


@handler("_nn.smooth_l1_loss")
def _smooth_l1(g, input, target, reduction="mean", beta=1.0):
    return _piecewise(g, input, target, reduction, float(beta), huber=False)


@handler("_nn.huber_loss")
def _huber(g, input, target, reduction="mean", delta=1.0):
    return _piecewise(g, input, target, reduction, float(delta), huber=True)


@handler("_nn.cross_entropy")
def _cross_entropy(g, input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    eps = float(label_smoothing)
    if not target.dtype.is_floating_point and not eps:
        return _class_loss(g, "SoftmaxCrossEntropyLoss", input, target, weight, ignore_index, reduction)
    # PyTorch's formulas (aten cross_entropy_loss_prob_target / _label_smoothing), written out
    dt = g.out.dtype
    cdim = 0 if input.dim() == 1 else 1
    C = input.shape[cdim]
    logp = g.op("LogSoftmax", g.v(input, dt), axis=cdim)
    w = None
    if weight is not None:
        wshape = [1] * input.dim()
        wshape[cdim] = C
        w = g.op("Reshape", g.v(weight, dt), g.i64(wshape))
    if target.dtype.is_floating_point:
        t = g.v(target, dt)
        if eps:
            t = g.op("Add", g.op("Mul", t, g.scalar(1.0 - eps, dt)), g.scalar(eps / C, dt))
        prod = g.op("Mul", logp, t)
        if w is not None:
            prod = g.op("Mul", prod, w)
        loss = g.op("Neg", g.op("ReduceSum", prod, g.i64([cdim]), keepdims=0))
        return _reduce(g, loss, reduction)  # mean: over the N * d1 * ... positions
    nll = _class_loss(g, "NegativeLogLikelihoodLoss", input, target, weight, ignore_index, reduction, logp)
    t = g.v(target, _C.int64)
    valid = g.op("Not", g.op("Equal", t, g.const(np.int64(ignore_index))))
    smooth = logp if w is None else g.op("Mul", logp, w)
    smooth = g.op("Neg", g.op("ReduceSum", smooth, g.i64([cdim]), keepdims=0))
    smooth = g.op("Where", valid, smooth, g.scalar(0.0, dt))
    if reduction == "mean":
        if weight is None:
            denom = g.op("ReduceSum", g.cast(valid, dt), keepdims=0)
        else:
            safe = g.op("Where", valid, t, g.const(np.int64(0)))
            wt = g.op("Where", valid, g.op("Gather", g.v(weight, dt), safe, axis=0), g.scalar(0.0, dt))
            denom = g.op("ReduceSum", wt, keepdims=0)
        smooth = g.op("Div", g.op("ReduceSum", smooth, keepdims=0), denom)
    else:
        smooth = _reduce(g, smooth, reduction)
    return g.op("Add", g.op("Mul", nll, g.scalar(1.0 - eps, dt)), g.op("Mul", smooth, g.scalar(eps / C, dt)))


@handler("_nn.nll_loss")
def _nll(g, input, target, weight=None, ignore_index=-100, reduction="mean"):
    return _class_loss(g, "NegativeLogLikelihoodLoss", input, target, weight, ignore_index, reduction)


def _class_loss(g, op_type, input, target, weight, ignore_index, reduction, x=None):
    x, t = x or g.v(input), g.v(target, _C.int64)
    if input.dim() == 1:  # unbatched (C,) with a 0-d target
        x, t = g.op("Unsqueeze", x, g.i64([0])), g.op("Unsqueeze", t, g.i64([0]))
    out = g.op(op_type, x, t, None if weight is None else g.v(weight, input.dtype), reduction=reduction,
               ignore_index=int(ignore_index))
    if input.dim() == 1 and reduction == "none":
        out = g.op("Squeeze", out, g.i64([0]))
    return out


def _weighted(g, loss, weight, dt):
    return loss if weight is None else g.op("Mul", loss, g.v(weight, dt))


@handler("_nn.binary_cross_entropy")
def _bce(g, input, target, weight=None, reduction="mean"):
    dt = g.out.dtype
    x, t = g.v(input, dt), g.v(target, dt)
    one, floor = g.scalar(1.0, dt), g.scalar(-100.0, dt)
    log_x = g.op("Max", g.op("Log", x), floor)
    log_1mx = g.op("Max", g.op("Log", g.op("Sub", one, x)), floor)
    loss = g.op("Neg", g.op("Add", g.op("Mul", t, log_x), g.op("Mul", g.op("Sub", one, t), log_1mx)))
    return _reduce(g, _weighted(g, loss, weight, dt), reduction)


@handler("_nn.binary_cross_entropy_with_logits")
def _bce_logits(g, input, target, weight=None, reduction="mean", pos_weight=None):
    dt = g.out.dtype
    x, t = g.v(input, dt), g.v(target, dt)
    one, zero = g.scalar(1.0, dt), g.scalar(0.0, dt)
    # log(1 + exp(-|x|)) + max(-x, 0) == -log(sigmoid(x)), computed without overflow
    softplus = g.op("Add", g.op("Log", g.op("Add", one, g.op("Exp", g.op("Neg", g.op("Abs", x))))),
                    g.op("Max", g.op("Neg", x), zero))
    coef = one if pos_weight is None else g.op("Add", one, g.op("Mul", g.op("Sub", g.v(pos_weight, dt), one), t))
    loss = g.op("Add", g.op("Mul", g.op("Sub", one, t), x), g.op("Mul", coef, softplus))
    return _reduce(g, _weighted(g, loss, weight, dt), reduction)


@handler("_nn.kl_div")
def _kl_div(g, input, target, reduction="mean", log_target=False):
    dt = g.out.dtype
    x, t = g.v(input, dt), g.v(target, dt)
    if log_target:
        loss = g.op("Mul", g.op("Exp", t), g.op("Sub", t, x))
    else:
        # target * (log(target) - input), 0 where target is 0
        safe = g.op("Where", g.op("Greater", t, g.scalar(0.0, dt)), t, g.scalar(1.0, dt))
        loss = g.op("Mul", t, g.op("Sub", g.op("Log", safe), x))
    if reduction == "batchmean":
        n = g.cast(g.op("Shape", x, start=0, end=1), dt)
        return g.op("Div", g.op("ReduceSum", loss, keepdims=0), g.op("Squeeze", n, g.i64([0])))
    return _reduce(g, loss, reduction)


@handler("one_hot", "F.one_hot")
def _one_hot(g, tensor, num_classes=-1):
    depth = g.out.shape[-1]
    return g.op("OneHot", g.v(tensor, _C.int64), g.const(np.int64(depth)), g.i64([0, 1]), axis=-1)


@handler("_nn.interpolate")
def _interpolate(g, input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
    nd = input.dim() - 2
    if mode == "nearest":
        attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    elif mode in ("linear", "bilinear"):
        attrs = dict(mode="linear", coordinate_transformation_mode="align_corners" if align_corners
                     else "pytorch_half_pixel")
    elif mode == "area":
        from ._ops_window import adaptive_avg_name
        return adaptive_avg_name(g, g.v(input), list(input.shape[2:]), list(g.out.shape[2:]))
    else:
        raise Unsupported(f"mode={mode!r}")
    x = g.v(input)
    if size is None and not recompute_scale_factor:
        sf = scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * nd
        scales = g.const(np.asarray([1.0, 1.0] + [float(s) for s in sf], dtype=np.float32))
        return g.op("Resize", x, None, scales, **attrs)
    sizes = list(g.sizes(input))[:2] + list(g.out.shape[2:])
    return g.op("Resize", x, None, None, g.shape(sizes), **attrs)
