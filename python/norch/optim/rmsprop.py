"""RMSprop with momentum and the centered variant (torch.optim.RMSprop)."""
from ..autograd import no_grad
from .optimizer import Optimizer, _bump_step, _decayed_grad, _check_lr, _check_non_negative
from .. import _C


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        _check_non_negative(eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _C.tensor(0.0, dtype=_C.float32)
            state["square_avg"] = _C.zeros_like(p.detach())
            if group["momentum"] > 0:
                state["momentum_buffer"] = _C.zeros_like(p.detach())
            if group["centered"]:
                state["grad_avg"] = _C.zeros_like(p.detach())
        return state

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, "rmsprop_step_")

    def _fused_step(self, fused, group, params, grads):
        states = [self._init_state(p, group) for p in params]
        for s in states:
            _bump_step(s)
        fused(params, grads, [s["square_avg"] for s in states],
              [s["grad_avg"] for s in states] if group["centered"] else [],
              [s["momentum_buffer"] for s in states] if group["momentum"] > 0 else [],
              lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
              momentum=group["momentum"], centered=group["centered"], maximize=group["maximize"])

    def _reference_step(self, group, params, grads):
        lr, alpha, eps, wd, momentum = group["lr"], group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        for p, g in zip(params, grads):
            state = self._init_state(p, group)
            _bump_step(state)
            g = _decayed_grad(group, p, g, wd)
            square_avg = state["square_avg"]
            square_avg.mul_(alpha).add_(g * g, alpha=1 - alpha)
            if group["centered"]:
                grad_avg = state["grad_avg"]
                grad_avg.mul_(alpha).add_(g, alpha=1 - alpha)
                avg = (square_avg - grad_avg * grad_avg).sqrt_()
            else:
                avg = square_avg.sqrt()
            avg.add_(eps)
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(g / avg)
                p.add_(buf, alpha=-lr)
            else:
                p.add_(g / avg, alpha=-lr)
