"""tapegrad.utils.tensorboard.SummaryWriter: events read back with TensorBoard's own EventAccumulator."""
import importlib
import os
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

import tapegrad  # noqa: E402
from tapegrad.utils.tensorboard import SummaryWriter  # noqa: E402


def _read(path):
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0, "images": 0})
    acc.Reload()
    return acc


def test_scalars_round_trip(tmp_path):
    with SummaryWriter(tmp_path / "run") as w:
        for step in range(5):
            w.add_scalar("loss/train", tapegrad.tensor(1.0 / (step + 1)), step)   # a 0-d tapegrad tensor
        w.add_scalar("lr", 0.1, 0)
        w.add_scalar("np", np.float64(2.5), 3, new_style=True)
        assert w.get_logdir() == str(tmp_path / "run")
    acc = _read(tmp_path / "run")
    assert set(acc.Tags()["scalars"]) == {"loss/train", "lr"}
    events = acc.Scalars("loss/train")
    assert [e.step for e in events] == list(range(5))
    assert [e.value for e in events] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    (t,) = acc.Tensors("np")   # new_style scalars are tensors of the scalars plugin
    assert t.step == 3 and t.tensor_proto.float_val == [2.5]


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    w = SummaryWriter(str(tmp_path))
    w.add_scalars("error", {"train": 0.2, "test": 0.3}, 1)
    w.add_scalars("error", {"train": 0.1, "test": 0.25}, 2)
    w.close()
    w.close()   # a second close is harmless
    assert {"error_train", "error_test"} <= set(os.listdir(tmp_path))
    acc = _read(tmp_path / "error_test")
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("error")] == [(1, 0.3), (2, 0.25)]


def test_histogram_matches_its_values(tmp_path):
    values = tapegrad.randn(1000)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("weights", values, 7)
        w.add_histogram("fixed", np.array([0.0, 1.0, 1.0, 2.0]), 0, bins=4)
    acc = _read(tmp_path)
    (h,) = acc.Histograms("weights")
    v = values.numpy().astype(np.float64)
    hv = h.histogram_value
    assert h.step == 7 and hv.num == 1000 and sum(hv.bucket) == 1000
    assert hv.min == pytest.approx(v.min()) and hv.max == pytest.approx(v.max())
    assert hv.sum == pytest.approx(v.sum(), abs=1e-3) and hv.sum_squares == pytest.approx(v.dot(v), rel=1e-6)
    hv = acc.Histograms("fixed")[0].histogram_value
    assert list(hv.bucket) == [0, 1, 0, 2, 1] and list(hv.bucket_limit) == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_histogram_buckets_match_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    values = np.random.default_rng(0).normal(size=500).astype(np.float32)
    with SummaryWriter(tmp_path / "tg") as w:
        w.add_histogram("h", tapegrad.tensor(values), 0)
        w.add_histogram("hm", values, 0, bins="auto", max_bins=7)
    with TorchWriter(str(tmp_path / "pt")) as w:
        w.add_histogram("h", torch.tensor(values), 0)
        w.add_histogram("hm", values, 0, bins="auto", max_bins=7)
    for tag in ("h", "hm"):
        a = _read(tmp_path / "tg").Histograms(tag)[0].histogram_value
        b = _read(tmp_path / "pt").Histograms(tag)[0].histogram_value
        assert list(a.bucket) == list(b.bucket) and list(a.bucket_limit) == pytest.approx(list(b.bucket_limit))


def test_text_and_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "lr 0.1, **batch** 100", 2)
        w.add_hparams({"lr": 0.1, "optimizer": "sgd", "nesterov": False, "skip": None}, {"hparam/accuracy": 0.9},
                      run_name="trial")
    acc = _read(tmp_path)
    (t,) = acc.Tensors("notes/text_summary")
    assert t.step == 2 and t.tensor_proto.string_val == [b"lr 0.1, **batch** 100"]
    assert acc.PluginTagToContent("text")
    hp = _read(tmp_path / "trial")
    assert set(hp.PluginTagToContent("hparams")) == {"_hparams_/experiment", "_hparams_/session_start_info",
                                                     "_hparams_/session_end_info"}
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(
        hp.PluginTagToContent("hparams")["_hparams_/session_start_info"])
    hps = data.session_start_info.hparams
    assert hps["lr"].number_value == 0.1 and hps["optimizer"].string_value == "sgd"
    assert hps["nesterov"].bool_value is False and "skip" not in hps
    assert hp.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)


def test_image(tmp_path):
    pytest.importorskip("PIL")
    with SummaryWriter(tmp_path) as w:
        w.add_image("img", tapegrad.rand(3, 8, 10), 0)
        w.add_image("gray", np.zeros((5, 6), np.uint8), 1, dataformats="HW")
    acc = _read(tmp_path)
    (im,) = acc.Images("img")
    assert (im.width, im.height) == (10, 8) and im.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"
    assert (acc.Images("gray")[0].width, acc.Images("gray")[0].height) == (6, 5)


def test_default_log_dir_and_errors(tmp_path, monkeypatch):
    import socket

    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_x")
    assert w.log_dir.startswith("runs" + os.sep) and w.log_dir.endswith("_" + socket.gethostname() + "_x")
    assert os.path.isdir(w.log_dir) and any(f.startswith("events.out.tfevents") for f in os.listdir(w.log_dir))
    with pytest.raises(ValueError, match="one element"):
        w.add_scalar("v", tapegrad.ones(3))
    with pytest.raises(NotImplementedError, match="add_graph"):
        w.add_graph(None)
    with pytest.raises(TypeError):
        w.add_hparams([("lr", 0.1)], {})
    w.flush()
    w.close()


def test_clear_import_error_without_tensorboard(monkeypatch):
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.delitem(sys.modules, "tapegrad.utils.tensorboard")
    with pytest.raises(ImportError, match="pip install tensorboard"):
        importlib.import_module("tapegrad.utils.tensorboard")
