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

import norch
import norch.nn as nn
import norch.optim as optim
from norch.datasets import MNIST
from norch.utils.data import DataLoader

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import fit, limit, open_dataset, seed_everything  # noqa: E402  (examples/common.py)

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

    generator = seed_everything(args.seed)
    device = "cuda" if norch.cuda.is_available() else "cpu"
    normalize = lambda img: (img - MEAN) / STD  # noqa: E731
    train_set = open_dataset(lambda: MNIST(args.data_dir, train=True, transform=normalize, download=args.download),
                             "examples/mnist/main.py", args.data_dir)
    test_set = open_dataset(lambda: MNIST(args.data_dir, train=False, transform=normalize, download=args.download),
                            "examples/mnist/main.py", args.data_dir)
    train_set = limit(train_set, args.limit)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator,
                              num_workers=args.num_workers)
    test_loader = DataLoader(test_set, batch_size=1000, num_workers=args.num_workers)

    model = (MLP() if args.model == "mlp" else LeNet()).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return fit(model, train_loader, test_loader, criterion, optimizer, scheduler, device, args)


if __name__ == "__main__":
    main()
