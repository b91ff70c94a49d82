"""float16 and bfloat16 on CUDA against the CPU's half results, which are the reference.
Elementwise ops whose float math is exact IEEE arithmetic on both devices (+ - * /, sqrt,
comparisons, casts between every dtype pair, where/clamp/fill, gather/sort) must give the
CPU's bits: both devices compute in float and round once with half.h's conversion.
Transcendental functions, reductions, GEMM, nn and optimizer steps differ in summation order
or in the last float ulp, so they are held to the dtype's rounding. Also: float accumulation
(a long sum of ones), the cuBLAS path and the teaching kernels, autocast on "cuda", random
fills bit for bit, and Tensor.record_stream. Everything that needs a GPU skips without one;
record_stream's refusals on a CPU tensor run everywhere."""
import numpy as np
import pytest
import torch

import norch
import norch.nn.functional as F

from _half_util import DTYPES, HALF, bits, nd, rtol, to_norch, to_torch

cuda = pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")


def _inputs(shapes, name, domain=(-3.0, 3.0), seed=0):
    g = torch.Generator().manual_seed(seed)
    lo, hi = domain
    return [to_norch((lo + (hi - lo) * torch.rand(s, generator=g, dtype=torch.float64)).to(getattr(torch, name)))
            for s in shapes]


def _on_both(fn, xs):
    """fn on the CPU tensors and on CUDA copies of them; results as (cpu, gpu) lists."""
    cpu = fn(*xs)
    gpu = fn(*[x.to("cuda") for x in xs])
    if not isinstance(cpu, (tuple, list)):
        cpu, gpu = [cpu], [gpu]
    for g in gpu:
        assert g.device.type == "cuda", g.device
    return list(cpu), list(gpu)


def assert_same_bits(fn, xs):
    for c, g in zip(*_on_both(fn, xs)):
        assert c.dtype == g.dtype and tuple(c.shape) == tuple(g.shape), (c.dtype, g.dtype, c.shape, g.shape)
        np.testing.assert_array_equal(bits(g), bits(c))


def assert_close_cpu(fn, xs, scale=1.0):
    """Within the result dtype's rounding, relative to the largest finite magnitude."""
    for c, g in zip(*_on_both(fn, xs)):
        assert c.dtype == g.dtype and tuple(c.shape) == tuple(g.shape), (c.dtype, g.dtype, c.shape, g.shape)
        a, e = to_torch(g).double(), to_torch(c).double()
        if not c.dtype.is_floating_point:
            assert a.tolist() == e.tolist()
            continue
        finite = e.abs()[torch.isfinite(e)]
        mag = max(finite.max().item() if finite.numel() else 1.0, 1.0)
        tol = rtol(str(c.dtype).split(".")[1]) * scale
        torch.testing.assert_close(a, e, rtol=tol, atol=tol * mag, equal_nan=True)


LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.t(),
    "sliced": lambda t: t[1:, ::2],
    "expanded": lambda t: t[:1].expand(3, t.shape[0], t.shape[1]),
    "scalar": lambda t: t[1, 2],
    "empty": lambda t: t[:0],
}

# Exact IEEE arithmetic in float on both devices, then one rounding: the same bits.
EXACT_UNARY = ["neg", "abs", "sign", "floor", "ceil", "round", "trunc", "frac", "square", "relu", "sqrt",
               "reciprocal", "isnan", "isinf", "isfinite", "signbit"]
EXACT_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt",
                "ge", "copysign"]
# Library math (expf, logf, ...): the devices may differ in the last float ulp before rounding.
MATH_UNARY = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "atan", "sinh", "cosh",
              "tanh", "sigmoid", "erf", "rsqrt", "asinh"]
MATH_BINARY = ["pow", "atan2", "hypot", "remainder", "fmod", "floor_divide"]


def _with_specials(x):
    t = x.clone()
    flat = t.view(-1)
    for i, v in enumerate([float("nan"), float("inf"), -float("inf"), 0.0, -0.0]):
        flat[i] = v
    return t


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", EXACT_UNARY)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_exact_unary_ops_give_the_cpu_bits(op, name, layout):
    (x,) = _inputs([(5, 6)], name, (0.1, 4.0) if op in ("sqrt", "reciprocal") else (-3, 3), 1)
    assert_same_bits(lambda t: getattr(norch, op)(LAYOUTS[layout](t)), [_with_specials(x)])


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", EXACT_BINARY)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_exact_binary_ops_give_the_cpu_bits(op, name, layout):
    a, b = _inputs([(5, 6), (5, 6)], name, (-3, 3), 2)
    fn = getattr(norch, op)
    assert_same_bits(lambda x, y: fn(LAYOUTS[layout](x), LAYOUTS[layout](y)), [_with_specials(a), b])
    assert_same_bits(lambda x, y: fn(x, y[:1]), [a, b])  # broadcast
    if op not in ("fmax", "fmin"):  # which, as in PyTorch, take tensors only
        assert_same_bits(lambda x: fn(x, 1.7), [a])  # a Python scalar operand
    assert_same_bits(lambda x, y: fn(x, y.float()), [a, b])  # promotes to float32


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", MATH_UNARY + MATH_BINARY)
def test_library_math_ops_within_rounding(op, name):
    domain = (0.1, 4.0) if op in ("log", "log2", "log10", "log1p", "rsqrt", "pow", "remainder", "fmod",
                                  "floor_divide") else (-1.2, 1.2)
    a, b = _inputs([(7, 9), (7, 9)], name, domain, 3)
    fn = getattr(norch, op)
    if op in MATH_BINARY:
        assert_close_cpu(lambda x, y: fn(x, y), [a, b])
        assert_close_cpu(lambda x, y: fn(x.t(), y.t()), [a, b])
    else:
        assert_close_cpu(lambda x: fn(x), [a])
        assert_close_cpu(lambda x: fn(x.t()[::2]), [a])


def _cast_values(src):
    if src in HALF:  # every 16-bit pattern: subnormals, signed zeros, infinities, NaNs
        return to_norch(torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16).view(getattr(torch, src)))
    if src == "float32":  # ties and near-ties of both half types, overflow, underflow and the specials
        h = torch.arange(0, 1 << 16, 7, dtype=torch.int64)
        ties = ((h << 13) | (1 << 12)).to(torch.int32).view(torch.float32)
        bf = ((h << 16) | (1 << 15)).to(torch.int32).view(torch.float32)  # int32 wraps: the sign bit too
        extra = torch.tensor([65504.0, 65519.99, 65520.0, 3.4e38, 1e-8, 2.0 ** -25, 2.0 ** -24, -0.0,
                              float("nan"), float("inf"), -float("inf")])
        return to_norch(torch.cat([ties, -ties, bf, extra]))
    if src == "float64":
        return to_norch(torch.tensor([0.1, -2.5, 65504.5, 1e300, 2.0 ** -30, 1.0 + 2.0 ** -11, float("nan")],
                                     dtype=torch.float64))
    if src == "bool":
        return to_norch(torch.tensor([True, False, True]))
    if src == "uint8":
        return to_norch(torch.arange(256).to(torch.uint8))
    return to_norch(torch.tensor([0, 1, -1, 2047, 2049, 65519, 65521, 1 << 24 | 1, -(1 << 30)],
                                 dtype=getattr(torch, src)))


# Every pair with a half type on one side (test_cuda_kernels.py has the others).
HALF_PAIRS = [(s, d) for s in DTYPES for d in DTYPES if s in HALF or d in HALF]


@cuda
@pytest.mark.parametrize("src,dst", HALF_PAIRS)
def test_casts_to_and_from_half_give_the_cpu_bits(src, dst):
    x = _cast_values(src)
    assert_same_bits(lambda t: t.to(nd(dst)), [x])
    assert_same_bits(lambda t: t[::3].to(nd(dst)), [x])  # the strided path
    # Into a strided destination of the other dtype (copy_ with a cast).
    n = x.shape[0] // 2 * 2
    assert_same_bits(lambda t: norch.zeros(2, n // 2, dtype=nd(dst), device=t.device).t().copy_(t[:n].view(n // 2, 2)),
                     [x])


@cuda
@pytest.mark.parametrize("name", HALF)
def test_where_clamp_fill_lerp_and_nan_to_num(name):
    a, b = _inputs([(4, 5), (5,)], name, (-2, 2), 4)
    a = _with_specials(a)
    assert_same_bits(lambda x, y: norch.where(x > 0, x, y), [a, b])
    assert_same_bits(lambda x: x.clamp(-0.5, 0.7), [a])
    assert_same_bits(lambda x: x.t().clamp(min=0.3), [a])
    assert_same_bits(lambda x, y: norch.clamp(x, min=y), [a, b])
    assert_same_bits(lambda x: norch.nan_to_num(x), [a])
    assert_same_bits(lambda x: norch.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0), [a])
    assert_same_bits(lambda x: x.t().clone().fill_(1.0 / 3), [a])
    assert_same_bits(lambda x: x.masked_fill(x > 1, 1e-5), [a])
    assert_same_bits(lambda x: norch.full_like(x, 2049.0), [a])  # rounds (to even) in both types
    assert_close_cpu(lambda x, y: norch.lerp(x, y, 0.3), [a, b])
    assert_close_cpu(lambda x, y: norch.addcmul(x, x, y, value=0.5), [a, b])
    # In-place ops stay in the half dtype on the device.
    assert_close_cpu(lambda x, y: x.clone().add_(y).mul_(1.5).clamp_(-1, 1).exp_(), [a, b])


REDUCTIONS = {
    "sum": lambda x: x.sum(), "sum_rows": lambda x: x.sum(1), "sum_cols": lambda x: x.sum(0, keepdim=True),
    "mean": lambda x: x.mean(-1), "prod": lambda x: (x * 0.1 + 1).prod(1), "amax": lambda x: x.amax(1),
    "amin": lambda x: x.amin(0), "var": lambda x: x.var(1), "std": lambda x: x.std(0), "norm": lambda x: x.norm(),
    "logsumexp": lambda x: x.logsumexp(1), "cumsum": lambda x: x.cumsum(1),
    "cumprod": lambda x: (x * 0.1 + 1).cumprod(0),
    "softmax": lambda x: x.softmax(1), "log_softmax_dim0": lambda x: x.log_softmax(0),
}
# Exact on both devices: a max/min picks an element, an index is an index.
PICKS = {
    "max": lambda x: x.max(), "min_dim": lambda x: x.min(1), "argmax": lambda x: x.argmax(1),
    "argmin": lambda x: x.argmin(0), "sort": lambda x: x.sort(1), "sort_desc": lambda x: x.sort(0, descending=True),
    "topk": lambda x: x.topk(3, 1), "all": lambda x: x.all(1), "any": lambda x: (x > 1).any(0),
}
SHAPES = {"small": (6, 7), "long_rows": (3, 40000), "long_cols": (40000, 3), "many_rows": (3000, 50)}


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_reductions_accumulate_in_float_within_rounding(op, name, shape):
    (x,) = _inputs([SHAPES[shape]], name, (-2, 2), 5)
    assert_close_cpu(REDUCTIONS[op], [x], scale=4.0)
    assert_close_cpu(lambda t: REDUCTIONS[op](t.t().contiguous().t()), [x], scale=4.0)  # column-major


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(PICKS))
def test_max_min_arg_and_sort_give_the_cpu_bits(op, name):
    (x,) = _inputs([(9, 12)], name, (-2, 2), 6)
    x = x.round()  # ties, so first-occurrence and stable order matter
    x[2, 3] = float("nan")
    x[5, :] = -0.0
    assert_same_bits(PICKS[op], [x])
    assert_same_bits(lambda t: PICKS[op](t.t()), [x])


@cuda
@pytest.mark.parametrize("name", HALF)
def test_long_sums_accumulate_in_float(name):
    # A half accumulator would stall at 2048 (float16) or 256 (bfloat16); 4096 is exact in both.
    for n in (4096, 40000):
        ones = norch.ones(n, dtype=nd(name), device="cuda")
        rounded = lambda v: float(norch.tensor(float(v)).to(nd(name)))  # noqa: E731
        assert float(ones.sum()) == rounded(n)
        assert float(ones.view(-1, 8).sum(0)[0]) == rounded(n // 8)
        assert float(ones.mean()) == 1.0
        assert float(ones.cumsum(0)[4095]) == 4096.0


GEMMS = {
    "mm": ((5, 64), (64, 7), lambda a, b: a @ b),
    "mm_transposed": ((64, 5), (7, 64), lambda a, b: a.t() @ b.t()),
    "strided": ((5, 128), (64, 7), lambda a, b: a[:, ::2] @ b),
    "bmm": ((3, 4, 33), (3, 33, 6), lambda a, b: norch.bmm(a, b)),
    "matvec": ((4, 40), (40,), lambda a, b: a @ b),
    "dot": ((40,), (40,), lambda a, b: norch.dot(a, b)),
    "broadcast": ((2, 1, 3, 16), (4, 16, 5), lambda a, b: norch.matmul(a, b)),
    "linear": ((4, 10), (6, 10), lambda x, w: F.linear(x, w, w[:, 0])),
    "addmm": ((6, 8), (8, 6), lambda a, b: norch.addmm(a[:, :6], a, b, beta=0.5, alpha=2.0)),
    "empty_k": ((3, 0), (0, 4), lambda a, b: a @ b),
    "large": ((130, 300), (300, 70), lambda a, b: a @ b),
}


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(GEMMS))
@pytest.mark.parametrize("kernel", ["cublas", "tiled", "naive"])
def test_gemm_accumulates_in_float32_within_rounding(op, name, kernel):
    sa, sb, fn = GEMMS[op]
    a, b = _inputs([sa, sb], name, (-1, 1), 7)
    before = norch.backends.cuda.get_matmul_kernel()
    norch.backends.cuda.set_matmul_kernel(kernel)
    try:
        assert_close_cpu(fn, [a, b], scale=4.0)
        # A float32 accumulator: 4096 products of ones sum exactly, then round once.
        ones = norch.ones(2, 4096, dtype=nd(name), device="cuda")
        assert (ones @ ones.t()).tolist() == [[4096.0, 4096.0], [4096.0, 4096.0]]
    finally:
        norch.backends.cuda.set_matmul_kernel(before)


@cuda
@pytest.mark.parametrize("name", HALF)
def test_gemm_backward_within_rounding(name):
    a, b = _inputs([(6, 20), (20, 5)], name, (-1, 1), 8)

    def grads(x, y):
        x, y = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
        (x @ y).sum().backward()
        return x.grad, y.grad

    assert_close_cpu(grads, [a, b], scale=4.0)


def _nn_cases(name):
    x4, w4, b4 = _inputs([(2, 3, 7, 7), (4, 3, 3, 3), (4,)], name, (-1, 1), 9)
    return {
        "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [x4, w4, b4]),
        "conv2d_stride": (lambda x, w, b: F.conv2d(x, w, b, stride=2, dilation=2), [x4, w4, b4]),
        "conv1d": (lambda x, w: F.conv1d(x, w), _inputs([(2, 3, 9), (4, 3, 3)], name, (-1, 1), 10)),
        "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2),
                             _inputs([(1, 3, 4, 4), (3, 2, 3, 3)], name, (-1, 1), 11)),
        "max_pool2d": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [x4]),
        "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [x4]),
        "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [x4]),
        "interpolate": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), [x4]),
        "reflect_pad": (lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), [x4]),
        "layer_norm": (lambda x: F.layer_norm(x, (7,)), [x4]),
        "layer_norm_affine": (lambda x, w, b: F.layer_norm(x, (8,), w, b), _inputs([(5, 8), (8,), (8,)], name,
                                                                                   (-1, 1), 12)),
        "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), _inputs([(2, 4, 5), (4,), (4,)], name, (-1, 1), 13)),
        "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                       _inputs([(6, 3, 4), (3,), (3,)], name, (-1, 1), 14)),
        "softmax": (lambda x: F.softmax(x, 1), [x4]),
        "log_softmax_last": (lambda x: F.log_softmax(x, -1), [x4]),
        "gelu": (lambda x: F.gelu(x), [x4]),
        "silu": (lambda x: F.silu(x), [x4]),
        "mse_loss": (lambda x, y: F.mse_loss(x, y), _inputs([(4, 5), (4, 5)], name, (-1, 1), 15)),
        "l1_loss": (lambda x, y: F.l1_loss(x, y), _inputs([(4, 5), (4, 5)], name, (-1, 1), 16)),
        "cross_entropy": (lambda x: F.cross_entropy(x, norch.tensor([0, 4, 2, 1, 3, 0], device=x.device)),
                          _inputs([(6, 5)], name, (-2, 2), 17)),
        "nll_loss_weighted": (lambda x, w: F.nll_loss(x.log_softmax(1), norch.tensor([0, 4, 2, 1, 3, 0],
                                                                                     device=x.device), weight=w),
                              _inputs([(6, 5), (5,)], name, (0.5, 2), 18)),
        "embedding": (lambda w: F.embedding(norch.tensor([[1, 3], [3, 9]], device=w.device), w),
                      _inputs([(10, 4)], name, (-1, 1), 19)),
        "embedding_padding": (lambda w: F.embedding(norch.tensor([1, 3, 3, 0, 3], device=w.device), w,
                                                    padding_idx=0), _inputs([(10, 4)], name, (-1, 1), 20)),
    }


NN_NAMES = ["conv2d", "conv2d_stride", "conv1d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
            "adaptive_avg_pool2d", "interpolate", "reflect_pad", "layer_norm", "layer_norm_affine", "group_norm",
            "batch_norm",
            "softmax", "log_softmax_last", "gelu", "silu", "mse_loss", "l1_loss", "cross_entropy",
            "nll_loss_weighted", "embedding", "embedding_padding"]


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("case", NN_NAMES)
def test_nn_forward_and_backward_within_rounding(case, name):
    fn, xs = _nn_cases(name)[case]

    def forward_backward(*ts):
        ts = [t.detach().requires_grad_(True) for t in ts]
        out = fn(*ts)
        g = norch.ones_like(out) if out.dim() == 0 else norch.linspace(-1, 1, out.numel(), device=out.device).to(
            out.dtype).view(out.shape)
        out.backward(g)
        assert out.dtype == nd(name)
        return [out.detach()] + [t.grad if t.grad is not None else norch.zeros(0) for t in ts]

    assert_close_cpu(forward_backward, xs, scale=8.0)


@cuda
@pytest.mark.parametrize("name", HALF)
def test_embedding_and_max_pool_forward_give_the_cpu_bits(name):
    (w,) = _inputs([(10, 4)], name, (-1, 1), 21)
    assert_same_bits(lambda t: F.embedding(norch.tensor([[1, 3], [3, 9]], device=t.device), t), [w])
    (x,) = _inputs([(2, 3, 6, 6)], name, (-1, 1), 22)
    assert_same_bits(lambda t: F.max_pool2d(t, 2, return_indices=True), [x])


@cuda
@pytest.mark.parametrize("name", HALF)
def test_gather_scatter_and_index_ops(name):
    a, b = _inputs([(4, 5), (4, 5)], name, (-2, 2), 23)
    idx = norch.tensor([[0, 1], [2, 2], [4, 0], [1, 1]])
    assert_same_bits(lambda x: x.gather(1, idx.to(x.device)), [a])
    assert_same_bits(lambda x: x.index_select(1, norch.tensor([2, 0], device=x.device)), [a])
    assert_same_bits(lambda x: x[norch.tensor([3, 0], device=x.device)], [a])
    assert_same_bits(lambda x, y: norch.cat([x, y], 0), [a, b])
    assert_same_bits(lambda x: x.flip(0).roll(1, 1).tril().repeat(2, 1), [a])
    # scatter_add with repeated indices: one thread per line adds in index order, as the CPU does.
    rep = norch.tensor([[0, 1, 2, 3, 0]] * 4)
    assert_same_bits(lambda x: norch.zeros(4, 5, dtype=x.dtype, device=x.device).scatter_add(0, rep.to(x.device), x),
                     [a])
    # Few long lines: elements spread over threads with atomic adds, in any order.
    (big,) = _inputs([(2, 5000)], name, (-1, 1), 24)
    col = norch.arange(5000).remainder(7).view(1, -1).expand(2, 5000).contiguous()
    assert_close_cpu(lambda x: norch.zeros(2, 7, dtype=x.dtype, device=x.device).scatter_add(1, col.to(x.device), x),
                     [big], scale=8.0)


OPTIMS = {
    "sgd": lambda p: norch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "sgd_plain": lambda p: norch.optim.SGD(p, lr=0.1, maximize=True),
    "adam": lambda p: norch.optim.Adam(p, lr=0.01),
    "adamw": lambda p: norch.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda p: norch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "adagrad": lambda p: norch.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("opt", sorted(OPTIMS))
def test_multi_tensor_optimizer_steps_with_half_parameters(opt, name):
    shapes = [(20,), (3, 7), (70000,)]  # the last one spans several chunks of a launch
    params = _inputs(shapes, name, (-1, 1), 25)
    grads = [_inputs(shapes, name, (-1, 1), 26 + s) for s in range(3)]
    results = {}
    for device in ("cpu", "cuda"):
        ps = [norch.nn.Parameter(p.to(device)) for p in params]
        o = OPTIMS[opt](ps)
        for step in range(3):
            for p, g in zip(ps, grads[step]):
                p.grad = g.to(device)
            o.step()
        assert all(p.dtype == nd(name) and p.device.type == device for p in ps)
        results[device] = ps
    for c, g in zip(results["cpu"], results["cuda"]):
        # The same expression rounded at the same points; fused multiply-adds may differ by an ulp.
        torch.testing.assert_close(to_torch(g.detach()).double(), to_torch(c.detach()).double(),
                                   rtol=2 * rtol(name), atol=2 * rtol(name), equal_nan=True)


@cuda
def test_autocast_on_cuda_runs_float16_kernels():
    x, w = _inputs([(8, 32), (16, 32)], "float32", (-1, 1), 27)
    xc, wc = x.to("cuda"), w.to("cuda")
    with norch.autocast("cuda"):
        y = F.linear(xc, wc)
        z = xc @ wc.t()
        s = F.softmax(z, 1)
        c = F.conv2d(xc.view(1, 2, 8, 16), wc[:4, :18].reshape(4, 2, 3, 3))
    assert y.dtype == norch.float16 and z.dtype == norch.float16 and c.dtype == norch.float16
    assert s.dtype == norch.float32  # softmax runs in float32 under CUDA autocast, as in PyTorch
    want = (x.half() @ w.half().t())  # the CPU's float16 matmul of the cast inputs
    torch.testing.assert_close(to_torch(y).double(), to_torch(want).double(), rtol=4 * rtol("float16"),
                               atol=4 * rtol("float16"))
    with norch.autocast("cuda", dtype=norch.bfloat16):
        assert (xc @ wc.t()).dtype == norch.bfloat16
    # Gradients reach the float32 leaves through the float16 kernels.
    wl = wc.detach().requires_grad_(True)
    with norch.autocast("cuda"):
        loss = (xc @ wl.t()).float().pow(2).sum()
    loss.backward()
    assert wl.grad.dtype == norch.float32 and wl.grad.device.type == "cuda"


RANDOM = [
    ("rand", lambda d, n: norch.rand(3000, dtype=nd(n), device=d)),
    ("uniform_", lambda d, n: norch.empty(3000, dtype=nd(n), device=d).uniform_(-2, 1.999)),
    ("randn", lambda d, n: norch.randn(3000, dtype=nd(n), device=d)),
    ("normal_", lambda d, n: norch.empty(2000, dtype=nd(n), device=d).normal_(3.0, 0.5)),
    ("exponential_", lambda d, n: norch.empty(2000, dtype=nd(n), device=d).exponential_(1.5)),
    ("bernoulli_", lambda d, n: norch.empty(500, dtype=nd(n), device=d).bernoulli_(0.3)),
    ("randint", lambda d, n: norch.randint(-100, 100, (500,), dtype=nd(n), device=d)),
    ("dropout", lambda d, n: F.dropout(norch.ones(64, 33, dtype=nd(n), device=d), 0.4, training=True)),
]


@cuda
@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("case,fill", RANDOM, ids=[r[0] for r in RANDOM])
def test_random_fills_in_half_types_are_bit_identical_on_cpu_and_cuda(case, fill, name):
    norch.manual_seed(1234)
    cpu = fill("cpu", name)
    norch.manual_seed(1234)
    gpu = fill("cuda", name)
    assert gpu.device.type == "cuda" and gpu.dtype == cpu.dtype
    np.testing.assert_array_equal(bits(gpu), bits(cpu))


# Tensor.record_stream (Note [record_stream] in norch/tensor/caching_allocator.h).

class _NotAStream:
    pass


class _StreamLike:
    cuda_stream = 0


def test_record_stream_refuses_cpu_tensors_and_non_streams():
    with pytest.raises(NotImplementedError, match="record_stream.*'CPU' backend"):
        norch.ones(3).record_stream(_StreamLike())
    with pytest.raises(TypeError, match="record_stream\\(\\): argument 'stream' must be Stream, not _NotAStream"):
        norch.ones(3).record_stream(_NotAStream())


def _pending_bytes():
    st = norch.cuda.memory_stats()
    return st["active_bytes.all.current"] - st["allocated_bytes.all.current"]


# 12 MiB: above the allocator's 10 MiB threshold a block is a segment of exactly its
# size, so after a free the best fit for the same size is that block again.
_N = 3 << 20
_BYTES = 4 * _N


@cuda
def test_record_stream_delays_reuse_until_the_stream_has_finished():
    side = norch.cuda.Stream()
    norch.cuda.synchronize()
    norch.cuda.empty_cache()
    assert _pending_bytes() == 0
    x = norch.empty(_N, device="cuda")  # allocated on the default stream
    with norch.cuda.stream(side):
        for _ in range(20):  # work on the side stream that reads x
            y = x * 2
    x.record_stream(side)
    ptr = x.data_ptr()
    del x
    # Freed by its tensor, but held back for the side stream: active, not allocated.
    assert _pending_bytes() == _BYTES
    side.synchronize()
    w = norch.empty(_N, device="cuda")  # an allocation collects the completed event
    assert _pending_bytes() == 0
    assert w.data_ptr() == ptr  # and the block is handed out again
    del y, w


@cuda
def test_record_stream_is_not_reused_while_the_stream_runs():
    side = norch.cuda.Stream()
    norch.cuda.synchronize()
    x = norch.empty(_N, device="cuda")
    ptr = x.data_ptr()
    with norch.cuda.stream(side):  # milliseconds of queued work that reads x
        for _ in range(200):
            y = x[:1 << 20].view(1024, 1024) @ x[:1 << 20].view(1024, 1024)
    x.record_stream(side)
    del x
    z = norch.empty(_N, device="cuda")
    # If the block came back, the side stream must have finished before the allocation.
    assert z.data_ptr() != ptr or side.query()
    side.synchronize()
    del y, z


@cuda
def test_record_stream_on_the_allocation_stream_needs_nothing():
    norch.cuda.synchronize()
    norch.cuda.empty_cache()
    x = norch.empty(_N, device="cuda")
    x.record_stream(norch.cuda.current_stream())  # its own stream already orders reuse
    ptr = x.data_ptr()
    del x
    assert _pending_bytes() == 0
    assert norch.empty(_N, device="cuda").data_ptr() == ptr
    side = norch.cuda.Stream()
    a = norch.empty(_N, device="cuda")
    a.record_stream(side)
    del a
    assert _pending_bytes() == _BYTES
    norch.cuda.empty_cache()  # waits for the recorded events before releasing the cache
    assert _pending_bytes() == 0
    norch.empty(0, device="cuda").record_stream(side)  # no memory, nothing to record
