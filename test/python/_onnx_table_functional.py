"""The ONNX coverage table of norch.nn.functional: the configurations test_onnx_functional.py
exports and checks (``FUNCTIONAL``) and the refusals it checks (``FUNCTIONAL_REFUSED``);
_onnx_table.markdown() renders both into docs/onnx.md."""
import numpy as np

import norch
import norch.nn.functional as F
from _onnx_table_modules import _idx, rand

W = {}


def w(key, *shape):
    """A fixed weight per key: functional calls take their parameters as constants, the same in
    every run."""
    if key not in W:
        # drawn with NumPy: a norch draw inside a forward under export would be refused
        rng = np.random.default_rng(sum(map(ord, key)))
        W[key] = norch.tensor(rng.standard_normal(shape).astype(np.float32))
    return W[key]


def x2(*shape):
    return lambda b: [norch.randn(b, *shape), norch.randn(b, *shape)]


def x3(*shape):
    return lambda b: [norch.randn(b, *shape), norch.randn(b, *shape), norch.randn(b, *shape)]


def _interp(shape, **kw):
    return (lambda x: F.interpolate(x, **kw), rand(*shape), {})


# name -> (fn(*inputs), make inputs at batch b, options as for EXPORTED). A key is the
# functional's name, then "-variant".
FUNCTIONAL = {
    "linear": (lambda x: F.linear(x, w("l", 3, 4), w("lb", 3)), rand(4), {}),
    "bilinear": (lambda a, b: F.bilinear(a, b, w("bl", 2, 3, 3)), x2(3), {}),
    "conv1d": (lambda x: F.conv1d(x, w("c1", 2, 3, 3), stride=2, padding=1), rand(3, 8), {}),
    "conv2d": (lambda x: F.conv2d(x, w("c2", 2, 3, 3, 3), padding="same", dilation=2), rand(3, 7, 7), {}),
    "conv3d": (lambda x: F.conv3d(x, w("c3", 2, 2, 2, 2, 2), stride=2), rand(2, 4, 4, 4), {}),
    "conv_transpose1d": (lambda x: F.conv_transpose1d(x, w("ct1", 3, 2, 3), stride=2), rand(3, 5), {}),
    "conv_transpose2d": (lambda x: F.conv_transpose2d(x, w("ct2", 3, 2, 3, 3), padding=1), rand(3, 4, 4), {}),
    "conv_transpose3d": (lambda x: F.conv_transpose3d(x, w("ct3", 2, 2, 2, 2, 2)), rand(2, 2, 3, 2), {}),
    "conv_tbc": (lambda x: F.conv_tbc(x, w("tbc", 3, 4, 2), w("tbcb", 2), 1), lambda b: [norch.randn(6, b, 4)],
                 {"dyn": (0, 1)}),
    "conv2d-valid": (lambda x: F.conv2d(x, w("c2v", 2, 3, 2, 3), padding="valid"), rand(3, 5, 5), {}),
    "conv1d-same-even": (lambda x: F.conv1d(x, w("c1s", 2, 3, 4), padding="same"), rand(3, 7), {}),
    "unfold": (lambda x: F.unfold(x, (3, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1)), rand(2, 6, 7), {}),
    "unfold-unbatched": (lambda x: F.unfold(x[0], 2, stride=2), rand(2, 4, 4), {}),
    "fold": (lambda x: F.fold(x, (4, 5), (2, 2), padding=(1, 0), stride=(1, 2)), rand(2 * 4, 5 * 2), {}),
    "fold-unbatched": (lambda x: F.fold(x[0], (3, 3), 2), rand(2 * 4, 4), {}),
    "fold-of-unfold": (lambda x: F.fold(F.unfold(x, 3, padding=1), (4, 5), 3, padding=1), rand(2, 4, 5), {}),
    "max_pool1d": (lambda x: F.max_pool1d(x, 2), rand(3, 8), {}),
    "max_pool1d_with_indices": (lambda x: F.max_pool1d_with_indices(x, 3, 2, 1)[1].float(), rand(3, 8), {}),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 1, 1, dilation=1), rand(3, 5, 5), {}),
    "max_pool2d_with_indices": (lambda x: F.max_pool2d_with_indices(x, 2)[1].float(), rand(3, 4, 4), {}),
    "max_pool3d": (lambda x: F.max_pool3d(x, 2, ceil_mode=True), rand(2, 3, 5, 4), {}),
    "max_pool3d_with_indices": (lambda x: F.max_pool3d_with_indices(x, 2)[1].float(), rand(2, 4, 4, 2), {}),
    "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), rand(3, 8), {}),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2, ceil_mode=True), rand(3, 5, 5), {}),
    "avg_pool2d-divisor": (lambda x: F.avg_pool2d(x, 3, 1, 1, divisor_override=2), rand(3, 5, 5), {}),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 2, divisor_override=5), rand(2, 4, 4, 2), {}),
    "adaptive_avg_pool1d": (lambda x: F.adaptive_avg_pool1d(x, 4), rand(3, 10), {}),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 5)), rand(3, 7, 8), {}),
    "adaptive_avg_pool2d-unbatched": (lambda x: F.adaptive_avg_pool2d(x[0], 3), rand(3, 5, 5), {}),
    "adaptive_avg_pool2d-upsample": (lambda x: F.adaptive_avg_pool2d(x, (5, 7)), rand(3, 3, 4), {}),
    "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)), rand(2, 5, 4, 3), {}),
    "adaptive_max_pool1d": (lambda x: F.adaptive_max_pool1d(x, 4), rand(3, 10), {}),
    "adaptive_max_pool1d_with_indices": (lambda x: F.adaptive_max_pool1d_with_indices(x, 3)[1].float(),
                                         rand(3, 10), {}),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, (3, 5)), rand(3, 7, 8), {}),
    "adaptive_max_pool2d_with_indices": (lambda x: F.adaptive_max_pool2d_with_indices(x, 3)[1].float(),
                                         rand(3, 7, 5), {}),
    "adaptive_max_pool3d": (lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)), rand(2, 5, 4, 3), {}),
    "adaptive_max_pool3d_with_indices": (lambda x: F.adaptive_max_pool3d_with_indices(x, 2)[1].float(),
                                         rand(2, 5, 4, 3), {}),
    "lp_pool1d": (lambda x: F.lp_pool1d(x, 2, 3), lambda b: [norch.rand(b, 3, 9) + 0.1], {}),
    "lp_pool2d": (lambda x: F.lp_pool2d(x, 1.5, 2), lambda b: [norch.rand(b, 3, 4, 4) + 0.1], {}),
    "lp_pool3d": (lambda x: F.lp_pool3d(x, 2, 2), lambda b: [norch.rand(b, 2, 4, 4, 2) + 0.1], {}),
    "max_unpool1d": (lambda x: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2), rand(3, 8), {}),
    "max_unpool2d": (lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2, output_size=(5, 5)),
                     rand(3, 5, 5), {}),
    "max_unpool3d": (lambda x: F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2), rand(2, 4, 4, 2), {}),
    "pad-constant": (lambda x: F.pad(x, (1, 2, 0, 1), value=2.5), rand(3, 4), {}),
    "pad-reflect": (lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), rand(2, 4, 5), {}),
    "pad-replicate": (lambda x: F.pad(x, (2, 1, 1, 1, 1, 0), mode="replicate"), rand(2, 3, 3, 3), {}),
    "pad-circular-1d": (lambda x: F.pad(x, (3, 2), mode="circular"), rand(2, 4), {}),
    "pad-circular-crop": (lambda x: F.pad(x, (2, -1), mode="circular"), rand(2, 4), {}),
    "pad-circular-2d": (lambda x: F.pad(x, (1, 2, 3, 0), mode="circular"), rand(2, 3, 4), {}),
    "pad-circular-3d": (lambda x: F.pad(x, (1, 1, 0, 2, 1, 0), mode="circular"), rand(2, 2, 3, 3), {}),
    "interpolate-nearest-1d-scale": _interp((2, 5), scale_factor=1.5),
    "interpolate-nearest-2d-size": _interp((2, 3, 4), size=(7, 5)),
    "interpolate-nearest-2d-down": _interp((2, 7, 6), scale_factor=0.5),
    "interpolate-nearest-3d-scale": _interp((2, 2, 3, 2), scale_factor=(2, 1.5, 1)),
    "interpolate-nearest-recompute": _interp((2, 3, 4), scale_factor=1.7, recompute_scale_factor=True),
    "interpolate-nearest-exact-2d": _interp((2, 5, 4), size=(3, 7), mode="nearest-exact"),
    "interpolate-nearest-exact-1d": _interp((2, 5), scale_factor=1.5, mode="nearest-exact"),
    "interpolate-linear-scale": _interp((2, 5), scale_factor=1.5, mode="linear"),
    "interpolate-linear-size-align": _interp((2, 5), size=8, mode="linear", align_corners=True),
    "interpolate-linear-scale-align": _interp((2, 5), scale_factor=2, mode="linear", align_corners=True),
    "interpolate-bilinear-scale": _interp((2, 3, 4), scale_factor=(2, 1.5), mode="bilinear"),
    "interpolate-bilinear-scale-align": _interp((2, 3, 4), scale_factor=2.5, mode="bilinear", align_corners=True),
    "interpolate-bilinear-size": _interp((2, 3, 4), size=(6, 5), mode="bilinear"),
    "interpolate-bilinear-size-align": _interp((2, 3, 4), size=(6, 5), mode="bilinear", align_corners=True),
    "interpolate-bilinear-down": _interp((2, 7, 8), scale_factor=0.4, mode="bilinear"),
    "interpolate-bilinear-recompute": _interp((2, 3, 4), scale_factor=1.3, mode="bilinear",
                                              recompute_scale_factor=True),
    "interpolate-bicubic-scale": _interp((2, 3, 4), scale_factor=1.5, mode="bicubic"),
    "interpolate-bicubic-scale-align": _interp((2, 3, 4), scale_factor=2, mode="bicubic", align_corners=True),
    "interpolate-bicubic-size": _interp((2, 3, 4), size=(5, 7), mode="bicubic"),
    "interpolate-bicubic-size-align": _interp((2, 3, 4), size=(2, 6), mode="bicubic", align_corners=True),
    "interpolate-bicubic-down": _interp((2, 7, 8), size=(3, 3), mode="bicubic"),
    "interpolate-trilinear-scale": _interp((2, 2, 3, 2), scale_factor=(1.5, 2, 2), mode="trilinear"),
    "interpolate-trilinear-scale-align": _interp((2, 2, 3, 2), scale_factor=2, mode="trilinear", align_corners=True),
    "interpolate-trilinear-size": _interp((2, 2, 3, 2), size=(3, 4, 5), mode="trilinear"),
    "interpolate-trilinear-size-align": _interp((2, 2, 3, 2), size=(3, 4, 5), mode="trilinear", align_corners=True),
    "interpolate-area-1d": _interp((2, 7), size=3, mode="area"),
    "interpolate-area-2d": _interp((2, 7, 6), size=(3, 4), mode="area"),
    "interpolate-area-3d": _interp((2, 5, 4, 3), size=(2, 3, 2), mode="area"),
    "upsample": (lambda x: F.upsample(x, scale_factor=2, mode="bilinear"), rand(2, 3, 3), {}),
    "upsample_nearest": (lambda x: F.upsample_nearest(x, size=(5, 4)), rand(2, 3, 3), {}),
    "upsample_bilinear": (lambda x: F.upsample_bilinear(x, scale_factor=2), rand(2, 3, 3), {}),
    "grid_sample": (lambda x, g: F.grid_sample(x, g.tanh(), align_corners=False), lambda b: [
        norch.randn(b, 2, 4, 5), norch.randn(b, 3, 3, 2)], {}),
    "grid_sample-nearest-border-align": (lambda x, g: F.grid_sample(x, g.tanh() * 1.2, mode="nearest",
                                                                    padding_mode="border", align_corners=True),
                                         lambda b: [norch.randn(b, 2, 4, 5), norch.randn(b, 3, 3, 2)], {}),
    "affine_grid": (lambda t: F.affine_grid(t, [t.shape[0], 1, 3, 4], align_corners=False), rand(2, 3), {}),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), rand(8, 2, 3), {}),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), rand(2, 4, 6), {}),
    "channel_shuffle": (lambda x: F.channel_shuffle(x, 3), rand(6, 2), {}),
    "native_channel_shuffle": (lambda x: F.native_channel_shuffle(x, 2), rand(6, 2), {}),
    "batch_norm": (lambda x: F.batch_norm(x, w("rm", 3) * 0.1, w("rv", 3).abs() + 0.5, w("bw", 3), w("bb", 3)),
                   rand(3, 4), {}),
    "instance_norm": (lambda x: F.instance_norm(x, weight=w("iw", 3), bias=w("ib", 3)), rand(3, 4, 4), {}),
    "instance_norm-running": (lambda x: F.instance_norm(x, w("irm", 3) * 0.1, w("irv", 3).abs() + 0.5,
                                                        use_input_stats=False), rand(3, 4, 4), {}),
    "layer_norm": (lambda x: F.layer_norm(x, (4,), w("lw", 4), w("lb2", 4), eps=1e-3), rand(3, 4), {}),
    "group_norm": (lambda x: F.group_norm(x, 3, w("gw", 6)), rand(6, 2, 2), {}),
    "rms_norm": (lambda x: F.rms_norm(x, (4,), w("rw", 4), eps=1e-4), rand(3, 4), {}),
    "local_response_norm": (lambda x: F.local_response_norm(x, 2, alpha=1e-2, k=2.0), rand(5, 3), {}),
    "normalize": (lambda x: F.normalize(x, p=1.0, dim=-1), rand(3, 4), {}),
    "embedding": (lambda i: F.embedding(i, w("e", 10, 3)), _idx(10, 4), {}),
    "embedding_bag": (lambda i: F.embedding_bag(i, w("eb", 10, 3), mode="sum"), _idx(10, 4), {}),
    "one_hot": (lambda i: F.one_hot(i, 10).float(), _idx(10, 4), {}),
    "dropout": (lambda x: F.dropout(x, 0.5, training=False), rand(4), {}),
    "dropout1d": (lambda x: F.dropout1d(x, 0.5, training=False), rand(3, 4), {}),
    "dropout2d": (lambda x: F.dropout2d(x, 0.5, training=False), rand(3, 2, 2), {}),
    "dropout3d": (lambda x: F.dropout3d(x, 0.5, training=False), rand(3, 2, 2, 2), {}),
    "alpha_dropout": (lambda x: F.alpha_dropout(x, 0.5, training=False), rand(4), {}),
    "feature_alpha_dropout": (lambda x: F.feature_alpha_dropout(x, 0.5, training=False), rand(3, 2, 2), {}),
    "scaled_dot_product_attention": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                                     x3(2, 5, 4), {"dyn": (0, 2)}),
    "scaled_dot_product_attention-mask-scale": (lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=q.sum(-1, keepdim=True) > k.sum(-1).unsqueeze(-2), scale=0.3), x3(2, 5, 4), {}),
    "multi_head_attention_forward": (lambda q: F.multi_head_attention_forward(
        q, q, q, 4, 2, w("ipw", 12, 4), w("ipb", 12), None, None, False, 0.0, w("opw", 4, 4), w("opb", 4),
        training=False, need_weights=False)[0], lambda b: [norch.randn(5, b, 4)], {"dyn": (0, 1)}),
    "pdist": (lambda x: F.pdist(x, p=3), lambda b: [norch.randn(5, b + 1)], {"dyn": (1,)}),
    "pairwise_distance": (lambda a, b: F.pairwise_distance(a, b, keepdim=True), x2(5), {}),
    "cosine_similarity": (lambda a, b: F.cosine_similarity(a, b, dim=-1), x2(5), {}),
    "one-of-each-activation": (lambda x: F.relu(x) + F.relu6(x * 4) + F.elu(x, 0.3) + F.selu(x) + F.celu(x, 0.5)
                               + F.leaky_relu(x, 0.1) + F.gelu(x) + F.gelu(x, approximate="tanh") + F.silu(x)
                               + F.mish(x) + F.sigmoid(x) + F.tanh(x) + F.softplus(x, 2.0, 1.0)
                               + F.hardtanh(x, -0.2, 0.3) + F.hardsigmoid(x * 4) + F.hardswish(x * 4)
                               + F.softshrink(x, 0.2) + F.hardshrink(x, 0.2) + F.tanhshrink(x) + F.softsign(x)
                               + F.threshold(x, 0.1, 5.0) + F.logsigmoid(x) + F.rrelu(x, training=False)
                               + F.prelu(x, w("pw", 1)), rand(5), {}),
    "inplace-activations": (lambda x: F.relu_(x.clone()) + F.elu_(x.clone()) + F.leaky_relu_(x.clone(), 0.3)
                            + F.hardtanh_(x.clone()) + F.selu_(x.clone()) + F.celu_(x.clone())
                            + F.threshold_(x.clone(), 0.0, -1.0) + F.rrelu_(x.clone())
                            + F.relu(x.clone(), inplace=True), rand(5), {}),
    "glu": (lambda x: F.glu(x, -1), rand(6), {}),
    "softmax": (lambda x: F.softmax(x, 0) + F.softmin(x, 1) + F.log_softmax(x, -1), rand(5), {}),
    "cross_entropy-probs-unbatched": (lambda x, t: F.cross_entropy(x[0], F.softmax(t[0], 0), label_smoothing=0.1),
                                      x2(5), {}),
    "cross_entropy-index-unbatched-smoothing": (lambda x, t: F.cross_entropy(
        x[0], t[0, 0].abs().mul(2).long().clamp(0, 4), label_smoothing=0.2), x2(5), {}),
    "cross_entropy-probs-spatial-none": (lambda x, t: F.cross_entropy(x, F.softmax(t, 1), reduction="none",
                                                                      weight=w("cw", 5)), x2(5, 3), {}),
    "cross_entropy-smoothing-sum-weight": (lambda x, t: F.cross_entropy(
        x, t.abs().mul(2).long().clamp(0, 4)[:, 0], weight=w("cw2", 5).abs(), reduction="sum",
        label_smoothing=0.4), x2(5), {}),
    "nll_loss": (lambda x, t: F.nll_loss(F.log_softmax(x, 1), t.abs().mul(2).long().clamp(0, 4)[:, 0],
                                         ignore_index=1), x2(5), {}),
    "mse_loss": (lambda a, b: F.mse_loss(a, b), x2(5), {}),
    "l1_loss": (lambda a, b: F.l1_loss(a, b, reduction="sum"), x2(5), {}),
    "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), x2(5), {}),
    "huber_loss": (lambda a, b: F.huber_loss(a, b, delta=2.0), x2(5), {}),
    "binary_cross_entropy": (lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()), x2(5), {}),
    "binary_cross_entropy_with_logits": (lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid(),
                                                                                         reduction="none"), x2(5), {}),
    "kl_div": (lambda a, b: F.kl_div(F.log_softmax(a, 1), F.log_softmax(b, 1), log_target=True), x2(5), {}),
    "poisson_nll_loss": (lambda a, b: F.poisson_nll_loss(a, b.abs(), full=True), x2(5), {}),
    "gaussian_nll_loss": (lambda a, b, v: F.gaussian_nll_loss(a, b, v.abs() + 0.1), x3(5), {}),
    "margin_ranking_loss": (lambda a, b, t: F.margin_ranking_loss(a, b, t.sign(), margin=0.1), x3(5), {}),
    "hinge_embedding_loss": (lambda a, t: F.hinge_embedding_loss(a, t.sign()), x2(5), {}),
    "soft_margin_loss": (lambda a, t: F.soft_margin_loss(a, t.sign()), x2(5), {}),
    "cosine_embedding_loss": (lambda a, b, t: F.cosine_embedding_loss(a, b, t[:, 0].sign()), x3(5), {}),
    "multilabel_soft_margin_loss": (lambda a, t: F.multilabel_soft_margin_loss(a, (t > 0).float()), x2(5), {}),
    "multilabel_margin_loss": (lambda a, t: F.multilabel_margin_loss(a, t.abs().mul(2).long().clamp(-1, 4) - (
        t > 1).long()), x2(5), {}),
    "multi_margin_loss": (lambda a, t: F.multi_margin_loss(a, t.abs().mul(2).long().clamp(0, 4)[:, 0]), x2(5), {}),
    "triplet_margin_loss": (lambda a, p, n: F.triplet_margin_loss(a, p, n, p=1), x3(5), {}),
    "triplet_margin_with_distance_loss": (lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, swap=True),
                                          x3(5), {}),
    "ctc_loss-constant-targets": (lambda lp: F.ctc_loss(lp, norch.tensor([[1, 2], [2, 2]]), norch.tensor([5, 4]),
                                                        norch.tensor([2, 1])),
                                  lambda b: [F.log_softmax(norch.randn(5, 2, 3), 2)], {"dyn": ()}),
    "linear_cross_entropy": (lambda x, t: F.linear_cross_entropy(x, w("lce", 6, 5), t.abs().mul(2).long().clamp(
        0, 5)[:, 0], label_smoothing=0.1), x2(5), {}),
}

# name -> (fn, make inputs, why, a regex the error must match).
FUNCTIONAL_REFUSED = {
    "gumbel_softmax": (lambda x: F.gumbel_softmax(x), rand(5), "samples Gumbel noise on every call",
                       r"exponential_ draws random numbers"),
    "dropout-training": (lambda x: F.dropout(x, 0.5, training=True), rand(5), "a random mask in training mode",
                         "dropout in training mode"),
    "rrelu-training": (lambda x: F.rrelu(x, training=True), rand(5), "random slopes in training mode",
                       "uniform_ draws random numbers"),
    "fractional_max_pool2d": (lambda x: F.fractional_max_pool2d(x, 2, output_size=2), rand(2, 4, 4),
                              "random pooling regions", "rand draws random numbers"),
    "ctc_loss": (lambda lp, t: F.ctc_loss(lp, t, norch.tensor([4]), norch.tensor([2])),
                 lambda b: [F.log_softmax(norch.randn(4, 1, 3), 2), norch.tensor([[1, 2]])],
                 "the targets and lengths are read into Python to lay out the recursion: only constant ones "
                 "export (ctc_loss-constant-targets)", r"Tensor\.numpy reads the data"),
    "fractional_max_pool2d_with_indices": (lambda x: F.fractional_max_pool2d_with_indices(x, 2, output_size=2)[0],
                                           rand(2, 4, 4), "random pooling regions", "rand draws random numbers"),
    "fractional_max_pool3d": (lambda x: F.fractional_max_pool3d(x, 2, output_ratio=0.5), rand(2, 4, 4, 4),
                              "random pooling regions", "rand draws random numbers"),
    "fractional_max_pool3d_with_indices": (lambda x: F.fractional_max_pool3d_with_indices(x, 2, output_size=2)[1],
                                           rand(2, 4, 4, 4), "random pooling regions", "rand draws random numbers"),
}

def functional_names():
    return sorted(n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n)) and
                  getattr(getattr(F, n), "__module__", "").startswith("norch"))
