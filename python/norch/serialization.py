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
then renamed over the target, so a crash mid-write leaves the old file intact; the temporary
file's name carries the host and process id, and a later save of the same path removes
those whose process is gone (a save killed mid-write leaves nothing behind for long).

Note [Hostile checkpoints]
Every malformed or hostile file raises RuntimeError("norch.load: <file> is not a valid norch
checkpoint (safetensors file): <why>"): a truncated file, a header that is not JSON, a
duplicate key anywhere in the header or the norch metadata, an entry without an integer
shape and byte range, a byte range that is outside the data, overlaps another tensor's or
does not hold shape x itemsize bytes, nesting deeper than _MAX_DEPTH levels, and a dtype
that is not in the dtype table (_checkpoint_dtypes.py; a dtype PyTorch has and norch does
not yet, such as F16, BF16 or I8, is named in the error).
"""
import collections
import json
import math
import os
import socket
import struct
import tempfile

import numpy as np

from . import _C
from ._C import Tensor
from . import _checkpoint_dtypes
from . import _pickle_format
from ._pickle_format import add_safe_globals, get_safe_globals, clear_safe_globals, safe_globals  # noqa: F401

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_FORMAT_VERSION = "1"
# Deeper structures are refused on load (Note [Hostile checkpoints]) well before Python's
# recursion limit; save pickles them instead of writing a file load would refuse.
_MAX_DEPTH = 100
_MAX_DIMS = 64  # the most dimensions a norch tensor may have


def _dtype_name(dtype):
    return str(dtype).replace("norch.", "")


class _NotEncodable(TypeError):
    """The object holds something the safetensors format cannot describe: it is pickled instead."""


class _Encoder:
    """Turns an object into tagged JSON, collecting its tensors by path."""

    def __init__(self):
        self.tensors = {}       # name -> contiguous CPU numpy array
        self._by_id = {}        # id(tensor) -> name, so a tensor referenced twice is stored once
        self._keep = []         # keeps encoded tensors alive so ids stay unique

    def _name(self, path):
        base = ".".join(path) if path else "tensor"
        name, n = base, 1
        while name in self.tensors or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def encode(self, obj, path=()):
        if len(path) >= _MAX_DEPTH:
            raise _NotEncodable("nested too deeply for the safetensors format")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) not in self._by_id:
                name = self._name(path)
                arr = _checkpoint_dtypes.numpy_bits(obj)
                self.tensors[name] = np.ascontiguousarray(arr).reshape(arr.shape)  # keeps 0-d as 0-d
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


class _BadFile(Exception):
    """A reason the file is not a valid checkpoint; load turns it into its RuntimeError."""


def _decode(obj, tensors, place, depth=0):
    if depth > _MAX_DEPTH:
        raise _BadFile(f"the object is nested deeper than {_MAX_DEPTH} levels")
    if isinstance(obj, list):
        return [_decode(v, tensors, place, depth + 1) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 0:
        raise _BadFile("the object has an empty entry {}")
    tag = next(iter(obj))
    value = obj[tag]
    if tag == "__tensor__":
        if not isinstance(value, str) or value not in tensors:
            raise _BadFile(f"the object refers to a tensor {value!r} that is not in the file")
        device, requires_grad = obj.get("device", "cpu"), obj.get("requires_grad", False)
        if not isinstance(device, str) or not isinstance(requires_grad, bool) or \
                set(obj) - {"__tensor__", "device", "requires_grad"}:
            raise _BadFile(f"the object's entry for tensor {value!r} is malformed")
        return place(tensors[value], device, requires_grad)
    if len(obj) != 1:
        raise _BadFile(f"the object has an unknown entry {sorted(obj)[:3]}")
    if tag == "__float__":
        if value not in ("nan", "inf", "-inf"):
            raise _BadFile(f"the object has a malformed float {value!r}")
        return float(value)
    if tag == "__dtype__":
        # Only the dtype table's names: never an arbitrary attribute of norch._C.
        dtype = _checkpoint_dtypes.dtype(value)
        if dtype is None:
            raise _BadFile(f"the object names an unknown dtype {value!r}")
        return dtype
    if tag == "__device__":
        if not isinstance(value, str):
            raise _BadFile(f"the object has a malformed device {value!r}")
        return _C.device(value)
    if tag == "__tuple__" and isinstance(value, list):
        return tuple(_decode(v, tensors, place, depth + 1) for v in value)
    for dict_tag, cls in (("__dict__", dict), ("__odict__", collections.OrderedDict),
                          ("__counter__", collections.Counter)):
        if tag != dict_tag:
            continue
        if not isinstance(value, list) or not all(isinstance(kv, list) and len(kv) == 2 for kv in value):
            raise _BadFile(f"the object has a malformed {tag} entry")
        out = {}
        for k, v in value:
            key = _hashable(_decode(k, tensors, place, depth + 1))
            try:
                hash(key)
            except TypeError:
                raise _BadFile(f"the object has an unhashable dict key of type {type(key).__name__}") from None
            if key in out:
                raise _BadFile(f"the object has the dict key {key!r} twice")
            out[key] = _decode(v, tensors, place, depth + 1)
        return cls(out)
    raise _BadFile(f"the object has an unknown entry {sorted(obj)[:3]}")


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
        st = _checkpoint_dtypes.code_of(arr.dtype)
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": st, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)  # safetensors aligns the data section to 8 bytes
    return [struct.pack("<Q", len(hbytes)), hbytes] + blobs


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
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
    prefix = _temp_prefix(path)
    _remove_stale_temps(directory, prefix)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{prefix}{_host()}.{os.getpid()}.", suffix=".tmp")
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


def _temp_prefix(path):
    return "." + os.path.basename(path) + ".norch-save."


def _host():
    return "".join(c if c.isalnum() or c == "-" else "_" for c in socket.gethostname()) or "host"


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but is not ours, or cannot be asked: leave its file alone
    return True


def _remove_stale_temps(directory, prefix):
    """Removes the temporary files of earlier saves of this path on this host whose process died."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    host = _host()
    for name in names:
        if not name.startswith(prefix) or not name.endswith(".tmp"):
            continue
        parts = name[len(prefix):].split(".")
        if len(parts) < 3 or parts[0] != host or not parts[1].isdigit():
            continue  # another host's save, or not one of ours
        if not _pid_alive(int(parts[1])):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _BadFile(f"the key {k!r} appears twice")
        out[k] = v
    return out


def _json(text):
    """json.loads refusing duplicate keys; nesting too deep for the parser is a bad file."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise _BadFile(f"the JSON is nested deeper than {_MAX_DEPTH} levels") from None


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _parse(buf, where):
    def bad(why):
        return RuntimeError(f"norch.load: {where} is not a valid norch checkpoint (safetensors file): {why}")

    if len(buf) < 8:
        raise bad(f"file is {len(buf)} bytes, too short for a header (truncated?)")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise bad(f"header length {n} exceeds the file size {len(buf)} (truncated or corrupted)")
    try:
        header = _json(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not valid JSON ({e})") from None
    except _BadFile as e:
        raise bad(f"header: {e}") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    data = memoryview(buf)[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise bad("__metadata__ is not a mapping of strings")
    arrays, ranges = {}, []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"entry '{name}' is malformed (it needs exactly dtype, shape and data_offsets)")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(code, str) or code not in _checkpoint_dtypes.CODES:
            raise bad(f"entry '{name}' is malformed: unknown dtype {code!r}")
        norch_name, dtype = _checkpoint_dtypes.CODES[code]
        if norch_name is None:
            raise bad(f"tensor '{name}' has dtype {_checkpoint_dtypes.describe(code)}, which norch does not support")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise bad(f"entry '{name}' is malformed: shape {shape!r} is not a list of non-negative integers")
        if len(shape) > _MAX_DIMS:
            raise bad(f"tensor '{name}' has {len(shape)} dimensions, more than the {_MAX_DIMS} norch allows")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(x) for x in offsets):
            raise bad(f"entry '{name}' is malformed: data_offsets {offsets!r} is not two integers")
        begin, end = offsets
        count = math.prod(shape)  # exact: a hostile shape cannot wrap to a small size
        if not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
            raise bad(f"tensor '{name}' has byte range [{begin}, {end}) that does not fit its shape {shape}, "
                      f"dtype {code} and the {len(data)} data bytes (truncated or corrupted)")
        ranges.append((begin, end, name))
        arrays[name] = (dtype, shape, begin, end)
    ranges.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(ranges, ranges[1:]):
        if b1 < e0:
            raise bad(f"tensors '{n0}' [{b0}, {e0}) and '{n1}' [{b1}, {e1}) overlap in the data")
    for name, (dtype, shape, begin, end) in arrays.items():
        le = dtype.newbyteorder("<")
        arrays[name] = np.frombuffer(data[begin:end], dtype=le).reshape(shape).astype(le.newbyteorder("="))
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

    A malformed or hostile file raises RuntimeError ("... is not a valid norch checkpoint ...",
    Note [Hostile checkpoints]); a dtype norch lacks (F16, BF16, I8, ...) is named in it.
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
    tensors = {name: _checkpoint_dtypes.tensor_from_bits(arr) for name, arr in arrays.items()}
    if "norch" not in metadata:
        return {name: place(t, "cpu", False) for name, t in tensors.items()}
    try:
        structure = _json(metadata["norch"])
    except json.JSONDecodeError as e:
        raise RuntimeError(f"norch.load: {where} has corrupted norch metadata ({e})") from None
    except _BadFile as e:
        raise RuntimeError(f"norch.load: {where} is not a valid norch checkpoint (safetensors file): "
                           f"norch metadata: {e}") from None
    try:
        return _decode(structure, tensors, place)
    except _BadFile as e:
        raise RuntimeError(f"norch.load: {where} is not a valid norch checkpoint (safetensors file): {e}") from None


def _cuda_available():
    from . import cuda
    return cuda.is_available()
