"""The composite losses and distances (margin, ranking, embedding, Poisson/Gaussian NLL,
CTC, triplet, pairwise/cosine, pdist, linear_cross_entropy) against PyTorch: every
reduction, batched and batch-less inputs, values and gradients, float64 gradcheck, reprs
and PyTorch's exceptions for bad arguments."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn as nn
import norch.nn.functional as F
from norch.autograd import gradcheck
from _nn_family_util import compare_call, randn, rng, to_n, close

REDUCTIONS = ["none", "mean", "sum"]


def _sign(*shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _labels(shape, C):
    return rng.integers(0, C, shape).astype(np.int64)


def _multilabel(n, C):
    t = np.full((n, C), -1, dtype=np.int64)
    for i in range(n):
        k = rng.integers(0, C)
        t[i, :k] = rng.permutation(C)[:k]
    return t


# name, module class, module kwargs, inputs generator, functional kwargs
CASES = [
    ("margin_ranking_loss", "MarginRankingLoss", {"margin": 0.3}, lambda: [randn(6), randn(6), _sign(6)]),
    ("margin_ranking_loss", "MarginRankingLoss", {}, lambda: [randn(4, 3), randn(4, 3), _sign(4, 3)]),
    ("hinge_embedding_loss", "HingeEmbeddingLoss", {"margin": 0.7}, lambda: [randn(5, 4), _sign(5, 4)]),
    ("hinge_embedding_loss", "HingeEmbeddingLoss", {}, lambda: [randn(7), _sign(7)]),
    ("soft_margin_loss", "SoftMarginLoss", {}, lambda: [randn(5, 4), _sign(5, 4)]),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", {},
     lambda: [randn(5, 4), (rng.random((5, 4)) < 0.5).astype(np.float64)]),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", {"weight": "w4"},
     lambda: [randn(5, 4), (rng.random((5, 4)) < 0.5).astype(np.float64)]),
    ("multilabel_margin_loss", "MultiLabelMarginLoss", {}, lambda: [randn(6, 5), _multilabel(6, 5)]),
    ("multilabel_margin_loss", "MultiLabelMarginLoss", {}, lambda: [randn(5), _multilabel(1, 5)[0]]),
    ("multi_margin_loss", "MultiMarginLoss", {}, lambda: [randn(6, 5), _labels(6, 5)]),
    ("multi_margin_loss", "MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": "w5"},
     lambda: [randn(6, 5), _labels(6, 5)]),
    ("multi_margin_loss", "MultiMarginLoss", {}, lambda: [randn(5), _labels((), 5)]),
    ("cosine_embedding_loss", "CosineEmbeddingLoss", {"margin": 0.2}, lambda: [randn(6, 4), randn(6, 4), _sign(6)]),
    ("cosine_embedding_loss", "CosineEmbeddingLoss", {}, lambda: [randn(4), randn(4), np.array(1.0)]),
    ("triplet_margin_loss", "TripletMarginLoss", {}, lambda: [randn(6, 4), randn(6, 4), randn(6, 4)]),
    ("triplet_margin_loss", "TripletMarginLoss", {"p": 1.0, "swap": True, "margin": 2.0},
     lambda: [randn(6, 4), randn(6, 4), randn(6, 4)]),
    ("triplet_margin_loss", "TripletMarginLoss", {"p": 3.0}, lambda: [randn(4), randn(4), randn(4)]),
    ("poisson_nll_loss", "PoissonNLLLoss", {}, lambda: [randn(5, 3), rng.poisson(2.0, (5, 3)).astype(np.float64)]),
    ("poisson_nll_loss", "PoissonNLLLoss", {"log_input": False, "full": True},
     lambda: [rng.random((5, 3)) + 0.5, rng.poisson(3.0, (5, 3)).astype(np.float64)]),
]


# how many leading arguments are differentiable inputs (the rest are targets)
_N_GRAD = {"margin_ranking_loss": 2, "cosine_embedding_loss": 2, "triplet_margin_loss": 3}


def _resolve(kw, lib):
    out = {}
    for k, v in kw.items():
        if isinstance(v, str) and v.startswith("w"):
            w = np.linspace(0.5, 1.5, int(v[1:]))
            v = norch.tensor(w) if lib is norch else torch.tensor(w)
        out[k] = v
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fname,mname,kw,make", CASES)
def test_loss_module_and_functional(fname, mname, kw, make, reduction):
    arrays = make()
    ours = getattr(nn, mname)(reduction=reduction, **_resolve(kw, norch))
    theirs = getattr(torch.nn, mname)(reduction=reduction, **_resolve(kw, torch))
    assert repr(ours) == repr(theirs)
    n_grad = _N_GRAD.get(fname, 1)
    compare_call(ours, theirs, arrays, n_grad=n_grad)
    compare_call(lambda *a: getattr(F, fname)(*a, reduction=reduction, **_resolve(kw, norch)),
                 lambda *a: getattr(TF, fname)(*a, reduction=reduction, **_resolve(kw, torch)), arrays,
                 n_grad=n_grad)


@pytest.mark.parametrize("fname,mname,kw,make", CASES)
def test_loss_gradcheck(fname, mname, kw, make):
    arrays = make()
    first = to_n(arrays[0], True)
    rest = [to_n(a) for a in arrays[1:]]
    if fname in ("margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss"):
        rest[0] = to_n(arrays[1], True)
    kwn = _resolve(kw, norch)
    assert gradcheck(lambda *a: getattr(F, fname)(*a, *rest[len(a) - 1:], **kwn), (first, *[
        r for r in rest if r.requires_grad]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", ["same", "one_per_sample", "trailing_one", "scalar"])
def test_gaussian_nll_loss(reduction, full, var_shape):
    x, y = randn(5, 3), randn(5, 3)
    v = {"same": rng.random((5, 3)) + 0.1, "one_per_sample": rng.random(5) + 0.1,
         "trailing_one": rng.random((5, 1)) + 0.1, "scalar": None}[var_shape]
    if v is None:
        close(F.gaussian_nll_loss(norch.tensor(x), norch.tensor(y), 0.7, full=full, reduction=reduction),
              TF.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), 0.7, full=full, reduction=reduction))
        return
    compare_call(nn.GaussianNLLLoss(full=full, reduction=reduction),
                 torch.nn.GaussianNLLLoss(full=full, reduction=reduction), [x, y, v])
    assert gradcheck(lambda a, b: F.gaussian_nll_loss(a, to_n(y), b, full=full, reduction=reduction),
                     (to_n(x, True), to_n(v, True)))


def test_gaussian_nll_loss_clamps_var_like_torch():
    x, y, v = randn(4), randn(4), np.array([1e-9, 0.5, 1.0, 2.0])
    compare_call(lambda a, b, c: F.gaussian_nll_loss(a, b, c), lambda a, b, c: TF.gaussian_nll_loss(a, b, c),
                 [x, y, v], rtol=1e-6)


def test_gaussian_nll_loss_errors():
    x = norch.randn(5, 3)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, norch.ones(4))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -norch.ones(5, 3))
    with pytest.raises(ValueError):
        F.gaussian_nll_loss(x, x, norch.ones(5, 3), reduction="bad")
    with pytest.raises(ValueError):
        TF.gaussian_nll_loss(torch.randn(5, 3), torch.randn(5, 3), torch.ones(4))


def test_loss_errors_like_torch():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(norch.randn(3, 4), norch.tensor([0, 1, 2]), p=3)
    with pytest.raises(ValueError):
        TF.multi_margin_loss(torch.randn(3, 4), torch.tensor([0, 1, 2]), p=3)
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(norch.randn(3), norch.randn(3, 1), norch.randn(3))
    with pytest.raises(RuntimeError):
        TF.margin_ranking_loss(torch.randn(3), torch.randn(3, 1), torch.randn(3))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(norch.randn(3, 2), norch.randn(3, 2), norch.randn(2))
    with pytest.raises(RuntimeError):
        TF.triplet_margin_loss(torch.randn(3, 2), torch.randn(3, 2), torch.randn(2))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.soft_margin_loss(norch.randn(3), norch.randn(3), reduction="avg")
    with pytest.raises(ValueError):
        TF.soft_margin_loss(torch.randn(3), torch.randn(3), reduction="avg")
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError):
        torch.nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(RuntimeError):
        F.cosine_embedding_loss(norch.randn(3, 2), norch.randn(3, 2), norch.randn(3, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance(reduction, swap):
    a, p, n = randn(6, 4), randn(6, 4), randn(6, 4)
    compare_call(nn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction),
                 torch.nn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction), [a, p, n])
    compare_call(lambda *x: F.triplet_margin_with_distance_loss(
        *x, distance_function=lambda u, v: 1.0 - F.cosine_similarity(u, v), swap=swap, reduction=reduction),
        lambda *x: TF.triplet_margin_with_distance_loss(
        *x, distance_function=lambda u, v: 1.0 - TF.cosine_similarity(u, v), swap=swap, reduction=reduction),
        [a, p, n])


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf"), 0.0])
@pytest.mark.parametrize("shapes", [((5, 4), (5, 4)), ((4,), (4,)), ((2, 3, 4), (3, 4)), ((5, 4), (1, 4)),
                                    ((), ())])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, shapes, keepdim):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    compare_call(lambda x, y: F.pairwise_distance(x, y, p, 1e-6, keepdim),
                 lambda x, y: TF.pairwise_distance(x, y, p, 1e-6, keepdim), [a, b], grad=p != 0.0)
    if p not in (0.0, float("inf")) and not keepdim:
        compare_call(nn.PairwiseDistance(p), torch.nn.PairwiseDistance(p), [a, b])
        assert gradcheck(lambda x, y: F.pairwise_distance(x, y, p), (to_n(a, True), to_n(b, True)))


@pytest.mark.parametrize("shapes,dim", [(((5, 4), (5, 4)), 1), (((2, 3, 4), (2, 3, 4)), -1), (((4,), (4,)), 0),
                                        (((5, 4), (1, 4)), 1), (((2, 3, 4), (3, 4)), 0)])
def test_cosine_similarity(shapes, dim):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    compare_call(lambda x, y: F.cosine_similarity(x, y, dim), lambda x, y: TF.cosine_similarity(x, y, dim), [a, b])
    compare_call(nn.CosineSimilarity(dim), torch.nn.CosineSimilarity(dim), [a, b])
    assert gradcheck(lambda x, y: F.cosine_similarity(x, y, dim), (to_n(a, True), to_n(b, True)))


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_pdist(p):
    x = randn(5, 3)
    compare_call(lambda a: F.pdist(a, p), lambda a: TF.pdist(a, p), [x])
    assert gradcheck(lambda a: F.pdist(a, p), (to_n(x, True),))
    assert F.pdist(norch.randn(1, 3)).shape == TF.pdist(torch.randn(1, 3)).shape
    with pytest.raises(RuntimeError, match="2D"):
        F.pdist(norch.randn(3))


def _ctc_case(batched, concat):
    T, N, C = 10, 3, 5
    logits = randn(T, N, C)
    tl = [4, 2, 3]
    targets = np.array([[1, 2, 2, 3], [4, 1, 0, 0], [2, 3, 4, 1]], dtype=np.int64)
    il = [10, 7, 9]
    if concat:
        targets = np.concatenate([targets[n, :tl[n]] for n in range(N)])
    if not batched:
        return logits[:, 0], targets[0, :4] if not concat else targets[:4], 10, 4
    return logits, targets, il, tl


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched,concat", [(True, False), (True, True), (False, False)])
def test_ctc_loss(reduction, batched, concat):
    logits, targets, il, tl = _ctc_case(batched, concat)
    ln, lt = norch.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    if batched:
        args_n = (norch.tensor(targets), norch.tensor(il), norch.tensor(tl))
        args_t = (torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    else:
        args_n = (norch.tensor(targets), norch.tensor(il), norch.tensor(tl))
        args_t = (torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    dim = logits.ndim - 1
    on = nn.CTCLoss(reduction=reduction)(F.log_softmax(ln, dim), *args_n)
    ot = torch.nn.CTCLoss(reduction=reduction)(TF.log_softmax(lt, dim), *args_t)
    close(on, ot)
    g = np.ones(tuple(ot.shape))
    on.backward(norch.tensor(g))
    ot.backward(torch.tensor(g))
    close(ln.grad, lt.grad, atol=1e-6)


def test_ctc_loss_gradcheck_blank_and_lists():
    logits, targets, il, tl = _ctc_case(True, False)
    targets = targets + 1  # labels 1..5 with blank=0 ...
    targets[targets == 5] = 2
    x = to_n(logits[:6, :2], True)
    assert gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, 2), norch.tensor(targets[:2, :3]), [6, 5], [3, 2]),
                     (x,))
    # a non-zero blank index, lengths as Python lists
    on = F.ctc_loss(F.log_softmax(norch.tensor(logits), 2), norch.tensor(targets % 4), il, tl, blank=4)
    ot = TF.ctc_loss(TF.log_softmax(torch.tensor(logits), 2), torch.tensor(targets % 4), il, tl, blank=4)
    close(on, ot)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_impossible_alignment(zero_infinity):
    logits = randn(3, 1, 4)
    targets = np.array([[1, 1, 1]])  # needs 5 frames (repeats need blanks between)
    ln = norch.tensor(logits, requires_grad=True)
    on = F.ctc_loss(F.log_softmax(ln, 2), norch.tensor(targets), [3], [3], reduction="none",
                    zero_infinity=zero_infinity)
    ot = TF.ctc_loss(TF.log_softmax(torch.tensor(logits), 2), torch.tensor(targets), [3], [3], reduction="none",
                     zero_infinity=zero_infinity)
    close(on, ot)
    if zero_infinity:
        on.sum().backward()
        np.testing.assert_array_equal(ln.grad.numpy(), 0.0)


def test_ctc_loss_errors():
    lp = F.log_softmax(norch.randn(5, 2, 4), 2)
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, norch.tensor([[1, 2], [1, 2]]), [5], [2, 2])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, norch.tensor([[1, 2], [1, 2]]), [5, 5], [2, 2], blank=4)
    with pytest.raises(ValueError):
        F.ctc_loss(lp, norch.tensor([[1, 2], [1, 2]]), [5, 5], [2, 2], reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("out_features,bias", [((), False), ((), True), ((3,), True)])
def test_linear_cross_entropy_loss(reduction, out_features, bias):
    theirs = torch.nn.LinearCrossEntropyLoss(6, 4, out_features=out_features, bias=bias, reduction=reduction,
                                             dtype=torch.float64)
    ours = nn.LinearCrossEntropyLoss(6, 4, out_features=out_features, bias=bias, reduction=reduction,
                                     dtype=norch.float64)
    assert sorted(dict(ours.named_parameters())) == sorted(dict(theirs.named_parameters()))
    from _nn_family_util import copy_weights
    copy_weights(ours, theirs)
    x = randn(5, 6)
    target = _labels((5, *out_features), 4)
    compare_call(ours, theirs, [x, target])
    assert repr(ours) == repr(theirs)


def test_nll_loss2d_is_nll_loss():
    with pytest.warns(UserWarning, match="NLLLoss2d has been deprecated"):
        m = nn.NLLLoss2d()
    x = F.log_softmax(norch.randn(2, 3, 4, 4), 1)
    t = norch.randint(0, 3, (2, 4, 4))
    close(m(x, t), F.nll_loss(x, t))
