"""Recurrent layers (RNN, LSTM, GRU and their cells) and attention (scaled_dot_product_attention,
MultiheadAttention): forward and backward against PyTorch with copied weights, gradcheck
(float64), and argument errors."""

import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.nn as nn
import norch.nn.functional as F
from norch.autograd import gradcheck

from _oracle import assert_close, compare, copy_params, to_norch, torch_randn


# ---- recurrent layers ------------------------------------------------------------------------------
RNN_CASES = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("LSTM", {}), ("LSTM", {"num_layers": 2}),
    ("GRU", {}), ("GRU", {"num_layers": 2, "bias": False}), ("LSTM", {"bidirectional": True}),
    ("GRU", {"bidirectional": True, "num_layers": 2}), ("RNN", {"batch_first": True}),
    ("LSTM", {"batch_first": True, "num_layers": 2}),
]


@pytest.mark.parametrize("kind,kwargs", RNN_CASES)
def test_rnn_vs_torch(kind, kwargs, device):
    n, t = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    x = torch_randn(2, 5, 3) if kwargs.get("batch_first") else torch_randn(5, 2, 3)
    compare(n, t, [x], rtol=1e-4, atol=1e-5, pick=lambda out: out[0], device=device)
    compare(n, t, [x], rtol=1e-4, atol=1e-5, pick=lambda out: out[1][0] if kind == "LSTM" else out[1], device=device)
    if kind == "LSTM":
        compare(n, t, [x], rtol=1e-4, atol=1e-5, pick=lambda out: out[1][1], device=device)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_rnn_initial_state_and_unbatched(kind):
    n, t = getattr(nn, kind)(3, 4, num_layers=2), getattr(torch.nn, kind)(3, 4, num_layers=2)
    copy_params(t, n)
    x = torch_randn(5, 2, 3)
    h0 = torch_randn(2, 2, 4, seed=3)
    if kind == "LSTM":
        c0 = torch_randn(2, 2, 4, seed=4)
        out_t, (h_t, c_t) = t(x, (h0, c0))
        out_n, (h_n, c_n) = n(to_norch(x), (to_norch(h0), to_norch(c0)))
        assert_close(c_n, c_t, 1e-4)
        out_tu, _ = t(x[:, 0], (h0[:, 0], c0[:, 0]))
        out_nu, (h_nu, _) = n(to_norch(x[:, 0]), (to_norch(h0[:, 0]), to_norch(c0[:, 0])))
    else:
        out_t, h_t = t(x, h0)
        out_n, h_n = n(to_norch(x), to_norch(h0))
        out_tu, _ = t(x[:, 0], h0[:, 0])
        out_nu, h_nu = n(to_norch(x[:, 0]), to_norch(h0[:, 0]))
    assert_close(out_n, out_t, 1e-4)
    assert_close(h_n, h_t, 1e-4)
    assert_close(out_nu, out_tu, 1e-4)
    assert tuple(h_nu.shape) == (2, 4)


def test_rnn_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size"):
        lstm(norch.ones(5, 2, 7))
    with pytest.raises(RuntimeError, match="hidden"):
        lstm(norch.ones(5, 2, 3), (norch.zeros(1, 3, 4), norch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="2D or 3D"):
        lstm(norch.ones(3))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.warns(UserWarning, match="dropout"):
        nn.LSTM(3, 4, dropout=0.5)
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=2.0)


def test_rnn_dropout_between_layers_only_in_training():
    n = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = norch.ones(4, 1, 3)
    n.eval()
    a, b = n(x)[0].detach().numpy(), n(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    n.train()
    outs = [n(x)[0].detach().numpy() for _ in range(5)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_rnn_cells_vs_torch_and_gradcheck(kind, device):
    n, t = getattr(nn, kind)(3, 4), getattr(torch.nn, kind)(3, 4)
    pick = (lambda out: out[0] + out[1] * 2) if kind == "LSTMCell" else (lambda out: out)
    compare(n, t, [torch_randn(2, 3)], pick=pick, device=device)
    compare(n, t, [torch_randn(3)], pick=pick, device=device)  # unbatched
    n.to("cpu").double()  # gradcheck runs on the CPU
    x = to_norch(torch_randn(2, 3, dtype=torch.float64), True)
    h = to_norch(torch_randn(2, 4, dtype=torch.float64, seed=7), True)
    if kind == "LSTMCell":
        c = to_norch(torch_randn(2, 4, dtype=torch.float64, seed=8), True)
        assert gradcheck(lambda x, h, c, w: pick(n(x, (h, c))) * w.sum(), (x, h, c, n.weight_hh))
    else:
        assert gradcheck(lambda x, h, w: n(x, h) * w.sum(), (x, h, n.weight_ih))


def test_rnn_gradcheck_float64():
    for kind in ("RNN", "LSTM", "GRU"):
        n = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True).double()
        x = to_norch(torch_randn(3, 1, 2, dtype=torch.float64), True)
        assert gradcheck(lambda x: n(x)[0], (x,))


# ---- attention ---------------------------------------------------------------------------------------
def _sdpa_inputs(dtype=torch.float64):
    return torch_randn(2, 3, 4, 5, dtype=dtype), torch_randn(2, 3, 6, 5, dtype=dtype, seed=1), torch_randn(2, 3, 6, 7, dtype=dtype, seed=2)


@pytest.mark.parametrize("kwargs", [
    {}, {"is_causal": True}, {"scale": 0.3},
    {"attn_mask": torch.rand(4, 6, generator=torch.Generator().manual_seed(0)) > 0.3},
    {"attn_mask": torch_randn(2, 1, 4, 6, dtype=torch.float64, seed=5)},
])
def test_scaled_dot_product_attention(kwargs):
    q, k, v = _sdpa_inputs()
    if "attn_mask" in kwargs and kwargs["attn_mask"].dtype == torch.bool:
        kwargs["attn_mask"][:, 0] = True  # every query sees at least one key
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
    nk = {key: (to_norch(val) if isinstance(val, torch.Tensor) else val) for key, val in kwargs.items()}
    got = F.scaled_dot_product_attention(to_norch(q), to_norch(k), to_norch(v), **nk)
    assert_close(got, expected, 1e-10, 1e-10)
    qn, kn, vn = (to_norch(a[:1, :1], True) for a in (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **nk), (qn, kn, vn))


def test_sdpa_large_scores_are_stable():
    q, k, v = _sdpa_inputs(torch.float32)
    q = q * 300
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    got = F.scaled_dot_product_attention(to_norch(q), to_norch(k), to_norch(v))
    assert_close(got, expected, 1e-4, 1e-4)


def test_sdpa_causal_with_mask_raises():
    q, k, v = (to_norch(a) for a in _sdpa_inputs())
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=norch.ones(4, 6), is_causal=True)


@pytest.mark.parametrize("kwargs,fwd", [
    ({}, {}),
    ({"batch_first": True}, {}),
    ({"bias": False}, {"average_attn_weights": False}),
    ({"kdim": 5, "vdim": 3}, {}),
    ({}, {"need_weights": False}),
    ({}, {"attn_mask": "bool"}),
    ({}, {"attn_mask": "float3d"}),
    ({}, {"key_padding_mask": True}),
    ({"batch_first": True}, {"key_padding_mask": True, "attn_mask": "bool", "need_weights": False}),
    ({"add_bias_kv": True}, {}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"key_padding_mask": True, "attn_mask": "float3d"}),
    ({"add_zero_attn": True, "batch_first": True}, {"attn_mask": "bool"}),
])
def test_multihead_attention(kwargs, fwd, device):
    E, H, L, S, N = 8, 2, 4, 6, 3
    n, t = nn.MultiheadAttention(E, H, **kwargs), torch.nn.MultiheadAttention(E, H, **kwargs)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    kdim, vdim = kwargs.get("kdim", E), kwargs.get("vdim", E)
    if kwargs.get("batch_first"):
        q, k, v = torch_randn(N, L, E), torch_randn(N, S, kdim, seed=1), torch_randn(N, S, vdim, seed=2)
    else:
        q, k, v = torch_randn(L, N, E), torch_randn(S, N, kdim, seed=1), torch_randn(S, N, vdim, seed=2)
    tf = dict(fwd)
    if fwd.get("attn_mask") == "bool":
        m = torch.rand(L, S, generator=torch.Generator().manual_seed(3)) > 0.6
        m[:, 0] = False
        tf["attn_mask"] = m
    elif fwd.get("attn_mask") == "float3d":
        tf["attn_mask"] = torch_randn(N * H, L, S, seed=4)
    if fwd.get("key_padding_mask"):
        kpm = torch.zeros(N, S, dtype=torch.bool)
        kpm[0, -2:] = True
        kpm[2, -1] = True
        tf["key_padding_mask"] = kpm
    nf = {key: (to_norch(val) if isinstance(val, torch.Tensor) else val) for key, val in tf.items()}
    copy_params(t, n)
    out_t, w_t = t(q, k, v, **tf)
    out_n, w_n = n(to_norch(q), to_norch(k), to_norch(v), **nf)
    assert_close(out_n, out_t, 1e-4, 1e-5)
    if w_t is None:
        assert w_n is None
    else:
        assert_close(w_n, w_t, 1e-4, 1e-5)
    compare(n, t, [q, k, v], rtol=1e-4, atol=1e-5, pick=lambda out: out[0], device=device)


def test_multihead_attention_unbatched_and_gradcheck(device):
    n, t = nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)
    compare(n, t, [torch_randn(3, 4), torch_randn(5, 4, seed=1), torch_randn(5, 4, seed=2)], rtol=1e-4, atol=1e-5,
            pick=lambda out: out[0], device=device)
    n.double()
    q = to_norch(torch_randn(2, 1, 4, dtype=torch.float64), True)
    kv = to_norch(torch_randn(3, 1, 4, dtype=torch.float64, seed=1), True)
    assert gradcheck(lambda q, kv, w: n(q, kv, kv)[0] * w.sum(), (q, kv, n.in_proj_weight))


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(4, 2)
    x = norch.ones(3, 2, 4)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=norch.zeros(2, 2))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=norch.zeros(3, 3))
    with pytest.raises(AssertionError, match="embedding dimension"):
        mha(norch.ones(3, 2, 5), x, x)
