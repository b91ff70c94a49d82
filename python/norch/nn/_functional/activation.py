"""nn.functional: activation ops."""
from ..._C import one_hot  # noqa: F401  (C++ op, re-exported here as in torch.nn.functional)

__all__ = ["one_hot"]
