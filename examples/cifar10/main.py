"""Train a small ResNet-style CNN on CIFAR-10 with norch.

    python examples/cifar10/main.py --download              # 10 epochs, random crop + flip
    python examples/cifar10/main.py --data-dir ~/data/cifar-10-batches-bin --epochs 2

Reads the CIFAR-10 *binary* batches (never pickle). Per epoch it prints train/test loss and
accuracy and saves a checkpoint with norch.save (--resume continues from it); tqdm and
matplotlib (--plot curves.png) are used when installed.
"""
import argparse
import os
import sys

import numpy as np

import norch
import norch.nn as nn
import norch.optim as optim
from norch.datasets import CIFAR10
from norch.utils.data import DataLoader, get_worker_info

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import fit, limit, open_dataset, seed_everything  # noqa: E402  (examples/common.py)

MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32).reshape(3, 1, 1)


def normalize(img):
    return norch.from_numpy((img.numpy() - MEAN) / STD)


def augment(img):
    """Random 32x32 crop of the 4-pixel zero-padded image, then a random horizontal flip."""
    a = np.pad(img.numpy(), ((0, 0), (4, 4), (4, 4)))
    i, j = np.random.randint(0, 9, size=2)
    a = a[:, i:i + 32, j:j + 32]
    if np.random.rand() < 0.5:
        a = a[:, :, ::-1]
    return norch.from_numpy(((a - MEAN) / STD).astype(np.float32))


def seed_numpy_in_worker(worker_id):
    # Forked workers inherit NumPy's global state: give each its own stream for augmentation.
    np.random.seed(get_worker_info().seed % 2 ** 32)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self, width=16, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.layers = nn.Sequential(
            BasicBlock(width, width, 1),              # (N, w, 32, 32)
            BasicBlock(width, 2 * width, 2),          # (N, 2w, 16, 16)
            BasicBlock(2 * width, 4 * width, 2),      # (N, 4w, 8, 8)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(x.flatten(1))


def main(argv=None):
    parser = argparse.ArgumentParser(description="CIFAR-10 with norch")
    parser.add_argument("--data-dir", default=None, help="folder with the binary batches (default: norch's cache)")
    parser.add_argument("--download", action="store_true", help="download CIFAR-10 if it is not found")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--checkpoint", default="cifar10_checkpoint.safetensors")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--plot", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    generator = seed_everything(args.seed)
    np.random.seed(args.seed)
    device = "cuda" if norch.cuda.is_available() else "cpu"
    train_set = open_dataset(lambda: CIFAR10(args.data_dir, train=True, transform=augment, download=args.download),
                             "examples/cifar10/main.py", args.data_dir)
    test_set = open_dataset(lambda: CIFAR10(args.data_dir, train=False, transform=normalize, download=args.download),
                            "examples/cifar10/main.py", args.data_dir)
    train_set = limit(train_set, args.limit)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator,
                              num_workers=args.num_workers, worker_init_fn=seed_numpy_in_worker,
                              drop_last=True)
    test_loader = DataLoader(test_set, batch_size=500, num_workers=args.num_workers)

    model = SmallResNet(args.width).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                              steps_per_epoch=len(train_loader))
    return fit(model, train_loader, test_loader, criterion, optimizer, scheduler, device, args,
               per_batch_scheduler=True)


if __name__ == "__main__":
    main()
