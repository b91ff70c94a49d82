"""nn.functional.multi_head_attention_forward against PyTorch's: packed and separate
projection weights, bias_k/bias_v, add_zero_attn, bool and float masks, need_weights
with and without head averaging, batch-less input; values and gradients."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn.functional as F
from _nn_family_util import close, randn

E, H, L, S, N = 8, 2, 4, 5, 3


def _call(lib, fn, arrays, flags, masks):
    t = {k: lib.tensor(v, requires_grad=True) if v.dtype.kind == "f" else lib.tensor(v) for k, v in arrays.items()}
    m = {k: lib.tensor(v) for k, v in masks.items()}
    out, w = fn(t["q"], t["k"], t["v"], E, H, t.get("in_w"), t.get("in_b"), t.get("bias_k"), t.get("bias_v"),
                flags["zero"], 0.0, t["out_w"], t["out_b"], training=True, need_weights=flags["need"],
                average_attn_weights=flags["avg"], use_separate_proj_weight=flags["sep"],
                q_proj_weight=t.get("qw"), k_proj_weight=t.get("kw"), v_proj_weight=t.get("vw"), **m)
    return out, w, t


@pytest.mark.parametrize("need,avg", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("sep,bias_kv,zero", [(False, False, False), (True, True, False), (False, True, True)])
@pytest.mark.parametrize("masks", ["none", "bool", "float"])
@pytest.mark.parametrize("batched", [True, False])
def test_matches_torch(need, avg, sep, bias_kv, zero, masks, batched):
    arrays = {"q": randn(L, N, E), "k": randn(S, N, E), "v": randn(S, N, E),
              "out_w": randn(E, E) * 0.3, "out_b": randn(E)}
    if not batched:
        for k in ("q", "k", "v"):
            arrays[k] = arrays[k][:, 0].copy()
    if sep:
        arrays.update(qw=randn(E, E) * 0.3, kw=randn(E, E) * 0.3, vw=randn(E, E) * 0.3, in_b=randn(3 * E))
    else:
        arrays.update(in_w=randn(3 * E, E) * 0.3, in_b=randn(3 * E))
    if bias_kv:
        arrays.update(bias_k=randn(1, 1, E), bias_v=randn(1, 1, E))
    m = {}
    if masks == "bool":
        m["attn_mask"] = np.triu(np.ones((L, S), dtype=bool), 2)
        kpm = np.zeros((N, S), dtype=bool) if batched else np.zeros(S, dtype=bool)
        kpm[..., -1] = True
        m["key_padding_mask"] = kpm
    elif masks == "float":
        m["attn_mask"] = randn(N * H, L, S) if batched else randn(L, S)
    flags = {"need": need, "avg": avg, "sep": sep, "zero": zero}
    on, wn, tn = _call(norch, F.multi_head_attention_forward, arrays, flags, m)
    ot, wt, tt = _call(torch, TF.multi_head_attention_forward, arrays, flags, m)
    close(on, ot, atol=1e-6)
    if need:
        close(wn, wt, atol=1e-6)
    else:
        assert wn is None and wt is None
    g = randn(*ot.shape)
    on.backward(norch.tensor(g))
    ot.backward(torch.tensor(g))
    for k in tn:
        if tt[k].requires_grad:
            close(tn[k].grad, tt[k].grad, atol=1e-6)


def test_errors():
    q = norch.randn(L, N, E)
    w = norch.randn(3 * E, E)
    with pytest.raises(AssertionError, match="was expecting embedding dimension"):
        F.multi_head_attention_forward(q, q, q, E + 1, H, w, None, None, None, False, 0.0, norch.randn(E, E), None)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        F.multi_head_attention_forward(q, q, q, E, H, w, None, None, None, False, 0.0, norch.randn(E, E), None,
                                       is_causal=True)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        F.multi_head_attention_forward(q, q, q, E, H, w, None, None, None, False, 0.0, norch.randn(E, E), None,
                                       attn_mask=norch.zeros(L, L + 1))
