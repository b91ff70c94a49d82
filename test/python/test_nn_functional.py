"""Softmax, embedding, dropout and normalize (norch.nn.functional) against PyTorch (CPU)
as the oracle. Losses: test_nn_loss.py; norms: test_nn_norm.py."""
import numpy as np
import pytest
import torch  # the oracle for these tests
import torch.nn.functional as TF

import norch
import norch.nn.functional as F
from norch.autograd import gradcheck, gradgradcheck

from _oracle import arr, check_op, close, nt, tt


# ---------------------------------------------------------------- softmax

SOFTMAX_CASES = [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((4,), 0), ((), 0), ((0, 3), 1)]


@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_forward_backward(name, shape, dim, device):
    x = arr(*shape)
    check_op(lambda a: getattr(F, name)(a, dim), [x], lambda a: getattr(TF, name)(tt(a), dim).numpy(), device,
             grad=x.size > 0, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_noncontiguous_dtype_and_extremes(name):
    x = arr(5, 4)
    close(getattr(F, name)(nt(x).t(), 1), getattr(TF, name)(tt(x).t(), 1))
    assert gradcheck(lambda a: getattr(F, name)(a.t(), 0), (nt(x, True),))
    # dtype= casts before computing (float32 input, float64 result)
    out = getattr(F, name)(nt(x, dtype=np.float32), 1, dtype=norch.float64)
    assert out.dtype == norch.float64
    close(out, getattr(TF, name)(tt(x, np.float32), 1, dtype=torch.float64))
    big = np.array([[1000.0, 0.0, -1000.0]])
    close(getattr(F, name)(nt(big), 1), getattr(TF, name)(tt(big), 1))
    close(getattr(F, name)(nt(x)), getattr(TF, name)(tt(x), dim=1))  # implicit dim for 2-d


def test_softmax_int_input_raises():
    with pytest.raises(NotImplementedError, match="softmax"):
        F.softmax(nt(np.array([1, 2, 3])), 0)
    close(F.softmax(nt(np.array([1, 2, 3])), 0, dtype=norch.float64), TF.softmax(tt([1.0, 2.0, 3.0]), 0))
    with pytest.raises(IndexError):
        F.softmax(nt(arr(2, 3)), 2)


def test_softmax_of_empty_input():
    assert F.softmax(nt(np.zeros((0, 4))), 1).shape == (0, 4)


# ---------------------------------------------------------------- embedding, dropout

def test_embedding_forward_backward_padding():
    W = arr(6, 3)
    idx = np.array([[0, 2, 2], [5, 1, 2]])
    close(F.embedding(nt(idx), nt(W)), TF.embedding(tt(idx), tt(W)))
    nw = nt(W, True)
    F.embedding(nt(idx), nw, padding_idx=2).sum().backward()
    tw = torch.tensor(W, requires_grad=True)
    TF.embedding(tt(idx), tw, padding_idx=2).sum().backward()
    close(nw.grad, tw.grad)
    assert np.all(nw.grad.numpy()[2] == 0)
    assert gradcheck(lambda w: F.embedding(nt(idx), w), (nt(W, True),))
    nw = nt(W, True)
    F.embedding(nt(idx), nw, padding_idx=-1).sum().backward()  # -1 wraps to row 5
    assert np.all(nw.grad.numpy()[5] == 0) and np.all(nw.grad.numpy()[0] == 1)
    assert gradgradcheck(lambda w: F.embedding(nt(idx), w, padding_idx=2) ** 2, (nt(W, True),))
    close(F.embedding(nt(idx.astype(np.int32)), nt(W)), TF.embedding(tt(idx), tt(W)))
    assert F.embedding(nt(np.zeros((0,), dtype=np.int64)), nt(W)).shape == (0, 3)


def test_embedding_errors():
    W = nt(arr(4, 3))
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(nt(np.array([4])), W)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(nt(np.array([1.0])), W)
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(nt(np.array([1])), W, padding_idx=4)


def test_dropout_statistics_and_edge_cases():
    x = nt(np.ones((200, 500)))
    out = F.dropout(x, 0.3).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    assert abs(out.mean() - 1.0) < 0.02
    assert F.dropout(x, 0.3, training=False)._is_same(x)
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((200, 500)))
    norch.manual_seed(7)
    first = F.dropout(x, 0.5).numpy()
    norch.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    # two draws differ; the gradient is the same mask
    assert not np.array_equal(F.dropout(x, 0.5).numpy(), F.dropout(x, 0.5).numpy())
    a = nt(arr(50, 40), True)
    y = F.dropout(a, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), (y.detach().numpy() != 0) / 0.6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(RuntimeError, match="floating point"):
        F.dropout(nt(np.ones(3, dtype=np.int64)), 0.5)
    y = nt(np.ones((100, 100)))
    r = F.dropout(y, 0.5, inplace=True)
    assert r._is_same(y) and 0.4 < (y.numpy() == 0).mean() < 0.6
    assert F.dropout(nt(np.array(2.0)), 0.0).item() == 2.0
    assert F.dropout(nt(np.zeros((0, 3))), 0.5).shape == (0, 3)


def test_normalize():
    x = arr(3, 4)
    close(F.normalize(nt(x)), TF.normalize(tt(x)))
    close(F.normalize(nt(x), p=1.0, dim=0), TF.normalize(tt(x), p=1.0, dim=0))
    z = np.zeros((2, 3))
    close(F.normalize(nt(z)), TF.normalize(tt(z)))
    assert gradcheck(lambda a: F.normalize(a), (nt(x, True),))
