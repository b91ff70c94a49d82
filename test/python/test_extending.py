"""docs/extending.md, run: each plugin recipe (Module, Optimizer, LR scheduler, Dataset)
executes and then keeps the contract its base class promises; the C++ extension of
the page is compiled with load() and with the page's setup.py, and used from Python.
(test_autograd_function.py runs the page's autograd.Function block.)"""
import contextlib
import io
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import norch
from norch.autograd import gradcheck, gradgradcheck

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "extending.md")


def blocks(info):
    """The page's fenced blocks whose info string is exactly `info` ("python", "cpp", ...)."""
    with open(DOC) as f:
        return re.findall(r"```" + re.escape(info) + r"\n(.*?)```", f.read(), re.S)


def run_block(defining):
    """Executes the one python block that defines `defining`; returns its namespace and output."""
    (block,) = [b for b in blocks("python") if re.search(rf"^class {defining}\b", b, re.M)]
    ns, out = {}, io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "docs/extending.md", "exec"), ns)
    return ns, out.getvalue()


def test_every_python_block_is_claimed():
    # Each recipe block is found by the class it defines; none is silently left out.
    names = ["GatedResidual", "MySoftplus", "SignSGD", "WarmupExponential", "Sines"]
    assert len(blocks("python")) == len(names)
    for n in names:
        run_block(n)


def test_module_recipe():
    ns, out = run_block("GatedResidual")
    assert "['fc.bias', 'fc.weight', 'gate']" in out and "['gate', 'steps', 'fc.weight', 'fc.bias']" in out
    Block = ns["GatedResidual"]
    a, b = Block(3), Block(3)
    with norch.no_grad():
        a.gate.fill_(0.5)
    b.load_state_dict(a.state_dict())
    x = norch.randn(4, 3)
    a.eval()
    b.eval()
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert int(a.steps) == 0                          # eval(): no counting
    assert len(list(a.parameters())) == 3 and len(list(a.buffers())) == 1
    assert a.double().fc.weight.dtype == norch.float64 and a.steps.dtype == norch.int64


def _sign_sgd_reference(w, grads_fn, lr, momentum, steps):
    w, m = np.array(w, dtype=np.float64), np.zeros(len(w))
    for _ in range(steps):
        m = momentum * m + (1 - momentum) * grads_fn(w)
        w = w - lr * np.sign(m)
    return w


def test_optimizer_recipe_trajectory_groups_and_checkpoint():
    ns, out = run_block("SignSGD")
    assert "0.1 0.9" in out
    SignSGD = ns["SignSGD"]
    w = norch.tensor([1.0, -2.0, 0.3], dtype=norch.float64, requires_grad=True)
    opt = SignSGD([w], lr=0.05, momentum=0.5)
    for _ in range(4):
        opt.zero_grad()
        (w ** 3).sum().backward()
        opt.step()
    ref = _sign_sgd_reference([1.0, -2.0, 0.3], lambda v: 3 * v ** 2, 0.05, 0.5, 4)
    np.testing.assert_allclose(w.detach().numpy(), ref, rtol=1e-12)

    # state_dict / load_state_dict: a restored optimizer continues the same trajectory.
    def closure(p, o):
        o.zero_grad()
        loss = (p ** 3).sum()
        loss.backward()
        return loss

    w2 = w.detach().clone().requires_grad_(True)
    opt2 = SignSGD([w2], lr=0.05, momentum=0.5)
    opt2.load_state_dict(opt.state_dict())
    for _ in range(2):
        opt.step(lambda: closure(w, opt))
        opt2.step(lambda: closure(w2, opt2))
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())
    assert opt2.state[w2]["momentum_buffer"] is not opt.state[w]["momentum_buffer"]

    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        SignSGD([w], lr=-1)
    opt.add_param_group({"params": [norch.zeros(1, requires_grad=True)], "lr": 0.2})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 0.2  # defaults fill in


def test_scheduler_recipe_drives_a_custom_optimizer_and_resumes():
    ns, out = run_block("WarmupExponential")
    assert "[0.5, 1.0, 0.5, 0.25]" in out
    Sched = ns["WarmupExponential"]
    SignSGD = run_block("SignSGD")[0]["SignSGD"]
    p = norch.zeros(1, requires_grad=True)
    opt = SignSGD([{"params": [p]}, {"params": [norch.zeros(1, requires_grad=True)], "lr": 2.0}], lr=1.0)
    sched = Sched(opt, warmup=3, gamma=0.9)
    seen = []
    for _ in range(6):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    expect = [[b * (e + 1) / 3 if e < 3 else b * 0.9 ** (e - 2) for b in (1.0, 2.0)] for e in range(6)]
    np.testing.assert_allclose(seen, expect, rtol=1e-12)
    # A resumed scheduler (state_dict) continues where it stopped.
    saved = sched.state_dict()
    assert saved["warmup"] == 3 and "optimizer" not in saved
    again = Sched(opt, warmup=1, gamma=0.1)
    again.load_state_dict(saved)
    sched.step()
    again.step()
    assert again.get_last_lr() == sched.get_last_lr() and again.last_epoch == 7
    with pytest.raises(ValueError, match="warmup must be at least 1"):
        Sched(opt, warmup=0, gamma=0.5)


def test_dataset_recipe_with_loader_and_workers():
    ns, out = run_block("Sines")
    assert "norch.Size([4, 8]) norch.float64" in out and "[[0, 1], [2, 3], [4]]" in out
    Sines, Counter, DataLoader = ns["Sines"], ns["Counter"], ns["DataLoader"]
    ds = Sines(5, length=3)
    assert len(ds) == 5
    x, phase = ds[2]
    np.testing.assert_allclose(x.numpy(), np.sin(np.arange(3) + 2.0), rtol=1e-6)
    with pytest.raises(IndexError, match="index 5 out of range for a dataset of 5"):
        ds[5]
    phases = sorted(float(v) for _, b in DataLoader(ds, batch_size=2, shuffle=True) for v in b)
    assert phases == [0.0, 1.0, 2.0, 3.0, 4.0]           # every sample once per epoch
    # With two workers each iterates its share of the stream: every item exactly once.
    items = sorted(int(v) for b in DataLoader(Counter(7), batch_size=2, num_workers=2) for v in b)
    assert items == list(range(7))


# -- the C++ extension of the page --

def _cpp_source():
    (src,) = [b for b in blocks("cpp") if b.startswith("// my_ops.cpp")]
    return src


@pytest.fixture(scope="module")
def doc_ext(tmp_path_factory):
    """Runs the page's `python extension` blocks in one namespace, in a folder holding my_ops.cpp."""
    d = tmp_path_factory.mktemp("doc_ext")
    (d / "my_ops.cpp").write_text(_cpp_source())
    ns, out = {}, io.StringIO()
    cwd, root = os.getcwd(), os.environ.get("NORCH_EXTENSIONS_DIR")
    os.environ["NORCH_EXTENSIONS_DIR"] = str(d / "cache")
    try:
        os.chdir(d)
        with contextlib.redirect_stdout(out):
            for block in blocks("python extension"):
                exec(compile(block, "docs/extending.md", "exec"), ns)
    finally:
        os.chdir(cwd)
        if root is None:
            del os.environ["NORCH_EXTENSIONS_DIR"]
        else:
            os.environ["NORCH_EXTENSIONS_DIR"] = root
    return ns, out.getvalue(), d


def test_doc_extension_prints_what_the_page_says(doc_ext):
    ns, out, d = doc_ext
    assert len(blocks("python extension")) == 2
    assert "tensor([1.5000, 0.0000, 3.0000])" in out
    assert "tensor([ 0.7500,  3.0000, 12.0000])" in out
    assert "MySoftplusBackward0" in out
    assert "tensor([0.2500, 0.2500])" in out
    assert os.path.isdir(d / "cache" / "my_ops") and os.path.isdir(d / "cache" / "inline_ops")  # the default root


def f64(*shape):
    return norch.tensor(np.random.default_rng(1).standard_normal(shape), dtype=norch.float64, requires_grad=True)


def test_doc_extension_gradients(doc_ext):
    ns = doc_ext[0]
    my_ops, Cube, ops = ns["my_ops"], ns["Cube"], ns["ops"]
    assert gradcheck(lambda x, y: my_ops.scaled_add(x, y, alpha=0.5), (f64(2, 3), f64(3)))
    assert gradgradcheck(my_ops.softplus, (f64(4),))
    x = f64(5)
    np.testing.assert_allclose(my_ops.softplus(x).detach().numpy(), np.log1p(np.exp(x.detach().numpy())))
    xf = norch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = Cube.apply(xf.t())                                  # non-contiguous input to the raw kernel
    y.sum().backward()
    np.testing.assert_allclose(xf.grad.numpy(), 3 * xf.detach().numpy() ** 2)
    with pytest.raises(RuntimeError, match="cube\\(\\): expected a float32 tensor, got norch.float64"):
        my_ops.cube(f64(2))
    assert re.search(r"scaled_add\(x: norch._C.Tensor, y: norch._C.Tensor, alpha: .* = 1.0\) -> norch._C.Tensor",
                     my_ops.scaled_add.__doc__)
    assert ops.lerp_to.__doc__.strip().endswith("a + w * (b - a)")
    assert math.isclose(float(ops.lerp_to(norch.tensor(1.0), norch.tensor(3.0), 0.5)), 2.0)


def test_doc_setup_py_builds_the_same_extension(tmp_path):
    (setup_py,) = blocks("python setup.py")
    (tmp_path / "setup.py").write_text(setup_py)
    (tmp_path / "my_ops.cpp").write_text(_cpp_source())
    env = dict(os.environ, CFLAGS="-O0 -g0")  # appended by distutils: a quicker build for the test
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(norch.__file__))] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp_path,
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    # A fresh process that imports the extension before norch: the casters import norch.
    code = ("import my_ops; import norch; x = norch.tensor([1.0, 2.0], requires_grad=True); "
            "y = my_ops.softplus(x); y.sum().backward(); "
            "print(type(y) is norch.Tensor, y.grad_fn.name(), [round(v, 6) for v in x.grad.tolist()])")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    s = [round(1 / (1 + math.exp(-v)), 6) for v in (1.0, 2.0)]
    assert r.stdout.strip() == f"True MySoftplusBackward0 {s}"
