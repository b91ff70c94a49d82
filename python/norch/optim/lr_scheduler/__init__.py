"""norch.optim.lr_scheduler: every learning-rate scheduler of torch.optim.lr_scheduler.

_base.py holds LRScheduler and the shared helpers, _closed_form.py the schedulers whose lr is a
function of the epoch, _stateful.py those with more state (restarts, composites, cycles, plateaus).
"""
from ._base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler  # noqa: F401
from ._closed_form import (  # noqa: F401
    LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, ConstantLR,
    PolynomialLR,
)
from ._stateful import (  # noqa: F401
    CosineAnnealingWarmRestarts, ChainedScheduler, SequentialLR, OneCycleLR, CyclicLR, ReduceLROnPlateau,
)

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
           "SequentialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "LRScheduler"]
