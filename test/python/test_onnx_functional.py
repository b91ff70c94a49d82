"""Every norch.nn.functional op against ONNX: each entry of _onnx_table.FUNCTIONAL is exported
with a dynamic batch, checked with onnx.checker, run in onnxruntime at two batch sizes and
compared with norch; each entry of FUNCTIONAL_REFUSED raises an error naming the op. Every
public functional is called by one of the entries."""
import functools

import pytest

import norch
import norch.nn.functional as F
from _onnx_check import _compare, _export
from _onnx_table import FUNCTIONAL, FUNCTIONAL_REFUSED, Call, functional_names


def _model(fn):
    return Call(lambda s, *xs: fn(*xs))


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_exports(name):
    fn, make, opt = FUNCTIONAL[name]
    norch.manual_seed(0)
    model = _model(fn)
    data, proto, names = _export(model, make(2), opt.get("dyn", (0,)))
    for b in (2, 3):
        _compare(model, data, names, make(b))


@pytest.mark.parametrize("name", sorted(FUNCTIONAL_REFUSED))
def test_functional_refused(name, tmp_path):
    fn, make, why, op = FUNCTIONAL_REFUSED[name]
    norch.manual_seed(0)
    path = tmp_path / "m.onnx"
    with pytest.raises(norch.onnx.OnnxExporterError, match=op) as info:
        norch.onnx.export(_model(fn), tuple(make(2)), str(path))
    assert "top-level model" in str(info.value)
    assert not path.exists()


def test_every_functional_is_exercised(monkeypatch):
    called = set()

    def spy(name, orig):
        @functools.wraps(orig)
        def wrapper(*args, **kwargs):
            called.add(name)
            return orig(*args, **kwargs)
        return wrapper

    for name in functional_names():
        monkeypatch.setattr(F, name, spy(name, getattr(F, name)))
    norch.manual_seed(0)
    with norch.no_grad():
        for fn, make, *_ in list(FUNCTIONAL.values()) + list(FUNCTIONAL_REFUSED.values()):
            fn(*make(2))
    missing = sorted(set(functional_names()) - called)
    assert not missing, f"norch.nn.functional ops with neither an export test nor a refusal: {missing}"
