"""norch.save / norch.load: round trips, map_location, safetensors compatibility, atomic writes, bad files."""
import collections
import io
import json
import os
import struct

import numpy as np
import pytest

import norch
import norch.nn as nn
import norch.optim as optim
from norch import serialization

from _oracle import to_np


def _eq(a, b):
    assert isinstance(b, norch.Tensor)
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(to_np(a), to_np(b))


@pytest.mark.parametrize("dtype", [norch.float32, norch.float64, norch.int32, norch.int64, norch.uint8, norch.bool,
                                   norch.float16, norch.bfloat16])
def test_tensor_round_trip_dtypes(tmp_path, dtype):
    t = norch.from_numpy((np.arange(12).reshape(3, 4) % 3).astype(np.float64)).to(dtype)
    norch.save(t, tmp_path / "t.pt")
    _eq(t, norch.load(tmp_path / "t.pt"))


@pytest.mark.parametrize("make", [
    lambda: norch.tensor(3.5),                              # 0-d
    lambda: norch.zeros(0, 4),                              # empty
    lambda: norch.from_numpy(np.arange(12.0).reshape(3, 4)).T,    # non-contiguous
    lambda: norch.from_numpy(np.arange(20.0).reshape(4, 5))[1:3, ::2],
])
def test_tensor_round_trip_shapes(tmp_path, make):
    t = make()
    norch.save(t, str(tmp_path / "t.pt"))
    _eq(t.contiguous(), norch.load(str(tmp_path / "t.pt")))


def test_nested_structure_round_trip(tmp_path):
    shared = norch.tensor([1.0, 2.0], requires_grad=True)
    obj = {
        "a": shared, "again": shared, 3: {"k": norch.tensor([[1, 2]])}, (1, "x"): "tuple key",
        "list": [1, 2.5, float("inf"), float("-inf"), None, True, False, "s", [], {}],
        "tuple": (norch.zeros(1), ("nested", 7)),
        "od": collections.OrderedDict([("z", 1), ("a", 2)]),
        "dtype": norch.float64, "device": norch.device("cpu"),
    }
    norch.save(obj, tmp_path / "o.pt")
    out = norch.load(tmp_path / "o.pt")
    assert set(out) == set(obj)
    _eq(shared, out["a"])
    assert out["a"] is out["again"] and out["a"].requires_grad and out["a"].is_leaf
    _eq(obj[3]["k"], out[3]["k"])
    assert out[(1, "x")] == "tuple key"
    assert out["list"] == [1, 2.5, float("inf"), float("-inf"), None, True, False, "s", [], {}]
    assert isinstance(out["list"][0], int) and isinstance(out["list"][6], bool)
    assert isinstance(out["tuple"], tuple) and out["tuple"][1] == ("nested", 7)
    assert isinstance(out["od"], collections.OrderedDict) and list(out["od"]) == ["z", "a"]
    assert out["dtype"] == norch.float64 and out["device"] == norch.device("cpu")
    nan = norch.load(_save_bytes({"v": float("nan")}))["v"]
    assert np.isnan(nan)


def _save_bytes(obj):
    buf = io.BytesIO()
    norch.save(obj, buf)
    buf.seek(0)
    return buf


def test_file_objects():
    t = norch.tensor([4, 5, 6])
    _eq(t, norch.load(_save_bytes(t)))


def test_optimizer_state_dict_round_trip(tmp_path):
    params = [norch.tensor([1.0, -2.0, 3.0], requires_grad=True), norch.tensor([[0.5]], requires_grad=True)]
    opt = optim.Adam(params, lr=0.01, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        ((params[0] ** 2).sum() + (params[1] * 3).sum()).backward()
        opt.step()
    norch.save({"optim": opt.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    ck = norch.load(tmp_path / "ckpt.pt")
    assert ck["epoch"] == 3
    sd = ck["optim"]
    assert sorted(sd["state"]) == [0, 1] and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    fresh = [p.detach().clone().requires_grad_(True) for p in params]
    opt2 = optim.Adam(fresh, lr=0.5)
    opt2.load_state_dict(sd)
    for o, ps in ((opt, params), (opt2, fresh)):
        o.zero_grad()
        ((ps[0] ** 2).sum() + (ps[1] * 3).sum()).backward()
        o.step()
    for a, b in zip(params, fresh):
        _eq(a, b)


def test_module_state_dict_round_trip(tmp_path):
    m = nn.Linear(3, 2)
    norch.save(m.state_dict(), tmp_path / "m.pt")
    m2 = nn.Linear(3, 2)
    m2.load_state_dict(norch.load(tmp_path / "m.pt"))
    _eq(m.weight, m2.weight)
    _eq(m.bias, m2.bias)


def test_map_location(tmp_path):
    t = norch.tensor([1.0, 2.0])
    norch.save({"t": t}, tmp_path / "m.pt")
    for loc in ("cpu", norch.device("cpu"), {"cpu": "cpu"}):
        _eq(t, norch.load(tmp_path / "m.pt", map_location=loc)["t"])
    seen = []

    def fn(tensor, location):
        seen.append(location)
        return tensor * 2
    np.testing.assert_array_equal(norch.load(tmp_path / "m.pt", map_location=fn)["t"].numpy(), [2.0, 4.0])
    assert seen == ["cpu"]


def test_cuda_tensor_without_cuda_needs_map_location(tmp_path, monkeypatch):
    monkeypatch.setattr(norch.cuda, "is_available", lambda: False)  # a GPU machine plays one without
    norch.save({"t": norch.tensor([1.0])}, tmp_path / "c.pt")
    raw = (tmp_path / "c.pt").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["norch"] = header["__metadata__"]["norch"].replace('"cpu"', '"cuda:0"')
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    (tmp_path / "c.pt").write_bytes(struct.pack("<Q", len(h)) + h + raw[8 + n:])
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        norch.load(tmp_path / "c.pt")
    _eq(norch.tensor([1.0]), norch.load(tmp_path / "c.pt", map_location="cpu")["t"])
    _eq(norch.tensor([1.0]), norch.load(tmp_path / "c.pt", map_location={"cuda:0": "cpu"})["t"])


def test_file_is_safetensors_readable(tmp_path):
    import safetensors.numpy as st
    sd = {"fc1.weight": norch.from_numpy(np.arange(6.0, dtype=np.float32).reshape(2, 3)),
          "fc1.bias": norch.tensor([1, 2], dtype=norch.int64)}
    norch.save(sd, tmp_path / "w.safetensors")
    arrays = st.load_file(str(tmp_path / "w.safetensors"))
    assert set(arrays) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(arrays[k], sd[k].numpy())
    # ...and a file written by the safetensors package loads as a dict of tensors.
    st.save_file({"x": np.arange(4, dtype=np.float64), "y": np.ones((2, 2), np.uint8)}, str(tmp_path / "s.st"))
    out = norch.load(tmp_path / "s.st")
    assert out["x"].dtype == norch.float64 and out["x"].tolist() == [0, 1, 2, 3]
    assert out["y"].dtype == norch.uint8


def test_unpicklable_objects_are_refused(tmp_path):
    import pickle
    with pytest.raises(pickle.PicklingError, match="norch.save: cannot save an object of type dict"):
        norch.save({"a": {"b": lambda: 0}}, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()
    assert os.listdir(tmp_path) == []


def test_crash_mid_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    old = {"w": norch.tensor([1.0, 2.0, 3.0])}
    norch.save(old, path)

    def crash(f, chunks):
        f.write(chunks[0])
        f.write(chunks[1][:5])
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(serialization, "_write_chunks", crash)
    with pytest.raises(KeyboardInterrupt):
        norch.save({"w": norch.zeros(1000)}, path)
    monkeypatch.undo()
    _eq(old["w"], norch.load(path)["w"])
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file was removed


@pytest.mark.parametrize("cut", [0, 5, 8, 20, -3])
def test_truncated_file(tmp_path, cut):
    path = tmp_path / "t.pt"
    norch.save({"w": norch.ones(10), "n": 1}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:cut])
    with pytest.raises(RuntimeError, match=r"norch.load: '.*t\.pt' is not a valid norch checkpoint"):
        norch.load(path)


@pytest.mark.parametrize("corrupt,match", [
    (lambda raw: struct.pack("<Q", 10 ** 12) + raw[8:], "header length"),
    (lambda raw: raw[:8] + b"{not json" + raw[17:], "not valid JSON"),
    (lambda raw: raw[:8] + raw[8:].replace(b'"shape":[10]', b'"shape":[99]', 1), "does not fit its shape"),
    (lambda raw: raw[:8] + raw[8:].replace(b'"F32"', b'"Q99"', 1), "malformed"),
    (lambda raw: raw[:8] + raw[8:].replace(b'"__tensor__\\": \\"w', b'"__tensor__\\": \\"v', 1),
     "refers to a tensor 'v'"),
])
def test_corrupted_file(tmp_path, corrupt, match):
    path = tmp_path / "c.pt"
    norch.save({"w": norch.ones(10)}, path)
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(RuntimeError, match=match):
        norch.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        norch.load(tmp_path / "nope.pt")


def test_scheduler_state_dicts_round_trip(tmp_path):
    from norch.optim import lr_scheduler as ls
    opt = optim.SGD([norch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    multi = ls.MultiStepLR(opt, milestones=[2, 4, 4], gamma=0.5)
    plateau = ls.ReduceLROnPlateau(opt)   # holds best = inf
    for _ in range(3):
        multi.step()
    norch.save({"multi": multi.state_dict(), "plateau": plateau.state_dict()}, tmp_path / "s.pt")
    out = norch.load(tmp_path / "s.pt")
    assert out["multi"] == multi.state_dict()
    assert isinstance(out["multi"]["milestones"], collections.Counter)
    assert out["plateau"]["best"] == float("inf") and out["plateau"] == plateau.state_dict()
    fresh = ls.MultiStepLR(optim.SGD([norch.zeros(1, requires_grad=True)], lr=0.1), milestones=[1])
    fresh.load_state_dict(out["multi"])
    with pytest.warns(UserWarning):
        fresh.step(5)                     # the closed form reads the restored milestones
    assert fresh.get_last_lr()[0] == pytest.approx(0.1 * 0.5 ** 3)
