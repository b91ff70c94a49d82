"""nn.Transformer and its encoder/decoder layers and stacks against PyTorch: torch's
state_dict loads into norch unchanged (same names and shapes), and the forward and
backward of an encoder-decoder agree within 1e-4 across norm_first, activations given
as str or callable, batch_first, masks and batch-less inputs."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped

import norch
import norch.nn as nn
import norch.nn.functional as F
from _nn_family_util import close, copy_weights, randn

D, H, FF = 8, 2, 16


def _pair(make):
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(nn)
    assert sorted((k, tuple(v.shape)) for k, v in ours.state_dict().items()) == \
        sorted((k, tuple(v.shape)) for k, v in theirs.state_dict().items())
    copy_weights(ours, theirs)
    return ours, theirs


def _run(ours, theirs, arrays, kw_n=None, kw_t=None, tol=1e-4):
    xn = [norch.tensor(a, requires_grad=True) for a in arrays]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    on = ours(*xn, **(kw_n or {}))
    ot = theirs(*xt, **(kw_t or {}))
    close(on, ot, rtol=tol, atol=tol)
    g = randn(*ot.shape).astype(np.float32)
    on.backward(norch.tensor(g))
    ot.backward(torch.tensor(g))
    for a, b in zip(xn, xt):
        close(a.grad, b.grad, rtol=tol, atol=tol)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_decoder_matches_torch(norm_first, activation, batch_first):
    def make(M):
        act = (lambda x: x * 0.5 + x.tanh()) if activation == "callable" else activation
        return M.Transformer(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
                             dropout=0.0, activation=act, batch_first=batch_first, norm_first=norm_first)
    ours, theirs = _pair(make)
    S, T, N = 5, 4, 3
    src = randn(N, S, D) if batch_first else randn(S, N, D)
    tgt = randn(N, T, D) if batch_first else randn(T, N, D)
    src, tgt = src.astype(np.float32), tgt.astype(np.float32)
    pad = np.zeros((N, S), dtype=bool)
    pad[0, -2:] = True
    kw_n = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(T),
            "src_key_padding_mask": norch.tensor(pad), "memory_key_padding_mask": norch.tensor(pad)}
    kw_t = {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(T),
            "src_key_padding_mask": torch.tensor(pad), "memory_key_padding_mask": torch.tensor(pad)}
    _run(ours, theirs, [src, tgt], kw_n, kw_t)


def test_transformer_unbatched_and_masks():
    ours, theirs = _pair(lambda M: M.Transformer(D, H, 1, 1, FF, dropout=0.0))
    src, tgt = randn(5, D).astype(np.float32), randn(4, D).astype(np.float32)
    mask = np.triu(np.ones((5, 5), dtype=bool), 1)
    _run(ours, theirs, [src, tgt], {"src_mask": norch.tensor(mask), "tgt_is_causal": True,
                                    "tgt_mask": nn.Transformer.generate_square_subsequent_mask(4)},
         {"src_mask": torch.tensor(mask), "tgt_is_causal": True,
          "tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(4)})


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_and_stack(norm_first):
    ours, theirs = _pair(lambda M: M.TransformerEncoder(
        M.TransformerEncoderLayer(D, H, FF, dropout=0.0, norm_first=norm_first, batch_first=True), 2,
        norm=M.LayerNorm(D), enable_nested_tensor=False))
    x = randn(3, 6, D).astype(np.float32)
    _run(ours, theirs, [x], {"mask": nn.Transformer.generate_square_subsequent_mask(6), "is_causal": True},
         {"mask": torch.nn.Transformer.generate_square_subsequent_mask(6), "is_causal": True})
    layer_n, layer_t = _pair(lambda M: M.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation="gelu",
                                                                 norm_first=norm_first, bias=False))
    _run(layer_n, layer_t, [randn(6, 3, D).astype(np.float32)])


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_and_stack(norm_first):
    ours, theirs = _pair(lambda M: M.TransformerDecoder(
        M.TransformerDecoderLayer(D, H, FF, dropout=0.0, norm_first=norm_first), 2))
    tgt, mem = randn(4, 3, D).astype(np.float32), randn(6, 3, D).astype(np.float32)
    _run(ours, theirs, [tgt, mem], {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4)},
         {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(4)})


def test_structure_repr_and_mask():
    ours, theirs = nn.TransformerEncoderLayer(D, H, FF), torch.nn.TransformerEncoderLayer(D, H, FF)
    assert repr(ours) == repr(theirs)
    m = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(m, torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    t = nn.Transformer(D, H, 2, 3, FF)
    assert len(t.encoder.layers) == 2 and len(t.decoder.layers) == 3
    assert t.encoder.layers[0] is not t.encoder.layers[1]  # clones, not shared
    assert t.encoder.layers[0].activation is F.relu
    # xavier_uniform on every matrix: bound sqrt(6 / (fan_in + fan_out))
    w = t.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF)) + 1e-6
    assert np.abs(w).max() > 0.8 * np.sqrt(6 / (D + FF))


def test_dropout_in_training_and_eval():
    t = nn.Transformer(D, H, 1, 1, FF, dropout=0.5)
    src, tgt = norch.randn(5, 2, D), norch.randn(4, 2, D)
    a, b = t(src, tgt).detach().numpy(), t(src, tgt).detach().numpy()
    assert not np.allclose(a, b)  # dropout is active in training
    t.eval()
    np.testing.assert_array_equal(t(src, tgt).detach().numpy(), t(src, tgt).detach().numpy())


def test_errors_like_torch():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(D, H, FF, activation="tanh")
    with pytest.raises(RuntimeError):
        torch.nn.TransformerEncoderLayer(D, H, FF, activation="tanh")
    t = nn.Transformer(D, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        t(norch.randn(5, 2, D), norch.randn(4, 3, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        t(norch.randn(5, 2, D), norch.randn(4, 2, D + 1))
