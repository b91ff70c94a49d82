"""norch.autocast against torch.autocast("cpu"): which ops run in the low dtype and
which in float32 (PyTorch's op lists, read off torch on the same calls), values and
gradients, nesting, the decorator form, the weight cache, thread locality, and
the misuse PyTorch warns about or refuses."""
import threading
import warnings

import numpy as np
import pytest
import torch

import norch
import norch.nn.functional as F


def _lib_f(lib):
    return lib.nn.functional


def _r(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype("float32")


# name -> fn(lib, make) where make(*shape) gives a tensor of the case's input dtype.
OPS = {
    "mm": lambda L, m: L.mm(m(3, 4), m(4, 5)),
    "bmm": lambda L, m: L.bmm(m(2, 3, 4), m(2, 4, 5)),
    "matmul": lambda L, m: m(3, 4) @ m(4, 5),
    "matmul_batched": lambda L, m: L.matmul(m(2, 3, 4), m(4, 5)),
    "addmm": lambda L, m: L.addmm(m(5), m(3, 4), m(4, 5)),
    "baddbmm": lambda L, m: L.baddbmm(m(2, 3, 5), m(2, 3, 4), m(2, 4, 5)),
    "addbmm": lambda L, m: L.addbmm(m(3, 5), m(2, 3, 4), m(2, 4, 5)),
    "linear": lambda L, m: _lib_f(L).linear(m(3, 4), m(5, 4), m(5)),
    "linear_3d": lambda L, m: _lib_f(L).linear(m(2, 3, 4), m(5, 4), m(5)),
    "conv1d": lambda L, m: _lib_f(L).conv1d(m(1, 2, 8), m(3, 2, 3), m(3)),
    "conv2d": lambda L, m: _lib_f(L).conv2d(m(1, 2, 6, 6), m(3, 2, 3, 3), m(3)),
    "conv_transpose2d": lambda L, m: _lib_f(L).conv_transpose2d(m(1, 2, 4, 4), m(2, 3, 3, 3)),
    "prelu": lambda L, m: _lib_f(L).prelu(m(2, 3), m(1)),
    "sdpa": lambda L, m: _lib_f(L).scaled_dot_product_attention(m(1, 2, 3, 4), m(1, 2, 3, 4), m(1, 2, 3, 4)),
    "softmax": lambda L, m: _lib_f(L).softmax(m(2, 3), 1),
    "log_softmax": lambda L, m: _lib_f(L).log_softmax(m(2, 3), 1),
    "layer_norm": lambda L, m: _lib_f(L).layer_norm(m(2, 3), (3,)),
    "group_norm": lambda L, m: _lib_f(L).group_norm(m(2, 4, 3), 2),
    "mse_loss": lambda L, m: _lib_f(L).mse_loss(m(2, 3), m(2, 3)),
    "l1_loss": lambda L, m: _lib_f(L).l1_loss(m(2, 3), m(2, 3)),
    "smooth_l1_loss": lambda L, m: _lib_f(L).smooth_l1_loss(m(2, 3), m(2, 3)),
    "huber_loss": lambda L, m: _lib_f(L).huber_loss(m(2, 3), m(2, 3)),
    "cross_entropy": lambda L, m: _lib_f(L).cross_entropy(m(2, 3), L.tensor([0, 2])),
    "nll_loss": lambda L, m: _lib_f(L).nll_loss(m(2, 3), L.tensor([0, 2])),
    "bce": lambda L, m: _lib_f(L).binary_cross_entropy(m(2, 3).sigmoid(), m(2, 3).sigmoid()),
    "bce_logits": lambda L, m: _lib_f(L).binary_cross_entropy_with_logits(m(2, 3), m(2, 3)),
    "kl_div": lambda L, m: _lib_f(L).kl_div(m(2, 3), m(2, 3).softmax(1), reduction="batchmean"),
    "prod": lambda L, m: m(2, 3).prod(),
    "cdist": lambda L, m: L.cdist(m(2, 3), m(4, 3)),
    "pad_reflect": lambda L, m: _lib_f(L).pad(m(1, 2, 4), (1, 1), mode="reflect"),
    "pad_replicate": lambda L, m: _lib_f(L).pad(m(1, 2, 4), (1, 1), mode="replicate"),
    "pad_constant": lambda L, m: _lib_f(L).pad(m(1, 2, 4), (1, 1)),
    "multi_margin": lambda L, m: _lib_f(L).multi_margin_loss(m(2, 3), L.tensor([0, 2])),
    "soft_margin": lambda L, m: _lib_f(L).soft_margin_loss(m(2, 3), m(2, 3)),
    "margin_ranking": lambda L, m: _lib_f(L).margin_ranking_loss(m(3), m(3), m(3).sign()),
    "hinge": lambda L, m: _lib_f(L).hinge_embedding_loss(m(3), m(3).sign()),
    "poisson_nll": lambda L, m: _lib_f(L).poisson_nll_loss(m(3), m(3)),
    "cosine_embedding": lambda L, m: _lib_f(L).cosine_embedding_loss(m(2, 3), m(2, 3), L.tensor([1, -1])),
    "triplet": lambda L, m: _lib_f(L).triplet_margin_loss(m(2, 3), m(2, 3), m(2, 3)),
    "multilabel_margin": lambda L, m: _lib_f(L).multilabel_margin_loss(m(2, 3), L.tensor([[0, 1, -1], [2, -1, 0]])),
    "sum": lambda L, m: m(2, 3).sum(),
    "exp": lambda L, m: m(2, 3).exp(),
    "relu": lambda L, m: _lib_f(L).relu(m(2, 3)),
    "gelu": lambda L, m: _lib_f(L).gelu(m(2, 3)),
    "embedding": lambda L, m: _lib_f(L).embedding(L.tensor([0, 1]), m(3, 4)),
    "max_pool2d": lambda L, m: _lib_f(L).max_pool2d(m(1, 1, 4, 4), 2),
    "add_mixed": lambda L, m: m(2, 3) + L.ones(2, 3),
    "cat_mixed": lambda L, m: L.cat([m(2, 3), L.ones(2, 3)]),
}


def _maker(lib, dtype_name, seed=0):
    dtype = getattr(lib, dtype_name)
    counter = [seed]

    def make(*shape):
        counter[0] += 1
        return lib.tensor(_r(*shape, seed=counter[0])).to(dtype)
    return make


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
@pytest.mark.parametrize("input_dtype", ["float32", "low"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_output_dtype_matches_torch(name, input_dtype, low):
    fn = OPS[name]
    in_name = low if input_dtype == "low" else input_dtype
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        expected = fn(torch, _maker(torch, in_name))
    with norch.autocast("cpu", dtype=getattr(norch, low)):
        got = fn(norch, _maker(norch, in_name))
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], name
    np.testing.assert_allclose(got.float().detach().numpy(), expected.float().detach().numpy(),
                               rtol=3e-2, atol=3e-2)


def test_values_are_the_low_dtype_op_on_cast_inputs():
    a, b = norch.tensor(_r(8, 16)), norch.tensor(_r(16, 4))
    with norch.autocast("cpu", dtype=norch.bfloat16):
        got = a @ b
    expected = a.bfloat16() @ b.bfloat16()
    assert got.dtype == norch.bfloat16 and norch.equal(got, expected)


def test_float64_and_integer_inputs_are_never_cast():
    a = norch.tensor(_r(3, 4)).double()
    i = norch.arange(12).reshape(3, 4)
    with norch.autocast("cpu"):
        assert (a @ a.T).dtype == norch.float64
        assert (i @ i.T).dtype == norch.int64


def test_gradients_flow_to_float32_weights_and_match_torch():
    w, x = _r(5, 4), _r(3, 4)
    grads = []
    for lib in (norch, torch):
        weight = lib.tensor(w, requires_grad=True)
        inp = lib.tensor(x, requires_grad=True)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = lib.nn.functional.linear(inp, weight).relu()
            loss = lib.nn.functional.mse_loss(out, lib.zeros(3, 5))
        assert out.dtype == lib.bfloat16 and loss.dtype == lib.float32
        loss.backward()
        assert weight.grad.dtype == lib.float32 and inp.grad.dtype == lib.float32
        grads.append((weight.grad.numpy(), inp.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-3)


def test_backward_inside_the_region_matches_torch():
    w = _r(4, 4)
    res = []
    for lib in (norch, torch):
        weight = lib.tensor(w, requires_grad=True)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            y = (lib.tensor(w) @ weight @ weight).float().sum()
            y.backward()
        res.append(weight.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=2e-2, atol=2e-2)


def test_nesting_decorator_and_state_restore():
    assert not norch.is_autocast_enabled("cpu")
    assert norch.get_autocast_dtype("cpu") == norch.bfloat16
    a = norch.ones(2, 2)
    with norch.autocast("cpu", dtype=norch.float16):
        assert norch.is_autocast_enabled("cpu") and norch.get_autocast_dtype("cpu") == norch.float16
        assert (a @ a).dtype == norch.float16
        with norch.autocast("cpu", enabled=False):
            assert not norch.is_autocast_enabled("cpu")
            assert (a @ a).dtype == norch.float32
        assert (a @ a).dtype == norch.float16
    assert not norch.is_autocast_enabled("cpu") and norch.get_autocast_dtype("cpu") == norch.bfloat16

    @norch.autocast("cpu")
    def f(x):
        return x @ x
    assert f(a).dtype == norch.bfloat16
    assert (a @ a).dtype == norch.float32

    with pytest.raises(KeyError):
        with norch.autocast("cpu"):
            raise KeyError("boom")
    assert not norch.is_autocast_enabled("cpu")


def test_weight_cast_is_cached_within_a_region_and_dropped_after():
    w = norch.ones(3, 3, requires_grad=True)
    cast = norch._C._autocast.cast
    with norch.autocast("cpu"):
        c1, c2 = cast(w, "lower"), cast(w, "lower")
        assert c1.data_ptr() == c2.data_ptr()
        x = norch.ones(3, 3)  # not a leaf that requires grad: cast afresh each time
        assert cast(x, "lower").data_ptr() != cast(x, "lower").data_ptr()
    with norch.autocast("cpu"):
        assert cast(w, "lower").data_ptr() != c1.data_ptr()
    with norch.autocast("cpu", cache_enabled=False):
        assert cast(w, "lower").data_ptr() != cast(w, "lower").data_ptr()


def test_autocast_is_per_thread():
    seen = {}

    def other():
        seen["enabled"] = norch.is_autocast_enabled("cpu")
        seen["dtype"] = (norch.ones(2, 2) @ norch.ones(2, 2)).dtype

    with norch.autocast("cpu"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"enabled": False, "dtype": norch.float32}


def test_misuse_warns_or_raises_like_torch():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with norch.autocast("cpu", dtype=norch.float64):
            assert not norch.is_autocast_enabled("cpu")
    assert any("CPU Autocast only supports" in str(x.message) for x in w)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        norch.autocast("tpu")
    with pytest.raises(ValueError, match="device_type"):
        norch.autocast(0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ctx = norch.autocast("cuda")
    assert ctx._enabled == norch.cuda.is_available()
    assert any("CUDA is not available" in str(x.message) for x in w) == (not norch.cuda.is_available())
    assert norch.amp.is_autocast_available("cpu") and not norch.amp.is_autocast_available("tpu")


def test_legacy_spellings_warn_and_work():
    with pytest.warns(FutureWarning, match="norch.cpu.amp.autocast"):
        ctx = norch.cpu.amp.autocast()
    with ctx:
        assert (norch.ones(2, 2) @ norch.ones(2, 2)).dtype == norch.bfloat16
    with pytest.warns(FutureWarning):
        norch.cuda.amp.GradScaler(enabled=False)


def test_custom_fwd_casts_inputs_and_custom_bwd_replays_the_state():
    seen = {}

    class Square(norch.autograd.Function):
        @staticmethod
        @norch.amp.custom_fwd(device_type="cpu", cast_inputs=norch.float32)
        def forward(ctx, x):
            seen["fwd_dtype"] = x.dtype
            seen["fwd_autocast"] = norch.is_autocast_enabled("cpu")
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @norch.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd_autocast"] = norch.is_autocast_enabled("cpu")
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = norch.tensor([1.0, 2.0]).bfloat16().requires_grad_()
    with norch.autocast("cpu"):
        y = Square.apply(x)
    y.float().sum().backward()
    assert seen == {"fwd_dtype": norch.float32, "fwd_autocast": False, "bwd_autocast": False}
    assert x.grad.dtype == norch.bfloat16 and x.grad.float().tolist() == [2.0, 4.0]


def _train(lib, steps, dtype_name, scaler_cls=None):  # 64 samples, 5 classes: the net memorises them
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((64, 20)).astype("float32"))
    y = lib.tensor(rng.integers(0, 5, 64))
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 5))
    net = lib.nn.Sequential(lib.nn.Linear(20, 32), lib.nn.ReLU(), lib.nn.Linear(32, 5))
    with lib.no_grad():
        for p, q in zip(net.parameters(), ref.parameters()):
            p.copy_(lib.tensor(q.detach().numpy()))
    opt = lib.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    scaler = scaler_cls("cpu", init_scale=1024.0) if scaler_cls else None
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        with lib.autocast("cpu", dtype=getattr(lib, dtype_name)):
            loss = lib.nn.functional.cross_entropy(net(x), y)
        assert loss.dtype == lib.float32
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        losses.append(loss.item())
    return losses


def test_bfloat16_autocast_training_tracks_torch():
    ours, theirs = _train(norch, 30, "bfloat16"), _train(torch, 30, "bfloat16")
    assert ours[-1] < 0.75 * ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=3e-2, atol=3e-2)


def test_float16_autocast_with_grad_scaler_tracks_torch():
    ours = _train(norch, 30, "float16", norch.amp.GradScaler)
    theirs = _train(torch, 30, "float16", torch.amp.GradScaler)
    assert ours[-1] < 0.75 * ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=3e-2, atol=3e-2)
