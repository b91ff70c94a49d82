"""NumPy interop beside DLPack: np.asarray(t) through __array__ (shared memory, dtype,
NumPy 2's copy=), ufuncs and NumPy operands on either side of an operator (PyTorch's
outcome, type and dtype, is the oracle), numpy() refusing a tensor that requires
grad, and from_numpy's checks (read-only warning, byte order, dtype, non-arrays)."""
import warnings

import numpy as np
import pytest
import torch

import norch

import _oracle

REQUIRES_GRAD = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."


def ptr(a):
    return a.__array_interface__["data"][0]


# --- __array__ -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", _oracle.ALL + ("float16",))
def test_asarray_shares_memory(dtype):
    t = norch.from_numpy(_oracle.make(dtype, (2, 3), "small"))
    a = np.asarray(t)
    assert a.dtype == np.dtype(dtype) and ptr(a) == t.data_ptr()
    a[0, 0] = 1
    assert t[0, 0].item() == 1
    v = t.t()[1:]
    av = np.asarray(v)
    assert ptr(av) == v.data_ptr() and av.strides == tuple(s * t.element_size() for s in v.stride())


def test_array_dtype_and_copy():
    t = norch.arange(4, dtype=norch.float32)
    a = np.asarray(t, dtype=np.float64)
    assert a.dtype == np.float64 and ptr(a) != t.data_ptr()
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    assert ptr(np.asarray(t, dtype=np.float32)) == t.data_ptr()
    assert ptr(np.array(t, copy=False)) == t.data_ptr()
    c = np.array(t, copy=True)
    assert ptr(c) != t.data_ptr()
    c[0] = 9
    assert t[0].item() == 0
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.array(t, dtype=np.int64, copy=False)
    assert np.asarray(norch.tensor(2.5)).shape == ()
    assert np.asarray(norch.empty(0, 2)).shape == (0, 2)


def test_array_refuses_like_numpy_does():
    for lib in (norch, torch):
        r = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="Can't call numpy"):
            np.asarray(r)
        np.testing.assert_array_equal(np.asarray(r.detach()), [1, 1])


# --- operators and ufuncs against PyTorch -----------------------------------------

def outcome(f, lib):
    try:
        r = f(lib)
    except Exception as e:  # noqa: BLE001 (the exception type is the outcome)
        return type(e).__name__
    if isinstance(r, (norch.Tensor, torch.Tensor)):
        return ("Tensor", str(r.dtype).split(".")[-1])
    return type(r).__name__


def ones(lib, dtype="float32"):
    return lib.ones(3, dtype=getattr(lib, dtype))


CASES = {
    "np.float32 * t": lambda L: np.float32(2) * ones(L),
    "np.float64 + t": lambda L: np.float64(2) + ones(L),
    "np.float64 * int64 t": lambda L: np.float64(2) * ones(L, "int64"),
    "np.int64 - t": lambda L: np.int64(3) - ones(L),
    "np.int32 * uint8 t": lambda L: np.int32(2) * ones(L, "uint8"),
    "np.float32 / t": lambda L: np.float32(3) / ones(L),
    "np.int64 // t": lambda L: np.int64(3) // ones(L),
    "np.int64 % t": lambda L: np.int64(3) % ones(L),
    "np.float64 ** t": lambda L: np.float64(2) ** ones(L),
    "np.float32 == t": lambda L: np.float32(1) == ones(L),
    "np.float32 < t": lambda L: np.float32(1) < ones(L),
    "np.float32 @ t": lambda L: np.float32(1) @ ones(L),
    "t * np.float32": lambda L: ones(L) * np.float32(2),
    "ndarray * t": lambda L: np.ones(3) * ones(L),
    "ndarray + t": lambda L: np.ones(3) + ones(L),
    "0-d ndarray * t": lambda L: np.array(2.0) * ones(L),
    "ndarray == t": lambda L: np.ones(3) == ones(L),
    "ndarray != t": lambda L: np.ones(3) != ones(L),
    "ndarray < t": lambda L: np.ones(3) < ones(L),
    "ndarray @ t": lambda L: np.ones(3) @ ones(L),
    "t * ndarray": lambda L: ones(L) * np.ones(3),
    "t + int32 ndarray": lambda L: ones(L) + np.ones(3, dtype=np.int32),
    "t > ndarray": lambda L: ones(L) > np.ones(3),
    "t == ndarray": lambda L: ones(L) == np.array([1.0, 2.0, 1.0]),
    "np.add(ndarray, t)": lambda L: np.add(np.ones(3), ones(L)),
    "np.sin(t)": lambda L: np.sin(ones(L)),
    "np.sin(0-d t)": lambda L: np.sin(L.tensor(1.0)),
    "np.exp(int64 t)": lambda L: np.exp(ones(L, "int64")),
    "np.logical_not(bool t)": lambda L: np.logical_not(ones(L, "bool")),
    "np.add(t, ndarray, out=)": lambda L: np.add(ones(L), np.ones(3), out=np.empty(3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_operands_behave_as_in_pytorch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch's __array_wrap__ predates NumPy 2
        expected = outcome(CASES[name], torch)
        actual = outcome(CASES[name], norch)
    assert actual == expected


def test_ufunc_values_and_scalar_on_the_left():
    t = norch.tensor([0.5, 1.0, 2.0])
    r = np.float32(2) * t
    assert isinstance(r, norch.Tensor) and r.tolist() == [1.0, 2.0, 4.0]
    s = np.sin(t)
    assert isinstance(s, norch.Tensor)
    np.testing.assert_allclose(s.numpy(), np.sin(np.array([0.5, 1.0, 2.0], dtype=np.float32)), rtol=1e-6)
    m = t * np.array([1.0, 2.0, 3.0])
    assert isinstance(m, norch.Tensor) and m.tolist() == [0.5, 2.0, 6.0]
    assert (np.array([0.5, 0.0, 2.0]) == t).tolist() == [True, False, True]
    assert norch.Tensor.__array_priority__ == torch.Tensor.__array_priority__
    # Like torch.Tensor, no __array_ufunc__: NumPy converts through __array__ and wraps back.
    assert hasattr(norch.Tensor, "__array_ufunc__") == hasattr(torch.Tensor, "__array_ufunc__")


def test_device_tensor_is_refused_by_array(device):
    t = norch.ones(2, device=device)
    if device == "cpu":
        assert np.asarray(t).tolist() == [1, 1]
    else:
        with pytest.raises(TypeError, match="can't convert cuda"):
            np.asarray(t)


# --- numpy() ---------------------------------------------------------------------

def test_numpy_refuses_a_tensor_that_requires_grad():
    for lib in (norch, torch):
        for r in (lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True) * 2):
            with pytest.raises(RuntimeError) as e:
                r.numpy()
            assert str(e.value) == REQUIRES_GRAD


def test_numpy_force():
    r = norch.ones(2, requires_grad=True) * 3
    a = r.numpy(force=True)
    np.testing.assert_array_equal(a, [3, 3])
    d = r.detach()
    assert ptr(d.numpy()) == d.data_ptr()
    with pytest.raises(TypeError):
        r.numpy(True)  # keyword-only, as in PyTorch
    assert ptr(norch.ones(2).numpy(force=True)) != 0


# --- from_numpy's checks ---------------------------------------------------------

def test_from_numpy_of_a_read_only_array_shares():
    # Both libraries warn about it once per process (checked in a fresh process by
    # test_hostile_inputs.py), so here only the sharing is checked.
    a = np.arange(3.0)
    a.flags.writeable = False
    for lib in (norch, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = lib.from_numpy(a)
        assert t.data_ptr() == ptr(a)
    b = np.arange(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norch.from_numpy(b)


def test_from_numpy_refuses_non_native_byte_order():
    a = np.arange(4, dtype=">f4")
    for lib in (norch, torch):
        with pytest.raises(ValueError, match="byte order different from the native byte order"):
            lib.from_numpy(a)
    assert norch.from_numpy(np.arange(4, dtype="<f4")).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("bad", [np.array(["ab"]), np.ones(2, dtype=np.complex64), np.ones(2, dtype=np.int16),
                                 np.array([object()])])
def test_from_numpy_refuses_unsupported_dtypes(bad):
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy"):
        norch.from_numpy(bad)


def test_from_numpy_refuses_non_arrays():
    for lib in (norch, torch):
        with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
            lib.from_numpy([1, 2])


def test_frombuffer_of_read_only_bytes_warns_like_pytorch():
    data = np.arange(4, dtype=np.float32).tobytes()
    for lib in (norch, torch):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            t = lib.frombuffer(data, dtype=lib.float32)
        assert [str(w.message)[:33] for w in seen] == ["The given buffer is not writable,"]
        assert t.tolist() == [0, 1, 2, 3]
    buf = bytearray(data)
    t = norch.frombuffer(buf, dtype=norch.float32)
    t[0] = 5.0     # a writable buffer is shared
    assert np.frombuffer(buf, dtype=np.float32)[0] == 5.0
