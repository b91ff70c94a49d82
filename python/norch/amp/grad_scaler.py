"""Dynamic loss scaling for float16 training: norch.amp.GradScaler.

float16 gradients underflow to zero long before float32 ones do. The scaler
multiplies the loss by a large factor before backward, divides the gradients
by it before the optimizer step, and skips any step whose gradients overflowed
(inf/NaN), shrinking the factor; after `growth_interval` clean steps it grows
the factor again. The state machine below follows PyTorch's: per optimizer,
READY -> UNSCALED (unscale_) -> STEPPED (step), reset by update().
"""
import builtins
import enum
import warnings

from .. import _C

__all__ = ["GradScaler", "OptState"]


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_optimizer_state():
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scales the loss, unscales gradients, skips steps that overflowed.

    Args:
        device: "cuda" (PyTorch's default) or "cpu". A "cuda" scaler on a machine
            without a usable GPU warns and disables itself, as PyTorch's does.
        init_scale: the first scale factor.
        growth_factor: multiplies the scale after `growth_interval` clean steps.
        backoff_factor: multiplies the scale after a step with inf/NaN gradients.
        growth_interval: clean steps between growths.
        enabled: False makes every method a pass-through (scale returns its input).
    """

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = str(device)
        if enabled and self._device.startswith("cuda"):
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("norch.amp.GradScaler is enabled, but CUDA is not available.  Disabling.")
                enabled = False
        self._enabled = enabled
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        if not isinstance(growth_interval, builtins.int) or growth_interval <= 0:
            raise ValueError("growth_interval must be a positive integer.")
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._scale = None            # float32 tensor on the loss's device, made lazily
        self._growth_tracker = None   # int32 tensor: clean steps since the last change
        self._init_growth_tracker = 0
        self._per_optimizer_states = {}

    # -- scaling ---------------------------------------------------------------
    def _lazy_init(self, device):
        self._scale = _C.full([1], self._init_scale, dtype=_C.float32, device=device)
        self._growth_tracker = _C.full([1], self._init_growth_tracker, dtype=_C.int32, device=device)

    def scale(self, outputs):
        """Multiplies a tensor (or a nested list/tuple of tensors) by the scale factor."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, _C.Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(device=outputs.device, non_blocking=True)
        if isinstance(outputs, (list, tuple)):
            scaled = [self.scale(o) for o in outputs]
            return type(outputs)(scaled) if isinstance(outputs, tuple) else scaled
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _check_scale_exists(self, name):
        if self._scale is None:
            raise RuntimeError(f"Attempted {name} but _scale is None.  This may indicate your script did not use "
                               "scaler.scale(loss or outputs) earlier in the iteration.")

    def _state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_optimizer_state())

    def _unscale_grads(self, optimizer, inv_scale, allow_fp16):
        # found_inf stays a tensor so the check never forces a host sync per gradient.
        found_inf = _C.zeros([1], dtype=_C.float32, device=self._scale.device)
        from ..autograd import no_grad  # imported here: norch.amp loads before norch.autograd
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and str(grad.dtype) == "norch.float16":
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    bad = (~grad.isfinite()).any().to(_C.float32).reshape(1)
                    found_inf = found_inf.maximum(bad.to(found_inf.device))
                    # A 0-d multiplier keeps the gradient's own dtype (float16 stays float16).
                    grad.mul_(inv_scale.to(grad.device))
        return found_inf

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale, in place (call before clipping)."""
        if not self._enabled:
            return
        self._check_scale_exists("unscale_")
        state = self._state(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # The reciprocal is taken in float64 and rounded once, as PyTorch does.
        inv_scale = self._scale.double().reciprocal().float().reshape(())
        state["found_inf"] = self._unscale_grads(optimizer, inv_scale, allow_fp16=False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscales (if unscale_ was not called) and steps, unless a gradient was inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_exists("step")
        state = self._state(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None
        if state["found_inf"].item() == 0:
            result = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale=None):
        """Adjusts the scale for the next iteration and resets every optimizer's state."""
        if not self._enabled:
            return
        self._check_scale_exists("update")
        if new_scale is not None:
            if isinstance(new_scale, _C.Tensor):
                if new_scale.numel() != 1 or str(new_scale.dtype) != "norch.float32" or new_scale.requires_grad:
                    raise ValueError("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                                     "torch.FloatTensor with requires_grad=False.")
                self._scale.copy_(new_scale.reshape(1))
            else:
                self._scale.fill_(float(new_scale))
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values() if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            overflowed = builtins.any(f.item() != 0 for f in found)
            self._update_scale(overflowed)
        self._per_optimizer_states = {}

    def _update_scale(self, overflowed):
        scale = self._scale.item()
        if overflowed:
            self._scale.fill_(scale * self._backoff_factor)
            self._growth_tracker.fill_(0)
            return
        clean = builtins.int(self._growth_tracker.item()) + 1
        if clean == self._growth_interval:
            grown = _C.tensor([scale], dtype=_C.float32) * self._growth_factor
            # A grown scale that is no longer finite in float32 is not taken.
            if grown.isfinite().all().item():
                self._scale.copy_(grown.to(self._scale.device))
            clean = 0
        self._growth_tracker.fill_(clean)

    # -- accessors -------------------------------------------------------------
    def get_scale(self):
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return 0 if self._growth_tracker is None else builtins.int(self._growth_tracker.item())

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            raise RuntimeError("Attempted to load_state_dict on a disabled GradScaler.")
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = builtins.int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(self._init_growth_tracker)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_per_optimizer_states"] = {}
        return state

