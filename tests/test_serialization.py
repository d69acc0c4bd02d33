"""tapegrad.save / tapegrad.load: PyTorch's checkpoint format, safe loading, atomic writes, safetensors."""
import collections
import io
import os
import pathlib
import pickle
import struct
import sys
import zipfile

import numpy as np
import pytest

import tapegrad
from tapegrad import serialization
from tapegrad.nn import Parameter


def _np(t):
    return np.asarray(t._data)


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    assert a.dtype == b.dtype
    assert tuple(a.shape) == tuple(b.shape)
    assert a.requires_grad == b.requires_grad
    np.testing.assert_array_equal(_np(a), _np(b))


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    buf.seek(0)
    return tapegrad.load(buf, **load_kwargs)


# ---------------------------------------------------------------- hand-made pickles
def _unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(i):
    return b"J" + struct.pack("<i", i)


def _tuple(*items):
    return b"(" + b"".join(items) + b"t"


def _tensor_pickle(size, stride, offset=0, numel=4, location="cpu", storage="FloatStorage"):
    """data.pkl for one tensor, written opcode by opcode (no torch needed)."""
    pid = _tuple(_unicode("storage"), b"ctorch\n" + storage.encode() + b"\n", _unicode("0"), _unicode(location),
                 _int(numel))
    args = _tuple(pid + b"Q", _int(offset), _tuple(*map(_int, size)), _tuple(*map(_int, stride)), b"\x89",
                  b"ccollections\nOrderedDict\n)R")
    return b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n" + args + b"R."


def _archive(data_pkl, storages=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", raw)
        zf.writestr("archive/version", "3\n")
    buf.seek(0)
    return buf


# ---------------------------------------------------------------- round trips (no torch)
def test_roundtrip_dtypes_and_containers(tmp_path):
    tensors = {
        "f32": tapegrad.randn(3, 4), "f64": tapegrad.randn(2, dtype=tapegrad.float64),
        "f16": tapegrad.randn(5).half(), "i64": tapegrad.arange(6), "i32": tapegrad.arange(3, dtype=tapegrad.int32),
        "i16": tapegrad.arange(3, dtype=tapegrad.int16), "i8": tapegrad.arange(-2, 2, dtype=tapegrad.int8),
        "u8": tapegrad.arange(4, dtype=tapegrad.uint8), "bool": tapegrad.tensor([True, False, True]),
        "scalar": tapegrad.tensor(3.5), "empty": tapegrad.zeros(0, 3),
        "c64": tapegrad.tensor(np.array([1 + 2j, 3j], dtype=np.complex64)),
    }
    obj = {"tensors": tensors, "list": [tapegrad.ones(2), 1, 2.5, "s", None, True], "tuple": (3, tapegrad.zeros(1)),
           "nested": {"a": {"b": [tapegrad.arange(3)]}}, "bytes": b"\x00\xff", "set": {1, 2},
           "frozen": frozenset({3}), "complex": 1 + 2j, "dtype": tapegrad.float16, "device": tapegrad.device("cpu"),
           "size": tapegrad.Size([2, 3]), "slice": slice(1, 5, 2)}
    path = tmp_path / "ckpt.pt"
    tapegrad.save(obj, path)  # pathlib.Path
    out = tapegrad.load(str(path))  # str path
    for k, t in tensors.items():
        _assert_same(out["tensors"][k], t)
    assert out["list"][1:] == [1, 2.5, "s", None, True]
    _assert_same(out["list"][0], obj["list"][0])
    assert isinstance(out["tuple"], tuple) and out["tuple"][0] == 3
    _assert_same(out["nested"]["a"]["b"][0], obj["nested"]["a"]["b"][0])
    assert out["bytes"] == b"\x00\xff" and out["set"] == {1, 2} and out["frozen"] == frozenset({3})
    assert out["complex"] == 1 + 2j and out["slice"] == slice(1, 5, 2)
    assert out["dtype"] is tapegrad.float16
    assert out["device"] == tapegrad.device("cpu")
    assert isinstance(out["size"], tapegrad.Size) and out["size"] == (2, 3)


def test_roundtrip_state_dict_parameters_and_grad_flags():
    sd = collections.OrderedDict()
    sd["weight"] = Parameter(tapegrad.randn(4, 3))
    sd["frozen"] = Parameter(tapegrad.randn(2), requires_grad=False)
    sd["leaf"] = tapegrad.randn(2, requires_grad=True)
    sd["buf"] = tapegrad.arange(3)
    sd._metadata = {"": {"version": 1}}
    out = _roundtrip(sd)
    assert type(out) is collections.OrderedDict and list(out) == list(sd)
    assert out._metadata == {"": {"version": 1}}
    for k in sd:
        _assert_same(out[k], sd[k])
    assert isinstance(out["weight"], Parameter) and out["weight"].requires_grad
    assert not out["frozen"].requires_grad


def test_views_share_storage_after_roundtrip():
    base = tapegrad.arange(12.0).reshape(3, 4)
    obj = {"base": base, "row": base[1], "col": base[:, 2], "t": base.t(), "tail": base.reshape(-1)[5:],
           "expand": tapegrad.arange(3.0).unsqueeze(0).expand(4, 3), "flip": base.flip(0)}
    out = _roundtrip(obj)
    for k, v in obj.items():
        _assert_same(out[k], v)
    assert out["t"].stride() == (1, 4) and out["col"].stride() == (4,)
    assert out["row"].storage_offset() == 4 and out["tail"].storage_offset() == 5
    # one buffer again: writing through the base shows in the views
    out["base"]._data[1, 2] = 100.0
    assert out["row"][2].item() == 100.0 and out["col"][1].item() == 100.0 and out["t"][2, 1].item() == 100.0
    assert out["tail"][1].item() == 100.0
    assert out["flip"][1, 2].item() == 6.0  # negative strides are saved as a copy


def test_shared_tensor_object_saved_once():
    t = tapegrad.randn(1000)
    buf = io.BytesIO()
    tapegrad.save({"a": t, "b": t, "c": [t]}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        data = [n for n in zf.namelist() if "/data/" in n]
    assert len(data) == 1
    buf.seek(0)
    out = tapegrad.load(buf)
    assert out["a"] is out["b"] is out["c"][0]


def test_file_format_records():
    buf = io.BytesIO()
    tapegrad.save({"x": tapegrad.ones(3)}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        names = zf.namelist()
        assert names[0] == "archive/data.pkl"
        assert zf.read("archive/byteorder") == sys.byteorder.encode()
        assert zf.read("archive/version") == b"3\n"
        assert np.frombuffer(zf.read("archive/data/0"), np.float32).tolist() == [1.0, 1.0, 1.0]
        pkl = zf.read("archive/data.pkl")
        assert pkl[:2] == b"\x80\x02"  # pickle protocol 2
        assert b"torch._utils\n_rebuild_tensor_v2\n" in pkl and b"torch\nFloatStorage\n" in pkl
        raw = buf.getvalue()
        for info in zf.infolist():  # storages are 64-byte aligned, as PyTorch writes them
            if "/data/" in info.filename:
                n, m = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
                assert (info.header_offset + 30 + n + m) % 64 == 0


def test_file_objects_and_streams(tmp_path):
    t = tapegrad.randn(3)

    class Stream:  # write-only, not seekable
        def __init__(self):
            self.chunks = []

        def write(self, b):
            self.chunks.append(bytes(b))

        def seekable(self):
            return False

    s = Stream()
    tapegrad.save(t, s)
    _assert_same(tapegrad.load(io.BytesIO(b"".join(s.chunks))), t)
    with open(tmp_path / "f.pt", "wb") as fh:
        tapegrad.save(t, fh)
    with open(tmp_path / "f.pt", "rb") as fh:
        _assert_same(tapegrad.load(fh), t)
    _assert_same(tapegrad.load(tmp_path / "f.pt", mmap=True), t)


def test_map_location_forms():
    t = tapegrad.arange(4.0)
    for loc in (None, "cpu", tapegrad.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage,
                lambda storage, location: storage.cpu(), lambda storage, location: None):
        _assert_same(_roundtrip(t, map_location=loc), t)
    with pytest.raises(ValueError, match="map_location"):
        _roundtrip(t, map_location=3.5)


def test_cuda_location_without_gpu_is_mapped_or_refused():
    if tapegrad.cuda.is_available():
        pytest.skip("a GPU is available")
    raw = np.arange(4, dtype=np.float32).tobytes()
    data = _tensor_pickle((4,), (1,), location="cuda:0")
    with pytest.raises(RuntimeError, match="map_location"):
        tapegrad.load(_archive(data, {"0": raw}))
    for loc in ("cpu", {"cuda:0": "cpu"}, lambda s, l: s.cpu()):
        out = tapegrad.load(_archive(data, {"0": raw}), map_location=loc)
        assert out.tolist() == [0.0, 1.0, 2.0, 3.0]


# ---------------------------------------------------------------- safe loading
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _WritesMarker:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.write_text, (pathlib.Path(self.marker), "pwned"))


@pytest.mark.parametrize("payload", [_Evil, _WritesMarker])
@pytest.mark.parametrize("container", ["zip", "plain"])
def test_malicious_pickle_is_refused(tmp_path, payload, container):
    marker = tmp_path / "marker"
    evil = pickle.dumps({"w": payload(str(marker))}, protocol=2)
    f = _archive(evil) if container == "zip" else io.BytesIO(evil)
    with pytest.raises(pickle.UnpicklingError) as info:
        tapegrad.load(f)
    msg = str(info.value)
    assert "Weights only load failed" in msg and "Unsupported global" in msg
    # the first global the pickle asks for is named: os.system, or getattr (to reach Path.write_text)
    assert ("posix.system" in msg or "os.system" in msg) if payload is _Evil else "builtins.getattr" in msg
    assert not marker.exists()


def test_malicious_object_saved_by_tapegrad_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    tapegrad.save({"weights": tapegrad.ones(2), "x": _Evil(str(marker))}, path)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL (posix|os).system"):
        tapegrad.load(path)
    assert not marker.exists()


class _Config:
    def __init__(self, lr):
        self.lr = lr

    def __eq__(self, other):
        return isinstance(other, _Config) and other.lr == self.lr


def test_weights_only_false_and_safe_globals():
    obj = {"cfg": _Config(0.1), "w": tapegrad.ones(2)}
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    with pytest.raises(pickle.UnpicklingError, match="_Config"):
        tapegrad.load(io.BytesIO(buf.getvalue()))
    out = tapegrad.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert out["cfg"] == _Config(0.1)
    _assert_same(out["w"], obj["w"])
    with serialization.safe_globals([_Config]):
        assert tapegrad.load(io.BytesIO(buf.getvalue()))["cfg"] == _Config(0.1)
    with pytest.raises(pickle.UnpicklingError):
        tapegrad.load(io.BytesIO(buf.getvalue()))
    with pytest.raises(RuntimeError, match="pickle_module"):
        tapegrad.load(io.BytesIO(buf.getvalue()), pickle_module=type(sys)("fake"), weights_only=True)


def test_out_of_bounds_strides_are_refused():
    raw = np.arange(4, dtype=np.float32).tobytes()
    ok = tapegrad.load(_archive(_tensor_pickle((2, 2), (2, 1)), {"0": raw}))
    assert ok.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    for size, stride, offset in [((2, 2), (4, 1), 0), ((5,), (1,), 0), ((2,), (1,), 3), ((1000000,), (1000,), 0)]:
        with pytest.raises(RuntimeError, match="out of bounds"):
            tapegrad.load(_archive(_tensor_pickle(size, stride, offset), {"0": raw}))
    with pytest.raises(RuntimeError, match="non-negative"):
        tapegrad.load(_archive(_tensor_pickle((2,), (-1,), 3), {"0": raw}))
    with pytest.raises(RuntimeError, match="truncated"):
        tapegrad.load(_archive(_tensor_pickle((2, 2), (2, 1)), {"0": raw[:8]}))


@pytest.mark.parametrize("protocol", range(6))
def test_weights_only_unpickler_reads_plain_data_in_every_protocol(protocol):
    shared = [1, 2]
    od = collections.OrderedDict(x=1)
    od._metadata = {"": {"version": 1}}
    objs = [None, True, 0, -1, 255, 65536, -2 ** 31, 2 ** 70, -2 ** 70, 1.5, "h\u00e9llo", "x" * 300, b"ab",
            b"x" * 300, bytearray(b"ab"), [1, [2, [3]]], (), (1,), (1, 2), (1, 2, 3, 4), {"a": 1, 2: [3]}, {1, 2},
            frozenset({1}), collections.Counter("aab"), 1 + 2j, slice(1, 2, 3), [shared, shared], od]
    for obj in objs:
        got = serialization._WeightsOnlyUnpickler(io.BytesIO(pickle.dumps(obj, protocol=protocol))).load()
        assert got == obj and type(got) is type(obj)
    got = serialization._WeightsOnlyUnpickler(io.BytesIO(pickle.dumps([shared, shared, od], protocol=protocol))).load()
    assert got[0] is got[1] and got[2]._metadata == od._metadata


@pytest.mark.parametrize("payload,message", [
    # BUILD on the float32 dtype object: would rewrite tapegrad.float32 for the whole process
    (b"\x80\x02ctorch\nfloat32\nN}X\x02\x00\x00\x00npK\x01s\x86b.", "cannot set the state"),
    # BUILD on an allowed function (its __defaults__)
    (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nN}X\x0c\x00\x00\x00__defaults__)s\x86b.", "cannot set"),
    # calling something that is not an allowed callable (a dtype)
    (b"\x80\x02ctorch\nfloat32\n)R.", "may not be called"),
    # INST names a class without going through the allow-list
    (b"(ios\nsystem\nS'true'\np0\n.", "INST"),
    # SETITEM on a torch.Size
    (b"\x80\x02ctorch\nSize\n)R" + b"K\x00K\x01s.", "cannot set items"),
])
def test_weights_only_unpickler_refuses_crafted_opcodes(payload, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        serialization._WeightsOnlyUnpickler(io.BytesIO(payload)).load()
    assert tapegrad.float32.np == np.float32 and tapegrad.ones(1).dtype is tapegrad.float32


def test_not_a_checkpoint():
    with pytest.raises(pickle.UnpicklingError, match="not a checkpoint"):
        tapegrad.load(io.BytesIO(b"hello world, this is text"))


# ---------------------------------------------------------------- atomic writes
class _Explodes:
    def __reduce__(self):
        raise RuntimeError("boom while pickling")


def _assert_only(tmp_path, names):
    assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_failed_save_keeps_previous_file(tmp_path):
    path = tmp_path / "model.pt"
    good = {"w": tapegrad.arange(5.0)}
    tapegrad.save(good, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom while pickling"):
        tapegrad.save({"w": tapegrad.zeros(5), "bad": _Explodes()}, path)
    assert path.read_bytes() == before
    _assert_only(tmp_path, ["model.pt"])
    _assert_same(tapegrad.load(path)["w"], good["w"])


def test_crash_while_writing_storages_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    tapegrad.save({"w": tapegrad.ones(3)}, path)
    before = path.read_bytes()
    real = serialization._zip_record

    def failing(zf, name, data, align=True):
        if "/data/" in name:
            raise OSError("disk full")
        return real(zf, name, data, align)

    monkeypatch.setattr(serialization, "_zip_record", failing)
    with pytest.raises(OSError, match="disk full"):
        tapegrad.save({"w": tapegrad.zeros(1000)}, path)
    assert path.read_bytes() == before
    _assert_only(tmp_path, ["model.pt"])


def test_save_keeps_permissions_and_reports_missing_dir(tmp_path):
    path = tmp_path / "m.pt"
    tapegrad.save(tapegrad.ones(1), path)
    os.chmod(path, 0o640)
    tapegrad.save(tapegrad.ones(2), path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    with pytest.raises(RuntimeError, match="Parent directory"):
        tapegrad.save(tapegrad.ones(1), tmp_path / "missing" / "m.pt")


# ---------------------------------------------------------------- interchange with PyTorch
def _to_torch(torch, t):
    return torch.from_numpy(np.array(_np(t)))


def test_load_torch_saved_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(3, 4)
    sd["f64"] = torch.randn(2, 2, dtype=torch.float64)
    sd["i64"] = torch.arange(5)
    sd["bool"] = torch.tensor([True, False])
    sd["f16"] = torch.randn(3).half()
    sd["base"] = base
    sd["row_view"] = base[2]  # shares storage, offset 12
    sd["col_view"] = base[:, 3]  # stride 6
    sd["t"] = base.t()  # non-contiguous
    sd["param"] = torch.nn.Parameter(torch.randn(2, 3))
    sd["scalar"] = torch.tensor(7)
    obj = {"model": sd, "epoch": 3, "lr": 0.5, "name": "run", "nested": [torch.ones(2), (torch.zeros(1), "x")],
           "dtype": torch.float64, "size": torch.Size([1, 2])}
    path = tmp_path / "torch.pt"
    torch.save(obj, path)
    out = tapegrad.load(path)
    assert out["epoch"] == 3 and out["lr"] == 0.5 and out["name"] == "run"
    assert out["dtype"] is tapegrad.float64 and out["size"] == (1, 2)
    assert type(out["model"]) is collections.OrderedDict and list(out["model"]) == list(sd)
    for k, v in sd.items():
        got = out["model"][k]
        assert str(got.dtype) == str(v.dtype), k
        assert got.shape == tuple(v.shape) and got.stride() == v.stride(), k
        np.testing.assert_array_equal(_np(got), v.detach().numpy())
    assert isinstance(out["model"]["param"], Parameter) and out["model"]["param"].requires_grad
    assert out["model"]["row_view"].storage_offset() == 12
    out["model"]["base"]._data[2, 3] = -1.0  # shared storage preserved
    assert out["model"]["row_view"][3].item() == -1.0 and out["model"]["t"][3, 2].item() == -1.0
    np.testing.assert_array_equal(_np(out["nested"][0]), np.ones(2, np.float32))
    assert out["nested"][1][1] == "x"


def test_load_torch_legacy_format(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(10.0)
    obj = {"a": base, "b": base[3:7], "p": torch.nn.Parameter(torch.ones(2)), "i": torch.arange(3), "n": [1, "s"]}
    path = tmp_path / "legacy.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    out = tapegrad.load(path)
    np.testing.assert_array_equal(_np(out["a"]), base.numpy())
    np.testing.assert_array_equal(_np(out["b"]), base[3:7].numpy())
    assert isinstance(out["p"], Parameter) and out["n"] == [1, "s"]
    out["a"]._data[4] = 100.0
    assert out["b"][1].item() == 100.0


def test_torch_loads_tapegrad_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    base = tapegrad.arange(12.0).reshape(3, 4)
    sd = collections.OrderedDict()
    sd["weight"] = Parameter(tapegrad.randn(4, 3))
    sd["bias"] = tapegrad.randn(4, dtype=tapegrad.float64)
    sd["steps"] = tapegrad.tensor(5)
    sd["mask"] = tapegrad.tensor([True, False])
    sd["half"] = tapegrad.randn(2).half()
    sd["base"] = base
    sd["row"] = base[1]
    sd["t"] = base.t()
    sd["int8"] = tapegrad.arange(-3, 3, dtype=tapegrad.int8)
    sd["u8"] = tapegrad.arange(3, dtype=tapegrad.uint8)
    sd["i32"] = tapegrad.arange(3, dtype=tapegrad.int32)
    obj = {"state": sd, "epoch": 2, "hist": [0.5, 0.25], "tag": ("a", 1), "dt": tapegrad.float32,
           "shape": tapegrad.Size([3]), "dev": tapegrad.device("cpu"), "b": b"xy", "s": {1}}
    path = tmp_path / "tg.pt"
    tapegrad.save(obj, path)
    out = torch.load(path)  # weights_only=True by default
    assert out["epoch"] == 2 and out["hist"] == [0.5, 0.25] and out["tag"] == ("a", 1)
    assert out["dt"] is torch.float32 and out["shape"] == torch.Size([3]) and out["dev"] == torch.device("cpu")
    assert out["b"] == b"xy" and out["s"] == {1}
    for k, v in sd.items():
        got = out["state"][k]
        assert str(got.dtype) == str(v.dtype) and tuple(got.shape) == tuple(v.shape) and got.stride() == v.stride()
        np.testing.assert_array_equal(got.detach().numpy(), _np(v))
    assert isinstance(out["state"]["weight"], torch.nn.Parameter)
    assert out["state"]["row"].untyped_storage().data_ptr() == out["state"]["base"].untyped_storage().data_ptr()
    assert out["state"]["row"].storage_offset() == 4
    mm = torch.load(path, mmap=True)
    torch.testing.assert_close(mm["state"]["t"], out["state"]["t"])
    # a torch module takes the state dict
    lin = torch.nn.Linear(3, 4)
    lin.load_state_dict({"weight": out["state"]["weight"], "bias": out["state"]["bias"].float()})
    # and tapegrad reads back what torch re-saves
    torch.save(out, tmp_path / "again.pt")
    back = tapegrad.load(tmp_path / "again.pt")
    for k, v in sd.items():
        _assert_same(back["state"][k], v)


def test_requires_grad_tensor_interchange(tmp_path):
    torch = pytest.importorskip("torch")
    t = tapegrad.randn(3, requires_grad=True)
    tapegrad.save(t, tmp_path / "t.pt")
    got = torch.load(tmp_path / "t.pt")
    assert got.requires_grad and got.is_leaf


# ---------------------------------------------------------------- safetensors
def test_safetensors_roundtrip_and_sniffing(tmp_path):
    pytest.importorskip("safetensors")
    tensors = {"w": tapegrad.randn(3, 4), "b": tapegrad.arange(5), "m": tapegrad.tensor([True, False]),
               "h": tapegrad.randn(2).half(), "t": tapegrad.randn(4, 3).t()}
    path = tmp_path / "m.safetensors"
    serialization.save_file(tensors, path, metadata={"format": "pt"})
    out = serialization.load_file(path)
    assert sorted(out) == sorted(tensors)
    for k in tensors:
        _assert_same(out[k], tensors[k])
    out["w"].add_(1.0)  # writable
    for k, v in tapegrad.load(path).items():  # load() recognises the format
        _assert_same(v, tensors[k]) if k != "w" else None
    with pytest.raises(TypeError, match="tensor"):
        serialization.save_file({"x": np.zeros(2)}, tmp_path / "bad.safetensors")


def test_safetensors_interchange_with_torch(tmp_path):
    pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as torch_load_file
    from safetensors.torch import save_file as torch_save_file

    ours = {"w": tapegrad.randn(2, 3), "i": tapegrad.arange(4), "d": tapegrad.randn(2, dtype=tapegrad.float64)}
    serialization.save_file(ours, tmp_path / "a.safetensors")
    theirs = torch_load_file(str(tmp_path / "a.safetensors"))
    for k, v in ours.items():
        np.testing.assert_array_equal(theirs[k].numpy(), _np(v))
        assert str(theirs[k].dtype) == str(v.dtype)
    torch_save_file({"x": torch.randn(3, 2), "y": torch.tensor([1, 2], dtype=torch.int32)}, str(tmp_path / "b.safetensors"))
    back = serialization.load_file(tmp_path / "b.safetensors")
    ref = torch_load_file(str(tmp_path / "b.safetensors"))
    for k in ref:
        np.testing.assert_array_equal(_np(back[k]), ref[k].numpy())
        assert str(back[k].dtype) == str(ref[k].dtype)


def test_safetensors_model_helpers(tmp_path):
    pytest.importorskip("safetensors")

    class Model:
        def __init__(self):
            self.sd = {"w": tapegrad.randn(2), "b": tapegrad.zeros(1)}

        def state_dict(self):
            return dict(self.sd)

        def load_state_dict(self, sd, strict=True):
            self.sd = dict(sd)
            return collections.namedtuple("R", "missing_keys unexpected_keys")([], [])

    m = Model()
    serialization.save_model(m, tmp_path / "m.safetensors")
    m2 = Model()
    assert serialization.load_model(m2, tmp_path / "m.safetensors") == ([], [])
    _assert_same(m2.sd["w"], m.sd["w"])


def test_safetensors_missing_package_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        serialization.save_file({"x": tapegrad.ones(1)}, tmp_path / "x.safetensors")
    with pytest.raises(ImportError, match="pip install safetensors"):
        serialization.load_file(tmp_path / "x.safetensors")


def test_module_state_dicts_interchange(tmp_path):
    torch = pytest.importorskip("torch")
    ours = tapegrad.nn.Linear(3, 2)
    tapegrad.save(ours.state_dict(), tmp_path / "ours.pt")
    theirs = torch.nn.Linear(3, 2)
    theirs.load_state_dict(torch.load(tmp_path / "ours.pt"))
    np.testing.assert_array_equal(theirs.weight.detach().numpy(), _np(ours.weight.detach()))
    theirs = torch.nn.Linear(3, 2)
    torch.save(theirs.state_dict(), tmp_path / "theirs.pt")
    ours.load_state_dict(tapegrad.load(tmp_path / "theirs.pt"))
    np.testing.assert_array_equal(_np(ours.bias.detach()), theirs.bias.detach().numpy())


def test_whole_torch_module_needs_weights_only_false(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    torch.save(net, tmp_path / "net.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.container.Sequential"):
        tapegrad.load(tmp_path / "net.pt")
    ours = tapegrad.load(tmp_path / "net.pt", weights_only=False)  # torch.nn.* resolve to tapegrad.nn.*
    assert isinstance(ours, tapegrad.nn.Sequential)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(_np(ours(tapegrad.tensor(x)).detach()), net(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6)
