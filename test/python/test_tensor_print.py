"""repr/str of tensors against PyTorch's text, character for character: every dtype norch
has (float32/64, float16, bfloat16, the integer types, bool), magnitudes that pick each
notation (fixed, integer mode, scientific), nan/inf/-0.0, 0-d, empty and multi-dim
shapes, non-contiguous views, tensors large enough to summarize, every print option and
profile, and the device=/size=/dtype=/requires_grad=/grad_fn= suffixes."""
import math

import numpy as np
import pytest
import torch

import norch

FLOAT_DTYPES = ["float32", "float64", "float16", "bfloat16"]
INT_DTYPES = ["uint8", "int32", "int64"]

SHAPES = [(), (1,), (5,), (7, 1), (3, 4), (2, 3, 4), (1, 1, 1), (31,), (2, 2, 2, 3), (12, 9), (1001,), (40, 50),
          (3, 400), (11, 11, 11), (2, 1, 2, 1, 600)]
EMPTY_SHAPES = [(0,), (0, 3), (2, 0, 3), (3, 0)]

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 6},
    {"precision": 0},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 20, "edgeitems": 0},
    {"edgeitems": 5, "threshold": 100},
    {"linewidth": 40},
    {"linewidth": 200},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "sci_mode": True, "linewidth": 60},
]


@pytest.fixture
def options(request):
    kw = request.param
    norch.set_printoptions(**kw)
    torch.set_printoptions(**kw)
    yield kw
    norch.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def float_values(rng, shape, kind):
    n = int(np.prod(shape))
    if kind == "normal":
        a = rng.standard_normal(n)
    elif kind == "wide":  # magnitudes spread over many decades: scientific mode
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-9, 10, n)
    elif kind == "tiny":
        a = rng.standard_normal(n) * 1e-6
    elif kind == "large":
        a = rng.standard_normal(n) * 1e9
    elif kind == "ints":  # whole numbers: integer mode, "3." style
        a = rng.integers(-1000, 1000, n).astype(np.float64)
    elif kind == "big_ints":
        a = rng.integers(-10 ** 6, 10 ** 6, n).astype(np.float64) * 1000
    elif kind == "special":  # nan, inf, -inf, zero and -0.0 beside ordinary values
        a = rng.standard_normal(n) * 100
        picks = rng.integers(0, 6, n)
        a[picks == 0] = np.nan
        a[picks == 1] = np.inf
        a[picks == 2] = -np.inf
        a[picks == 3] = 0.0
        a[picks == 4] = -0.0
    elif kind == "nonfinite":  # nothing finite and nonzero to size the formatter by
        a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])[rng.integers(0, 5, n)]
    elif kind == "ints_special":
        a = rng.integers(-50, 50, n).astype(np.float64)
        a[rng.integers(0, 4, n) == 0] = np.nan
        a[rng.integers(0, 5, n) == 0] = -np.inf
    elif kind == "constant":
        a = np.full(n, 0.1)
    elif kind == "uniform":
        a = rng.random(n)
    else:
        raise ValueError(kind)
    return a.reshape(shape)


FLOAT_KINDS = ["normal", "wide", "tiny", "large", "ints", "big_ints", "special", "nonfinite", "ints_special",
               "constant", "uniform"]


def both(arr, dtype):
    """The same values as a norch and a torch tensor, cast to `dtype` by each library."""
    arr = np.ascontiguousarray(arr)
    return norch.from_numpy(arr).to(getattr(norch, dtype)), torch.from_numpy(arr).to(getattr(torch, dtype))


def check(n, t, what, failures):
    got, want = repr(n).replace("norch.", "torch."), repr(t)
    if got != want:
        failures.append(f"{what}:\n--- norch\n{got}\n--- torch\n{want}")
    got_s = str(n).replace("norch.", "torch.")
    if got_s != str(t):
        failures.append(f"{what} (str):\n{got_s}\n{str(t)}")


def report(failures, total):
    assert not failures, f"{len(failures)} of {total} reprs differ from torch's; first ones:\n" + "\n\n".join(
        failures[:3])


@pytest.mark.parametrize("options", OPTIONS, indirect=True, ids=lambda kw: repr(kw))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_tensors_print_as_torch(dtype, options):
    rng = np.random.default_rng(hash((dtype, repr(options))) % 2 ** 32)
    failures, total = [], 0
    for shape in SHAPES:
        for kind in FLOAT_KINDS:
            if int(np.prod(shape)) > 2000 and kind not in ("normal", "wide", "special", "ints"):
                continue
            n, t = both(float_values(rng, shape, kind), dtype)
            check(n, t, f"{dtype} {shape} {kind}", failures)
            total += 1
    report(failures, total)


@pytest.mark.parametrize("options", OPTIONS, indirect=True, ids=lambda kw: repr(kw))
@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_integer_and_bool_tensors_print_as_torch(dtype, options):
    rng = np.random.default_rng(7)
    failures, total = [], 0
    for shape in SHAPES:
        n_el = int(np.prod(shape))
        if dtype == "bool":
            sets = [rng.random(n_el) < 0.5, np.ones(n_el, bool)]
        elif dtype == "uint8":
            sets = [rng.integers(0, 256, n_el), rng.integers(0, 10, n_el)]
        else:
            hi = 2 ** 31 - 1 if dtype == "int32" else 2 ** 62
            sets = [rng.integers(-hi, hi, n_el, dtype=np.int64), rng.integers(-5, 5, n_el)]
        for values in sets:
            arr = np.asarray(values).reshape(shape)
            if dtype != "bool":
                arr = arr.astype(np.int64)
            n, t = both(arr, dtype)
            check(n, t, f"{dtype} {shape}", failures)
            total += 1
    report(failures, total)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + INT_DTYPES + ["bool"])
@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_empty_tensors_print_as_torch(dtype, shape):
    n, t = norch.empty(shape, dtype=getattr(norch, dtype)), torch.empty(shape, dtype=getattr(torch, dtype))
    failures = []
    check(n, t, f"{dtype} {shape}", failures)
    n.requires_grad_(dtype in FLOAT_DTYPES)
    t.requires_grad_(dtype in FLOAT_DTYPES)
    check(n, t, f"{dtype} {shape} requires_grad", failures)
    report(failures, 2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + ["int64"])
def test_non_contiguous_views_print_as_torch(dtype):
    rng = np.random.default_rng(3)
    failures, total = [], 0
    for shape in [(6, 5), (4, 50, 30), (3, 2000)]:
        n, t = both(float_values(rng, shape, "wide") if dtype != "int64" else rng.integers(-99, 99, shape), dtype)
        views = [lambda x: x.t() if x.dim() == 2 else x.transpose(0, 2), lambda x: x[..., ::2],
                 lambda x: x.flip(0), lambda x: x[1:, ...], lambda x: x.expand(2, *x.shape)]
        for i, view in enumerate(views):
            check(view(n), view(t), f"{dtype} {shape} view {i}", failures)
            total += 1
    report(failures, total)


def test_0d_values_print_as_torch():
    failures, total = [], 0
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-5, 1e-4, 1e8, 1.5e8, 123456.789, math.pi, math.nan, math.inf, -math.inf,
              2.0 ** -149, 65504.0, 3.0e38, 1e-300, 1e300, 7.0]
    for dtype in FLOAT_DTYPES:
        for v in values:
            n, t = norch.tensor(v, dtype=getattr(norch, dtype)), torch.tensor(v, dtype=getattr(torch, dtype))
            check(n, t, f"{dtype} {v!r}", failures)
            total += 1
    for dtype, v in [("int64", -3), ("int32", 2 ** 31 - 1), ("uint8", 255), ("bool", True), ("bool", False)]:
        check(norch.tensor(v, dtype=getattr(norch, dtype)), torch.tensor(v, dtype=getattr(torch, dtype)), dtype,
              failures)
        total += 1
    report(failures, total)


def test_autograd_suffixes_print_as_torch():
    rng = np.random.default_rng(5)
    failures = []
    for shape in [(), (3,), (4, 5), (30, 40)]:
        arr = rng.standard_normal(shape)
        n, t = norch.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
        check(n, t, f"leaf {shape}", failures)
        if shape == ():
            n, t = n.reshape(1), t.reshape(1)
        n32, t32 = norch.tensor(arr.astype(np.float32), requires_grad=True), torch.tensor(arr.astype(np.float32),
                                                                                            requires_grad=True)
        check(n32, t32, f"float32 leaf {shape}", failures)
        # ops whose graph nodes norch names as PyTorch does (full sum, mean and t do not yet)
        for name, op in [("mul", lambda x: x * 2), ("add", lambda x: x + x), ("sum dim", lambda x: x.sum(-1)),
                         ("exp", lambda x: x.exp()), ("neg", lambda x: -x), ("relu", lambda x: x.relu()),
                         ("view", lambda x: x.reshape(-1)), ("to half", lambda x: x.half())]:
            check(op(n), op(t), f"{name} {shape}", failures)
            check(op(n32), op(t32), f"{name} float32 {shape}", failures)
    n, t = norch.ones(3, 3, requires_grad=True), torch.ones(3, 3, requires_grad=True)
    check(n @ n, t @ t, "matmul", failures)
    check(n[1], t[1], "select", failures)
    report(failures, 74)


def test_parameter_prints_as_torch():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    n, t = norch.nn.Parameter(norch.tensor(arr)), torch.nn.Parameter(torch.tensor(arr))
    assert repr(n) == repr(t)
    n2 = norch.nn.Parameter(norch.tensor(arr), requires_grad=False)
    t2 = torch.nn.Parameter(torch.tensor(arr), requires_grad=False)
    assert repr(n2) == repr(t2)


def test_long_suffixes_wrap_as_torch():
    # The suffixes move to their own line once the last line would pass the line width.
    failures = []
    for width in (20, 40, 80):
        norch.set_printoptions(linewidth=width)
        torch.set_printoptions(linewidth=width)
        try:
            for shape in [(9,), (3, 7), (2, 13)]:
                arr = np.linspace(-3, 3, int(np.prod(shape))).reshape(shape)
                n, t = norch.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
                check(n * 3, t * 3, f"width {width} {shape}", failures)
                n, t = both(arr, "float16")
                check(n, t, f"width {width} {shape} float16", failures)
        finally:
            norch.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
    report(failures, 18)


def test_subclass_prints_its_name_as_torch():
    class Mine(norch.Tensor):
        pass
    m = Mine(norch.tensor([1.0, 2.5]))
    assert repr(m) == "Mine([1.0000, 2.5000])"


def test_printoptions_state_as_torch():
    from norch import _tensor_str
    try:
        for kw in [{"precision": 3}, {"threshold": 10, "edgeitems": 1}, {"profile": "full"}, {"profile": "short"},
                   {"profile": "no such profile"}, {"sci_mode": True}, {"linewidth": 50, "sci_mode": False}]:
            norch.set_printoptions(**kw)
            torch.set_printoptions(**kw)
            assert _tensor_str.get_printoptions() == torch._tensor_str.get_printoptions(), kw
        norch.set_printoptions(profile="default")
        with _tensor_str.printoptions(precision=1):
            assert repr(norch.tensor([1.25])) == "tensor([1.2])"
        assert _tensor_str.get_printoptions()["precision"] == 4
    finally:
        norch.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert norch.get_printoptions() == torch._tensor_str.get_printoptions()


def test_format_spec():
    assert f"{norch.tensor(2.5):.3f}" == f"{torch.tensor(2.5):.3f}"
    assert f"{norch.tensor([1.0, 2.0])}" == f"{torch.tensor([1.0, 2.0])}"
    with pytest.raises(TypeError):
        f"{norch.tensor([1.0, 2.0]):.2f}"


def test_huge_tensor_prints_without_copying_it_whole():
    n = norch.zeros(4096, 4096)
    n[0, 0] = 1.5
    t = torch.zeros(4096, 4096)
    t[0, 0] = 1.5
    assert repr(n) == repr(t)
