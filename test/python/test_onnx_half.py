"""ONNX export of half-precision models: float16 graphs run in onnxruntime against
norch's forward; bfloat16 graphs keep their parameters' exact bits (onnxruntime's
CPU provider has no bfloat16 kernels, so those are checked structurally)."""
import io

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, numpy_helper

import norch
import norch.nn as nn


def _export(model, x, **kw):
    f = io.BytesIO()
    norch.onnx.export(model, (x,), f, input_names=["x"], output_names=["y"], dynamic_axes={"x": [0]}, **kw)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    return f.getvalue(), proto


def test_float16_model_runs_in_onnxruntime_at_two_batch_sizes():
    norch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).half().eval()
    data, proto = _export(model, norch.randn(2, 6).half())
    assert {i.data_type for i in proto.graph.initializer} == {TensorProto.FLOAT16}
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT16
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    for b in (2, 5):
        x = norch.randn(b, 6).half()
        with norch.no_grad():
            ref = model(x).float().numpy()
        got = session.run(None, {"x": x.numpy()})[0]
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.astype(np.float32), ref, rtol=1e-2, atol=1e-2)


def test_casts_to_and_from_half_become_cast_nodes():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return (self.lin(x).half() * 2).float() + x.half().to(norch.float32)

    model = Mixed().eval()
    data, proto = _export(model, norch.randn(3, 4))
    casts = [n for n in proto.graph.node if n.op_type == "Cast"]
    assert {a.i for n in casts for a in n.attribute if a.name == "to"} >= {TensorProto.FLOAT16, TensorProto.FLOAT}
    x = norch.randn(3, 4)
    with norch.no_grad():
        ref = model(x).numpy()
    got = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3)


def test_bfloat16_parameters_keep_their_bits():
    norch.manual_seed(1)
    model = nn.Linear(5, 3).bfloat16().eval()
    _, proto = _export(model, norch.randn(2, 5).bfloat16())
    inits = {i.name: i for i in proto.graph.initializer}
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.BFLOAT16
    for name, p in model.state_dict().items():
        t = inits[name]
        assert t.data_type == TensorProto.BFLOAT16 and list(t.dims) == list(p.shape)
        bits = np.frombuffer(t.raw_data, dtype=np.uint16)
        expected = p.contiguous().view(norch.float16).numpy().view(np.uint16).reshape(-1)
        np.testing.assert_array_equal(bits, expected)
        # float32 widening of the bits gives the parameter's values exactly
        as_f32 = (bits.astype(np.uint32) << 16).view(np.float32).reshape(tuple(p.shape))
        np.testing.assert_array_equal(as_f32, p.float().numpy())
    assert numpy_helper  # the module is the documented way to read non-bfloat16 initializers
