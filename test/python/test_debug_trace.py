"""NORCH_DEBUG makes the machine visible: dispatched kernels, and autograd nodes at level 2."""
import os
import subprocess
import sys

import norch

SCRIPT = "import norch\na = norch.ones(2, 3, requires_grad=True)\n(a * 2).sum().backward()\n"


def _stderr(level):
    env = dict(os.environ, NORCH_DEBUG=str(level))
    parent = os.path.dirname(os.path.dirname(os.path.abspath(norch.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([parent, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                          check=True).stderr


def test_level_one_traces_kernels_with_shapes():
    err = _stderr(1)
    assert "[norch] mul: shape (2, 3), compute dtype float32" in err
    assert "dispatch binary on cpu" in err
    assert "backward:" not in err


def test_level_two_also_traces_backward_nodes():
    err = _stderr(2)
    for name in ("SumBackward1", "MulBackward0", "AccumulateGrad"):
        assert f"[norch] backward: {name}" in err


def test_off_by_default():
    assert _stderr(0) == ""
