"""CIFAR-10 from its binary version (no pickle): a local folder, the cache, or a checked download.

Each record of a batch file is 1 label byte then 3072 pixel bytes: 1024 red, 1024 green,
1024 blue, row-major 32x32 each.
"""
import os
import tarfile

import numpy as np

from .. import _C
from ._base import FileImageDataset

_RECORD = 1 + 3 * 32 * 32


def read_cifar_batch(path):
    """Reads one CIFAR-10 binary batch: uint8 images (N, 32, 32, 3) and int64 labels (N,)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise RuntimeError(f"read_cifar_batch: cannot read '{path}': {e}") from None
    if len(raw) == 0 or len(raw) % _RECORD != 0:
        raise RuntimeError(f"read_cifar_batch: '{path}' has {len(raw)} bytes, not a multiple of the "
                           f"{_RECORD}-byte CIFAR-10 record (truncated or not a CIFAR-10 binary batch)")
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise RuntimeError(f"read_cifar_batch: '{path}' has label {labels.max()} outside 0..9")
    images = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(FileImageDataset):
    """torchvision.datasets.CIFAR10's interface without PIL: an item is ``(image, target)`` where
    image is a float32 tensor (3, 32, 32) in [0, 1] before ``transform``. ``data`` is the uint8
    NumPy array (N, 32, 32, 3) and ``targets`` a list of ints, as in torchvision.
    """

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        self._set_root(root, train, transform, target_transform)
        names = self.train_list if train else self.test_list
        folder = self._locate_or_download(names, download)
        if folder is None:
            raise RuntimeError(f"Dataset not found or corrupted. CIFAR10 looked for {names} in "
                               f"{self._folders()}. You can use download=True to download it, or pass root= to a "
                               "folder with the binary batches.")
        parts = [read_cifar_batch(os.path.join(folder, n)) for n in names]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = np.concatenate([p[1] for p in parts]).tolist()
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _folders(self):
        return [os.path.join(self.root, self.base_folder), self.root]

    def _locate(self, names):
        for folder in self._folders():
            if all(os.path.isfile(os.path.join(folder, n)) for n in names):
                return folder
        return None

    def _download(self):
        archive = os.path.join(self.root, self.filename)
        self._fetch([self.url], archive, self.tgz_md5, "the binary batches")
        # Only the expected regular files are copied out: no member path from the archive is trusted.
        out_dir = os.path.join(self.root, self.base_folder)
        os.makedirs(out_dir, exist_ok=True)
        wanted = {f"{self.base_folder}/{n}" for n in self.train_list + self.test_list + ["batches.meta.txt"]}
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if member.name in wanted and member.isfile():
                    src = tar.extractfile(member)
                    with open(os.path.join(out_dir, os.path.basename(member.name)), "wb") as dst:
                        dst.write(src.read())

    def _image(self, index):
        return _C.from_numpy(self.data[index].transpose(2, 0, 1).copy()).to(_C.float32) / 255.0

    def _target(self, index):
        return self.targets[index]
