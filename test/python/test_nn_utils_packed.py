"""nn.utils.rnn packed sequences against PyTorch: pack_padded_sequence (sorted and not),
pad_packed_sequence, pack_sequence / unpack_sequence, and RNN / LSTM / GRU running over a
PackedSequence (multi-layer, bidirectional, given initial states), outputs and gradients."""
import numpy as np
import pytest

import norch
from norch.autograd.gradcheck import gradcheck
from norch.nn.utils import rnn as nrnn

import torch  # the oracle: required, never skipped
from torch.nn.utils import rnn as trnn  # noqa: E402

rng = np.random.default_rng(1)
LENGTHS = [3, 5, 1, 4]
SORTED = [5, 4, 3, 1]


def _np(t):
    return t.detach().numpy()


def _pair(shape, dtype=np.float64, grad=True):
    a = rng.standard_normal(shape).astype(dtype)
    return norch.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _assert_packed_equal(n, t):
    np.testing.assert_allclose(_np(n.data), _np(t.data), rtol=1e-12, atol=1e-12)
    assert n.batch_sizes.tolist() == t.batch_sizes.tolist()
    assert str(n.batch_sizes.dtype) == "norch.int64" and n.batch_sizes.device.type == "cpu"
    for a, b in ((n.sorted_indices, t.sorted_indices), (n.unsorted_indices, t.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [(SORTED, True), (LENGTHS, False), (SORTED, False)])
def test_pack_pad_round_trip_matches_torch(batch_first, lengths, enforce_sorted):
    shape = (4, 5, 3) if batch_first else (5, 4, 3)
    nx, tx = _pair(shape)
    n = nrnn.pack_padded_sequence(nx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    t = trnn.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(n, nrnn.PackedSequence) and isinstance(n, tuple) and len(n) == 4
    _assert_packed_equal(n, t)
    for total_length in (None, 7):
        n_pad, n_len = nrnn.pad_packed_sequence(n, batch_first=batch_first, padding_value=-2.5,
                                                total_length=total_length)
        t_pad, t_len = trnn.pad_packed_sequence(t, batch_first=batch_first, padding_value=-2.5,
                                                total_length=total_length)
        assert tuple(n_pad.shape) == tuple(t_pad.shape)
        np.testing.assert_array_equal(_np(n_pad), _np(t_pad))
        assert n_len.tolist() == t_len.tolist() and str(n_len.dtype) == "norch.int64"
    # gradients flow through packing and padding to the padded input, zero on the padding
    w = rng.standard_normal(tuple(t_pad.shape))
    (n_pad * norch.tensor(w)).sum().backward()
    (t_pad * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_lengths_as_a_tensor_and_non_contiguous_input():
    a = rng.standard_normal((4, 5, 3))
    nx, tx = norch.tensor(a).transpose(0, 1), torch.tensor(a).transpose(0, 1)   # (5, 4, 3), non-contiguous
    n = nrnn.pack_padded_sequence(nx, norch.tensor(LENGTHS), enforce_sorted=False)
    t = trnn.pack_padded_sequence(tx, torch.tensor(LENGTHS), enforce_sorted=False)
    _assert_packed_equal(n, t)


def test_pack_and_pad_gradcheck():
    x = norch.tensor(rng.standard_normal((5, 4, 2)), requires_grad=True)

    def round_trip(x):
        packed = nrnn.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
        return nrnn.pad_packed_sequence(packed, padding_value=0.5, total_length=6)[0]
    assert gradcheck(round_trip, (x,))
    assert gradcheck(lambda x: nrnn.pack_padded_sequence(x, SORTED).data, (x,))


def test_pack_sequence_and_unpack_sequence():
    arrays = [rng.standard_normal((n, 2)) for n in LENGTHS]
    for enforce_sorted, order in ((False, LENGTHS), (True, SORTED)):
        seqs = [a for n in order for a in arrays if len(a) == n][:len(order)]
        n = nrnn.pack_sequence([norch.tensor(a) for a in seqs], enforce_sorted=enforce_sorted)
        t = trnn.pack_sequence([torch.tensor(a) for a in seqs], enforce_sorted=enforce_sorted)
        _assert_packed_equal(n, t)
        back = nrnn.unpack_sequence(n)
        assert [tuple(b.shape) for b in back] == [a.shape for a in seqs]
        for b, a in zip(back, seqs):
            np.testing.assert_array_equal(b.numpy(), a)


def test_invert_permutation_and_packed_sequence_conversions():
    perm = norch.tensor([2, 0, 3, 1])
    assert nrnn.invert_permutation(perm).tolist() == trnn.invert_permutation(torch.tensor([2, 0, 3, 1])).tolist()
    assert nrnn.invert_permutation(None) is None
    packed = nrnn.pack_sequence([norch.ones(3, 2), norch.ones(1, 2)])
    as_double = packed.double()
    assert isinstance(as_double, nrnn.PackedSequence) and as_double.data.dtype == norch.float64
    assert as_double.batch_sizes is packed.batch_sizes and not packed.is_cuda and not packed.is_pinned()
    assert packed.to("cpu") is packed
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert sorted_indices is None and unsorted_indices is None and batch_sizes.tolist() == [2, 1, 1]
    rebuilt = nrnn.PackedSequence(data, batch_sizes)
    assert rebuilt.batch_sizes.tolist() == [2, 1, 1]


def test_packing_errors_like_torch():
    for lib, mod in ((norch, nrnn), (torch, trnn)):
        x = lib.zeros(5, 4, 3)
        with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
            mod.pack_padded_sequence(x, LENGTHS)
        with pytest.raises(RuntimeError, match="Expected `len\\(lengths\\)` to be equal to batch_size"):
            mod.pack_padded_sequence(x, [5, 4, 3])
        with pytest.raises(RuntimeError, match="has to be greater than 0"):
            mod.pack_padded_sequence(x, [5, 4, 3, 0])
        with pytest.raises(RuntimeError, match="should be a 1D"):
            mod.pack_padded_sequence(x, lib.tensor([[5, 4, 3, 1]]))
        packed = mod.pack_padded_sequence(x, SORTED)
        with pytest.raises(ValueError, match="Expected total_length to be at least"):
            mod.pad_packed_sequence(packed, total_length=3)


def _rnn_pair(mode, input_size, hidden, **kwargs):
    t = getattr(torch.nn, mode)(input_size, hidden, **kwargs).double()
    n = getattr(norch.nn, mode)(input_size, hidden, **kwargs).double()
    n.load_state_dict({k: norch.tensor(_np(v)) for k, v in t.state_dict().items()})
    return n, t


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True), (3, False), (1, True)])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_modules_over_packed_sequences(mode, num_layers, bidirectional, enforce_sorted, with_hx):
    n_mod, t_mod = _rnn_pair(mode, 3, 4, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    nx, tx = _pair((4, 5, 3))
    lengths = SORTED if enforce_sorted else LENGTHS
    n_in = nrnn.pack_padded_sequence(nx, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    t_in = trnn.pack_padded_sequence(tx, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    state = (num_layers * (2 if bidirectional else 1), 4, 4)
    n_hx = t_hx = None
    if with_hx:
        if mode == "LSTM":
            (nh, th), (nc, tc) = _pair(state), _pair(state)
            n_hx, t_hx = (nh, nc), (th, tc)
        else:
            n_hx, t_hx = _pair(state)
    n_out, n_state = n_mod(n_in, n_hx)
    t_out, t_state = t_mod(t_in, t_hx)
    assert isinstance(n_out, nrnn.PackedSequence)
    _assert_packed_equal(n_out, t_out)
    n_states = n_state if mode == "LSTM" else (n_state,)
    t_states = t_state if mode == "LSTM" else (t_state,)
    for a, b in zip(n_states, t_states):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)
    n_pad, _ = nrnn.pad_packed_sequence(n_out, batch_first=True)
    t_pad, _ = trnn.pad_packed_sequence(t_out, batch_first=True)
    w = rng.standard_normal(tuple(t_pad.shape))
    n_loss = (n_pad * norch.tensor(w)).sum() + sum((s * s).sum() for s in n_states)
    t_loss = (t_pad * torch.tensor(w)).sum() + sum((s * s).sum() for s in t_states)
    n_loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, q) in zip(n_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    if with_hx:
        for a, b in zip(n_hx if mode == "LSTM" else (n_hx,), t_hx if mode == "LSTM" else (t_hx,)):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_packed_lstm_gradcheck():
    n_mod, _ = _rnn_pair("LSTM", 2, 3, bidirectional=True)
    x = norch.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)

    def run(x):
        out, (h, c) = n_mod(nrnn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False))
        return nrnn.pad_packed_sequence(out)[0], h, c
    assert gradcheck(run, (x,))


def test_packed_input_errors():
    # PyTorch 2.13 checks neither the feature size of packed data nor names the hidden state's
    # expected size; norch says both, as it does for padded input.
    lstm = norch.nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        lstm(nrnn.pack_sequence([norch.zeros(3, 5)]))
    for lib, mod in ((norch, nrnn), (torch, trnn)):
        with pytest.raises(RuntimeError):
            lib.nn.LSTM(3, 4)(mod.pack_sequence([lib.zeros(3, 3), lib.zeros(2, 3)]),
                              (lib.zeros(1, 3, 4), lib.zeros(1, 3, 4)))
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 2, 4\\), got"):
        lstm(nrnn.pack_sequence([norch.zeros(3, 3), norch.zeros(2, 3)]), (norch.zeros(1, 3, 4), norch.zeros(1, 3, 4)))
