"""Train a small CNN on SyntheticDigits and print its test accuracy (offline, about a minute on 2 cores).

    python examples/train_digits.py                 # 3 epochs, prints loss per epoch, then accuracy
    python examples/train_digits.py --model mlp     # a 2-layer MLP instead
    python examples/train_digits.py --save digits.safetensors

The data are 16x16 digits drawn by norch.datasets.SyntheticDigits from a seed: nothing is downloaded.
"""
import argparse
import time

import numpy as np

import norch
import norch.nn as nn
import norch.optim as optim
from norch.datasets import SyntheticDigits
from norch.utils.data import DataLoader, TensorDataset


def build_model(kind, size):
    if kind == "auto":
        kind = "cnn" if hasattr(nn, "Conv2d") and hasattr(nn, "MaxPool2d") else "mlp"
    if kind == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # (N, 16, size/2, size/2)
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (N, 32, size/4, size/4)
            nn.Flatten(), nn.Linear(32 * (size // 4) ** 2, 64), nn.ReLU(), nn.Linear(64, 10),
        )
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(size * size, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, kind


def accuracy(model, x, y, batch_size=500):
    model.eval()
    correct = 0
    with norch.no_grad():
        for i in range(0, len(y), batch_size):
            logits = model(x[i:i + batch_size])
            correct += int((logits.numpy().argmax(1) == y[i:i + batch_size].numpy()).sum())
    model.train()
    return correct / len(y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--model", choices=["auto", "cnn", "mlp"], default="auto")
    parser.add_argument("--train-samples", type=int, default=6000)
    parser.add_argument("--test-samples", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write the trained weights here (norch.save)")
    args = parser.parse_args(argv)

    if hasattr(norch, "manual_seed"):
        norch.manual_seed(args.seed)
    start = time.time()
    train = SyntheticDigits(train=True, num_samples=args.train_samples, size=args.size, seed=args.seed)
    test = SyntheticDigits(train=False, num_samples=args.test_samples, size=args.size, seed=args.seed)
    x_test, y_test = test.tensors()
    loader = DataLoader(TensorDataset(*train.tensors()), batch_size=args.batch_size, shuffle=True,
                        generator=np.random.default_rng(args.seed) if not hasattr(norch, "Generator") else
                        norch.Generator().manual_seed(args.seed))
    model, kind = build_model(args.model, args.size)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(loader))
    print(f"model: {kind}, {sum(p.numel() for p in model.parameters())} parameters; "
          f"{len(train)} train / {len(test)} test images of {args.size}x{args.size}")

    step = 0
    for epoch in range(args.epochs):
        total, batches = 0.0, 0
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
            batches += 1
            step += 1
            if args.max_steps is not None and step >= args.max_steps:
                break
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / max(batches, 1):.4f}, "
              f"test accuracy {100 * accuracy(model, x_test, y_test):.1f}%")
        if args.max_steps is not None and step >= args.max_steps:
            break

    acc = accuracy(model, x_test, y_test)
    if args.save:
        norch.save(model.state_dict(), args.save)
        print(f"saved weights to {args.save}")
    print(f"test accuracy: {100 * acc:.2f}% ({time.time() - start:.1f}s)")
    return acc


if __name__ == "__main__":
    main()
