"""norch.onnx.export coverage: every covered layer, recurrent net, attention block, loss and tensor
op exported, checked with onnx.checker, run in onnxruntime on the export batch and on another
batch size (dynamic axes), and compared with norch's forward. Names, files, options and the
refusals are in test_onnx_export.py."""
import io

import onnx
import pytest

import norch
import norch.nn as nn
import norch.nn.functional as F
from _onnx_check import _compare, _export, rand, roundtrip


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
    "adaptive_avg_pool1d": lambda x: F.adaptive_avg_pool1d(x.flatten(2), 4) + F.adaptive_avg_pool1d(x.flatten(2), 1),
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


@pytest.mark.parametrize("layer,shape", [(lambda: nn.Conv2d(2, 3, 3), (2, 5, 5)), (lambda: nn.MaxPool2d(2), (2, 4, 4)),
                                         (lambda: nn.Conv1d(2, 3, 2), (2, 5)), (lambda: nn.LSTM(3, 4), (5, 3)),
                                         (lambda: nn.GRU(3, 4, bidirectional=True), (5, 3))])
def test_unbatched_inputs(layer, shape):
    norch.manual_seed(0)
    model = layer()
    data, proto, names = _export(model, [norch.randn(*shape)], None)
    _compare(model, data, names, [norch.randn(*shape)])


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
            last = x[:, T - 1].unsqueeze(1) + x.select(1, T - 2).unsqueeze(1)  # indices that follow T
            return (x + self.ff(x) + last).reshape(B, T * C)

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
    "topk_sort": lambda m, x: x.topk(2, -1)[0].sum(-1, keepdim=True) + x.sort(-1, descending=True)[0] +
    norch.sort(x, 1)[1].float() + x.argsort(-1).float() + norch.topk(x, 1, largest=False).indices.float(),
    "scatter": lambda m, x: norch.zeros_like(x).scatter(1, norch.tensor([[1, 0]]).expand(x.shape[0], 2),
                                                         x[:, :2]) + x.scatter(1, x.argmax(1, keepdim=True), 5.0) +
    norch.scatter_add(x, 1, norch.tensor([[0, 0, 1, 1]]).expand(x.shape[0], 4), x),
    "roll": lambda m, x: x.roll(1, 1) + norch.roll(x, (-1, 3), (1, 1)) + x.roll(5, -1),
    "fill": lambda m, x: (x * 2).fill_(3.0) + (x + 1).zero_() + x,
    "scaled_dot_product_attention": lambda m, x: F.scaled_dot_product_attention(
        x.view(-1, 2, 2), x.view(-1, 2, 2), x.view(-1, 2, 2), is_causal=True).flatten(1),
}


def test_float64_and_integer_inputs():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2).double()

        def forward(self, x, n):
            scaled = (n * 3 // 2 - n % 2).to(norch.float64)
            return self.fc(x).tanh() + scaled.sum(-1, keepdim=True), n.argmax(-1)

    model = M()
    roundtrip(model, lambda b: [norch.randn(b, 3, dtype=norch.float64), norch.randint(-5, 5, (b, 4))])


def test_roll_flattened_static():
    model = Lambda(lambda x: x.roll(3) + x.roll(1, 0))
    data, proto, names = _export(model, [norch.randn(3, 4)], None)
    _compare(model, data, names, [norch.randn(3, 4)])


@pytest.mark.parametrize("name", sorted(OPS))
def test_tensor_op(name):
    norch.manual_seed(0)
    model = Fn(OPS[name])
    roundtrip(model, lambda b: [norch.randn(b, 4)], batch=(3, 5))
