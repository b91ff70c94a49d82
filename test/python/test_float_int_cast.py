# Float-to-integer conversions of NaN, infinities and out-of-range values (issue 9,
# item 12). In C++ such a cast is undefined behaviour; norch computes what
# PyTorch's CPU build gives on this machine (the x86 truncating conversion: the
# destination's minimum for NaN and overflow, uint8 through int64) for tensor
# casts, and refuses the value, as PyTorch does, where a scalar is written into an
# integer tensor. Every case is compared with PyTorch on the same inputs.
import math

import numpy as np
import pytest
import torch

import norch

NAN, INF = float("nan"), float("inf")
HOSTILE = [NAN, INF, -INF, 1e20, -1e20, 1e300, -1e300, 2.0**63, -(2.0**63), math.nextafter(2.0**63, 0),
           -(2.0**63) - 4096, 2.0**31, -(2.0**31), 2.0**31 - 0.5, -(2.0**31) - 0.5, -(2.0**31) - 1, 2.0**32 + 255,
           -(2.0**32) + 255, 3e9, -3e9, 255.9, 256.0, 300.7, -0.5, -1.5, -300.7, 0.0, -0.0, 1.0, 127.5]
INT_DTYPES = ["uint8", "int32", "int64", "bool"]
FLOAT_DTYPES = ["float32", "float64"]


def both(fn):
    """fn(lib) for norch and torch: the result's tolist(), or the exception type and message."""
    out = []
    for lib in (norch, torch):
        try:
            r = fn(lib)
            out.append(r.tolist() if hasattr(r, "tolist") else r)
        except Exception as e:  # noqa: BLE001 - the exception is the compared result
            out.append((type(e).__name__, str(e)))
    return out


@pytest.mark.parametrize("src", FLOAT_DTYPES)
@pytest.mark.parametrize("dst", INT_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "long", "strided", "0d"])
def test_tensor_cast_matches_torch(src, dst, layout):
    def run(lib):
        t = lib.tensor(HOSTILE, dtype=getattr(lib, src))
        if layout == "long":  # long enough for a vectorized loop
            t = t.repeat(67)
        elif layout == "strided":
            t = lib.stack([t, t], 1)[:, 1]
            assert not t.is_contiguous()
        elif layout == "0d":
            return [t[i].to(getattr(lib, dst)).item() for i in range(len(HOSTILE))]
        return t.to(getattr(lib, dst))

    ours, ref = both(run)
    assert ours == ref


@pytest.mark.parametrize("method,dtype", [("long", "int64"), ("int", "int32"), ("byte", "uint8"), ("bool", "bool")])
def test_cast_methods_and_copy_into_int(method, dtype):
    ours, ref = both(lambda lib: getattr(lib.tensor(HOSTILE, dtype=lib.float64), method)())
    assert ours == ref
    ours, ref = both(lambda lib: lib.zeros(len(HOSTILE), dtype=getattr(lib, dtype)).copy_(lib.tensor(HOSTILE)))
    assert ours == ref


def test_numpy_floats_into_int_tensor():
    arr = np.array(HOSTILE)
    ours, ref = both(lambda lib: lib.tensor(arr).to(lib.int64))
    assert ours == ref
    ours, ref = both(lambda lib: lib.from_numpy(arr).int())
    assert ours == ref


@pytest.mark.parametrize("value", HOSTILE + [300, -1, -255, -256, 2**31, -(2**31) - 1, 2**40])
@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize(
    "how",
    ["full", "fill_", "new_full", "full_like", "masked_fill", "setitem", "scatter", "tensor", "tensor_0d"],
)
def test_scalar_into_int_tensor_is_checked(value, dtype, how):
    def run(lib):
        dt = getattr(lib, dtype)
        if how == "full":
            return lib.full((2,), value, dtype=dt)
        if how == "fill_":
            return lib.zeros(2, dtype=dt).fill_(value)
        if how == "new_full":
            return lib.zeros(2, dtype=dt).new_full((2,), value)
        if how == "full_like":
            return lib.full_like(lib.zeros(2, dtype=dt), value)
        if how == "masked_fill":
            return lib.zeros(2, dtype=dt).masked_fill(lib.tensor([True, False]), value)
        if how == "setitem":
            t = lib.zeros(2, dtype=dt)
            t[0] = value
            return t
        if how == "scatter":
            return lib.zeros(2, dtype=dt).scatter(0, lib.tensor([1]), value)
        if how == "tensor":
            return lib.tensor([value, 1], dtype=dt)
        return lib.tensor(value, dtype=dt)

    ours, ref = both(run)
    if isinstance(ref, tuple):
        # PyTorch names the type its own way in each path: only the kind must match.
        assert isinstance(ours, tuple) and ours[0] == ref[0], (ours, ref)
        assert "value cannot be converted to type" in ours[1] and "without overflow" in ours[1]
    else:
        assert ours == ref


def test_fill_error_names_the_type():
    with pytest.raises(RuntimeError, match="value cannot be converted to type int64_t without overflow"):
        norch.zeros(2, dtype=norch.int64).fill_(NAN)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        norch.full((2,), 300, dtype=norch.uint8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type int32 without overflow"):
        norch.tensor([INF], dtype=norch.int32)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_python_int_of_float_tensor(value, dtype):
    # int() of a float tensor is Python's int(float): NaN and inf raise, big values are exact.
    ours, ref = both(lambda lib: int(lib.tensor(value, dtype=getattr(lib, dtype))))
    assert ours == ref


@pytest.mark.parametrize(
    "args",
    [(0, 3.5), (0.5, 3.5), (-2.5, 3), (0, 3.7, 1.5), (0, 3, 0.5), (5, 0, -1.5), (5.5, 0, -1), (0, NAN), (0, INF),
     (0.9, 1.0), (0, 10, 2.9), (0, 1, 0.3), (0, 3, -0.5), (0, 0.5, 0.5)],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_arange_from_floats(args, dtype):
    ours, ref = both(lambda lib: lib.arange(*args, dtype=getattr(lib, dtype)))
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple) and ours[0] == ref[0], (ours, ref)
    else:
        assert ours == ref


@pytest.mark.parametrize("end", [NAN, INF, 1e30, 300.0, 255.0, -1.0, 2.5])
@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64"])
def test_integer_linspace_checks_its_bounds(end, dtype):
    ours, ref = both(lambda lib: lib.linspace(0, end, 3, dtype=getattr(lib, dtype)))
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple) and ours[0] == ref[0], (ours, ref)
    else:
        assert ours == ref


@pytest.mark.parametrize("value", [1e300, -1e300, 3.5e38, 3.4028235e38, 3.4028234663852886e38, INF, NAN, 1e38])
@pytest.mark.parametrize("how", ["full", "fill_", "masked_fill", "setitem", "tensor"])
def test_doubles_beyond_float32_written_into_float32(value, how):
    # Found by the fuzzer: the fill-style paths refuse a finite double float32 cannot
    # hold; tensor() and casts give inf, as in PyTorch.
    def run(lib):
        if how == "full":
            return lib.full((2,), value, dtype=lib.float32)
        if how == "fill_":
            return lib.zeros(2).fill_(value)
        if how == "masked_fill":
            return lib.zeros(2).masked_fill(lib.tensor([True, False]), value)
        if how == "setitem":
            t = lib.zeros(2)
            t[0] = value
            return t
        return lib.tensor([value], dtype=lib.float32)

    ours, ref = both(run)
    if isinstance(ref, tuple):
        assert ours == ("RuntimeError", "value cannot be converted to type float without overflow"), (ours, ref)
    else:
        assert ours == ref or (ours[0] != ours[0] and ref[0] != ref[0]), (ours, ref)


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_float32_linspace_with_bounds_beyond_float32(steps):
    # Found by the fuzzer: the bounds are checked only when a value is written.
    ours, ref = both(lambda lib: lib.linspace(1e300, -4.92, steps))
    if isinstance(ref, tuple):
        assert ours == ref
    else:
        assert ours == ref == []
