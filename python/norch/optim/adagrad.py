"""Adagrad with learning-rate decay and an initial accumulator value (torch.optim.Adagrad)."""
from ..autograd import no_grad
from .optimizer import Optimizer, _bump_step, _decayed_grad, _check_fused_flags, _check_lr, _check_non_negative
from .. import _C


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_non_negative(lr_decay=lr_decay, weight_decay=weight_decay,
                            initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused_flags(fused, foreach, differentiable)
        # Like PyTorch, Adagrad's state exists from construction (the accumulator has a start value).
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _C.tensor(0.0, dtype=_C.float32)
                state["sum"] = _C.full_like(p.detach(), float(group["initial_accumulator_value"]))

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, "adagrad_step_")

    def _fused_step(self, fused, group, params, grads):
        states = [self.state[p] for p in params]
        steps = [_bump_step(st) for st in states]
        fused(params, grads, [st["sum"] for st in states], steps, lr=group["lr"],
              lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
              maximize=group["maximize"])

    def _reference_step(self, group, params, grads):
        lr, lr_decay, wd, eps = group["lr"], group["lr_decay"], group["weight_decay"], group["eps"]
        for p, g in zip(params, grads):
            state = self.state[p]
            step = _bump_step(state)
            g = _decayed_grad(group, p, g, wd)
            clr = lr / (1 + (step - 1) * lr_decay)
            state["sum"].add_(g * g)
            std = state["sum"].sqrt().add_(eps)
            p.add_(g / std, alpha=-clr)
