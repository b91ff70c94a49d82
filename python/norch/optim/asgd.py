"""ASGD: averaged stochastic gradient descent (torch.optim.ASGD). The running average of the iterates
lives in ``state["ax"]``; ``eta`` and ``mu`` are kept as scalar tensors like PyTorch's, so their
rounding matches. ``foreach``, ``capturable`` and ``differentiable`` are accepted for PyTorch
compatibility; norch always runs this plain loop and ignores them."""
from .. import _C
from ..autograd import no_grad
from .optimizer import Optimizer, _check_lr, _check_non_negative, _decayed_grad, _lazy_state, _step_value, _to_scalar


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_non_negative(weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        lr, lambd, alpha, t0 = _to_scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        wd = group["weight_decay"]
        for p, g in zip(params, grads):
            state = _lazy_state(self, p, "ax", eta=lr, mu=1.0)
            state["step"] += 1
            step = _step_value(state)
            g = _decayed_grad(group, p, g, wd)
            eta, mu, ax = state["eta"].item(), state["mu"].item(), state["ax"]
            p.mul_(1 - lambd * eta)
            p.add_(g, alpha=-eta)
            if mu != 1:
                ax.add_(p.sub(ax).mul_(mu))
            else:
                ax.copy_(p)
            # The new values pass through a default-dtype tensor first, as PyTorch's torch.as_tensor does;
            # that rounding shows once a loaded state dict has made eta and mu float64.
            state["eta"].copy_(_C.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
            state["mu"].copy_(_C.tensor(1 / max(1, step - t0)))
