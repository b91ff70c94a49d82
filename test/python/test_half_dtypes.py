"""float16 and bfloat16 as dtypes: casts between every dtype pair bit for bit
against PyTorch (special values, subnormals, overflow, ties), the promotion table
for every pair, finfo/iinfo, dtype and tensor attributes, factories, printing,
NumPy interop and the refusals PyTorch makes."""
import itertools
import struct

import numpy as np
import pytest
import torch

import norch

from _half_util import DTYPES, HALF, FLOATS, nd, td, to_torch, to_norch, bits, assert_close_dtype


def _float32_specials():
    """Every half bit pattern widened to float32, the ties and overflow edges of
    both half types, float32 subnormals, signed zeros, infinities and NaN."""
    all_half = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    all_bf16 = (np.arange(65536, dtype=np.uint32) << 16).view(np.float32)
    edges = [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 65536.0, -65520.0, 2.0 ** -24, 2.0 ** -25,
             2.0 ** -25 * 1.0000001, 3 * 2.0 ** -26, 2.0 ** -14, 2.0 ** -14 * (1 - 2.0 ** -11), 1 + 2.0 ** -11,
             1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, 3.3895313892515355e+38, 3.39e38, 1e-40, -1e-45,
             float("inf"), float("-inf"), float("nan")]
    rng = np.random.default_rng(0)
    rand = (rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 8, 2000)).astype(np.float32)
    # Midpoints between neighbouring half values: the ties must go to even.
    mids = ((all_half[:-1].astype(np.float64) + all_half[1:].astype(np.float64)) / 2).astype(np.float32)
    bmids = ((all_bf16[:-1].astype(np.float64) + all_bf16[1:].astype(np.float64)) / 2).astype(np.float32)
    return np.concatenate([all_half, all_bf16, np.array(edges, np.float32), rand, mids[::7], bmids[::7]])


SPECIALS = _float32_specials()


def _source(name):
    """The same source tensor in both libraries, built from float32 specials."""
    base = torch.from_numpy(SPECIALS.copy())
    if name in ("bool", "uint8", "int32", "int64"):
        # Integers: in-range values only (float -> int outside the range is undefined in C++, and in PyTorch).
        lo, hi = {"bool": (0, 1), "uint8": (0, 255), "int32": (-2 ** 31, 2 ** 31 - 1),
                  "int64": (-2 ** 62, 2 ** 62)}[name]
        vals = np.concatenate([np.arange(-300, 300), np.array([lo, hi, 65504, 65519, 65520, 2 ** 24 + 1, 2 ** 53 + 1],
                                                              dtype=np.int64)])
        vals = np.clip(vals, lo, hi)
        t = torch.from_numpy(vals).to(td(name))
    else:
        t = base.to(td(name)) if name != "float64" else torch.from_numpy(
            np.concatenate([SPECIALS.astype(np.float64), np.array([1 + 2.0 ** -11 + 2.0 ** -40, 1 + 2.0 ** -8 + 2.0 ** -40,
                                                                   65519.999999, 2.0 ** -25 + 2.0 ** -60])]))
    return t, to_norch(t)


def _in_range(t_src, dst):
    """Float -> integer casts of values outside the destination's range (and of
    NaN/inf) are undefined; those elements are left out of the comparison."""
    if dst == "bool" or not t_src.dtype.is_floating_point or dst in FLOATS:
        return torch.ones(t_src.shape, dtype=torch.bool)
    lo, hi = {"uint8": (0, 255), "int32": (-2 ** 31, 2 ** 31 - 129), "int64": (-2 ** 62, 2 ** 62)}[dst]
    v = t_src.double()
    return (v >= lo) & (v <= hi)


@pytest.mark.parametrize("src,dst", list(itertools.product(DTYPES, DTYPES)))
def test_cast_every_pair_bit_exact(src, dst):
    t, n = _source(src)
    want, got = t.to(td(dst)), n.to(nd(dst))
    assert got.dtype == nd(dst)
    keep = _in_range(t, dst).numpy()
    wb, gb = bits(want)[keep], bits(got)[keep]
    if dst in FLOATS:
        # NaN stays NaN; its payload bits differ between PyTorch's own scalar and vector paths.
        wn = torch.isnan(want.double()).numpy()[keep]
        gn = torch.isnan(to_torch(got).double()).numpy()[keep]
        np.testing.assert_array_equal(gn, wn)
        wb, gb = wb[~wn], gb[~wn]
    mismatch = np.nonzero(wb != gb)[0]
    assert mismatch.size == 0, (f"{src}->{dst}: {mismatch.size} elements differ, first source values "
                                f"{t.double()[torch.from_numpy(keep)][mismatch[:5]].tolist()}: got bits "
                                f"{[hex(int(x)) for x in gb[mismatch[:5]]]}, want {[hex(int(x)) for x in wb[mismatch[:5]]]}")


@pytest.mark.parametrize("dst", HALF)
def test_cast_non_contiguous_0d_and_empty(dst):
    t = torch.randn(6, 5).t()[::2]
    np.testing.assert_array_equal(bits(to_norch(t).to(nd(dst))), bits(t.to(td(dst))))
    s = norch.tensor(1.0 / 3).to(nd(dst))
    assert s.dim() == 0 and s.item() == torch.tensor(1.0 / 3).to(td(dst)).item()
    e = norch.empty(0, 3).to(nd(dst))
    assert e.shape == (0, 3) and e.dtype == nd(dst)


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promote_types_every_pair(a, b):
    assert str(norch.promote_types(nd(a), nd(b))) == "norch." + str(torch.promote_types(td(a), td(b))).split(".")[1]


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_binary_result_dtype_every_pair(a, b):
    x, y = torch.ones(2, dtype=td(a)), torch.ones(2, dtype=td(b))
    got = (to_norch(x) * to_norch(y)).dtype
    assert str(got) == "norch." + str((x * y).dtype).split(".")[1]


@pytest.mark.parametrize("name", HALF)
def test_python_scalar_keeps_half_dtype(name):
    t = norch.ones(3, dtype=nd(name))
    assert (t * 2.5).dtype == nd(name) and (t + 1).dtype == nd(name)
    assert (norch.ones(3, dtype=norch.int64) * norch.tensor(2.0, dtype=nd(name))).dtype == nd(name)
    assert norch.result_type(t, 1.5) == nd(name)


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    f, g = norch.finfo(nd(name)), torch.finfo(td(name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(f, attr) == getattr(g, attr), attr
    assert f.dtype == g.dtype
    assert repr(f) == repr(g)


@pytest.mark.parametrize("name", ["uint8", "int32", "int64"])
def test_iinfo_matches_torch(name):
    f, g = norch.iinfo(nd(name)), torch.iinfo(td(name))
    assert (f.bits, f.min, f.max, f.dtype) == (g.bits, g.min, g.max, g.dtype)


def test_finfo_iinfo_refusals():
    for name in HALF:
        with pytest.raises(TypeError):
            torch.iinfo(td(name))
        with pytest.raises(TypeError):
            norch.iinfo(nd(name))
    with pytest.raises(TypeError, match="is not supported by torch.iinfo"):
        norch.iinfo(norch.bool)
    with pytest.raises(TypeError):
        norch.finfo(norch.int64)


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_attributes(name):
    d, t = nd(name), td(name)
    assert d.is_floating_point == t.is_floating_point
    assert d.itemsize == t.itemsize
    assert d.is_signed == t.is_signed
    x, y = norch.zeros(3, 2, dtype=d), torch.zeros(3, 2, dtype=t)
    assert x.element_size() == y.element_size() and x.itemsize == y.itemsize and x.nbytes == y.nbytes
    assert x.is_floating_point() == y.is_floating_point()


def test_aliases_and_methods():
    assert norch.half == norch.float16 and repr(norch.bfloat16) == "norch.bfloat16"
    x = norch.tensor([1.0, 2.0])
    assert x.half().dtype == norch.float16 and x.bfloat16().dtype == norch.bfloat16
    assert x.to(norch.bfloat16).dtype == norch.bfloat16 and x.to(dtype=norch.half).dtype == norch.float16
    assert x.half().type() == "norch.HalfTensor" and x.bfloat16().type() == "norch.BFloat16Tensor"
    import pickle
    assert pickle.loads(pickle.dumps(norch.bfloat16)) == norch.bfloat16


@pytest.mark.parametrize("name", HALF)
def test_factories(name):
    d, t = nd(name), td(name)
    for ours, theirs in [
        (norch.zeros(2, 3, dtype=d), torch.zeros(2, 3, dtype=t)),
        (norch.ones(4, dtype=d), torch.ones(4, dtype=t)),
        (norch.full((2,), 1.0 / 3, dtype=d), torch.full((2,), 1.0 / 3, dtype=t)),
        (norch.full((2,), float("inf"), dtype=d), torch.full((2,), float("inf"), dtype=t)),
        (norch.full((1,), 1e39, dtype=d), torch.full((1,), 1e39, dtype=t)),
        (norch.arange(10, dtype=d), torch.arange(10, dtype=t)),
        (norch.eye(3, 4, dtype=d), torch.eye(3, 4, dtype=t)),
        (norch.tensor([[0.1, 2.5e-8], [1e5, -3.3]], dtype=d), torch.tensor([[0.1, 2.5e-8], [1e5, -3.3]], dtype=t)),
        (norch.tensor(0.1, dtype=d), torch.tensor(0.1, dtype=t)),
        (norch.zeros_like(norch.ones(2), dtype=d), torch.zeros_like(torch.ones(2), dtype=t)),
    ]:
        assert ours.dtype == d and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(bits(ours), bits(theirs))
    # Fractional ranges: PyTorch's vector path rounds its block starts to the dtype,
    # so single elements may differ from norch's by one unit in the last place.
    for ours, theirs in [(norch.arange(0, 300, 0.7, dtype=d), torch.arange(0, 300, 0.7, dtype=t)),
                         (norch.linspace(-3, 7, 37, dtype=d), torch.linspace(-3, 7, 37, dtype=t))]:
        assert_close_dtype(ours, theirs, name)
        assert ours.shape == theirs.shape
    assert norch.empty(2, 2, dtype=d).dtype == d
    # A finite fill beyond the dtype's range is refused, as PyTorch's checked conversion does.
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.full((2,), 1e39, dtype=t)
    with pytest.raises(RuntimeError, match="without overflow"):
        norch.full((2,), 1e39, dtype=d)
    with pytest.raises(RuntimeError, match="without overflow"):
        norch.zeros(3, dtype=d).fill_(1e39)
    assert norch.tensor([1, 2, 3], dtype=d).tolist() == torch.tensor([1, 2, 3], dtype=t).tolist()


@pytest.mark.parametrize("name", HALF)
def test_item_and_tolist(name):
    x = torch.tensor([0.1, -7.3, 1e-6], dtype=td(name))
    n = to_norch(x)
    assert n.tolist() == x.tolist()
    assert n[1].item() == x[1].item() and isinstance(n[1].item(), float)


@pytest.mark.parametrize("name", HALF)
def test_printing(name):
    # A half-type tensor prints its values as norch prints them in float32, with the dtype named as PyTorch does.
    for vals in ([1.5, 2.25, -3.0], [0.1, 0.2, 0.3], [1.0, 2.0], [[1.0, -2.5], [3.25, 4.0]], 3.5, [float("inf")]):
        t = norch.tensor(vals, dtype=nd(name))
        body = repr(t.float())[:-1]
        assert repr(t) == body + f", dtype=norch.{name})"
        assert repr(to_torch(t)).endswith(f"dtype=torch.{name})")
    assert repr(norch.zeros(0, dtype=nd(name))) == repr(torch.zeros(0, dtype=td(name))).replace("torch.", "norch.")
    assert repr(norch.zeros(2, 0, dtype=nd(name))) == repr(torch.zeros(2, 0, dtype=td(name))).replace("torch.", "norch.")


def test_numpy_float16_roundtrip_shares_memory():
    a = np.array([1.5, -2.0, 65504.0, np.inf], dtype=np.float16)
    t = norch.from_numpy(a)
    assert t.dtype == norch.float16
    a[0] = 7.0
    assert t[0].item() == 7.0
    back = t.numpy()
    assert back.dtype == np.float16 and np.shares_memory(back, a)
    c = norch.tensor(a)
    assert c.dtype == norch.float16 and not np.shares_memory(c.numpy(), a)
    np.testing.assert_array_equal(np.asarray(t), a)


def test_bfloat16_numpy_refused_like_torch():
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        torch.zeros(2, dtype=torch.bfloat16).numpy()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        norch.zeros(2, dtype=norch.bfloat16).numpy()


def test_view_dtype_same_size():
    x = norch.tensor([1.0, -2.0], dtype=norch.bfloat16)
    v = x.view(norch.float16)
    assert v.dtype == norch.float16
    np.testing.assert_array_equal(v.numpy().view(np.uint16), [0x3F80, 0xC000])
    assert x.view(norch.bfloat16).dtype == norch.bfloat16
    with pytest.raises(NotImplementedError):
        x.view(norch.float32)


@pytest.mark.parametrize("name", HALF)
def test_can_cast_matches_torch(name):
    for other in DTYPES:
        assert norch.can_cast(nd(name), nd(other)) == torch.can_cast(td(name), td(other))
        assert norch.can_cast(nd(other), nd(name)) == torch.can_cast(td(other), td(name))


@pytest.mark.parametrize("name", HALF)
def test_random_in_half_dtypes(name):
    d = nd(name)
    norch.manual_seed(3)
    r = norch.rand(2000, dtype=d)
    assert r.dtype == d and 0 <= r.min().item() and r.max().item() < 1
    norch.manual_seed(3)
    # Generated in float32 and rounded: the same seed gives float32's draws, rounded,
    # except that a draw rounding up to 1 steps to the largest value below it.
    want = to_torch(norch.rand(2000)).to(td(name))
    below_one = torch.tensor(1.0, dtype=td(name)).view(torch.int16) - 1
    want[want == 1] = below_one.view(td(name))
    assert (want == 1).sum() == 0
    np.testing.assert_array_equal(bits(r), bits(want))
    norch.manual_seed(4)
    n = norch.randn(3000, dtype=d)
    norch.manual_seed(4)
    np.testing.assert_array_equal(bits(n), bits(to_torch(norch.randn(3000)).to(td(name))))
    assert abs(n.float().mean().item()) < 0.1 and abs(n.float().std().item() - 1) < 0.1
    u = norch.empty(1000, dtype=d).uniform_(-2, 2)
    assert u.min().item() >= -2 and u.max().item() < 2
    # Rounding to the dtype must not reach `to`.
    w = norch.empty(5000, dtype=d).uniform_(0.99, 1.0)
    assert w.max().item() < 1.0
    x = norch.empty(100, dtype=d).normal_(5.0, 0.1)
    assert abs(x.float().mean().item() - 5) < 0.1
    assert norch.randint(0, 10, (50,), dtype=d).dtype == d
    b = norch.empty(500, dtype=d).bernoulli_(0.5)
    assert set(b.tolist()) <= {0.0, 1.0}
