"""In-place writes through views update the history of the tensor they view
(Note [In-place on views] in src/autograd/function.cpp)."""
import numpy as np
import pytest

import norch
from norch.autograd import gradcheck, gradgradcheck


def _inputs():
    rng = np.random.default_rng(0)
    a = norch.tensor(rng.standard_normal((3, 4)), dtype=norch.float64, requires_grad=True)
    b = norch.tensor(rng.standard_normal(4), dtype=norch.float64, requires_grad=True)
    return a, b


@pytest.mark.parametrize("write", [
    lambda y, b: y[1].mul_(b),
    lambda y, b: y.T[2].add_(b[:3]),
    lambda y, b: y[:, 1:3].sigmoid_(),
    lambda y, b: y[0].copy_(b),
    lambda y, b: y.view(12)[::5].zero_(),
    lambda y, b: y[2].__setitem__(slice(0, 2), b[2:]),
    lambda y, b: y[1].__setitem__(norch.tensor([0, 3]), b[:2] * 3),
])
def test_gradients_through_inplace_view_writes(write):
    a, b = _inputs()

    def f(a, b):
        y = a * 2
        write(y, b)
        return y

    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))


def test_base_and_value_gradients_match_closed_form():
    x = norch.ones(3, 3, requires_grad=True)
    v = norch.tensor([5.0, 6.0, 7.0], requires_grad=True)
    y = x * 2
    y[0].mul_(v)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[10, 12, 14], [2, 2, 2], [2, 2, 2]])
    np.testing.assert_allclose(v.grad.numpy(), [2, 2, 2])
    assert y.grad_fn.name() == "CopySlices"


def test_view_of_leaf_requiring_grad_refuses_inplace():
    w = norch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0].add_(1)
    with norch.no_grad():
        w[0].add_(1)
    np.testing.assert_allclose(w.detach().numpy(), [2, 1, 1])


def test_saved_output_modified_through_view_is_detected():
    a, b = _inputs()
    y = a.exp()  # exp saves its output
    y[1].mul_(b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
