"""norch.utils: data loading (norch.utils.data) and DLPack exchange (norch.utils.dlpack)."""
from . import data  # noqa: F401
from . import dlpack  # noqa: F401
