""""What is torch.nn really?" (the PyTorch tutorial), step by step, on Fashion-MNIST.

Starts from raw tensors with requires_grad and a hand-written log_softmax / nll and manual SGD, then
refactors to nn.Module, nn.Parameter, nn.Linear, optim, TensorDataset, DataLoader, a CNN, and
nn.Sequential with a Lambda layer, moving to `dev` at the end. Runs with real PyTorch and with
`tapegrad run examples/nn_from_scratch.py`.

For an exact comparison of the two frameworks: `--save-init w.pt` under one and `--init w.pt
--no-shuffle` under the other (with `--no-shuffle` on both): every model then starts from the same
weights and sees the same batches.
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--train-size", type=int, default=10000)
parser.add_argument("--valid-size", type=int, default=2000)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--no-shuffle", action="store_true")
parser.add_argument("--save-init", default=None, help="save every model's initial weights here")
parser.add_argument("--init", default=None, help="start every model from the weights saved here")
args = parser.parse_args()
torch.manual_seed(args.seed)
t_start = time.perf_counter()

# ---- the data: IDX files read with gzip + numpy, as flat float32 rows in [0, 1]


def load_idx(name):
    with gzip.open(os.path.join(args.data, name + ".gz"), "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


images = load_idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255.0
labels = load_idx("train-labels-idx1-ubyte").astype(np.int64)
x_train, y_train = images[:args.train_size], labels[:args.train_size]
x_valid, y_valid = images[50000:50000 + args.valid_size], labels[50000:50000 + args.valid_size]

x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_train, y_train, x_valid, y_valid))
n, c = x_train.shape
print(x_train, y_train)
print(x_train.shape)
print(y_train.min(), y_train.max())

inits = torch.load(args.init) if args.init else {}
saved = {}


def start(name, model):
    """Record (or replace, with --init) a model's initial weights so both frameworks can share them."""
    if args.init:
        model.load_state_dict(inits[name])
    saved[name] = {k: v.clone() for k, v in model.state_dict().items()}
    return model


# ---- neural net from scratch

weights = torch.randn(784, 10) / math.sqrt(784)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)
if args.init:
    with torch.no_grad():
        weights.copy_(inits["scratch"]["weights"])
saved["scratch"] = {"weights": weights.detach().clone()}


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


bs = 64  # batch size

xb = x_train[0:bs]  # a mini-batch from x
preds = model(xb)  # predictions
print(preds[0], preds.shape)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


loss_func = nll

yb = y_train[0:bs]
print(loss_func(preds, yb))


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


print(accuracy(preds, yb))

lr = 0.5  # learning rate
epochs = args.epochs  # how many epochs to train for

for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)

        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()

print("scratch:", loss_func(model(xb), yb), accuracy(model(xb), yb))
with torch.no_grad():
    print(f"scratch valid accuracy {accuracy(model(x_valid), y_valid).item():.4f}")

# ---- using torch.nn.functional

loss_func = F.cross_entropy


def model(xb):
    return xb @ weights + bias


print("functional:", loss_func(model(xb), yb), accuracy(model(xb), yb))

# ---- refactor using nn.Module


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


model = start("logistic", Mnist_Logistic())
print(loss_func(model(xb), yb))


def fit():
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()


fit()
print("nn.Module:", loss_func(model(xb), yb))

# ---- refactor using nn.Linear and optim


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


def get_model(name="linear"):
    model = start(name, Mnist_Logistic())
    return model, optim.SGD(model.parameters(), lr=lr)


model, opt = get_model()
print(loss_func(model(xb), yb))

train_ds = TensorDataset(x_train, y_train)
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        xb, yb = train_ds[i * bs: i * bs + bs]
        pred = model(xb)
        loss = loss_func(pred, yb)

        loss.backward()
        opt.step()
        opt.zero_grad()

print("nn.Linear + optim + TensorDataset:", loss_func(model(xb), yb))

# ---- DataLoader, validation, fit()


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)

    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()

    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    val_loss = None
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)

        model.eval()
        with torch.no_grad():
            losses, nums = zip(
                *[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl]
            )
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)

        print(epoch, val_loss)
    return val_loss


def get_data(train_ds, valid_ds, bs):
    return (
        DataLoader(train_ds, batch_size=bs, shuffle=not args.no_shuffle),
        DataLoader(valid_ds, batch_size=bs * 2),
    )


def valid_accuracy(model, valid_dl):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in valid_dl:
            correct += (model(xb).argmax(1) == yb).sum().item()
            total += len(yb)
    return correct / total


valid_ds = TensorDataset(x_valid, y_valid)
train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
model, opt = get_model("linear_dl")
fit(epochs, model, loss_func, opt, train_dl, valid_dl)
print(f"logistic valid accuracy {valid_accuracy(model, valid_dl):.4f}")

# ---- switch to a CNN


class Mnist_CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = F.relu(self.conv3(xb))
        xb = F.avg_pool2d(xb, 4)
        return xb.view(-1, xb.size(1))


lr = 0.1
model = start("cnn", Mnist_CNN())
opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
fit(epochs, model, loss_func, opt, train_dl, valid_dl)
print(f"cnn valid accuracy {valid_accuracy(model, valid_dl):.4f}")

# ---- nn.Sequential with a Lambda layer, a wrapped DataLoader, and a device


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def preprocess(x, y):
    return x.view(-1, 1, 28, 28).to(dev), y.to(dev)


class WrappedDataLoader:
    def __init__(self, dl, func):
        self.dl = dl
        self.func = func

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        for b in self.dl:
            yield (self.func(*b))


train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
train_dl = WrappedDataLoader(train_dl, preprocess)
valid_dl = WrappedDataLoader(valid_dl, preprocess)

model = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
)
start("sequential", model)
print(model)
model.to(dev)
opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
val_loss = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
acc = valid_accuracy(model, valid_dl)

if args.save_init:
    torch.save(saved, args.save_init)
print(f"final valid loss {val_loss:.4f} accuracy {acc:.4f}")
print(f"time {time.perf_counter() - t_start:.2f}s")
