"""The gradient reducer behind DistributedDataParallel: buckets, hooks, non-blocking all-reduce.

Note [DDP bucketing and overlap]
Parameters are grouped into buckets (flat arrays, one dtype each) in reverse registration
order, the order in which backward usually produces their gradients; the first bucket is
capped at 1 MiB so that communication starts early, the others at bucket_cap_mb. A hook
on each parameter (Tensor.register_hook on the leaf, which norch's engine runs inside the
leaf's AccumulateGrad, just before accumulating) copies the gradient into its bucket slot.
When a bucket's last slot is filled it is all-reduced with MPI_Iallreduce, which returns
at once, and backward goes on computing earlier layers' gradients while the message is
in flight. Buckets are started strictly in bucket order, so every rank issues the same
collectives in the same order (MPI requires it) even if hooks fire in another order.

MPI moves a non-blocking message along whenever this process calls into MPI, so every
hook also tests the buckets in flight. The hook that fills the last bucket waits for all
of them, divides by the world size and writes the averages into every .grad; that hook
then returns the average for its own parameter (after clearing its .grad), so when
loss.backward() returns, every gradient is averaged, as in PyTorch.

The hook sees the gradient before accumulation, so a bucket slot gets ``.grad + g`` (what
.grad is about to become): under no_sync() the accumulated gradients are then reduced by
the first synchronised backward. The other hooks return zeros for the engine to accumulate,
since the last hook overwrites every .grad anyway.
"""
import time
import weakref

import numpy as np

FIRST_BUCKET_BYTES = 1024 * 1024


def _numpy(t):
    return t.detach().numpy()


def compute_bucket_assignment(params, cap_bytes, first_cap_bytes=FIRST_BUCKET_BYTES):
    """Lists of parameter indices, in reverse registration order, each list one dtype and about cap bytes."""
    buckets, open_by_dtype = [], {}
    for i in reversed(range(len(params))):
        p = params[i]
        key = p.dtype
        cur = open_by_dtype.get(key)
        if cur is None:
            cap = min(first_cap_bytes, cap_bytes) if not buckets else cap_bytes
            cur = open_by_dtype[key] = {"indices": [], "bytes": 0, "cap": cap}
            buckets.append(cur)
        cur["indices"].append(i)
        cur["bytes"] += p.numel() * p.element_size()
        if cur["bytes"] >= cur["cap"]:
            del open_by_dtype[key]
    return [b["indices"] for b in buckets]


class _Bucket:
    def __init__(self, indices, params):
        self.indices = indices
        self.shapes = [tuple(params[i].shape) for i in indices]
        sizes = [params[i].numel() for i in indices]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.flat = np.zeros(int(self.offsets[-1]), dtype=_numpy(params[indices[0]]).dtype)
        self.pending = len(indices)
        self.request = None

    def slot(self, k):
        return self.flat[self.offsets[k]:self.offsets[k + 1]].reshape(self.shapes[k])


class Reducer:
    def __init__(self, params, process_group, bucket_cap_bytes, find_unused_parameters=False):
        from ... import distributed as dist
        self._dist = dist
        self.params = params
        self.pg = process_group
        self.find_unused = find_unused_parameters
        self.buckets = [_Bucket(ix, params) for ix in compute_bucket_assignment(params, bucket_cap_bytes)]
        self.where = {}
        for b, bucket in enumerate(self.buckets):
            for k, i in enumerate(bucket.indices):
                self.where[i] = (b, k)
        self.expect_sync = False
        self.ready = [False] * len(params)
        self.used = np.zeros(len(params), dtype=np.int32)
        self.next_bucket = 0
        self.timeline = []                 # (seconds, event, bucket) of the last synchronised backward
        self.last_wait_s = 0.0             # how long the last hook waited for communication
        me = weakref.ref(self)
        self.handles = [p.register_hook(self._make_hook(me, i)) for i, p in enumerate(params)]

    @staticmethod
    def _make_hook(ref, index):
        def hook(grad):
            reducer = ref()
            return None if reducer is None else reducer._on_grad(index, grad)
        return hook

    def remove_hooks(self):
        for h in self.handles:
            h.remove()

    # ---- per iteration -----------------------------------------------------------
    def prepare_for_backward(self, outputs):
        """Called by forward when this iteration's backward must synchronise gradients."""
        if self.expect_sync and any(self.ready):
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss. Parameters that did not receive a gradient: "
                + str([i for i, r in enumerate(self.ready) if not r]))
        self.expect_sync = True
        self.ready = [False] * len(self.params)
        self.used[:] = 0
        self.next_bucket = 0
        self.timeline = []
        for bucket in self.buckets:
            bucket.pending = len(bucket.indices)
            bucket.request = None
        if self.find_unused:
            reached = _params_reached(outputs)
            for i, p in enumerate(self.params):
                if _key(p) not in reached:
                    # A parameter this rank did not use contributes its current gradient (or zeros).
                    b, k = self.where[i]
                    slot = self.buckets[b].slot(k)
                    if p.grad is None:
                        slot[...] = 0
                    else:
                        np.copyto(slot, _numpy(p.grad))
                    self._mark_ready(i)

    def _on_grad(self, index, grad):
        if not self.expect_sync or self.ready[index]:
            return None
        p = self.params[index]
        b, k = self.where[index]
        slot = self.buckets[b].slot(k)
        np.copyto(slot, _numpy(grad))
        if p.grad is not None:
            np.add(slot, _numpy(p.grad), out=slot)
        self.used[index] = 1
        self._mark_ready(index)
        if self.next_bucket < len(self.buckets):
            self._progress()
            # _finish overwrites every .grad, so what the engine accumulates now is never read:
            # zeros are cheaper for it than ``grad``, which may be a transposed view that it
            # would copy into a contiguous .grad.
            return _zeros_like(grad)
        return self._finish(index)

    def _mark_ready(self, index):
        self.ready[index] = True
        b, _ = self.where[index]
        self.buckets[b].pending -= 1
        MPI = self._dist._engine.load()
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            bucket.request = self.pg._comm.Iallreduce(MPI.IN_PLACE, bucket.flat, MPI.SUM)
            self.timeline.append((time.perf_counter(), "start", self.next_bucket))
            self.next_bucket += 1

    def _progress(self):
        """Lets MPI move the messages in flight along (MPI progresses only inside MPI calls)."""
        for b, bucket in enumerate(self.buckets[:self.next_bucket]):
            if bucket.request is not None and bucket.request.Test():
                bucket.request = None
                self.timeline.append((time.perf_counter(), "done", b))

    def _finish(self, current):
        """Waits for every bucket, averages, writes the .grads; returns the gradient for ``current``."""
        from ... import from_numpy
        MPI = self._dist._engine.load()
        t0 = time.perf_counter()
        used = self.used.copy()
        if self.find_unused:
            self.pg._comm.Allreduce(MPI.IN_PLACE, used, MPI.SUM)
        for b, bucket in enumerate(self.buckets):
            if bucket.request is not None:
                bucket.request.Wait()
                bucket.request = None
                self.timeline.append((time.perf_counter(), "done", b))
        self.last_wait_s = time.perf_counter() - t0
        n = self.pg.size()
        result = None
        for bucket in self.buckets:
            if np.issubdtype(bucket.flat.dtype, np.floating):
                np.divide(bucket.flat, n, out=bucket.flat)
            else:
                bucket.flat //= n
            for k, i in enumerate(bucket.indices):
                p = self.params[i]
                if not used[i]:
                    continue        # no rank used it: its .grad stays as it was, as in PyTorch
                avg = bucket.slot(k)
                if i == current:
                    p.grad = None   # the engine accumulates what this hook returns into an empty .grad
                    result = from_numpy(avg.copy())
                elif p.grad is None:
                    p.grad = from_numpy(avg.copy())
                else:
                    np.copyto(_numpy(p.grad), avg)
        self.expect_sync = False
        self.ready = [False] * len(self.params)
        return result


def _zeros_like(t):
    from ... import zeros
    return zeros(tuple(t.shape), dtype=t.dtype)


def _key(t):
    return (t.data_ptr(), tuple(t.shape), t.dtype)


def _params_reached(outputs):
    """The leaves that backward from ``outputs`` would reach (by data pointer, shape and dtype)."""
    roots, stack = [], [outputs]
    from ... import Tensor
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                roots.append(o.grad_fn)
        elif isinstance(o, dict):
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
    reached, seen, alive = set(), set(), []
    while roots:
        fn = roots.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        alive.append(fn)        # keeps the node's Python object, so that its id is not reused
        if fn.name() == "AccumulateGrad":
            reached.add(_key(fn.variable))
            continue
        for child, _ in fn.next_functions:
            if child is not None:
                roots.append(child)
    return reached
