"""Worker (2 ranks): DDP training matches a single-process run on the full batch; no_sync; buffers; state_dict."""
import sys

import numpy as np

import norch
import norch.distributed as dist
import norch.nn as nn
from norch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")      # PyTorch's CPU backend name: a PyTorch script runs unchanged
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2


def make_model(seed):
    norch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def data(step, n=12):
    rng = np.random.default_rng(100 + step)
    x = rng.normal(size=(2 * n, 8)).astype(np.float32)
    y = rng.integers(0, 3, size=2 * n)
    return norch.from_numpy(x), norch.from_numpy(y)


def params_of(m):
    return [p.detach().numpy().copy() for p in m.parameters()]


def same_on_all_ranks(arrays):
    gathered = [None] * world
    dist.all_gather_object(gathered, arrays)
    for a, b in zip(gathered[0], gathered[1]):
        np.testing.assert_array_equal(a, b)


# Case 1: training steps; rank 1 starts from other weights, construction copies rank 0's.
model = make_model(seed=0 if rank == 0 else 123)
ddp = DDP(model, bucket_cap_mb=0.0005)      # tiny buckets: several buckets, each in flight in backward
assert len(ddp.reducer.buckets) > 1, len(ddp.reducer.buckets)
reference = make_model(seed=0)               # single process, full batch
same_on_all_ranks(params_of(model))
for a, b in zip(params_of(model), params_of(reference)):
    np.testing.assert_array_equal(a, b)
opt = norch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref_opt = norch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
for step in range(5):
    x, y = data(step)
    mine = slice(rank * 12, (rank + 1) * 12)
    opt.zero_grad()
    loss_fn(ddp(x[mine]), y[mine]).backward()
    # After backward the gradients are already averaged over the ranks.
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    same_on_all_ranks(grads)
    opt.step()
    ref_opt.zero_grad()
    loss_fn(reference(x), y).backward()
    for g, p in zip(grads, reference.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)
    ref_opt.step()
same_on_all_ranks(params_of(model))
for a, b in zip(params_of(model), params_of(reference)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
print(f"rank {rank}: OK training", flush=True)

# Case 2: no_sync accumulates locally; the next synchronised backward averages the sum.
model = make_model(seed=1)
ddp = DDP(model)
reference = make_model(seed=1)
x1, y1 = data(10)
x2, y2 = data(11)
mine = slice(rank * 12, (rank + 1) * 12)
with ddp.no_sync():
    loss_fn(ddp(x1[mine]), y1[mine]).backward()
local = [p.grad.numpy().copy() for p in model.parameters()]
gathered = [None] * world
dist.all_gather_object(gathered, local)
assert not all(np.array_equal(a, b) for a, b in zip(gathered[0], gathered[1])), "no_sync communicated"
loss_fn(ddp(x2[mine]), y2[mine]).backward()
loss_fn(reference(x1), y1).backward()
loss_fn(reference(x2), y2).backward()
for p, q in zip(model.parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
print(f"rank {rank}: OK no_sync", flush=True)

# Case 3: buffers come from rank 0 at construction and in forward; state_dict keys carry "module.".
bn_model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
with norch.no_grad():
    bn_model[1].running_mean.fill_(float(rank + 1))
ddp = DDP(bn_model)
assert bn_model[1].running_mean.tolist() == [1.0] * 4, bn_model[1].running_mean.tolist()
keys = list(ddp.state_dict())
assert keys and all(k.startswith("module.") for k in keys), keys
assert set(k[len("module."):] for k in keys) == set(bn_model.state_dict()), keys
assert ddp.module is bn_model
with norch.no_grad():
    bn_model[1].running_mean.fill_(float(10 * (rank + 1)))
ddp(norch.ones(3, 4))     # forward broadcasts rank 0's buffers first, then updates them the same way
same_on_all_ranks([b.numpy().copy() for b in bn_model.buffers()])
print(f"rank {rank}: OK buffers", flush=True)

# Case 4: find_unused_parameters: a branch used only on rank 0 still gets averaged gradients.
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)
        self.never = nn.Linear(3, 3)

    def forward(self, x, use_b):
        out = self.a(x)
        return self.b(out) if use_b else out


norch.manual_seed(5)
branchy = Branchy()
ddp = DDP(branchy, find_unused_parameters=True)
ddp(norch.ones(2, 3), use_b=(rank == 0)).sum().backward()
b_grads = [None] * world
dist.all_gather_object(b_grads, branchy.b.weight.grad.numpy().copy())
np.testing.assert_array_equal(b_grads[0], b_grads[1])
assert branchy.never.weight.grad is None
print(f"rank {rank}: OK find_unused_parameters", flush=True)

# Case 5: a parameter left out of the loss without find_unused_parameters is PyTorch's error next time.
ddp = DDP(Branchy())
ddp(norch.ones(2, 3), use_b=False).sum().backward()
try:
    ddp(norch.ones(2, 3), use_b=False)
except RuntimeError as e:
    assert "Expected to have finished reduction" in str(e)
else:
    sys.exit("no error for an unused parameter")
print(f"rank {rank}: OK unused error", flush=True)

# Case 6: DistributedSampler takes its rank and world size from the process group.
from norch.utils.data import DistributedSampler  # noqa: E402
sampler = DistributedSampler(list(range(11)), seed=3)
sampler.set_epoch(2)
shares = [None] * world
dist.all_gather_object(shares, list(sampler))
assert sampler.num_replicas == 2 and sampler.rank == rank and len(shares[0]) == len(shares[1]) == 6
assert sorted(set(shares[0]) | set(shares[1])) == list(range(11)), shares
print(f"rank {rank}: OK sampler", flush=True)
dist.destroy_process_group()
