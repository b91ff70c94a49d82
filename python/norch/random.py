"""norch.random: the global generator's seed and state (PyTorch's torch.random).

Every generator is Philox4x32-10 (see Note [Philox streams] in
include/norch/ops/random.h); its state is 16 bytes: the seed and the counter offset.
"""
import contextlib

from . import _C

default_generator = _C.default_generator
manual_seed = _C.manual_seed
seed = _C.seed
initial_seed = _C.initial_seed
get_rng_state = _C.get_rng_state
set_rng_state = _C.set_rng_state


@contextlib.contextmanager
def fork_rng(enabled=True):
    """Restores the global generator's state on exit, so draws inside do not shift the stream."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
