"""The one toolkit of the Python tests: inputs (`make`, `arr`), tensors (`T`, `leaf`,
`nt`, `tt`), comparisons (`check` of a norch result against NumPy, `assert_close` of any
two norch/torch/NumPy values), the torch-module oracle of norch.nn (`compare`), and
`check_op`, which runs an op's forward against its reference, gradcheck and
gradgradcheck in one call. On a device other than the CPU, `check_op` and `compare`
also take a CPU run as the reference. `run_at_simd_level` runs a script under each
NORCH_SIMD level the dispatcher can select."""
import os
import subprocess
import sys

import numpy as np

import norch
from norch.autograd.gradcheck import gradcheck, gradgradcheck

FLOATS = ("float32", "float64")
INTS = ("uint8", "int32", "int64")
NUMERIC = INTS + FLOATS
ALL = ("bool",) + NUMERIC

# One stream for `arr`: successive calls give different values. conftest.py restarts it
# before every test, so what a test draws does not depend on the tests run before it.
_RNG = np.random.default_rng(0)


def restart_stream(seed=0):
    global _RNG
    _RNG = np.random.default_rng(seed)


def make(dtype, shape, domain="real", seed=0):
    """A NumPy array of `dtype` whose values suit the op's domain
    ("real", "pos", "nonzero", "unit" in (-1, 1), "small" in [-2, 2])."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in INTS:
        lo = {"pos": 1, "nonzero": 1, "unit": 0, "small": 0}.get(domain, 0 if dtype == "uint8" else -6)
        hi = 4 if domain == "small" else (2 if domain == "unit" else 7)
        a = rng.integers(lo, hi, shape)
        if domain == "nonzero" and dtype != "uint8":
            a = a * rng.choice([-1, 1], shape)
        return a.astype(dtype)
    if domain == "pos":
        a = rng.uniform(0.2, 3.0, shape)
    elif domain == "unit":
        a = rng.uniform(-0.9, 0.9, shape)
    elif domain == "nonzero":
        a = rng.uniform(0.3, 2.0, shape) * rng.choice([-1, 1], shape)
    elif domain == "small":
        a = rng.uniform(-2.0, 2.0, shape)
    else:
        a = rng.standard_normal(shape) * 1.5
    return a.astype(dtype)


def arr(*shape):
    """Standard-normal float64 values from the shared stream."""
    return _RNG.standard_normal(shape)


def T(a, **kw):
    """A norch tensor holding a copy of `a` (keywords as for norch.tensor: dtype, device, requires_grad)."""
    return norch.tensor(np.asarray(a), **kw)


def noncontig_leaf(a, device="cpu"):
    """A float64 leaf whose memory is laid out transposed (2-d and up)."""
    if np.ndim(a) < 2:
        return leaf(a, device=device)
    t = norch.tensor(np.ascontiguousarray(np.asarray(a, np.float64).T), device=device).T
    return t.detach().requires_grad_(True)


def nt(a, grad=False, dtype=None, device="cpu"):
    """A norch tensor of `a` (cast to the NumPy `dtype` first when one is given)."""
    a = np.asarray(a) if dtype is None else np.asarray(a).astype(dtype)
    return norch.tensor(a, requires_grad=grad, device=device)


def tt(a, dtype=None):
    """The torch tensor of the same values, for the torch oracle."""
    import torch
    return torch.tensor(np.asarray(a) if dtype is None else np.asarray(a).astype(dtype))


def leaf(a, grad=True, device="cpu"):
    """A float64 leaf tensor, requiring grad unless told otherwise."""
    return norch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


class _OnDevice:
    def __init__(self, device):
        self._device = device

    def __getattr__(self, name):
        return getattr(norch, name)

    def tensor(self, data, **kw):
        kw.setdefault("device", self._device)
        return norch.tensor(data, **kw)


def norch_on(device):
    """The norch module, whose tensor() puts its result on `device`: a table row written
    as `lambda L: ... L.tensor(...)` for L in (norch, torch) then runs on any device."""
    return norch if device == "cpu" else _OnDevice(device)


def to_np(x):
    """NumPy values of a norch or torch tensor (detached, on the CPU), or of anything array-like."""
    if isinstance(x, norch.Tensor) or type(x).__module__.startswith("torch"):
        x = x.detach().cpu()
        if str(x.dtype).endswith("bfloat16"):
            x = x.float()  # exact: NumPy has no bfloat16
        return x.numpy()
    return np.asarray(x)


def check(out, expected, dtype=None, rtol=None, atol=None):
    """Compare a norch result with a NumPy reference: dtype (a name such as "float32"),
    shape and values; floats within a tolerance set by the result's precision."""
    got = to_np(out)
    if dtype is not None:
        assert str(out.dtype) == "norch." + dtype, f"dtype {out.dtype} != {dtype}"
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if got.dtype.kind == "f":
        tight = got.dtype == np.float64
        np.testing.assert_allclose(got, expected.astype(got.dtype), rtol=rtol or (1e-10 if tight else 2e-5),
                                   atol=atol or (1e-12 if tight else 1e-5), equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected.astype(got.dtype))


def assert_close(actual, expected, rtol=None, atol=None, k=1):
    """Compare any two of norch/torch/NumPy values: same shape, integers exactly, floats
    within rtol/atol. Without them the tolerance follows the dtype's epsilon and grows
    with k, the length of the sums behind each value (a matmul's inner size)."""
    a, e = to_np(actual), to_np(expected)
    assert a.shape == e.shape, (a.shape, e.shape)
    if a.dtype.kind in "iub":
        np.testing.assert_array_equal(a, e)
        return
    eps = np.finfo(a.dtype).eps
    rtol = 64 * eps if rtol is None else rtol
    atol = 8 * eps * max(1, k) if atol is None else atol
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)


def close(actual, expected, rtol=1e-5, atol=1e-6):
    """assert_close with the tolerance the nn tests allow against torch (float32 kernels differ)."""
    assert_close(actual, expected, rtol=rtol, atol=atol)


def write_idx(path, arr, type_code=0x08, gz=False):
    """Write `arr` as an IDX file (MNIST's format; type 0x08 is uint8), gzipped if asked."""
    import gzip
    import struct
    header = bytes([0, 0, type_code, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    big = arr.astype(arr.dtype.newbyteorder(">")) if arr.dtype.itemsize > 1 else arr
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + big.tobytes())


# ---- torch modules as the oracle of norch.nn -------------------------------------------
def torch_randn(*shape, dtype=None, seed=0):
    """Standard-normal torch values (float32 unless told) from their own seeded generator."""
    import torch
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g, dtype=dtype or torch.float32)


def to_norch(t, requires_grad=False, device="cpu"):
    """A norch copy of a torch tensor."""
    out = norch.tensor(t.detach().numpy().copy(), device=device)
    return out.requires_grad_(True) if requires_grad else out


def copy_params(tmod, nmod):
    """Load a torch module's state into the norch module of the same structure."""
    nmod.load_state_dict({k: to_norch(v) for k, v in tmod.state_dict().items()})


def compare(nmod, tmod, inputs, rtol=1e-5, atol=1e-5, grad_inputs=True, pick=lambda out: out, device="cpu"):
    """Run a norch module (on `device`) and a torch module (on the CPU) with the same weights
    on the same torch `inputs`, then backward with the same random output weights; compare
    the outputs, input gradients and parameter gradients."""
    copy_params(tmod, nmod)
    nmod.to(device)
    t_in = [x.clone().requires_grad_(grad_inputs and x.is_floating_point()) for x in inputs]
    n_in = [to_norch(x, grad_inputs and x.is_floating_point(), device) for x in inputs]
    t_out, n_out = pick(tmod(*t_in)), pick(nmod(*n_in))
    assert tuple(n_out.shape) == tuple(t_out.shape)
    assert_close(n_out, t_out, rtol, atol)
    w = torch_randn(*t_out.shape, dtype=t_out.dtype, seed=1)
    (t_out * w).sum().backward()
    (n_out * to_norch(w, device=device)).sum().backward()
    for t, n in zip(t_in, n_in):
        if t.requires_grad:
            assert_close(n.grad, t.grad, rtol, atol)
    tparams = dict(tmod.named_parameters())
    for name, p in nmod.named_parameters():
        if tparams[name].grad is None:
            assert p.grad is None
        else:
            assert_close(p.grad, tparams[name].grad, rtol, atol)


# ---- one call per op ----------------------------------------------------------------
def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _check_all(out, expected, rtol, atol):
    out, expected = _outputs(out), _outputs(expected)
    assert len(out) == len(expected), (len(out), len(expected))
    for o, e in zip(out, expected):
        check(o, to_np(e), rtol=rtol, atol=atol)


def check_op(fn, args, ref=None, device="cpu", grad=True, gradgrad=True, rtol=None, atol=None):
    """Check one op in one call. `args` are NumPy arrays (turned into tensors on `device`)
    or other values passed through; `ref` takes the arrays and gives the expected result.
    Runs the forward against `ref` (and, off the CPU, against the CPU run), then gradcheck
    and gradgradcheck in float64 on the CPU; off the CPU, gradients of the sum of the
    outputs are also compared with the CPU's. Returns the forward result."""
    def inputs(dev, requires_grad):
        return [T(a, device=dev, requires_grad=requires_grad and a.dtype.kind == "f")
                if isinstance(a, np.ndarray) else a for a in args]

    out = fn(*inputs(device, False))
    if ref is not None:
        _check_all(out, ref(*args), rtol, atol)
    if device != "cpu":
        _check_all(out, fn(*inputs("cpu", False)), rtol, atol)
    if not grad:
        return out
    cpu = inputs("cpu", True)
    assert gradcheck(fn, cpu)
    if gradgrad:
        assert gradgradcheck(fn, cpu)
    if device != "cpu":
        cpu, dev = inputs("cpu", True), inputs(device, True)
        for xs in (cpu, dev):
            outs = [o for o in _outputs(fn(*xs)) if isinstance(o, norch.Tensor) and o.requires_grad]
            loss = outs[0].sum()
            for o in outs[1:]:
                loss = loss + o.sum()
            loss.backward()
        for c, d in zip(cpu, dev):
            if isinstance(c, norch.Tensor) and c.requires_grad:
                check(d.grad, to_np(c.grad), rtol=rtol, atol=atol)
    return out


# ---- SIMD levels ----------------------------------------------------------------------

SIMD_LEVELS = ("baseline", "avx2", "avx512")


def best_simd_level():
    """The level norch picks without NORCH_SIMD: the best this CPU has."""
    env = {k: v for k, v in os.environ.items() if k != "NORCH_SIMD"}
    out = subprocess.run([sys.executable, "-c", "import norch; print(norch._C._simd_level())"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def run_at_simd_level(level, script, test_dir):
    """Runs `script` in a fresh process under NORCH_SIMD=level. It sees EXPECTED_SIMD (the level
    norch must pick: NORCH_SIMD never raises it above what the CPU has) and TEST_DIR."""
    expected = SIMD_LEVELS[min(SIMD_LEVELS.index(level), SIMD_LEVELS.index(best_simd_level()))]
    env = dict(os.environ, NORCH_SIMD=level, EXPECTED_SIMD=expected, TEST_DIR=test_dir)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
