"""Train the digits MLP data-parallel on several processes with DistributedDataParallel.

    python -m norch.distributed.run --nproc_per_node=2 examples/ddp_train.py
    mpirun -n 2 python examples/ddp_train.py            # the same, started by MPI directly

Each rank trains on its own share of every epoch (DistributedSampler) with batches of
--batch-size; DDP averages the gradients during backward, so all ranks take the same
optimizer steps, as one process would on batches of world_size * batch_size. Rank 0
prints the loss (averaged over the ranks) and the test accuracy. It needs Open MPI and
mpi4py (scripts/install_mpi.sh); docs/distributed.md explains what happens inside.
"""
import argparse
import time

import norch
import norch.distributed as dist
import norch.nn as nn
import norch.optim as optim
from norch.datasets import SyntheticDigits
from norch.nn.parallel import DistributedDataParallel as DDP
from norch.utils.data import DataLoader, DistributedSampler, TensorDataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--train-samples", type=int, default=6000)
    parser.add_argument("--test-samples", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    dist.init_process_group()              # rank and world size come from the launcher
    rank, world = dist.get_rank(), dist.get_world_size()
    norch.manual_seed(args.seed + rank)    # different on purpose: DDP copies rank 0's weights to all
    start = time.time()
    train = SyntheticDigits(train=True, num_samples=args.train_samples, size=args.size, seed=args.seed)
    test = SyntheticDigits(train=False, num_samples=args.test_samples, size=args.size, seed=args.seed)
    dataset = TensorDataset(*train.tensors())
    sampler = DistributedSampler(dataset, seed=args.seed)       # this rank's share, reshuffled each epoch
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)

    model = nn.Sequential(nn.Flatten(), nn.Linear(args.size * args.size, 128), nn.ReLU(), nn.Linear(128, 10))
    ddp = DDP(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(ddp.parameters(), lr=args.lr)
    if rank == 0:
        print(f"{world} ranks, {len(loader)} steps per epoch of {world} x {args.batch_size} images")

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        total, batches = norch.zeros(1, dtype=norch.float64), 0
        for x, y in loader:
            loss = criterion(ddp(x), y)
            optimizer.zero_grad()
            loss.backward()                 # gradients arrive averaged over the ranks
            optimizer.step()
            total += loss.item()
            batches += 1
        dist.all_reduce(total, op=dist.ReduceOp.AVG)
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: train loss {total.item() / max(batches, 1):.4f}")

    if rank == 0:
        x_test, y_test = test.tensors()
        model.eval()
        with norch.no_grad():
            pred = model(x_test).numpy().argmax(1)
        acc = float((pred == y_test.numpy()).mean())
        print(f"test accuracy: {100 * acc:.2f}% ({time.time() - start:.1f}s)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
