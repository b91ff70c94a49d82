"""gradcheck / gradgradcheck: compare analytical gradients with central finite
differences in float64, as PyTorch's do."""
import numpy as np

from .. import _C


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical_jacobian(fn, inputs, target, eps):
    """Jacobian of every differentiable output w.r.t. `target` (rows: inputs, cols: outputs)."""
    n = target.numel()
    cols = []
    # Grad mode stays on: gradgradcheck differentiates functions that call backward.
    for i in range(n):
        idx = np.unravel_index(i, tuple(target.shape)) if target.dim() else ()
        orig = float(target.detach()[idx].item()) if target.dim() else float(target.item())
        _set(target, idx, orig + eps)
        plus = [o.detach().cpu().numpy().astype(np.float64).ravel().copy() for o in _outs(fn(*inputs))]
        _set(target, idx, orig - eps)
        minus = [o.detach().cpu().numpy().astype(np.float64).ravel().copy() for o in _outs(fn(*inputs))]
        _set(target, idx, orig)
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]) if plus else np.zeros(0))
    return np.stack(cols, 0) if cols else np.zeros((0, 0))


def _outs(out):
    return [o for o in _as_tuple(out) if isinstance(o, _C.Tensor) and o.is_floating_point()]


def _set(t, idx, value):
    d = t.detach()
    if t.dim() == 0:
        d.fill_(value)
    else:
        d[idx] = value


def _analytical_jacobian(fn, inputs, targets):
    out = _outs(fn(*inputs))
    sizes = [o.numel() for o in out]
    total = sum(sizes)
    jac = [np.zeros((t.numel(), total)) for t in targets]
    col = 0
    for o, size in zip(out, sizes):
        for j in range(size):
            if not o.requires_grad:
                col += 1
                continue
            grad_out = np.zeros(size)
            grad_out[j] = 1.0
            g = _C.tensor(grad_out.reshape(tuple(o.shape)), dtype=o.dtype, device=o.device)
            grads = _C._autograd.grad([o], list(targets), [g], True, False, True)
            for k, gr in enumerate(grads):
                if gr is not None:
                    jac[k][:, col] = gr.detach().cpu().numpy().astype(np.float64).ravel()
            col += 1
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """True when d(func)/d(inputs) from backward matches finite differences.

    Inputs that require grad must be float64 (finite differences need the precision).
    """
    inputs = _as_tuple(inputs)
    targets = [t for t in inputs if isinstance(t, _C.Tensor) and t.requires_grad]
    for t in targets:
        if t.dtype != _C.float64:
            import warnings
            warnings.warn("gradcheck: input is not float64; the check may fail from rounding alone")
    analytical = _analytical_jacobian(func, inputs, targets)
    for k, t in enumerate(targets):
        numerical = _numerical_jacobian(func, inputs, t, eps)
        a = analytical[k]
        if numerical.shape != a.shape:
            numerical = numerical.reshape(a.shape)
        if not np.allclose(a, numerical, atol=atol, rtol=rtol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian mismatch for input {k} of shape {tuple(t.shape)}:\n"
                    f"numerical:\n{numerical}\nanalytical:\n{a}")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  **_ignored):
    """gradcheck of the map (inputs, grad_outputs) -> gradients, which runs backward with create_graph."""
    inputs = _as_tuple(inputs)
    outs = _outs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_C.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device, requires_grad=True)
                        for o in outs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    targets_idx = [i for i, t in enumerate(inputs) if isinstance(t, _C.Tensor) and t.requires_grad]

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        o = [x for x in _outs(func(*ins)) if x.requires_grad]
        gs = _C._autograd.grad(o, [ins[i] for i in targets_idx], list(gos)[:len(o)], True, True, True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
