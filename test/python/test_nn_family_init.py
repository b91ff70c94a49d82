"""Initial parameters of the new layers follow PyTorch's distributions (bounds and moments
over large layers), and the composite ops accept non-contiguous and empty inputs."""
import math

import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn as nn
import norch.nn.functional as F
from _nn_family_util import close, randn


def _uniform_ok(t, bound):
    a = t.detach().numpy().ravel()
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > 0.9 * bound
    tol = 5 * bound / math.sqrt(a.size)  # five standard errors
    assert abs(a.std() - bound / math.sqrt(3)) < tol  # U(-b, b) has std b / sqrt(3)
    assert abs(a.mean()) < tol


@pytest.mark.parametrize("make,fan_in", [
    (lambda M: M.Conv3d(8, 16, 3), 8 * 27), (lambda M: M.Conv3d(8, 64, (1, 2, 3), groups=4), 2 * 6),
    (lambda M: M.ConvTranspose1d(16, 8, 5), 8 * 5), (lambda M: M.ConvTranspose3d(8, 12, 3, groups=2), 6 * 27),
])
def test_conv_init_matches_torch_bounds(make, fan_in):
    ours, theirs = make(nn), make(torch.nn)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    _uniform_ok(ours.weight, bound)
    _uniform_ok(theirs.weight, bound)
    assert np.abs(ours.bias.detach().numpy()).max() <= bound


def test_other_inits():
    bag = nn.EmbeddingBag(400, 50, padding_idx=3)
    w = bag.weight.detach().numpy()
    assert abs(w.std() - 1.0) < 0.03 and abs(w.mean()) < 0.03  # N(0, 1)
    assert (w[3] == 0).all()
    np.testing.assert_array_equal(nn.PReLU(4).weight.detach().numpy(), np.full(4, 0.25, dtype=np.float32))
    np.testing.assert_array_equal(nn.RMSNorm(5).weight.detach().numpy(), np.ones(5, dtype=np.float32))
    inorm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    np.testing.assert_array_equal(inorm.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(inorm.running_var.numpy(), 1)
    asm = nn.AdaptiveLogSoftmaxWithLoss(64, 100, [10, 50], div_value=2.0)
    assert [tuple(p.shape) for p in asm.parameters()] == \
        [tuple(p.shape) for p in torch.nn.AdaptiveLogSoftmaxWithLoss(64, 100, [10, 50], div_value=2.0).parameters()]
    _uniform_ok(asm.head.weight, 1 / math.sqrt(64))
    t = nn.Transformer(32, 4, 1, 1, 64)
    # every matrix xavier-uniform, every vector as its layer left it (LayerNorm ones, biases)
    _uniform_ok(t.encoder.layers[0].self_attn.in_proj_weight, math.sqrt(6 / (32 + 96)))
    np.testing.assert_array_equal(t.decoder.norm.weight.detach().numpy(), 1)


def test_noncontiguous_inputs():
    x = randn(3, 7, 6, 5, 4)
    xn, xt = norch.tensor(x).transpose(2, 4), torch.tensor(x).transpose(2, 4)
    assert not xn.is_contiguous()
    close(F.max_pool3d(xn, 2), TF.max_pool3d(xt, 2))
    close(F.avg_pool3d(xn, 2, 1, 1), TF.avg_pool3d(xt, 2, 1, 1))
    close(F.adaptive_max_pool3d(xn, 2), TF.adaptive_max_pool3d(xt, 2))
    close(F.pad(xn, [1, 1, 2, 0, 1, 2], "reflect"), TF.pad(xt, [1, 1, 2, 0, 1, 2], "reflect"))
    close(F.pixel_shuffle(xn[:, :4, 0], 2), TF.pixel_shuffle(xt[:, :4, 0], 2))
    w = randn(2, 7, 2, 2, 2)
    close(F.conv3d(xn, norch.tensor(w)), TF.conv3d(xt, torch.tensor(w)), atol=1e-9)
    a, b = randn(6, 5), randn(6, 5)
    an, at = norch.tensor(a).t(), torch.tensor(a).t()
    bn, bt = norch.tensor(b).t(), torch.tensor(b).t()
    close(F.cosine_similarity(an, bn), TF.cosine_similarity(at, bt))
    close(F.triplet_margin_loss(an, bn, an * 0.5), TF.triplet_margin_loss(at, bt, at * 0.5))
    close(F.soft_margin_loss(an, bn.sign()), TF.soft_margin_loss(at, bt.sign()))
    close(F.mish(an), TF.mish(at))


def test_empty_inputs():
    for name in ("selu", "mish", "hardswish", "logsigmoid", "softsign", "tanhshrink"):
        close(getattr(F, name)(norch.randn(0, 3)), getattr(TF, name)(torch.randn(0, 3)))
    close(F.soft_margin_loss(norch.randn(0), norch.randn(0), reduction="sum"),
          TF.soft_margin_loss(torch.randn(0), torch.randn(0), reduction="sum"))
    close(F.dropout2d(norch.randn(0, 3, 2, 2), 0.5), TF.dropout2d(torch.randn(0, 3, 2, 2), 0.5))
    close(F.local_response_norm(norch.randn(0, 3, 2), 2), TF.local_response_norm(torch.randn(0, 3, 2), 2))
