"""detect_anomaly / set_detect_anomaly: NaN checks in backward with the forward's stack.

While on, every node records the Python stack of the forward call that created
it; when a backward function returns NaN the engine raises a RuntimeError that
names the node and includes that stack.
"""
import functools
import warnings

from .. import _C

_ag = _C._autograd


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self._prev = _ag.is_anomaly_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._prev = _ag.is_anomaly_enabled()
        _ag.set_anomaly_enabled(bool(self.check_nan))
        return self

    def __exit__(self, *exc):
        _ag.set_anomaly_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Sets anomaly detection on construction; as a context manager, restores it on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev = _ag.is_anomaly_enabled()
        _ag.set_anomaly_enabled(bool(mode) and bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _ag.set_anomaly_enabled(self._prev)
        return False


def is_anomaly_enabled():
    return _ag.is_anomaly_enabled()
