"""MNIST and CIFAR10 for the PyTorch side of bench_examples.py: torchvision is not a
dependency, so these read the same IDX and CIFAR-10 binary files as norch.datasets and
give the same items (a float32 image in [0, 1], CHW, and an int label) the same way."""
import gzip
import os

import numpy as np
import torch
from torch.utils.data import Dataset


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class MNIST(Dataset):
    def __init__(self, root, train=True, transform=None, download=False):
        prefix = "train" if train else "t10k"
        self.transform = transform
        self.data = torch.from_numpy(_read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte")).copy())
        self.targets = torch.from_numpy(_read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte")).astype(np.int64))

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img = self.data[index].unsqueeze(0).to(torch.float32) / 255.0
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.targets[index].item())


class CIFAR10(Dataset):
    def __init__(self, root, train=True, transform=None, download=False):
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        recs = [np.fromfile(os.path.join(root, n), dtype=np.uint8).reshape(-1, 3073) for n in names]
        rec = np.concatenate(recs)
        self.transform = transform
        self.data = np.ascontiguousarray(rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))  # NHWC, as norch
        self.targets = rec[:, 0].astype(np.int64).tolist()

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img = torch.from_numpy(self.data[index].transpose(2, 0, 1).copy()).to(torch.float32) / 255.0
        if self.transform is not None:
            img = self.transform(img)
        return img, self.targets[index]
