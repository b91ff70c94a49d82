"""What the image-classification datasets share: transforms, indexing, length, and (for those
read from files) the root folder, the find-or-download step and the repr."""
import os

from .. import _C
from ..utils.data import Dataset
from . import _utils


class ImageDataset(Dataset):
    """An item is ``(image, target)``: ``_image(index)`` and ``_target(index)`` passed through
    ``transform`` and ``target_transform``. By default ``data`` holds uint8 images (N, H, W),
    given as float32 (1, H, W) in [0, 1], and ``targets`` an int64 tensor."""

    def _set_split(self, train, transform, target_transform):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform

    def _image(self, index):
        return self.data[index].unsqueeze(0).to(_C.float32) / 255.0

    def _target(self, index):
        return int(self.targets[index].item())

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img = self._image(index)
        target = self._target(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class FileImageDataset(ImageDataset):
    """An ImageDataset read from files under ``root`` (default: the norch cache). Subclasses give
    ``_folders()``, ``_locate(key)`` (None when the files are not there) and ``_download()``."""

    def _set_root(self, root, train, transform, target_transform):
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else _utils.default_root()
        self._set_split(train, transform, target_transform)

    def _locate_or_download(self, key, download):
        """``_locate(key)``; when nothing is found and ``download`` is set, downloads then looks again."""
        found = self._locate(key)
        if found is None and download:
            self._download()
            found = self._locate(key)
        return found

    def _fetch(self, urls, dest, md5, holds):
        """Downloads ``dest`` from the first working url unless a copy with the right md5 is there."""
        if os.path.isfile(dest) and _utils.file_digest(dest) == md5:
            return
        errors = _utils.download(urls, dest, md5)
        if errors:
            raise RuntimeError(f"{type(self).__name__}: could not download {os.path.basename(dest)} "
                               f"({'; '.join(errors)}) and no local copy was found in {self._folders()}; "
                               f"pass root= to a folder that holds {holds}")

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Root location: "
                f"{self.root}\n    Split: {'Train' if self.train else 'Test'}")
