"""Worker (2 ranks): every collective and point-to-point op against NumPy, for several dtypes,
blocking and async, on contiguous and non-contiguous tensors, on the world and on sub-groups."""
import os

import numpy as np

import norch
import norch.distributed as dist
from norch.distributed import ReduceOp

env = {k: os.environ.get(k) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                                      "MASTER_PORT")}
assert None not in env.values(), env        # PyTorch's variables are there before init
try:        # a world size that is not what MPI started is refused with the way to start it
    dist.init_process_group(world_size=3)
except RuntimeError as e:
    assert "asked for world_size=3" in str(e) and "--nproc_per_node=3" in str(e), e
else:
    raise AssertionError("init_process_group(world_size=3) on 2 ranks did not raise")
assert not dist.is_initialized()
dist.init_process_group(backend="mpi", init_method="env://")
assert dist.is_initialized() and dist.get_backend() == "mpi"
rank, world = dist.get_rank(), dist.get_world_size()
assert (rank, world) == (int(env["RANK"]), int(env["WORLD_SIZE"])) and world == 2
try:
    dist.init_process_group()
except ValueError as e:
    assert "twice" in str(e)
else:
    raise AssertionError("second init_process_group did not raise")

DTYPES = {"float32": (norch.float32, np.float32), "float64": (norch.float64, np.float64),
          "int64": (norch.int64, np.int64), "int32": (norch.int32, np.int32), "uint8": (norch.uint8, np.uint8)}


def value(r, shape, np_dtype):
    """The tensor rank r contributes (every rank can compute every rank's)."""
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) % 5 + 1 + 2 * r).astype(np_dtype)


def tensor(a, noncontig=False):
    if noncontig:       # the same values, held transposed in memory
        return norch.from_numpy(np.ascontiguousarray(a.T)).t()
    return norch.from_numpy(a.copy())


def check(got, want, what):
    got = got.numpy() if hasattr(got, "numpy") else got
    if np.issubdtype(want.dtype, np.floating):
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def reduce_all(op, arrays):
    a = np.stack(arrays)
    if op is ReduceOp.SUM:
        return a.sum(0).astype(a.dtype)
    if op is ReduceOp.PRODUCT:
        return a.prod(0).astype(a.dtype)
    if op is ReduceOp.MIN:
        return a.min(0)
    if op is ReduceOp.MAX:
        return a.max(0)
    if op is ReduceOp.AVG:
        s = a.sum(0)
        return (s / len(arrays)).astype(a.dtype) if np.issubdtype(a.dtype, np.floating) else (s // len(arrays))


shape = (3, 4)
for name, (ndt, npdt) in DTYPES.items():
    mine = value(rank, shape, npdt)
    everyone = [value(r, shape, npdt) for r in range(world)]
    ops = [ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX] + ([ReduceOp.AVG] if name != "uint8" else [])
    for op in ops:
        for noncontig in (False, True):
            for async_op in (False, True):
                what = f"all_reduce {name} {op} noncontig={noncontig} async={async_op}"
                t = tensor(mine, noncontig)
                assert t.is_contiguous() != noncontig
                work = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    assert work.wait() and work.is_completed()
                else:
                    assert work is None
                check(t, reduce_all(op, everyone), what)
        # reduce: only the destination gets the result
        t = tensor(mine)
        dist.reduce(t, dst=1, op=op)
        check(t, reduce_all(op, everyone) if rank == 1 else mine, f"reduce {name} {op}")
    # broadcast from each source, blocking and async, non-contiguous too
    for src in range(world):
        for noncontig in (False, True):
            t = tensor(mine, noncontig)
            w = dist.broadcast(t, src=src, async_op=noncontig)
            if w is not None:
                w.wait()
            check(t, everyone[src], f"broadcast {name} src={src}")
    # all_gather (list) and all_gather_into_tensor
    outs = [norch.zeros(*shape, dtype=ndt) for _ in range(world)]
    dist.all_gather(outs, tensor(mine, True))
    for r in range(world):
        check(outs[r], everyone[r], f"all_gather {name}")
    out = norch.zeros(world * shape[0], shape[1], dtype=ndt)
    dist.all_gather_into_tensor(out, tensor(mine), async_op=True).wait()
    check(out, np.concatenate(everyone), f"all_gather_into_tensor {name}")
    # reduce_scatter (list) and reduce_scatter_tensor: rank r gets the reduction of everyone's block r
    blocks = [[value(r + 3 * j, shape, npdt) for j in range(world)] for r in range(world)]   # blocks[r][j]
    out = norch.zeros(*shape, dtype=ndt)
    dist.reduce_scatter(out, [tensor(b) for b in blocks[rank]])
    check(out, reduce_all(ReduceOp.SUM, [blocks[r][rank] for r in range(world)]), f"reduce_scatter {name}")
    out = tensor(np.zeros(shape, npdt).T.copy()).t()        # a non-contiguous output
    w = dist.reduce_scatter_tensor(out, tensor(np.concatenate(blocks[rank])), op=ReduceOp.MAX, async_op=True)
    w.wait()
    check(out, reduce_all(ReduceOp.MAX, [blocks[r][rank] for r in range(world)]), f"reduce_scatter_tensor {name}")
    # gather / scatter
    if rank == 0:
        gl = [norch.zeros(*shape, dtype=ndt) for _ in range(world)]
        dist.gather(tensor(mine), gather_list=gl, dst=0)
        for r in range(world):
            check(gl[r], everyone[r], f"gather {name}")
    else:
        dist.gather(tensor(mine), dst=0)
    out = norch.zeros(*shape, dtype=ndt)
    dist.scatter(out, scatter_list=[tensor(e) for e in everyone] if rank == 1 else None, src=1)
    check(out, everyone[rank], f"scatter {name}")
    # send/recv, isend/irecv
    peer = 1 - rank
    if rank == 0:
        dist.send(tensor(mine), dst=1)
        got = norch.zeros(*shape, dtype=ndt)
        assert dist.recv(got, src=1) == 1
        check(got, everyone[1], f"recv {name}")
    else:
        got = norch.zeros(*shape, dtype=ndt)
        assert dist.recv(got) == 0              # from any source
        check(got, everyone[0], f"recv any {name}")
        dist.send(tensor(mine), dst=0)
    got = tensor(np.zeros(shape, npdt).T.copy()).t()
    works = [dist.isend(tensor(mine), dst=peer, tag=7), dist.irecv(got, src=peer, tag=7)]
    for w in works:
        w.wait()
    check(got, everyone[peer], f"isend/irecv {name}")
    # all_to_all_single: block j of rank i goes to rank j
    inp = tensor(np.concatenate([value(rank * 10 + j, (2, 3), npdt) for j in range(world)]))
    out = norch.zeros(2 * world, 3, dtype=ndt)
    dist.all_to_all_single(out, inp)
    check(out, np.concatenate([value(i * 10 + rank, (2, 3), npdt) for i in range(world)]), f"all_to_all {name}")
    print(f"rank {rank}: OK {name}", flush=True)

# async_op=True on the remaining collectives: nothing lands before wait(), everything after it
mine, everyone = value(rank, shape, np.float32), [value(r, shape, np.float32) for r in range(world)]
t = tensor(mine)
w = dist.reduce(t, dst=0, op=ReduceOp.SUM, async_op=True)
assert w.wait()
check(t, reduce_all(ReduceOp.SUM, everyone) if rank == 0 else mine, "async reduce")
outs = [norch.zeros(*shape) for _ in range(world)]
dist.all_gather(outs, tensor(mine), async_op=True).wait()
for r in range(world):
    check(outs[r], everyone[r], "async all_gather")
out = norch.zeros(*shape)
dist.reduce_scatter(out, [tensor(value(rank + j, shape, np.float32)) for j in range(world)], op=ReduceOp.AVG,
                    async_op=True).wait()
check(out, reduce_all(ReduceOp.AVG, [value(r + rank, shape, np.float32) for r in range(world)]), "async reduce_scatter")
gl = [norch.zeros(*shape) for _ in range(world)] if rank == 1 else None
w = dist.gather(tensor(mine), gather_list=gl, dst=1, async_op=True)
w.wait()
if rank == 1:
    for r in range(world):
        check(gl[r], everyone[r], "async gather")
out = norch.zeros(*shape)
dist.scatter(out, [tensor(e) for e in everyone] if rank == 0 else None, src=0, async_op=True).wait()
check(out, everyone[rank], "async scatter")
out = norch.zeros(2 * world, 3)
inp = tensor(np.concatenate([value(rank * 10 + j, (2, 3), np.float32) for j in range(world)]))
dist.all_to_all_single(out, inp, async_op=True).wait()
check(out, np.concatenate([value(i * 10 + rank, (2, 3), np.float32) for i in range(world)]), "async all_to_all")

# bool, 0-d and empty tensors
t = norch.tensor([rank == 0, False, True])
dist.all_reduce(t, op=ReduceOp.MAX)
assert t.tolist() == [True, False, True]
t = norch.tensor(float(rank + 1))
dist.all_reduce(t)
assert t.item() == 3.0
t = norch.zeros(0)
dist.all_reduce(t)
assert t.shape == (0,)

# errors, raised before any communication (both ranks raise alike)
for call, kind in [(lambda: dist.all_reduce([1.0]), TypeError),
                   (lambda: dist.all_reduce(norch.ones(2), op="sum"), TypeError),
                   (lambda: dist.all_reduce(norch.ones(2), op=ReduceOp.BAND), TypeError),
                   (lambda: dist.all_gather([norch.ones(2)], norch.ones(2)), ValueError),
                   (lambda: dist.all_gather_into_tensor(norch.ones(3), norch.ones(2)), ValueError),
                   (lambda: dist.broadcast(norch.ones(2), src=5), ValueError),
                   (lambda: dist.send(norch.ones(2), dst=rank), ValueError),
                   (lambda: dist.new_group([0, 7]), ValueError)]:
    try:
        call()
    except kind:
        pass
    else:
        raise AssertionError(f"expected {kind.__name__}")

# many async ops in flight at once, completed in reverse order
ts = [norch.full((1000,), float(rank + i)) for i in range(6)]
works = [dist.all_reduce(t, async_op=True) for t in ts]
for w in reversed(works):
    w.wait()
for i, t in enumerate(ts):
    assert t.numpy().tolist() == [float(2 * i + 1)] * 1000
w = dist.barrier(async_op=True)
w.wait()
assert w.is_completed()
t = norch.ones(8)
w = dist.all_reduce(t, async_op=True)
assert w.wait(timeout=__import__("datetime").timedelta(seconds=30)) and w.result()[0] is t
assert t.tolist() == [2.0] * 8

# sub-groups: a group of both ranks in reverse order, a group of rank 1 only
g = dist.new_group([1, 0])
assert dist.get_process_group_ranks(g) == [0, 1] and dist.get_rank(g) == rank
solo = dist.new_group([1])
if rank == 1:
    assert dist.get_rank(solo) == 0 and dist.get_world_size(solo) == 1
    t = norch.ones(3)
    dist.all_reduce(t, group=solo)
    assert t.tolist() == [1.0, 1.0, 1.0]
    dist.broadcast(t, src=1, group=solo)
    dist.broadcast(t, group_src=0, group=solo)
else:
    assert solo is dist.GroupMember.NON_GROUP_MEMBER
    assert dist.get_rank(solo) == -1 and dist.get_world_size(solo) == -1
    t = norch.ones(3)
    assert dist.all_reduce(t, group=solo) is None       # not a member: nothing happens
    assert t.tolist() == [1.0, 1.0, 1.0]
t = norch.full((2,), float(rank + 1))
dist.all_reduce(t, op=ReduceOp.PRODUCT, group=g, async_op=True).wait()
assert t.tolist() == [2.0, 2.0]
dist.destroy_process_group(g)

# object collectives
objs = [None, None]
dist.all_gather_object(objs, {"rank": rank})
assert objs == [{"rank": 0}, {"rank": 1}]
box = [f"from {rank}"]
dist.broadcast_object_list(box, src=1)
assert box == ["from 1"]
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank}: OK all", flush=True)
