"""Pinning a batch for DataLoader(pin_memory=True): every tensor in the (nested) batch
is copied into page-locked host memory, so that `.to("cuda", non_blocking=True)`
overlaps the copy with compute. Containers keep their type, as in PyTorch."""
import collections.abc

from ...._C import Tensor


def pin_memory(data, device=None):
    if isinstance(data, Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if hasattr(data, "pin_memory") and not isinstance(data, type):
        return data.pin_memory()  # a custom batch type that knows how to pin itself
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(pin_memory(x, device) for x in data))
    if isinstance(data, collections.abc.Mapping):
        pinned = {k: pin_memory(v, device) for k, v in data.items()}
        try:
            return type(data)(pinned)
        except TypeError:
            return pinned
    if isinstance(data, tuple):
        return tuple(pin_memory(x, device) for x in data)
    if isinstance(data, collections.abc.Sequence):
        items = [pin_memory(x, device) for x in data]
        try:
            return type(data)(items)
        except TypeError:
            return items
    return data
