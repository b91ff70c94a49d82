"""The small names training scripts use: legacy typed constructors, backends/accelerator flags,
norch.compile, determinism and matmul-precision flags, grad-mode decorators, Tensor.__format__,
CUDA error wording and inspect.signature, each checked against PyTorch where it has one."""
import inspect
import warnings

import numpy as np
import pytest

import norch

import torch  # the oracle: required, never skipped


@pytest.mark.parametrize("name,dtype", [("FloatTensor", "float32"), ("DoubleTensor", "float64"),
                                        ("LongTensor", "int64"), ("IntTensor", "int32"),
                                        ("BoolTensor", "bool"), ("ByteTensor", "uint8")])
def test_legacy_constructors(name, dtype):
    N, T = getattr(norch, name), getattr(torch, name)
    assert tuple(N(2, 3).shape) == tuple(T(2, 3).shape) == (2, 3)
    assert N(2, 3).dtype == getattr(norch, dtype)
    assert N([1, 0, 1]).tolist() == T([1, 0, 1]).tolist()
    assert tuple(N(norch.Size([4])).shape) == tuple(T(torch.Size([4])).shape)
    assert tuple(N().shape) == tuple(T().shape) == (0,)
    x = N([1, 2])
    assert isinstance(x, N) and isinstance(x, norch.Tensor)
    other = norch.DoubleTensor if name != "DoubleTensor" else norch.FloatTensor
    assert not isinstance(x, other) and not isinstance(x, norch.cuda.FloatTensor)
    assert x.type() == f"norch.{name}"
    assert N(x) is x


def test_legacy_constructor_errors_and_conversions():
    with pytest.raises(TypeError):
        norch.FloatTensor(2.5)
    with pytest.raises(TypeError):
        torch.FloatTensor(2.5)
    with pytest.raises(TypeError, match="expected norch.FloatTensor"):
        norch.FloatTensor(norch.ones(2, dtype=norch.int64))
    assert norch.LongTensor([1.7, 2.2]).tolist() == torch.LongTensor([1.7, 2.2]).tolist()
    t = norch.ones(2)
    assert t.type(norch.LongTensor).dtype == norch.int64
    assert t.type("torch.DoubleTensor").dtype == norch.float64
    assert t.type(norch.int32).dtype == norch.int32
    with pytest.raises(ValueError, match="invalid type"):
        t.type("norch.NoSuchTensor")
    assert tuple(t.new(2, 3).shape) == (2, 3) and t.new(2, 3).dtype == t.dtype
    assert t.new([1, 2]).tolist() == torch.ones(2).new([1, 2]).tolist()


def test_backends_and_accelerator_as_torch_reports_on_cpu():
    assert norch.backends.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    assert norch.backends.cudnn.version() is None
    assert norch.backends.mps.is_available() is torch.backends.mps.is_available() is False
    for flag in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(norch.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag), flag
    assert norch.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    norch.backends.cudnn.benchmark = True
    norch.backends.cuda.matmul.allow_tf32 = True
    try:
        assert norch.backends.cudnn.benchmark and norch.backends.cuda.matmul.allow_tf32
    finally:
        norch.backends.cudnn.benchmark = False
        norch.backends.cuda.matmul.allow_tf32 = False
    with norch.backends.cudnn.flags(enabled=False, deterministic=True):
        assert norch.backends.cudnn.deterministic and not norch.backends.cudnn.enabled
    assert norch.backends.cudnn.enabled and not norch.backends.cudnn.deterministic
    assert norch.backends.cuda.is_built() == norch.cuda.is_compiled()
    assert norch.accelerator.is_available() == norch.cuda.is_available()
    assert norch.accelerator.device_count() == norch.cuda.device_count()
    if not norch.cuda.is_compiled():
        assert norch.accelerator.current_accelerator() is None
    if not norch.cuda.is_available():
        with pytest.raises(RuntimeError, match="none is available"):
            norch.accelerator.current_device_index()
        with pytest.raises(RuntimeError, match="none is available"):
            torch.accelerator.current_device_index()


def test_global_flags_round_trip():
    assert norch.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    norch.set_float32_matmul_precision("high")
    try:
        assert norch.get_float32_matmul_precision() == "high"
    finally:
        norch.set_float32_matmul_precision("highest")
    with pytest.warns(UserWarning, match="no effect"):  # PyTorch warns and keeps the setting
        norch.set_float32_matmul_precision("fast")
    assert norch.get_float32_matmul_precision() == "highest"
    assert norch.are_deterministic_algorithms_enabled() is False
    norch.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert norch.are_deterministic_algorithms_enabled()
        assert norch.is_deterministic_algorithms_warn_only_enabled()
        assert norch.get_deterministic_debug_mode() == 1
    finally:
        norch.use_deterministic_algorithms(False)
    assert norch.get_deterministic_debug_mode() == 0


def test_compile_returns_its_argument():
    model = norch.nn.Linear(2, 2)
    assert norch.compile(model) is model

    @norch.compile
    def f(x):
        return x * 2

    @norch.compile(mode="max-autotune", fullgraph=True)
    def g(x):
        return x + 1
    assert f(norch.ones(1)).item() == 2 and g(norch.ones(1)).item() == 2
    assert "no compiler" in norch.compile.__doc__


def test_grad_mode_decorators_with_and_without_parentheses():
    x = norch.ones(2, requires_grad=True)

    @norch.no_grad
    def a(t):
        return t * 2

    @norch.no_grad()
    def b(t):
        return t * 2

    @norch.inference_mode
    def c(t):
        assert norch.is_inference_mode_enabled()
        return t * 2

    @norch.inference_mode(False)
    def d(t):
        return t * 2
    assert not a(x).requires_grad and not b(x).requires_grad and not c(x).requires_grad
    assert d(x).requires_grad
    with norch.inference_mode():
        assert not norch.is_grad_enabled() and not (x * 2).requires_grad
    assert norch.is_grad_enabled() and not norch.is_inference_mode_enabled()
    v = norch.autograd.Variable(norch.ones(2), requires_grad=True)
    assert v.requires_grad and isinstance(v, norch.autograd.Variable)


def test_format_spec_like_torch():
    assert f"{norch.tensor(2.5):.2f}" == f"{torch.tensor(2.5):.2f}" == "2.50"
    for shape in ((3,), (1,), (2, 2)):
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            f"{norch.ones(shape):.2f}"
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            f"{torch.ones(shape):.2f}"
    assert f"{norch.ones(2)}" == repr(norch.ones(2))


def test_cuda_errors_name_the_cause(monkeypatch):
    t = norch.ones(2)
    if not norch.cuda.is_compiled():
        # PyTorch's CPU build raises AssertionError("Torch not compiled with CUDA enabled").
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
            t.to("cuda")
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
            t.cuda()
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            norch.cuda.init()
    from norch import _C, _device_errors
    # A CUDA build on a machine without a driver or GPU, simulated: the core's failure is
    # answered with PyTorch's sentence for the cause.
    def fail(*a, **k):
        raise RuntimeError("CUDA error: CUDA driver version is insufficient for CUDA runtime version")
    for status, expected in (((True, 0, 35, "CUDA driver version is insufficient"), "Found no NVIDIA driver"),
                             ((True, 0, 100, "no CUDA-capable device is detected"), "No CUDA GPUs are available")):
        monkeypatch.setattr(norch.cuda, "_cuda", type("S", (), {"status": staticmethod(lambda s=status: s),
                                                                "is_available": staticmethod(lambda: False),
                                                                "is_compiled": staticmethod(lambda: True)}))
        monkeypatch.setattr(_C, "_cuda", norch.cuda._cuda)
        to = _device_errors._wrap(fail, False)
        with pytest.raises(RuntimeError, match=expected):
            to(t, "cuda")
        with pytest.raises(RuntimeError, match="driver version"):
            to(t, "cpu")  # not a CUDA target: the core's own error stands
        with pytest.raises(RuntimeError, match=expected):
            norch.cuda.current_device()


def test_cuda_namespace_seeding():
    norch.cuda.manual_seed_all(3)
    a = norch.rand(3)
    norch.manual_seed(3)
    assert a.tolist() == norch.rand(3).tolist()
    if norch.cuda.is_available():
        assert norch.cuda.initial_seed() == 3
    else:  # initial_seed initializes CUDA, as PyTorch's does
        with pytest.raises((AssertionError, RuntimeError), match="CUDA|GPU|NVIDIA"):
            norch.cuda.initial_seed()


def test_signatures_of_python_functions():
    assert list(inspect.signature(norch.diag).parameters)[:2] == ["input", "diagonal"]
    assert "weights_only" in inspect.signature(norch.load).parameters
    assert inspect.signature(norch.Tensor.new_empty_strided).parameters["stride"]
    assert inspect.signature(norch.nn.functional.mse_loss).parameters["reduction"].default == "mean"


def test_top_level_functional_aliases():
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    w = np.random.default_rng(1).standard_normal((4, 3, 2))
    out = norch.conv1d(norch.from_numpy(x), norch.from_numpy(w))
    ref = torch.conv1d(torch.from_numpy(x), torch.from_numpy(w))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    assert norch.dropout(norch.ones(3), 0.5, False).tolist() == [1.0, 1.0, 1.0]


def test_loss_broadcast_warning_spelling():
    with pytest.warns(UserWarning, match=r"Using a target size \(norch.Size\(\[4\]\)\) that is different to the "
                                         r"input size \(norch.Size\(\[4, 1\]\)\)"):
        norch.nn.functional.mse_loss(norch.ones(4, 1), norch.ones(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norch.nn.functional.l1_loss(norch.ones(4), norch.ones(4))


def test_set_printoptions_like_torch():
    x = np.array([1.123456, 2.5, 3.0])
    try:
        for kw in ({"precision": 2}, {"precision": 6}, {"profile": "short"}):
            norch.set_printoptions(**kw)
            torch.set_printoptions(**kw)
            assert repr(norch.from_numpy(x).float()).replace("norch", "torch") == repr(torch.from_numpy(x).float())
        norch.set_printoptions(threshold=5, edgeitems=2)
        assert "..." in repr(norch.arange(10))
    finally:
        norch.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(norch.arange(10)) == repr(torch.arange(10))


def test_stack_dataset_like_torch():
    from norch.utils.data import StackDataset, TensorDataset, DataLoader
    a, b = norch.arange(6.0).reshape(3, 2), norch.tensor([0, 1, 2])
    ds = StackDataset(TensorDataset(a), TensorDataset(b))
    assert len(ds) == 3 and ds[1][0][0].tolist() == [2.0, 3.0] and ds[1][1][0].item() == 1
    kw = StackDataset(x=TensorDataset(a), y=TensorDataset(b))
    assert set(kw[0]) == {"x", "y"}
    batch = next(iter(DataLoader(kw, batch_size=2)))
    assert tuple(batch["x"][0].shape) == (2, 2)
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(TensorDataset(a), TensorDataset(norch.ones(2)))
    with pytest.raises(ValueError):
        torch.utils.data.StackDataset(torch.utils.data.TensorDataset(torch.ones(3)),
                                      torch.utils.data.TensorDataset(torch.ones(2)))


def test_cuda_rng_state_and_device_helpers():
    s = norch.cuda.get_rng_state()
    a = norch.rand(2)
    norch.cuda.set_rng_state(s)
    assert norch.rand(2).tolist() == a.tolist()
    assert norch.cuda.is_bf16_supported() is False
    with norch.cuda.device_of(norch.ones(1)):  # a CPU tensor selects nothing
        pass
    if norch.cuda.device_count() > 1:
        with norch.cuda.device(1):
            assert norch.cuda.current_device() == 1
        assert norch.cuda.current_device() == 0
    else:  # no such device: PyTorch's error for the cause
        with pytest.raises((AssertionError, RuntimeError), match="CUDA|GPU|NVIDIA|invalid device ordinal"):
            with norch.cuda.device(1):
                pass
