"""affine_grid and grid_sample against PyTorch: 2-D and 3-D, both align_corners settings,
modes bilinear/nearest, padding zeros/border/reflection; gradients for the input, the
grid and theta; float64 gradcheck; PyTorch's errors for bad arguments."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn.functional as F
from norch.autograd import gradcheck
from _nn_family_util import compare_call, randn, rng, to_n


def _theta(n, batch=2):
    eye = np.concatenate([np.eye(n), np.zeros((n, 1))], 1)
    return rng.standard_normal((batch, n, n + 1)) * 0.4 + eye


@pytest.mark.parametrize("size", [(2, 3, 5, 6), (2, 1, 1, 4), (2, 3, 4, 5, 3)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(size, align_corners):
    n = len(size) - 2
    compare_call(lambda t: F.affine_grid(t, size, align_corners), lambda t: TF.affine_grid(t, size, align_corners),
                 [_theta(n)])
    assert gradcheck(lambda t: F.affine_grid(t, size, align_corners), (to_n(_theta(n), True),))


@pytest.mark.parametrize("size", [(2, 3, 5, 6), (2, 2, 4, 5, 3)])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(size, mode, padding_mode, align_corners):
    n = len(size) - 2
    grid = TF.affine_grid(torch.tensor(_theta(n)), size, align_corners).numpy() * 1.3  # partly outside
    grid = grid[:, ::-1].copy()  # an output grid that is not the input's own shape order
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    compare_call(lambda x, g: F.grid_sample(x, g, **kw), lambda x, g: TF.grid_sample(x, g, **kw),
                 [randn(*size), grid], n_grad=2 if mode == "bilinear" else 1)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(padding_mode):
    x = to_n(randn(1, 2, 3, 4), True)
    g = to_n(rng.uniform(-1.2, 1.2, (1, 2, 3, 2)), True)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, "bilinear", padding_mode, False), (x, g))


def test_spatial_transformer_end_to_end():
    # theta -> grid -> sample, gradient to theta, as in the spatial transformer tutorial
    x, th = randn(2, 1, 6, 6), _theta(2)
    compare_call(lambda a, t: F.grid_sample(a, F.affine_grid(t, (2, 1, 6, 6), False), align_corners=False),
                 lambda a, t: TF.grid_sample(a, TF.affine_grid(t, (2, 1, 6, 6), False), align_corners=False),
                 [x, th])


def test_errors_like_torch():
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(norch.randn(2, 3, 3), (2, 1, 4, 4))
    with pytest.raises(ValueError):
        TF.affine_grid(torch.randn(2, 3, 3), (2, 1, 4, 4))
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(norch.randn(1, 1, 3, 3), norch.randn(1, 2, 2, 2), mode="cubic")
    with pytest.raises(ValueError):
        TF.grid_sample(torch.randn(1, 1, 3, 3), torch.randn(1, 2, 2, 2), mode="cubic")
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(norch.randn(1, 1, 3, 3), norch.randn(1, 2, 2, 2), padding_mode="wrap")
    with pytest.raises(RuntimeError, match="grid_sampler"):
        F.grid_sample(norch.randn(1, 1, 3, 3), norch.randn(1, 2, 2, 3))
    with pytest.raises(RuntimeError):
        TF.grid_sample(torch.randn(1, 1, 3, 3), torch.randn(1, 2, 2, 3))
