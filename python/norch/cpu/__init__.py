"""norch.cpu: the CPU as a device module, with PyTorch's names (torch.cpu).

allocator_stats / reset_allocator_stats are norch's own (torch.cpu has no analogue):
the CPU allocator's counters, to show that a steady training loop is served from its
per-thread caches instead of the system (Note [CPU allocator caching]).
"""
from . import amp  # noqa: F401
from .. import _C

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """CPU ops finish before they return; there is nothing to wait for."""


def allocator_stats():
    """The CPU allocator's counters since the last reset, summed over every thread.

    cache_hits / cache_misses: blocks up to max_cached_bytes served from the calling
    thread's cache / taken fresh from the system because its cache was empty;
    large_allocs: bigger blocks, always fresh (huge_allocs: those of 4 MiB and more, on
    transparent huge pages); requested_bytes / fresh_bytes: bytes asked for / taken from
    the system; cached_frees / released_frees: blocks kept for reuse / given back.
    norch-only: PyTorch exposes no CPU allocator statistics.
    """
    return _C._cpu_allocator_stats()


def reset_allocator_stats():
    """Starts allocator_stats() counting from zero again."""
    _C._cpu_allocator_reset_stats()
