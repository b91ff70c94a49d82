"""SyntheticDigits: a deterministic, offline image-classification dataset of drawn digits.

Each image is a digit 0-9 drawn as line strokes (a seven-segment-like font with a few
diagonals) under a random scale, shift, shear and stroke width, plus Gaussian pixel noise.
Everything comes from a seeded NumPy generator, so the same arguments give the same bytes
on every machine; nothing is downloaded. It is small enough to train a CNN to high test
accuracy in well under a minute on two CPU cores, which is what examples/train_digits.py does.
"""
import numpy as np

from .. import _C
from ._base import ImageDataset

# Stroke end points in a unit box (x right, y down).
_TL, _TR, _ML, _MR, _BL, _BR = (0.25, 0.15), (0.75, 0.15), (0.25, 0.5), (0.75, 0.5), (0.25, 0.85), (0.75, 0.85)
_STROKES = {
    0: [(_TL, _TR), (_TR, _BR), (_BR, _BL), (_BL, _TL), (_BL, _TR)],
    1: [((0.5, 0.15), (0.5, 0.85)), ((0.33, 0.3), (0.5, 0.15)), ((0.35, 0.85), (0.65, 0.85))],
    2: [(_TL, _TR), (_TR, _MR), (_MR, _ML), (_ML, _BL), (_BL, _BR)],
    3: [(_TL, _TR), (_TR, _BR), (_BR, _BL), ((0.4, 0.5), _MR)],
    4: [(_TL, _ML), (_ML, _MR), ((0.65, 0.15), (0.65, 0.85))],
    5: [(_TR, _TL), (_TL, _ML), (_ML, _MR), (_MR, _BR), (_BR, _BL)],
    6: [(_TR, _TL), (_TL, _BL), (_BL, _BR), (_BR, _MR), (_MR, _ML)],
    7: [(_TL, _TR), (_TR, (0.4, 0.85))],
    8: [(_TL, _TR), (_TR, _BR), (_BR, _BL), (_BL, _TL), (_ML, _MR)],
    9: [(_ML, _TL), (_TL, _TR), (_TR, _BR), (_BR, _BL), (_ML, _MR)],
}


def _draw(digit, size, rng):
    segs = np.array(_STROKES[digit], dtype=np.float64)          # (S, 2 ends, 2 coords)
    scale = rng.uniform(0.75, 1.05)
    shear = rng.uniform(-0.2, 0.2)
    shift = rng.uniform(-0.12, 0.12, size=2)
    width = rng.uniform(0.015, 0.04)
    pts = segs - 0.5
    pts = np.stack([pts[..., 0] + shear * pts[..., 1], pts[..., 1]], axis=-1) * scale + 0.5 + shift
    a, b = pts[:, 0], pts[:, 1]                                   # (S, 2)
    coords = (np.arange(size) + 0.5) / size
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    p = np.stack([xx.ravel(), yy.ravel()], axis=1)[:, None, :]    # (P, 1, 2)
    ab = b - a
    t = np.clip(((p - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    d = np.linalg.norm(p - (a + t[..., None] * ab), axis=-1).min(axis=1)     # distance to nearest stroke
    img = np.clip(1.0 - (d - width) / (1.2 / size), 0.0, 1.0).reshape(size, size)
    img = img * rng.uniform(0.7, 1.0) + rng.normal(0.0, 0.12, size=(size, size))
    return np.clip(img, 0.0, 1.0)


def make_digits(n, size=16, seed=0):
    """``n`` images (uint8, (n, size, size)) and labels (int64, (n,)), balanced over the 10 digits."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64) % 10
    rng.shuffle(labels)
    images = np.empty((n, size, size), dtype=np.uint8)
    for i, digit in enumerate(labels):
        images[i] = np.round(_draw(int(digit), size, rng) * 255).astype(np.uint8)
    return images, labels


class SyntheticDigits(ImageDataset):
    """Drawn digits: ``(image, target)`` with image a float32 tensor (1, size, size) in [0, 1].

    The train and test splits come from different seeds (``seed`` and ``seed + 1``), so no
    test image is a copy of a training one.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, train=True, num_samples=None, size=16, seed=0, transform=None, target_transform=None):
        if num_samples is None:
            num_samples = 6000 if train else 1000
        if num_samples < 0 or size < 4:
            raise ValueError(f"SyntheticDigits: need num_samples >= 0 and size >= 4, got {num_samples} and {size}")
        self._set_split(train, transform, target_transform)
        images, labels = make_digits(num_samples, size, seed if train else seed + 1)
        self.data = _C.from_numpy(images)
        self.targets = _C.from_numpy(labels)

    def tensors(self):
        """The whole split at once: images (N, 1, size, size) float32 in [0, 1] and int64 labels."""
        return self.data.unsqueeze(1).to(_C.float32) / 255.0, self.targets
