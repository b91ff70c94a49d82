"""Optimizer: the base class every norch optimizer derives from (PyTorch's torch.optim.Optimizer).

Note [Fused optimizer steps]
----------------------------
Each optimizer has a plain step written with in-place norch ops under no_grad (the
reference) and a fused C++ step in ``norch._C._optim`` that updates a whole list of
parameters in one call (src/nn/optim_step.cpp). Python owns the state: it
allocates the state tensors (except SGD's momentum buffers, which the fused step creates
from the first gradient and returns), increments the step counters and passes them in:

    sgd_step_(params, grads, momentum_buffers, *, lr, momentum, dampening, nesterov,
              weight_decay, maximize) -> momentum_buffers     # None entries: no buffer yet
    adam_step_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1,
               beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)
    rmsprop_step_(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr, alpha, eps,
                  weight_decay, momentum, centered, maximize)
    adagrad_step_(params, grads, state_sums, steps, *, lr, lr_decay, weight_decay, eps, maximize)

``steps`` are the per-parameter counts after this step's increment. The fused path is
skipped when a group sets ``foreach=False``; the reference path is what tests compare the
fused one against. The other optimizers (Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop,
Adafactor, LBFGS) have only the reference step: ``_step_groups(closure, None)``.

Hooks: the first instance of each class wraps that class's step() once (``_hooked_step``),
which runs the global and per-instance step hooks and records the call for the schedulers'
call-order warning; state_dict() and load_state_dict() run their own pre/post hooks.
"""
import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

from .. import _C
from .._C import Tensor
from ..autograd import enable_grad
from ..nn.modules.module import RemovableHandle


class _RequiredParameter:
    """Singleton marking a hyperparameter (lr of SGD) that has no default."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _use_fused(group, params):
    return group.get("foreach") is not False and len(params) > 0


def _check_non_negative(**values):
    """Raises ValueError for the first negative value, named as PyTorch names it."""
    for name, value in values.items():
        if not 0.0 <= value:
            label = "learning rate" if name == "lr" else ("epsilon" if name == "eps" else name) + " value"
            raise ValueError(f"Invalid {label}: {value}")


def _check_lr(lr):
    """PyTorch's learning-rate checks: a Tensor lr must hold one element, and lr must be >= 0."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_adam_args(lr, betas, eps, weight_decay):
    """The argument checks the Adam family (Adam, AdamW, Adamax, NAdam, RAdam) shares, in PyTorch's
    order and with its messages: lr, then eps, then each beta in [0, 1), then weight_decay."""
    _check_lr(lr)
    _check_non_negative(eps=eps)
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    _check_non_negative(weight_decay=weight_decay)


def _to_scalar(value):
    """A one-element Tensor hyperparameter (PyTorch allows a Tensor lr) as a Python number."""
    return value.item() if isinstance(value, Tensor) else value


# Step hooks that apply to every optimizer (torch.optim.optimizer.register_optimizer_step_*_hook).
_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()
_HOOK_DICTS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
               "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
               "_optimizer_load_state_dict_post_hooks")


def _pop_hook(hooks, hook_id):
    # RemovableHandle.remove(): the hook leaves its table.
    hooks.pop(hook_id, None)


def register_optimizer_step_pre_hook(hook):
    """Registers ``hook(optimizer, args, kwargs)`` to run before every optimizer's step()."""
    handle = RemovableHandle(functools.partial(_pop_hook, _global_optimizer_pre_hooks))
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Registers ``hook(optimizer, args, kwargs)`` to run after every optimizer's step()."""
    handle = RemovableHandle(functools.partial(_pop_hook, _global_optimizer_post_hooks))
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _hooked_step(step):
    # Wraps a class's step() once: pre-hooks may replace (args, kwargs); the call is recorded for
    # the schedulers' "lr_scheduler.step() before optimizer.step()" warning.
    # As in PyTorch, the hooks see args with the optimizer first, and a pre-hook's new args keep it there.
    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result}.")
        out = step(*args, **kwargs)
        self._opt_called = True
        for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


def _check_fused_flags(fused, foreach, differentiable):
    """PyTorch's checks on the fused flag (norch has no separate fused kernels to pick; its fused C++
    steps run whenever foreach is not False, see the Note above)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class Optimizer:
    """Base class: holds ``param_groups`` (list of dicts), ``defaults`` and per-parameter ``state``."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        for name in _HOOK_DICTS:
            setattr(self, name, OrderedDict())
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_DICTS:
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()

    profile_hook_step = staticmethod(_hooked_step)  # PyTorch's name for the step wrapper

    def _patch_step_function(self):
        if not getattr(self.__class__.step, "hooked", False):
            self.__class__.step = _hooked_step(self.__class__.step)

    # -- hooks (PyTorch's: each register_* returns a handle whose remove() unregisters) --

    def _add_hook(self, name, hook, prepend=False):
        hooks = getattr(self, name)
        handle = RemovableHandle(functools.partial(_pop_hook, hooks))
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before step(); it may return new (args, kwargs)."""
        return self._add_hook("_optimizer_step_pre_hooks", hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after step()."""
        return self._add_hook("_optimizer_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs before state_dict() builds the dict."""
        return self._add_hook("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs on the built dict; a returned dict replaces it."""
        return self._add_hook("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs before loading; a returned dict is loaded instead."""
        return self._add_hook("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs after load_state_dict()."""
        return self._add_hook("_optimizer_load_state_dict_post_hooks", hook, prepend)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        # (name, tensor) pairs, as model.named_parameters() yields, keep their names in "param_names".
        names = [p[0] for p in param_group["params"] if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in param_group["params"]]
        if names:
            if len(names) != len(param_group["params"]):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not self.defaults.get("differentiable") and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in param_group["params"]]
        if len(set(ids)) != len(ids):
            # PyTorch only warns here (pytorch/pytorch#40967); a duplicate would be stepped twice.
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; "
                          "see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        existing = set()
        for group in self.param_groups:
            existing.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        raise NotImplementedError(f"{self.__class__.__name__} does not implement step()")

    def _run_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _step_groups(self, closure, fused_name):
        """The body of ``step()``: runs ``closure``, then for each group calls
        ``self._fused_step(fused, group, params, grads)`` when the core has kernel ``fused_name``
        and the group may use it, else ``self._reference_step(group, params, grads)``. Optimizers
        without a fused kernel pass ``fused_name=None``."""
        loss = self._run_closure(closure)
        fused = getattr(_C._optim, fused_name) if fused_name is not None else None
        for group in self.param_groups:
            params, grads = _params_with_grad(group)
            if fused is not None and _use_fused(group, params):
                self._fused_step(fused, group, params, grads)
            else:
                self._reference_step(group, params, grads)
        return loss

    # -- state dicts (PyTorch's format: parameters are replaced by integer ids in group order) --

    def state_dict(self):
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {}
        for key, value in self.state.items():
            if isinstance(key, Tensor) and id(key) in index:
                packed_state[index[id(key)]] = value
            else:
                packed_state[key] = value
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        state_dict = _copy_state_dict(state_dict)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            # JSON round trips turn integer keys into strings; accept both.
            key = int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k
            if key in id_map:
                param = id_map[key]
                state[param] = {name: _cast_state(param, name, value) for name, value in v.items()}
            else:
                state[k] = v
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            new_group = dict(saved)
            new_group["params"] = group["params"]
            # Saved names win; a dict saved without names keeps the optimizer's own.
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


def _copy_state_dict(sd):
    # Tensors are cloned (the loaded optimizer must not alias the caller's buffers); the rest deep-copied.
    def copy_value(v):
        if isinstance(v, Tensor):
            return v.detach().clone()
        if isinstance(v, dict):
            return {k: copy_value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [copy_value(x) for x in v]
        if isinstance(v, tuple):
            return tuple(copy_value(x) for x in v)
        return copy.deepcopy(v)
    return copy_value(sd)


def _cast_state(param, key, value):
    # Like PyTorch: state tensors follow the parameter's device, and its dtype when floating
    # point; the 'step' counter keeps its own dtype.
    if isinstance(value, Tensor):
        if key == "step":
            return value
        if value.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast_state(param, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # Lists of tensors (LBFGS's history) are cast element by element, as PyTorch does.
        return type(value)(_cast_state(param, None, v) for v in value)
    return value


def _params_with_grad(group):
    params, grads = [], []
    for p in group["params"]:
        if p.grad is not None:
            params.append(p)
            grads.append(p.grad)
    return params, grads


def _step_value(state):
    step = state["step"]
    return int(step.item()) if isinstance(step, Tensor) else int(step)


def _bump_step(state):
    if "step" not in state:
        state["step"] = _C.tensor(0.0, dtype=_C.float32)
    state["step"] += 1
    return _step_value(state)


def _scalar_state(value):
    """A 0-d state scalar (step, mu_product, eta, mu) in PyTorch's scalar dtype: float64 when that is
    the default dtype, else float32; the rounding matters, later arithmetic reads these values back."""
    dtype = _C.float64 if _C.get_default_dtype() == _C.float64 else _C.float32
    return _C.tensor(float(value), dtype=dtype)


def _lazy_state(optimizer, p, *buffers, **scalars):
    """The per-parameter state of the reference-only optimizers, made on first use: a 0-d ``step``,
    then the named 0-d scalars, then a zero buffer shaped like ``p`` for each name in ``buffers``
    (the key order PyTorch's state_dict shows). The step counter is not bumped here."""
    state = optimizer.state[p]
    if len(state) == 0:
        state["step"] = _scalar_state(0.0)
        for name, value in scalars.items():
            state[name] = _scalar_state(value)
        for name in buffers:
            state[name] = _C.zeros_like(p.detach())
    return state


def _decayed_grad(group, p, g, wd, lr=None, decoupled=False):
    """The gradient a reference step uses: negated under ``maximize``, then with L2 weight decay
    added, or, when ``decoupled`` (AdamW-style), with ``p`` shrunk by ``lr * wd`` in place instead."""
    if group["maximize"]:
        g = -g
    if wd != 0:
        if decoupled:
            p.mul_(1 - lr * wd)
        else:
            g = g.add(p, alpha=wd)
    return g


__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]
