"""norch.cuda's runtime against PyTorch's: device queries, streams and events, the caching
allocator's counters and out-of-memory error, pinned memory and non_blocking copies,
cross-device errors.

Without a GPU, the tests check PyTorch's behaviour on such a machine (Note [No GPU] in
python/norch/cuda/__init__.py): a build without CUDA answers as PyTorch's CPU build does,
and a CUDA build without a driver or device is simulated. The tests marked `gpu` check the
real behaviour and skip where there is no CUDA device. The allocator's policy itself is
tested on the CPU by test/cpp/test_caching_allocator.cpp.
"""
import collections
import warnings

import numpy as np
import pytest
import torch

import norch
from norch import _C

cuda = norch.cuda
gpu = pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")

# Everything that needs a device raises where there is none.
NEEDS_DEVICE = {
    "current_device": lambda m: m.current_device(),
    "set_device": lambda m: m.set_device(0),
    "synchronize": lambda m: m.synchronize(),
    "get_device_name": lambda m: m.get_device_name(),
    "get_device_properties": lambda m: m.get_device_properties(0),
    "get_device_capability": lambda m: m.get_device_capability(),
    "current_stream": lambda m: m.current_stream(),
    "default_stream": lambda m: m.default_stream(),
    "initial_seed": lambda m: m.initial_seed(),
    "device(0)": lambda m: m.device(0).__enter__(),
    "Event.record": lambda m: m.Event(enable_timing=True).record(),
}


def _simulate_no_gpu(monkeypatch, code, message):
    """A CUDA build on a machine whose driver answered `code` (35: no driver, 100: no device)."""
    real = _C._cuda
    fake = type("FakeCuda", (), {})()
    for name in dir(real):
        if not name.startswith("__"):
            setattr(fake, name, getattr(real, name))
    fake.is_compiled = lambda: True
    fake.is_available = lambda: False
    fake.device_count = lambda: 0
    fake.is_initialized = lambda: False
    fake.status = lambda: (True, 0, code, message)
    monkeypatch.setattr(_C, "_cuda", fake)
    monkeypatch.setattr(cuda, "_cuda", fake)
    monkeypatch.setattr(norch.cuda.memory, "_cuda", fake)


def test_queries_never_raise_without_a_gpu():
    assert cuda.is_available() == (cuda.device_count() > 0)
    assert isinstance(cuda.is_initialized(), bool)
    if cuda.is_available():
        return  # test_device_queries_gpu checks the values on a GPU
    assert cuda.device_count() == torch.cuda.device_count() == 0
    assert cuda.is_initialized() is False
    for f in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved"):
        assert getattr(cuda, f)() == getattr(torch.cuda, f)() == 0
    assert cuda.memory_stats() == torch.cuda.memory_stats() == collections.OrderedDict()
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    cuda.manual_seed(3)
    cuda.manual_seed_all(3)
    assert norch.ones(2).is_pinned() is torch.ones(2).is_pinned() is False
    # PyTorch raises a KeyError here; norch says in the table that nothing was allocated.
    summary = cuda.memory_summary()
    assert "norch CUDA memory summary" in summary and "not initialized" in summary
    assert "Allocated by tensors" in summary and "Out-of-memory errors" in summary


def test_what_needs_a_device_raises_pytorch_error_without_a_gpu(monkeypatch):
    if cuda.is_available():
        return  # the same calls succeed in the gpu tests below
    if not cuda.is_compiled():
        # PyTorch's CPU-only build, the oracle on this machine, raises the same.
        for name, call in NEEDS_DEVICE.items():
            with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
                call(cuda)
            if name not in ("set_device", "device(0)", "Event.record"):  # torch's CPU build has dummies there
                with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
                    call(torch.cuda)
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
            cuda.Stream()
    for code, message, expected in ((35, "CUDA driver version is insufficient for CUDA runtime version",
                                     "^Found no NVIDIA driver on your system"),
                                    (100, "no CUDA-capable device is detected", "^No CUDA GPUs are available$")):
        _simulate_no_gpu(monkeypatch, code, message)
        for name, call in NEEDS_DEVICE.items():
            with pytest.raises(RuntimeError, match=expected):
                call(cuda)
        with pytest.raises(RuntimeError, match=expected):
            cuda.Stream(priority=-1)
        monkeypatch.undo()


def test_lazy_objects_and_no_op_contexts_without_a_gpu():
    e = cuda.Event(enable_timing=True)  # created at its first record(), as PyTorch's
    assert e.query() is True
    e.synchronize()
    with pytest.raises(RuntimeError, match="Both events must be recorded"):
        e.elapsed_time(cuda.Event(enable_timing=True))
    with cuda.stream(None):
        pass
    with cuda.device(None), cuda.device(-1), cuda.device_of(norch.ones(1)):
        pass
    with pytest.raises(NotImplementedError, match="interprocess"):
        cuda.Event(interprocess=True)


def test_to_cuda_says_what_pytorch_says():
    if cuda.is_available():
        return
    t = norch.ones(2)
    if not cuda.is_compiled():
        for call in (lambda x: x.to("cuda"), lambda x: x.cuda(), lambda x: x.to("cuda:1", non_blocking=True)):
            with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
                call(t)
            with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
                call(torch.ones(2))
        # pin_memory: PyTorch's CPU build's sentence, word for word.
        with pytest.raises(RuntimeError) as ours:
            t.pin_memory()
        with pytest.raises(RuntimeError) as theirs:
            torch.ones(2).pin_memory()
        assert str(ours.value) == str(theirs.value)


def test_pin_memory_without_a_driver_says_so(monkeypatch):
    if cuda.is_available() or not cuda.is_compiled():
        return  # a GPU pins (test_pin_memory_gpu); a CPU build is checked above
    _simulate_no_gpu(monkeypatch, 35, "CUDA driver version is insufficient for CUDA runtime version")
    with pytest.raises(RuntimeError, match="^Found no NVIDIA driver"):
        norch.ones(2).pin_memory()


def test_out_of_memory_error_is_pytorchs_runtime_error():
    assert issubclass(cuda.OutOfMemoryError, RuntimeError)
    assert cuda.OutOfMemoryError is norch.OutOfMemoryError
    assert issubclass(torch.cuda.OutOfMemoryError, RuntimeError)


def test_non_blocking_and_copy_flags_follow_pytorch():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, tt = norch.from_numpy(a.copy()), torch.from_numpy(a.copy())
    for kw in ({"non_blocking": True}, {"non_blocking": False}):
        assert np.array_equal(t.to("cpu", **kw).numpy(), tt.to("cpu", **kw).numpy())
        assert t.to("cpu", **kw).data_ptr() == t.data_ptr()
    # to(dtype, non_blocking, copy) positionally: the second bool is copy.
    assert t.to(norch.float32, True).data_ptr() == t.data_ptr()
    assert tt.to(torch.float32, True).data_ptr() == tt.data_ptr()
    copied = t.to(norch.float32, False, True)
    assert copied.data_ptr() != t.data_ptr() and tt.to(torch.float32, False, True).data_ptr() != tt.data_ptr()
    copied.add_(1)
    assert np.array_equal(t.numpy(), a)
    out = norch.zeros(2, 3)
    out.copy_(t.T.T, non_blocking=True)
    assert np.array_equal(out.numpy(), a)


class _Pinnable:
    def __init__(self, v):
        self.v, self.pinned = v, False

    def pin_memory(self):
        r = _Pinnable(self.v)
        r.pinned = True
        return r


def test_pin_memory_keeps_the_batch_structure():
    from norch.utils.data._utils.pin_memory import pin_memory
    Pair = collections.namedtuple("Pair", "x y")
    batch = {"a": [_Pinnable(1), (_Pinnable(2), "s")], "b": Pair(_Pinnable(3), 4), "c": b"raw"}
    out = pin_memory(batch)
    assert isinstance(out, dict) and isinstance(out["a"], list) and isinstance(out["a"][1], tuple)
    assert isinstance(out["b"], Pair) and out["b"].y == 4 and out["c"] == b"raw" and out["a"][1][1] == "s"
    assert all(p.pinned for p in (out["a"][0], out["a"][1][0], out["b"].x))
    assert not batch["a"][0].pinned


def test_dataloader_pin_memory_without_a_gpu_warns_like_pytorch():
    if cuda.is_available():
        return  # test_dataloader_pins_batches_gpu
    data = norch.utils.data.TensorDataset(norch.arange(10.0))
    tdata = torch.utils.data.TensorDataset(torch.arange(10.0))
    with pytest.warns(UserWarning) as ours:
        batches = [b[0].tolist() for b in norch.utils.data.DataLoader(data, batch_size=4, pin_memory=True)]
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = [b[0].tolist() for b in torch.utils.data.DataLoader(tdata, batch_size=4, pin_memory=True)]
    assert batches == expected
    assert str(ours[0].message) in [str(w.message) for w in theirs]


# --- on a GPU ------------------------------------------------------------------------


@gpu
def test_device_queries_gpu():
    assert cuda.device_count() == torch.cuda.device_count() >= 1
    assert cuda.current_device() == 0
    p, tp = cuda.get_device_properties(0), torch.cuda.get_device_properties(0)
    assert (p.name, p.total_memory, p.major, p.minor, p.multi_processor_count) == \
        (tp.name, tp.total_memory, tp.major, tp.minor, tp.multi_processor_count)
    assert cuda.get_device_name() == torch.cuda.get_device_name()
    assert cuda.get_device_capability(0) == torch.cuda.get_device_capability(0)
    assert "total_memory" in repr(p)
    with cuda.device(0):
        assert cuda.current_device() == 0
    cuda.set_device("cuda:0")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cuda.set_device(cuda.device_count())
    cuda.synchronize()
    norch.ones(1, device="cuda")
    assert cuda.is_initialized()
    cuda.manual_seed(5)
    assert cuda.initial_seed() == 5


@gpu
def test_devices_cuda_and_cuda_n_gpu():
    t = norch.ones(3, device="cuda:0")
    assert t.is_cuda and t.device == norch.device("cuda:0") and str(t.device) == "cuda:0"
    # "cuda" means the current device; the tensor reports which one, as PyTorch's does.
    assert norch.ones(3, device="cuda").device == norch.device("cuda:0")
    assert str(norch.ones(3, device="cuda").device) == str(torch.ones(3, device="cuda").device) == "cuda:0"
    assert norch.ones(3).to("cuda").device == t.device
    if cuda.device_count() == 1:
        with pytest.raises(RuntimeError, match="invalid device ordinal"):
            norch.ones(3).to("cuda:1")
    else:
        assert norch.ones(3, device="cuda:1").device.index == 1


@gpu
def test_mixing_devices_names_both_gpu():
    a, b = norch.ones(2, 2, device="cuda"), norch.ones(2, 2)
    for op in (lambda x, y: x + y, lambda x, y: y * x, lambda x, y: x @ y, lambda x, y: x.add_(y)):
        with pytest.raises(RuntimeError, match=r"(cuda:0.*cpu|cpu.*cuda:0)"):
            op(a, b)


@gpu
def test_allocator_counters_and_reuse_gpu():
    cuda.synchronize()
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    base = cuda.memory_allocated()
    x = norch.empty(1 << 20, device="cuda")  # 4 MiB
    assert cuda.memory_allocated() - base == 4 << 20
    assert cuda.max_memory_allocated() >= base + (4 << 20)
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    reserved = cuda.memory_reserved()
    ptr = x.data_ptr()
    del x
    assert cuda.memory_allocated() == base
    y = norch.empty(1 << 20, device="cuda")  # the cached block comes back: no new cudaMalloc
    assert y.data_ptr() == ptr and cuda.memory_reserved() == reserved
    del y
    peak = cuda.max_memory_allocated()
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated() <= peak
    cuda.empty_cache()
    assert cuda.memory_reserved() < reserved
    stats = cuda.memory_stats()
    for key in ("allocated_bytes.all.current", "allocated_bytes.all.peak", "reserved_bytes.all.current",
                "segment.all.current", "num_ooms", "num_alloc_retries"):
        assert key in stats
    assert "cuda:0" in cuda.memory_summary()


@gpu
def test_out_of_memory_recovers_gpu():
    total = cuda.get_device_properties(0).total_memory
    with pytest.raises(cuda.OutOfMemoryError, match="CUDA out of memory. Tried to allocate") as e:
        norch.empty(2 * total // 4, device="cuda")
    assert isinstance(e.value, RuntimeError) and "allocated by tensors" in str(e.value)
    assert cuda.memory_stats()["num_ooms"] >= 1
    x = norch.ones(1000, device="cuda")  # the process stays usable
    assert (x + 1).sum().item() == 2000


@gpu
def test_streams_gpu():
    s = cuda.Stream()
    assert s.query() and s.device == norch.device("cuda:0")
    assert cuda.current_stream() == cuda.default_stream()
    assert cuda.Stream(priority=100).priority == 0  # clamped to the least urgent, as PyTorch
    urgent = cuda.Stream(priority=-100).priority  # the most urgent the device has
    assert urgent < 0 and urgent <= cuda.Stream(priority=-1).priority
    x = norch.arange(1 << 20, dtype=norch.float32, device="cuda")
    with cuda.stream(s):
        assert cuda.current_stream() == s
        s.wait_stream(cuda.default_stream())
        y = x + x
        ev = s.record_event()
    assert cuda.current_stream() == cuda.default_stream()
    cuda.current_stream().wait_event(ev)
    cuda.current_stream().wait_stream(s)
    s.synchronize()
    assert ev.query() and s.query()
    assert np.array_equal(y.cpu().numpy(), np.arange(1 << 20, dtype=np.float32) * 2)


@gpu
def test_events_time_work_gpu():
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    x = norch.ones(1 << 22, device="cuda")
    start.record()
    for _ in range(10):
        x = x + 1
    end.record()
    end.synchronize()
    assert end.query()
    assert start.elapsed_time(end) >= 0.0
    with pytest.raises(RuntimeError, match="enable_timing"):
        plain = cuda.Event()
        plain.record()
        start.elapsed_time(plain)


@gpu
def test_pin_memory_gpu():
    a = np.random.default_rng(0).standard_normal((64, 33)).astype(np.float32)
    t = norch.from_numpy(a)
    p = t.pin_memory()
    assert p.is_pinned() and not t.is_pinned() and not p.is_cuda
    assert p.pin_memory().data_ptr() == p.data_ptr()
    assert np.array_equal(p.numpy(), a)
    assert np.array_equal(t.T.pin_memory().numpy(), a.T)  # non-contiguous input
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        norch.ones(2, device="cuda").pin_memory()
    w = norch.ones(3, requires_grad=True)
    (w.pin_memory() * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


@gpu
def test_non_blocking_copies_gpu():
    a = np.arange(1 << 20, dtype=np.float32)
    p = norch.from_numpy(a).pin_memory()
    g = p.to("cuda", non_blocking=True)
    back = g.to("cpu", non_blocking=True)  # lands in pinned memory, as PyTorch's does
    cuda.synchronize()
    assert back.is_pinned()
    assert np.array_equal(back.numpy(), a)
    dst = norch.empty(1 << 20, device="cuda")
    dst.copy_(p, non_blocking=True)
    assert np.array_equal(dst.cpu().numpy(), a)
    assert np.array_equal(norch.from_numpy(a).cuda(non_blocking=True).cpu().numpy(), a)  # pageable: still correct


@gpu
def test_dataloader_pins_batches_gpu():
    data = norch.utils.data.TensorDataset(norch.arange(10.0), norch.arange(10))
    for workers in (0, 2):
        loader = norch.utils.data.DataLoader(data, batch_size=4, pin_memory=True, num_workers=workers)
        batches = list(loader)
        assert all(x.is_pinned() and y.is_pinned() for x, y in batches)
        assert [x.tolist() for x, _ in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
