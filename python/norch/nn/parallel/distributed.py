"""DistributedDataParallel: one model replica per rank, gradients averaged during backward.

torch.nn.parallel.DistributedDataParallel's surface on norch.distributed's MPI process
groups. The gradient machinery (buckets, hooks, overlap) is in _reducer.py, see
Note [DDP bucketing and overlap]; docs/distributed.md draws its timeline.
"""
from contextlib import contextmanager

import numpy as np

from ..modules.module import Module
from ._reducer import Reducer


def _broadcast_coalesced(tensors, pg, src_rank=0):
    """Rank ``src_rank``'s values into every rank's ``tensors``: one MPI_Bcast per dtype, not one per tensor."""
    from ... import distributed as dist
    MPI = dist._engine.load()
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(str(t.dtype), []).append(t)
    for group in by_dtype.values():
        views = [t.detach().numpy() for t in group]
        flat = np.concatenate([v.reshape(-1) for v in views]) if views else None
        pg._comm.Bcast(flat, root=src_rank)
        offset = 0
        for v in views:
            np.copyto(v, flat[offset:offset + v.size].reshape(v.shape))
            offset += v.size


class DistributedDataParallel(Module):
    """Wraps ``module`` so that ``loss.backward()`` leaves every rank with the same, averaged gradients.

    At construction rank 0's parameters and buffers are copied to every rank. In forward,
    with ``broadcast_buffers``, rank 0's buffers (e.g. BatchNorm's running statistics) are
    copied again. Inside ``no_sync()`` backward only accumulates locally.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None):
        super().__init__()
        from ... import distributed as dist
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a norch.nn.Module, got {type(module).__name__}")
        params = [p for p in module.parameters() if p.requires_grad]
        devices = {str(p.device) for p in module.parameters()}
        if (device_ids or output_device is not None) and devices <= {"cpu"}:
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if gradient_as_bucket_view:
            raise NotImplementedError("DistributedDataParallel: gradient_as_bucket_view=True is not supported; "
                                      "gradients are copied out of the buckets")
        if mixed_precision is not None or device_mesh is not None:
            raise NotImplementedError("DistributedDataParallel: mixed_precision and device_mesh are not supported")
        self.module = module
        self.process_group = dist.distributed_c10d._resolve(process_group)
        if self.process_group is None:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._verify_same_model()
        if init_sync and self.process_group.size() > 1:
            _broadcast_coalesced(list(module.parameters()) + list(module.buffers()), self.process_group)
        self.reducer = Reducer(params, self.process_group, self.bucket_bytes_cap, find_unused_parameters)

    def _verify_same_model(self):
        pg = self.process_group
        mine = [(name, tuple(p.shape), str(p.dtype)) for name, p in self.module.named_parameters()]
        everyone = pg._comm.allgather(mine)
        for r, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                raise RuntimeError(f"DDP expects same model across all ranks, but rank {pg._ranks[r]} has "
                                   f"parameters {theirs} while rank {pg._ranks[0]} has {everyone[0]}")

    def forward(self, *inputs, **kwargs):
        from ... import is_grad_enabled, no_grad
        if self.broadcast_buffers and self.require_forward_param_sync and self.process_group.size() > 1:
            buffers = list(self.module.buffers())
            if buffers:
                with no_grad():
                    _broadcast_coalesced(buffers, self.process_group)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare_for_backward(output)
        else:
            self.reducer.expect_sync = False
        return output

    @contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside accumulate gradients locally, without communication."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _get_name(self):
        return "DistributedDataParallel"
