"""norch.utils: data loading utilities (norch.utils.data)."""
from . import data  # noqa: F401
