"""norch.save of whole objects (modules, optimizers, class instances) and PyTorch 2.6's safe loading."""
import io
import os
import pickle

import numpy as np
import pytest

import norch
import norch.nn as nn
import norch.optim as optim
from norch import serialization


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo should-never-run > /dev/null",))


def _roundtrip(obj, **kw):
    buf = io.BytesIO()
    norch.save(obj, buf)
    buf.seek(0)
    return norch.load(buf, **kw)


def test_whole_module_round_trip_needs_weights_only_false():
    norch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = norch.randn(5, 3)
    with pytest.raises(pickle.UnpicklingError, match="norch.nn.modules.container.Sequential"):
        _roundtrip(model)
    out = _roundtrip(model, weights_only=False)
    assert type(out) is nn.Sequential and out is not model
    np.testing.assert_array_equal(out(x).detach().numpy(), model(x).detach().numpy())
    assert isinstance(out[0].weight, nn.Parameter) and out[0].weight.requires_grad
    out(x).sum().backward()
    assert out[0].weight.grad is not None


def test_optimizer_round_trip_keeps_parameter_identity():
    model = nn.Linear(2, 1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(norch.ones(3, 2)).sum().backward()
    opt.step()
    out_model, out_opt = _roundtrip((model, opt), weights_only=False)
    assert out_opt.param_groups[0]["params"][0] is out_model.weight
    st = out_opt.state[out_model.weight]
    np.testing.assert_array_equal(st["exp_avg"].numpy(), opt.state[model.weight]["exp_avg"].numpy())


def test_nested_dict_with_non_tensor_values():
    obj = {"epoch": 3, "cfg": {"lr": 0.1, "tags": {"a", "b"}, "shape": norch.Size([2, 3])},
           "w": norch.arange(4.0), "dtype": norch.float64, "dev": norch.device("cpu"), "pt": Point(1, 2)}
    with serialization.safe_globals([Point]):
        out = _roundtrip(obj)
    assert out["epoch"] == 3 and out["cfg"]["tags"] == {"a", "b"} and out["cfg"]["shape"] == (2, 3)
    assert out["dtype"] is norch.float64 and out["dev"] == norch.device("cpu")
    assert isinstance(out["pt"], Point) and (out["pt"].x, out["pt"].y) == (1, 2)
    assert out["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_code_running_pickle_is_refused_by_default(tmp_path):
    buf = io.BytesIO()
    norch.save({"x": _Boom()}, buf)
    for kw in ({}, {"weights_only": True}):
        buf.seek(0)
        with pytest.raises(pickle.UnpicklingError, match=r"global '(posix|os|nt)\.system'.*weights_only=False"):
            norch.load(buf, **kw)


def test_hand_made_hostile_pickle_is_refused(tmp_path):
    payload = serialization._pickle_format.MAGIC + pickle.dumps(_Boom(), protocol=2)
    path = tmp_path / "evil.pt"
    path.write_bytes(payload)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        norch.load(path)


def test_safe_globals_allows_listed_class_only_inside_block():
    buf = io.BytesIO()
    norch.save([Point(3, 4)], buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="test_save_objects.Point"):
        norch.load(buf)
    with serialization.safe_globals([Point]):
        buf.seek(0)
        assert norch.load(buf)[0].y == 4
        assert Point in serialization.get_safe_globals()
    assert Point not in serialization.get_safe_globals()
    serialization.add_safe_globals([Point])
    try:
        buf.seek(0)
        assert norch.load(buf)[0].x == 3
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


def test_state_dicts_stay_safetensors(tmp_path):
    model = nn.Linear(2, 2)
    norch.save(model.state_dict(), tmp_path / "sd.pt")
    raw = (tmp_path / "sd.pt").read_bytes()
    assert not raw.startswith(serialization._pickle_format.MAGIC)


def test_truncated_pickle_raises_clearly(tmp_path):
    buf = io.BytesIO()
    norch.save({"p": Point(1, 2), "w": norch.ones(100)}, buf)
    data = buf.getvalue()
    (tmp_path / "cut.pt").write_bytes(data[:len(data) // 2])
    with pytest.raises(pickle.UnpicklingError):
        norch.load(tmp_path / "cut.pt", weights_only=False)


def test_matches_torch_semantics():
    import torch
    buf = io.BytesIO()
    torch.save([Point(1, 2)], buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf)
    buf.seek(0)
    with torch.serialization.safe_globals([Point]):
        assert torch.load(buf)[0].x == 1
