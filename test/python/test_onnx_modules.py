"""Every module class of norch.nn against ONNX: each configuration of _onnx_table.EXPORTED is
exported with a dynamic batch (and sequence, where listed), checked with onnx.checker, run in
onnxruntime at the export batch and another one, and compared with norch's forward; its
initializers are its state_dict() entries, values included. Each entry of REFUSED raises an
error naming the op and the module path. No class is in neither table, and docs/onnx.md shows
the table these tests check."""
import io
import os
import re

import numpy as np
import onnx
import pytest

import norch
from _onnx_check import _compare, _session
from _onnx_table import ABSTRACT, EXPORTED, REFUSED, markdown, module_classes

_DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "onnx.md")
_BEGIN, _END = "<!-- onnx-coverage-begin -->", "<!-- onnx-coverage-end -->"


def _prepare(name):
    build, make, opt = EXPORTED[name]
    norch.manual_seed(0)
    model = build()
    if opt.get("lazy") or opt.get("train"):
        # a lazy module takes its shapes, a normalization layer non-trivial running statistics
        model.train()
        with norch.no_grad():
            for _ in range(2):
                model(*make(4))
    model.eval()
    return model, make, opt


def _export(model, inputs, opt):
    names = [f"x{i}" for i in range(len(inputs))]
    axes = {n: list(opt.get("dyn", (0,))) for n in names}
    axes.update(opt.get("axes", {}))
    f = io.BytesIO()
    norch.onnx.export(model, tuple(inputs), f, input_names=names, dynamic_axes=axes)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    return f.getvalue(), proto, names


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_module_exports(name):
    model, make, opt = _prepare(name)
    data, proto, names = _export(model, make(2), opt)
    for b in (2, 3):
        _compare(model, data, names, make(b))
    # parameters and buffers are initializers under their state_dict() names, with their values
    state = model.state_dict()
    for init in proto.graph.initializer:
        assert init.name in state, f"initializer {init.name!r} is not a state_dict() key"
        np.testing.assert_array_equal(onnx.numpy_helper.to_array(init), state[init.name].numpy())
    params = {k for k, _ in model.named_parameters()}
    assert params <= {i.name for i in proto.graph.initializer}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_module_refused(name, tmp_path):
    build, make, why, op = REFUSED[name]
    norch.manual_seed(0)
    model = build()
    path = tmp_path / "m.onnx"
    with pytest.raises(norch.onnx.OnnxExporterError) as info:
        norch.onnx.export(model, tuple(make(2)), str(path))
    msg = str(info.value)
    assert re.search(op, msg), msg
    # the module the op ran in: the model itself or its child 'sub'
    assert "top-level model" in msg or "module 'sub'" in msg, msg
    assert not path.exists()


def test_every_module_class_is_in_the_table():
    listed = {n.split("-")[0] for n in list(EXPORTED) + list(REFUSED)}
    missing = [c for c in module_classes() if c not in listed and c not in ABSTRACT]
    assert not missing, f"norch.nn classes with neither an export test nor a refusal: {missing}"


def test_docs_show_the_coverage_table():
    text = open(_DOCS).read()
    assert _BEGIN in text and _END in text, "docs/onnx.md lacks the coverage markers"
    shown = text.split(_BEGIN)[1].split(_END)[0].strip()
    assert shown == markdown(), ("docs/onnx.md's coverage table is out of date: regenerate it with `cd test/python && "
                                 "PYTHONPATH=../../python python -c 'import _onnx_table; _onnx_table.write_docs()'`")


def test_training_mode_randomness_refused(tmp_path):
    # dropout exports as Identity in eval; in training mode its mask is random and is refused
    model = norch.nn.Sequential(norch.nn.Linear(3, 3), norch.nn.Dropout(0.5))
    with pytest.raises(norch.onnx.UnsupportedOperatorError, match=r"dropout in training mode.*module '1'"):
        norch.onnx.export(model, (norch.randn(2, 3),), str(tmp_path / "m.onnx"),
                          training=norch.onnx.TrainingMode.TRAINING)
    model = norch.nn.Sequential(norch.nn.RReLU())
    with pytest.raises(norch.onnx.UnsupportedOperatorError, match=r"uniform_.*module '0' \(RReLU\)"):
        norch.onnx.export(model, (norch.randn(2, 3),), str(tmp_path / "m.onnx"),
                          training=norch.onnx.TrainingMode.TRAINING)
    assert not (tmp_path / "m.onnx").exists()


def test_embedding_bag_offsets_follow_the_runtime_input():
    # offsets are a graph input: other bag boundaries at run time give their own sums
    model = norch.nn.EmbeddingBag(10, 3, mode="mean")
    x, off = norch.tensor([1, 2, 3, 4, 5]), norch.tensor([0, 2])
    f = io.BytesIO()
    norch.onnx.export(model, (x, off), f, input_names=["x", "off"], dynamic_axes={"x": [0], "off": [0]})
    for ids, offs in (([4, 5, 6], [0, 0, 1]), ([1, 2, 3, 4, 5, 6, 7], [0, 3, 3, 6])):
        ids, offs = norch.tensor(ids), norch.tensor(offs)
        got = _session(f.getvalue()).run(None, {"x": ids.numpy(), "off": offs.numpy()})[0]
        np.testing.assert_allclose(got, model(ids, offs).detach().numpy(), rtol=1e-4, atol=1e-6)
