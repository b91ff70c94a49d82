"""Shared dataset plumbing: the cache folder, checked downloads with short timeouts, IDX files."""
import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request

import numpy as np

DOWNLOAD_TIMEOUT_S = 10.0


def default_root():
    """``$NORCH_HOME/datasets`` if set, else ``~/.cache/norch/datasets``."""
    home = os.environ.get("NORCH_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "norch")
    return os.path.join(home, "datasets")


def file_digest(path, algorithm="md5"):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(urls, dest, md5=None, timeout=DOWNLOAD_TIMEOUT_S):
    """Fetches the first URL that works into ``dest`` (atomically) and checks its md5.

    Returns None on success, else a list of the reasons each mirror failed, so the caller can
    raise one error that names them all.
    """
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
            if md5 is not None and file_digest(tmp) != md5:
                errors.append(f"{url}: md5 mismatch")
                continue
            os.replace(tmp, dest)
            return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return errors


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Reads an IDX file (MNIST's format), gzipped or not, as a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise RuntimeError(f"read_idx: cannot read '{path}': {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(f"read_idx: '{path}' is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"read_idx: '{path}' is truncated (header needs {header} bytes, file has {len(raw)})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise RuntimeError(f"read_idx: '{path}' has {len(raw) - header} data bytes, expected {expected} for shape "
                           f"{shape} (truncated or corrupted)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def find_file(folders, names):
    for folder in folders:
        for name in names:
            p = os.path.join(folder, name)
            if os.path.isfile(p):
                return p
    return None
