"""nn.utils.rnn.pad_sequence / unpad_sequence against PyTorch: layouts, padding sides and
values, dtypes, empty and non-contiguous sequences, gradients, and PyTorch's errors."""
import numpy as np
import pytest

import norch
from norch.autograd.gradcheck import gradcheck
from norch.nn.utils.rnn import pad_sequence, unpad_sequence

import torch  # the oracle: required, never skipped
from torch.nn.utils import rnn as trnn  # noqa: E402

rng = np.random.default_rng(0)
SEQS = [rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 4)), rng.standard_normal((0, 2, 4)),
        rng.standard_normal((1, 2, 4))]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_pad_sequence_matches_torch(batch_first, padding_side, dtype):
    seqs = [a.astype(dtype) if dtype != "int64" else (a * 10).astype(dtype) for a in SEQS]
    n = pad_sequence([norch.tensor(a) for a in seqs], batch_first=batch_first, padding_value=-7,
                     padding_side=padding_side)
    t = trnn.pad_sequence([torch.tensor(a) for a in seqs], batch_first=batch_first, padding_value=-7,
                          padding_side=padding_side)
    assert tuple(n.shape) == tuple(t.shape) and str(n.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(n.numpy(), t.numpy())


def test_pad_sequence_non_contiguous():
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 8))
    n = pad_sequence([norch.tensor(a).t(), norch.tensor(b)[:, ::2]], batch_first=True)
    t = trnn.pad_sequence([torch.tensor(a).t(), torch.tensor(b)[:, ::2]], batch_first=True)
    np.testing.assert_array_equal(n.numpy(), t.numpy())


def test_pad_sequence_accepts_a_tensor_and_an_iterator():
    x = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(pad_sequence(norch.tensor(x)).numpy(), trnn.pad_sequence(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(pad_sequence(iter([norch.tensor(x[0])]), batch_first=True).numpy(), x[:1])


def test_pad_sequence_gradcheck():
    a = norch.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = norch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda a, b: pad_sequence([a, b], batch_first=True, padding_value=1.5), (a, b))
    assert gradcheck(lambda a, b: pad_sequence([a, b], padding_side="left"), (a, b))


def test_unpad_sequence_inverts_pad_sequence():
    for batch_first in (False, True):
        seqs = [norch.tensor(a) for a in SEQS]
        padded = pad_sequence(seqs, batch_first=batch_first)
        lengths = norch.tensor([len(a) for a in SEQS])
        back = unpad_sequence(padded, lengths, batch_first=batch_first)
        t_back = trnn.unpad_sequence(trnn.pad_sequence([torch.tensor(a) for a in SEQS], batch_first=batch_first),
                                     torch.tensor([len(a) for a in SEQS]), batch_first=batch_first)
        assert len(back) == len(t_back)
        for n, t in zip(back, t_back):
            np.testing.assert_array_equal(n.numpy(), t.numpy())


def test_pad_sequence_errors_like_torch():
    for lib_pad, lib in ((pad_sequence, norch), (trnn.pad_sequence, torch)):
        with pytest.raises(RuntimeError, match="empty list of sequences"):
            lib_pad([])
        with pytest.raises(RuntimeError, match="padding_side to be one of left or right"):
            lib_pad([lib.ones(2)], padding_side="middle")
        with pytest.raises(RuntimeError):
            lib_pad([lib.ones(2, 3), lib.ones(2, 4)])
    with pytest.raises(RuntimeError, match="0-d"):
        pad_sequence([norch.ones(()), norch.ones(())])
