"""norch.onnx.export's interface: names of inputs, outputs and initializers, f as a path or a
file object, the options, and the refusals (which name the op and the module path and write
nothing)."""
import io
import math
import os

import numpy as np
import onnx
import pytest

import norch
import norch.nn as nn
import norch.nn.functional as F
from _onnx_check import _export, _session
from norch import cat as imported_cat  # an op held under another module's name


# ---- names, files, options ------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
        self.head = nn.Linear(2 * 4 * 4, 3)

    def forward(self, image):
        return self.head(self.features(image).flatten(1))


def test_names_of_inputs_outputs_initializers():
    model = Net()
    data, proto, _ = _export(model, [norch.randn(2, 1, 6, 6)], (0,))
    assert [i.name for i in proto.graph.input] == ["x0"]
    assert [o.name for o in proto.graph.output] == ["output"]
    inits = {i.name for i in proto.graph.initializer}
    expected = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    assert inits == expected
    # the initializers hold the parameters' values
    for init in proto.graph.initializer:
        np.testing.assert_array_equal(onnx.numpy_helper.to_array(init), model.state_dict()[init.name].numpy())
    # node names carry the module path, as PyTorch's exporter writes them
    assert any(n.name.startswith("/features/0/Conv") for n in proto.graph.node)
    assert any(n.name.startswith("/head/") for n in proto.graph.node)


def test_default_input_names_and_explicit_output_names():
    model = Net()
    f = io.BytesIO()
    norch.onnx.export(model, (norch.randn(1, 1, 6, 6),), f, output_names=["logits"])
    proto = onnx.load_from_string(f.getvalue())
    assert [i.name for i in proto.graph.input] == ["image"]  # forward's argument name
    assert [o.name for o in proto.graph.output] == ["logits"]
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [1, 1, 6, 6]


def test_dynamic_axes_names_and_symbolic_dims():
    model = Net()
    f = io.BytesIO()
    norch.onnx.export(model, norch.randn(2, 1, 6, 6), f, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load_from_string(f.getvalue())
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 6, 6]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    out = _session(f.getvalue()).run(None, {"image": np.random.randn(7, 1, 6, 6).astype(np.float32)})[0]
    assert out.shape == (7, 3)


def test_f_as_path(tmp_path):
    model = Net()
    path = tmp_path / "net.onnx"
    norch.onnx.export(model, (norch.randn(1, 1, 6, 6),), str(path))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version == 17
    x = norch.randn(1, 1, 6, 6)
    model.eval()
    np.testing.assert_allclose(_session(str(path)).run(None, {"image": x.numpy()})[0], model(x).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    norch.onnx.export(model, (norch.randn(1, 1, 6, 6),), path)  # a PathLike too
    assert os.listdir(tmp_path) == ["net.onnx"]


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    f = io.BytesIO()
    norch.onnx.export(model, norch.randn(1, 3), f, input_names=["x"], export_params=False)
    proto = onnx.load_from_string(f.getvalue())
    assert len(proto.graph.initializer) == 0
    assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"]


def test_training_mode_restored_and_model_untouched():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model.train()
    norch.onnx.export(model, norch.randn(2, 3), io.BytesIO())
    assert model.training and model[1].training
    assert norch.add is norch._C.add and not norch.onnx.is_in_onnx_export()


def test_multiple_outputs_and_kwargs():
    class M(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale, (x.sum(-1), x)

    f = io.BytesIO()
    norch.onnx.export(M(), (norch.randn(2, 3), {"scale": 3.0}), f, input_names=["x"])
    proto = onnx.load_from_string(f.getvalue())
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]
    x = np.random.randn(2, 3).astype(np.float32)
    a, b, c = _session(f.getvalue()).run(None, {"x": x})
    np.testing.assert_allclose(a, x * 3, rtol=1e-6)
    np.testing.assert_allclose(b, x.sum(-1), rtol=1e-5)
    np.testing.assert_array_equal(c, x)


def test_op_imported_by_name_is_traced():
    class M(nn.Module):
        def forward(self, x):
            return imported_cat([x, x * 2], 1)

    data, proto, names = _export(M(), [norch.randn(2, 3)], (0,))
    x = np.random.randn(5, 3).astype(np.float32)
    np.testing.assert_allclose(_session(data).run(None, {names[0]: x})[0], np.concatenate([x, 2 * x], 1), rtol=1e-6)
    assert norch.cat is imported_cat is norch._C.cat  # restored


def test_verbose_prints_graph(capsys):
    norch.onnx.export(nn.Linear(2, 2), norch.randn(1, 2), io.BytesIO(), verbose=True)
    assert "Gemm" in capsys.readouterr().out


def test_import_norch_does_not_import_onnx():
    import subprocess
    import sys
    code = "import sys, norch; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.strip() == "False", out.stderr


# ---- refusals -----------------------------------------------------------------------------
class Square(norch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g


def _refused(model, inputs, match, tmp_path, exc=norch.onnx.OnnxExporterError, **kw):
    path = tmp_path / "m.onnx"
    with pytest.raises(exc, match=match):
        norch.onnx.export(model, inputs, str(path), **kw)
    assert not path.exists() and os.listdir(tmp_path) == []  # nothing partial is left behind
    assert norch.add is norch._C.add and not norch.onnx.is_in_onnx_export()  # patches undone


def test_custom_function_refused_with_module_path(tmp_path):
    class Inner(nn.Module):
        def forward(self, x):
            return Square.apply(x)

    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(Inner()))
    _refused(model, (norch.randn(1, 2),), r"Square.*module '1\.0' \(Inner\)", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError)


def test_op_without_mapping_refused(tmp_path):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)

        def forward(self, x):
            return norch.as_strided(self.body(x), (2, 2), (1, 1))

    _refused(M(), (norch.randn(2, 4),), r"norch\.as_strided has no ONNX mapping .*top-level model", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError)


def test_unsupported_arguments_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)

    _refused(M(), (norch.randn(1, 1, 5, 5),), r"avg_pool2d: ceil_mode with padding", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError)


def test_data_dependent_python_value_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return x

    _refused(M(), (norch.randn(2, 2),), r"Tensor\.__bool__.*top-level model", tmp_path)

    class N(nn.Module):
        def forward(self, x):
            return x * x.mean().item()

    _refused(N(), (norch.randn(2, 2),), r"Tensor\.item", tmp_path)


def test_shape_dependent_control_flow_refused(tmp_path):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)

        def forward(self, x):
            if x.shape[0] % 2 == 0:
                return self.a(x).relu()
            return self.a(x).sigmoid()

    _refused(M(), (norch.randn(2, 3),), r"different ops for different input sizes.*Tensor\.relu", tmp_path,
             input_names=["x"], dynamic_axes={"x": [0]})
    # without dynamic axes the graph is for that one size, and exports
    f = io.BytesIO()
    norch.onnx.export(M(), (norch.randn(2, 3),), f)
    onnx.checker.check_model(onnx.load_from_string(f.getvalue()))


def test_axis_the_model_cannot_vary_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return x.reshape(2, 3)

    _refused(M(), (norch.randn(2, 3),), r"fails when the dynamic axes .* change size", tmp_path,
             input_names=["x"], dynamic_axes={"x": [0]})


def test_window_from_a_dynamic_axis_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return F.avg_pool1d(x, x.shape[-1])

    _refused(M(), (norch.randn(1, 2, 6),), r"avg_pool1d.*window, stride or padding computed from a dynamic axis",
             tmp_path, exc=norch.onnx.UnsupportedOperatorError, input_names=["x"], dynamic_axes={"x": [2]})


def test_roll_along_a_dynamic_axis_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return x.roll(1, 0)

    _refused(M(), (norch.randn(3, 2),), r"Tensor\.roll: rolling along a dynamic axis", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError, input_names=["x"], dynamic_axes={"x": [0]})


def test_constant_that_follows_a_dynamic_axis_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return x + norch.ones(len(x), 1)  # len() gives a plain int: the ones would be frozen

    _refused(M(), (norch.randn(3, 2),), r"Tensor\.__add__ .* constant tensor or a plain int that changes",
             tmp_path, input_names=["x"], dynamic_axes={"x": [0]})

    class N(nn.Module):
        def forward(self, x):
            return x.reshape(int(x.shape[0]) * 2, -1)

    _refused(N(), (norch.randn(4, 2),), r"Tensor\.reshape .* plain int that changes", tmp_path,
             input_names=["x"], dynamic_axes={"x": [0]})

    class S(nn.Module):
        def forward(self, x):
            return x[:, :len(x)]

    _refused(S(), (norch.randn(2, 6),), r"Tensor\.__getitem__ .* plain int that changes", tmp_path,
             input_names=["x"], dynamic_axes={"x": [0]})


def test_setitem_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            y = x * 2
            y[0] = 0.0
            return y

    _refused(M(), (norch.randn(2, 2),), r"__setitem__", tmp_path, exc=norch.onnx.UnsupportedOperatorError)


def test_inplace_into_a_view_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            y = x * 2
            y.view(-1).relu_()
            return y

    _refused(M(), (norch.randn(2, 2),), r"Tensor\.relu_ writes in place .* shares memory", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError)


def test_boolean_mask_index_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return x[x > 0]

    _refused(M(), (norch.randn(2, 2),), r"__getitem__.*boolean mask", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError)


def test_training_modes(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    _refused(model, (norch.randn(1, 2),), r"dropout in training mode.*module '1' \(Dropout\)", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError, training=norch.onnx.TrainingMode.PRESERVE)
    assert model.training
    model.eval()
    f = io.BytesIO()
    norch.onnx.export(model, norch.randn(1, 2), f, training=norch.onnx.TrainingMode.PRESERVE)
    assert not model.training
    with pytest.raises(ValueError, match="TrainingMode"):
        norch.onnx.export(model, norch.randn(1, 2), io.BytesIO(), training="yes")


def test_keep_initializers_as_inputs():
    f = io.BytesIO()
    norch.onnx.export(nn.Linear(3, 2), norch.randn(1, 3), f, input_names=["x"], keep_initializers_as_inputs=True)
    proto = onnx.load_from_string(f.getvalue())
    assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"]
    assert {i.name for i in proto.graph.initializer} == {"weight", "bias"}
    x = np.random.randn(1, 3).astype(np.float32)
    assert _session(f.getvalue()).run(None, {"x": x})[0].shape == (1, 2)


def test_bad_arguments():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset"):
        norch.onnx.export(model, norch.randn(1, 2), io.BytesIO(), opset_version=13)
    with pytest.raises(ValueError, match="dynamic_axes"):
        norch.onnx.export(model, norch.randn(1, 2), io.BytesIO(), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="input_names"):
        norch.onnx.export(model, norch.randn(1, 2), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        norch.onnx.export(model, norch.randn(1, 2), io.BytesIO(), colour=1)
    with pytest.raises(TypeError, match="Module"):
        norch.onnx.export(lambda x: x, norch.randn(1, 2), io.BytesIO())


def test_gelu_matches_torch_export_numerics():
    # exact GELU through erf and the tanh form both agree with the closed forms
    x = np.linspace(-4, 4, 9, dtype=np.float32).reshape(1, 9)
    for approx in ("none", "tanh"):
        f = io.BytesIO()
        norch.onnx.export(nn.GELU(approx), norch.from_numpy(x), f, input_names=["x"])
        got = _session(f.getvalue()).run(None, {"x": x})[0]
        if approx == "none":
            ref = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
        else:
            ref = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
