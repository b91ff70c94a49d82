"""RAdam: Adam with a rectified adaptive learning rate that falls back to momentum SGD while the
variance estimate is unreliable (torch.optim.RAdam), optionally with decoupled weight decay.
``foreach``, ``capturable`` and ``differentiable`` are accepted for PyTorch compatibility; norch
always runs this plain loop and ignores them."""
from ..autograd import no_grad
from .optimizer import Optimizer, _check_adam_args, _decayed_grad, _lazy_state, _step_value, _to_scalar


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        for p, g in zip(params, grads):
            state = _lazy_state(self, p, "exp_avg", "exp_avg_sq")
            state["step"] += 1
            step = _step_value(state)
            g = _decayed_grad(group, p, g, wd, lr, group["decoupled_weight_decay"])
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.mul_(beta1).add_(g, alpha=1 - beta1)
            exp_avg_sq.mul_(beta2).add_(g * g, alpha=1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            bias_corrected_exp_avg = exp_avg / bias_correction1
            # rho_t: the length of the approximated simple moving average; above 5 the variance is
            # tractable and the adaptive step is used, rescaled by the rectification term.
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
                p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
            else:
                p.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
