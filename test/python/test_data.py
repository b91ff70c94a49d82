"""norch.utils.data: datasets, samplers, collation, DataLoader (single and multi-process)."""
import collections
import warnings

import numpy as np

import pytest

import norch
from norch.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler,
    Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, default_convert,
    get_worker_info, random_split,
)


def make_generator(seed):
    """A seeded norch.Generator, the kind samplers take."""
    g = norch.Generator()
    g.manual_seed(seed)
    return g


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": norch.tensor([float(i), float(i * i)]), "y": i, "name": f"s{i}"}


class Counter(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise KeyError("bad sample 5")
        return i


def _tensor_dataset(n=10):
    x = norch.from_numpy(np.arange(2 * n, dtype=np.float32).reshape(n, 2))
    y = norch.from_numpy(np.arange(n))
    return TensorDataset(x, y)


def _as_lists(batches):
    def conv(b):
        if isinstance(b, norch.Tensor):
            return b.tolist()
        if isinstance(b, dict):
            return {k: conv(v) for k, v in b.items()}
        if isinstance(b, (list, tuple)):
            return [conv(v) for v in b]
        return b
    return [conv(b) for b in batches]


# -- datasets ---------------------------------------------------------------------------------

def test_tensor_dataset_and_errors():
    ds = _tensor_dataset(4)
    assert len(ds) == 4
    x, y = ds[2]
    assert x.tolist() == [4.0, 5.0] and y.item() == 2
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(norch.zeros(3), norch.zeros(4))


def test_concat_and_subset():
    a, b = Squares(3), Squares(2)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 5
    assert [c[i]["y"] for i in range(5)] == [0, 1, 2, 0, 1]
    assert c[-1]["y"] == 1
    with pytest.raises(IndexError):
        c[5]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        c[-6]
    s = Subset(a, [2, 0])
    assert len(s) == 2 and s[0]["y"] == 2 and s[1]["y"] == 0


def test_random_split_lengths_fractions_and_seed():
    ds = Squares(10)
    parts = random_split(ds, [3, 7], generator=make_generator(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(ds, [3, 7], generator=make_generator(1))
    assert again[0].indices == parts[0].indices
    frac = random_split(ds, [0.25, 0.25, 0.5], generator=make_generator(2))
    assert [len(p) for p in frac] == [3, 2, 5]  # remainder goes round-robin from the first split
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])


# -- samplers -----------------------------------------------------------------------------------

def test_sequential_and_batch_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(bs) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


def test_random_sampler_permutation_and_seed():
    idx = list(RandomSampler(range(20), generator=make_generator(0)))
    assert sorted(idx) == list(range(20)) and idx != list(range(20))
    assert idx == list(RandomSampler(range(20), generator=make_generator(0)))
    assert idx != list(RandomSampler(range(20), generator=make_generator(1)))
    more = list(RandomSampler(range(5), num_samples=12, generator=make_generator(0)))
    assert len(more) == 12 and sorted(more[:10]) == sorted(list(range(5)) * 2)
    rep = list(RandomSampler(range(3), replacement=True, num_samples=100, generator=make_generator(0)))
    assert len(rep) == 100 and set(rep) == {0, 1, 2}
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)


def test_random_sampler_global_seed():
    # Without a generator, shuffling follows the global seed (Note [Data RNG]).
    def draw(seed):
        norch.manual_seed(seed)
        return list(RandomSampler(range(30)))
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_subset_and_weighted_samplers():
    idx = list(SubsetRandomSampler([10, 20, 30, 40], generator=make_generator(0)))
    assert sorted(idx) == [10, 20, 30, 40]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400, generator=make_generator(0)))
    counts = collections.Counter(w)
    assert set(counts) == {1, 3} and 200 < counts[3] < 380
    nr = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=make_generator(0)))
    assert sorted(nr) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)


# -- collation ---------------------------------------------------------------------------------

def test_default_collate_nested():
    Point = collections.namedtuple("Point", "a b")
    batch = [
        {"img": norch.tensor([[1.0, 2.0]]), "label": 1, "w": 0.5, "name": "a", "arr": np.array([1, 2], np.int32),
         "pair": (norch.tensor(1.0), [2, 3]), "pt": Point(1, 2.0), "flag": True},
        {"img": norch.tensor([[3.0, 4.0]]), "label": 2, "w": 1.5, "name": "b", "arr": np.array([3, 4], np.int32),
         "pair": (norch.tensor(2.0), [4, 5]), "pt": Point(3, 4.0), "flag": False},
    ]
    out = default_collate(batch)
    assert out["img"].shape == (2, 1, 2) and out["img"].tolist() == [[[1.0, 2.0]], [[3.0, 4.0]]]
    assert out["label"].dtype == norch.int64 and out["label"].tolist() == [1, 2]
    assert out["w"].dtype == norch.float64 and out["w"].tolist() == [0.5, 1.5]
    assert out["name"] == ["a", "b"]
    assert out["arr"].dtype == norch.int32 and out["arr"].tolist() == [[1, 2], [3, 4]]
    assert isinstance(out["pair"], list) and out["pair"][0].tolist() == [1.0, 2.0]
    assert out["pair"][1][0].tolist() == [2, 4] and out["pair"][1][1].tolist() == [3, 5]
    assert isinstance(out["pt"], Point) and out["pt"].a.tolist() == [1, 3]
    assert out["flag"].dtype == norch.bool


def test_default_collate_errors_and_convert():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([norch.zeros(2), norch.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    conv = default_convert({"a": np.arange(3), "b": [np.float32(2.5)], "c": "s"})
    assert isinstance(conv["a"], norch.Tensor) and conv["a"].tolist() == [0, 1, 2]
    assert isinstance(conv["b"][0], norch.Tensor) and conv["c"] == "s"


# -- DataLoader -------------------------------------------------------------------------------

def test_loader_order_batches_and_drop_last():
    ds = _tensor_dataset(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == norch.float32
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(ds, batch_size=4)) == 3


def test_loader_shuffle_seeded_and_covers_everything():
    ds = _tensor_dataset(12)

    def epoch(seed):
        return [b[1].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=make_generator(seed))]
    a = epoch(7)
    assert epoch(7) == a and epoch(8) != a
    assert sorted(sum(a, [])) == list(range(12)) and [len(b) for b in a] == [5, 5, 2]


def test_loader_batch_size_none_and_custom_collate_and_batch_sampler():
    ds = Squares(3)
    items = list(DataLoader(ds, batch_size=None))
    assert [it["y"] for it in items] == [0, 1, 2]
    loader = DataLoader(ds, batch_size=2, collate_fn=lambda b: [s["name"] for s in b])
    assert list(loader) == [["s0", "s1"], ["s2"]]
    bs = [[2, 0], [1]]
    assert [b["y"].tolist() for b in DataLoader(ds, batch_sampler=bs)] == [[2, 0], [1]]
    sampler = [2, 1, 0]
    assert [b["y"].tolist() for b in DataLoader(ds, sampler=sampler, batch_size=2)] == [[2, 1], [0]]


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=3),
    dict(batch_size=3, drop_last=True),
    dict(batch_size=None),
    dict(batch_size=2, shuffle=True),
])
def test_workers_match_single_process(kwargs):
    ds = Squares(11)
    if kwargs.get("shuffle"):
        single = list(DataLoader(ds, generator=make_generator(5), **kwargs))
        multi = list(DataLoader(ds, num_workers=2, generator=make_generator(5), **kwargs))
    else:
        single = list(DataLoader(ds, **kwargs))
        multi = list(DataLoader(ds, num_workers=2, **kwargs))
    assert _as_lists(multi) == _as_lists(single)
    assert len(multi) == len(single) > 0


def test_worker_init_fn_and_worker_info():
    class WhoAmI(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = get_worker_info()
            return [info.id, info.num_workers]

    seen = list(DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=lambda wid: None))
    assert [b[0].tolist() for b in seen] == [[0, 0], [1, 1], [0, 0]]
    assert all(b[1].tolist() == [2, 2] for b in seen)
    assert get_worker_info() is None


def test_iterable_dataset_single_and_workers():
    assert [b.tolist() for b in DataLoader(Counter(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(DataLoader(Counter(7), batch_size=3)) == 3
    multi = sorted(sum((b.tolist() for b in DataLoader(Counter(9), batch_size=2, num_workers=2)), []))
    assert multi == list(range(9))
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Counter(3), shuffle=True)


def test_worker_error_is_reraised():
    with pytest.raises(KeyError, match="bad sample 5"):
        list(DataLoader(Failing(), batch_size=2, num_workers=2))
    with pytest.raises(KeyError, match="bad sample 5"):
        list(DataLoader(Failing(), batch_size=2))


def test_pin_memory_and_persistent_workers_accepted():
    ds = _tensor_dataset(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without a GPU: PyTorch's "no accelerator" warning
        out = list(DataLoader(ds, batch_size=2, pin_memory=True, num_workers=1, persistent_workers=True))
    assert [b[1].tolist() for b in out] == [[0, 1], [2, 3]]


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(batch_size=0), "batch_size should be a positive integer"),
])
def test_loader_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(_tensor_dataset(4), **kwargs)


class _Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        import time
        time.sleep(30)
        return i


class _Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        import os
        os._exit(3)


def test_worker_timeout_and_death_are_errors_not_hangs():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 1 seconds"):
        list(DataLoader(_Slow(), batch_size=2, num_workers=1, timeout=1))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) exited unexpectedly with exit code 3"):
        list(DataLoader(_Dies(), batch_size=2, num_workers=1))
