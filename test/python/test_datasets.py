"""norch.datasets: IDX and CIFAR-10 binary readers on tiny files built here, SyntheticDigits. No network."""
import numpy as np
import pytest

import norch
from norch.datasets import CIFAR10, MNIST, FashionMNIST, SyntheticDigits, make_digits, read_idx
from norch.datasets import _utils
from norch.utils.data import DataLoader

from _oracle import write_idx


def _make_mnist(folder, n=5, prefix="train", gz=False):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) * 3 % 10).astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(str(folder / f"{prefix}-images-idx3-ubyte{suffix}"), images, gz=gz)
    write_idx(str(folder / f"{prefix}-labels-idx1-ubyte{suffix}"), labels, gz=gz)
    return images, labels


def test_read_idx_types_and_gzip(tmp_path):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    write_idx(str(tmp_path / "a.idx"), a, 0x0C)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "a.idx")), a)
    f = np.linspace(-1, 1, 6).astype(np.float32)
    write_idx(str(tmp_path / "f.idx.gz"), f, 0x0D, gz=True)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "f.idx.gz")), f)


def test_read_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(RuntimeError, match="bad.*not an IDX file"):
        read_idx(str(tmp_path / "bad"))
    write_idx(str(tmp_path / "t"), np.zeros((4, 4), np.uint8))
    raw = (tmp_path / "t").read_bytes()
    (tmp_path / "t").write_bytes(raw[:-3])
    with pytest.raises(RuntimeError, match="truncated or corrupted"):
        read_idx(str(tmp_path / "t"))
    with pytest.raises(RuntimeError, match="cannot read"):
        read_idx(str(tmp_path / "missing"))


@pytest.mark.parametrize("layout", ["root", "MNIST/raw", "gz"])
def test_mnist_reads_local_folder(tmp_path, layout):
    folder = tmp_path
    if layout == "MNIST/raw":
        folder = tmp_path / "MNIST" / "raw"
        folder.mkdir(parents=True)
    images, labels = _make_mnist(folder, gz=layout == "gz")
    _make_mnist(folder, n=3, prefix="t10k", gz=layout == "gz")
    ds = MNIST(root=tmp_path, train=True)
    assert len(ds) == 5 and ds.data.dtype == norch.uint8 and ds.targets.dtype == norch.int64
    img, target = ds[2]
    assert img.dtype == norch.float32 and tuple(img.shape) == (1, 28, 28)
    np.testing.assert_allclose(img.numpy()[0], images[2] / 255.0, rtol=1e-6)
    assert target == int(labels[2]) and isinstance(target, int)
    assert len(MNIST(root=str(tmp_path), train=False)) == 3


def test_mnist_transforms_and_loader(tmp_path):
    _make_mnist(tmp_path, n=6)
    ds = MNIST(tmp_path, transform=lambda x: (x - 0.5) / 0.5, target_transform=lambda y: y + 100)
    img, target = ds[0]
    assert img.numpy().min() >= -1.0 and target >= 100
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(xb.shape) == (4, 1, 28, 28) and yb.dtype == norch.int64


def test_mnist_missing_without_download_is_clear(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found.*download=True"):
        MNIST(root=tmp_path / "empty")


def test_mnist_download_failure_is_clear_and_fast(tmp_path, monkeypatch):
    # No network in tests: every mirror is refused at once, as when offline.
    def refuse(url, timeout):
        raise OSError("network is unreachable")
    monkeypatch.setattr(_utils.urllib.request, "urlopen", refuse)
    with pytest.raises(RuntimeError, match="could not download train-images-idx3-ubyte.gz.*unreachable.*root="):
        MNIST(root=tmp_path, download=True)
    with pytest.raises(RuntimeError, match="CIFAR10: could not download"):
        CIFAR10(root=tmp_path, download=True)
    assert not list((tmp_path / "MNIST" / "raw").glob("*.part"))


def test_download_checks_md5(tmp_path, monkeypatch):
    import io

    class Resp(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False
    monkeypatch.setattr(_utils.urllib.request, "urlopen", lambda url, timeout: Resp(b"payload"))
    errors = _utils.download(["http://example.invalid/f"], str(tmp_path / "f"), md5="0" * 32)
    assert errors == ["http://example.invalid/f: md5 mismatch"] and not (tmp_path / "f").exists()
    import hashlib
    assert _utils.download(["u"], str(tmp_path / "f"), md5=hashlib.md5(b"payload").hexdigest()) is None
    assert (tmp_path / "f").read_bytes() == b"payload"


def test_fashion_mnist_uses_its_own_folder(tmp_path):
    folder = tmp_path / "FashionMNIST" / "raw"
    folder.mkdir(parents=True)
    _make_mnist(folder, n=4)
    assert len(FashionMNIST(tmp_path)) == 4
    assert FashionMNIST.classes[9] == "Ankle boot"


def _make_cifar(folder, name, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    chw = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    rec = np.concatenate([labels[:, None], chw.reshape(n, -1)], axis=1)
    (folder / name).write_bytes(rec.tobytes())
    return chw, labels


def test_cifar10_reads_binary_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    parts = [_make_cifar(folder, f"data_batch_{i}.bin", 2, i) for i in range(1, 6)]
    test_chw, test_labels = _make_cifar(folder, "test_batch.bin", 3, 9)
    train = CIFAR10(root=tmp_path, train=True)
    assert len(train) == 10 and train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets == sum((p[1].tolist() for p in parts), [])
    np.testing.assert_array_equal(train.data[3], parts[1][0][1].transpose(1, 2, 0))
    test = CIFAR10(root=tmp_path, train=False)
    img, target = test[1]
    assert tuple(img.shape) == (3, 32, 32) and img.dtype == norch.float32 and target == int(test_labels[1])
    np.testing.assert_allclose(img.numpy(), test_chw[1] / 255.0, rtol=1e-6)


def test_cifar10_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found.*download=True"):
        CIFAR10(root=tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(RuntimeError, match="test_batch.bin' has 100 bytes, not a multiple"):
        CIFAR10(root=tmp_path, train=False)


def test_synthetic_digits_deterministic_and_balanced():
    a_img, a_lab = make_digits(50, seed=3)
    b_img, b_lab = make_digits(50, seed=3)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_lab, b_lab)
    assert not np.array_equal(make_digits(50, seed=4)[0], a_img)
    assert np.bincount(a_lab, minlength=10).tolist() == [5] * 10
    ds = SyntheticDigits(train=True, num_samples=20, size=12)
    img, target = ds[0]
    assert tuple(img.shape) == (1, 12, 12) and img.dtype == norch.float32 and 0 <= target <= 9
    assert 0.0 <= img.numpy().min() and img.numpy().max() <= 1.0
    test = SyntheticDigits(train=False, num_samples=20, size=12)
    assert not np.array_equal(test.data.numpy(), ds.data.numpy())
    x, y = ds.tensors()
    assert tuple(x.shape) == (20, 1, 12, 12) and y.tolist() == ds.targets.tolist()


def test_synthetic_digits_are_learnable_by_nearest_centroid():
    # A sanity check that classes are distinct: nearest class mean gets well above chance (10%).
    tr_x, tr_y = make_digits(500, seed=0)
    te_x, te_y = make_digits(200, seed=1)
    tr = tr_x.reshape(len(tr_x), -1) / 255.0
    te = te_x.reshape(len(te_x), -1) / 255.0
    means = np.stack([tr[tr_y == c].mean(0) for c in range(10)])
    pred = ((te[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (pred == te_y).mean() > 0.4
