"""Shared checks of the ONNX tests: export a model, validate it with onnx.checker, and run it
in onnxruntime against norch's own forward (float32, rtol 1e-4, atol 1e-5)."""
import io

import numpy as np
import onnx
import onnxruntime as ort

import norch


def _flat(obj):
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _flat(o)]
    return [] if obj is None else [obj]


def _session(data):
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def _export(model, inputs, dyn=(0,), **kw):
    names = [f"x{i}" for i in range(len(inputs))]
    axes = {n: list(dyn) for n in names} if dyn else None
    f = io.BytesIO()
    norch.onnx.export(model, tuple(inputs), f, input_names=names, dynamic_axes=axes, **kw)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    return f.getvalue(), proto, names


def _compare(model, data, names, inputs):
    model.eval()
    with norch.no_grad():
        ref = _flat(model(*inputs))
    got = _session(data).run(None, {n: x.numpy() for n, x in zip(names, inputs)})
    assert len(got) == len(ref)
    for r, o in zip(ref, got):
        assert o.shape == tuple(r.shape)
        np.testing.assert_allclose(o, r.numpy(), rtol=1e-4, atol=1e-5)


def roundtrip(model, make, batch=(2, 3), dyn=(0,), **kw):
    """Export at make(batch[0]); run ONNX at both batch sizes against norch's forward."""
    model.eval()
    data, proto, names = _export(model, make(batch[0]), dyn, **kw)
    for b in batch:
        _compare(model, data, names, make(b))
    return proto


def rand(*shape):
    return lambda b: [norch.randn(b, *shape)]
