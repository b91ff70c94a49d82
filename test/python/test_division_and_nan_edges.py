"""Issue 9, items 3 and 12: integer division of the minimum value by -1 (which traps
in C++) and NaN/inf edge cases of floor division, relu and clamp, against PyTorch."""
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import norch


def same(n, t):
    assert str(n.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(n.numpy(), t.numpy())


# PyTorch 2.13 returns the wrapped value for these; its div(rounding_mode="trunc")
# itself traps on the minimum value over -1, so that case is compared with
# floor division, which agrees with it whenever the divisor is -1.
INT_CASES = [
    ("floor_divide", lambda L, a, b: a // b, None),
    ("remainder", lambda L, a, b: a % b, None),
    ("fmod", lambda L, a, b: L.fmod(a, b), None),
    ("div_floor", lambda L, a, b: L.div(a, b, rounding_mode="floor"), None),
    ("div_trunc", lambda L, a, b: L.div(a, b, rounding_mode="trunc"), lambda L, a, b: a // b),
]


@pytest.mark.parametrize("name,fn,ref_fn", INT_CASES, ids=[c[0] for c in INT_CASES])
@pytest.mark.parametrize("dtype,lo", [("int64", -2**63), ("int32", -2**31)])
def test_minimum_value_over_minus_one_wraps_like_pytorch(name, fn, ref_fn, dtype, lo):
    a_vals = [lo, lo + 1, 7, -7, 0]
    na = norch.tensor(a_vals, dtype=getattr(norch, dtype))
    ta = torch.tensor(a_vals, dtype=getattr(torch, dtype))
    ref_fn = ref_fn or fn
    same(fn(norch, na, -1), ref_fn(torch, ta, -1))
    same(fn(norch, na, norch.tensor(-1, dtype=na.dtype)), ref_fn(torch, ta, torch.tensor(-1, dtype=ta.dtype)))


def test_minimum_value_over_minus_one_does_not_kill_the_interpreter():
    code = ("import norch\n"
            "a = norch.tensor([-2**63])\n"
            "print((a // -1).tolist(), (a % -1).tolist(), norch.fmod(a, -1).tolist(),\n"
            "      norch.div(a, -1, rounding_mode='trunc').tolist())\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[-9223372036854775808]", "[0]", "[0]", "[-9223372036854775808]"]


SPECIAL = [math.inf, -math.inf, math.nan, 0.0, -0.0, 2.0, -2.0, 5.0, -5.0, 0.5, -0.5, 7.25, 1e30]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_float_floor_divide_special_values_match_pytorch(dtype):
    a, b = np.meshgrid(SPECIAL, SPECIAL)
    na, nb = (norch.tensor(x.ravel(), dtype=getattr(norch, dtype)) for x in (a, b))
    ta, tb = (torch.tensor(x.ravel(), dtype=getattr(torch, dtype)) for x in (a, b))
    # Widened to float64 (exact, signs kept) so NumPy can hold every dtype's result.
    out, ref = (na // nb).double().numpy(), (ta // tb).double().numpy()
    np.testing.assert_array_equal(out, ref)
    zero = ref == 0
    np.testing.assert_array_equal(np.signbit(out[zero]), np.signbit(ref[zero]))   # -0.0 where PyTorch gives it


def test_relu_propagates_nan():
    x = [math.nan, -1.0, 0.0, 2.0, -math.inf, math.inf]
    for dt in ("float32", "float64", "float16", "bfloat16"):
        np.testing.assert_array_equal(norch.relu(norch.tensor(x, dtype=getattr(norch, dt))).double().numpy(),
                                      torch.relu(torch.tensor(x, dtype=getattr(torch, dt))).double().numpy())
    np.testing.assert_array_equal(norch.nn.functional.relu(norch.tensor(x)).numpy(),
                                  torch.nn.functional.relu(torch.tensor(x)).numpy())


@pytest.mark.parametrize("lo,hi", [(0.0, math.nan), (math.nan, 1.0), (math.nan, None), (None, math.nan),
                                   (math.nan, math.nan), (0.0, 1.0)])
def test_clamp_with_a_nan_bound_matches_pytorch(lo, hi):
    x = [-3.0, 0.5, 4.0, math.nan]
    out = norch.clamp(norch.tensor(x), lo, hi).numpy()
    ref = torch.clamp(torch.tensor(x), lo, hi).numpy()
    np.testing.assert_array_equal(out, ref)


# Issue 9, item 9: an in-place op on a self-overlapping tensor (an expand) would
# write some elements several times; PyTorch refuses it, and so does norch.
INPLACE_ON_EXPANDED = [lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.exp_(), lambda t: t.clamp_(0, 1),
                       lambda t: t.neg_(), lambda t: t.sub_(norch.ones(3, 2) if isinstance(t, norch.Tensor)
                                                        else torch.ones(3, 2))]


@pytest.mark.parametrize("i", range(len(INPLACE_ON_EXPANDED)))
def test_inplace_on_a_self_overlapping_tensor_is_refused(i):
    fn = INPLACE_ON_EXPANDED[i]
    for lib in (norch, torch):
        base = lib.zeros(1, 2)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            fn(base.expand(3, 2))
        assert base.tolist() == [[0.0, 0.0]]          # nothing was written
    # A stride-0 dim of size 1 overlaps nothing.
    t = norch.zeros(1, 2).expand(1, 2)
    t.add_(1)
    assert t.tolist() == [[1.0, 1.0]]


# Issue 9, item 7: signed overflow wraps (two's complement) as in PyTorch, computed
# without undefined behaviour (the sanitizer build, scripts/sanitize.sh, checks that).
WRAPPING = [
    ("add", lambda L, a, b: a + b), ("sub", lambda L, a, b: a - b), ("mul", lambda L, a, b: a * b),
    ("neg", lambda L, a, b: -a), ("abs", lambda L, a, b: L.abs(a)), ("square", lambda L, a, b: L.square(a)),
    ("lshift", lambda L, a, b: a << L.tensor([1, 3, 62, 0, 5], dtype=a.dtype) if a.dtype == L.int64
     else a << L.tensor([1, 3, 30, 0, 5], dtype=a.dtype)),
]


@pytest.mark.parametrize("name,fn", WRAPPING, ids=[w[0] for w in WRAPPING])
@pytest.mark.parametrize("dtype,lo,hi", [("int64", -2**63, 2**63 - 1), ("int32", -2**31, 2**31 - 1)])
def test_signed_overflow_wraps_like_pytorch(name, fn, dtype, lo, hi):
    a_vals, b_vals = [hi, lo, -7, lo, hi // 3], [1, -1, hi, lo, 5]
    na, nb = norch.tensor(a_vals, dtype=getattr(norch, dtype)), norch.tensor(b_vals, dtype=getattr(norch, dtype))
    ta, tb = torch.tensor(a_vals, dtype=getattr(torch, dtype)), torch.tensor(b_vals, dtype=getattr(torch, dtype))
    same(fn(norch, na, nb), fn(torch, ta, tb))
