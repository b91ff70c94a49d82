"""Collectives and point-to-point messages on CPU tensors, over MPI.

Each function has torch.distributed's signature. ``src``/``dst`` are global ranks
(``group_src``/``group_dst`` are ranks inside ``group``). With ``async_op=True`` the MPI
call is the non-blocking one (MPI_Iallreduce, ...) and a Work handle is returned;
otherwise the blocking call runs (MPI tunes those better) and None is returned. On a rank
outside ``group`` every collective is a no-op, as in PyTorch.

Contiguous tensors are handed to MPI in place; non-contiguous outputs and tensor lists go
through one contiguous staging array (see _engine.TensorBuffer).
"""
import pickle

import numpy as np

from . import _engine
from .distributed_c10d import ReduceOp, Work, _resolve

_OPS = {}


def _average_float(array, n):
    np.divide(array, n, out=array)


def _average_int(array, n):
    # integer division rounding toward zero, as C and NCCL do
    np.copyto(array, np.sign(array) * (np.abs(array) // n))


def _build_ops(MPI):
    R = ReduceOp
    arith = {R.SUM: MPI.SUM, R.PRODUCT: MPI.PROD, R.MIN: MPI.MIN, R.MAX: MPI.MAX}
    bitwise = {R.BAND: MPI.BAND, R.BOR: MPI.BOR, R.BXOR: MPI.BXOR}
    for op, mop in arith.items():
        _OPS[op, "f"] = _OPS[op, "i"] = (mop, None)
    _OPS[R.AVG, "f"] = (MPI.SUM, _average_float)
    _OPS[R.AVG, "i"] = (MPI.SUM, _average_int)
    for op, mop in bitwise.items():
        _OPS[op, "i"] = (mop, None)
    logical = {R.SUM: MPI.LOR, R.MAX: MPI.LOR, R.BOR: MPI.LOR, R.PRODUCT: MPI.LAND, R.MIN: MPI.LAND,
               R.BAND: MPI.LAND, R.BXOR: MPI.LXOR}
    for op, mop in logical.items():
        _OPS[op, "b"] = (mop, None)


def _mpi_op(MPI, op, dtype, name):
    """(MPI op, post-processing of the reduced array or None) for a ReduceOp on ``dtype``."""
    if not _OPS:
        _build_ops(MPI)
    kind = "b" if dtype.kind == "b" else "f" if dtype.kind == "f" else "i"
    try:
        return _OPS[op, kind]
    except (KeyError, TypeError):
        pass
    if not isinstance(op, ReduceOp.RedOpType):
        raise TypeError(f"{name}: op must be a ReduceOp such as ReduceOp.SUM, got {op!r}")
    if kind == "b":
        raise TypeError(f"{name}: ReduceOp.AVG is not defined for bool tensors")
    raise TypeError(f"{name}: {op.name} needs an integer or bool tensor, got {dtype}")


def _group_rank(pg, global_rank, group_rank, name, what):
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError(f"{name}: give {what} or group_{what}, not both")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"{name}: group_{what}={group_rank} is out of range for a group of size {pg.size()}")
        return group_rank
    if global_rank is None:
        global_rank = 0
    if global_rank not in pg._ranks:
        raise ValueError(f"{name}: global rank {global_rank} is not part of the group {pg._ranks}")
    return pg._ranks.index(global_rank)


def _launch(async_op, blocking, nonblocking, finish=None, outputs=()):
    if async_op:
        return Work([nonblocking()], finish, outputs)
    blocking()
    if finish is not None:
        finish()
    return None


def _reduced_commit(buf, post, size):
    """The finish of a reducing collective: the op's post step (AVG's division), then the copy back
    into the tensor."""
    def finish():
        if post is not None:
            post(buf.array, size)
        buf.commit()
    return finish


def _check_same_dtype(name, output, input):
    if output.dtype != input.dtype:
        raise TypeError(f"{name}: output is {output.dtype} but input is {input.dtype}")


def _check_same(name, tensors, like):
    for i, t in enumerate(tensors):
        if t.dtype != like.dtype or t.numel() != like.numel():
            raise ValueError(f"{name}: tensor {i} of the list is {t.dtype} with {t.numel()} elements, but the "
                             f"other tensor is {like.dtype} with {like.numel()} elements")


def _pack(tensors, name):
    """One contiguous array holding the tensors one after another (the send side of a list op)."""
    views = [_engine.TensorBuffer(t, name, writable=False).array for t in tensors]
    return np.concatenate(views) if views else np.empty(0)


def _unpack(array, tensors, name):
    chunks = np.split(array, len(tensors))
    for t, chunk in zip(tensors, chunks):
        np.copyto(t.detach().numpy(), chunk.reshape(tuple(t.shape)))


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    buf = _engine.TensorBuffer(tensor, "all_reduce")
    mop, post = _mpi_op(MPI, op, buf.array.dtype, "all_reduce")
    comm, spec = pg._comm, buf.spec(MPI)
    finish = _reduced_commit(buf, post, pg.size())
    if not async_op:        # the common case, kept short: a few microseconds above MPI's own call
        comm.Allreduce(MPI.IN_PLACE, spec, mop)
        finish()
        return None
    return Work([comm.Iallreduce(MPI.IN_PLACE, spec, mop)], finish, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    root = _group_rank(pg, src, group_src, "broadcast", "src")
    buf = _engine.TensorBuffer(tensor, "broadcast")
    comm, spec = pg._comm, buf.spec(MPI)
    return _launch(async_op, lambda: comm.Bcast(spec, root), lambda: comm.Ibcast(spec, root), buf.commit, [tensor])


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    _check_same_dtype("all_gather_into_tensor", output_tensor, input_tensor)
    if output_tensor.numel() != pg.size() * input_tensor.numel():
        raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to world_size times input tensor "
                         f"size (output {tuple(output_tensor.shape)}, input {tuple(input_tensor.shape)}, "
                         f"world size {pg.size()})")
    out = _engine.TensorBuffer(output_tensor, "all_gather_into_tensor")
    inp = _engine.TensorBuffer(input_tensor, "all_gather_into_tensor", writable=False)
    comm, send, recv = pg._comm, inp.spec(MPI), out.spec(MPI)
    return _launch(async_op, lambda: comm.Allgather(send, recv), lambda: comm.Iallgather(send, recv), out.commit,
                   [output_tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    if len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors but the group has {pg.size()} ranks")
    _check_same("all_gather", tensor_list, tensor)
    inp = _engine.TensorBuffer(tensor, "all_gather", writable=False)
    recv = np.empty(pg.size() * inp.array.size, dtype=inp.array.dtype)
    comm, send, rspec = pg._comm, inp.spec(MPI), [recv, _engine.mpi_datatype(MPI, recv.dtype)]
    return _launch(async_op, lambda: comm.Allgather(send, rspec), lambda: comm.Iallgather(send, rspec),
                   lambda: _unpack(recv, tensor_list, "all_gather"), tensor_list)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    _check_same_dtype("reduce_scatter_tensor", output, input)
    if input.numel() != pg.size() * output.numel():
        raise ValueError(f"reduce_scatter_tensor: input tensor must be the same size as output size times world size "
                         f"(input {tuple(input.shape)}, output {tuple(output.shape)}, world size {pg.size()})")
    out = _engine.TensorBuffer(output, "reduce_scatter_tensor")
    inp = _engine.TensorBuffer(input, "reduce_scatter_tensor", writable=False)
    mop, post = _mpi_op(MPI, op, out.array.dtype, "reduce_scatter_tensor")
    comm, send, recv = pg._comm, inp.spec(MPI), out.spec(MPI)
    finish = _reduced_commit(out, post, pg.size())
    return _launch(async_op, lambda: comm.Reduce_scatter_block(send, recv, mop),
                   lambda: comm.Ireduce_scatter_block(send, recv, mop), finish, [output])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    if len(input_list) != pg.size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors but the group has "
                         f"{pg.size()} ranks")
    _check_same("reduce_scatter", input_list, output)
    send = _pack(input_list, "reduce_scatter")
    out = _engine.TensorBuffer(output, "reduce_scatter")
    mop, post = _mpi_op(MPI, op, out.array.dtype, "reduce_scatter")
    comm, sspec, recv = pg._comm, [send, _engine.mpi_datatype(MPI, send.dtype)], out.spec(MPI)
    finish = _reduced_commit(out, post, pg.size())
    return _launch(async_op, lambda: comm.Reduce_scatter_block(sspec, recv, mop),
                   lambda: comm.Ireduce_scatter_block(sspec, recv, mop), finish, [output])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    root = _group_rank(pg, dst, group_dst, "reduce", "dst")
    buf = _engine.TensorBuffer(tensor, "reduce")
    mop, post = _mpi_op(MPI, op, buf.array.dtype, "reduce")
    comm, spec = pg._comm, buf.spec(MPI)
    # The root reduces into its own tensor; the others only send theirs (left unchanged).
    send, recv = (MPI.IN_PLACE, spec) if pg.rank() == root else (spec, None)
    finish = _reduced_commit(buf, post, pg.size()) if pg.rank() == root else None
    return _launch(async_op, lambda: comm.Reduce(send, recv, mop, root), lambda: comm.Ireduce(send, recv, mop, root),
                   finish, [tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    root = _group_rank(pg, dst, group_dst, "gather", "dst")
    inp = _engine.TensorBuffer(tensor, "gather", writable=False)
    comm, send = pg._comm, inp.spec(MPI)
    if pg.rank() == root:
        if gather_list is None or len(gather_list) != pg.size():
            raise ValueError(f"gather: the destination rank needs a gather_list of {pg.size()} tensors")
        _check_same("gather", gather_list, tensor)
        recv_array = np.empty(pg.size() * inp.array.size, dtype=inp.array.dtype)
        recv = [recv_array, _engine.mpi_datatype(MPI, recv_array.dtype)]

        def finish():
            _unpack(recv_array, gather_list, "gather")
    else:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
        recv, finish = None, None
    return _launch(async_op, lambda: comm.Gather(send, recv, root), lambda: comm.Igather(send, recv, root), finish,
                   gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    root = _group_rank(pg, src, group_src, "scatter", "src")
    out = _engine.TensorBuffer(tensor, "scatter")
    comm, recv = pg._comm, out.spec(MPI)
    if pg.rank() == root:
        if scatter_list is None or len(scatter_list) != pg.size():
            raise ValueError(f"scatter: the source rank needs a scatter_list of {pg.size()} tensors")
        _check_same("scatter", scatter_list, tensor)
        send_array = _pack(scatter_list, "scatter")
        send = [send_array, _engine.mpi_datatype(MPI, send_array.dtype)]
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        send = None
    return _launch(async_op, lambda: comm.Scatter(send, recv, root), lambda: comm.Iscatter(send, recv, root),
                   out.commit, [tensor])


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """Rank i sends block j of ``input`` (split along dim 0) to rank j, which stores it as its block i."""
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    n = pg.size()
    out = _engine.TensorBuffer(output, "all_to_all_single")
    inp = _engine.TensorBuffer(input, "all_to_all_single", writable=False)

    def counts(t, splits, what):
        row = t.numel() // t.shape[0] if t.dim() > 0 and t.shape[0] else 0
        if splits is None:
            if t.dim() == 0 or t.shape[0] % n:
                raise ValueError(f"all_to_all_single: {what} dim 0 ({tuple(t.shape)}) must divide by the group size {n}")
            splits = [t.shape[0] // n] * n
        if len(splits) != n or sum(splits) != (t.shape[0] if t.dim() else 0):
            raise ValueError(f"all_to_all_single: {what}_split_sizes {list(splits)} must be {n} sizes summing to "
                             f"dim 0 of {tuple(t.shape)}")
        c = [int(s) * row for s in splits]
        return c, [sum(c[:i]) for i in range(n)]
    sc, sd = counts(input, input_split_sizes, "input")
    rc, rd = counts(output, output_split_sizes, "output")
    send = [inp.array, (sc, sd), _engine.mpi_datatype(MPI, inp.array.dtype)]
    recv = [out.array, (rc, rd), _engine.mpi_datatype(MPI, out.array.dtype)]
    comm = pg._comm
    return _launch(async_op, lambda: comm.Alltoallv(send, recv), lambda: comm.Ialltoallv(send, recv), out.commit,
                   [output])


def barrier(group=None, async_op=False, device_ids=None):
    pg = _resolve(group)
    if pg is None:
        return None
    comm = pg._comm
    return _launch(async_op, comm.Barrier, comm.Ibarrier)


def _peer(pg, rank, group_rank, name, what):
    peer = _group_rank(pg, rank, group_rank, name, what)
    if peer == pg.rank():
        raise ValueError(f"Invalid {'destination' if what == 'dst' else 'source'} rank: should not be the same as "
                         "the rank of the current process.")
    return peer


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    peer = _peer(pg, dst, group_dst, "isend", "dst")
    buf = _engine.TensorBuffer(tensor, "isend", writable=False)
    return Work([pg._comm.Isend(buf.spec(MPI), peer, tag)], outputs=[tensor])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    peer = _peer(pg, dst, group_dst, "send", "dst")
    pg._comm.Send(_engine.TensorBuffer(tensor, "send", writable=False).spec(MPI), peer, tag)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _engine.load()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "irecv", "src")
    buf = _engine.TensorBuffer(tensor, "irecv")
    return Work([pg._comm.Irecv(buf.spec(MPI), peer, tag)], buf.commit, [tensor])


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receives into ``tensor``; returns the sender's global rank (any sender when src is None)."""
    pg = _resolve(group)
    if pg is None:
        return -1
    MPI = _engine.load()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "recv", "src")
    buf = _engine.TensorBuffer(tensor, "recv")
    status = MPI.Status()
    pg._comm.Recv(buf.spec(MPI), peer, tag, status)
    buf.commit()
    return pg._ranks[status.Get_source()]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replaces object_list's items by the source rank's (pickled, like PyTorch)."""
    pg = _resolve(group)
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, "broadcast_object_list", "src")
    data = pg._comm.bcast(pickle.dumps(list(object_list)) if pg.rank() == root else None, root)
    object_list[:] = pickle.loads(data)


def all_gather_object(object_list, obj, group=None):
    pg = _resolve(group)
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots but the group has "
                         f"{pg.size()} ranks")
    object_list[:] = [pickle.loads(b) for b in pg._comm.allgather(pickle.dumps(obj))]


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    pg = _resolve(group)
    if pg is None:
        return
    root = _group_rank(pg, dst, group_dst, "gather_object", "dst")
    got = pg._comm.gather(pickle.dumps(obj), root)
    if pg.rank() == root:
        if object_gather_list is None or len(object_gather_list) != pg.size():
            raise ValueError(f"gather_object: the destination rank needs an object_gather_list of {pg.size()} slots")
        object_gather_list[:] = [pickle.loads(b) for b in got]
