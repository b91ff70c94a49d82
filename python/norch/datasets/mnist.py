"""MNIST (and Fashion-MNIST) from IDX files: a local folder, the cache, or a checked download."""
import os

import numpy as np

from .. import _C
from . import _utils
from ._base import FileImageDataset


class MNIST(FileImageDataset):
    """torchvision.datasets.MNIST's interface without PIL: an item is ``(image, target)`` where
    image is a float32 tensor (1, 28, 28) in [0, 1] (what ToTensor gives) before ``transform``.
    ``data`` is the uint8 tensor (N, 28, 28) and ``targets`` the int64 labels.

    Files are looked up in ``root/<Name>/raw``, ``root/<Name>`` and ``root`` (gzipped or not);
    ``root`` defaults to the norch cache (~/.cache/norch/datasets).
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        self._set_root(root, train, transform, target_transform)
        prefix = "train" if train else "t10k"
        found = self._locate_or_download(prefix, download)
        if found is None:
            raise RuntimeError(f"Dataset not found. {type(self).__name__} looked for {prefix}-images-idx3-ubyte[.gz] "
                               f"and {prefix}-labels-idx1-ubyte[.gz] in {self._folders()}. "
                               "You can use download=True to download it, or pass root= to a folder with the files.")
        images, labels = found
        data = _utils.read_idx(images)
        targets = _utils.read_idx(labels)
        if data.ndim != 3 or targets.ndim != 1 or len(data) != len(targets):
            raise RuntimeError(f"{type(self).__name__}: {images} holds {data.shape} images but {labels} holds "
                               f"{targets.shape} labels")
        self.data = _C.from_numpy(np.ascontiguousarray(data, dtype=np.uint8))
        self.targets = _C.from_numpy(targets.astype(np.int64))

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _folders(self):
        return [self.raw_folder, os.path.join(self.root, type(self).__name__), self.root]

    def _locate(self, prefix):
        folders = self._folders()
        images = _utils.find_file(folders, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images-idx3-ubyte.gz",
                                            f"{prefix}-images.idx3-ubyte"])
        labels = _utils.find_file(folders, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels-idx1-ubyte.gz",
                                            f"{prefix}-labels.idx1-ubyte"])
        return (images, labels) if images and labels else None

    def _download(self):
        for filename, md5 in self.resources:
            self._fetch([m + filename for m in self.mirrors], os.path.join(self.raw_folder, filename), md5,
                        "the IDX files")


class FashionMNIST(MNIST):
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
