"""Adamax: Adam with the infinity norm in place of the second moment (torch.optim.Adamax).
``foreach``, ``capturable`` and ``differentiable`` are accepted for PyTorch compatibility; norch
always runs this plain loop and ignores them."""
from ..autograd import no_grad
from .optimizer import Optimizer, _check_adam_args, _decayed_grad, _lazy_state, _step_value, _to_scalar


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        for p, g in zip(params, grads):
            state = _lazy_state(self, p, "exp_avg", "exp_inf")
            state["step"] += 1
            g = _decayed_grad(group, p, g, wd)
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.mul_(beta1).add_(g, alpha=1 - beta1)
            exp_inf.mul_(beta2).maximum_(g.abs().add_(eps))
            clr = lr / (1 - beta1 ** _step_value(state))
            p.add_(exp_avg / exp_inf, alpha=-clr)
