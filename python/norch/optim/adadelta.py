"""Adadelta: per-coordinate step sizes from running averages of squared gradients and squared
updates (torch.optim.Adadelta). ``foreach``, ``capturable`` and ``differentiable`` are accepted for
PyTorch compatibility; norch always runs this plain loop and ignores them."""
from ..autograd import no_grad
from .optimizer import Optimizer, _check_lr, _check_non_negative, _decayed_grad, _lazy_state, _to_scalar


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        lr, rho, eps, wd = _to_scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
        for p, g in zip(params, grads):
            state = _lazy_state(self, p, "square_avg", "acc_delta")
            state["step"] += 1
            g = _decayed_grad(group, p, g, wd)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).add_(g * g, alpha=1 - rho)
            std = square_avg.add(eps).sqrt_()
            delta = acc_delta.add(eps).sqrt_().div_(std).mul_(g)
            acc_delta.mul_(rho).add_(delta * delta, alpha=1 - rho)
            p.add_(delta, alpha=-lr)
