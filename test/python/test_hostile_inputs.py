"""Regression tests for inputs that used to crash the interpreter or give a silent
wrong answer (issue 9): overflowing sizes, out-of-bounds views, deep nesting,
degenerate pads and absurd interpolation factors. The calls that used to crash run
in one child interpreter (a regression then fails its case instead of killing
pytest); each prints the exception it got, which the parent checks against
PyTorch's type and message."""
import json
import os
import pathlib
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import norch
import norch.nn.functional as F

# (id, expression, exception type name, regex its message must match). Each used
# to end the process (SIGSEGV or unbounded memory growth) or return garbage.
CRASHERS = [
    ("ones_2_62", "norch.ones(2**62)", "RuntimeError", r"Storage size calculation overflowed with sizes=\[4611686018427387904\]"),
    ("empty_2_62", "norch.empty(2**62)", "RuntimeError", r"Storage size calculation overflowed"),
    ("zeros_numel_wraps_to_0", "norch.zeros(2**32, 2**32)", "RuntimeError",
     r"Storage size calculation overflowed with sizes=\[4294967296, 4294967296\]"),
    ("eye_2_40", "norch.eye(2**40)", "RuntimeError", r"overflow"),
    ("arange_huge", "norch.arange(2**62, 2**63 - 1, 2)", "RuntimeError", r"Storage size calculation overflowed"),
    ("arange_length_beyond_int64", "norch.arange(0.0, 1e30, 1e-10)", "RuntimeError",
     r"value cannot be converted to type int64_t without overflow"),
    ("expand_negative_numel", "norch.ones(3).expand(2**62, 3).clone()", "RuntimeError",
     r"numel: integer multiplication overflow"),
    ("expand_max_sum", "norch.zeros(1).expand(2**63 - 1).sum()", "RuntimeError", r"overflow"),
    ("repeat_overflow", "norch.zeros(4).repeat(2**62)", "RuntimeError", r"integer multiplication overflow"),
    ("repeat_bytes_overflow", "norch.zeros(4).repeat(2**61, 8)", "RuntimeError",
     r"Storage size calculation overflowed with sizes=\[2305843009213693952, 32\]"),
    ("cat_size_overflow", "norch.cat([norch.zeros(1).expand(2**62), norch.zeros(1).expand(2**62)])",
     "RuntimeError", r"overflow"),
    ("reshape_wrapped_product", "norch.zeros(4).reshape(2**32 + 1, 2**32 - 1, -1)", "RuntimeError",
     r"is invalid for input of size 4"),
    ("as_strided_negative_offset", "norch.zeros(4).as_strided((1,), (1,), -10**8).clone()", "RuntimeError",
     r"Tensor: invalid storage offset -100000000"),
    ("as_strided_offset_minus_one", "norch.zeros(4).as_strided((1,), (1,), -1).clone()", "RuntimeError",
     r"Tensor: invalid storage offset -1"),
    ("as_strided_extent_overflow", "norch.zeros(2).as_strided((2**62,), (3,)).clone()", "RuntimeError",
     r"Storage size calculation overflowed with sizes=\[4611686018427387904\] and strides=\[3\]"),
    ("as_strided_stride_overflow", "norch.zeros(4).as_strided((2,), (2**62,)).tolist()", "RuntimeError",
     r"Storage size calculation overflowed with sizes=\[2\] and strides=\[4611686018427387904\]"),
    ("as_strided_offset_overflow", "norch.zeros(4).as_strided((1,), (1,), 2**63 - 1)", "RuntimeError",
     r"Storage size calculation overflowed"),
    ("as_strided_past_end", "norch.zeros(4).as_strided((2,), (1,), 3)", "RuntimeError", r"out of bounds for storage"),
    ("as_strided_negative_stride", "norch.zeros(4).as_strided((2,), (-1,), 2)", "RuntimeError",
     r"Negative strides are not supported"),
    ("deep_list", "norch.tensor(functools.reduce(lambda a, _: [a], range(100000), 1.0))", "ValueError",
     r"too many dimensions 'list'"),
    ("self_containing_list", "(lambda l: (l.append(l), norch.tensor(l)))([])", "ValueError",
     r"too many dimensions 'list'"),
    ("unflatten_0d", "norch.tensor(1.0).unflatten(0, (1,))", "RuntimeError",
     r"Dimension specified as 0 but tensor has no dimensions"),
    ("pad_empty_reflect", "F.pad(norch.zeros(4, 2), (), mode='reflect')", "NotImplementedError",
     r"Padding size 0 is not supported for 2D input tensor"),
    ("pad_empty_replicate", "F.pad(norch.zeros(4, 2), (), mode='replicate')", "NotImplementedError",
     r"Padding size 0 is not supported for 2D input tensor"),
    ("pad_empty_circular", "F.pad(norch.zeros(4, 2), (), mode='circular')", "NotImplementedError",
     r"Padding size 0 is not supported for 2D input tensor"),
    ("pad_overflowing_amount", "F.pad(norch.zeros(1, 4, 2), (2**62, 2**62), mode='replicate')", "RuntimeError",
     r"overflow"),
    ("constant_pad_overflowing_amount", "F.pad(norch.zeros(4, 2), (2**63 - 1, 1))", "RuntimeError", r"overflow"),
    # A huge stride made the first valid output position negative: writes before the buffer.
    ("conv1d_huge_stride_padding", "F.conv1d(norch.ones(1, 1, 4), norch.ones(1, 1, 2), stride=2**63 - 1, padding=3)",
     "no exception", r""),
    ("conv1d_huge_stride_large_padding",
     "F.conv1d(norch.ones(1, 1, 4), norch.ones(1, 1, 2), stride=2**63 - 1, padding=2**32).tolist()",
     "no exception", r""),
    ("interpolate_1e10", "F.interpolate(norch.ones(1, 1, 2), scale_factor=1e10)", "MemoryError|RuntimeError", r""),
    ("interpolate_1e30", "F.interpolate(norch.ones(1, 1, 2), scale_factor=1e30)", "RuntimeError",
     r"value cannot be converted to type int64_t without overflow"),
    ("interpolate_size_2_62", "F.interpolate(norch.ones(1, 1, 2), size=2**62)", "RuntimeError",
     r"Storage size calculation overflowed with sizes=\[1, 1, 4611686018427387904\]"),
]

_CHILD = r"""
import functools, json, re, resource, sys
import numpy as np
import norch
import norch.nn.functional as F
# An absurd request must fail at once, not after eating the machine's memory.
# RLIMIT_DATA (not RLIMIT_AS): a CUDA runtime reserves large address ranges it never commits.
resource.setrlimit(resource.RLIMIT_DATA, (8 << 30, 8 << 30))
for case_id, expr in json.loads(sys.argv[1]):
    try:
        eval(expr)
        result = ["no exception", ""]
    except Exception as e:
        result = [type(e).__name__, str(e)]
    print(json.dumps([case_id] + result), flush=True)
"""


@pytest.fixture(scope="module")
def crasher_results():
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(norch.__file__).parent.parent))
    cases = json.dumps([[c[0], c[1]] for c in CRASHERS])
    r = subprocess.run([sys.executable, "-c", _CHILD, cases], capture_output=True, text=True, env=env, timeout=300)
    results = {}
    for line in r.stdout.splitlines():
        case_id, kind, msg = json.loads(line)
        results[case_id] = (kind, msg)
    return results, r.returncode, r.stderr[-2000:]


@pytest.mark.parametrize("case_id,expr,kind,pattern", CRASHERS, ids=[c[0] for c in CRASHERS])
def test_hostile_call_raises_instead_of_crashing(crasher_results, case_id, expr, kind, pattern):
    results, rc, stderr = crasher_results
    assert case_id in results, f"the child died (rc {rc}) at or before {expr!r}: {stderr}"
    got_kind, msg = results[case_id]
    assert re.fullmatch(kind, got_kind), f"{expr}: expected {kind}, got {got_kind}: {msg}"
    assert re.search(pattern, msg), f"{expr}: message {msg!r} does not match {pattern!r}"


def _torch_raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the oracle's exception type is what is compared
        return type(e)
    return None


# Same call on both libraries: PyTorch's exception type is the reference.
@pytest.mark.parametrize("call", [
    lambda m: m.zeros(4).unflatten(0, (3,)),
    lambda m: m.zeros(4).unflatten(0, ()),
    lambda m: m.zeros(4).unflatten(0, (-1, -1)),
    lambda m: m.zeros(4).unflatten(0, (-2, -2)),
    lambda m: m.zeros(4).unflatten(1, (2, 2)),
    lambda m: m.zeros(4).unflatten(0, (2**62, 2**62)),
    lambda m: m.zeros(4).view(2**62, 2**62),
    lambda m: m.zeros(4).reshape(2**62, 4, -1),
    lambda m: m.ones(3).expand(2**62, 3),
    lambda m: m.zeros(4).as_strided((2,), (1,), -1),
], ids=["unflatten_bad_product", "unflatten_empty", "unflatten_two_inferred", "unflatten_negative",
        "unflatten_bad_dim", "unflatten_overflow", "view_overflow", "reshape_overflow", "expand_overflow",
        "as_strided_negative_offset"])
def test_bad_shapes_raise_like_torch(call):
    expected = _torch_raises(lambda: call(torch))
    assert expected is not None
    with pytest.raises(expected):
        call(norch)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("shape,pad", [
    ((4, 2), ()), ((4, 2), (1,)), ((1, 4, 2), (1, 1, 1)), ((1, 4, 2), (2, 2)), ((1, 4, 2), (3, 3)),
    ((4, 2), (1, 1, 1, 1)), ((4, 2), (1, 1, 1, 1, 1, 1)), ((1, 4, 2), (-3, -3)), ((1, 4, 2), (1, 1)),
    ((1, 4, 3), (2, 0)),
], ids=str)
def test_pad_neighbours_match_torch(mode, shape, pad):
    x = np.random.default_rng(0).standard_normal(shape)
    expected = _torch_raises(lambda: torch.nn.functional.pad(torch.tensor(x), pad, mode=mode))
    if expected is not None:
        with pytest.raises(expected):
            F.pad(norch.tensor(x), pad, mode=mode)
    else:
        ref = torch.nn.functional.pad(torch.tensor(x), pad, mode=mode).numpy()
        np.testing.assert_allclose(F.pad(norch.tensor(x), pad, mode=mode).numpy(), ref)


def test_unflatten_valid_cases_still_work():
    x = norch.arange(24.0).reshape(2, 12)
    assert x.unflatten(1, (3, -1)).shape == (2, 3, 4)
    assert x.unflatten(-1, (2, 2, 3)).shape == (2, 2, 2, 3)
    assert norch.zeros(0).unflatten(0, (0, 5)).shape == (0, 5)


def test_as_strided_in_bounds_and_empty_views():
    base = norch.arange(6.0)
    np.testing.assert_array_equal(base.as_strided((2, 2), (1, 2), 1).numpy(), [[1.0, 3.0], [2.0, 4.0]])
    # The last element exactly at the end of the storage is in bounds.
    np.testing.assert_array_equal(base.as_strided((1,), (1,), 5).numpy(), [5.0])
    # An empty view needs no storage, wherever its offset and strides point (as PyTorch).
    assert base.as_strided((0,), (2**62,), 100).shape == (0,)
    # A huge stride on a size-1 dim is never stepped.
    np.testing.assert_array_equal(base.as_strided((1, 2), (2**62, 1), 2).numpy(), [[2.0, 3.0]])


def test_dimension_limit():
    assert norch.zeros([1] * 16).dim() == 16
    nested = 1.0
    for _ in range(64):
        nested = [nested]
    assert norch.tensor(nested).shape == (1,) * 64
    with pytest.raises(ValueError, match="too many dimensions 'list'"):
        norch.tensor([nested])
    with pytest.raises(RuntimeError, match="up to 64 dims"):
        norch.zeros([1] * 65)
    with pytest.raises(RuntimeError, match="up to 64 dims"):
        norch.zeros(1).view([1] * 65)
    with pytest.raises(RuntimeError, match="up to 64 dims"):
        norch.zeros(1).expand([1] * 65)


def test_interpolate_large_but_sane_factor_still_works():
    out = F.interpolate(norch.ones(1, 1, 2), scale_factor=1000.0)
    assert out.shape == (1, 1, 2000)
    assert float(out.sum()) == 2000.0


def test_slice_step_larger_than_any_stride_product():
    x = norch.arange(9.0).reshape(3, 3)
    # NumPy's answer; the stride product step * 3 overflows int64 for dim 0.
    np.testing.assert_array_equal(x[::2**62].numpy(), np.arange(9.0).reshape(3, 3)[::2**62])
    np.testing.assert_array_equal(x[1::2**62].numpy(), [[3.0, 4.0, 5.0]])
    col = x[:, ::2**62]
    assert col.stride() == torch.zeros(3, 3)[:, ::2**62].stride()
    np.testing.assert_array_equal(col.numpy(), [[0.0], [3.0], [6.0]])
    assert x[3::2**62].shape == (0, 3)


def _bool_bytes(values):
    return np.array(values, dtype=np.uint8).view(bool)


def test_bool_bytes_other_than_0_1_are_normalised_by_tensor():
    src = _bool_bytes([2, 0, 255, 1])
    t = norch.tensor(src)
    np.testing.assert_array_equal(t.to(norch.uint8).numpy(), [1, 0, 1, 1])
    assert int(t.sum()) == 3
    np.testing.assert_array_equal(t.logical_not().numpy(), [False, True, False, False])
    np.testing.assert_array_equal(src.view(np.uint8), [2, 0, 255, 1])  # a copy: the source is untouched


def test_bool_bytes_are_normalised_by_from_numpy_and_memory_stays_shared():
    src = _bool_bytes([2, 0, 255, 1])
    t = norch.from_numpy(src)
    np.testing.assert_array_equal(t.to(norch.uint8).numpy(), [1, 0, 1, 1])
    assert int(t.sum()) == 3
    np.testing.assert_array_equal(src, [True, False, True, True])  # same truth values
    t[1] = True
    assert src[1]


def test_bool_bytes_of_a_read_only_array():
    src = _bool_bytes([2, 0, 1])
    src.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warned once per process, checked in its own child below
        t = norch.from_numpy(src)
    np.testing.assert_array_equal(t.to(norch.uint8).numpy(), [1, 0, 1])
    np.testing.assert_array_equal(src.view(np.uint8), [2, 0, 1])


@pytest.mark.parametrize("dtype", [">f4", ">f8", ">i4", ">i8"])
@pytest.mark.parametrize("fn", ["tensor", "from_numpy"])
def test_big_endian_arrays_are_refused_like_torch(fn, dtype):
    arr = np.array([1, 2], dtype=dtype)
    with pytest.raises(ValueError) as expected:
        getattr(torch, fn)(arr)
    with pytest.raises(ValueError, match="byte order different from the native byte order") as got:
        getattr(norch, fn)(arr)
    assert str(got.value) == str(expected.value)
    # The native-order copy converts and gives the values (not byte-swapped garbage).
    np.testing.assert_array_equal(getattr(norch, fn)(arr.astype(arr.dtype.newbyteorder("="))).numpy(), [1, 2])


def test_read_only_array_is_shared_with_a_warning_by_from_numpy():
    arr = np.array([1.0, 2.0])
    arr.flags.writeable = False
    code = (
        "import warnings, numpy as np, norch\n"
        "arr = np.array([1.0, 2.0]); arr.flags.writeable = False\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    t = norch.from_numpy(arr)\n"
        "    norch.from_numpy(arr)\n"
        "assert len(w) == 1 and w[0].category is UserWarning, w\n"   # once per process, as PyTorch
        "assert 'not writable' in str(w[0].message)\n"
        "assert t.data_ptr() == arr.ctypes.data\n"
        "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(norch.__file__).parent.parent))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    # norch.tensor copies a read-only array without complaint.
    np.testing.assert_array_equal(norch.tensor(arr).numpy(), [1.0, 2.0])


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(0, 3).t(),
    lambda m: m.zeros(3, 0).as_strided((3, 0), (5, 7)),
    lambda m: m.zeros(3, 1).as_strided((3, 1), (1, 7)),
    lambda m: m.zeros(2, 0, 4).permute(2, 0, 1),
    lambda m: m.zeros(4, 6)[:, ::2],
    lambda m: m.zeros(4, 1).t(),
], ids=["empty_t", "empty_strided", "size1_any_stride", "empty_permuted", "sliced", "row_t"])
def test_is_contiguous_follows_torch(make):
    assert make(norch).is_contiguous() == make(torch).is_contiguous()


@pytest.mark.parametrize("cut", [
    lambda w: w[::2, ::2, ::2, ::2], lambda w: w[:4, :3, :3, :3], lambda w: w.transpose(2, 3)[:4, :3, :3, :3],
    lambda w: w[:, 1::2, :3, :3][:4],
], ids=["strided", "narrowed", "transposed", "mixed"])
def test_conv2d_backward_with_a_sliced_weight(cut):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((8, 6, 6, 6))
    xn, wn = norch.tensor(x, requires_grad=True), norch.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out_n, out_t = F.conv2d(xn, cut(wn)), torch.nn.functional.conv2d(xt, cut(wt))
    g = rng.standard_normal(tuple(out_t.shape))
    out_n.backward(norch.tensor(g))
    out_t.backward(torch.tensor(g))
    np.testing.assert_allclose(out_n.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(wn.grad.numpy(), wt.grad.numpy(), atol=1e-12)


def _int32_index_cases():
    idx = [[0, 1], [2, 0]]
    return [
        ("gather", lambda m, i: m.gather(m.arange(9.0).reshape(3, 3), 1, i(idx))),
        ("scatter_scalar", lambda m, i: m.zeros(3, 3).scatter(1, i(idx), 1.0)),
        ("scatter_src", lambda m, i: m.zeros(3, 3).scatter(1, i(idx), m.arange(4.0).reshape(2, 2))),
        ("scatter_add", lambda m, i: m.zeros(3, 3).scatter_add(1, i(idx), m.arange(4.0).reshape(2, 2))),
        ("scatter_inplace", lambda m, i: m.zeros(3, 3).scatter_(1, i(idx), 2.0)),
        ("scatter_strided_index", lambda m, i: m.zeros(3, 3).scatter(1, i([[0, 1, 2], [2, 0, 1]])[:, ::2], 1.0)),
        ("index_select", lambda m, i: m.index_select(m.arange(9.0).reshape(3, 3), 0, i([0, 2]))),
        ("index_add", lambda m, i: m.zeros(3, 3).index_add(0, i([0, 2]), m.ones(2, 3))),
    ]


@pytest.mark.parametrize("name,call", _int32_index_cases(), ids=[c[0] for c in _int32_index_cases()])
def test_int32_indices_where_torch_takes_them(name, call):
    ref = call(torch, lambda v: torch.tensor(v, dtype=torch.int32)).numpy()
    got = call(norch, lambda v: norch.tensor(v, dtype=norch.int32)).numpy()
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(call(norch, lambda v: norch.tensor(v, dtype=norch.int64)).numpy(), ref)


def test_int32_index_gradients_match_int64():
    a = norch.arange(9.0, dtype=norch.float64).reshape(3, 3).requires_grad_()
    src = norch.ones(2, 2, dtype=norch.float64, requires_grad=True)
    idx = norch.tensor([[0, 1], [2, 0]], dtype=norch.int32)
    (norch.gather(a, 1, idx).sum() + a.scatter_add(1, idx, src).pow(2).sum()).backward()
    at = torch.arange(9.0, dtype=torch.float64).reshape(3, 3).requires_grad_()
    st = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
    it = torch.tensor([[0, 1], [2, 0]], dtype=torch.int32)
    (torch.gather(at, 1, it).sum() + at.scatter_add(1, it, st).pow(2).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy())
    np.testing.assert_allclose(src.grad.numpy(), st.grad.numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.gather(m.zeros(2, 2), 1, m.tensor([[0, 1]], dtype=m.uint8)),
    lambda m: m.zeros(2, 2).scatter(1, m.tensor([[0, 1]], dtype=m.uint8), 1.0),
    lambda m: m.zeros(2, 2).scatter_add(1, m.tensor([[0, 1]], dtype=m.uint8), m.ones(1, 2)),
], ids=["gather", "scatter", "scatter_add"])
def test_other_index_dtypes_are_refused_like_torch(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(norch)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("call", [
    lambda: F.conv2d(norch.ones(1, 1, 3, 3), norch.ones(1, 1, 1, 1), padding=2**62),
    lambda: F.conv1d(norch.ones(1, 1, 3), norch.ones(1, 1, 1), padding=2**62),
    lambda: F.conv2d(norch.ones(1, 1, 3, 3), norch.ones(1, 1, 2, 2), dilation=2**63 - 1),
    lambda: F.conv_transpose2d(norch.ones(1, 1, 3, 3), norch.ones(1, 1, 1, 1), stride=2**62),
    lambda: F.max_pool2d(norch.ones(1, 1, 3, 3), 2, dilation=2**63 - 1),
    lambda: F.unfold(norch.ones(1, 1, 3, 3), 2, padding=2**62),
], ids=["conv2d_padding", "conv1d_padding", "conv2d_dilation", "conv_transpose_stride", "max_pool_dilation",
        "unfold_padding"])
def test_window_geometry_overflow_is_an_error(call):
    # Each output size used to be computed with wrapping (undefined) arithmetic.
    with pytest.raises(RuntimeError) as info:
        call()
    assert "-92233720368547758" not in str(info.value)  # no wrapped value in the message


def test_huge_strides_and_windows_that_fit_still_work():
    for pad in (3, 2**32):
        ref = torch.nn.functional.conv1d(torch.ones(1, 1, 4), torch.ones(1, 1, 2), stride=2**63 - 1, padding=pad)
        got = F.conv1d(norch.ones(1, 1, 4), norch.ones(1, 1, 2), stride=2**63 - 1, padding=pad)
        np.testing.assert_array_equal(got.numpy(), ref.numpy())
    np.testing.assert_array_equal(F.conv2d(norch.ones(1, 1, 3, 3), norch.ones(1, 1, 1, 1), stride=2**62).numpy(),
                                  [[[[1.0]]]])
    np.testing.assert_array_equal(F.max_pool2d(norch.ones(1, 1, 3, 3), 2, stride=2**62).numpy(), [[[[1.0]]]])


def test_empty_shapes_with_huge_dims_follow_torch():
    for shape in [(0, 2**62), (2**62, 0)]:
        t = norch.zeros(*shape)
        assert t.shape == shape and t.numel() == 0
        assert t.stride() == torch.zeros(*shape).stride()
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        norch.zeros(2**62, 2**62, 0)


def test_nbytes_does_not_wrap():
    assert norch.zeros(2, 3).nbytes == 24
    with pytest.raises(RuntimeError, match="integer multiplication overflow"):
        norch.zeros(1).expand(2**62).nbytes


def test_bool_bytes_from_a_checkpoint_are_normalised(tmp_path):
    path = tmp_path / "flags.pt"
    norch.save({"flags": norch.tensor([True, False, True])}, path)
    raw = bytearray(path.read_bytes())
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    key = next(k for k in header if k != "__metadata__")
    begin, end = header[key]["data_offsets"]
    assert end - begin == 3
    raw[8 + n + begin:8 + n + end] = bytes([7, 0, 255])   # a crafted file: bool bytes other than 0/1
    path.write_bytes(bytes(raw))
    flags = norch.load(path)["flags"]
    np.testing.assert_array_equal(flags.to(norch.uint8).numpy(), [1, 0, 1])
    assert int(flags.sum()) == 2
