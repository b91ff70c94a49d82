"""The activation layers and their nn.functional ops, against PyTorch: values and gradients
on several shapes (0-d, empty, batch-less), float64 gradcheck, in-place forms, reprs and errors."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn as nn
import norch.nn.functional as F
from norch.autograd import gradcheck
from _nn_family_util import compare_call, compare_modules, randn, close, to_n

SHAPES = [(3, 5), (2, 3, 4), (7,), (), (0, 3)]

ELEMENTWISE = [
    ("celu", {}), ("celu", {"alpha": 0.5}), ("selu", {}), ("hardsigmoid", {}), ("hardswish", {}), ("mish", {}),
    ("softshrink", {}), ("softshrink", {"lambd": 1.2}), ("hardshrink", {}), ("hardshrink", {"lambd": 0.3}),
    ("tanhshrink", {}), ("logsigmoid", {}), ("softsign", {}), ("threshold", {"threshold": 0.2, "value": -3.0}),
    ("rrelu", {}), ("rrelu", {"lower": 0.2, "upper": 0.4}),
]


def _avoid_kinks(x):
    # Move values off the points where these functions are not differentiable (0, +-0.5, +-3, ...).
    return np.asarray(x + 0.05 * np.sign(x) + (np.abs(x) < 1e-3) * 0.1)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,kw", ELEMENTWISE)
def test_elementwise_forward_backward(name, kw, shape):
    x = _avoid_kinks(randn(*shape) * 3)
    compare_call(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x])


@pytest.mark.parametrize("name,kw", ELEMENTWISE)
def test_elementwise_gradcheck(name, kw):
    x = _avoid_kinks(randn(3, 4) * 3)
    assert gradcheck(lambda a: getattr(F, name)(a, **kw), (to_n(x, True),))


@pytest.mark.parametrize("name", ["celu", "selu", "hardsigmoid", "hardswish", "mish", "rrelu", "threshold"])
def test_inplace_forms(name):
    args = (0.1, 2.0) if name == "threshold" else ()
    x = _avoid_kinks(randn(4, 5))
    expected = getattr(TF, name)(torch.tensor(x), *args)
    leaf = norch.tensor(x, requires_grad=True)
    y = leaf * 1.0
    out = getattr(F, name)(y, *args, inplace=True)
    assert out._is_same(y)
    close(y, expected)
    out.sum().backward()  # backward through the in-place form works
    assert leaf.grad is not None
    if hasattr(F, name + "_"):
        z = norch.tensor(x)
        getattr(F, name + "_")(z, *args)
        close(z, expected)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu(dim):
    x = randn(4, 6, 2)
    compare_call(lambda a: F.glu(a, dim), lambda a: TF.glu(a, dim), [x])
    assert gradcheck(lambda a: F.glu(a, dim), (to_n(x, True),))
    compare_modules(nn.GLU(dim), torch.nn.GLU(dim), x)


def test_glu_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(norch.randn(3, 5), -1)
    with pytest.raises(RuntimeError):
        TF.glu(torch.randn(3, 5), -1)
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(norch.tensor(1.0))


@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((2, 3, 4), 0), ((4,), 0), ((2, 3, 4), -1)])
def test_softmin(shape, dim):
    x = randn(*shape)
    compare_call(lambda a: F.softmin(a, dim), lambda a: TF.softmin(a, dim), [x])
    assert gradcheck(lambda a: F.softmin(a, dim), (to_n(x, True),))
    compare_modules(nn.Softmin(dim), torch.nn.Softmin(dim), x)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5)])
def test_softmax2d(shape):
    compare_modules(nn.Softmax2d(), torch.nn.Softmax2d(), randn(*shape))
    with pytest.raises(ValueError):
        nn.Softmax2d()(norch.randn(3, 4))
    with pytest.raises(ValueError):
        torch.nn.Softmax2d()(torch.randn(3, 4))


@pytest.mark.parametrize("num,shape", [(1, (2, 3, 4)), (3, (2, 3, 4)), (3, (2, 3)), (1, (5,)), (1, ())])
def test_prelu(num, shape):
    ours, theirs = nn.PReLU(num, init=0.3), torch.nn.PReLU(num, init=0.3)
    assert ours.weight.shape == theirs.weight.shape
    close(ours.weight, theirs.weight)
    # a non-constant weight so each channel's slope is checked
    with torch.no_grad():
        theirs.weight.copy_(torch.linspace(0.1, 0.9, num))
    compare_modules(ours, theirs, _avoid_kinks(randn(*shape)))


def test_prelu_functional_gradcheck_and_errors():
    x, w = _avoid_kinks(randn(2, 3, 4)), randn(3)
    assert gradcheck(F.prelu, (to_n(x, True), to_n(w, True)))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(norch.randn(2, 3, 4), norch.randn(4))
    with pytest.raises(RuntimeError):
        TF.prelu(torch.randn(2, 3, 4), torch.randn(4))
    with pytest.raises(RuntimeError, match="channel size = 1"):  # 1-D input has one channel
        F.prelu(norch.randn(4), norch.randn(4))
    with pytest.raises(RuntimeError):
        TF.prelu(torch.randn(4), torch.randn(4))


def test_rrelu_training_draws_slopes_in_range():
    m = nn.RReLU(0.1, 0.3)
    x = -norch.ones(20000)
    y = m(x)
    slopes = -y.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005  # U(0.1, 0.3) has mean 0.2
    assert len(np.unique(slopes)) > 1000  # one slope per element
    pos = norch.ones(10)
    close(m(pos), pos)  # positives pass through
    m.eval()
    close(m(x), x * 0.2)  # eval: the mean slope


MODULES = [
    (lambda M: M.Threshold(0.1, 20.0), "Threshold(threshold=0.1, value=20.0)"),
    (lambda M: M.Threshold(0.1, 20.0, True), "Threshold(threshold=0.1, value=20.0, inplace=True)"),
    (lambda M: M.CELU(0.7), "CELU(alpha=0.7)"),
    (lambda M: M.SELU(), "SELU()"), (lambda M: M.SELU(True), "SELU(inplace=True)"),
    (lambda M: M.Hardsigmoid(), "Hardsigmoid()"), (lambda M: M.Hardswish(), "Hardswish()"),
    (lambda M: M.Mish(), "Mish()"), (lambda M: M.Softshrink(0.3), "Softshrink(0.3)"),
    (lambda M: M.Hardshrink(), "Hardshrink(0.5)"), (lambda M: M.Tanhshrink(), "Tanhshrink()"),
    (lambda M: M.LogSigmoid(), "LogSigmoid()"), (lambda M: M.Softsign(), "Softsign()"),
    (lambda M: M.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
    (lambda M: M.GLU(), "GLU(dim=-1)"), (lambda M: M.Softmin(1), "Softmin(dim=1)"),
    (lambda M: M.Softmax2d(), "Softmax2d()"), (lambda M: M.PReLU(3), "PReLU(num_parameters=3)"),
]


@pytest.mark.parametrize("make,text", MODULES)
def test_module_repr_matches_torch(make, text):
    assert repr(make(nn)) == repr(make(torch.nn)) == text


@pytest.mark.parametrize("make", [m for m, _ in MODULES if "Softmax2d" not in _ and "PReLU" not in _])
def test_module_eval_forward_matches(make):
    ours, theirs = make(nn), make(torch.nn)
    ours.eval()
    theirs.eval()
    x = _avoid_kinks(randn(2, 4, 6))
    if getattr(theirs, "inplace", False):
        close(ours(norch.tensor(x)), theirs(torch.tensor(x)))
    else:
        compare_modules(ours, theirs, x)


def test_bad_arguments_raise_like_torch():
    with pytest.raises(RuntimeError):
        TF.softshrink(torch.randn(3), -1.0)
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(norch.randn(3), -1.0)
    with pytest.raises(RuntimeError):
        TF.celu(torch.randn(3), 0.0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        F.celu(norch.randn(3), 0.0)


def test_gumbel_softmax():
    logits = norch.randn(6, 5, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(y.detach().numpy().sum(-1), 1.0, rtol=1e-6)
    h = F.gumbel_softmax(logits, hard=True)
    hv = h.detach().numpy()
    assert set(np.unique(hv)) <= {0.0, 1.0} and (hv.sum(-1) == 1).all()
    h.sum().backward()  # straight-through: a gradient reaches the logits
    assert logits.grad is not None
    # the sampled argmax follows the softmax of the logits: a dominant logit wins nearly always
    big = norch.tensor([[10.0, 0.0, 0.0]]).expand(2000, 3)
    assert F.gumbel_softmax(big, hard=True).numpy()[:, 0].mean() > 0.99
