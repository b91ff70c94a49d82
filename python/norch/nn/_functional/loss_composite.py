"""nn.functional: margin, ranking, embedding, Poisson/Gaussian NLL losses and the
distance functions, composed from norch ops (their gradients come from those ops).

Formulas and argument checks follow PyTorch's ATen implementations (Loss.cpp,
Distance.cpp), so the values, the reductions and the exception types agree.
"""
import math

from ... import _C
from ...amp.autocast_mode import fp32_op as _fp32_op  # PyTorch runs these losses in float32 under autocast
from ...onnx import is_in_onnx_export
from .activation import logsigmoid
from .loss import _reduction

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "multilabel_margin_loss", "multi_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "poisson_nll_loss", "gaussian_nll_loss", "pairwise_distance",
           "cosine_similarity", "pdist", "linear_cross_entropy"]


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


@_fp32_op
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                           f"target: {tuple(target.shape)} ")
    return _reduce(_C.clamp(-target * (input1 - input2) + margin, 0.0, None), reduction)


@_fp32_op
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    zeros = _C.zeros_like(input)
    margin_clamp = _C.clamp(margin - input, 0.0, None)
    output_margin = _C.where(target != 1, margin_clamp, zeros)
    output_self = _C.where(target != -1, input, zeros)
    return _reduce(output_margin + output_self, reduction)


@_fp32_op
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")
    # log(1 + exp(-y x)) == -logsigmoid(y x), without overflow
    return _reduce(-logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def _as_2d(input, target, name):
    if input.dim() > 2 or input.numel() == 0 and input.dim() != 2:
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{tuple(input.shape)}")
    batched = input.dim() == 2
    return (input, target, batched) if batched else (input.reshape(1, -1), target.reshape(1, -1), batched)


@_fp32_op
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(input.shape) != tuple(target.shape) and not (input.dim() <= 1 and target.dim() <= 1
                                                          and input.numel() == target.numel()):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: {tuple(target.shape)} for input "
                           f"of size: {tuple(input.shape)}")
    x, y, batched = _as_2d(input, target, "multilabel_margin_loss")
    C = x.shape[1]
    y = y.long()
    # The target lists class indices and ends at the first -1; `valid` marks the entries before it.
    valid = _C.cumprod((y >= 0).long(), 1) > 0
    idx = _C.where(valid, y, _C.zeros_like(y))
    is_target = _C.zeros_like(x).scatter_add(1, idx, valid.to(x.dtype)) > 0
    x_y = _C.gather(x, 1, idx)  # (N, C): the score of each listed target
    # term[n, j, i] = max(0, 1 - (x[y_j] - x[i])) for listed targets j and non-target classes i
    term = _C.clamp(1.0 - x_y.unsqueeze(2) + x.unsqueeze(1), 0.0, None)
    pair = valid.unsqueeze(2).logical_and(is_target.logical_not().unsqueeze(1))
    loss = (term * pair.to(x.dtype)).sum((1, 2)) / C
    if not batched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


@_fp32_op
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    if input.dim() > 2 or input.dim() == 2 and input.shape[1] == 0:
        raise RuntimeError(f"multi_margin_loss: Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {tuple(input.shape)}")
    batched = input.dim() == 2
    x = input if batched else input.reshape(1, -1)
    y = target.reshape(-1).long()
    N, C = x.shape
    if y.numel() != N:
        raise RuntimeError(f"inconsistent target size, expected {N} but got {tuple(target.shape)}")
    x_y = _C.gather(x, 1, y.reshape(N, 1))
    z = _C.clamp(margin - x_y + x, 0.0, None)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, y).reshape(N, 1)
    not_y = _C.ones_like(x).scatter(1, y.reshape(N, 1), 0.0)
    loss = (z * not_y).sum(1) / C
    if not batched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


@_fp32_op
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim():
        raise RuntimeError(f"cosine_embedding_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                           f"target: {tuple(target.shape)} ")
    if target.dim() != input1.dim() - 1:
        raise RuntimeError(f"{input1.dim() - 1}D target tensor expects {input1.dim()}D input tensors, but found "
                           f"inputs with sizes {tuple(input1.shape)} and {tuple(input2.shape)}.")
    eps = 1e-12
    d = input1.dim() - 1
    prod_sum = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + eps
    mag2 = (input2 * input2).sum(d) + eps
    cos = prod_sum / _C.sqrt(mag1 * mag2)
    zeros = _C.zeros_like(cos)
    pos = _C.where(target == 1, 1.0 - cos, zeros)
    neg = _C.where(target == -1, _C.clamp(cos - margin, 0.0, None), zeros)
    return _reduce(pos + neg, reduction)


def _norm_last(x, p, keepdim):
    if p == math.inf:
        return _C.abs(x).amax(-1, keepdim=keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(-1, keepdim=keepdim)
    if p == 1:
        return _C.abs(x).sum(-1, keepdim=keepdim)
    if p == 2:
        return _C.sqrt((x * x).sum(-1, keepdim=keepdim))
    return _C.abs(x).pow(p).sum(-1, keepdim=keepdim).pow(1.0 / p)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    if p < 0:
        raise RuntimeError("pairwise_distance only supports non-negative p values")
    d = x1 - x2 + eps
    if d.dim() == 0:  # PyTorch reduces a 0-d difference over its single element, to 0-d
        return _norm_last(d.reshape(1), p, False).reshape(())
    return _norm_last(d, p, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    x1, x2 = _broadcast(x1, x2)
    n1 = _C.sqrt((x1 * x1).sum(dim, keepdim=True))
    n2 = _C.sqrt((x2 * x2).sum(dim, keepdim=True))
    # PyTorch clamps the norms in place under no_grad: the clamp is the identity for the gradient.
    n1 = n1 + (_C.clamp(n1, eps, None) - n1).detach()
    n2 = n2 + (_C.clamp(n2, eps, None) - n2).detach()
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _broadcast(a, b):
    sa, sb = list(a.shape), list(b.shape)
    n = max(len(sa), len(sb))
    sa, sb = [1] * (n - len(sa)) + sa, [1] * (n - len(sb)) + sb
    shape = []
    for x, y in zip(sa, sb):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               "non-singleton dimension")
        shape.append(y if x == 1 else x)
    return a.expand(*shape), b.expand(*shape)


def pdist(input, p=2):
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    rows, cols = [], []
    for i in range(n):
        for j in range(i + 1, n):
            rows.append(i)
            cols.append(j)
    if not rows:
        return _C.zeros([0], dtype=input.dtype, device=input.device)
    # Only the pairs i < j are formed, so no zero-distance pair reaches the norm's gradient.
    a = input.index_select(0, _C.tensor(rows, device=input.device))
    b = input.index_select(0, _C.tensor(cols, device=input.device))
    return _norm_last(a - b, p, False)


@_fp32_op
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _C.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_C.clamp(margin + d_pos - d_neg, 0.0, None), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                         "instead")
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _C.minimum(d_neg, dist(positive, negative))
    return _reduce(_C.clamp(margin + d_pos - d_neg, 0.0, None), reduction)


@_fp32_op
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = _C.exp(input) - target * input
    else:
        loss = input - target * _C.log(input + eps)
    if full:
        # Stirling's term, only where target > 1 (it is 0 there in the exact expansion).
        safe = _C.where(target > 1, target, _C.ones_like(target))
        stirling = safe * _C.log(safe) - safe + 0.5 * _C.log(safe * (2 * math.pi))
        loss = loss + _C.where(target > 1, stirling, _C.zeros_like(stirling))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _C.full_like(input, float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)  # one variance per sample, shared by its features
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass  # heteroscedastic, broadcast over the last dim
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # the check reads the data: an ONNX export (which cannot) skips it
    if not is_in_onnx_export() and bool((var.detach() < 0).any().item()):
        raise ValueError("var has negative entry/entries")
    # PyTorch clamps a clone of var in place under no_grad: the gradient sees the identity.
    var = var + (_C.clamp(var.detach(), eps, None) - var.detach())
    loss = 0.5 * (_C.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, W), target) with W of shape (C, *out_features, in_features).
    PyTorch's options only choose its memory-saving chunking; norch computes the logits at once."""
    from .activation import linear
    from .loss import cross_entropy
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"expected equal input and linear_weight last dimensions (in_features), got "
                           f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    logits_shape = (*input.shape[:-1], num_classes, *out_features)
    w = linear_weight.reshape(-1, in_features)
    b = linear_bias.reshape(-1) if linear_bias is not None else None
    logits = linear(input, w, b).reshape(*logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)
