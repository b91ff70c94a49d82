"""norch.utils.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data)."""
from .dataset import (  # noqa: F401
    Dataset, IterableDataset, TensorDataset, StackDataset, ConcatDataset, ChainDataset, Subset, random_split,
)
from .sampler import (  # noqa: F401
    Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, BatchSampler,
)
from .distributed import DistributedSampler  # noqa: F401
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401
from ._utils.worker import WorkerInfo  # noqa: F401
