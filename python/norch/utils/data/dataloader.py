"""DataLoader: batches from a dataset, in the main process or in forked worker processes.

With num_workers > 0, batch i is computed by worker i % num_workers and batches are
yielded in sampler order, so the result equals num_workers=0 exactly (for map-style
datasets). Workers are forked: the dataset is shared copy-on-write, never pickled.
"""
import itertools
import multiprocessing as mp
import queue
import warnings

from ._utils import collate as _collate
from ._utils import pin_memory as _pin
from ._utils import random as _random
from ._utils import worker as _worker
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

default_collate = _collate.default_collate
default_convert = _collate.default_convert
get_worker_info = _worker.get_worker_info


class _InfiniteConstantSampler(Sampler):
    def __iter__(self):
        while True:
            yield None


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory  # batches go to page-locked memory when a GPU is present
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers  # accepted; workers are started per epoch

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")

        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self):
        it = self._single_process_iter() if self.num_workers == 0 else _MultiProcessIter(self)
        if not self.pin_memory:
            return it
        from ... import cuda
        if not cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.")
            return it
        return _pinned(it)

    def _fetch(self, indices, it=None):
        if self._is_iterable:
            if self._auto_collation:
                samples = list(itertools.islice(it, self.batch_size))
                if not samples or (self.drop_last and len(samples) < self.batch_size):
                    raise StopIteration
                return self.collate_fn(samples)
            return self.collate_fn(next(it))
        if self._auto_collation:
            return self.collate_fn([self.dataset[i] for i in indices])
        return self.collate_fn(self.dataset[indices])

    def _single_process_iter(self):
        # PyTorch draws the workers' base seed from the generator even without workers, so a seeded
        # shuffle gives the same batches for any num_workers.
        _random.new_seed(self.generator)
        if self._is_iterable:
            it = iter(self.dataset)
            while True:
                try:
                    batch = self._fetch(None, it)
                except StopIteration:
                    return
                yield batch
        else:
            for indices in self._index_sampler:
                yield self._fetch(indices)


def _pinned(it):
    # Pinned in the main process, as PyTorch's pin-memory thread does, after the workers.
    for batch in it:
        yield _pin.pin_memory(batch)


class _MultiProcessIter:
    """Round-robin task dispatch to workers, results collected in dispatch order."""

    def __init__(self, loader):
        self._loader = loader
        n = loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = mp.get_context("fork")
        elif isinstance(ctx, str):
            ctx = mp.get_context(ctx)
        base_seed = _random.new_seed(loader.generator)
        self._index_queues, self._result_queues, self._workers = [], [], []
        for wid in range(n):
            iq, rq = ctx.Queue(), ctx.Queue()
            w = ctx.Process(target=_worker.worker_loop,
                            args=(loader.dataset, iq, rq, loader.collate_fn, loader._auto_collation,
                                  loader.drop_last, loader.batch_size, loader._is_iterable, base_seed + wid, wid, n,
                                  loader.worker_init_fn),
                            daemon=True)
            w.start()
            self._index_queues.append(iq)
            self._result_queues.append(rq)
            self._workers.append(w)
        self._sampler_iter = iter(loader._index_sampler)
        self._send_idx = 0   # next task id to dispatch
        self._rcvd_idx = 0   # next task id to yield
        self._active = [True] * n  # iterable datasets: workers that have not run dry
        self._shutdown = False
        for _ in range(loader.prefetch_factor * n):
            self._dispatch()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _dispatch(self):
        if self._loader._is_iterable:
            live = [w for w in range(len(self._workers)) if self._active[w]]
            if not live:
                return
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            return
        wid = self._send_idx % len(self._workers)
        self._index_queues[wid].put((self._send_idx, indices))
        self._send_idx += 1

    def _get(self, wid):
        timeout = self._loader.timeout
        waited = 0.0
        while True:
            try:
                return self._result_queues[wid].get(timeout=1.0)
            except queue.Empty:
                waited += 1.0
                if not self._workers[wid].is_alive():
                    self._shutdown_workers(force=True)
                    raise RuntimeError(f"DataLoader worker (pid {self._workers[wid].pid}) exited unexpectedly "
                                       f"with exit code {self._workers[wid].exitcode}")
                if timeout and waited >= timeout:
                    self._shutdown_workers(force=True)
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def __next__(self):
        while True:
            if self._rcvd_idx >= self._send_idx:
                self._shutdown_workers()
                raise StopIteration
            wid = self._rcvd_idx % len(self._workers)
            task_id, data = self._get(wid)
            assert task_id == self._rcvd_idx, "DataLoader worker results out of order"
            self._rcvd_idx += 1
            if isinstance(data, _worker._IterableDone):
                self._active[wid] = False
                self._dispatch()
                continue
            self._dispatch()
            if isinstance(data, _worker.ExceptionWrapper):
                self._shutdown_workers()
                data.reraise()
            return _worker.unpack(data)

    def _shutdown_workers(self, force=False):
        # force: a worker is stuck or gone, so waiting for the others to finish politely is pointless.
        if self._shutdown:
            return
        self._shutdown = True
        for q in self._index_queues:
            q.put(None)
        for w in self._workers:
            if force:
                w.terminate()
            w.join(timeout=5.0)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for q in self._index_queues + self._result_queues:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass
