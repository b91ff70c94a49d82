"""Rprop: resilient backpropagation, per-coordinate step sizes driven only by gradient signs
(torch.optim.Rprop). ``foreach``, ``capturable`` and ``differentiable`` are accepted for PyTorch
compatibility; norch always runs this plain loop and ignores them."""
from .. import _C
from ..autograd import no_grad
from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        for p, g in zip(params, grads):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["prev"] = _C.zeros_like(p.detach())
                state["step_size"] = _C.full_like(g.detach(), float(_to_scalar(group["lr"])))
            state["step"] += 1
            if group["maximize"]:
                g = -g
            prev, step_size = state["prev"], state["step_size"]
            # Same sign as last step: grow the step; sign flip: shrink it and skip this coordinate's
            # update (its gradient is zeroed and remembered as zero); zero product: keep the step.
            sign = g.mul(prev).sign()
            sign[sign.gt(0)] = etaplus
            sign[sign.lt(0)] = etaminus
            sign[sign.eq(0)] = 1
            step_size.mul_(sign).clamp_(step_size_min, step_size_max)
            g = g.clone()
            g[sign.eq(etaminus)] = 0
            p.sub_(g.sign().mul_(step_size))
            prev.copy_(g)
