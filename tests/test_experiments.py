"""Smoke tests of `tapegrad experiment NAME`: tiny settings, the CSV's contents, the PNG, bad input."""
import csv
import importlib.util
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from tapegrad.datasets import write_idx
from tapegrad.experiments import EXPERIMENTS, main

FASHION = "/usr/share/datasets/fashion-mnist"
HAS_FASHION = all(os.path.exists(os.path.join(FASHION, f + "-idx" + d + "-ubyte.gz"))
                  for f, d in (("train-images", "3"), ("train-labels", "1"), ("t10k-images", "3"),
                               ("t10k-labels", "1")))

HAS_MPL = importlib.util.find_spec("matplotlib") is not None


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _synthetic_mnist(root, n_train=400, n_test=200, layout=("MNIST", "raw")):
    """A small learnable MNIST look-alike in IDX files: each class a fixed pattern plus noise."""
    rng = np.random.default_rng(0)
    templates = rng.random((10, 28, 28)) < 0.15
    folder = os.path.join(root, *layout)
    os.makedirs(folder, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = templates[labels] * 200 + rng.integers(0, 56, (n, 28, 28))
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), images.astype(np.uint8))
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labels)
    return str(root)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return _synthetic_mnist(tmp_path_factory.mktemp("data"))


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- the command line
def test_help_lists_the_experiments(capsys):
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    for name in ("convnet", "capacity", "protocol", "seeds", "playground"):
        assert name in out and name in EXPERIMENTS
    code, out, _ = _run(capsys, "seeds", "--help")
    assert code == 0 and "--workers" in out and "--runs" in out and "--data" in out


def _one_line_error(code, err):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0]
    return lines[0]


def test_unknown_experiment(capsys):
    line = _one_line_error(*_run(capsys, "nosuch")[::2])
    assert "unknown experiment 'nosuch'" in line and "convnet" in line


def test_unknown_experiment_exit_code_from_the_command():
    p = subprocess.run([sys.executable, "-m", "tapegrad", "experiment", "nosuch"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "unknown experiment" in p.stderr


@pytest.mark.parametrize("name", ["convnet", "seeds", "protocol"])
def test_missing_data_folder(capsys, tmp_path, name):
    line = _one_line_error(*_run(capsys, name, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path))[::2])
    assert "--data" in line and "does not exist" in line


def test_data_folder_without_dataset(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    line = _one_line_error(*_run(capsys, "convnet", "--data", str(tmp_path / "empty"), "--out", str(tmp_path))[::2])
    assert "no MNIST or Fashion-MNIST" in line


def test_data_folder_with_part_of_the_dataset(capsys, tmp_path):
    root = _synthetic_mnist(tmp_path / "d", 20, 10, layout=())
    os.remove(os.path.join(root, "train-images-idx3-ubyte.gz"))
    line = _one_line_error(*_run(capsys, "convnet", "--data", root, "--out", str(tmp_path))[::2])
    assert "train-images-idx3-ubyte" in line and "missing" in line


def test_corrupt_data_file(capsys, tmp_path):
    root = _synthetic_mnist(tmp_path / "d", 20, 10, layout=())
    path = os.path.join(root, "t10k-labels-idx1-ubyte.gz")
    with open(path, "r+b") as f:
        f.truncate(12)
    line = _one_line_error(*_run(capsys, "convnet", "--data", root, "--out", str(tmp_path), "--epochs", "1")[::2])
    assert "t10k-labels" in line


def test_bad_option_values(capsys, tmp_path):
    line = _one_line_error(*_run(capsys, "convnet", "--epochs", "0", "--out", str(tmp_path))[::2])
    assert "--epochs" in line
    line = _one_line_error(*_run(capsys, "capacity", "--degrees", "x", "--out", str(tmp_path))[::2])
    assert "--degrees" in line
    line = _one_line_error(*_run(capsys, "playground", "--problems", "moons", "--out", str(tmp_path))[::2])
    assert "moons" in line


def test_unwritable_out(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = _one_line_error(*_run(capsys, "capacity", "--out", str(blocker / "sub"))[::2])
    assert "--out" in line


# ---------------------------------------------------------------- the experiments
def test_convnet(capsys, tmp_path, synthetic):
    data = FASHION if HAS_FASHION else synthetic
    code, out, err = _run(capsys, "convnet", "--data", data, "--train-size", "500", "--test-size", "300",
                          "--epochs", "1", "--out", str(tmp_path), "--no-progress")
    assert code == 0, err
    assert ("Fashion-MNIST" if HAS_FASHION else "MNIST") in out and "500 training" in out
    rows = _read_csv(tmp_path / "convnet.csv")
    assert len(rows) == 1 and rows[0]["epoch"] == "1"
    assert set(rows[0]) >= {"train_loss", "test_error", "time_s"}
    loss, error = float(rows[0]["train_loss"]), float(rows[0]["test_error"])
    assert math.isfinite(loss) and 0 < loss < 2.6     # below chance level (ln 10 = 2.30) plus margin
    assert 0 <= error < 0.9                           # better than chance after 5 SGD steps
    assert os.path.exists(tmp_path / "convnet.png") == HAS_MPL


def test_capacity(capsys, tmp_path):
    code, out, err = _run(capsys, "capacity", "--repeats", "5", "--seed", "1", "--out", str(tmp_path))
    assert code == 0, err
    assert "under-fitting" in out and "over-fitting" in out
    rows = _read_csv(tmp_path / "capacity.csv")
    assert [int(r["degree"]) for r in rows] == list(range(10))
    train = [float(r["train_mse"]) for r in rows]
    test = [float(r["test_mse"]) for r in rows]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(train, train[1:])), train   # more capacity, lower train MSE
    assert test[-1] > train[-1] and test[-1] > min(test) and test[0] > min(test)
    assert os.path.exists(tmp_path / "capacity.png") == HAS_MPL


def test_protocol_uses_the_test_set_once(capsys, tmp_path, synthetic):
    code, out, err = _run(capsys, "protocol", "--data", synthetic, "--values", "0.01,0.1", "--epochs", "1",
                          "--out", str(tmp_path), "--no-progress")
    assert code == 0, err
    assert "WARNING" not in err
    assert "test-set evaluations: 1 in this run, 1 in this study" in out
    rows = _read_csv(tmp_path / "protocol.csv")
    assert [float(r["value"]) for r in rows] == [0.01, 0.1]
    chosen = [r for r in rows if r["selected"] == "True"]
    assert len(chosen) == 1 and chosen[0]["test_error"] != ""
    assert all(r["test_error"] == "" for r in rows if r["selected"] != "True")
    assert float(chosen[0]["val_error"]) == min(float(r["val_error"]) for r in rows)
    (runs,) = json.load(open(tmp_path / "protocol_ledger.json")).values()
    assert [r["test_evaluations"] for r in runs] == [1]

    # a second look at the same test set in the same study is flagged too
    code, out, err = _run(capsys, "protocol", "--data", synthetic, "--values", "0.01,0.1", "--epochs", "1",
                          "--out", str(tmp_path), "--no-progress")
    assert code == 0 and "2 in this study" in out and "meta over-fitting" in err


def test_protocol_warns_when_choosing_on_the_test_set(capsys, tmp_path, synthetic):
    code, out, err = _run(capsys, "protocol", "--data", synthetic, "--param", "width", "--values", "4,16,32",
                          "--epochs", "1", "--select-on", "test", "--out", str(tmp_path), "--no-progress")
    assert code == 0
    assert "WARNING" in err and "meta over-fitting" in err and "used to choose width" in err
    assert "test-set evaluations: 3 in this run" in out
    rows = _read_csv(tmp_path / "protocol.csv")
    assert all(r["test_error"] != "" for r in rows)


def test_seeds_in_parallel(capsys, tmp_path, synthetic):
    args = ["seeds", "--data", synthetic, "--model", "mlp", "--width", "16", "--runs", "2", "--epochs", "1",
            "--no-progress"]
    code, out, err = _run(capsys, *args, "--workers", "2", "--out", str(tmp_path / "par"))
    assert code == 0, err
    assert "worst" in out and "median" in out and "best" in out
    rows = _read_csv(tmp_path / "par" / "seeds.csv")
    assert [r["seed"] for r in rows] == ["0", "1"]
    assert all(r["blas_threads"] == "1" for r in rows)         # each worker on one BLAS thread
    assert all(int(r["pid"]) != os.getpid() for r in rows)
    stats = {r["statistic"]: float(r["test_error"]) for r in _read_csv(tmp_path / "par" / "seeds_summary.csv")}
    assert stats["worst"] >= stats["median"] >= stats["best"]
    assert stats["spread"] == pytest.approx(stats["worst"] - stats["best"])
    assert os.path.exists(tmp_path / "par" / "seeds.png") == HAS_MPL
    # the same seeds in this process give the same errors
    code, out, err = _run(capsys, *args, "--workers", "1", "--out", str(tmp_path / "seq"))
    assert code == 0, err
    seq = _read_csv(tmp_path / "seq" / "seeds.csv")
    assert [r["test_error"] for r in seq] == [r["test_error"] for r in rows]


def test_playground_mlp_beats_linear(capsys, tmp_path):
    code, out, err = _run(capsys, "playground", "--problems", "circles,xor", "--samples", "200", "--epochs", "300",
                          "--lr", "0.03", "--out", str(tmp_path), "--no-progress")
    assert code == 0, err
    rows = _read_csv(tmp_path / "playground.csv")
    acc = {(r["problem"], r["model"].split()[0]): float(r["test_accuracy"]) for r in rows}
    assert {m for _, m in acc} == {"linear", "poly3", "mlp"}
    for problem in ("circles", "xor"):
        assert acc[(problem, "linear")] < 0.75              # no straight line separates them
        assert acc[(problem, "mlp")] > 0.9
        assert acc[(problem, "mlp")] > acc[(problem, "linear")] + 0.2
    assert os.path.exists(tmp_path / "playground.png") == HAS_MPL


def test_runs_without_the_optional_tools(capsys, tmp_path, monkeypatch):
    for mod in ("matplotlib", "matplotlib.figure", "tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, mod, None)
    code, out, err = _run(capsys, "capacity", "--repeats", "2", "--out", str(tmp_path))
    assert code == 0, err
    assert "skipped capacity.png (matplotlib is not installed: pip install tapegrad[tools])" in out
    assert "skipped progress bars (tqdm is not installed" in out
    assert os.path.exists(tmp_path / "capacity.csv") and not os.path.exists(tmp_path / "capacity.png")


def test_tensorboard_option(capsys, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    code, out, err = _run(capsys, "capacity", "--repeats", "2", "--degrees", "0-3", "--out", str(tmp_path / "o"),
                          "--tensorboard", str(tmp_path / "tb"))
    assert code == 0, err
    acc = EventAccumulator(str(tmp_path / "tb" / "capacity" / "mse_test"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("mse")] == [0, 1, 2, 3]
    test = [float(r["test_mse"]) for r in _read_csv(tmp_path / "o" / "capacity.csv")]
    assert [e.value for e in acc.Scalars("mse")] == pytest.approx(test, rel=1e-6)
