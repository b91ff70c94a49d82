"""Stochastic weight averaging (torch.optim.swa_utils): AveragedModel keeps a running (or
exponential) average of a model's parameters, SWALR anneals each group's lr to a fixed SWA lr,
and update_bn recomputes BatchNorm statistics for the averaged weights with one pass over data.

PyTorch's multi-tensor averaging functions use _foreach_lerp_; norch has no foreach kernels, so
they loop over the tensors with the same lerp formula.
"""
import itertools
import math
from copy import deepcopy

from .. import _C
from ..autograd import no_grad
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler
from .lr_scheduler._base import _format_param, _warn_get_lr_called_within_step

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp_(start, end, weight):
    # PyTorch's lerp formula (the form depends on which side of 0.5 the weight is), in place.
    if weight < 0.5:
        start.add_(end.sub(start), alpha=weight)
    else:
        start.copy_(end.sub(end.sub(start).mul_(1 - weight)))


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place exponential moving average over lists of tensors, for AveragedModel's multi_avg_fn."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        for p_ema, p_model in zip(ema_param_list, current_param_list):
            if p_ema.is_floating_point():
                _lerp_(p_ema, p_model, 1 - decay)
            else:
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running mean over lists of tensors, for AveragedModel's multi_avg_fn."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        # With a tensor count the weight is a default-dtype tensor, as in PyTorch: float32 rounding.
        weight = 1 / (num_averaged + 1)
        weight = weight.item() if isinstance(weight, _C.Tensor) else weight
        for p_avg, p_model in zip(averaged_param_list, current_param_list):
            if p_avg.is_floating_point():
                _lerp_(p_avg, p_model, weight)
            else:
                p_avg.add_(p_model.sub(p_avg), alpha=weight)

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An exponential moving average of one tensor, for AveragedModel's avg_fn."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """A running mean of one tensor, for AveragedModel's avg_fn."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(averaged, current):
    groups = {}
    for a, c in zip(averaged, current):
        avg_list, cur_list = groups.setdefault((str(a.device), str(a.dtype)), ([], []))
        avg_list.append(a)
        cur_list.append(c)
    return list(groups.values())


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters (and buffers, with ``use_buffers``) become the
    average of the models passed to update_parameters(); by default the equal-weight SWA mean."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _C.tensor(0, dtype=_C.int64))
        if device is not None:
            self.n_averaged = self.n_averaged.to(device)
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        if self.use_buffers:
            self_param = itertools.chain(self.module.parameters(), self.module.buffers())
            model_param = itertools.chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        averaged, current = [], []
        copy_param = int(self.n_averaged.item()) == 0
        with no_grad():
            for p_averaged, p_model in zip(self_param, model_param):
                p_model_ = p_model.detach().to(p_averaged.device)
                averaged.append(p_averaged.detach())
                current.append(p_model_)
                if copy_param:
                    p_averaged.detach().copy_(p_model_)
            if not copy_param:
                if self.avg_fn is None:
                    # Like PyTorch: multi-tensor functions see one (device, dtype) group at a time, and
                    # the default mean takes the per-tensor form on the CPU, the lerp form elsewhere.
                    for group_avg, group_cur in _group_by_device_and_dtype(averaged, current):
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(group_avg, group_cur, self.n_averaged)
                        elif group_avg[0].device.type != "cpu":
                            get_swa_multi_avg_fn()(group_avg, group_cur, self.n_averaged)
                        else:
                            avg_fn = get_swa_avg_fn()
                            for p_averaged, p_model in zip(group_avg, group_cur):
                                p_averaged.copy_(avg_fn(p_averaged, p_model, self.n_averaged))
                else:
                    for p_averaged, p_model in zip(averaged, current):
                        p_averaged.copy_(self.avg_fn(p_averaged, p_model, self.n_averaged))
            if not self.use_buffers:
                # Buffers (BatchNorm statistics) follow the latest model; update_bn() recomputes them.
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1


@no_grad()
def update_bn(loader, model, device=None):
    """Recomputes every BatchNorm's running statistics as the plain mean over one pass of ``loader``
    (the first element of list or tuple batches is the input)."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative average over the pass
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr from its value to ``swa_lr`` over ``anneal_epochs`` (cosine or
    linear), then holds it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        # Recovers the lr before annealing from the current one, so the schedule composes like
        # PyTorch's (it counts steps, not epochs).
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)


