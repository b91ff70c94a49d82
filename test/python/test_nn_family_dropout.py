"""Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout: identity in eval, the statistics of the
kept values in training, one mask value per (sample, channel) for the channel-wise forms,
gradients through the mask, batch-less inputs and PyTorch's errors and warnings."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn as nn
import norch.nn.functional as F

CHANNEL = [("dropout1d", nn.Dropout1d, (8, 16, 5), (16, 5)),
           ("dropout2d", nn.Dropout2d, (8, 16, 3, 4), (16, 3, 4)),
           ("dropout3d", nn.Dropout3d, (8, 16, 2, 3, 2), (16, 2, 3, 2))]


@pytest.mark.parametrize("name,cls,shape,unbatched", CHANNEL)
def test_channel_dropout_mask_is_per_channel(name, cls, shape, unbatched):
    p = 0.4
    for s in (shape, unbatched if name != "dropout2d" else shape):
        x = norch.ones(*s)
        y = getattr(F, name)(x, p, True).numpy()
        planes = y.reshape(-1, int(np.prod(s[-(len(shape) - 2):])))
        # every plane is all zeros or all 1/(1-p)
        assert np.all(planes.min(1) == planes.max(1))
        assert set(np.unique(planes)) <= {0.0, np.float32(1 / (1 - p))}


@pytest.mark.parametrize("name,cls,shape,unbatched", CHANNEL)
def test_channel_dropout_statistics_and_eval(name, cls, shape, unbatched):
    p = 0.3
    big = (200,) + shape[1:]
    y = getattr(F, name)(norch.ones(*big), p, True).numpy()
    kept = (y.reshape(200 * shape[1], -1)[:, 0] != 0).mean()
    assert abs(kept - (1 - p)) < 0.03  # 3200 Bernoulli(0.7) channels: std 0.008
    assert abs(y.mean() - 1.0) < 0.05  # unbiased
    m = cls(p)
    assert repr(m) == repr(getattr(torch.nn, cls.__name__)(p)) == f"{cls.__name__}(p={p}, inplace=False)"
    m.eval()
    x = norch.randn(*shape)
    assert m(x)._is_same(x) or np.array_equal(m(x).numpy(), x.numpy())


@pytest.mark.parametrize("name,cls,shape,unbatched", CHANNEL)
def test_channel_dropout_gradient_follows_mask(name, cls, shape, unbatched):
    x = norch.randn(*shape, requires_grad=True)
    y = getattr(F, name)(x, 0.5, True)
    y.sum().backward()
    ratio = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-5)


def test_channel_dropout_inplace_and_edge_p():
    x = norch.ones(4, 6, 5)
    out = F.dropout1d(x, 0.5, True, inplace=True)
    assert out._is_same(x)
    assert F.dropout2d(norch.ones(2, 3, 4, 4), 1.0, True).numpy().sum() == 0
    z = norch.randn(2, 3, 4, 4)
    np.testing.assert_array_equal(F.dropout2d(z, 0.0, True).numpy(), z.numpy())


def test_channel_dropout_errors_like_torch():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(norch.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError):
        TF.dropout1d(torch.randn(2, 3, 4, 5))
    for bad in (-0.1, 1.5):
        for name in ("dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
            with pytest.raises(ValueError, match="dropout probability"):
                getattr(F, name)(norch.randn(2, 3, 4), bad, True)
            with pytest.raises(ValueError):
                getattr(TF, name)(torch.randn(2, 3, 4), bad, True)
        with pytest.raises(ValueError):
            nn.Dropout2d(bad)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(norch.randn(2, 3, 4))
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input"):
        F.dropout3d(norch.randn(2, 3, 4))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_selu_statistics(p):
    x = norch.randn(200000)
    y = F.alpha_dropout(x, p, True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02  # zero mean, unit variance kept
    yt = TF.alpha_dropout(torch.tensor(x.numpy()), p, True).numpy()
    assert abs(y.mean() - yt.mean()) < 0.02 and abs(y.std() - yt.std()) < 0.02
    m = nn.AlphaDropout(p)
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())
    np.testing.assert_array_equal(F.alpha_dropout(x, p).numpy(), x.numpy())  # default training=False


def test_alpha_dropout_affine_map_matches_torch():
    # with the same mask the outputs are equal: recover the mask from the output, apply torch's formula
    p, alpha = 0.3, 1.7580993408473766
    x = norch.randn(1000)
    y = F.alpha_dropout(x, p, True).numpy()
    a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    b_drop = -alpha * a + alpha * a * p
    kept = ~np.isclose(y, b_drop, atol=1e-6)
    expect = np.where(kept, x.numpy() * a + alpha * a * p, b_drop)
    np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-6)


def test_feature_alpha_dropout_is_per_channel():
    y = F.feature_alpha_dropout(norch.ones(50, 8, 6), 0.5, True).numpy()
    assert np.all(y.min(-1) == y.max(-1))  # one value per (sample, channel)
    assert len(np.unique(np.round(y, 5))) == 2
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(norch.ones(5), 0.5, True)
    m = nn.FeatureAlphaDropout(0.2)
    assert repr(m) == repr(torch.nn.FeatureAlphaDropout(0.2))
    x = norch.randn(4, 3, 2, requires_grad=True)
    m(x).sum().backward()
    assert x.grad is not None
