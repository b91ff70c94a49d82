"""Train an MLP or a LeNet-style CNN on MNIST with norch.

    python examples/mnist/main.py --download                       # LeNet, 5 epochs
    python examples/mnist/main.py --model mlp --data-dir ~/data    # IDX files already there

Per epoch it prints train/test loss and accuracy, saves a checkpoint (model, optimizer,
scheduler, epoch) with norch.save, and resumes from it with --resume. tqdm (progress bars)
and matplotlib (--plot curves.png) are used when installed.
"""
import argparse
import os
import sys
import time

import numpy as np

import norch
import norch.nn as nn
import norch.optim as optim
from norch.datasets import MNIST
from norch.utils.data import DataLoader

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    tqdm = None

MEAN, STD = 0.1307, 0.3081


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 256), nn.ReLU(), nn.Dropout(0.2),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):          # x: (N, 1, 28, 28)
        return self.net(x)         # (N, 10) logits


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),               # (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
                                        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def run_epoch(model, loader, criterion, device, optimizer=None, desc=""):
    """One pass over ``loader``; trains when an optimizer is given. Returns (mean loss, accuracy)."""
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    batches = tqdm(loader, desc=desc, leave=False) if tqdm is not None else loader
    with norch.set_grad_enabled(training):
        for x, y in batches:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = criterion(logits, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            n = len(y)
            total_loss += loss.item() * n
            correct += int((logits.detach().cpu().numpy().argmax(1) == y.cpu().numpy()).sum())
            seen += n
    return total_loss / seen, correct / seen


def plot_curves(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed; no plot written", file=sys.stderr)
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history["train_loss"]) + 1)
    for key in ("train_loss", "test_loss"):
        ax1.plot(epochs, history[key], label=key)
    for key in ("train_acc", "test_acc"):
        ax2.plot(epochs, history[key], label=key)
    ax1.set_xlabel("epoch"), ax2.set_xlabel("epoch"), ax1.legend(), ax2.legend()
    fig.savefig(path)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="MNIST with norch")
    parser.add_argument("--model", choices=["mlp", "lenet"], default="lenet")
    parser.add_argument("--data-dir", default=None, help="folder with the IDX files (default: norch's cache)")
    parser.add_argument("--download", action="store_true", help="download MNIST if it is not found")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--checkpoint", default="mnist_checkpoint.safetensors")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--plot", default=None, help="write loss/accuracy curves to this image")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if hasattr(norch, "manual_seed"):
        norch.manual_seed(args.seed)
    device = "cuda" if norch.cuda.is_available() else "cpu"
    normalize = lambda img: (img - MEAN) / STD  # noqa: E731
    train_set = MNIST(args.data_dir, train=True, transform=normalize, download=args.download)
    test_set = MNIST(args.data_dir, train=False, transform=normalize, download=args.download)
    if args.limit is not None:
        train_set = norch.utils.data.Subset(train_set, list(range(min(args.limit, len(train_set)))))
    generator = norch.Generator().manual_seed(args.seed) if hasattr(norch, "Generator") else \
        np.random.default_rng(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator,
                              num_workers=args.num_workers)
    test_loader = DataLoader(test_set, batch_size=1000, num_workers=args.num_workers)

    model = (MLP() if args.model == "mlp" else LeNet()).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    first_epoch = 0
    if args.resume and os.path.exists(args.checkpoint):
        ck = norch.load(args.checkpoint, map_location=device)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        history, first_epoch = ck["history"], ck["epoch"]
        print(f"resumed from {args.checkpoint} at epoch {first_epoch}")

    for epoch in range(first_epoch, args.epochs):
        start = time.time()
        train_loss, train_acc = run_epoch(model, train_loader, criterion, device, optimizer, f"epoch {epoch + 1}")
        test_loss, test_acc = run_epoch(model, test_loader, criterion, device)
        scheduler.step()
        for key, value in zip(history, (train_loss, train_acc, test_loss, test_acc)):
            history[key].append(value)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
              f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}% | lr {scheduler.get_last_lr()[0]:.2e} | "
              f"{time.time() - start:.1f}s")
        norch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "history": history, "epoch": epoch + 1}, args.checkpoint)
    if args.plot:
        plot_curves(history, args.plot)
    return history


if __name__ == "__main__":
    main()
