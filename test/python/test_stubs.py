"""Typed stubs: python/norch/_C/*.pyi are what scripts/gen_stubs.py makes from the
bindings now, the package is marked typed, every binding names its arguments, and
mypy type-checks the examples and a typical user script against the stubs (and
catches a type error in one)."""
import os
import re
import site
import subprocess
import sys

import pytest

import norch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PKG = os.path.dirname(norch.__file__)


def test_stubs_match_the_bindings():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_stubs.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_the_package_ships_stubs_and_py_typed():
    # The norch under test (the installed one in CI) carries them, not only the checkout.
    assert os.path.isfile(os.path.join(PKG, "py.typed"))
    for name in ("__init__.pyi", "_autograd.pyi", "_nn.pyi"):
        assert os.path.isfile(os.path.join(PKG, "_C", name)), name


def test_bindings_name_their_arguments():
    # pybind11 writes arg0, arg1 for a binding without py::arg; help() and editors
    # then show no names. Operators (__add__, ...) take one positional operand.
    text = open(os.path.join(PKG, "_C", "__init__.pyi")).read()
    unnamed = [line.strip() for line in text.splitlines()
               if re.search(r"\barg\d\b", line) and line.strip().startswith("def ") and
               not line.strip().startswith("def __")]
    assert unnamed == []
    doc = norch._C.add.__doc__
    assert "add(input:" in doc and "alpha:" in doc


def _mypy(tmp_path, *paths):
    env = dict(os.environ)
    parent = os.path.dirname(PKG)
    if os.path.realpath(parent) not in {os.path.realpath(p) for p in site.getsitepackages()}:
        env["MYPYPATH"] = parent  # a checkout on PYTHONPATH; an installed norch is found as it is
    # silent: norch's own sources are not the subject here, only what a user sees of them.
    cmd = [sys.executable, "-m", "mypy", "--follow-imports=silent", "--ignore-missing-imports",
           "--cache-dir", str(tmp_path / "mypy_cache"), *paths]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.mark.parametrize("paths", [
    ["examples/common.py", "examples/ddp_train.py", "examples/sine_regression.py", "examples/train_digits.py"],
    ["examples/mnist/main.py"], ["examples/cifar10/main.py"],
], ids=["scripts", "mnist", "cifar10"])
def test_mypy_passes_on_the_examples(tmp_path, paths):
    r = _mypy(tmp_path, *paths)
    assert r.returncode == 0, r.stdout + r.stderr


USER_SCRIPT = """
import norch
from norch import nn, optim

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
opt = optim.SGD(model.parameters(), lr=0.1)
x = norch.randn(16, 4)
loss = nn.functional.mse_loss(model(x), norch.ones(16, 1))
opt.zero_grad()
loss.backward()
opt.step()
t: norch.Tensor = norch.add(x, x, alpha=2.0).relu().sum(dim=0)
n: int = t.numel()
shape = t.shape
d: norch.dtype = norch.float64
a: norch.Tensor = x.absolute().swapdims(0, 1)  # methods bound under a second name
wrong: int = norch.zeros(2)
"""


def test_mypy_checks_a_user_script_against_the_stubs(tmp_path):
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    r = _mypy(tmp_path, str(script))
    # Exactly the one planted error: the stubs give norch.zeros its real return type.
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, r.stdout + r.stderr
    assert 'user_script.py:17: error: Incompatible types in assignment (expression has type "Tensor", ' \
           'variable has type "int")' in errors[0]
