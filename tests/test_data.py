"""tapegrad.utils.data: datasets, samplers, default_collate, DataLoader (single and multi-process)."""
import collections
import math
import os
import pickle
import signal
import time
import warnings

import numpy as np
import pytest

import tapegrad
from tapegrad.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                                 RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                                 TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                                 get_worker_info, random_split)

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="worker tests use the fork start method")


@pytest.fixture
def deadline():
    """Fail (rather than hang) a test that takes longer than 30 s."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        raise TimeoutError("test took too long: the DataLoader probably hung")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _vals(batch):
    return np.asarray(batch._data).tolist()


class Squares(Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return tapegrad.tensor([float(i), float(i * i)]), i


class Stream(IterableDataset):
    def __init__(self, start, end, split=False):
        self.start, self.end, self.split = start, end, split

    def __iter__(self):
        lo, hi = self.start, self.end
        info = get_worker_info()
        if self.split and info is not None:
            per = math.ceil((hi - lo) / info.num_workers)
            lo = lo + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))

    def __len__(self):
        return self.end - self.start


# ---------------------------------------------------------------- datasets
def test_tensor_dataset_subset_concat_stack_chain():
    x, y = tapegrad.arange(12.0).reshape(6, 2), tapegrad.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert _vals(a) == [8.0, 9.0] and b.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, tapegrad.arange(5))
    sub = Subset(ds, [5, 0, 3])
    assert len(sub) == 3 and sub[0][1].item() == 5 and [s[1].item() for s in sub.__getitems__([2, 1])] == [3, 0]
    cat = ConcatDataset([ds, Squares(3)])
    assert len(cat) == 9 and cat.cumulative_sizes == [6, 9]
    assert cat[7][1] == 1 and cat[-1][1] == 2 and cat[0][1].item() == 0
    with pytest.raises(ValueError):
        cat[-10]
    assert len(ds + Squares(2)) == 8
    st = StackDataset(ds, Squares(6))
    assert st[2][1][1] == 2 and len(st) == 6 and len(st.__getitems__([0, 1])) == 2
    std = StackDataset(a=Squares(3), b=Squares(3))
    assert set(std[1]) == {"a", "b"}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(Squares(2), Squares(3))
    chain = Stream(0, 3) + Stream(10, 12)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 2, 10, 11] and len(chain) == 5
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_subclass_overriding_getitem_only_is_rejected():
    class Bad(Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError, match="__getitems__"):
        Bad(Squares(3), [0])


@pytest.mark.parametrize("n,fracs,expected", [
    (10, [0.8, 0.2], [8, 2]), (10, [0.33, 0.33, 0.34], [4, 3, 3]), (7, [0.5, 0.5], [4, 3]), (5, [3, 2], [3, 2])])
def test_random_split_lengths(n, fracs, expected):
    parts = random_split(range(n), fracs, generator=tapegrad.Generator().manual_seed(0))
    assert [len(p) for p in parts] == expected
    got = sorted(i for p in parts for i in p)
    assert got == list(range(n))  # disjoint and complete


@pytest.mark.filterwarnings("ignore:Length of split")
def test_random_split_matches_torch_lengths():
    torch = pytest.importorskip("torch")
    for n, fracs in [(10, [0.8, 0.2]), (11, [0.1, 0.2, 0.7]), (3, [0.5, 0.25, 0.25]), (100, [1 / 3] * 3)]:
        ours = [len(p) for p in random_split(range(n), fracs)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs, (n, fracs)


def test_random_split_errors_and_reproducibility():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 2"):
        random_split(range(10), [0.6, 0.6, -0.2])
    a = [list(p) for p in random_split(range(20), [0.5, 0.5], generator=tapegrad.Generator().manual_seed(3))]
    b = [list(p) for p in random_split(range(20), [0.5, 0.5], generator=tapegrad.Generator().manual_seed(3))]
    assert a == b
    tapegrad.manual_seed(1)
    c = [list(p) for p in random_split(range(20), [0.5, 0.5])]
    tapegrad.manual_seed(1)
    assert c == [list(p) for p in random_split(range(20), [0.5, 0.5])]


# ---------------------------------------------------------------- samplers
def test_sequential_and_random_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    s = RandomSampler(range(50))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == list(range(50)) and e1 != e2 and len(s) == 50
    g1, g2 = tapegrad.Generator().manual_seed(7), tapegrad.Generator().manual_seed(7)
    assert list(RandomSampler(range(30), generator=g1)) == list(RandomSampler(range(30), generator=g2))
    tapegrad.manual_seed(5)
    a = list(RandomSampler(range(30)))
    tapegrad.manual_seed(5)
    assert a == list(RandomSampler(range(30)))
    r = list(RandomSampler(range(5), replacement=True, num_samples=77))
    assert len(r) == 77 and set(r) <= set(range(5))
    more = list(RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3] and sorted(more[4:8]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement=1)


def test_subset_weighted_batch_samplers():
    idx = [3, 7, 11, 19]
    s = list(SubsetRandomSampler(idx, generator=tapegrad.Generator().manual_seed(0)))
    assert sorted(s) == idx
    w = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=tapegrad.Generator().manual_seed(0))
    draws = list(w)
    assert len(draws) == 200 and set(draws) == {1, 3} and draws.count(3) > draws.count(1)
    nr = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
    assert sorted(nr) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="1d"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], -1)
    assert list(BatchSampler(range(10), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(range(10), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4 and len(BatchSampler(range(10), 3, True)) == 3
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, None)


# ---------------------------------------------------------------- collate
Point = collections.namedtuple("Point", "x y")


def test_default_collate_types():
    out = default_collate([tapegrad.ones(2, 3), tapegrad.zeros(2, 3)])
    assert out.shape == (2, 2, 3) and out.dtype == tapegrad.float32
    out = default_collate([np.ones(3, np.float32), np.zeros(3, np.float32)])
    assert isinstance(out, tapegrad.Tensor) and out.dtype == tapegrad.float32 and out.shape == (2, 3)
    f = default_collate([1.5, 2.0])
    assert f.dtype == tapegrad.float64 and _vals(f) == [1.5, 2.0]
    i = default_collate([1, 2])
    assert i.dtype == tapegrad.int64
    b = default_collate([True, False])
    assert b.dtype == tapegrad.bool
    assert default_collate(["a", "b"]) == ["a", "b"] and default_collate([b"a", b"b"]) == [b"a", b"b"]
    assert default_collate([np.float32(1), np.float32(2)]).dtype == tapegrad.float32
    assert default_collate([np.int32(1), np.int32(2)]).dtype == tapegrad.int32
    d = default_collate([{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}])
    assert _vals(d["a"]) == [1, 2] and [_vals(t) for t in d["b"]] == [[1.0, 3.0], [2.0, 4.0]]
    od = default_collate([collections.OrderedDict(z=1, a=2)] * 2)
    assert isinstance(od, collections.OrderedDict) and list(od) == ["z", "a"]
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and _vals(p.x) == [1, 3]
    t = default_collate([(1, "a"), (2, "b")])
    assert isinstance(t, list) and _vals(t[0]) == [1, 2] and t[1] == ("a", "b")  # as torch
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"]), np.array(["b"])])
    g = default_collate([tapegrad.ones(2, requires_grad=True), tapegrad.ones(2)])
    assert g.requires_grad and g.grad_fn is not None
    mixed = default_collate([tapegrad.ones(2), tapegrad.ones(2, dtype=tapegrad.float64)])
    assert mixed.dtype == tapegrad.float64


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(2.0), "s"), "c": [np.ones(1)]})
    assert isinstance(out["a"], tapegrad.Tensor) and out["a"].dtype == tapegrad.int64
    assert isinstance(out["b"], list) and out["b"][1] == "s" and out["b"][0].dtype == tapegrad.float32
    assert isinstance(out["c"][0], tapegrad.Tensor)
    assert default_convert(3) == 3 and default_convert("x") == "x"


def _torch_like(torch, x):
    """Structure of a torch collate result with tensors replaced by (dtype, shape, values)."""
    if isinstance(x, torch.Tensor):
        return ("T", str(x.dtype), tuple(x.shape), x.tolist())
    if isinstance(x, tapegrad.Tensor):
        return ("T", str(x.dtype), tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _torch_like(torch, v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_torch_like(torch, v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_torch_like(torch, v) for v in x])
    return x


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    rng = np.random.default_rng(0)
    arr = rng.standard_normal((3, 2, 2)).astype(np.float32)
    batches = [
        [(i, float(i) / 2, bool(i % 2), f"s{i}") for i in range(3)],
        [{"img": arr[i], "label": i, "meta": {"id": f"x{i}", "w": [1.0 * i, 2.0]}} for i in range(3)],
        [Point(np.int64(i), np.float64(i)) for i in range(2)],
        [[np.arange(2, dtype=np.int16) + i, np.uint8(i)] for i in range(2)],
        [np.array(1.5), np.array(2.5)],
    ]
    for batch in batches:
        assert _torch_like(torch, default_collate(batch)) == _torch_like(torch, torch_collate(batch))
    tb = [torch.arange(3.0) * i for i in range(2)]
    ours = default_collate([tapegrad.arange(3.0) * i for i in range(2)])
    assert ours.tolist() == torch_collate(tb).tolist()


def test_inconsistent_batch_names_the_sample():
    class Ragged(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            n = 4 if i == 5 else 3
            return {"image": tapegrad.zeros(n), "label": i}

    loader = DataLoader(Ragged(), batch_size=4)
    it = iter(loader)
    next(it)
    with pytest.raises(RuntimeError) as info:
        next(it)
    msg = str(info.value)
    assert "sample 1 of the batch (dataset index 5)" in msg
    assert "['image']" in msg and "[4]" in msg and "[3]" in msg and "dataset index 4" in msg
    with pytest.raises(RuntimeError, match="sample 2 of the batch"):
        default_collate([(1, 2), (3, 4), (5,)])
    with pytest.raises(RuntimeError, match=r"sample 1 of the batch has a tensor of shape \[2, 2\] in field \[0\]"):
        default_collate([(np.zeros((2, 3)), 1), (np.zeros((2, 2)), 1)])
    with pytest.raises(RuntimeError, match="dataset index 'b'"):
        list(DataLoader({"a": np.zeros(2), "b": np.zeros(3)}, sampler=["a", "b"], batch_size=2))


# ---------------------------------------------------------------- DataLoader, single process
def test_dataloader_batches_len_drop_last():
    loader = DataLoader(Squares(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[0]
    assert x.shape == (4, 2) and _vals(y) == [0, 1, 2, 3] and _vals(batches[2][1]) == [8, 9]
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    assert [len(b[1]) for b in DataLoader(Squares(10), batch_size=4, drop_last=True)] == [4, 4]
    single = list(DataLoader(Squares(3), batch_size=None))
    assert _vals(single[1][0]) == [1.0, 1.0] and single[1][1] == 1  # default_convert, no batch dim
    assert list(DataLoader(Squares(3), batch_size=2, collate_fn=lambda b: len(b))) == [2, 1]
    assert len(list(DataLoader(Squares(3), pin_memory=True))) == 3


def test_dataloader_shuffle_generator_and_seed():
    def order(loader):
        return [i for _, y in loader for i in _vals(y)]

    loader = DataLoader(Squares(20), batch_size=3, shuffle=True)
    e1, e2 = order(loader), order(loader)
    assert sorted(e1) == sorted(e2) == list(range(20)) and e1 != e2
    a = order(DataLoader(Squares(20), batch_size=3, shuffle=True, generator=tapegrad.Generator().manual_seed(4)))
    b = order(DataLoader(Squares(20), batch_size=3, shuffle=True, generator=tapegrad.Generator().manual_seed(4)))
    assert a == b
    tapegrad.manual_seed(11)
    c = order(DataLoader(Squares(20), batch_size=3, shuffle=True))
    tapegrad.manual_seed(11)
    assert c == order(DataLoader(Squares(20), batch_size=3, shuffle=True))


def test_dataloader_sampler_options_and_errors():
    ds = Squares(10)
    got = [_vals(y) for _, y in DataLoader(ds, batch_size=2, sampler=[9, 8, 7])]
    assert got == [[9, 8], [7]]
    got = [_vals(y) for _, y in DataLoader(ds, batch_sampler=[[1, 2, 3], [0]])]
    assert got == [[1, 2, 3], [0]]
    assert len(DataLoader(ds, batch_sampler=BatchSampler(range(10), 4, False))) == 3
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(0, 3), shuffle=True)
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="should not be set"):
        loader.batch_size = 3


def test_iterable_dataset_single_process():
    loader = DataLoader(Stream(0, 7), batch_size=3)
    assert [_vals(b) for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    assert [_vals(b) for b in DataLoader(Stream(0, 7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(0, 7), batch_size=3, drop_last=True)) == 2
    assert get_worker_info() is None


# ---------------------------------------------------------------- DataLoader, worker processes
class Failing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 6:
            raise ValueError(f"bad sample {i}")
        return i


class Dies(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 3:
            os._exit(7)
        return i


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(3)
        return i


class WhoAmI(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"i": i, "pid": os.getpid(), "wid": info.id, "n": info.num_workers, "seed": info.seed,
                "same": info.dataset is self, "r": float(tapegrad.rand(1).item()), "np": float(np.random.rand())}


def _workers_dead(it):
    return all(not w.is_alive() for w in it._workers)


@needs_fork
def test_workers_in_order_and_equal_to_main_process(deadline):
    ref = [(_vals(x), _vals(y)) for x, y in DataLoader(Squares(23), batch_size=3)]
    loader = DataLoader(Squares(23), batch_size=3, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    got = [(_vals(x), _vals(y)) for x, y in it]
    assert got == ref and len(loader) == 8
    assert _workers_dead(it)
    x, _ = next(iter(loader))
    assert x.dtype == tapegrad.float32


@needs_fork
def test_worker_info_seeds_and_init_fn(deadline):
    seen = []
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2,
                        worker_init_fn=lambda wid: np.random.seed(100 + wid),
                        generator=tapegrad.Generator().manual_seed(0))
    batches = list(loader)
    for b in batches:
        seen += list(zip(_vals(b["wid"]), _vals(b["pid"]), _vals(b["seed"]), _vals(b["n"]), _vals(b["same"])))
    assert {s[0] for s in seen} == {0, 1} and all(s[3] == 2 and s[4] for s in seen)
    assert len({s[1] for s in seen}) == 2 and os.getpid() not in {s[1] for s in seen}
    seeds = {s[0]: s[2] for s in seen}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker id
    rs = [r for b in batches for r in _vals(b["r"])]
    assert len(set(rs)) == len(rs)  # workers draw different random numbers
    nps = {w: v for b in batches for w, v in zip(_vals(b["wid"]), _vals(b["np"]))}
    assert nps[0] != nps[1]
    # worker_init_fn ran in the worker and its seeding took effect
    np.random.seed(100)
    first0 = np.random.rand()
    assert first0 in [v for b in batches for w, v in zip(_vals(b["wid"]), _vals(b["np"])) if w == 0]
    # seeded loaders reproduce the worker seeds
    again = list(DataLoader(WhoAmI(), batch_size=2, num_workers=2, generator=tapegrad.Generator().manual_seed(0)))
    assert [_vals(b["seed"]) for b in again] == [_vals(b["seed"]) for b in batches]


@needs_fork
def test_worker_exception_reaches_main_process_with_traceback(deadline):
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    it = iter(loader)
    with pytest.raises(ValueError) as info:
        for _ in it:
            pass
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process" in msg
    assert "Original Traceback (most recent call last)" in msg and "bad sample 6" in msg and "__getitem__" in msg
    assert _workers_dead(it)
    with pytest.raises(StopIteration):
        next(it)


@needs_fork
def test_worker_key_error_and_collate_error(deadline):
    class Keyed(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {}[f"missing{i}"]

    with pytest.raises(KeyError, match="Caught KeyError"):
        list(DataLoader(Keyed(), num_workers=1))

    class Ragged(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.zeros(3 if i != 2 else 5)

    with pytest.raises(RuntimeError, match=r"sample 0 of the batch \(dataset index 2\)|sample 1 of the batch "
                                           r"\(dataset index 3\)") as info:
        list(DataLoader(Ragged(), batch_size=2, num_workers=2, shuffle=False))
    assert "DataLoader worker process" in str(info.value) and "[5]" in str(info.value)


@needs_fork
def test_worker_death_raises_instead_of_hanging(deadline):
    loader = DataLoader(Dies(), batch_size=2, num_workers=2)
    it = iter(loader)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        for _ in it:
            pass
    assert _workers_dead(it)


@needs_fork
def test_timeout(deadline):
    loader = DataLoader(Slow(), num_workers=1, timeout=0.3)
    it = iter(loader)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"timed out after 0.3 seconds"):
        next(it)
    assert time.monotonic() - t0 < 2.5
    assert _workers_dead(it)


@needs_fork
def test_unpicklable_batch_is_an_error_not_a_hang(deadline):
    class Lambdas(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return lambda: i

    with pytest.raises(Exception, match="pickl"):
        list(DataLoader(Lambdas(), batch_size=None, num_workers=1))


@needs_fork
def test_iterable_dataset_with_workers(deadline):
    dup = sorted(v for b in DataLoader(Stream(0, 5), batch_size=2, num_workers=2) for v in _vals(b))
    assert dup == sorted(list(range(5)) * 2)  # each worker yields the whole stream, as in PyTorch
    split = sorted(v for b in DataLoader(Stream(0, 11, split=True), batch_size=2, num_workers=2) for v in _vals(b))
    assert split == list(range(11))
    loader = DataLoader(Stream(0, 11, split=True), batch_size=None, num_workers=2)
    assert sorted(int(v) for v in loader) == list(range(11))
    assert len(DataLoader(Stream(0, 11), batch_size=4, num_workers=2)) == 3


@needs_fork
def test_persistent_workers(deadline):
    class Pids(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return i, os.getpid()

    loader = DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    e1 = [(_vals(i), _vals(p)) for i, p in loader]
    e2 = [(_vals(i), _vals(p)) for i, p in loader]
    assert [x for x, _ in e1] == [x for x, _ in e2] == [[0, 1], [2, 3], [4, 5]]
    assert {q for _, p in e1 for q in p} == {q for _, p in e2 for q in p}  # the same worker processes
    it = iter(loader)
    next(it)  # a partial epoch, then a fresh one starts cleanly
    assert [_vals(i) for i, _ in loader] == [[0, 1], [2, 3], [4, 5]]
    loader._iterator._shutdown_workers()
    assert _workers_dead(loader._iterator)
    assert [_vals(i) for i, _ in loader] == [[0, 1], [2, 3], [4, 5]]
    loader._iterator._shutdown_workers()


@needs_fork
def test_persistent_workers_iterable(deadline):
    loader = DataLoader(Stream(0, 6, split=True), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in loader for v in _vals(b)) == list(range(6))
    loader._iterator._shutdown_workers()


@needs_fork
def test_shuffled_workers_reproduce_with_generator(deadline):
    def run(seed):
        return [v for _, y in DataLoader(Squares(12), batch_size=5, shuffle=True, num_workers=2,
                                         generator=tapegrad.Generator().manual_seed(seed)) for v in _vals(y)]

    a = run(1)
    assert a == run(1) and sorted(a) == list(range(12))


def test_spawn_context(deadline):
    loader = DataLoader(Squares(5), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert [_vals(y) for _, y in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="start method"):
        DataLoader(Squares(5), num_workers=1, multiprocessing_context="nonsense")
    with pytest.raises(ValueError, match="num_workers > 0"):
        DataLoader(Squares(5), multiprocessing_context="spawn")


def test_tensor_pickles_for_worker_transport():
    t = tapegrad.arange(6.0).reshape(2, 3).t()
    u = pickle.loads(pickle.dumps(t))
    assert u.tolist() == t.tolist() and u.dtype == t.dtype and not u.requires_grad
    g = pickle.loads(pickle.dumps(tapegrad.ones(2, requires_grad=True)))
    assert g.requires_grad and g.is_leaf
    assert pickle.loads(pickle.dumps(tapegrad.tensor([1, 2], dtype=tapegrad.int16))).dtype == tapegrad.int16


def test_too_many_workers_warns():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        DataLoader(Squares(2), num_workers=(os.cpu_count() or 1) + 50)
    assert any("worker processes" in str(x.message) for x in w)


def test_worker_numpy_seed_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data._utils.worker import _generate_state as torch_state

    from tapegrad.utils.data.dataloader import _generate_state

    for base, wid in [(0, 0), (12345, 3), (2 ** 63 - 1, 7), (987654321987654321, 1)]:
        assert _generate_state(base, wid) == torch_state(base, wid)
