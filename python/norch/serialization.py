"""norch.save / norch.load: checkpoints in the safetensors format; other objects pickled safely.

State dicts, tensors and containers of them use the safetensors format below. Any other
picklable object (a whole module, an optimizer) is pickled as Note [Pickled checkpoints]
in _pickle_format.py describes; loading it defaults to weights_only=True, which never
runs code from the file.

Note [Checkpoint format]
A file is a valid safetensors file: an 8-byte little-endian header length, a JSON header
naming each tensor's dtype, shape and byte range, then the raw little-endian bytes. The
object around the tensors (state dicts, nested dicts/lists/tuples, numbers, strings, bools,
None) is stored as tagged JSON in the header's ``__metadata__["norch"]``; each tensor is
named by its path in that object (``state.0.exp_avg``), so a PyTorch user opening the file
with the ``safetensors`` package sees meaningful names. Loading only parses JSON and copies
bytes: no code from the file is ever run. A plain safetensors file (no norch metadata)
loads as a dict of tensors. Writes go to a temporary file in the same folder, are fsynced,
then renamed over the target, so a crash mid-write leaves the old file intact.
"""
import collections
import json
import math
import os
import struct
import tempfile

import numpy as np

from . import _C
from ._C import Tensor
from . import _pickle_format
from ._pickle_format import add_safe_globals, get_safe_globals, clear_safe_globals, safe_globals  # noqa: F401

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_FORMAT_VERSION = "1"
_ST_DTYPES = {"float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64", "uint8": "U8", "bool": "BOOL",
              "float16": "F16", "bfloat16": "BF16"}
# BF16 bits are read as float16 (same size, no conversion) and re-viewed as bfloat16.
_NP_DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8,
              "BOOL": np.bool_, "I8": np.int8, "I16": np.int16, "F16": np.float16, "BF16": np.float16}


def _dtype_name(dtype):
    return str(dtype).replace("norch.", "")


class _NotEncodable(TypeError):
    """The object holds something the safetensors format cannot describe: it is pickled instead."""


class _Encoder:
    """Turns an object into tagged JSON, collecting its tensors by path."""

    def __init__(self):
        self.tensors = {}       # name -> contiguous CPU numpy array
        self.bf16 = set()       # names whose float16 array holds bfloat16 bits
        self._by_id = {}        # id(tensor) -> name, so a tensor referenced twice is stored once
        self._keep = []         # keeps encoded tensors alive so ids stay unique

    def _name(self, path):
        base = ".".join(path) if path else "tensor"
        name, n = base, 1
        while name in self.tensors or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def encode(self, obj, path=()):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) not in self._by_id:
                name = self._name(path)
                arr = _pickle_format.numpy_bits(obj)
                self.tensors[name] = np.ascontiguousarray(arr).reshape(arr.shape)  # keeps 0-d as 0-d
                if obj.dtype == _C.bfloat16:
                    self.bf16.add(name)
                self._by_id[id(obj)] = name
                self._keep.append(obj)
            return {"__tensor__": self._by_id[id(obj)], "device": str(obj.device),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, _C.dtype):
            return {"__dtype__": _dtype_name(obj)}
        if isinstance(obj, _C.device):
            return {"__device__": str(obj)}
        if isinstance(obj, dict):
            tag = "__odict__" if isinstance(obj, collections.OrderedDict) else \
                "__counter__" if isinstance(obj, collections.Counter) else "__dict__"
            items = [[self.encode(k, path), self.encode(v, path + (str(k),))] for k, v in obj.items()]
            return {tag: items}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]
        raise _NotEncodable(f"norch.save: cannot save an object of type {type(obj).__name__} at "
                        f"'{'.'.join(path) or '<root>'}'; supported: tensors, dicts, lists, tuples, numbers, "
                        f"strings, bools, None, dtypes and devices")


def _decode(obj, tensors, where, place):
    if isinstance(obj, list):
        return [_decode(v, tensors, where, place) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        t = tensors.get(obj["__tensor__"])
        if t is None:
            raise RuntimeError(f"norch.load: {where} refers to a tensor '{obj['__tensor__']}' that is not in the file")
        return place(t, obj.get("device", "cpu"), obj.get("requires_grad", False))
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__dtype__" in obj:
        return getattr(_C, obj["__dtype__"])
    if "__device__" in obj:
        return _C.device(obj["__device__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors, where, place) for v in obj["__tuple__"])
    for tag, cls in (("__dict__", dict), ("__odict__", collections.OrderedDict), ("__counter__", collections.Counter)):
        if tag not in obj:
            continue
        items = obj[tag]
        return cls(dict((_hashable(_decode(k, tensors, where, place)), _decode(v, tensors, where, place))
                        for k, v in items))
    raise RuntimeError(f"norch.load: {where} has an unknown entry {sorted(obj)[:3]}")


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _write_chunks(f, chunks):
    for chunk in chunks:
        f.write(chunk)


def _serialize(obj):
    enc = _Encoder()
    structure = enc.encode(obj)
    header = {"__metadata__": {"format": "pt", "norch": json.dumps(structure, allow_nan=False),
                               "norch_version": _FORMAT_VERSION}}
    offset, blobs = 0, []
    for name, arr in enc.tensors.items():
        st = "BF16" if name in enc.bf16 else _ST_DTYPES[arr.dtype.name if arr.dtype != np.bool_ else "bool"]
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": st, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)  # safetensors aligns the data section to 8 bytes
    return [struct.pack("<Q", len(hbytes)), hbytes] + blobs


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Saves ``obj`` to ``f`` (a path or a binary file object).

    Tensors, and dicts/lists/tuples of tensors, numbers, strings, bools, None, dtypes and
    devices (every state_dict) are written as safetensors (Note [Checkpoint format]);
    any other picklable object is pickled (Note [Pickled checkpoints]).
    """
    try:
        chunks = _serialize(obj)
    except _NotEncodable:
        chunks = [_pickle_format.dumps(obj)]
    if hasattr(f, "write"):
        _write_chunks(f, chunks)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            _write_chunks(out, chunks)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the data itself is already synced


def _parse(buf, where):
    def bad(why):
        return RuntimeError(f"norch.load: {where} is not a valid norch checkpoint (safetensors file): {why}")

    if len(buf) < 8:
        raise bad(f"file is {len(buf)} bytes, too short for a header (truncated?)")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise bad(f"header length {n} exceeds the file size {len(buf)} (truncated or corrupted)")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    data = memoryview(buf)[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    arrays = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(_NP_DTYPES[info["dtype"]]).newbyteorder("<")
            shape = [int(s) for s in info["shape"]]
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise bad(f"entry '{name}' is malformed") from None
        count = int(np.prod(shape)) if shape else 1
        if any(s < 0 for s in shape) or not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
            raise bad(f"tensor '{name}' has byte range [{begin}, {end}) that does not fit its shape {shape}, "
                      f"dtype {info['dtype']} and the {len(data)} data bytes (truncated or corrupted)")
        arr = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        arrays[name] = (arr, "bfloat16" if info["dtype"] == "BF16" else None)
    return metadata, arrays


def _target_device(saved, map_location):
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        return map_location.get(saved, saved)
    return str(_C.device(map_location)) if not isinstance(map_location, str) else map_location


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Loads an object saved by norch.save (or any safetensors file) from a path or binary file object.

    ``weights_only`` (default True, as in PyTorch 2.6+): a pickled checkpoint may contain only
    tensors, containers, primitive types and the globals allowed by ``add_safe_globals`` /
    ``safe_globals``; anything else raises pickle.UnpicklingError naming the global. Pass
    ``weights_only=False`` only for files from a trusted source: it can run arbitrary code.

    ``map_location``: None (devices as saved), a device or string, a dict mapping saved device
    strings to new ones, or a callable ``fn(tensor, saved_device) -> tensor``.
    """
    if hasattr(f, "read"):
        where = getattr(f, "name", "<file object>")
        buf = f.read()
    else:
        where = os.fspath(f)
        try:
            with open(where, "rb") as fh:
                buf = fh.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"norch.load: no such file: '{where}'") from None
        where = f"'{where}'"
    placed = {}

    def place(t, saved_device, requires_grad):
        # A tensor referenced twice in the object is loaded once and shared, as it was saved.
        key = (id(t), saved_device)
        if key in placed:
            return placed[key]
        if callable(map_location) and not isinstance(map_location, (dict, str, _C.device)):
            t = map_location(t, saved_device)
        else:
            device = _target_device(saved_device, map_location)
            if device.startswith("cuda") and not _cuda_available():
                raise RuntimeError("Attempting to deserialize object on a CUDA device but norch.cuda.is_available() "
                                   "is False. If you are running on a CPU-only machine, please use norch.load with "
                                   "map_location='cpu' to map your storages to the CPU.")
            if device != "cpu":
                t = t.to(device)
        if requires_grad:
            t.requires_grad_(True)
        placed[key] = t
        return t

    if bytes(buf[:len(_pickle_format.MAGIC)]) == _pickle_format.MAGIC:
        return _pickle_format.loads(buf, weights_only is not False, place, where)
    metadata, arrays = _parse(buf, where)
    tensors = {name: _pickle_format.tensor_from_bits(arr, dt) for name, (arr, dt) in arrays.items()}
    if "norch" not in metadata:
        return {name: place(t, "cpu", False) for name, t in tensors.items()}
    try:
        structure = json.loads(metadata["norch"])
    except json.JSONDecodeError as e:
        raise RuntimeError(f"norch.load: {where} has corrupted norch metadata ({e})") from None
    return _decode(structure, tensors, where, place)


def _cuda_available():
    from . import cuda
    return cuda.is_available()
