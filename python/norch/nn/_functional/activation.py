"""nn.functional: activations, linear maps and attention, composed from norch ops.

These are composites: their gradients come from the ops they are built of, so
they need no backward formula of their own (STYLE: few primitives, many
composites). The in-place forms compute on a clone and copy the result back:
the ops then save the clone, not the tensor the copy overwrites, so backward
through an in-place activation still works.
"""
import math

from ... import _C
from ...amp import autocast_mode as _autocast
from ..._C import one_hot  # noqa: F401  (C++ op, re-exported here as in torch.nn.functional)

__all__ = ["one_hot", "relu", "relu_", "leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu", "sigmoid",
           "tanh", "softplus", "hardtanh", "hardtanh_", "relu6", "linear", "bilinear",
           "scaled_dot_product_attention", "celu", "celu_", "selu", "selu_", "glu", "hardsigmoid", "hardswish",
           "mish", "softshrink", "hardshrink", "tanhshrink", "threshold", "threshold_", "logsigmoid", "softmin",
           "softsign", "rrelu", "rrelu_", "prelu", "gumbel_softmax"]


def _inplace(fn, input, *args):
    input.copy_(fn(input.clone(), *args))
    return input


def relu(input, inplace=False):
    return _C.Tensor.relu_(input) if inplace else _C.relu(input)


def relu_(input):
    return _C.Tensor.relu_(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _inplace(leaky_relu, input, negative_slope)
    return _C.where(input > 0, input, input * negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return _inplace(elu, input, alpha)
    # expm1 sees only the non-positive part, so the branch that where() discards
    # cannot overflow and poison the gradient with inf * 0.
    return _C.where(input > 0, input, _C.expm1(_C.clamp(input, None, 0.0)) * alpha)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    if approximate == "none":
        return input * (_C.erf(input * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * (_C.tanh(inner) + 1.0) * 0.5
    raise RuntimeError(f"approximate argument must be either none or tanh, got '{approximate}'")


def silu(input, inplace=False):
    if inplace:
        return _inplace(silu, input)
    return input * _C.sigmoid(input)


def sigmoid(input):
    return _C.sigmoid(input)


def tanh(input):
    return _C.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * beta
    # Clamping before exp keeps the discarded branch finite (see elu).
    soft = _C.log1p(_C.exp(_C.clamp(scaled, None, float(threshold)))) / beta
    return _C.where(scaled > threshold, input, soft)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(hardtanh, input, min_val, max_val)
    return _C.clamp(input, float(min_val), float(max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def linear(input, weight, bias=None):
    # input (*, in), weight (out, in), bias (out,) -> (*, out)
    if _autocast.active():  # bias too, so the sum stays in the autocast dtype
        input, weight, bias = _autocast.cast_args("lower", input, weight, bias)
    if input.dim() == 2 and bias is not None:
        return _C.addmm(bias, input, weight.t())
    out = _C.matmul(input, weight.t())
    return out + bias if bias is not None else out


def bilinear(input1, input2, weight, bias=None):
    # input1 (*, in1), input2 (*, in2), weight (out, in1, in2) -> (*, out)
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {weight.dim()}-D")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} do not "
                           f"match weight {tuple(weight.shape)}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # t[n, o, j] = sum_i x1[n, i] * W[o, i, j]
    t = _C.mm(x1, weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_f)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    # query (*, L, E), key (*, S, E), value (*, S, Ev) -> (*, L, Ev)
    if _autocast.active():
        query, key, value, attn_mask = _autocast.cast_args("lower", query, key, value, attn_mask)
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)[0]


def _attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    """Scaled dot-product attention written once: returns (output, attention weights), the
    weights (*, L, S) after softmax and dropout. nn.MultiheadAttention uses the weights."""
    L, S = query.shape[-2], key.shape[-2]
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.dim() >= 3 and query.shape[-3] != key.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.unsqueeze(-3).expand(*key.shape[:-2], rep, S, key.shape[-1]).reshape(
            *key.shape[:-3], key.shape[-3] * rep, S, key.shape[-1])
        value = value.unsqueeze(-3).expand(*value.shape[:-2], rep, S, value.shape[-1]).reshape(
            *value.shape[:-3], value.shape[-3] * rep, S, value.shape[-1])
    scores = _C.matmul(query, key.transpose(-2, -1)) * scale_factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: explicit attn_mask should not be set when "
                               "is_causal=True")
        rows = _C.arange(L, device=query.device).unsqueeze(1)
        cols = _C.arange(S, device=query.device).unsqueeze(0)
        attn_mask = rows >= cols
    if attn_mask is not None:
        if attn_mask.dtype == _C.bool:
            scores = _C.where(attn_mask, scores, float("-inf"))
        else:
            scores = scores + attn_mask
    if attn_mask is not None:
        # PyTorch's _safe_softmax: a row masked everywhere attends to nothing
        # and gives 0, not the NaN of softmax over -inf only. Its scores are
        # replaced by 0 first so that the softmax backward sees no NaN either.
        dead = (scores == float("-inf")).all(-1, keepdim=True)
        attn = _C.where(dead, 0.0, _C._nn.softmax(_C.where(dead, 0.0, scores), -1, None))
    else:
        attn = _C._nn.softmax(scores, -1, None)
    if dropout_p > 0.0:
        from . import loss
        attn = loss.dropout(attn, dropout_p, True)
    return _C.matmul(attn, value), attn


# ---------------------------------------------------------------- more activations (composites)

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return _inplace(celu, input, alpha)
    return _C.where(input > 0, input, _C.expm1(_C.clamp(input, None, 0.0) / alpha) * alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu(input, inplace=False):
    if inplace:
        return _inplace(selu, input)
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def selu_(input):
    return selu(input, inplace=True)


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.dim()
    if input.shape[d] % 2 != 0:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = _C.chunk(input, 2, d)
    return a * _C.sigmoid(b)


def hardsigmoid(input, inplace=False):
    if inplace:
        return _inplace(hardsigmoid, input)
    return _C.clamp(input / 6.0 + 0.5, 0.0, 1.0)


def hardswish(input, inplace=False):
    if inplace:
        return _inplace(hardswish, input)
    return input * hardsigmoid(input)


def mish(input, inplace=False):
    if inplace:
        return _inplace(mish, input)
    return input * _C.tanh(softplus(input))


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    zero = _C.zeros_like(input)
    return _C.where(input > lambd, input - lambd, _C.where(input < -lambd, input + lambd, zero))


def hardshrink(input, lambd=0.5):
    return _C.where(_C.abs(input) > lambd, input, _C.zeros_like(input))


def tanhshrink(input):
    return input - _C.tanh(input)


def _threshold(input, th, value):
    return _C.where(input > th, input, _C.full_like(input, value))


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return _inplace(_threshold, input, threshold, value)
    return _threshold(input, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(_threshold, input, threshold, value)


def logsigmoid(input):
    # min(x, 0) - log1p(exp(-|x|)): exp never sees a positive argument.
    return _C.clamp(input, None, 0.0) - _C.log1p(_C.exp(-_C.abs(input)))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    from .loss import softmax
    return softmax(-input if dtype is None else -input.to(dtype), dim)


def softsign(input):
    return input / (_C.abs(input) + 1.0)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if inplace:
        return _inplace(rrelu, input, lower, upper, training)
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    # One slope per element, drawn from U(lower, upper) (used where input < 0).
    slope = _C.empty(list(input.shape), dtype=input.dtype, device=input.device).uniform_(lower, upper)
    return _C.where(input >= 0, input, input * slope)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def prelu(input, weight):
    if _autocast.active():
        input, weight = _autocast.cast_args("lower", input, weight)
    # weight holds 1 or C slopes; C is dim 1 (1-D and 0-d input have one channel), as in PyTorch.
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.dim() >= 2 else 1
        if channels != n:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {channels}.")
        weight = weight.reshape(n, *([1] * (input.dim() - 2)))
    else:
        weight = weight.reshape(())
    return _C.where(input > 0, input, input * weight)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    from .loss import softmax
    gumbels = -_C.log(_C.empty(list(logits.shape), dtype=logits.dtype, device=logits.device).exponential_())
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = _C.zeros_like(logits).scatter(dim, index, 1.0)
    # Straight-through: the value is one-hot, the gradient is the soft sample's.
    return y_hard - y_soft.detach() + y_soft
