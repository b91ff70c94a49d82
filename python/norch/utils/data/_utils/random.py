"""Random draws for samplers and random_split.

Note [Data RNG]
When the core provides norch.Generator / norch.randperm (PyTorch's API), samplers use them,
so norch.manual_seed(s) or generator=norch.Generator().manual_seed(s) makes shuffling
reproducible exactly as in PyTorch. A ``numpy.random.Generator`` is also accepted as
``generator``. Without a core RNG, generator=None draws from NumPy's global RandomState,
so ``np.random.seed(s)`` is the reproducibility switch in that case.
"""
import numpy as np

from .... import _C


def _core_rng():
    return hasattr(_C, "randperm") and hasattr(_C, "Generator")


def _np_rng(generator):
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None:
        return np.random.mtrand._rand
    raise TypeError(f"generator must be a norch.Generator or numpy.random.Generator, got {type(generator).__name__}")


def randperm(n, generator=None):
    """A random permutation of range(n) as a Python list."""
    if _core_rng() and not isinstance(generator, np.random.Generator):
        return _C.randperm(n, generator=generator).tolist()
    return _np_rng(generator).permutation(n).tolist()


def randint(high, size, generator=None):
    """``size`` integers uniform in [0, high) as a Python list."""
    if _core_rng() and hasattr(_C, "randint") and not isinstance(generator, np.random.Generator):
        return _C.randint(high=high, size=(size,), generator=generator, dtype=_C.int64).tolist()
    return _np_rng(generator).integers(0, high, size=size).tolist() if isinstance(generator, np.random.Generator) \
        else _np_rng(generator).randint(0, high, size=size).tolist()


def multinomial(weights, num_samples, replacement, generator=None):
    """Indices drawn with probability proportional to ``weights`` (a float64 NumPy array)."""
    if _core_rng() and hasattr(_C, "multinomial") and not isinstance(generator, np.random.Generator):
        return _C.multinomial(_C.from_numpy(weights), num_samples, replacement, generator=generator).tolist()
    p = weights / weights.sum()
    return _np_rng(generator).choice(len(p), size=num_samples, replace=replacement, p=p).tolist()


def new_seed(generator=None):
    """A fresh 63-bit seed drawn from ``generator`` (base seeds for workers, samplers)."""
    return randint(2 ** 62, 1, generator)[0]


def seed_everything_in_worker(seed):
    """Seeds the core RNG (if present) and Python's ``random`` in a worker, as PyTorch does."""
    import random
    random.seed(seed)
    if hasattr(_C, "manual_seed"):
        _C.manual_seed(seed)
