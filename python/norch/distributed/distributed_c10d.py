"""Process groups: init_process_group, new_group, ranks and sizes, ReduceOp, Work handles.

The names and semantics are torch.distributed's (torch/distributed/distributed_c10d.py).
A ProcessGroup is a thin record around an MPI communicator (see Note [Where the
process-group layer lives] in _engine.py); the collectives themselves are in collectives.py.
This file must not import mpi4py at module level: norch imports with no MPI installed.
"""
import enum
import os
import sys
import time

from . import _engine


class ReduceOp:
    """The reduction of all_reduce, reduce and reduce_scatter: ``ReduceOp.SUM`` and friends."""

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class Backend(str):
    """A backend name, lower-cased: ``Backend("MPI") == "mpi"``."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, got {type(name).__name__}")
        return str.__new__(cls, name.lower())


_NCCL_MESSAGE = ("norch.distributed: the NCCL backend needs a CUDA build of norch and an NVIDIA GPU, and norch's "
                 "NCCL process group is not implemented yet; use backend='mpi' (the default) with CPU tensors")


class ProcessGroup:
    """A set of ranks that run collectives together, over one MPI communicator.

    ``ranks`` lists the members' global ranks in group-rank order.
    """

    def __init__(self, comm, ranks, backend="mpi"):
        self._comm = comm
        self._ranks = list(ranks)
        self._backend = backend

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return self._comm.Get_size()

    def name(self):
        return self._backend

    def __repr__(self):
        return f"ProcessGroup(backend={self._backend!r}, ranks={self._ranks})"


class _State:
    default_pg = None
    groups = []               # every group made by new_group, freed by destroy_process_group
    excepthook = None         # the hook init_process_group replaced


_state = _State()


class _WorldMeta(type):
    @property
    def WORLD(cls):
        return _state.default_pg


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD`` is the default group; new_group returns NON_GROUP_MEMBER to non-members."""
    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):
    pass


def is_available():
    """Whether an engine (mpi4py over an MPI library) can be loaded; it is not loaded by asking."""
    return _engine.available()


def is_mpi_available():
    return _engine.available()


def is_nccl_available():
    return False


def is_gloo_available():
    return False


def is_initialized():
    return _state.default_pg is not None


def is_torchelastic_launched():
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _default_group():
    if _state.default_pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _state.default_pg


def _resolve(group):
    """The ProcessGroup a collective runs on, or None when this rank is not a member."""
    if group is None or group is GroupMember.WORLD:
        return _default_group()
    if group is GroupMember.NON_GROUP_MEMBER or (isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER):
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup made by new_group, got {type(group).__name__}")
    _default_group()
    return group


def _parse_backend(backend):
    if backend is None:
        return Backend.MPI
    if not isinstance(backend, str):
        raise ValueError(f"init_process_group: backend must be a string, got {type(backend).__name__}")
    names = [part.split(":")[-1].strip().lower() for part in backend.split(",")]
    if "nccl" in names:
        raise RuntimeError(_NCCL_MESSAGE)
    for name in names:
        # gloo is PyTorch's CPU backend; scripts that name it get the same results from MPI.
        if name not in ("mpi", "gloo"):
            raise ValueError(f"Invalid backend: '{backend}' (norch.distributed has 'mpi'; 'nccl' is not implemented)")
    return Backend.MPI


def _abort_on_uncaught(MPI):
    """Make an uncaught exception on one rank end the whole job instead of hanging the others."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.flush()
        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.COMM_WORLD.Abort(1)

    _state.excepthook = previous
    sys.excepthook = hook


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins this process to the job's default group.

    With MPI the ranks and the wiring come from the MPI launcher (``python -m
    norch.distributed.run`` or ``mpirun``); ``init_method``, ``store`` and ``timeout`` are
    accepted for PyTorch scripts and not needed. ``world_size``/``rank`` (or the WORLD_SIZE
    and RANK variables), when given, must agree with what MPI started.
    """
    if _state.default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    _parse_backend(backend)
    MPI = _engine.load()
    world = MPI.COMM_WORLD
    n, me = world.Get_size(), world.Get_rank()
    expected_size = world_size if world_size not in (None, -1) else int(os.environ.get("WORLD_SIZE", n))
    expected_rank = rank if rank not in (None, -1) else int(os.environ.get("RANK", me))
    if expected_size != n or expected_rank != me:
        raise RuntimeError(
            f"init_process_group: asked for world_size={expected_size}, rank={expected_rank}, but MPI started "
            f"{n} process(es) and this is rank {me}; start the ranks with `python -m norch.distributed.run "
            f"--nproc_per_node={expected_size} script.py` or `mpirun -np {expected_size} python script.py`")
    # Scripts launched by plain mpirun read PyTorch's variables after init too.
    local_rank = os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", os.environ.get("MPI_LOCALRANKID",
                                                                            "0" if n == 1 else None))
    local_size = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE", os.environ.get("MPI_LOCALNRANKS",
                                                                            "1" if n == 1 else None))
    for key, value in (("RANK", me), ("WORLD_SIZE", n), ("LOCAL_RANK", local_rank), ("LOCAL_WORLD_SIZE", local_size)):
        if value is not None:
            os.environ.setdefault(key, str(value))
    _state.default_pg = ProcessGroup(world.Dup(), range(n))
    _abort_on_uncaught(MPI)


def destroy_process_group(group=None):
    """Frees a group made by new_group, or (group=None) every group and the default one."""
    if group is None or group is GroupMember.WORLD:
        pg = _default_group()
        for g in _state.groups:
            g._comm.Free()
        _state.groups = []
        pg._comm.Free()
        _state.default_pg = None
        if _state.excepthook is not None:
            sys.excepthook = _state.excepthook
            _state.excepthook = None
        return
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    if group in _state.groups:
        _state.groups.remove(group)
        group._comm.Free()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None):
    """A group of the given global ranks (all ranks must call it, members or not).

    Group ranks follow the sorted global ranks, as in PyTorch. Non-members get
    ``GroupMember.NON_GROUP_MEMBER``, on which every collective is a no-op.
    """
    world = _default_group()
    _parse_backend(backend)
    n = world.size()
    members = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(members)) != len(members):
        raise ValueError(f"new_group: ranks {list(ranks)} contain duplicates")
    for r in members:
        if r < 0 or r >= n:
            raise ValueError(f"new_group: rank {r} is out of range for a world of size {n}")
    me = world.rank()
    MPI = _engine.load()
    inside = me in members
    comm = world._comm.Split(0 if inside else MPI.UNDEFINED, members.index(me) if inside else 0)
    if not inside:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members)
    _state.groups.append(pg)
    return pg


def get_rank(group=None):
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None):
    pg = _resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_process_group_ranks(group):
    pg = _resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return list(pg._ranks)


def get_global_rank(group, group_rank):
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {ranks}")
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {ranks}")
    return ranks.index(global_rank)


class Work:
    """The handle of an ``async_op=True`` collective: ``wait()`` blocks until it is done.

    ``finish`` (run once, on completion) does what must follow MPI's part: dividing for
    AVG, copying a staged result back into non-contiguous or listed output tensors.
    """

    def __init__(self, requests, finish=None, outputs=()):
        self._requests = list(requests)
        self._finish = finish
        self._outputs = list(outputs)
        self._done = False

    def _complete(self):
        self._done = True
        self._requests = []
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout=None):
        if self._done:
            return True
        MPI = _engine.load()
        if timeout is None:
            MPI.Request.Waitall(self._requests)
        else:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
            deadline = time.monotonic() + seconds
            while not MPI.Request.Testall(self._requests):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Work.wait: the operation did not complete within {seconds} s")
                time.sleep(1e-4)
        self._complete()
        return True

    def is_completed(self):
        if not self._done and _engine.load().Request.Testall(self._requests):
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def result(self):
        self.wait()
        return self._outputs

    def synchronize(self):
        self.wait()
