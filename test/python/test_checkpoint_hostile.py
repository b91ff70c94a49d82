# Hostile checkpoint files (issue 9, item 16): each is refused with the loader's
# RuntimeError (Note [Hostile checkpoints] in serialization.py), never loaded as
# something else, never a RecursionError, and nothing from the file is looked up
# outside the dtype table. Also: a save killed mid-write leaves no temporary file
# behind once the path is saved again.
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import save_file as torch_save_file

import norch
from norch import _pickle_format

BAD = r"is not a valid norch checkpoint"


def write(path, header, data=b"", norch_structure=None, raw_header=None):
    """A safetensors file with the given header entries (and norch metadata)."""
    header = dict(header)
    if norch_structure is not None:
        header["__metadata__"] = {"format": "pt", "norch_version": "1",
                                  "norch": norch_structure if isinstance(norch_structure, str)
                                  else json.dumps(norch_structure)}
    text = raw_header if raw_header is not None else json.dumps(header)
    h = text.encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return path


def f32(n, offset=0):
    return {"dtype": "F32", "shape": [n], "data_offsets": [offset, offset + 4 * n]}


def test_a_well_formed_handmade_file_loads(tmp_path):
    # The helper itself writes files the loader accepts, so each refusal below is the hostile part.
    p = write(tmp_path / "ok.pt", {"w": f32(2)}, np.array([1, 2], "<f4").tobytes(),
              {"__dict__": [["w", {"__tensor__": "w", "device": "cpu", "requires_grad": False}],
                            ["d", {"__dtype__": "float64"}], ["f", {"__float__": "nan"}]]})
    out = norch.load(p)
    assert out["w"].tolist() == [1.0, 2.0] and out["d"] is norch.float64 and out["f"] != out["f"]


# --- a dtype name is looked up in the dtype table only ---------------------------

@pytest.mark.parametrize("name", ["Tensor", "device", "from_numpy", "_set_grad_enabled", "__class__", "float32 ",
                                  "Float32", ["float32"], {"x": 1}, 3, None])
def test_dtype_names_outside_the_table_are_refused(tmp_path, name):
    p = write(tmp_path / "d.pt", {}, b"", {"__dict__": [["d", {"__dtype__": name}]]})
    with pytest.raises(RuntimeError, match=BAD + r".*unknown dtype"):
        norch.load(p)


@pytest.mark.parametrize("name", ["Tensor", "device", "int8"])
def test_pickled_dtype_names_outside_the_table_are_refused(tmp_path, name):
    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return ("dtype", name) if obj == "DT" else None

    import io
    buf = io.BytesIO()
    P(buf, protocol=4).dump({"d": "DT"})
    p = tmp_path / "p.pt"
    p.write_bytes(_pickle_format.MAGIC + buf.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="unknown persistent id"):
        norch.load(p)


# --- nesting ---------------------------------------------------------------------

@pytest.mark.parametrize("depth", [150, 5000, 100_000])
def test_deep_nesting_in_the_norch_metadata(tmp_path, depth):
    p = write(tmp_path / "n.pt", {}, b"", "[" * depth + "]" * depth)
    with pytest.raises(RuntimeError, match=BAD + r".*nested deeper than 100 levels"):
        norch.load(p)


def test_deep_nesting_in_the_header(tmp_path):
    p = write(tmp_path / "h.pt", {}, raw_header='{"w": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(RuntimeError, match=BAD + r".*nested deeper"):
        norch.load(p)


def test_nesting_that_norch_saves_still_loads(tmp_path):
    obj = [1]
    for _ in range(90):
        obj = [obj]
    norch.save({"x": obj, "w": norch.ones(1)}, tmp_path / "ok.pt")
    assert norch.load(tmp_path / "ok.pt")["x"] == obj


def test_deeper_objects_are_pickled_and_load_back(tmp_path):
    obj = [1]
    for _ in range(300):
        obj = [obj]
    norch.save({"x": obj}, tmp_path / "deep.pt")
    assert (tmp_path / "deep.pt").read_bytes().startswith(_pickle_format.MAGIC)
    assert norch.load(tmp_path / "deep.pt")["x"] == obj


# --- byte ranges and shapes -----------------------------------------------------

def test_overlapping_byte_ranges(tmp_path):
    data = np.arange(6, dtype="<f4").tobytes()
    p = write(tmp_path / "o.pt", {"a": f32(4, 0), "b": f32(2, 8)}, data)
    with pytest.raises(RuntimeError, match=BAD + r".*'a' \[0, 16\) and 'b' \[8, 16\) overlap"):
        norch.load(p)
    # The same two tensors side by side are fine.
    p = write(tmp_path / "ok.pt", {"a": f32(4, 0), "b": f32(2, 16)}, np.arange(6, dtype="<f4").tobytes() * 2)
    assert norch.load(p)["b"].tolist() == [4.0, 5.0]


def test_empty_tensors_may_share_an_offset(tmp_path):
    p = write(tmp_path / "e.pt", {"a": f32(0, 4), "b": f32(1, 0), "c": f32(0, 4)}, b"\0" * 4)
    out = norch.load(p)
    assert out["a"].shape == (0,) and out["b"].tolist() == [0.0]


@pytest.mark.parametrize("shape", [[2.0], [1.5, 2], ["2"], [True, 2], [-1, -2], [-2], None, 4, [[2]], {"a": 2}])
def test_shapes_that_are_not_non_negative_integers(tmp_path, shape):
    p = write(tmp_path / "s.pt", {"w": {"dtype": "F32", "shape": shape, "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(RuntimeError, match=BAD + r".*'w' is malformed: shape"):
        norch.load(p)


@pytest.mark.parametrize("offsets", [[0.0, 8.0], [0, 8.0], [False, 8], [0], [0, 8, 16], "0-8", None])
def test_byte_ranges_that_are_not_two_integers(tmp_path, offsets):
    p = write(tmp_path / "r.pt", {"w": {"dtype": "F32", "shape": [2], "data_offsets": offsets}}, b"\0" * 8)
    with pytest.raises(RuntimeError, match=BAD + r".*'w' is malformed: data_offsets"):
        norch.load(p)


@pytest.mark.parametrize("shape,offsets", [
    ([3], [0, 8]), ([2], [0, 12]), ([2], [4, 12]), ([2], [-8, 0]), ([2], [8, 0]),
    # Products that wrap in int64 to a small or zero size: the count is exact.
    ([2**62, 4], [0, 0]), ([2**32, 2**32, 2**32], [0, 0]), ([2**61, 2**3, 1], [0, 0]), ([2**64 + 2], [0, 8]),
])
def test_shapes_that_do_not_match_the_byte_range(tmp_path, shape, offsets):
    p = write(tmp_path / "m.pt", {"w": {"dtype": "F32", "shape": shape, "data_offsets": offsets}}, b"\0" * 8)
    with pytest.raises(RuntimeError, match=BAD + r".*does not fit its shape"):
        norch.load(p)


def test_too_many_dimensions(tmp_path):
    p = write(tmp_path / "d.pt", {"w": {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(RuntimeError, match=BAD + r".*65 dimensions"):
        norch.load(p)


@pytest.mark.parametrize("extra", [{"junk": 1}, {}])
def test_entries_with_missing_or_extra_fields(tmp_path, extra):
    entry = dict(f32(1), **extra) if extra else {"dtype": "F32", "shape": [1]}
    p = write(tmp_path / "x.pt", {"w": entry}, b"\0" * 4)
    with pytest.raises(RuntimeError, match=BAD + r".*'w' is malformed"):
        norch.load(p)


# --- duplicate keys -----------------------------------------------------------

def test_duplicate_tensor_names_in_the_header(tmp_path):
    one = json.dumps(f32(1, 0))
    raw = '{"w": ' + one + ', "w": ' + json.dumps(f32(1, 4)) + "}"
    p = write(tmp_path / "dup.pt", {}, np.array([1, 2], "<f4").tobytes(), raw_header=raw)
    with pytest.raises(RuntimeError, match=BAD + r".*the key 'w' appears twice"):
        norch.load(p)


def test_duplicate_metadata_keys(tmp_path):
    raw = '{"__metadata__": {"norch": "1", "norch": "[]"}}'
    p = write(tmp_path / "dupm.pt", {}, raw_header=raw)
    with pytest.raises(RuntimeError, match=BAD + r".*the key 'norch' appears twice"):
        norch.load(p)


def test_duplicate_keys_inside_the_norch_structure(tmp_path):
    structure = '{"__tensor__": "w", "__tensor__": "v"}'
    p = write(tmp_path / "dups.pt", {"w": f32(1), "v": f32(1, 4)}, b"\0" * 8, structure)
    with pytest.raises(RuntimeError, match=BAD + r".*the key '__tensor__' appears twice"):
        norch.load(p)


def test_duplicate_dict_keys_in_a_saved_dict(tmp_path):
    p = write(tmp_path / "dupd.pt", {}, b"", {"__dict__": [["a", 1], ["a", 2]]})
    with pytest.raises(RuntimeError, match=BAD + r".*the dict key 'a' twice"):
        norch.load(p)


@pytest.mark.parametrize("structure,match", [
    ({"__dict__": [[{"__dict__": []}, 1]]}, "unhashable dict key"),
    ({"__dict__": [["a"]]}, "malformed __dict__"),
    ({"__dict__": 5}, "malformed __dict__"),
    ({"__float__": "1e400"}, "malformed float"),
    ({"__float__": ["nan"]}, "malformed float"),
    ({"__device__": 0}, "malformed device"),
    ({"__tensor__": ["w"]}, "refers to a tensor"),
    ({"__tensor__": "w", "device": 3}, "malformed"),
    ({"__tensor__": "w", "requires_grad": "yes"}, "malformed"),
    ({"__tensor__": "w", "extra": 1}, "malformed"),
    ({}, "empty entry"),
    ({"__tuple__": 3}, "unknown entry"),
    ({"__eval__": "1"}, "unknown entry"),
])
def test_malformed_norch_structure(tmp_path, structure, match):
    p = write(tmp_path / "ms.pt", {"w": f32(1)}, b"\0" * 4, structure)
    with pytest.raises(RuntimeError, match=BAD + ".*" + match):
        norch.load(p)


def test_metadata_that_is_not_a_mapping_of_strings(tmp_path):
    p = write(tmp_path / "md.pt", {}, raw_header='{"__metadata__": {"norch": ["x"]}}')
    with pytest.raises(RuntimeError, match=BAD + r".*__metadata__"):
        norch.load(p)


# --- dtypes PyTorch writes and norch does not have (yet) -----------------------

@pytest.mark.parametrize("dtype,code", [(torch.int8, "I8"), (torch.int16, "I16"), (torch.uint16, "U16")])
def test_pytorch_written_dtypes_norch_lacks(tmp_path, dtype, code):
    path = tmp_path / f"{code}.safetensors"
    torch_save_file({"w": torch.ones(3, dtype=dtype), "ok": torch.ones(2)}, str(path))
    name = str(dtype).replace("torch.", "")
    with pytest.raises(RuntimeError, match=BAD + rf".*tensor 'w' has dtype {code} \({name}\), which norch does not"):
        norch.load(path)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_pytorch_written_half_types_load_bit_for_bit(tmp_path, dtype):
    path = tmp_path / "half.safetensors"
    # Every bit pattern of the 16-bit type, NaNs, infinities and subnormals included.
    ref = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16).view(dtype)
    torch_save_file({"w": ref}, str(path))
    out = norch.load(path)["w"]
    assert str(out.dtype) == str(dtype).replace("torch", "norch")
    got_bits = out.view(norch.float16).numpy().view("uint16") if dtype == torch.bfloat16 else out.numpy().view("uint16")
    np.testing.assert_array_equal(got_bits, ref.view(torch.int16).numpy().view("uint16"))


def test_pytorch_written_supported_dtypes_load(tmp_path):
    path = tmp_path / "ok.safetensors"
    ref = {"f": torch.arange(4.0).reshape(2, 2), "d": torch.ones(2, dtype=torch.float64),
           "i": torch.arange(3, dtype=torch.int32), "l": torch.arange(3), "u": torch.arange(3, dtype=torch.uint8),
           "b": torch.tensor([True, False])}
    torch_save_file(ref, str(path))
    out = norch.load(path)
    assert {k: v.tolist() for k, v in out.items()} == {k: v.tolist() for k, v in ref.items()}
    assert {k: str(v.dtype) for k, v in out.items()} == {k: str(v.dtype).replace("torch", "norch") for k, v in ref.items()}


# --- a killed save leaves no temporary file -------------------------------------

def _killed_save(path):
    """Runs norch.save in a child that is SIGKILLed mid-write, after the temporary file exists."""
    code = textwrap.dedent(f"""
        import os, signal, norch
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
        norch.save({{"w": norch.ones(1000)}}, {str(path)!r})
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL


def test_a_killed_save_is_cleaned_by_the_next_save(tmp_path):
    path = tmp_path / "ckpt.pt"
    norch.save({"w": norch.zeros(3)}, path)
    _killed_save(path)
    left = sorted(os.listdir(tmp_path))
    assert len(left) == 2 and left[0].startswith(".ckpt.pt.") and left[1] == "ckpt.pt", left
    assert norch.load(path)["w"].tolist() == [0.0] * 3  # the old file is intact
    norch.save({"w": norch.ones(2)}, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    assert norch.load(path)["w"].tolist() == [1.0, 1.0]


def test_temporary_files_of_live_saves_and_other_files_are_kept(tmp_path):
    from norch import serialization as S
    path = tmp_path / "ckpt.pt"
    prefix = S._temp_prefix(path)
    live = f"{prefix}{S._host()}.{os.getpid()}.abc.tmp"           # a save in progress in this process
    other_host = f"{prefix}elsewhere.999999999.abc.tmp"            # a save on another host
    unrelated = ".ckpt.pt.notes.tmp"
    for name in (live, other_host, unrelated):
        (tmp_path / name).write_bytes(b"x")
    norch.save({"w": norch.ones(1)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted([live, other_host, unrelated, "ckpt.pt"])
