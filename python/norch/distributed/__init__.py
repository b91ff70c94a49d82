"""norch.distributed: torch.distributed's process groups and collectives on CPU tensors, over MPI.

    import norch.distributed as dist
    dist.init_process_group()             # ranks come from the launcher (norch.distributed.run or mpirun)
    dist.all_reduce(t)                    # t is summed over all ranks, in place

Importing this package needs no MPI: mpi4py is imported by init_process_group (see
Note [Where the process-group layer lives] in _engine.py). docs/distributed.md explains
the launcher, DistributedDataParallel and how gradient communication overlaps backward.
"""
from .distributed_c10d import (  # noqa: F401
    Backend, GroupMember, ProcessGroup, ReduceOp, Work, destroy_process_group, get_backend, get_global_rank,
    get_group_rank, get_process_group_ranks, get_rank, get_world_size, group, init_process_group, is_available,
    is_gloo_available, is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched, new_group,
)
from .collectives import (  # noqa: F401
    all_gather, all_gather_into_tensor, all_gather_object, all_reduce, all_to_all_single, barrier, broadcast,
    broadcast_object_list, gather, gather_object, irecv, isend, recv, reduce, reduce_scatter, reduce_scatter_tensor,
    scatter, send,
)
