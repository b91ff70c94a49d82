"""norch.nn: modules, layers, losses, init and functional ops."""
from . import functional  # noqa: F401
