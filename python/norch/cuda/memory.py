"""norch.cuda's view of the caching allocator (Note [Caching allocator] in
include/norch/tensor/caching_allocator.h): PyTorch's memory_stats keys, the
allocated/reserved counters with their peaks, and a readable memory_summary().

Before CUDA is initialized (and on a machine without a GPU) nothing was allocated:
the counters are 0 and memory_stats() is empty, as in PyTorch's CUDA build.
"""
import collections

from .. import _C

_cuda = _C._cuda


def _index(device):
    from . import _device_index
    return _device_index(device)


def memory_stats(device=None):
    """PyTorch's flat statistics dict ("allocated_bytes.all.current", "num_ooms", ...)."""
    if not _cuda.is_initialized():
        return collections.OrderedDict()
    nested = _cuda.memory_stats(_index(device))
    flat = []
    for name, value in nested.items():
        if isinstance(value, dict):
            for field, v in value.items():
                flat.append((f"{name}.all.{field}", v))
        else:
            flat.append((name, value))
    return collections.OrderedDict(sorted(flat))


def memory_stats_as_nested_dict(device=None):
    if not _cuda.is_initialized():
        return {}
    return {k: ({"all": v} if isinstance(v, dict) else v) for k, v in _cuda.memory_stats(_index(device)).items()}


def _stat(device, key):
    return memory_stats(device).get(key, 0)


def memory_allocated(device=None):
    """Bytes the tensors on ``device`` occupy (rounded to the allocator's block sizes)."""
    return _stat(device, "allocated_bytes.all.current")


def max_memory_allocated(device=None):
    """The peak of memory_allocated since the start or reset_peak_memory_stats()."""
    return _stat(device, "allocated_bytes.all.peak")


def memory_reserved(device=None):
    """Bytes the allocator holds from the device: in use plus cached for reuse."""
    return _stat(device, "reserved_bytes.all.current")


def max_memory_reserved(device=None):
    return _stat(device, "reserved_bytes.all.peak")


def memory_cached(device=None):
    return memory_reserved(device)


def max_memory_cached(device=None):
    return max_memory_reserved(device)


def reset_peak_memory_stats(device=None):
    """Sets every peak to its current value."""
    if _cuda.is_initialized():
        _cuda.reset_peak_memory_stats(_index(device))


def reset_max_memory_allocated(device=None):
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None):
    reset_peak_memory_stats(device)


def empty_cache():
    """Returns every cached block no tensor uses to the device (cudaFree); what tensors use stays."""
    _cuda.empty_cache()


def mem_get_info(device=None):
    """(free, total) bytes of the device, estimated as total minus what norch's allocator
    holds (other processes' use is not seen)."""
    from . import get_device_properties
    props = get_device_properties(device)
    return props.total_memory - memory_reserved(device), props.total_memory


def _fmt(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return str(n)


def memory_summary(device=None, abbreviated=False):
    """A readable table of where GPU memory went: what tensors hold, what the cache keeps,
    the peaks, and how often the allocator went to the device or ran out.

    Deliberately different from PyTorch where no GPU was used yet: PyTorch raises a
    KeyError there; this says so in the table instead.
    """
    stats = memory_stats(device)
    where = f"cuda:{_index(device)}" if stats else "CUDA (not initialized: nothing allocated)"
    g = stats.get
    rows = [
        ("Allocated by tensors", _fmt(g("allocated_bytes.all.current", 0)), _fmt(g("allocated_bytes.all.peak", 0))),
        ("Requested (before rounding)", _fmt(g("requested_bytes.all.current", 0)),
         _fmt(g("requested_bytes.all.peak", 0))),
        ("Reserved from the device", _fmt(g("reserved_bytes.all.current", 0)), _fmt(g("reserved_bytes.all.peak", 0))),
        ("Cached, not in use", _fmt(g("reserved_bytes.all.current", 0) - g("allocated_bytes.all.current", 0)), ""),
        ("Cached pieces of split segments", _fmt(g("inactive_split_bytes.all.current", 0)),
         _fmt(g("inactive_split_bytes.all.peak", 0))),
        ("Tensors' blocks (count)", str(g("allocation.all.current", 0)), str(g("allocation.all.peak", 0))),
        ("Segments from cudaMalloc (count)", str(g("segment.all.current", 0)), str(g("segment.all.peak", 0))),
    ]
    if not abbreviated:
        rows += [
            ("cudaMalloc / cudaFree calls", f"{g('num_device_alloc', 0)} / {g('num_device_free', 0)}", ""),
            ("Retries after freeing the cache", str(g("num_alloc_retries", 0)), ""),
            ("Out-of-memory errors", str(g("num_ooms", 0)), ""),
        ]
    w = max(len(r[0]) for r in rows)
    line = "=" * (w + 34)
    out = [line, f" norch CUDA memory summary, {where}", line,
           f" {'':<{w}} {'current':>15} {'peak':>15}", "-" * (w + 34)]
    out += [f" {name:<{w}} {cur:>15} {peak:>15}" for name, cur, peak in rows]
    out += [line, " empty_cache() returns the cached memory to the device; "
                  "reset_peak_memory_stats() restarts the peaks.", line]
    return "\n".join(out) + "\n"
