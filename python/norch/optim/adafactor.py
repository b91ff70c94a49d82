"""Adafactor: factored second-moment estimates (row and column averages for matrices), relative
step sizes and update clipping (torch.optim.Adafactor, with PyTorch's placement of eps1 and its
use of lr as the cap on the relative step). ``foreach`` is accepted for PyTorch compatibility and
ignored: norch always runs this plain loop."""
from .. import _C
from ..autograd import no_grad
from .optimizer import Optimizer, _scalar_state, _step_value, _to_scalar

# Machine epsilon per dtype: eps1's default when it is None, as PyTorch's torch.finfo(dtype).eps.
_FINFO_EPS = {_C.float32: 1.1920928955078125e-07, _C.float64: 2.220446049250313e-16}


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, _C.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        return self._step_groups(closure, None)

    def _reference_step(self, group, params, grads):
        lr, wd, clip = _to_scalar(group["lr"]), group["weight_decay"], group["d"]
        eps1, eps2 = group["eps"]
        for p, g in zip(params, grads):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                if g.dim() > 1:
                    # Matrices (and stacks of them) keep only a row factor and a column factor.
                    row_shape, col_shape = list(g.shape), list(g.shape)
                    row_shape[-1] = 1
                    col_shape[-2] = 1
                    state["row_var"] = _C.zeros(row_shape, dtype=g.dtype, device=g.device)
                    state["col_var"] = _C.zeros(col_shape, dtype=g.dtype, device=g.device)
                else:
                    state["variance"] = _C.zeros_like(g.detach())
            if group["maximize"]:
                g = -g
            e1 = _FINFO_EPS.get(p.dtype, _FINFO_EPS[_C.float32]) if eps1 is None else eps1
            state["step"] += 1
            step = float(_step_value(state))
            one_minus_beta2_t = step ** group["beta2_decay"]
            rho_t = min(lr, 1 / (step ** 0.5))
            alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
            if wd != 0:
                p.mul_(1 - lr * wd)
            if g.dim() > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                row_mean = g.norm(dim=-1, keepdim=True).square_().div_(g.size(-1))
                row_var.add_(row_mean.sub(row_var), alpha=one_minus_beta2_t)
                col_mean = g.norm(dim=-2, keepdim=True).square_().div_(g.size(-2))
                col_var.add_(col_mean.sub(col_var), alpha=one_minus_beta2_t)
                var_estimate = row_var @ col_var
                var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=e1))
            else:
                variance = state["variance"]
                variance.add_((g * g).sub(variance), alpha=one_minus_beta2_t)
                var_estimate = variance.clone()
            # eps1 is squared because the square root comes after.
            update = var_estimate.clamp_(min=e1 * e1).rsqrt_()
            update.mul_(g)
            denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * clip))
            p.add_(update, alpha=-alpha / denom)
