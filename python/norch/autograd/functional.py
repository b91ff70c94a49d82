"""norch.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp over autograd.grad.

PyTorch's reverse-mode definitions: a Jacobian is built one output element at a time from
vector-Jacobian products; jvp uses the double-backward trick (the vjp is linear in its
vector, so differentiating it once more gives J v); Hessian products differentiate the
gradient. With create_graph=True the results stay differentiable.
"""
from .. import _C
from . import grad as _grad, enable_grad


def _as_tuple(x):
    return ((x,), True) if isinstance(x, _C.Tensor) else (tuple(x), False)


def _prepare(inputs, create_graph):
    return tuple(i.detach().requires_grad_(True) if not (create_graph and i.requires_grad) else i for i in inputs)


def _grads(outputs, inputs, grad_outputs, create_graph):
    g = _grad(outputs, inputs, grad_outputs, retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(_C.zeros_like(i) if gi is None else gi for gi, i in zip(g, inputs))


def _finish(t, create_graph):
    return t if create_graph else t.detach()


def _call(func, inputs, create_graph):
    """func on the prepared inputs (the caller holds enable_grad): the inputs and outputs as tuples,
    each with whether it was a single Tensor."""
    ins, single = _as_tuple(inputs)
    ins = _prepare(ins, create_graph)
    outs, single_out = _as_tuple(func(*ins))
    return ins, single, outs, single_out


def _finish_all(ts, create_graph, single):
    """``_finish`` on each, unwrapped to the one tensor when the caller passed a single Tensor."""
    ts = tuple(_finish(t, create_graph) for t in ts)
    return ts[0] if single else ts


def _vector(v, like, message):
    """``v`` as a tuple; when None, ones, allowed only if each tensor of ``like`` has one element
    (PyTorch's RuntimeError with ``message`` otherwise)."""
    if v is not None:
        return _as_tuple(v)[0]
    if any(t.numel() != 1 for t in like):
        raise RuntimeError(message)
    return tuple(_C.ones_like(t) for t in like)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    with enable_grad():
        ins, single, outs, single_out = _call(func, inputs, create_graph)
        vs = _vector(v, outs, "The vector v can only be None if the user-provided function returns a single "
                              "Tensor with a single element.")
        g = _grads(outs, ins, vs, create_graph)
    return _finish_all(outs, create_graph, single_out), _finish_all(g, create_graph, single)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v)."""
    with enable_grad():
        ins, single, outs, single_out = _call(func, inputs, create_graph)
        vs = _vector(v, ins, "The vector v can only be None if the input to the user-provided function is a "
                             "single Tensor with a single element.")
        dummies = tuple(_C.zeros_like(o).requires_grad_(True) for o in outs)
        g = _grads(outs, ins, dummies, True)
        jv = _grads(g, dummies, vs, create_graph)
    return _finish_all(outs, create_graph, single_out), _finish_all(jv, create_graph, single_out)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian d func / d inputs: one tensor of shape out.shape + in.shape per (output, input) pair."""
    with enable_grad():
        ins, single, outs, single_out = _call(func, inputs, create_graph)
        result = []
        for o in outs:
            flat = o.reshape(-1)
            rows = [[] for _ in ins]
            for k in range(flat.numel()):
                g = _grads((flat[k],), ins, None, create_graph)
                for j, gj in enumerate(g):
                    rows[j].append(gj)
            per_input = []
            for j, i in enumerate(ins):
                if rows[j]:
                    jac = _C.stack(rows[j]).reshape(tuple(o.shape) + tuple(i.shape))
                else:
                    jac = _C.zeros(tuple(o.shape) + tuple(i.shape), dtype=i.dtype, device=i.device)
                per_input.append(_finish(jac, create_graph))
            result.append(per_input[0] if single else tuple(per_input))
    return result[0] if single_out else tuple(result)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: the Jacobian of its gradient."""
    ins, single = _as_tuple(inputs)

    def grad_fn(*xs):
        with enable_grad():
            out = func(*xs)
            if out.numel() != 1:
                raise RuntimeError("The function given to hessian should return a single element Tensor")
            g = _grads((out.reshape(()),), xs, None, True)
            return g[0] if single else g
    return jacobian(grad_fn, ins[0] if single else ins, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H)."""
    with enable_grad():
        ins, single = _as_tuple(inputs)
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        if out.numel() != 1:
            raise RuntimeError("The function given to vhp should return a single element Tensor")
        g = _grads((out.reshape(()),), ins, None, True)
        vs = _as_tuple(v)[0] if v is not None else tuple(_C.ones_like(i) for i in ins)
        h = _grads(g, ins, vs, create_graph)
    return _finish(out, create_graph), _finish_all(h, create_graph, single)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v); H is symmetric, so this equals vhp."""
    return vhp(func, inputs, v, create_graph, strict)
