"""ONNX handler for the recurrent layers (nn.RNN, nn.LSTM, nn.GRU): one ONNX node per layer.

norch runs a recurrent layer as a Python loop over time steps; tracing that loop would
fix the sequence length, so ``RNNBase.forward`` is recorded whole. PyTorch's gate order
(LSTM i, f, g, o; GRU r, z, n) is reordered to ONNX's (i, o, f, c; z, r, h) with
Split/Concat nodes on the weight initializers, which keep their state_dict names.
GRU uses linear_before_reset=1, PyTorch's formula.
"""
from ._tracer import handler

_ONNX = {"LSTM": ("LSTM", [0, 3, 1, 2]), "GRU": ("GRU", [1, 0, 2]), "RNN_TANH": ("RNN", [0]),
         "RNN_RELU": ("RNN", [0])}


def _reorder(g, w, H, perm):
    if len(perm) == 1:
        return w
    parts = g.op("Split", w, g.i64([H] * len(perm)), axis=0, outputs=len(perm))
    return g.op("Concat", *[parts[p] for p in perm], axis=0)


@handler("nn.RNNBase.forward")
def _rnn(g, self, input, hx=None):
    op_type, perm = _ONNX[self.mode]
    H, L = self.hidden_size, self.num_layers
    nd = 2 if self.bidirectional else 1
    is_lstm = self.mode == "LSTM"
    batched = input.dim() == 3
    x = g.v(input)
    h0 = c0 = None
    if hx is not None:
        h0, c0 = (g.v(hx[0]), g.v(hx[1])) if is_lstm else (g.v(hx), None)
    if not batched:
        x = g.op("Unsqueeze", x, g.i64([1]))
        h0 = h0 and g.op("Unsqueeze", h0, g.i64([1]))
        c0 = c0 and g.op("Unsqueeze", c0, g.i64([1]))
    elif self.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    attrs = {"hidden_size": H, "direction": "bidirectional" if nd == 2 else "forward"}
    if op_type == "GRU":
        attrs["linear_before_reset"] = 1
    if op_type == "RNN":
        attrs["activations"] = ["Tanh" if self.mode == "RNN_TANH" else "Relu"] * nd
    hs, cs = [], []
    for layer in range(L):
        Ws, Rs, Bs = [], [], []
        for d in range(nd):
            w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, d)
            Ws.append(g.op("Unsqueeze", _reorder(g, g.v(w_ih), H, perm), g.i64([0])))
            Rs.append(g.op("Unsqueeze", _reorder(g, g.v(w_hh), H, perm), g.i64([0])))
            if b_ih is not None:
                b = g.op("Concat", _reorder(g, g.v(b_ih), H, perm), _reorder(g, g.v(b_hh), H, perm), axis=0)
                Bs.append(g.op("Unsqueeze", b, g.i64([0])))

        def join(parts):
            return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0)
        lo, hi = g.i64([layer * nd]), g.i64([(layer + 1) * nd])
        ih = g.op("Slice", h0, lo, hi, g.i64([0])) if h0 else None
        ins = [x, join(Ws), join(Rs), join(Bs) if Bs else None, None, ih]
        if is_lstm:
            ins.append(g.op("Slice", c0, lo, hi, g.i64([0])) if c0 else None)
        outs = g.op(op_type, *ins, outputs=3 if is_lstm else 2, **attrs)
        # Y (seq, nd, batch, H) -> (seq, batch, nd * H)
        y = g.op("Transpose", outs[0], perm=[0, 2, 1, 3])
        x = g.op("Reshape", y, g.i64([0, 0, -1]))
        hs.append(outs[1])
        if is_lstm:
            cs.append(outs[2])
    h_n = hs[0] if L == 1 else g.op("Concat", *hs, axis=0)
    c_n = (cs[0] if L == 1 else g.op("Concat", *cs, axis=0)) if is_lstm else None
    out = x
    if not batched:
        out = g.op("Squeeze", out, g.i64([1]))
        h_n = g.op("Squeeze", h_n, g.i64([1]))
        c_n = c_n and g.op("Squeeze", c_n, g.i64([1]))
    elif self.batch_first:
        out = g.op("Transpose", out, perm=[1, 0, 2])
    return [out, h_n, c_n] if is_lstm else [out, h_n]
