"""Zero-copy exchange through DLPack with NumPy and PyTorch: shared memory both ways,
strides and offsets of views, 0-d/empty/bool and every dtype, lifetimes on both
sides, legacy and versioned capsules (their C layout read back with ctypes), and
the errors of the protocol. PyTorch is the oracle for behaviour and messages."""
import ctypes
import gc
import weakref

import numpy as np
import pytest
import torch
import torch.utils.dlpack

import norch
import norch.utils.dlpack

import _oracle

DTYPES = _oracle.ALL + ("float16",)  # bfloat16 has no NumPy dtype: test_half_nn.py covers it with PyTorch


def sample(dtype, shape=(3, 4)):
    return _oracle.make(dtype, shape, "small")


def other_value(dtype):
    return True if dtype == "bool" else 7


def shares(a, b):
    return _ptr(a) == _ptr(b)


def _ptr(x):
    if isinstance(x, np.ndarray):
        return x.__array_interface__["data"][0]
    return x.data_ptr()


# --- capsule internals, read through ctypes --------------------------------------

ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
ctypes.pythonapi.PyCapsule_GetName.restype = ctypes.c_char_p
ctypes.pythonapi.PyCapsule_GetName.argtypes = [ctypes.py_object]


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


def capsule_name(cap):
    return ctypes.pythonapi.PyCapsule_GetName(cap).decode()


def managed(cap):
    name = capsule_name(cap)
    kind = DLManagedTensorVersioned if name == "dltensor_versioned" else DLManagedTensor
    return kind.from_address(ctypes.pythonapi.PyCapsule_GetPointer(cap, name.encode()))


READ_ONLY, IS_COPIED = 1, 2


# --- export: norch -> NumPy / PyTorch --------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_export_to_numpy_shares_memory_both_ways(dtype):
    ref = sample(dtype)
    t = norch.from_numpy(ref.copy())
    a = np.from_dlpack(t)
    assert a.dtype == ref.dtype and a.shape == ref.shape and shares(a, t)
    np.testing.assert_array_equal(a, ref)
    a[1, 2] = other_value(dtype)          # write through NumPy, read through norch
    assert t[1, 2].item() == other_value(dtype)
    t[0, 0] = other_value(dtype)          # and the other way
    assert a[0, 0] == other_value(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_export_to_torch_shares_memory_both_ways(dtype):
    ref = sample(dtype)
    t = norch.from_numpy(ref.copy())
    tt = torch.from_dlpack(t)
    assert tt.dtype == getattr(torch, dtype) and tuple(tt.shape) == ref.shape and shares(tt, t)
    np.testing.assert_array_equal(tt.numpy(), ref)
    tt[2, 3] = other_value(dtype)
    assert t[2, 3].item() == other_value(dtype)
    t[1, 1] = other_value(dtype)
    assert tt[1, 1].item() == other_value(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_import_from_numpy_shares_memory_both_ways(dtype):
    a = sample(dtype)
    ref = a.copy()
    t = norch.from_dlpack(a)
    assert t.dtype == getattr(norch, dtype) and tuple(t.shape) == a.shape and shares(a, t)
    np.testing.assert_array_equal(t.numpy(), ref)
    t[0, 1] = other_value(dtype)
    assert a[0, 1] == other_value(dtype)
    a[2, 0] = other_value(dtype)
    assert t[2, 0].item() == other_value(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_import_from_torch_shares_memory_both_ways(dtype):
    tt = torch.from_numpy(sample(dtype))
    ref = tt.clone()
    t = norch.from_dlpack(tt)
    assert t.dtype == getattr(norch, dtype) and shares(tt, t)
    np.testing.assert_array_equal(t.numpy(), ref.numpy())
    t[1, 3] = other_value(dtype)
    assert tt[1, 3].item() == other_value(dtype)
    tt[0, 2] = other_value(dtype)
    assert t[0, 2].item() == other_value(dtype)


def views(lib_arange):
    """(name, view) pairs of one base: transposed, stepped slices, an offset, a 0-stride expand."""
    base = lib_arange(60).reshape(5, 12)
    return [
        ("transposed", base.T if isinstance(base, np.ndarray) else base.t()),
        ("stepped", base[1::2, ::3]),
        ("offset", base[2:, 5:]),
        ("column", base[:, 7]),
        ("expanded", np.lib.stride_tricks.as_strided(base[:, :1], (5, 4), (base.strides[0], 0))
         if isinstance(base, np.ndarray) else base[:, :1].expand(5, 4)),
    ]


def elem_strides(x):
    if isinstance(x, np.ndarray):
        return tuple(s // x.itemsize for s in x.strides)
    return tuple(x.stride())


@pytest.mark.parametrize("i", range(5))
def test_views_keep_strides_and_offsets_norch_to_numpy_and_torch(i):
    name, v = views(lambda n: norch.arange(n, dtype=norch.int64))[i]
    for consumer in (np.from_dlpack, torch.from_dlpack):
        out = consumer(v)
        assert tuple(out.shape) == tuple(v.shape), name
        assert elem_strides(out) == tuple(v.stride()), name
        assert shares(out, v), name  # the first element, offset included
        np.testing.assert_array_equal(np.asarray(out), v.numpy())


@pytest.mark.parametrize("i", range(5))
@pytest.mark.parametrize("producer", ["numpy", "torch"])
def test_views_keep_strides_and_offsets_into_norch(producer, i):
    arange = (lambda n: np.arange(n, dtype=np.int64)) if producer == "numpy" else \
        (lambda n: torch.arange(n, dtype=torch.int64))
    name, v = views(arange)[i]
    t = norch.from_dlpack(v)
    assert tuple(t.shape) == tuple(v.shape), name
    assert tuple(t.stride()) == elem_strides(v), name
    assert shares(t, v), name
    np.testing.assert_array_equal(t.numpy(), np.asarray(v))


def test_write_through_a_strided_view_lands_in_the_base():
    base = np.zeros((4, 6))
    t = norch.from_dlpack(base[1::2, ::2])
    t.fill_(5.0)
    expected = np.zeros((4, 6))
    expected[1::2, ::2] = 5.0
    np.testing.assert_array_equal(base, expected)


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (0, 5)])
@pytest.mark.parametrize("dtype", ["bool", "float32", "int64"])
def test_zero_dim_and_empty_round_trip(shape, dtype):
    a = _oracle.make(dtype, shape, "small") if shape else np.array(other_value(dtype), dtype=dtype)
    t = norch.from_dlpack(a)
    assert tuple(t.shape) == shape and t.dtype == getattr(norch, dtype)
    np.testing.assert_array_equal(t.numpy(), a)
    for consumer in (np.from_dlpack, torch.from_dlpack):
        back = consumer(t)
        assert tuple(back.shape) == shape
        np.testing.assert_array_equal(np.asarray(back), a)
    empty = norch.empty(*shape) if shape else norch.tensor(1.5)
    assert tuple(torch.from_dlpack(empty).shape) == shape


def test_stream_argument_on_the_device(device):
    t = norch.arange(4, dtype=norch.float32, device=device)
    streams = (None, -1) if device == "cpu" else (None, -1, 1, 2)
    for stream in streams:
        u = norch.from_dlpack(t.__dlpack__(stream=stream))
        assert shares(u, t) and u.device == t.device
        assert u.cpu().tolist() == [0, 1, 2, 3]


def test_norch_to_norch_shares_memory(device):
    t = norch.arange(12, dtype=norch.float32, device=device).reshape(3, 4)
    u = norch.from_dlpack(t.t())
    assert u.device == t.device and tuple(u.stride()) == (1, 4) and shares(u, t.t())
    u[0, 0] = -1.0
    assert t[0, 0].item() == -1.0


# --- lifetimes -------------------------------------------------------------------

def test_exported_memory_outlives_the_producer():
    t = norch.arange(1000, dtype=norch.float64)
    a = np.from_dlpack(t)
    tt = torch.from_dlpack(t)
    del t
    gc.collect()
    junk = [norch.ones(1000, dtype=norch.float64) * 3 for _ in range(20)]  # reuse freed blocks, if any were
    np.testing.assert_array_equal(a, np.arange(1000.0))
    np.testing.assert_array_equal(tt.numpy(), np.arange(1000.0))
    del junk


def test_exporter_releases_its_storage_when_the_consumer_is_done():
    arr = np.arange(10.0)
    alive = weakref.ref(arr)
    t = norch.from_numpy(arr)     # norch's storage holds arr
    tt = torch.from_dlpack(t)     # the capsule's deleter holds norch's storage
    del arr, t
    gc.collect()
    assert alive() is not None
    np.testing.assert_array_equal(tt.numpy(), np.arange(10.0))
    del tt
    gc.collect()
    assert alive() is None


def test_export_holds_the_storage_not_the_tensor():
    t = norch.arange(5, dtype=norch.float32)
    a = np.from_dlpack(t)
    t.data = norch.zeros(5)       # the producer tensor now points elsewhere
    gc.collect()
    norch.ones(5) + 1
    np.testing.assert_array_equal(a, np.arange(5, dtype=np.float32))


def test_importer_keeps_the_producer_alive_and_lets_it_go():
    arr = np.arange(6.0)
    alive = weakref.ref(arr)
    t = norch.from_dlpack(arr)
    view = t[2:]
    del arr, t
    gc.collect()
    assert alive() is not None    # the last norch view still reads it
    np.testing.assert_array_equal(view.numpy(), [2.0, 3.0, 4.0, 5.0])
    del view
    gc.collect()
    assert alive() is None        # the capsule's deleter ran with the norch storage


def test_unconsumed_capsule_returns_the_memory():
    arr = np.arange(4.0)
    alive = weakref.ref(arr)
    cap = arr.__dlpack__()
    del arr
    gc.collect()
    assert alive() is not None
    del cap
    gc.collect()
    assert alive() is None

    t = norch.from_numpy(np.arange(3.0))
    cap = t.__dlpack__(max_version=(1, 0))
    del cap, t                    # norch's own destructor frees its unconsumed capsule
    gc.collect()


# --- legacy and versioned capsules -----------------------------------------------

def test_legacy_capsules_with_torch_both_ways():
    tt = torch.arange(6.0).reshape(2, 3)
    cap = torch.utils.dlpack.to_dlpack(tt)
    assert capsule_name(cap) == "dltensor"
    t = norch.from_dlpack(cap)
    assert capsule_name(cap) == "used_dltensor" and shares(t, tt)
    np.testing.assert_array_equal(t.numpy(), tt.numpy())

    n = norch.arange(6, dtype=norch.int32).reshape(3, 2)[:, 1]
    cap = norch.utils.dlpack.to_dlpack(n)
    assert capsule_name(cap) == "dltensor"
    back = torch.utils.dlpack.from_dlpack(cap)
    assert capsule_name(cap) == "used_dltensor" and shares(back, n)
    assert tuple(back.stride()) == (2,)
    np.testing.assert_array_equal(back.numpy(), [1, 3, 5])
    assert norch.utils.dlpack.from_dlpack is norch.from_dlpack


def test_legacy_capsule_layout():
    t = norch.arange(24, dtype=norch.float32).reshape(2, 3, 4)[:, 1:, ::2]
    cap = t.__dlpack__()
    m = managed(cap)
    dl = m.dl_tensor
    assert (dl.device.device_type, dl.device.device_id) == (1, 0)
    assert (dl.dtype.code, dl.dtype.bits, dl.dtype.lanes) == (2, 32, 1)
    assert dl.ndim == 3 and [dl.shape[i] for i in range(3)] == [2, 2, 2]
    assert [dl.strides[i] for i in range(3)] == list(t.stride())
    assert dl.data + dl.byte_offset == t.data_ptr()


@pytest.mark.parametrize("max_version, name", [(None, "dltensor"), ((0, 8), "dltensor"),
                                               ((1, 0), "dltensor_versioned"), ((1, 5), "dltensor_versioned"),
                                               ((2, 0), "dltensor_versioned")])
def test_versioned_capsule_when_the_consumer_asks(max_version, name):
    t = norch.ones(3)
    cap = t.__dlpack__(max_version=max_version)
    assert capsule_name(cap) == name
    if name == "dltensor_versioned":
        m = managed(cap)
        assert m.major == 1 and m.minor == (0 if max_version == (1, 0) else 1)
        assert m.flags == 0
    u = norch.from_dlpack(cap)
    assert capsule_name(cap) == "used_" + name and shares(u, t)


def test_versioned_capsules_with_numpy_and_torch():
    a = np.arange(5.0)
    cap = a.__dlpack__(max_version=(1, 0))
    assert capsule_name(cap) == "dltensor_versioned"
    t = norch.from_dlpack(cap)
    assert shares(t, a) and capsule_name(cap) == "used_dltensor_versioned"

    n = norch.arange(4, dtype=norch.int64)
    tt = torch.from_dlpack(n.__dlpack__(max_version=(1, 0)))
    assert shares(tt, n)
    # np.from_dlpack asks for the versioned protocol itself
    assert shares(np.from_dlpack(n), n)


def test_read_only_producer_is_copied():
    a = np.arange(6.0)
    a.flags.writeable = False
    t = norch.from_dlpack(a)      # NumPy marks it DLPACK_FLAG_BITMASK_READ_ONLY
    assert not shares(t, a)
    np.testing.assert_array_equal(t.numpy(), a)
    t.fill_(0.0)
    np.testing.assert_array_equal(a, np.arange(6.0))

    src = norch.arange(3, dtype=norch.float32)
    cap = norch._C._to_dlpack(src, True, READ_ONLY)
    u = norch.from_dlpack(cap)
    assert not shares(u, src) and capsule_name(cap) == "used_dltensor_versioned"
    np.testing.assert_array_equal(u.numpy(), [0, 1, 2])


def test_copy_argument():
    t = norch.arange(4, dtype=norch.float32)
    cap = t.__dlpack__(max_version=(1, 0), copy=True)
    assert managed(cap).flags & IS_COPIED
    assert not shares(norch.from_dlpack(cap), t)
    assert shares(norch.from_dlpack(t, copy=False), t)
    assert not shares(norch.from_dlpack(t, copy=True), t)
    assert not shares(norch.from_dlpack(np.arange(3.0), copy=True), t)
    assert managed(t.__dlpack__(max_version=(1, 0), copy=False)).flags == 0
    a = np.arange(3.0)
    assert shares(norch.from_dlpack(a, device="cpu"), a)
    assert not shares(np.from_dlpack(t, copy=True), t)


def test_dlpack_device():
    t = norch.ones(2)
    dev = t.__dlpack_device__()
    assert dev == (norch.utils.dlpack.DLDeviceType.kDLCPU, 0) == torch.ones(2).__dlpack_device__()
    assert isinstance(dev[0], norch.utils.dlpack.DLDeviceType)
    assert int(norch.utils.dlpack.DLDeviceType.kDLCUDA) == int(torch.utils.dlpack.DLDeviceType.kDLCUDA) == 2


def test_dlpack_device_cuda(device):
    t = norch.ones(2, device=device)
    expected = (2, 0) if device == "cuda" else (1, 0)
    assert tuple(int(x) for x in t.__dlpack_device__()) == expected


def test_dl_device_argument():
    t = norch.ones(3)
    assert shares(norch.from_dlpack(t.__dlpack__(dl_device=(1, 0), copy=False)), t)
    with pytest.raises(BufferError, match="DLPack device"):
        t.__dlpack__(dl_device=(4, 0))
    if not norch.cuda.is_available():
        with pytest.raises(BufferError, match="without a copy"):
            t.__dlpack__(dl_device=(2, 0), copy=False)


# --- errors ----------------------------------------------------------------------

INVALID_CAPSULE = "from_dlpack received an invalid capsule"


def test_consuming_a_capsule_twice():
    for make_cap in (lambda: norch.ones(2).__dlpack__(), lambda: torch.ones(2).__dlpack__(),
                     lambda: norch.ones(2).__dlpack__(max_version=(1, 0))):
        cap = make_cap()
        norch.from_dlpack(cap)
        with pytest.raises(RuntimeError, match=INVALID_CAPSULE):
            norch.from_dlpack(cap)
        with pytest.raises(RuntimeError, match=INVALID_CAPSULE):
            torch.from_dlpack(cap)   # same error as PyTorch's


def test_not_a_capsule():
    for bad in (object(), 3, [1, 2]):
        with pytest.raises(RuntimeError, match=INVALID_CAPSULE):
            norch.from_dlpack(bad)
        with pytest.raises(RuntimeError, match=INVALID_CAPSULE):
            torch.from_dlpack(bad)
    with pytest.raises(AssertionError):
        norch.from_dlpack(norch.ones(2).__dlpack__(), copy=True)


@pytest.mark.parametrize("tdtype", [torch.int8, torch.int16, torch.complex64, torch.uint16])
def test_unsupported_dtype_is_refused_and_the_capsule_kept(tdtype):
    tt = torch.zeros(3, dtype=tdtype)
    cap = tt.__dlpack__()
    with pytest.raises(TypeError, match="from_dlpack: unsupported dtype"):
        norch.from_dlpack(cap)
    assert capsule_name(cap) == "dltensor"   # not consumed: its destructor frees it
    assert torch.from_dlpack(cap).dtype == tdtype
    with pytest.raises(TypeError, match="unsupported dtype"):
        norch.from_dlpack(np.zeros(2, dtype=np.int16))


def test_unsupported_device_and_version_are_refused():
    src = norch.arange(3, dtype=norch.float32)
    cap = src.__dlpack__()
    managed(cap).dl_tensor.device.device_type = 4   # kDLOpenCL
    with pytest.raises(RuntimeError, match="unsupported device type 4"):
        norch.from_dlpack(cap)
    assert capsule_name(cap) == "dltensor"

    cap = norch._C._to_dlpack(src, True, 0, 2, 0)
    with pytest.raises(RuntimeError, match="DLPack version 2.0 is not supported"):
        norch.from_dlpack(cap)
    assert capsule_name(cap) == "dltensor_versioned"


def test_cuda_capsule_for_an_absent_device_is_refused():
    # Host memory labelled as CUDA device memory on a device this process does not have:
    # refused before anything reads it, whether or not norch was built with CUDA.
    cap = norch.ones(2).__dlpack__()
    dl = managed(cap).dl_tensor
    dl.device.device_type = 2   # kDLCUDA
    dl.device.device_id = norch.cuda.device_count() if norch.cuda.is_compiled() else 0
    expected = "CUDA device\\(s\\) are available" if norch.cuda.is_compiled() else "built without CUDA"
    with pytest.raises(RuntimeError, match=expected):
        norch.from_dlpack(cap)


def test_negative_strides_are_refused():
    cap = norch.arange(4, dtype=norch.float32).__dlpack__()
    dl = managed(cap).dl_tensor
    dl.strides[0] = -1
    with pytest.raises(ValueError, match="negative strides"):
        norch.from_dlpack(cap)
    dl.strides[0] = 1
    assert norch.from_dlpack(cap).tolist() == [0, 1, 2, 3]


def test_null_strides_mean_row_major():
    cap = norch.arange(6, dtype=norch.float32).reshape(2, 3).__dlpack__()
    managed(cap).dl_tensor.strides = None
    t = norch.from_dlpack(cap)
    assert tuple(t.stride()) == (3, 1) and t.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_export_errors_match_torch():
    for lib in (norch, torch):
        r = lib.ones(2, requires_grad=True)
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            r.__dlpack__()
        with pytest.raises(TypeError, match="stream must be"):
            lib.ones(2).__dlpack__(stream="x")
        with pytest.raises(AssertionError, match="stream should be None on cpu"):
            lib.ones(2).__dlpack__(stream=1)
    assert capsule_name(norch.ones(2).__dlpack__(stream=-1)) == "dltensor"
    with pytest.raises(TypeError):
        norch.ones(2).__dlpack__(None)   # keyword-only, as in the array API and PyTorch
