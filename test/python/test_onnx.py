"""norch.onnx.export: every covered layer and op exported, checked with onnx.checker, run in
onnxruntime on the export batch and on another batch size (dynamic axes), and compared
with norch's own forward; names of inputs, outputs and initializers; the refusals."""
import io
import math
import os

import numpy as np
import pytest

import norch
import norch.nn as nn
import norch.nn.functional as F

import onnx  # noqa: E402  (the test extras install onnx and onnxruntime; see pyproject.toml)
import onnxruntime as ort  # noqa: E402


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


LAYERS = {
    "linear": (lambda: nn.Linear(4, 3), rand(4)),
    "linear_3d": (lambda: nn.Linear(4, 3), rand(5, 4)),
    "linear_nobias": (lambda: nn.Linear(4, 3, bias=False), rand(4)),
    "mlp": (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), rand(4)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1), rand(3, 10)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), rand(3, 8, 8)),
    "conv2d_groups_dilation": (lambda: nn.Conv2d(4, 4, 3, groups=2, dilation=2), rand(4, 9, 9)),
    "conv2d_same": (lambda: nn.Conv2d(3, 2, 3, padding="same"), rand(3, 6, 6)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), rand(3, 5, 5)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), rand(3, 8, 8)),
    "maxpool2d_ceil": (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), rand(3, 8, 8)),
    "maxpool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), rand(3, 9)),
    "avgpool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), rand(3, 8, 8)),
    "avgpool2d_exclude_pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), rand(3, 8, 8)),
    "avgpool1d": (lambda: nn.AvgPool1d(2), rand(3, 8)),
    "adaptive_avgpool2d_global": (lambda: nn.AdaptiveAvgPool2d(1), rand(3, 8, 8)),
    "adaptive_avgpool2d": (lambda: nn.AdaptiveAvgPool2d((2, 4)), rand(3, 8, 8)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), rand(3, 4, 4)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(3), rand(3)),
    "layernorm": (lambda: nn.LayerNorm(6), rand(5, 6)),
    "layernorm_2d_noaffine": (lambda: nn.LayerNorm([5, 6], elementwise_affine=False), rand(5, 6)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), rand(4, 3, 3)),
    "gelu": (lambda: nn.GELU(), rand(4)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), rand(4)),
    "relu": (lambda: nn.ReLU(), rand(4)),
    "relu6": (lambda: nn.ReLU6(), lambda b: [norch.randn(b, 4) * 5]),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), rand(4)),
    "elu": (lambda: nn.ELU(0.5), rand(4)),
    "silu": (lambda: nn.SiLU(), rand(4)),
    "sigmoid": (lambda: nn.Sigmoid(), rand(4)),
    "tanh": (lambda: nn.Tanh(), rand(4)),
    "softplus": (lambda: nn.Softplus(beta=2.0), rand(4)),
    "hardtanh": (lambda: nn.Hardtanh(-0.5, 0.5), rand(4)),
    "softmax": (lambda: nn.Softmax(-1), rand(4)),
    "log_softmax": (lambda: nn.LogSoftmax(1), rand(4)),
    "embedding": (lambda: nn.Embedding(10, 4), lambda b: [norch.randint(0, 10, (b, 3))]),
    "dropout_eval": (lambda: nn.Dropout(0.5), rand(4)),
    "flatten": (lambda: nn.Flatten(), rand(3, 4)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), rand(6)),
    "identity": (lambda: nn.Sequential(nn.Identity(), nn.Linear(3, 3)), rand(3)),
    "bilinear": (lambda: nn.Bilinear(3, 4, 2), lambda b: [norch.randn(b, 3), norch.randn(b, 4)]),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.LogSoftmax(-1)), rand(1, 8, 8)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(name):
    build, make = LAYERS[name]
    norch.manual_seed(0)
    model = build()
    if name.startswith("batchnorm") or name == "cnn":
        # non-trivial running statistics
        model.train()
        with norch.no_grad():
            for _ in range(3):
                model(*make(4))
    roundtrip(model, make)


def _pair(make_target, shape=(5,)):
    return lambda b: [norch.randn(b, *shape), make_target(b)]


LOSSES = {
    "mse": (nn.MSELoss(), _pair(lambda b: norch.randn(b, 5))),
    "mse_sum": (nn.MSELoss(reduction="sum"), _pair(lambda b: norch.randn(b, 5))),
    "l1_none": (nn.L1Loss(reduction="none"), _pair(lambda b: norch.randn(b, 5))),
    "smooth_l1": (nn.SmoothL1Loss(beta=0.5), _pair(lambda b: norch.randn(b, 5))),
    "huber": (nn.HuberLoss(delta=0.7), _pair(lambda b: norch.randn(b, 5))),
    "cross_entropy": (nn.CrossEntropyLoss(), _pair(lambda b: norch.randint(0, 5, (b,)))),
    "cross_entropy_weight_ignore": (nn.CrossEntropyLoss(weight=norch.rand(5), ignore_index=2, reduction="sum"),
                                    _pair(lambda b: norch.randint(0, 5, (b,)))),
    "cross_entropy_spatial": (nn.CrossEntropyLoss(reduction="none"),
                              _pair(lambda b: norch.randint(0, 5, (b, 3)), shape=(5, 3))),
    "nll": (nn.NLLLoss(), lambda b: [F.log_softmax(norch.randn(b, 5), 1), norch.randint(0, 5, (b,))]),
    "bce": (nn.BCELoss(), lambda b: [norch.rand(b, 5) * 0.98 + 0.01, norch.rand(b, 5)]),
    "bce_logits": (nn.BCEWithLogitsLoss(pos_weight=norch.rand(5) + 0.5), _pair(lambda b: norch.rand(b, 5))),
    "kl_div": (nn.KLDivLoss(reduction="batchmean"),
               lambda b: [F.log_softmax(norch.randn(b, 5), 1), F.softmax(norch.randn(b, 5), 1)]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss(name):
    norch.manual_seed(0)
    model, make = LOSSES[name]
    roundtrip(model, make, batch=(4, 6))


FUNCTIONAL = {
    "interpolate_nearest": lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
    "interpolate_bilinear_size": lambda x: F.interpolate(x, size=(5, 7), mode="bilinear"),
    "interpolate_bilinear_align": lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
    "max_pool_indices": lambda x: F.max_pool2d(x, 2, return_indices=True)[1].float(),
    "normalize": lambda x: F.normalize(x, dim=1),
    "one_hot": lambda x: F.one_hot((x.abs() * 2).long().clamp(0, 3), 4).float(),
    "silu_inplace_relu": lambda x: F.silu(F.relu(x.clone(), inplace=True)),
}


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional(name):
    norch.manual_seed(0)
    roundtrip(Lambda(FUNCTIONAL[name]), rand(2, 4, 4))


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_recurrent_cells(cell):
    norch.manual_seed(0)
    roundtrip(getattr(nn, cell)(3, 4), rand(3))


RNNS = {
    "lstm": (lambda: nn.LSTM(4, 5), lambda b: [norch.randn(6, b, 4)], (1,)),
    "lstm_batch_first_bi_2layer": (lambda: nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True),
                                   lambda b: [norch.randn(b, 6, 4)], (0, 1)),
    "gru": (lambda: nn.GRU(4, 5), lambda b: [norch.randn(6, b, 4)], (0, 1)),
    "gru_2layer_bi": (lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True), lambda b: [norch.randn(6, b, 4)],
                      (1,)),
    "rnn_relu_bi": (lambda: nn.RNN(4, 5, nonlinearity="relu", bidirectional=True),
                    lambda b: [norch.randn(6, b, 4)], (1,)),
    "rnn_nobias": (lambda: nn.RNN(4, 5, bias=False), lambda b: [norch.randn(6, b, 4)], (1,)),
}


@pytest.mark.parametrize("name", sorted(RNNS))
def test_recurrent(name):
    build, make, dyn = RNNS[name]
    norch.manual_seed(0)
    roundtrip(build(), make, dyn=dyn)


def test_lstm_with_initial_state():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True)

        def forward(self, x, h, c):
            return self.lstm(x, (h, c))

    model = M()
    make = lambda b: [norch.randn(b, 5, 3), norch.randn(2, b, 4), norch.randn(2, b, 4)]  # noqa: E731
    f = io.BytesIO()
    norch.onnx.export(model, tuple(make(2)), f, input_names=["x", "h", "c"],
                      dynamic_axes={"x": [0, 1], "h": [1], "c": [1]})
    onnx.checker.check_model(onnx.load_from_string(f.getvalue()))
    for b in (2, 3):
        _compare(model, f.getvalue(), ["x", "h", "c"], make(b))
    # the recurrence runs over a sequence length other than the export's
    _compare(model, f.getvalue(), ["x", "h", "c"], [norch.randn(2, 7, 3), norch.randn(2, 2, 4),
                                                   norch.randn(2, 2, 4)])


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention(batch_first):
    norch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, q, kv):
            return self.attn(q, kv, kv)

    axis = 0 if batch_first else 1
    shape = (lambda b, n: (b, n, 8)) if batch_first else (lambda b, n: (n, b, 8))
    make = lambda b: [norch.randn(*shape(b, 4)), norch.randn(*shape(b, 5))]  # noqa: E731
    proto = roundtrip(M(), make, dyn=(axis,))
    ops = {n.op_type for n in proto.graph.node}
    assert {"MatMul", "Softmax"} <= ops


def test_transformer_like_block_with_dynamic_sequence():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(8)
            self.attn = nn.MultiheadAttention(8, 4, batch_first=True)
            self.ff = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))

        def forward(self, x):
            h = self.ln(x)
            B, T, C = x.shape
            mask = norch.triu(norch.ones(T, T), 1).bool()
            a, _ = self.attn(h, h, h, attn_mask=mask, need_weights=False)
            x = x + a
            return (x + self.ff(x)).reshape(B, T * C)

    norch.manual_seed(0)
    model = Block()
    data, proto, names = _export(model, [norch.randn(2, 5, 8)], (0, 1))
    for b, t in ((2, 5), (3, 7), (1, 2)):
        _compare(model, data, names, [norch.randn(b, t, 8)])


# ---- tensor ops, through small functional models -------------------------------------------
class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.w = nn.Parameter(norch.randn(4))

    def forward(self, *xs):
        return self.fn(self, *xs)


OPS = {
    "arith": lambda m, x: (x + 1) * 2 - x / 3 + 2 ** x.clamp(-2, 2) - (1 - x) + x.add(x, alpha=2) - x.sub(1.5),
    "param_arith": lambda m, x: x * m.w + m.w.pow(2),
    "pow_neg_abs": lambda m, x: x.pow(2) + (-x).abs() + x.abs().sqrt() + x.square(),
    "exp_log": lambda m, x: x.exp() + (x.abs() + 1).log() + (x.abs() + 1).log2() + x.abs().log1p() + x.expm1(),
    "trig": lambda m, x: x.sin() + x.cos() + x.tanh() + x.sigmoid() + x.clamp(-0.9, 0.9).asin() + x.atan(),
    "rounding": lambda m, x: (x * 3).floor() + (x * 3).ceil() + (x * 3).round() + (x * 3).trunc() + (x * 3).frac(),
    "rsqrt_recip": lambda m, x: (x.abs() + 1).rsqrt() + (x.abs() + 1).reciprocal() + x.sign(),
    "erf": lambda m, x: norch.erf(x) + norch.exp2(x),
    "clamp_min_max": lambda m, x: x.clamp(min=-0.5) + x.clamp(max=0.5) + x.clamp_min(0.1) + F.hardtanh(x),
    "where_compare": lambda m, x: norch.where(x > 0, x, -x) + (x >= 0.5).float() + (x < -0.2).float() +
    (x <= 0).float() + (x == x).float() + (x != 0.3).float(),
    "logical": lambda m, x: ((x > 0) & (x < 0.5)).float() + ((x > 0) | (x < -1)).float() + (~(x > 0)).float() +
    norch.logical_xor(x > 0, x > 0.3).float(),
    "masked_fill": lambda m, x: x.masked_fill(x > 0.5, -1.0),
    "maximum_minimum": lambda m, x: norch.maximum(x, m.w) + norch.minimum(x, 0.2 * m.w),
    "div_modes": lambda m, x: norch.div(x * 5, 2, rounding_mode="floor") + norch.div(x * 5, 2, rounding_mode="trunc")
    + (x * 5) // 2 + norch.remainder(x * 5, 2) + norch.fmod(x * 5, 2),
    "lerp": lambda m, x: norch.lerp(x, m.w, 0.3),
    "sum_mean": lambda m, x: x.sum(-1, keepdim=True) + x.mean(1, keepdim=True) + x.sum() + x.mean(),
    "max_min": lambda m, x: x.max(-1)[0] + x.min(-1).values + x.amax(1) + x.amin(1) + x.max() + x.min(),
    "argmax": lambda m, x: (x.argmax(-1) + x.argmin(1, keepdim=True).squeeze(1)).float(),
    "prod_var_std": lambda m, x: x.prod(-1) + x.var(-1) + x.std(1, unbiased=False) + x.var(),
    "norm_logsumexp": lambda m, x: x.norm(dim=-1) + x.logsumexp(-1) + x.norm(p=1, dim=1),
    "all_any": lambda m, x: (x > -5).all(-1).float() + (x > 0.9).any(1).float(),
    "cumsum": lambda m, x: x.cumsum(-1),
    "matmul": lambda m, x: x @ x.t() @ x + norch.mm(x, x.T) @ x,
    "bmm": lambda m, x: norch.bmm(x.unsqueeze(1), x.unsqueeze(2)).reshape(-1) + x.matmul(m.w),
    "outer_mv": lambda m, x: norch.outer(x[0], m.w).sum() + x @ m.w,
    "reshape_view": lambda m, x: x.reshape(-1, 2, 2).view(x.shape[0], 4) + x.view(-1, 4),
    "permute_transpose": lambda m, x: x.unsqueeze(0).permute(1, 2, 0).transpose(0, 1).flatten(0, 1).reshape(-1, 4),
    "squeeze_unsqueeze": lambda m, x: x.unsqueeze(1).unsqueeze(-1).squeeze(-1).squeeze(1) + x[:, None, :].squeeze(),
    "cat_stack": lambda m, x: norch.cat([x, x * 2], -1).sum(-1) + norch.stack([x, -x], 1).sum((1, 2)),
    "cat_batch": lambda m, x: norch.cat([x, x + 1], 0),
    "getitem_slices": lambda m, x: x[:, 1:3].sum(-1) + x[..., -1] + x[:, ::2].sum(-1) + x[:, 0],
    "getitem_none_ellipsis": lambda m, x: x[None, ..., 1:].sum((0, 2)) + x[:, None, 2].squeeze(1),
    "getitem_tensor": lambda m, x: x[:, norch.tensor([3, 0, 1])].sum(-1),
    "flip": lambda m, x: x.flip(1) + x.flip(0, 1),
    "gather_index_select": lambda m, x: x.gather(1, norch.tensor([[1, 0]]).expand(x.shape[0], 2)).sum(-1) +
    x.index_select(1, norch.tensor([2, 3])).sum(-1),
    "narrow_select": lambda m, x: x.narrow(1, 1, 2).sum(-1) + x.select(1, 3),
    "split_chunk": lambda m, x: x.split(2, 1)[0] + x.chunk(2, -1)[1] + norch.unbind(x, 1)[2].unsqueeze(1),
    "expand_repeat": lambda m, x: x[:, :1].expand(-1, 4) + x.repeat(1, 2)[:, :4] + x.sum(0).expand(x.shape[0], 4),
    "tril_triu": lambda m, x: (x.unsqueeze(-1) * m.w).tril().sum(-1) + (x.unsqueeze(-1) * m.w).triu(1).sum(-1),
    "casts": lambda m, x: (x * 4).long().float() + (x > 0).to(norch.float32) + x.double().float() +
    (x * 3).int().type_as(x),
    "zeros_like_ones": lambda m, x: norch.zeros_like(x) + norch.ones_like(x) + norch.zeros(x.shape[0], 4) +
    x.new_ones(x.shape) + norch.full_like(x, 2.0),
    "arange": lambda m, x: x + norch.arange(x.shape[1]).float() + norch.arange(x.shape[0]).float().unsqueeze(1),
    "softmax_fn": lambda m, x: F.softmax(x, -1) + F.log_softmax(x, 1) + x.softmax(-1),
    "inplace": lambda m, x: x.clone().mul_(2).add_(1).relu_(),
    "pad": lambda m, x: F.pad(x, (1, 2)) + F.pad(x, (2, 1), value=3.0),
    "pad_reflect": lambda m, x: F.pad(x.unsqueeze(1), (1, 1), mode="reflect").squeeze(1),
    "scaled_dot_product_attention": lambda m, x: F.scaled_dot_product_attention(
        x.view(-1, 2, 2), x.view(-1, 2, 2), x.view(-1, 2, 2), is_causal=True).flatten(1),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_tensor_op(name):
    norch.manual_seed(0)
    model = Fn(OPS[name])
    roundtrip(model, lambda b: [norch.randn(b, 4)], batch=(3, 5))


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
            return norch.sort(self.body(x), -1)[0] + norch.topk(x, 1)[0]

    _refused(M(), (norch.randn(2, 4),), r"norch\.sort has no ONNX mapping", tmp_path,
             exc=norch.onnx.UnsupportedOperatorError)


def test_unsupported_arguments_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return F.adaptive_avg_pool2d(x, (3, 3))

    _refused(M(), (norch.randn(1, 1, 5, 5),), r"adaptive_avg_pool2d.*output_size", tmp_path,
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
