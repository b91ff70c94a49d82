"""nn.MultiheadAttention on top of matmul and softmax, with PyTorch's parameters
(in_proj_weight / q,k,v_proj_weight, in_proj_bias, out_proj) and mask rules."""

from .... import _C
from ... import functional as F
from ... import init
from ...parameter import Parameter
from ..linear import NonDynamicallyQuantizableLinear
from ..module import Module
from ..._functional.activation import _attention

__all__ = ["MultiheadAttention"]


def _additive_mask(mask, dtype, name):
    # Boolean masks mark the positions NOT allowed to attend (True -> -inf);
    # float masks are added to the scores as they are.
    if mask is None:
        return None
    if mask.dtype == _C.bool:
        zeros = _C.zeros(list(mask.shape), dtype=dtype, device=mask.device)
        return _C.where(mask, float("-inf"), zeros)
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask.to(dtype)


def _attention_mask(attn_mask, key_padding_mask, dtype, N, H, L, S, extra_keys):
    """attn_mask (L, S) or (N*H, L, S) and key_padding_mask (N, S), checked and merged into one
    additive mask that broadcasts to the scores (N, H, L, S + extra_keys); None if neither."""
    mask = _additive_mask(attn_mask, dtype, "attn_mask")
    if mask is not None:
        if mask.dim() == 2:
            if tuple(mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but should be "
                                   f"{(L, S)}.")
        elif mask.dim() == 3:
            if tuple(mask.shape) != (N * H, L, S):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but should be "
                                   f"{(N * H, L, S)}.")
            mask = mask.reshape(N, H, L, S)
        else:
            raise RuntimeError(f"attn_mask's dimension {mask.dim()} is not supported")
    kpm = _additive_mask(key_padding_mask, dtype, "key_padding_mask")
    if kpm is not None:
        if tuple(kpm.shape) != (N, S):
            raise AssertionError(f"expecting key_padding_mask shape of {(N, S)}, but got {tuple(kpm.shape)}")
        kpm = kpm.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    if mask is not None and extra_keys:
        # The appended keys are visible to every query: pad with zeros.
        pad = _C.zeros([*mask.shape[:-1], extra_keys], dtype=mask.dtype, device=mask.device)
        mask = _C.cat([mask, pad], -1)
    return mask


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        fk = {"device": device, "dtype": dtype}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(_C.empty([3 * embed_dim, embed_dim], **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(_C.empty([embed_dim, embed_dim], **fk))
            self.k_proj_weight = Parameter(_C.empty([embed_dim, self.kdim], **fk))
            self.v_proj_weight = Parameter(_C.empty([embed_dim, self.vdim], **fk))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_C.empty([3 * embed_dim], **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(_C.empty([1, 1, embed_dim], **fk))
            self.bias_v = Parameter(_C.empty([1, 1, embed_dim], **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b.narrow(0, 0, E), b.narrow(0, E, E),
                                                            b.narrow(0, 2 * E, E))
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w.narrow(0, 0, E), w.narrow(0, E, E), w.narrow(0, 2 * E, E)
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if query.dim() not in (2, 3):
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D")
        batched = query.dim() == 3
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        # now (L, N, E), (S, N, kdim), (S, N, vdim)
        L, N, E = query.shape
        S = key.shape[0]
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {E}")
        H, hd = self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")

        q, k, v = self._projections(query, key, value)
        extra_keys = 0
        if self.bias_k is not None:  # one learned key/value appended to every sequence
            k = _C.cat([k, self.bias_k.expand(1, N, E)], 0)
            v = _C.cat([v, self.bias_v.expand(1, N, E)], 0)
            extra_keys += 1
        # (L, N, E) -> (N, H, L, hd)
        q = q.reshape(L, N, H, hd).permute(1, 2, 0, 3)
        k = k.reshape(S + extra_keys, N, H, hd).permute(1, 2, 0, 3)
        v = v.reshape(S + extra_keys, N, H, hd).permute(1, 2, 0, 3)
        if self.add_zero_attn:  # one all-zero key/value appended after that
            zeros = _C.zeros([N, H, 1, hd], dtype=k.dtype, device=k.device)
            k = _C.cat([k, zeros], 2)
            v = _C.cat([v, zeros], 2)
            extra_keys += 1

        mask = _attention_mask(attn_mask, key_padding_mask, q.dtype, N, H, L, S, extra_keys)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = _attention(q, k, v, mask, dropout_p)
        if not need_weights:
            weights = None
        # (N, H, L, hd) -> (L, N, E)
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out = out.squeeze(1)
            if weights is not None:
                weights = weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights
