"""The measured surface (scripts/compat.py): names once present stay present; docs/compat.md is current."""
import importlib
import json
import os
import subprocess
import sys
import types

import pytest

import norch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ROOTS = {"top-level": "", "Tensor": "Tensor", "nn": "nn", "nn.functional": "nn.functional", "nn.init": "nn.init",
         "nn.utils": "nn.utils", "optim": "optim", "optim.lr_scheduler": "optim.lr_scheduler",
         "utils.data": "utils.data", "autograd": "autograd", "backends": "backends", "cuda": "cuda",
         "accelerator": "accelerator", "amp": "amp"}


def _resolves(dotted):
    obj, path = norch, "norch"
    for part in [p for p in dotted.split(".") if p]:
        path += "." + part
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif isinstance(obj, types.ModuleType):
            try:
                obj = importlib.import_module(path)
            except ImportError:
                return False
        else:
            return False
    return True


def _present():
    with open(os.path.join(HERE, "compat_names.json"), encoding="utf-8") as f:
        return json.load(f)


def test_every_recorded_name_is_still_present():
    gone = [f"{area}: {name}" for area, names in _present().items() for name in names
            if not _resolves(ROOTS[area] + "." + name)]
    assert not gone, f"{len(gone)} public names disappeared: {gone[:20]}"


def test_recorded_names_cover_the_issue_targets():
    present = _present()
    for name in ("FloatTensor", "LongTensor", "compile", "set_float32_matmul_precision", "is_tensor"):
        assert name in present["top-level"]
    for name in ("is_xpu", "is_mps", "is_sparse", "is_quantized", "layout", "new_zeros", "type"):
        assert name in present["Tensor"]
    assert "cudnn.benchmark" in present["backends"] and "is_available" in present["accelerator"]


def test_the_resolver_can_fail():
    assert not _resolves("Tensor.no_such_method") and not _resolves("no_such_module.x")


def test_compat_doc_is_up_to_date():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compat.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
