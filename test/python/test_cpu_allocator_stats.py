"""norch.cpu.allocator_stats: the CPU allocator's counters (Note [CPU allocator caching]).

A steady loop of small ops is served entirely from the per-thread cache, blocks above
the cached limit always count as fresh, a reset starts from zero, and allocations made
on other threads (Python threads here; the pool's helpers in test_cpu_allocator.cpp)
are summed in.
"""
import gc
import threading

import pytest

import norch

KEYS = ("cache_hits", "cache_misses", "large_allocs", "huge_allocs", "requested_bytes", "fresh_bytes",
        "cached_frees", "released_frees")


def stats():
    return norch.cpu.allocator_stats()


def chain(a, b):
    return ((a * b + a).relu() - b).exp()


def test_keys_and_limit():
    s = stats()
    assert set(KEYS) | {"max_cached_bytes"} == set(s)
    assert all(isinstance(s[k], int) and s[k] >= 0 for k in KEYS)
    assert s["max_cached_bytes"] == 4 << 20


def test_reset_starts_from_zero():
    a = norch.randn(100)
    for _ in range(5):
        a = a * a
    assert stats()["requested_bytes"] > 0
    norch.cpu.reset_allocator_stats()
    assert all(stats()[k] == 0 for k in KEYS)
    b = a * a  # one output, no scalar operand to wrap
    s = stats()
    assert s["cache_hits"] + s["cache_misses"] == 1 and s["requested_bytes"] == 400
    del b


@pytest.mark.parametrize("n", [1, 64, 1000, 100_000])
def test_steady_loop_is_served_from_the_cache(n):
    a, b = norch.randn(n), norch.randn(n)
    for _ in range(3):  # warm-up: fills this thread's free lists
        chain(a, b)
    norch.cpu.reset_allocator_stats()
    for _ in range(50):
        chain(a, b)
    s = stats()
    assert s["cache_misses"] == 0 and s["large_allocs"] == 0 and s["fresh_bytes"] == 0
    assert s["cache_hits"] == 50 * 5  # five ops, five outputs per iteration
    assert s["requested_bytes"] == 50 * 5 * 4 * n
    assert s["cached_frees"] == s["cache_hits"] and s["released_frees"] == 0


def test_training_step_after_warm_up_allocates_nothing_fresh():
    norch.manual_seed(0)
    model = norch.nn.Sequential(norch.nn.Linear(20, 16), norch.nn.ReLU(), norch.nn.Linear(16, 3))
    opt = norch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = norch.randn(8, 20), norch.randint(0, 3, (8,))

    def step():
        opt.zero_grad()
        norch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    gc.collect()
    norch.cpu.reset_allocator_stats()
    for _ in range(10):
        step()
    s = stats()
    assert s["cache_hits"] > 10 * 10
    assert s["cache_misses"] == 0 and s["large_allocs"] == 0


def test_first_allocation_of_a_size_class_is_a_miss():
    norch.cpu.reset_allocator_stats()
    t = norch.empty(3 << 16)  # 768 KiB: a class nothing else in this suite keeps around
    s = stats()
    assert s["cache_hits"] + s["cache_misses"] == 1
    del t
    u = norch.empty(3 << 16)  # the block just freed comes back
    s2 = stats()
    assert s2["cache_hits"] == s["cache_hits"] + 1 and s2["cache_misses"] == s["cache_misses"]
    assert s2["cached_frees"] == s["cached_frees"] + 1
    del u


@pytest.mark.parametrize("extra,huge", [(64, True), (5 << 20, True)])
def test_blocks_above_the_limit_count_as_fresh(extra, huge):
    limit = stats()["max_cached_bytes"]
    assert limit == 4 << 20  # Note [CPU allocator caching]: blocks above it go on huge pages
    nbytes = limit + extra
    norch.cpu.reset_allocator_stats()
    for _ in range(4):
        t = norch.empty(nbytes // 4)
        del t
    s = stats()
    assert s["large_allocs"] == 4 and s["huge_allocs"] == (4 if huge else 0)
    assert s["cache_hits"] == 0 and s["cache_misses"] == 0
    assert s["released_frees"] == 4 and s["cached_frees"] == 0
    assert s["requested_bytes"] == 4 * (nbytes // 4 * 4)
    assert s["fresh_bytes"] >= s["requested_bytes"]


def test_exactly_the_limit_is_cached():
    limit = stats()["max_cached_bytes"]
    t = norch.empty(limit // 4)
    del t
    norch.cpu.reset_allocator_stats()
    t = norch.empty(limit // 4)
    s = stats()
    assert s["large_allocs"] == 0 and s["cache_hits"] == 1
    del t


def test_other_threads_are_counted_and_kept_after_they_exit():
    barrier = threading.Barrier(3)

    def work():
        barrier.wait()
        a, one = norch.ones(256), norch.ones(256)
        for _ in range(20):
            a = a + one  # each thread's first blocks of the class are fresh, the rest are reused
    norch.cpu.reset_allocator_stats()
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join()
    s = stats()
    # per thread: two ones and 20 adds, 22 allocations of 1 KiB
    assert s["cache_hits"] + s["cache_misses"] == 2 * 22
    assert s["cache_misses"] >= 2 * 2  # a new thread starts with an empty cache
    assert s["requested_bytes"] == 2 * 22 * 1024


def test_reset_while_other_threads_have_counted():
    done = threading.Event()

    def work():
        for _ in range(10):
            norch.ones(32)
        done.set()
    t = threading.Thread(target=work)
    t.start()
    done.wait()
    t.join()
    norch.cpu.reset_allocator_stats()
    assert all(stats()[k] == 0 for k in KEYS)  # the exited thread's counts are behind the baseline


def test_empty_tensor_allocates_nothing():
    norch.cpu.reset_allocator_stats()
    t = norch.empty(0)
    assert all(stats()[k] == 0 for k in KEYS)
    del t


def test_a_class_keeps_at_most_32_mib():
    # Eight 4 MiB blocks fit the per-class budget; the ninth free goes back to the system.
    limit = stats()["max_cached_bytes"]
    blocks = [norch.empty(limit // 4) for _ in range(9)]
    norch.cpu.reset_allocator_stats()
    del blocks
    s = stats()
    assert s["cached_frees"] == 8 and s["released_frees"] == 1
    again = [norch.empty(limit // 4) for _ in range(9)]
    s2 = stats()
    assert s2["cache_hits"] == 8 and s2["cache_misses"] == 1
    del again
