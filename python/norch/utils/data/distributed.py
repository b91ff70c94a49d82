"""DistributedSampler: each rank's share of a dataset, as torch.utils.data.distributed assigns it.

The assignment is PyTorch's, step for step: a permutation seeded by ``seed + epoch``
(norch's generator, so the shuffled order is norch's own, the same on every rank), padded
by repeating its head (or cut, with drop_last) to a multiple of num_replicas, then rank r
takes positions r, r + num_replicas, r + 2 * num_replicas, ...
"""
import math

from .sampler import Sampler
from ._utils import random as _random

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # Drop the tail so that every rank gets the same number of samples.
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        if self.shuffle:
            indices = self._permutation()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def _permutation(self):
        n = len(self.dataset)
        g = _random._C.Generator()
        g.manual_seed(self.seed + self.epoch)
        return [int(i) for i in _random.randperm(n, g)]

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Makes the next iteration's shuffle differ: call it at the start of every epoch."""
        self.epoch = epoch
