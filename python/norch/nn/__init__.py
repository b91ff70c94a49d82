"""norch.nn: modules, layers, losses, init and functional ops."""
from . import functional  # noqa: F401
from .parameter import Parameter, UninitializedParameter, UninitializedBuffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __dict__ as _modules_ns
from . import init  # noqa: F401
from . import utils  # noqa: F401
from . import parallel  # noqa: F401
from .parallel import DataParallel  # noqa: F401

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer", "DataParallel"] + [
    k for k, v in _modules_ns.items() if isinstance(v, type)]
del _modules_ns
