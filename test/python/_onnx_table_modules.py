"""The ONNX coverage table of norch.nn: for every module class, the configurations exported and
checked by test_onnx_modules.py (``EXPORTED``) or the reason it cannot be exported and the op
the refusal must name (``REFUSED``). test_onnx_modules.py checks that every class of norch.nn
is in one of them; _onnx_table.markdown() renders the table into docs/onnx.md."""
import norch
import norch.nn as nn
import norch.nn.functional as F


def rand(*shape):
    return lambda b: [norch.randn(b, *shape)]


def pair(*shape, target=None):
    target = target or (lambda b: norch.randn(b, *shape))
    return lambda b: [norch.randn(b, *shape), target(b)]


def sign_target(*shape):
    return lambda b: (norch.rand(b, *shape) > 0.5).float() * 2 - 1


def positive(*shape):
    return lambda b: [norch.rand(b, *shape) + 0.1]


class Call(nn.Module):
    """A module whose forward calls ``fn(module, *inputs)``; ``sub`` is registered as a child."""

    def __init__(self, fn, sub=None):
        super().__init__()
        self.fn = fn
        if sub is not None:
            self.sub = sub

    def forward(self, *xs):
        return self.fn(self, *xs)


def _mha(**kw):
    m = nn.MultiheadAttention(8, 2, batch_first=True, **kw)
    return Call(lambda s, q, k: s.sub(q, k, k)[0], m)


def _mha_mask():
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    return Call(lambda s, q, k: s.sub(q, k, k, key_padding_mask=k.sum(-1) > 1.0)[0], m)


def _enc_layer(**kw):
    return nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True, **kw)


def _dec_layer(**kw):
    return nn.TransformerDecoderLayer(8, 2, 16, dropout=0.1, batch_first=True, **kw)


def _seq(n):
    return lambda b: [norch.randn(b, n, 8)]


def _seq2(n, m):
    return lambda b: [norch.randn(b, n, 8), norch.randn(b, m, 8)]


def _idx(n, *shape):
    return lambda b: [norch.randint(0, n, (b, *shape))]


def _fold_input(c, k, L):
    return lambda b: [norch.randn(b, c * k, L)]


def _rnn(cls, **kw):
    return lambda: cls(4, 5, **kw)


def _ctl(**kw):
    return Call(lambda s, x: s.sub.log_prob(x), nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 7], **kw))


# name -> (build, make inputs at batch b, options). Options: "dyn" (dynamic axes of every input,
# default (0,)), "axes" (per-input dynamic axes overriding dyn: {"x1": [1]}), "batch" (the two batch
# sizes), "train" (forward passes in training mode first, for running statistics).
EXPORTED = {
    # containers and identity
    "Identity": (nn.Identity, rand(3), {}),
    "DataParallel": (lambda: nn.DataParallel(nn.Sequential(nn.Linear(3, 4), nn.Tanh())), rand(3), {}),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), rand(3), {}),
    "ModuleList": (lambda: Call(lambda s, x: s.sub[1](s.sub[0](x)), nn.ModuleList([nn.Linear(3, 3), nn.Tanh()])),
                   rand(3), {}),
    "ModuleDict": (lambda: Call(lambda s, x: s.sub["a"](x), nn.ModuleDict({"a": nn.Linear(3, 2)})), rand(3), {}),
    "ParameterList": (lambda: Call(lambda s, x: x * s.sub[0] + s.sub[1],
                                   nn.ParameterList([nn.Parameter(norch.randn(3)), nn.Parameter(norch.randn(3))])),
                      rand(3), {}),
    "ParameterDict": (lambda: Call(lambda s, x: x * s.sub["w"], nn.ParameterDict({"w": nn.Parameter(norch.randn(3))})),
                      rand(3), {}),
    # linear
    "Linear": (lambda: nn.Linear(4, 3), rand(4), {}),
    "LazyLinear": (lambda: nn.LazyLinear(3), rand(4), {"lazy": True}),
    "Bilinear": (lambda: nn.Bilinear(3, 4, 2), lambda b: [norch.randn(b, 3), norch.randn(b, 4)], {}),
    "Flatten": (lambda: nn.Flatten(), rand(3, 4), {}),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), rand(6), {}),
    # convolution
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2), rand(3, 11), {}),
    "Conv2d": (lambda: nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2), rand(4, 8, 8), {}),
    "Conv2d-circular": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), rand(2, 5, 5), {}),
    "Conv2d-reflect": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), rand(2, 5, 5), {}),
    "Conv3d": (lambda: nn.Conv3d(2, 3, 3, padding=1, stride=(1, 2, 1)), rand(2, 4, 5, 4), {}),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1), rand(3, 5), {}),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, groups=2, dilation=2), rand(4, 4, 4), {}),
    "ConvTranspose3d": (lambda: nn.ConvTranspose3d(2, 3, 2, stride=2), rand(2, 3, 2, 3), {}),
    "LazyConv1d": (lambda: nn.LazyConv1d(4, 3), rand(3, 8), {"lazy": True}),
    "LazyConv2d": (lambda: nn.LazyConv2d(4, 3), rand(3, 6, 6), {"lazy": True}),
    "LazyConv3d": (lambda: nn.LazyConv3d(2, 2), rand(2, 3, 3, 3), {"lazy": True}),
    "LazyConvTranspose1d": (lambda: nn.LazyConvTranspose1d(2, 3), rand(3, 5), {"lazy": True}),
    "LazyConvTranspose2d": (lambda: nn.LazyConvTranspose2d(2, 3), rand(3, 4, 4), {"lazy": True}),
    "LazyConvTranspose3d": (lambda: nn.LazyConvTranspose3d(2, 2), rand(2, 3, 3, 3), {"lazy": True}),
    "Fold": (lambda: nn.Fold((5, 6), (2, 3), padding=1, stride=(2, 1)), _fold_input(3, 6, 18), {}),
    "Fold-dilation": (lambda: nn.Fold((6, 6), 2, dilation=2), _fold_input(2, 4, 16), {}),
    "Unfold": (lambda: nn.Unfold((2, 3), padding=1, stride=(2, 1)), rand(3, 5, 6), {}),
    "Unfold-dilation": (lambda: nn.Unfold(2, dilation=2), rand(2, 6, 6), {}),
    # pooling
    "MaxPool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), rand(3, 9), {}),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), rand(3, 8, 8), {}),
    "MaxPool2d-indices": (lambda: Call(lambda s, x: s.sub(x)[1].float(), nn.MaxPool2d(2, return_indices=True)),
                          rand(3, 4, 4), {}),
    "MaxPool3d": (lambda: nn.MaxPool3d(2, stride=(1, 2, 2), padding=1), rand(2, 4, 5, 4), {}),
    "MaxPool3d-indices": (lambda: Call(lambda s, x: s.sub(x)[1].float(), nn.MaxPool3d(2, return_indices=True)),
                          rand(2, 4, 4, 4), {}),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), rand(3, 9), {}),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), rand(3, 8, 8), {}),
    "AvgPool2d-divisor": (lambda: nn.AvgPool2d(2, divisor_override=3), rand(3, 4, 4), {}),
    "AvgPool3d": (lambda: nn.AvgPool3d(2, stride=1, padding=1), rand(2, 3, 4, 3), {}),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(3), rand(3, 7), {}),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 4)), rand(3, 7, 9), {}),
    "AdaptiveAvgPool2d-divides": (lambda: nn.AdaptiveAvgPool2d((2, 4)), rand(3, 8, 8), {}),
    "AdaptiveAvgPool2d-none": (lambda: nn.AdaptiveAvgPool2d((None, 3)), rand(3, 5, 7), {}),
    "AdaptiveAvgPool3d": (lambda: nn.AdaptiveAvgPool3d((2, 3, 1)), rand(2, 5, 4, 3), {}),
    "AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(3), rand(3, 7), {}),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d((3, 2)), rand(3, 7, 5), {}),
    "AdaptiveMaxPool2d-indices": (lambda: Call(lambda s, x: s.sub(x)[1].float(),
                                               nn.AdaptiveMaxPool2d(3, return_indices=True)), rand(2, 7, 5), {}),
    "AdaptiveMaxPool3d": (lambda: nn.AdaptiveMaxPool3d(2), rand(2, 5, 4, 3), {}),
    "LPPool1d": (lambda: nn.LPPool1d(2, 3, stride=2), positive(3, 9), {}),
    "LPPool2d": (lambda: nn.LPPool2d(3, 2), positive(3, 6, 6), {}),
    "LPPool3d": (lambda: nn.LPPool3d(2, 2), positive(2, 4, 4, 4), {}),
    "MaxUnpool1d": (lambda: Call(lambda s, x: s.sub(*F.max_pool1d(x, 2, return_indices=True)), nn.MaxUnpool1d(2)),
                    rand(3, 8), {}),
    "MaxUnpool2d": (lambda: Call(lambda s, x: s.sub(*F.max_pool2d(x, 2, return_indices=True)), nn.MaxUnpool2d(2)),
                    rand(3, 4, 6), {}),
    "MaxUnpool3d": (lambda: Call(lambda s, x: s.sub(*F.max_pool3d(x, 2, return_indices=True)), nn.MaxUnpool3d(2)),
                    rand(2, 4, 4, 2), {}),
    # padding
    "ConstantPad1d": (lambda: nn.ConstantPad1d((1, 2), 3.5), rand(2, 4), {}),
    "ConstantPad2d": (lambda: nn.ConstantPad2d((1, 0, 2, -1), -1.0), rand(2, 4, 4), {}),
    "ConstantPad3d": (lambda: nn.ConstantPad3d(1, 0.5), rand(2, 2, 3, 3), {}),
    "ZeroPad1d": (lambda: nn.ZeroPad1d(2), rand(2, 4), {}),
    "ZeroPad2d": (lambda: nn.ZeroPad2d((1, 1, 2, 0)), rand(2, 4, 4), {}),
    "ZeroPad3d": (lambda: nn.ZeroPad3d(1), rand(2, 2, 3, 3), {}),
    "ReflectionPad1d": (lambda: nn.ReflectionPad1d((2, 1)), rand(2, 5), {}),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d((1, 2, 2, 1)), rand(2, 4, 5), {}),
    "ReflectionPad3d": (lambda: nn.ReflectionPad3d(1), rand(2, 3, 3, 3), {}),
    "ReplicationPad1d": (lambda: nn.ReplicationPad1d((2, 1)), rand(2, 5), {}),
    "ReplicationPad2d": (lambda: nn.ReplicationPad2d((1, 2, 2, 1)), rand(2, 4, 5), {}),
    "ReplicationPad3d": (lambda: nn.ReplicationPad3d(1), rand(2, 3, 3, 3), {}),
    "CircularPad1d": (lambda: nn.CircularPad1d((2, 1)), rand(2, 5), {}),
    "CircularPad2d": (lambda: nn.CircularPad2d((1, 2, 2, 1)), rand(2, 4, 5), {}),
    "CircularPad3d": (lambda: nn.CircularPad3d(1), rand(2, 3, 3, 3), {}),
    # normalization
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), rand(3, 4), {"train": True}),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), rand(3, 4, 4), {"train": True}),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(2, affine=False), rand(2, 3, 3, 3), {"train": True}),
    "LazyBatchNorm1d": (lambda: nn.LazyBatchNorm1d(), rand(3), {"lazy": True, "train": True}),
    "LazyBatchNorm2d": (lambda: nn.LazyBatchNorm2d(), rand(3, 2, 2), {"lazy": True, "train": True}),
    "LazyBatchNorm3d": (lambda: nn.LazyBatchNorm3d(), rand(2, 2, 2, 2), {"lazy": True, "train": True}),
    "SyncBatchNorm": (lambda: nn.SyncBatchNorm(3), rand(3, 4, 4), {"train": True}),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), rand(3, 6), {}),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3), rand(3, 4, 5), {}),
    "InstanceNorm2d-running": (lambda: nn.InstanceNorm2d(3, track_running_stats=True), rand(3, 4, 5),
                               {"train": True}),
    "InstanceNorm3d": (lambda: nn.InstanceNorm3d(2, affine=True), rand(2, 3, 3, 3), {}),
    "LazyInstanceNorm1d": (lambda: nn.LazyInstanceNorm1d(), rand(3, 6), {"lazy": True}),
    "LazyInstanceNorm2d": (lambda: nn.LazyInstanceNorm2d(), rand(3, 4, 4), {"lazy": True}),
    "LazyInstanceNorm3d": (lambda: nn.LazyInstanceNorm3d(), rand(2, 3, 3, 3), {"lazy": True}),
    "LayerNorm": (lambda: nn.LayerNorm([5, 6]), rand(5, 6), {}),
    "LayerNorm-nobias": (lambda: nn.LayerNorm(6, bias=False), rand(5, 6), {}),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), rand(4, 3, 3), {}),
    "RMSNorm": (lambda: nn.RMSNorm([4, 5]), rand(3, 4, 5), {}),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3), rand(5, 4, 4), {}),
    "CrossMapLRN2d": (lambda: nn.CrossMapLRN2d(3), rand(5, 4, 4), {}),
    # activations
    "ReLU": (nn.ReLU, rand(5), {}),
    "ReLU6": (nn.ReLU6, lambda b: [norch.randn(b, 5) * 5], {}),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), rand(5), {}),
    "PReLU": (lambda: nn.PReLU(3), rand(3, 4), {}),
    "RReLU": (lambda: nn.RReLU(0.1, 0.3), rand(5), {}),
    "ELU": (lambda: nn.ELU(0.5), rand(5), {}),
    "CELU": (lambda: nn.CELU(0.7), rand(5), {}),
    "SELU": (nn.SELU, rand(5), {}),
    "GELU": (nn.GELU, rand(5), {}),
    "GELU-tanh": (lambda: nn.GELU("tanh"), rand(5), {}),
    "SiLU": (nn.SiLU, rand(5), {}),
    "Mish": (nn.Mish, rand(5), {}),
    "Sigmoid": (nn.Sigmoid, rand(5), {}),
    "LogSigmoid": (nn.LogSigmoid, rand(5), {}),
    "Hardsigmoid": (nn.Hardsigmoid, lambda b: [norch.randn(b, 5) * 4], {}),
    "Hardswish": (nn.Hardswish, lambda b: [norch.randn(b, 5) * 4], {}),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 0.5), rand(5), {}),
    "Hardshrink": (lambda: nn.Hardshrink(0.3), rand(5), {}),
    "Softshrink": (lambda: nn.Softshrink(0.3), rand(5), {}),
    "Tanhshrink": (nn.Tanhshrink, rand(5), {}),
    "Tanh": (nn.Tanh, rand(5), {}),
    "Softsign": (nn.Softsign, rand(5), {}),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=1.0), rand(5), {}),
    "Threshold": (lambda: nn.Threshold(0.1, -2.0), rand(5), {}),
    "GLU": (lambda: nn.GLU(1), rand(6), {}),
    "Softmax": (lambda: nn.Softmax(-1), rand(5), {}),
    "Softmin": (lambda: nn.Softmin(1), rand(5), {}),
    "Softmax2d": (nn.Softmax2d, rand(3, 2, 2), {}),
    "LogSoftmax": (lambda: nn.LogSoftmax(1), rand(5), {}),
    # dropout (eval: identity)
    "Dropout": (lambda: nn.Dropout(0.5), rand(5), {}),
    "Dropout1d": (lambda: nn.Dropout1d(0.5), rand(3, 4), {}),
    "Dropout2d": (lambda: nn.Dropout2d(0.5), rand(3, 2, 2), {}),
    "Dropout3d": (lambda: nn.Dropout3d(0.5), rand(2, 2, 2, 2), {}),
    "AlphaDropout": (lambda: nn.AlphaDropout(0.5), rand(5), {}),
    "FeatureAlphaDropout": (lambda: nn.FeatureAlphaDropout(0.5), rand(3, 2, 2), {}),
    # resampling and shuffles
    "Upsample-nearest": (lambda: nn.Upsample(scale_factor=2), rand(2, 3, 4), {}),
    "Upsample-nearest-size": (lambda: nn.Upsample(size=(5, 7)), rand(2, 3, 4), {}),
    "Upsample-nearest-fractional": (lambda: nn.Upsample(scale_factor=1.7), rand(2, 3, 4), {}),
    "Upsample-nearest-1d": (lambda: nn.Upsample(scale_factor=3), rand(2, 4), {}),
    "Upsample-nearest-3d": (lambda: nn.Upsample(size=(3, 5, 4)), rand(2, 2, 3, 3), {}),
    "Upsample-nearest-exact": (lambda: nn.Upsample(scale_factor=1.6, mode="nearest-exact"), rand(2, 3, 4), {}),
    "Upsample-linear": (lambda: nn.Upsample(scale_factor=2.5, mode="linear"), rand(2, 4), {}),
    "Upsample-linear-align": (lambda: nn.Upsample(size=7, mode="linear", align_corners=True), rand(2, 4), {}),
    "Upsample-bilinear": (lambda: nn.Upsample(scale_factor=(1.5, 2), mode="bilinear"), rand(2, 3, 4), {}),
    "Upsample-bilinear-size": (lambda: nn.Upsample(size=(5, 7), mode="bilinear"), rand(2, 3, 4), {}),
    "Upsample-bilinear-align": (lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                                rand(2, 3, 4), {}),
    "Upsample-bilinear-down": (lambda: nn.Upsample(size=(2, 3), mode="bilinear"), rand(2, 5, 7), {}),
    "Upsample-bicubic": (lambda: nn.Upsample(scale_factor=2, mode="bicubic"), rand(2, 3, 4), {}),
    "Upsample-bicubic-size": (lambda: nn.Upsample(size=(5, 6), mode="bicubic"), rand(2, 3, 4), {}),
    "Upsample-bicubic-align": (lambda: nn.Upsample(size=(5, 7), mode="bicubic", align_corners=True),
                               rand(2, 3, 4), {}),
    "Upsample-trilinear": (lambda: nn.Upsample(scale_factor=2, mode="trilinear"), rand(2, 2, 3, 2), {}),
    "Upsample-trilinear-align": (lambda: nn.Upsample(size=(3, 5, 4), mode="trilinear", align_corners=True),
                                 rand(2, 2, 3, 2), {}),
    "Upsample-area": (lambda: nn.Upsample(size=(3, 2), mode="area"), rand(2, 7, 5), {}),
    "UpsamplingNearest2d": (lambda: nn.UpsamplingNearest2d(scale_factor=2), rand(2, 3, 3), {}),
    "UpsamplingBilinear2d": (lambda: nn.UpsamplingBilinear2d(size=(5, 4)), rand(2, 3, 3), {}),
    "PixelShuffle": (lambda: nn.PixelShuffle(2), rand(8, 3, 2), {}),
    "PixelUnshuffle": (lambda: nn.PixelUnshuffle(2), rand(2, 4, 6), {}),
    "ChannelShuffle": (lambda: nn.ChannelShuffle(2), rand(6, 2, 2), {}),
    # embeddings
    "Embedding": (lambda: nn.Embedding(10, 4, padding_idx=0), _idx(10, 3), {}),
    "EmbeddingBag": (lambda: nn.EmbeddingBag(10, 4), _idx(10, 3), {}),
    "EmbeddingBag-sum": (lambda: nn.EmbeddingBag(10, 4, mode="sum", padding_idx=2), _idx(10, 3), {}),
    "EmbeddingBag-max": (lambda: nn.EmbeddingBag(10, 4, mode="max"), _idx(10, 3), {}),
    "EmbeddingBag-offsets": (lambda: Call(lambda s, x: s.sub(x, norch.tensor([0, 2, 2])), nn.EmbeddingBag(10, 4)),
                             lambda b: [norch.randint(0, 10, (b + 3,))], {}),
    "EmbeddingBag-offsets-input-max-padding": (
        lambda: nn.EmbeddingBag(10, 4, mode="max", padding_idx=1, include_last_offset=True),
        lambda b: [norch.tensor([1, 3, 1, 4, 5, 6, 1, 2][:b + 4]), norch.tensor([0, 1, 3, b + 1])], {}),
    "EmbeddingBag-offsets-per-sample-weights": (
        lambda: Call(lambda s, x, o, w: s.sub(x, o, per_sample_weights=w), nn.EmbeddingBag(10, 4, mode="sum")),
        lambda b: [norch.randint(0, 10, (b + 2,)), norch.tensor([0, 1]), norch.rand(b + 2)], {}),
    # distances
    "CosineSimilarity": (lambda: nn.CosineSimilarity(1), lambda b: [norch.randn(b, 5), norch.randn(b, 5)], {}),
    "PairwiseDistance": (lambda: nn.PairwiseDistance(p=3.0), lambda b: [norch.randn(b, 5), norch.randn(b, 5)], {}),
    # recurrent
    "RNN": (_rnn(nn.RNN, batch_first=True), lambda b: [norch.randn(b, 6, 4)], {"dyn": (0, 1)}),
    "RNN-relu-bi-2layer": (_rnn(nn.RNN, nonlinearity="relu", bidirectional=True, num_layers=2),
                           lambda b: [norch.randn(6, b, 4)], {"dyn": (0, 1)}),
    "LSTM": (_rnn(nn.LSTM), lambda b: [norch.randn(6, b, 4)], {"dyn": (0, 1)}),
    "LSTM-bi-2layer": (_rnn(nn.LSTM, num_layers=2, bidirectional=True, batch_first=True),
                       lambda b: [norch.randn(b, 6, 4)], {"dyn": (0, 1)}),
    "GRU": (_rnn(nn.GRU, bias=False), lambda b: [norch.randn(6, b, 4)], {"dyn": (0, 1)}),
    "GRU-bi-2layer": (_rnn(nn.GRU, num_layers=2, bidirectional=True), lambda b: [norch.randn(6, b, 4)],
                      {"dyn": (0, 1)}),
    "RNNCell": (lambda: nn.RNNCell(3, 4), rand(3), {}),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), rand(3), {}),
    "GRUCell": (lambda: nn.GRUCell(3, 4), rand(3), {}),
    # attention and the Transformer family
    "MultiheadAttention": (lambda: _mha(), _seq2(4, 5), {"dyn": (0, 1)}),
    "MultiheadAttention-kdim-bias-kv": (lambda: Call(lambda s, q, k: s.sub(q, k, k)[0], nn.MultiheadAttention(
        8, 2, batch_first=True, kdim=8, vdim=8, add_bias_kv=True, add_zero_attn=True)), _seq2(4, 5), {"dyn": (0, 1)}),
    "MultiheadAttention-key-padding-mask": (_mha_mask, _seq2(4, 5), {"dyn": (0,)}),
    "TransformerEncoderLayer": (_enc_layer, _seq(5), {"dyn": (0, 1)}),
    "TransformerEncoderLayer-norm-first-gelu": (lambda: _enc_layer(norm_first=True, activation="gelu"), _seq(5),
                                                {"dyn": (0, 1)}),
    "TransformerDecoderLayer": (_dec_layer, _seq2(4, 5), {"dyn": (0, 1)}),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(_enc_layer(), 2, norm=nn.LayerNorm(8),
                                                         enable_nested_tensor=False), _seq(5), {"dyn": (0, 1)}),
    "TransformerDecoder": (lambda: nn.TransformerDecoder(_dec_layer(), 2), _seq2(4, 5), {"dyn": (0, 1)}),
    "Transformer": (lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.1, batch_first=True), _seq2(5, 4),
                    {"dyn": (0, 1)}),
    "Transformer-causal": (lambda: Call(lambda s, src, tgt: s.sub(src, tgt, tgt_mask=nn.Transformer.
                                                                  generate_square_subsequent_mask(tgt.shape[1]),
                                                                  tgt_is_causal=True),
                                        nn.Transformer(8, 2, 1, 1, 16, batch_first=True)), _seq2(5, 4),
                           {"dyn": (0,)}),
    "AdaptiveLogSoftmaxWithLoss-log_prob": (_ctl, rand(8), {}),
    # losses
    "L1Loss": (lambda: nn.L1Loss(), pair(5), {}),
    "MSELoss": (lambda: nn.MSELoss(reduction="sum"), pair(5), {}),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(beta=0.5), pair(5), {}),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.7, reduction="none"), pair(5), {}),
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(), pair(5, target=lambda b: norch.randint(0, 5, (b,))), {}),
    "CrossEntropyLoss-weight-ignore": (lambda: nn.CrossEntropyLoss(weight=norch.rand(5), ignore_index=2),
                                       pair(5, target=lambda b: norch.randint(0, 5, (b,))), {}),
    "CrossEntropyLoss-probs": (lambda: nn.CrossEntropyLoss(), pair(5, target=lambda b: F.softmax(
        norch.randn(b, 5), 1)), {}),
    "CrossEntropyLoss-probs-weight-smoothing": (lambda: nn.CrossEntropyLoss(weight=norch.rand(5), label_smoothing=0.2,
                                                                            reduction="sum"),
                                                pair(5, 3, target=lambda b: F.softmax(norch.randn(b, 5, 3), 1)), {}),
    "CrossEntropyLoss-smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
                                   pair(5, target=lambda b: norch.randint(0, 5, (b,))), {}),
    "CrossEntropyLoss-smoothing-weight-ignore": (
        lambda: nn.CrossEntropyLoss(weight=norch.rand(5) + 0.1, ignore_index=1, label_smoothing=0.3),
        pair(5, 3, target=lambda b: norch.randint(0, 5, (b, 3))), {}),
    "CrossEntropyLoss-smoothing-none": (lambda: nn.CrossEntropyLoss(label_smoothing=0.25, reduction="none",
                                                                    ignore_index=0),
                                        pair(5, target=lambda b: norch.randint(0, 5, (b,))), {}),
    "NLLLoss": (lambda: nn.NLLLoss(weight=norch.rand(5)), lambda b: [F.log_softmax(norch.randn(b, 5), 1),
                                                                    norch.randint(0, 5, (b,))], {}),
    "NLLLoss2d": (lambda: nn.NLLLoss2d(), lambda b: [F.log_softmax(norch.randn(b, 5, 2, 2), 1),
                                                     norch.randint(0, 5, (b, 2, 2))], {}),
    "BCELoss": (lambda: nn.BCELoss(weight=norch.rand(5)), lambda b: [norch.rand(b, 5) * 0.98 + 0.01,
                                                                     norch.rand(b, 5)], {}),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(pos_weight=norch.rand(5) + 0.5), pair(5), {}),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"),
                  lambda b: [F.log_softmax(norch.randn(b, 5), 1), F.softmax(norch.randn(b, 5), 1)], {}),
    "PoissonNLLLoss": (lambda: nn.PoissonNLLLoss(), lambda b: [norch.randn(b, 5), norch.rand(b, 5) * 3], {}),
    "PoissonNLLLoss-full": (lambda: nn.PoissonNLLLoss(log_input=False, full=True),
                            lambda b: [norch.rand(b, 5) + 0.1, norch.rand(b, 5) * 3], {}),
    "GaussianNLLLoss": (lambda: nn.GaussianNLLLoss(full=True),
                        lambda b: [norch.randn(b, 5), norch.randn(b, 5), norch.rand(b, 5) + 0.1], {}),
    "MarginRankingLoss": (lambda: nn.MarginRankingLoss(0.2), lambda b: [norch.randn(b), norch.randn(b),
                                                                        sign_target()(b)], {}),
    "HingeEmbeddingLoss": (lambda: nn.HingeEmbeddingLoss(0.5), lambda b: [norch.randn(b, 5), sign_target(5)(b)], {}),
    "SoftMarginLoss": (lambda: nn.SoftMarginLoss(), lambda b: [norch.randn(b, 5), sign_target(5)(b)], {}),
    "CosineEmbeddingLoss": (lambda: nn.CosineEmbeddingLoss(0.1), lambda b: [norch.randn(b, 5), norch.randn(b, 5),
                                                                            sign_target()(b)], {}),
    "MultiLabelSoftMarginLoss": (lambda: nn.MultiLabelSoftMarginLoss(weight=norch.rand(5)),
                                 lambda b: [norch.randn(b, 5), (norch.rand(b, 5) > 0.5).float()], {}),
    "MultiLabelMarginLoss": (lambda: nn.MultiLabelMarginLoss(), lambda b: [norch.randn(b, 5), norch.tensor(
        [[3, 0, -1, 1, 2], [1, 4, 2, 0, 3], [0, -1, 4, -1, 2]] * 3)[:b]], {}),
    "MultiMarginLoss": (lambda: nn.MultiMarginLoss(p=2, margin=0.5, weight=norch.rand(5)),
                        pair(5, target=lambda b: norch.randint(0, 5, (b,))), {}),
    "TripletMarginLoss": (lambda: nn.TripletMarginLoss(0.5, swap=True),
                          lambda b: [norch.randn(b, 5), norch.randn(b, 5), norch.randn(b, 5)], {}),
    "TripletMarginWithDistanceLoss": (lambda: nn.TripletMarginWithDistanceLoss(
        distance_function=nn.CosineSimilarity(), margin=0.3),
        lambda b: [norch.randn(b, 5), norch.randn(b, 5), norch.randn(b, 5)], {}),
    "LinearCrossEntropyLoss": (lambda: nn.LinearCrossEntropyLoss(4, 6, bias=True, label_smoothing=0.1),
                               pair(4, target=lambda b: norch.randint(0, 6, (b,))), {}),
}


class _Square(norch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g


# name -> (build, make inputs, the reason, a regex the error must match: the op and the module path).
REFUSED = {
    "FractionalMaxPool2d": (lambda: nn.FractionalMaxPool2d(2, output_size=3), rand(2, 6, 6),
                            "draws random pooling regions on every call", r"norch\.rand draws random numbers"),
    "FractionalMaxPool3d": (lambda: nn.FractionalMaxPool3d(2, output_size=2), rand(2, 4, 4, 4),
                            "draws random pooling regions on every call", r"norch\.rand draws random numbers"),
    "CTCLoss": (lambda: Call(lambda s, lp, t: s.sub(lp, t, norch.full((lp.shape[1],), 6, dtype=norch.int64),
                                                    norch.full((lp.shape[1],), 2, dtype=norch.int64)),
                             nn.CTCLoss()),
                lambda b: [F.log_softmax(norch.randn(6, b, 4), 2), norch.randint(1, 4, (b, 2))],
                "a dynamic-programming recursion over data-dependent lengths", "."),
    "AdaptiveLogSoftmaxWithLoss": (lambda: Call(lambda s, x, t: s.sub(x, t).loss,
                                                nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 7])),
                                   lambda b: [norch.randn(b, 8), norch.randint(0, 10, (b,))],
                                   "forward selects the rows of each cluster with a data-dependent mask "
                                   "(log_prob exports)", "."),
    "custom autograd.Function": (lambda: Call(lambda s, x: _Square.apply(x), nn.Linear(2, 2)), rand(2),
                                 "user code ONNX cannot see into", "_Square"),
}

# Base classes and deprecated aliases: no forward of their own.
ABSTRACT = {"Module", "Container", "RNNBase", "RNNCellBase"}


def module_classes():
    import inspect
    return sorted(n for n in dir(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module))
