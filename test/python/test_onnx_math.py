"""The tensor ops opset 17 has no single node for, against ONNX: cumprod (a Scan), atan2,
integer bitwise ops and shifts (bit decomposition, BitShift on unsigned types), hypot, sinc,
nan_to_num, index_add, nonzero/argwhere and masked_select. Each is exported, checked and run
in onnxruntime against norch on ordinary and edge values (signed zeros, infinities, NaN,
the integer extremes, shifts outside [0, width)), with dynamic axes where the op allows."""
import numpy as np
import pytest

import norch
from _onnx_check import _compare, _export, _session
from _onnx_table import Call

_I64 = np.iinfo(np.int64)
_I32 = np.iinfo(np.int32)


def _check(fn, make, dyn=(0,), batches=(2, 3)):
    model = Call(lambda s, *xs: fn(*xs))
    data, proto, names = _export(model, make(batches[0]), dyn)
    for b in batches:
        _compare(model, data, names, make(b))
    return data, names


# ---- cumprod ------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_with_zeros_and_negatives(dim):
    def make(b):
        x = norch.randn(b, 4, 5)
        return [x.masked_fill(norch.rand(b, 4, 5) < 0.15, 0.0)]
    _check(lambda x: norch.cumprod(x, dim) + x.cumprod(dim), make, dyn=(0, 2))


def test_cumprod_along_a_dynamic_axis_and_dtypes():
    _check(lambda x: x.cumprod(1), lambda b: [norch.rand(2, b + 3) + 0.5], dyn=(1,))
    _check(lambda x: x.cumprod(0), lambda b: [norch.randint(-3, 4, (b, 3))])
    _check(lambda x: x.cumprod(-1, dtype=norch.float64), lambda b: [norch.randn(b, 4)])
    _check(lambda x: x.sum().cumprod(0), lambda b: [norch.randn(b, 4)])  # 0-d


# ---- atan2 and friends ----------------------------------------------------------------------
_SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 1e-30, np.inf, -np.inf, np.nan]


def test_atan2_quadrants_zeros_and_infinities():
    y, x = np.meshgrid(np.asarray(_SPECIAL, np.float32), np.asarray(_SPECIAL, np.float32), indexing="ij")
    y, x = norch.tensor(y.reshape(-1)), norch.tensor(x.reshape(-1))
    model = Call(lambda s, a, b: norch.atan2(a, b))
    data, _, names = _export(model, [y, x], None)
    got = _session(data).run(None, {"x0": y.numpy(), "x1": x.numpy()})[0]
    ref = norch.atan2(y, x).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=0)
    zero = ref == 0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(ref[zero]))  # atan2(-0, 1) is -0
    _check(lambda a, b: a.atan2(b) + norch.arctan2(a, 2.0), lambda b: [norch.randn(b, 4), norch.randn(b, 4)])


def test_atan2_of_integers_promotes():
    _check(lambda a, b: norch.atan2(a, b), lambda b: [norch.randint(-3, 4, (b, 4)), norch.randint(-3, 4, (b, 4))])


def test_hypot_sinc_nan_to_num():
    special = norch.tensor(np.asarray(_SPECIAL, np.float32))

    def make(b):
        return [norch.cat([special, norch.randn(b)])]
    _check(lambda x: norch.sinc(x) + x.sinc(), make)
    _check(lambda x: norch.hypot(x, x * 2 - 1), lambda b: [norch.randn(b, 4) * 10])
    _check(lambda x: norch.nan_to_num(x) + norch.nan_to_num(x, nan=1.5, posinf=3.0, neginf=-2.0) * 1e-30,
           make)
    _check(lambda x: x.nan_to_num(posinf=7.0), lambda b: [norch.randint(0, 5, (b,))])
    _check(lambda x: norch.nan_to_num(x.double()), make)


# ---- integer bitwise ops ------------------------------------------------------------------
def _ints(dtype, b):
    if dtype == norch.uint8:
        edge = [0, 1, 127, 128, 255]
        lo, hi = 0, 256
    elif dtype == norch.int32:
        edge = [0, -1, 1, int(_I32.min), int(_I32.max)]
        lo, hi = -1000, 1000
    else:
        edge = [0, -1, 1, int(_I64.min), int(_I64.max)]
        lo, hi = -(1 << 40), 1 << 40
    return norch.cat([norch.tensor(edge).to(dtype), norch.randint(lo, hi, (b,)).to(dtype)])


@pytest.mark.parametrize("dtype", [norch.int64, norch.int32, norch.uint8], ids=str)
def test_bitwise_and_or_xor_not(dtype):
    def make(b):
        return [_ints(dtype, b), _ints(dtype, b).flip(0)]
    _check(lambda a, b: a & b, make)
    _check(lambda a, b: a | b, make)
    _check(lambda a, b: a ^ b, make)
    _check(lambda a, b: norch.bitwise_and(a, b) + norch.bitwise_or(a, 5) + norch.bitwise_xor(a, b), make)
    _check(lambda a, b: ~a + a.bitwise_not(), make)
    _check(lambda a, b: norch.logical_not(a), make)


def test_bitwise_on_bool_and_inplace():
    _check(lambda a, b: (a & b) | (a ^ ~b), lambda b: [norch.rand(b, 4) > 0.5, norch.rand(b, 4) > 0.5])
    _check(lambda a, b: a.clone().bitwise_and_(b).bitwise_or_(3), lambda b: [_ints(norch.int64, b),
                                                                             _ints(norch.int64, b)])


@pytest.mark.parametrize("dtype", [norch.int64, norch.int32, norch.uint8], ids=str)
def test_shifts(dtype):
    width = {norch.uint8: 8, norch.int32: 32, norch.int64: 64}[dtype]
    amounts = [0, 1, 3, width - 1, width, width + 1] + ([-1, -5] if dtype != norch.uint8 else [])

    def make(b):
        x = _ints(dtype, b)
        s = norch.tensor((amounts * 4)[:x.shape[0]]).to(dtype)
        return [x, s]
    _check(lambda x, s: x << s, make)
    _check(lambda x, s: x >> s, make)
    _check(lambda x, s: (x << 2) + (x >> 3) + norch.bitwise_left_shift(x, s) + norch.bitwise_right_shift(x, 1),
           make)


def test_shift_of_a_python_int_by_a_tensor():
    _check(lambda s: (1 << s) + (-64 >> s), lambda b: [norch.randint(0, 70, (b, 3))])


# ---- index_add, nonzero, masked_select ----------------------------------------------------
def test_index_add():
    _check(lambda x, u: x.index_add(0, norch.tensor([1, 0, 1]), u), lambda b: [norch.randn(4, b), norch.randn(3, b)],
           dyn=(1,))
    _check(lambda x: x.index_add(1, norch.tensor([2, 0, 2]), x[:, :3], alpha=-0.5), lambda b: [norch.randn(b, 4)])
    _check(lambda x: norch.index_add(x, -1, norch.tensor([1]), x[..., :1] * 3), lambda b: [norch.randn(b, 2, 3)])
    _check(lambda x: x.long().index_add(0, norch.tensor([0, 0]), norch.ones(2, 3, dtype=norch.int64)),
           lambda b: [norch.randn(3, 3) * 5 + b], dyn=None)


def test_nonzero_argwhere_masked_select_follow_the_data():
    def make(b):
        x = norch.randn(b, 4)
        return [x.masked_fill(x.abs() < 0.5, 0.0)]
    _check(lambda x: norch.nonzero(x), make)
    _check(lambda x: x.nonzero(as_tuple=True), make)
    _check(lambda x: norch.argwhere(x > 0.2), make)
    _check(lambda x: x.masked_select(x > 0.3), make)
    _check(lambda x: norch.masked_select(x, norch.tensor([True, False, True, True])), make)  # broadcast mask
    _check(lambda x: x[0].nonzero(as_tuple=True)[0], make)


def test_index_put():
    rows, cols = norch.tensor([0, 2, -1]), norch.tensor([1, 1, 0])
    _check(lambda x, v: norch.index_put(x, (rows, cols), v), lambda b: [norch.randn(4, 3, 5), norch.randn(3, 5)],
           dyn=None)
    _check(lambda x: norch.index_put(x, (rows,), x[1:4] * 3), lambda b: [norch.randn(4, b)], dyn=(1,))
    _check(lambda x: x.index_put((norch.tensor([1, 1, 0]),), x[:3] * 2, accumulate=True), lambda b: [norch.randn(b + 3)],
           dyn=None, batches=(2, 2))
    _check(lambda x: x.index_put((norch.tensor([[0], [2]]), norch.tensor([1, 0])), norch.tensor(5.0)),
           lambda b: [norch.randn(3, 2)], dyn=None)


def test_unique():
    _check(lambda x: norch.unique(x), lambda b: [norch.randint(0, 5, (b, 4))])
    _check(lambda x: x.unique(return_inverse=True, return_counts=True), lambda b: [norch.randint(-3, 3, (b, 3))])
    _check(lambda x: norch.unique(x, sorted=False, return_counts=True, dim=0),
           lambda b: [norch.randint(0, 2, (b + 2, 2))])
    _check(lambda x: norch.unique(x.round(), dim=1), lambda b: [norch.randn(b, 5).clamp(-1, 1)])


def test_factories_sized_by_a_dynamic_axis():
    _check(lambda x: x @ norch.eye(x.shape[1]) + norch.eye(x.shape[0], 3)[:, :1], lambda b: [norch.randn(b, 3)],
           dyn=(0, 1))
    _check(lambda x: x + norch.linspace(-1.0, 2.0, x.shape[1]), lambda b: [norch.randn(2, b + 1)], dyn=(1,))
    _check(lambda x: norch.sum_to(x, (1, x.shape[1])) + norch.sum_to(x * 2, (x.shape[1],)),
           lambda b: [norch.randn(b, 3)])


def test_unmapped_entry_points_are_the_listed_ones():
    """A new C++ op or Tensor method without an ONNX mapping fails here: map it, or list it
    with the reason it has none."""
    import types
    from norch.onnx import _ops_nn, _tracer  # noqa: F401  (registers every handler)
    no_mapping = {
        "as_strided": "addresses memory by strides",
        "Tensor.as_strided": "addresses memory by strides",
        "tensor": "builds a tensor from Python data (a constant)",
        "from_numpy": "builds a tensor from NumPy data (a constant)",
        "Tensor.new_tensor": "builds a tensor from Python data (a constant)",
        "Tensor.__array_wrap__": "NumPy interop",
    }
    utilities = {"get_default_dtype", "set_default_dtype", "get_num_threads", "set_num_threads", "get_rng_state",
                 "set_rng_state", "initial_seed", "manual_seed", "seed", "promote_types", "result_type"}
    unmapped = {n for n, o in vars(norch._C).items() if not n.startswith("_") and
                isinstance(o, types.BuiltinFunctionType) and n not in _tracer.HANDLERS and n not in _tracer._RANDOM}
    unmapped |= {"_nn." + n for n in vars(norch._C._nn) if not n.startswith("_") and "_nn." + n not in _tracer.HANDLERS}
    for name, val in norch._C.Tensor.__dict__.items():
        key = "Tensor." + name
        if name in ("shape", "size") or name in _tracer._METADATA or name.startswith("is_") or \
                key in _tracer._DATA_DEPENDENT or key in _tracer._RANDOM or isinstance(val, (types.FunctionType,
                                                                                              property)):
            continue
        if callable(val) and key not in _tracer.HANDLERS:
            unmapped.add(key)
    assert unmapped - utilities == set(no_mapping)
