"""Adam (torch.optim.Adam); AdamW reuses it with decoupled weight decay."""
import math

from ..autograd import no_grad
from .._C import Tensor
from .optimizer import Optimizer, _bump_step, _check_adam_args, _check_fused_flags, _decayed_grad, _to_scalar
from .. import _C


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_adam_args(lr, betas, eps, weight_decay)
        if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if b.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused_flags(fused, foreach, differentiable)

    def _init_state(self, p, amsgrad):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _C.tensor(0.0, dtype=_C.float32)
            state["exp_avg"] = _C.zeros_like(p.detach())
            state["exp_avg_sq"] = _C.zeros_like(p.detach())
            if amsgrad:
                state["max_exp_avg_sq"] = _C.zeros_like(p.detach())
        return state

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, "adam_step_")

    def _reference_step(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd, amsgrad = group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        for p, g in zip(params, grads):
            state = self._init_state(p, amsgrad)
            step = _bump_step(state)
            g = _decayed_grad(group, p, g, wd, lr, decoupled)
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.mul_(beta1).add_(g, alpha=1 - beta1)
            exp_avg_sq.mul_(beta2).add_(g * g, alpha=1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
            if amsgrad:
                state["max_exp_avg_sq"].maximum_(exp_avg_sq)
                second = state["max_exp_avg_sq"]
            else:
                second = exp_avg_sq
            denom = (second.sqrt() / bias_correction2_sqrt).add_(eps)
            p.add_(exp_avg / denom, alpha=-lr / bias_correction1)

    def _fused_step(self, fused, group, params, grads):
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        states = [self._init_state(p, amsgrad) for p in params]
        steps = [_bump_step(s) for s in states]
        fused(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
              [s["max_exp_avg_sq"] for s in states] if amsgrad else [], steps, lr=group["lr"], beta1=beta1,
              beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"], amsgrad=amsgrad,
              maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"])
