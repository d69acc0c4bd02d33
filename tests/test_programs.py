"""The example programs (examples/), small versions, under `python -m tapegrad.run` and, where PyTorch is
installed, under real PyTorch: both start from the same state_dict (saved by torch, loaded by tapegrad) and see
the same batches, so their final metrics agree to float32 noise. Without torch, tapegrad's metric is checked
against what the program should reach."""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
FASHION = "/usr/share/datasets/fashion-mnist"
HAVE_TORCH = importlib.util.find_spec("torch") is not None

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")),
                                reason="Fashion-MNIST is not installed")


def _run(framework, program, args, cwd):
    # one BLAS/OpenMP thread each: small matrix products gain nothing from more, and spinning threads of the
    # two frameworks' runs would only compete for the cores
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    prefix = [sys.executable] if framework == "torch" else [sys.executable, "-m", "tapegrad.run"]
    out = subprocess.run(prefix + [os.path.join(EXAMPLES, program)] + [str(a) for a in args], cwd=cwd,
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, f"{framework} {program} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def _final(stdout, pattern):
    m = re.findall(pattern, stdout)
    assert m, f"no line matching {pattern!r} in:\n{stdout[-2000:]}"
    return tuple(float(v) for v in m[-1]) if isinstance(m[-1], tuple) else float(m[-1])


def _both(program, args, tmp_path):
    """tapegrad's output, and torch's (None without torch); with torch, both start from torch's weights."""
    init = tmp_path / "init.pt"
    torch_out = None
    if HAVE_TORCH:
        torch_out = _run("torch", program, args + ["--save-init", init], tmp_path)
        args = args + ["--init", init]
    return _run("tapegrad", program, args, tmp_path), torch_out


def test_mnist_classifier_conv_steplr_checkpoint_resume(tmp_path):
    """Epoch 1 under torch, writing the initial weights and a checkpoint (model, SGD momentum and StepLR state);
    tapegrad runs both epochs from those weights (epoch 1 must match torch's step by step) and, in a new
    process, resumes from torch's checkpoint for epoch 2 (must match its own uninterrupted run)."""
    args = ["--train-size", 192, "--test-size", 200, "--batch-size", 32, "--dropout", 0, "--no-shuffle",
            "--log-interval", 1, "--optimizer", "sgd", "--lr", 0.01]
    ck, init = tmp_path / "ck.pt", tmp_path / "init.pt"
    first = _run("torch" if HAVE_TORCH else "tapegrad", "mnist_classifier.py",
                 args + ["--epochs", 1, "--save-init", init, "--checkpoint", ck], tmp_path)
    full = _run("tapegrad", "mnist_classifier.py", args + ["--epochs", 2, "--init", init], tmp_path)
    resumed = _run("tapegrad", "mnist_classifier.py", args + ["--epochs", 2, "--checkpoint", ck, "--resume"],
                   tmp_path)
    test_pat = r"Average loss: ([\d.]+), Accuracy: (\d+)/"
    epoch1 = lambda out: out.split("Train Epoch: 2")[0]  # noqa: E731
    assert _final(epoch1(full), test_pat) == pytest.approx(_final(first, test_pat), rel=1e-3)
    lf = [float(v) for v in re.findall(r"Loss: ([\d.]+)", epoch1(full))]
    lt = [float(v) for v in re.findall(r"Loss: ([\d.]+)", first)]
    assert len(lf) == len(lt) == 6 and lf == pytest.approx(lt, rel=1e-4)
    assert "resumed from" in resumed and "at epoch 2, lr 0.007000" in resumed
    assert _final(resumed, test_pat) == pytest.approx(_final(full, test_pat), rel=1e-3)
    assert _final(full, r"final test accuracy ([\d.]+)") > 35


def test_mnist_classifier_adadelta_as_in_the_official_example(tmp_path):
    # Adadelta at lr=1.0 moves each weight by about sqrt(10 * eps) * sign(grad) in its first steps, so float32
    # rounding in near-zero gradients grows to ~0.5% in the loss within two epochs: compare one epoch tightly.
    args = ["--train-size", 192, "--test-size", 200, "--batch-size", 32, "--dropout", 0, "--no-shuffle",
            "--log-interval", 1, "--epochs", 1]
    tg_out, torch_out = _both("mnist_classifier.py", args, tmp_path)
    loss, correct = _final(tg_out, r"Average loss: ([\d.]+), Accuracy: (\d+)/")
    assert loss < 2.25
    if torch_out is not None:
        assert (loss, correct) == pytest.approx(_final(torch_out, r"Average loss: ([\d.]+), Accuracy: (\d+)/"),
                                                rel=1e-3)
        lg = [float(v) for v in re.findall(r"Loss: ([\d.]+)", tg_out)]
        lt = [float(v) for v in re.findall(r"Loss: ([\d.]+)", torch_out)]
        assert len(lg) == len(lt) == 6 and lg == pytest.approx(lt, rel=1e-4)


def test_char_lm_embedding_lstm_adamw(tmp_path):
    args = ["--steps", 30, "--hidden", 64, "--eval-interval", 15, "--eval-batches", 2, "--sample-len", 40,
            "--numpy-batches", "--dropout", 0, "--lr", 1e-2]
    tg_out, torch_out = _both("char_lm.py", args, tmp_path)
    train, val = _final(tg_out, r"final train loss ([\d.]+) val loss ([\d.]+)")
    assert train < 3.6 and val < 3.6  # from log(85) = 4.44 at the start
    assert tg_out.count("sample:") == 1
    if torch_out is not None:
        assert (train, val) == pytest.approx(_final(torch_out, r"final train loss ([\d.]+) val loss ([\d.]+)"),
                                             abs=2e-3)


def test_nn_from_scratch_tutorial(tmp_path):
    args = ["--train-size", 1000, "--valid-size", 500, "--epochs", 1, "--no-shuffle"]
    tg_out, torch_out = _both("nn_from_scratch.py", args, tmp_path)
    loss, acc = _final(tg_out, r"final valid loss ([\d.]+) accuracy ([\d.]+)")
    assert acc > 0.2
    if torch_out is not None:
        assert (loss, acc) == pytest.approx(_final(torch_out, r"final valid loss ([\d.]+) accuracy ([\d.]+)"),
                                            abs=2e-3)
        # the printed tensors (a summarised 1000x784 tensor, rows of log-probabilities, grad_fn names) agree
        head = lambda out: out.split("scratch:")[0]  # noqa: E731
        assert head(tg_out) == head(torch_out)


def test_fashion_quickstart_torchvision_vs_numpy(tmp_path):
    """tapegrad's torchvision.datasets.FashionMNIST + ToTensor against the IDX-reading variant under torch."""
    args = ["--train-size", 1000, "--test-size", 500, "--epochs", 2, "--lr", 0.05, "--save-path",
            tmp_path / "model.pth", "--root", tmp_path / "data"]
    tg_out, torch_out = _both("fashion_tutorial.py", args, tmp_path)
    assert "reading the IDX files" not in tg_out  # tapegrad ran the torchvision path
    acc, loss = _final(tg_out, r"final test accuracy ([\d.]+) loss ([\d.]+)")
    assert acc > 30 and re.search(r'Predicted: "[^"]+", Actual: "Ankle boot"', tg_out)
    if torch_out is not None:
        if importlib.util.find_spec("torchvision") is None:
            assert "reading the IDX files" in torch_out
        assert (acc, loss) == pytest.approx(_final(torch_out, r"final test accuracy ([\d.]+) loss ([\d.]+)"),
                                            abs=2e-3)
