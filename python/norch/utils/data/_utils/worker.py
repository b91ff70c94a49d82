"""DataLoader worker processes: the loop each worker runs, and how batches cross the process boundary.

Tensors are not picklable (by design: nothing in norch unpickles), so a worker sends each
batch as NumPy arrays tagged with their tensor dtype, and the main process rebuilds tensors.
"""
import queue
import sys
import traceback

from .... import _C
from ...._C import Tensor
from . import random as _random


class WorkerInfo:
    def __init__(self, id, num_workers, seed, dataset):
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker: its WorkerInfo; in the main process: None."""
    return _worker_info


class _TensorPayload:
    __slots__ = ("array",)

    def __init__(self, t):
        # NumPy dtypes map one-to-one onto norch's, so the array alone rebuilds the tensor.
        self.array = t.detach().cpu().numpy().copy()

    def __getstate__(self):
        return self.array

    def __setstate__(self, state):
        self.array = state


def pack(data):
    if isinstance(data, Tensor):
        return _TensorPayload(data)
    if isinstance(data, dict):
        return {k: pack(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(pack(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(pack(d) for d in data)
    return data


def unpack(data):
    if isinstance(data, _TensorPayload):
        return _C.from_numpy(data.array)
    if isinstance(data, dict):
        return {k: unpack(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(unpack(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(unpack(d) for d in data)
    return data


class ExceptionWrapper:
    """An exception raised in a worker, re-raised in the main process with the worker's traceback."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.msg = f"Caught {exc_info[0].__name__} {where}.\nOriginal " + "".join(traceback.format_exception(*exc_info))

    def reraise(self):
        try:
            exc = self.exc_type(self.msg)
        except Exception:
            exc = RuntimeError(self.msg)
        raise exc


class _IterableDone:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""


def worker_loop(dataset, index_queue, result_queue, collate_fn, auto_collation, drop_last, batch_size,
                is_iterable, seed, worker_id, num_workers, worker_init_fn):
    global _worker_info
    try:
        _C.set_num_threads(1)  # avoid oversubscribing cores (and OpenMP pools across fork)
        _random.seed_everything_in_worker(seed)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        init_error = None
    except Exception:
        init_error = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
    it = iter(dataset) if is_iterable and init_error is None else None
    while True:
        try:
            task = index_queue.get(timeout=5.0)
        except queue.Empty:
            continue
        if task is None:
            break
        task_id, indices = task
        if init_error is not None:
            result_queue.put((task_id, init_error))
            continue
        try:
            if is_iterable:
                if auto_collation:
                    samples = []
                    for _ in range(batch_size):
                        try:
                            samples.append(next(it))
                        except StopIteration:
                            break
                    if not samples or (drop_last and len(samples) < batch_size):
                        result_queue.put((task_id, _IterableDone()))
                        continue
                    data = collate_fn(samples)
                else:
                    try:
                        data = collate_fn(next(it))
                    except StopIteration:
                        result_queue.put((task_id, _IterableDone()))
                        continue
            elif auto_collation:
                data = collate_fn([dataset[i] for i in indices])
            else:
                data = collate_fn(dataset[indices])
            result_queue.put((task_id, pack(data)))
        except Exception:
            result_queue.put((task_id, ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")))
