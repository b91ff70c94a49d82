"""max_pool2d's fast paths (pool_kernel.cpp: four stride-2 outputs at once for 2 x 2 and
3 x 3 windows, the fixed-size scalar loop for other strides, and the general window at
padded or ceil_mode edges) against PyTorch: values, indices and the input gradient,
bit for bit, on widths that mix vector groups and scalar tails, NaN, ties and -inf,
float32 and float64, non-contiguous input and every thread count."""
import numpy as np
import pytest
import torch  # the oracle
import torch.nn.functional as TF

import norch
import norch.nn.functional as F

RNG = np.random.default_rng(7)

CASES = [
    # (input shape, kernel, stride, padding, dilation, ceil_mode)
    ((64, 6, 24, 24), 2, 2, 0, 1, False),      # LeNet
    ((3, 16, 8, 8), 2, 2, 0, 1, False),        # LeNet 2: the last row's last group runs scalar
    ((2, 3, 9, 13), 2, 2, 0, 1, False),        # odd sizes: the dropped last row and column
    ((2, 3, 9, 13), 2, 2, 0, 1, True),         # ceil_mode: clipped last windows
    ((2, 3, 11, 19), 3, 2, 1, 1, False),       # padded 3 x 3 / 2: the general loop on the edges
    ((2, 3, 11, 19), 3, 2, 0, 1, True),
    ((2, 2, 10, 30), 3, 2, 0, 1, False),       # several vector groups per row
    ((2, 2, 7, 17), 2, 1, 0, 1, False),        # stride 1: the fixed scalar loop
    ((2, 2, 7, 17), 3, 3, 1, 1, True),
    ((2, 2, 12, 12), 2, 2, 0, 2, False),       # dilation: general loop only
    ((2, 2, 12, 12), (2, 3), (2, 2), (1, 1), 1, False),
    ((1, 1, 2, 2), 2, 2, 0, 1, False),         # one window, a plane too small for a vector group
    ((5, 4, 2, 9), 2, 2, 0, 1, False),
]


def pool_pair(shape, dtype, special=None):
    a = RNG.standard_normal(shape).astype(dtype)
    if special == "ties":
        a = np.round(a).clip(-1, 1)                  # many equal values in each window
    elif special == "nan":
        a.flat[RNG.integers(0, a.size, max(1, a.size // 7))] = np.nan
        a.flat[RNG.integers(0, a.size, max(1, a.size // 7))] = -np.inf
    elif special == "neginf":
        a[...] = -np.inf
        a.flat[RNG.integers(0, a.size, max(1, a.size // 5))] = np.nan
    return a


@pytest.mark.parametrize("special", [None, "ties", "nan", "neginf"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p,d,ceil", CASES)
def test_max_pool2d_matches_torch(shape, k, s, p, d, ceil, dtype, special):
    a = pool_pair(shape, dtype, special)
    x = norch.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    out, idx = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
    tout, tidx = TF.max_pool2d(tx, k, s, p, d, ceil_mode=ceil, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    g = RNG.standard_normal(tout.shape).astype(dtype)
    out.backward(norch.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("shape,k,s", [((4, 3, 24, 24), 2, 2), ((2, 3, 15, 21), 3, 2)])
def test_max_pool2d_noncontiguous(shape, k, s):
    a = RNG.standard_normal(shape).astype(np.float32)
    x = norch.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)
    assert not x.is_contiguous()
    out, idx = F.max_pool2d(x, k, s, return_indices=True)
    tout, tidx = TF.max_pool2d(torch.tensor(a), k, s, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_max_pool2d_same_on_every_thread_count(threads):
    a = pool_pair((64, 6, 24, 24), np.float32, "nan")
    old = norch.get_num_threads()
    try:
        norch.set_num_threads(1)
        ref = [t.numpy() for t in F.max_pool2d(norch.tensor(a), 2, return_indices=True)]
        norch.set_num_threads(threads)
        got = [t.numpy() for t in F.max_pool2d(norch.tensor(a), 2, return_indices=True)]
    finally:
        norch.set_num_threads(old)
    for r, g in zip(ref, got):
        np.testing.assert_array_equal(r, g)
