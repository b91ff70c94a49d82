"""Random draws for samplers and random_split.

Note [Data RNG]
Samplers draw from the core RNG (norch.randperm, norch.randint, norch.multinomial), with
PyTorch's API: norch.manual_seed(s), or generator=norch.Generator().manual_seed(s), makes
shuffling reproducible exactly as in PyTorch; generator=None uses the default generator. A
``numpy.random.Generator`` is also accepted as ``generator``; the draws then come from it, so
seeding that generator is the reproducibility switch in that case.
"""
import numpy as np

from .... import _C


def randperm(n, generator=None):
    """A random permutation of range(n) as a Python list."""
    if isinstance(generator, np.random.Generator):
        return generator.permutation(n).tolist()
    return _C.randperm(n, generator=generator).tolist()


def randint(high, size, generator=None):
    """``size`` integers uniform in [0, high) as a Python list."""
    if isinstance(generator, np.random.Generator):
        return generator.integers(0, high, size=size).tolist()
    return _C.randint(high=high, size=(size,), generator=generator, dtype=_C.int64).tolist()


def multinomial(weights, num_samples, replacement, generator=None):
    """Indices drawn with probability proportional to ``weights`` (a float64 NumPy array)."""
    if isinstance(generator, np.random.Generator):
        p = weights / weights.sum()
        return generator.choice(len(p), size=num_samples, replace=replacement, p=p).tolist()
    return _C.multinomial(_C.from_numpy(weights), num_samples, replacement, generator=generator).tolist()


def new_seed(generator=None):
    """A fresh 63-bit seed drawn from ``generator`` (base seeds for workers, samplers)."""
    return randint(2 ** 62, 1, generator)[0]


def seed_everything_in_worker(seed):
    """Seeds the core RNG and Python's ``random`` in a worker, as PyTorch does."""
    import random
    random.seed(seed)
    _C.manual_seed(seed)
