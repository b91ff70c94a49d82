"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (torch.optim.NAdam), optionally
with decoupled (AdamW-style) weight decay. ``foreach``, ``capturable`` and ``differentiable`` are
accepted for PyTorch compatibility; norch always runs this plain loop and ignores them."""
from ..autograd import no_grad
from .optimizer import Optimizer, _check_adam_args, _check_non_negative, _decayed_grad, _lazy_state, _step_value, \
    _to_scalar


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_non_negative(momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        momentum_decay = group["momentum_decay"]
        for p, g in zip(params, grads):
            # mu_product: the running product of the momentum coefficients; a scalar tensor like
            # PyTorch's, so it rounds the same way.
            state = _lazy_state(self, p, "exp_avg", "exp_avg_sq", mu_product=1.0)
            state["step"] += 1
            step = _step_value(state)
            bias_correction2 = 1 - beta2 ** step
            g = _decayed_grad(group, p, g, wd, lr, group["decoupled_weight_decay"])
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            state["mu_product"].mul_(mu)
            mu_product = state["mu_product"].item()
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.mul_(beta1).add_(g, alpha=1 - beta1)
            exp_avg_sq.mul_(beta2).add_(g * g, alpha=1 - beta2)
            denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
            p.add_(g / denom, alpha=-lr * (1.0 - mu) / (1.0 - mu_product))
            p.add_(exp_avg / denom, alpha=-lr * mu_next / (1.0 - mu_product * mu_next))
