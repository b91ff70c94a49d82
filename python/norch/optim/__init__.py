"""norch.optim: optimizers and learning-rate schedulers with PyTorch's names and semantics.

Every optimizer of torch.optim is here except two, deliberately: SparseAdam (norch has no sparse
gradients) and Muon (its Newton-Schulz iteration runs in bfloat16, a dtype norch lacks, so its
trajectory could not match PyTorch's). Also absent: swap_in_optimizer_params_and_state, PyTorch's
helper for functional (torch.func-style) optimizer state, which norch has no counterpart for.
"""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam  # noqa: F401
from .adamw import AdamW  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .radam import RAdam  # noqa: F401
from .asgd import ASGD  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .adafactor import Adafactor  # noqa: F401
from . import lr_scheduler  # noqa: F401
from . import swa_utils  # noqa: F401

# What torch.optim has and norch leaves out on purpose, with the reason (for compatibility tables).
_DELIBERATELY_ABSENT = {
    "SparseAdam": "norch has no sparse gradients",
    "Muon": "its Newton-Schulz iteration runs in bfloat16, which norch lacks; the trajectory could not match",
    "swap_in_optimizer_params_and_state": "a helper for functional (torch.func-style) optimizer state, which "
                                          "norch does not have",
}

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "ASGD", "Rprop", "LBFGS", "Adafactor", "lr_scheduler", "swa_utils"]
