"""The PyTorch "Quickstart" tutorial: torchvision's FashionMNIST with ToTensor, DataLoader, an
nn.Flatten + Linear/ReLU stack, CrossEntropyLoss, SGD, then save, reload and predict.

Under `tapegrad run examples/fashion_tutorial.py`, `torchvision` resolves to tapegrad's datasets and
transforms. Real PyTorch here has no torchvision, so without it the program falls back to reading
the same IDX files with gzip + numpy into a Dataset that returns the same (1x28x28 float, label)
pairs, so the two runs can be compared (start both from one state_dict with `--save-init`/`--init`).
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

try:
    from torchvision import datasets
    from torchvision.transforms import ToTensor
except ImportError:  # real PyTorch without torchvision
    datasets = ToTensor = None

parser = argparse.ArgumentParser()
parser.add_argument("--root", default="data", help="datasets.FashionMNIST root")
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="IDX folder (without torchvision)")
parser.add_argument("--numpy-data", action="store_true", help="read IDX files even if torchvision is there")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--train-size", type=int, default=None, help="use only the first N training images")
parser.add_argument("--test-size", type=int, default=None)
parser.add_argument("--save-path", default="model.pth")
parser.add_argument("--save-init", default=None)
parser.add_argument("--init", default=None)
args = parser.parse_args()
torch.manual_seed(0)


class IdxFashionMNIST(Dataset):
    """What datasets.FashionMNIST(..., transform=ToTensor()) returns, read with gzip + numpy."""

    def __init__(self, folder, train=True):
        prefix = "train" if train else "t10k"
        self.data = self._read(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))
        self.targets = self._read(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)

    @staticmethod
    def _read(path):
        with gzip.open(path, "rb") as f:
            raw = f.read()
        dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
        return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return torch.from_numpy(self.data[i].astype(np.float32) / 255.0).unsqueeze(0), int(self.targets[i])


if datasets is not None and not args.numpy_data:
    # Download training data from open datasets.
    training_data = datasets.FashionMNIST(
        root=args.root,
        train=True,
        download=False,
        transform=ToTensor(),
    )

    # Download test data from open datasets.
    test_data = datasets.FashionMNIST(
        root=args.root,
        train=False,
        download=False,
        transform=ToTensor(),
    )
else:
    print("reading the IDX files with numpy")
    training_data = IdxFashionMNIST(args.data, train=True)
    test_data = IdxFashionMNIST(args.data, train=False)
if args.train_size:
    training_data = Subset(training_data, range(args.train_size))
if args.test_size:
    test_data = Subset(test_data, range(args.test_size))

batch_size = args.batch_size

# Create data loaders.
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


# Define model
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
if args.save_init:
    torch.save(model.state_dict(), args.save_init)
if args.init:
    model.load_state_dict(torch.load(args.init, weights_only=True))
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 100 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return test_loss, correct


t0 = time.perf_counter()
epochs = args.epochs
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test_loss, correct = test(test_dataloader, model, loss_fn)
print("Done!")
elapsed = time.perf_counter() - t0

torch.save(model.state_dict(), args.save_path)
print(f"Saved PyTorch Model State to {args.save_path}")

model = NeuralNetwork().to(device)
model.load_state_dict(torch.load(args.save_path, weights_only=True))

classes = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
reloaded_loss, reloaded_correct = test(test_dataloader, model, loss_fn)
assert reloaded_correct == correct, "the reloaded model should score as the trained one"
print(f"final test accuracy {100 * correct:.2f} loss {test_loss:.6f}")
print(f"time {elapsed:.2f}s")
