"""default_collate / default_convert: turning a list of samples into a batch (PyTorch's rules)."""
import collections.abc
import numbers

import numpy as np

from .... import _C
from ...._C import Tensor

_NP_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_string_array(arr):
    return arr.dtype.kind in "SUO"


def default_convert(data):
    """Converts NumPy arrays (and those nested in dicts/sequences) to tensors; no batching."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and not _is_string_array(data):
        return _C.from_numpy(np.ascontiguousarray(data).reshape(data.shape))
    if isinstance(data, np.generic) and not _is_string_array(np.asarray(data)):
        return _C.tensor(data.item(), dtype=_C.from_numpy(np.asarray(data).reshape(1)).dtype)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()}) if isinstance(data, dict) else \
            {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Tensors are stacked, numbers become 1-d tensors, NumPy arrays become tensors, and dicts,
    namedtuples, tuples and lists are collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _C.stack(list(batch))
    if isinstance(elem, np.ndarray):
        if _is_string_array(elem):
            raise TypeError(_NP_ERR.format(elem.dtype))
        return default_collate([_C.from_numpy(np.ascontiguousarray(b).reshape(b.shape)) for b in batch])
    if isinstance(elem, np.generic):
        if _is_string_array(np.asarray(elem)):
            raise TypeError(_NP_ERR.format(elem.dtype))
        return _C.from_numpy(np.array(batch))
    if isinstance(elem, bool):
        return _C.tensor(list(batch), dtype=_C.bool)
    if isinstance(elem, float):
        return _C.tensor(list(batch), dtype=_C.float64)
    if isinstance(elem, int):
        return _C.tensor(list(batch), dtype=_C.int64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, numbers.Number):
        return _C.tensor([complex(b) if isinstance(b, complex) else float(b) for b in batch])
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(_NP_ERR.format(type(elem)))
