"""nn layers: RNN, LSTM, GRU and their single-step cells, composed from norch ops.

The input projection of a whole sequence is one matmul per layer and direction;
only the hidden-to-hidden product runs per time step. Gate layouts and parameter
names are PyTorch's (LSTM: i, f, g, o; GRU: r, z, n), so state_dicts interchange.
"""
import math
import warnings

from ... import _C
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_step(gi, h, w_hh, b_hh, mode):
    gates = gi + F.linear(h, w_hh, b_hh)
    return _C.tanh(gates) if mode == "RNN_TANH" else _C.relu(gates)


def _lstm_step(gi, h, c, w_hh, b_hh):
    gates = gi + F.linear(h, w_hh, b_hh)
    hs = h.shape[-1]
    i = _C.sigmoid(gates.narrow(-1, 0, hs))
    f = _C.sigmoid(gates.narrow(-1, hs, hs))
    g = _C.tanh(gates.narrow(-1, 2 * hs, hs))
    o = _C.sigmoid(gates.narrow(-1, 3 * hs, hs))
    c = f * c + i * g
    return o * _C.tanh(c), c


def _gru_step(gi, h, w_hh, b_hh):
    gh = F.linear(h, w_hh, b_hh)
    hs = h.shape[-1]
    r = _C.sigmoid(gi.narrow(-1, 0, hs) + gh.narrow(-1, 0, hs))
    z = _C.sigmoid(gi.narrow(-1, hs, hs) + gh.narrow(-1, hs, hs))
    n = _C.tanh(gi.narrow(-1, 2 * hs, hs) + r * gh.narrow(-1, 2 * hs, hs))
    return (h - n) * z + n  # == (1 - z) * n + z * h


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(input_size, int) or input_size <= 0:
            raise ValueError("input_size must be a positive integer")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be a positive integer")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be a positive integer")
        if proj_size != 0:
            raise ValueError("proj_size is not supported by norch's LSTM")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", [gate_size, layer_input]), ("weight_hh", [gate_size, hidden_size])]
                if bias:
                    shapes += [("bias_ih", [gate_size]), ("bias_hh", [gate_size])]
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_C.empty(shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in self._flat_weights_names[i:i + (4 if self.bias else 2)]]
                for i in range(0, len(self._flat_weights_names), 4 if self.bias else 2)]

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"))

    def _run_direction(self, x, h, c, params, reverse):
        # x (L, N, in), h/c (N, H) -> outputs (L, N, H), final h, final c
        w_ih, w_hh, b_ih, b_hh = params
        gi_all = F.linear(x, w_ih, b_ih)
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outs = []
        for t in steps:
            gi = gi_all.select(0, t)
            if self.mode == "LSTM":
                h, c = _lstm_step(gi, h, c, w_hh, b_hh)
            elif self.mode == "GRU":
                h = _gru_step(gi, h, w_hh, b_hh)
            else:
                h = _rnn_step(gi, h, w_hh, b_hh, self.mode)
            outs.append(h)
        if reverse:
            outs.reverse()
        return _C.stack(outs, 0), h, c

    def _step(self, gi, h, c, w_hh, b_hh):
        if self.mode == "LSTM":
            return _lstm_step(gi, h, c, w_hh, b_hh)
        if self.mode == "GRU":
            return _gru_step(gi, h, w_hh, b_hh), None
        return _rnn_step(gi, h, w_hh, b_hh, self.mode), None

    def _run_packed_direction(self, data, batch_sizes, h, c, params, reverse):
        # data (sum(batch_sizes), in) time-major and sorted by decreasing length; h/c (B, H).
        # At step t only the first batch_sizes[t] sequences run; the others keep their state,
        # so each sequence's final state is the one after its own last step. Run backwards, a
        # sequence joins at its own last step with its initial state, still untouched in h.
        w_ih, w_hh, b_ih, b_hh = params
        gi_all = F.linear(data, w_ih, b_ih)
        offsets = [0]
        for bs in batch_sizes:
            offsets.append(offsets[-1] + bs)
        batch = h.shape[0]
        steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        outs = []
        for t in steps:
            bs = batch_sizes[t]
            gi = gi_all.narrow(0, offsets[t], bs)
            h_new, c_new = self._step(gi, h.narrow(0, 0, bs), None if c is None else c.narrow(0, 0, bs),
                                      w_hh, b_hh)
            outs.append(h_new)
            if bs < batch:
                h = _C.cat([h_new, h.narrow(0, bs, batch - bs)], 0)
                c = None if c is None else _C.cat([c_new, c.narrow(0, bs, batch - bs)], 0)
            else:
                h, c = h_new, c_new
        if reverse:
            outs.reverse()
        return _C.cat(outs, 0), h, c

    def _forward_packed(self, packed, hx):
        is_lstm = self.mode == "LSTM"
        data = packed.data
        if data.dim() != 2:
            raise ValueError(f"{type(self).__name__}: Expected packed input data to be 2D, got {data.dim()}D "
                             "instead")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]}")
        batch_sizes = [int(b) for b in packed.batch_sizes.tolist()]
        num_directions = 2 if self.bidirectional else 1
        batch = batch_sizes[0]
        state_shape = (self.num_layers * num_directions, batch, self.hidden_size)
        if hx is None:
            h0 = _C.zeros(list(state_shape), dtype=data.dtype, device=data.device)
            c0 = h0 if is_lstm else None
        else:
            # the states come in the caller's batch order; the recurrence runs in sorted order
            if is_lstm:
                h0, c0 = hx
                self._check_hidden(h0, state_shape, "hidden[0]")
                self._check_hidden(c0, state_shape, "hidden[1]")
            else:
                h0, c0 = hx, None
                self._check_hidden(h0, state_shape, "hidden")
            if packed.sorted_indices is not None:
                h0 = h0.index_select(1, packed.sorted_indices)
                c0 = c0.index_select(1, packed.sorted_indices) if is_lstm else None
        layer_input = data
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            dir_outputs = []
            for direction in range(num_directions):
                idx = layer * num_directions + direction
                out, h, c = self._run_packed_direction(layer_input, batch_sizes, h0.select(0, idx),
                                                       c0.select(0, idx) if is_lstm else None,
                                                       self._layer_params(layer, direction), direction == 1)
                dir_outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = dir_outputs[0] if num_directions == 1 else _C.cat(dir_outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = _C.stack(h_n, 0)
        c_n = _C.stack(c_n, 0) if is_lstm else None
        if packed.unsorted_indices is not None:
            h_n = h_n.index_select(1, packed.unsorted_indices)
            c_n = c_n.index_select(1, packed.unsorted_indices) if is_lstm else None
        output = PackedSequence(layer_input, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)

    def _check_hidden(self, hx, expected, what):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(f"Expected {what} size {tuple(expected)}, got {tuple(hx.shape)}")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        is_lstm = self.mode == "LSTM"
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if is_lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")
        num_directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        state_shape = (self.num_layers * num_directions, batch, self.hidden_size)
        if hx is None:
            h0 = _C.zeros(list(state_shape), dtype=input.dtype, device=input.device)
            c0 = h0 if is_lstm else None
        elif is_lstm:
            h0, c0 = hx
            self._check_hidden(h0, state_shape, "hidden[0]")
            self._check_hidden(c0, state_shape, "hidden[1]")
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, state_shape, "hidden")

        layer_input = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            dir_outputs = []
            for direction in range(num_directions):
                idx = layer * num_directions + direction
                out, h, c = self._run_direction(layer_input, h0.select(0, idx),
                                                c0.select(0, idx) if is_lstm else None,
                                                self._layer_params(layer, direction), direction == 1)
                dir_outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = dir_outputs[0] if num_directions == 1 else _C.cat(dir_outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = _C.stack(h_n, 0)
        c_n = _C.stack(c_n, 0) if is_lstm else None
        if not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)

    def flatten_parameters(self):
        """A no-op, kept so PyTorch code runs unchanged. PyTorch packs the weights into one
        contiguous buffer for cuDNN and does nothing on CPU; norch has no cuDNN path,
        its per-layer weights are used as they are, so there is nothing to pack."""

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


class RNN(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_C.empty([num_chunks * hidden_size, input_size], device=device, dtype=dtype))
        self.weight_hh = Parameter(_C.empty([num_chunks * hidden_size, hidden_size], device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_C.empty([num_chunks * hidden_size], device=device, dtype=dtype))
            self.bias_hh = Parameter(_C.empty([num_chunks * hidden_size], device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, hx):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = _C.zeros([input.shape[0], self.hidden_size], dtype=input.dtype, device=input.device)
        elif not batched:
            hx = hx.unsqueeze(0)
        return input, hx, batched

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.bias is not True:
            s += ", bias={bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hx, batched = self._prepare(input, hx)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h = _rnn_step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh, mode)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            input, h, batched = self._prepare(input, None)
            c = h
        else:
            batched = input.dim() == 2
            _, h, _ = self._prepare(input, hx[0])
            input, c, _ = self._prepare(input, hx[1])
        h, c = _lstm_step(F.linear(input, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, hx, batched = self._prepare(input, hx)
        h = _gru_step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


_RNNCellBase = RNNCellBase  # the name this file used before RNNCellBase was public
