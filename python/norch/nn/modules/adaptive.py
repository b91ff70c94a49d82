"""nn.AdaptiveLogSoftmaxWithLoss (Grave et al., efficient softmax approximation): a head
over the frequent classes plus one cluster token per tail, each tail a two-layer
projection. Same parameter names and layout as PyTorch's, composed from Linear,
log_softmax, gather and index_add."""
from collections import namedtuple

import numpy as np

from ... import _C
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        fk = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **fk)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **fk),
                                        Linear(hsz, osz, bias=False, **fk)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{tuple(input_.shape)}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{tuple(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        tg = np.asarray(target.tolist(), dtype=np.int64).reshape(-1)
        batch = len(tg)
        output = _C.zeros([batch], dtype=input.dtype, device=input.device)
        gather_inds = tg.copy()
        used = 0
        bounds = [0] + self.cutoffs
        for i in range(len(bounds) - 1):
            lo, hi = bounds[i], bounds[i + 1]
            rows = np.nonzero((tg >= lo) & (tg < hi))[0]
            if rows.size == 0:
                continue
            used += rows.size
            if i == 0:
                continue
            rows_t = _C.tensor(rows.astype(np.int64), device=input.device)
            cluster_logprob = F.log_softmax(self.tail[i - 1](input.index_select(0, rows_t)), 1)
            rel = _C.tensor((tg[rows] - lo).astype(np.int64), device=input.device).unsqueeze(1)
            output = output.index_add(0, rows_t, cluster_logprob.gather(1, rel).squeeze(1))
            gather_inds[rows] = self.shortlist_size + i - 1
        if used != batch:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{tg.min()}, {tg.max()}] were found. ")
        head_logprob = F.log_softmax(self.head(input), 1)
        idx = _C.tensor(gather_inds, device=input.device).unsqueeze(1)
        output = output + head_logprob.gather(1, idx).squeeze(1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, 1)
        pieces = [head_logprob.narrow(1, 0, self.shortlist_size)]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), 1)
            pieces.append(cluster_logprob + head_logprob.narrow(1, self.shortlist_size + i, 1))
        return _C.cat(pieces, 1)

    def log_prob(self, input):
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input):
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        out = self.log_prob(x).argmax(1)
        return out if batched else out.squeeze(0)
