"""The lectures' MNIST convnet, trained side by side in tapegrad and PyTorch.

Both start from the same state_dict and see the same batches of real MNIST test images
(flat backgrounds: max-pool windows full of ties), so any difference in conv or pool
gradients (e.g. spreading a window's gradient over tied maxima) shows up as divergence.
"""
import gzip
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tapegrad  # noqa: E402

DATA = "/work/shared/data/mnist"
IMAGES = os.path.join(DATA, "t10k-images-idx3-ubyte.gz")
LABELS = os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")


def _load(n):
    if not (os.path.exists(IMAGES) and os.path.exists(LABELS)):
        pytest.skip(f"MNIST test files not found in {DATA}")
    with gzip.open(IMAGES, "rb") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(LABELS, "rb") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    x = x.astype(np.float32) / 255.0
    x = (x - 0.1307) / 0.3081
    return x.astype(np.float32), y.astype(np.int64)


def _models(lib):
    nn, F = lib.nn, lib.nn.functional

    class Flattener(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1)

    seq = nn.Sequential(nn.Conv2d(1, 32, 5), nn.MaxPool2d(3), nn.ReLU(), nn.Conv2d(32, 64, 5), nn.MaxPool2d(2),
                        nn.ReLU(), Flattener(), nn.Linear(256, 200), nn.ReLU(), nn.Linear(200, 10))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
            self.fc1 = nn.Linear(256, 200)
            self.fc2 = nn.Linear(200, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3))
            x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2))
            x = x.view(-1, 256)
            x = F.relu(self.fc1(x))
            x = self.fc2(x)
            return x

    return {"sequential": seq, "net": Net()}


def _train(lib, model, x, y, steps, batch=100):
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=1e-1)
    losses = []
    for i in range(steps):
        xb = lib.tensor(x[i * batch:(i + 1) * batch])
        yb = lib.tensor(y[i * batch:(i + 1) * batch])
        loss = criterion(model(xb), yb)
        model.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def _copy_state(src, dst):
    dst.load_state_dict({k: tapegrad.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()})


def _max_rel(tg_model, t_model):
    worst = 0.0
    for (name, a), (_, b) in zip(tg_model.state_dict().items(), t_model.state_dict().items()):
        a, b = a.detach().numpy(), b.detach().numpy()
        worst = max(worst, float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12)))
    return worst


def _pair_of_models(form, dtype="float32"):
    torch.manual_seed(0)
    t_model = _models(torch)[form]
    tg_model = _models(tapegrad)[form]
    if dtype == "float64":
        t_model, tg_model = t_model.double(), tg_model.double()
    _copy_state(t_model, tg_model)
    assert _max_rel(tg_model, t_model) == 0.0
    return tg_model, t_model


@pytest.mark.parametrize("form", ["sequential", "net"])
def test_convnet_matches_torch(form):
    x, y = _load(2000)
    # the batches really hold ties inside max-pool windows (flat backgrounds)
    assert (x[:100] == x[:100].min()).mean() > 0.5
    tg_model, t_model = _pair_of_models(form)

    tg_losses = _train(tapegrad, tg_model, x, y, 5)
    t_losses = _train(torch, t_model, x, y, 5)
    np.testing.assert_allclose(tg_losses, t_losses, rtol=1e-4)
    assert _max_rel(tg_model, t_model) < 1e-4

    # 15 more steps (20 in all). In float32 the two runs drift apart slowly (sums in a different
    # order flip a near-tie now and then: ~1e-2 after 20 steps); a wrong max-pool backward
    # (gradient spread over tied maxima) is already 1e-2 off after one step and ~0.2 after 20.
    tg_losses += _train(tapegrad, tg_model, x[500:], y[500:], 15)
    t_losses += _train(torch, t_model, x[500:], y[500:], 15)
    assert _max_rel(tg_model, t_model) < 5e-2
    np.testing.assert_allclose(tg_losses, t_losses, rtol=2e-2)
    assert np.mean(tg_losses[-5:]) < np.mean(tg_losses[:5])


def test_convnet_float64_20_steps_exact():
    """In float64 rounding cannot flip ties: 20 SGD steps stay equal to PyTorch's to ~1e-15."""
    x, y = _load(2000)
    x = x.astype(np.float64)
    tg_model, t_model = _pair_of_models("sequential", "float64")
    tg_losses = _train(tapegrad, tg_model, x, y, 20, batch=20)   # small batches: float64 convs are slow in torch
    t_losses = _train(torch, t_model, x, y, 20, batch=20)
    np.testing.assert_allclose(tg_losses, t_losses, rtol=1e-12)
    assert _max_rel(tg_model, t_model) < 1e-12
