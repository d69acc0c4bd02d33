"""The networks and the training loop, written as a PyTorch user would (`import tapegrad as torch`)."""
import time

import tapegrad as torch
from tapegrad import nn
from tapegrad.nn import functional as F
from tapegrad.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    """The lectures' MNIST convnet: 28x28 -> conv 5x5 (32) -> maxpool 3 -> relu -> conv 5x5 (64) ->
    maxpool 2 -> relu -> linear 256-200 -> relu -> linear 200-10."""

    def __init__(self, nb_hidden=200):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, nb_hidden)
        self.fc2 = nn.Linear(nb_hidden, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
        x = F.relu(self.fc1(x.view(-1, 256)))
        return self.fc2(x)


def mlp(width, in_features=784, classes=10):
    """A one-hidden-layer perceptron on flattened images."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU(), nn.Linear(width, classes))


def loader(x, y, batch_size, seed, shuffle=True):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(seed))


def train_epoch(model, batches, optimizer, bar=None, on_batch=None):
    """One pass of SGD; returns (mean training loss, training error) over the epoch's batches.
    `on_batch(index, loss)` after each step."""
    criterion = nn.CrossEntropyLoss()
    model.train()
    total_loss, errors, n = 0.0, 0, 0
    for i, (x, y) in enumerate(batches):
        output = model(x)
        loss = criterion(output, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        if on_batch is not None:
            on_batch(i, value)
        total_loss += value * len(y)
        errors += (output.argmax(1) != y).sum().item()
        n += len(y)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{total_loss / n:.4f}", refresh=False)
    return total_loss / max(n, 1), errors / max(n, 1)


@torch.no_grad()
def evaluate(model, x, y, batch_size=1000, progress=None, desc="test"):
    """(mean loss, error rate) of `model` on (x, y)."""
    model.eval()
    total_loss, errors = 0.0, 0
    starts = range(0, len(y), batch_size)
    for i in (progress(starts, desc=desc, unit="batch") if progress else starts):
        output = model(x[i:i + batch_size])
        total_loss += F.cross_entropy(output, y[i:i + batch_size], reduction="sum").item()
        errors += (output.argmax(1) != y[i:i + batch_size]).sum().item()
    return total_loss / len(y), errors / len(y)


def fit(model, x, y, *, epochs, lr, batch_size, seed, progress=None, desc="train", on_epoch=None, on_batch=None):
    """Train with SGD (the lectures' setting); `on_epoch(epoch, train_loss, train_error, seconds)` after
    each epoch, `on_batch(epoch + fraction done, loss)` after each step. Returns the last epoch's
    (train loss, train error)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    batches = loader(x, y, batch_size, seed)
    result = (float("nan"), float("nan"))
    for epoch in range(1, epochs + 1):
        bar = progress(total=len(batches), desc=f"{desc} epoch {epoch}/{epochs}", unit="batch") if progress else None
        start = time.perf_counter()
        try:
            hook = None if on_batch is None else (lambda i, v, e=epoch: on_batch(e - 1 + (i + 1) / len(batches), v))
            result = train_epoch(model, batches, optimizer, bar, hook)
        finally:
            if bar is not None:
                bar.close()
        if on_epoch is not None:
            on_epoch(epoch, result[0], result[1], time.perf_counter() - start)
    return result
