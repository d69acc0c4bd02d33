"""Fashion-MNIST classifier in the style of pytorch/examples mnist/main.py.

Runs unchanged with real PyTorch (`python examples/mnist_classifier.py`) and with tapegrad
(`tapegrad run examples/mnist_classifier.py`). The IDX files are read with gzip + numpy, so no
torchvision is needed. For a step-by-step comparison of the two frameworks, start both from the
same initial weights (`--save-init w.pt` under one, `--init w.pt` under the other) with
`--dropout 0 --no-shuffle`, and compare the printed losses.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(root, name):
    for cand in (os.path.join(root, name + ".gz"), os.path.join(root, name)):
        if os.path.exists(cand):
            return cand
    raise FileNotFoundError(f"{name}(.gz) not found in {root}")


class FashionMNIST(Dataset):
    """Images normalised once up front; __getitem__ returns (1x28x28 float tensor, int64 label)."""

    mean, std = 0.2860, 0.3530

    def __init__(self, root, train=True, size=None):
        prefix = "train" if train else "t10k"
        images = read_idx(find(root, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(find(root, f"{prefix}-labels-idx1-ubyte"))
        if size is not None:
            images, labels = images[:size], labels[:size]
        x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
        self.data = (x - self.mean) / self.std
        self.targets = torch.from_numpy(labels.astype(np.int64))

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, idx):
        return self.data[idx], self.targets[idx]


class Net(nn.Module):
    def __init__(self, dropout=True):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25 if dropout else 0.0)
        self.dropout2 = nn.Dropout(0.5 if dropout else 0.0)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if args.print_steps:
            print(f"step {epoch} {batch_idx} loss {loss.item():.6f}")
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    accuracy = 100. * correct / len(test_loader.dataset)
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.2f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset), accuracy))
    return test_loss, accuracy


def main():
    parser = argparse.ArgumentParser(description='PyTorch (Fashion-)MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=2, metavar='N',
                        help='number of epochs to train (default: 2)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='Learning rate step gamma (default: 0.7)')
    parser.add_argument('--optimizer', choices=['adadelta', 'sgd'], default='adadelta')
    parser.add_argument('--no-cuda', action='store_true', default=False,
                        help='disables CUDA training')
    parser.add_argument('--dry-run', action='store_true', default=False,
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=20, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--data', default=DEFAULT_DATA, help='folder with the (Fashion-)MNIST IDX files')
    parser.add_argument('--train-size', type=int, default=6000, help='use the first N training images')
    parser.add_argument('--test-size', type=int, default=2000, help='use the first N test images')
    parser.add_argument('--dropout', type=int, default=1, help='0 turns dropout off (for exact comparisons)')
    parser.add_argument('--no-shuffle', action='store_true', help='fixed batch order (for exact comparisons)')
    parser.add_argument('--print-steps', action='store_true', help='print every training loss')
    parser.add_argument('--save-init', default=None, help='save the initial state_dict here')
    parser.add_argument('--init', default=None, help='start from this state_dict (e.g. saved by the other framework)')
    parser.add_argument('--checkpoint', default=None, help='save model/optimizer/scheduler here after each epoch')
    parser.add_argument('--resume', action='store_true', help='resume from --checkpoint')
    parser.add_argument('--save-model', action='store_true', default=False,
                        help='For Saving the current Model')
    args = parser.parse_args()
    use_cuda = not args.no_cuda and torch.cuda.is_available()

    torch.manual_seed(args.seed)

    device = torch.device("cuda" if use_cuda else "cpu")

    train_kwargs = {'batch_size': args.batch_size, 'shuffle': not args.no_shuffle}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_cuda:
        cuda_kwargs = {'num_workers': 1, 'pin_memory': True}
        train_kwargs.update(cuda_kwargs)
        test_kwargs.update(cuda_kwargs)

    dataset1 = FashionMNIST(args.data, train=True, size=args.train_size)
    dataset2 = FashionMNIST(args.data, train=False, size=args.test_size)
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net(dropout=bool(args.dropout)).to(device)
    if args.save_init:
        torch.save(model.state_dict(), args.save_init)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location=device))
    if args.optimizer == 'adadelta':
        optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    start_epoch = 1
    if args.resume and args.checkpoint and os.path.exists(args.checkpoint):
        ckpt = torch.load(args.checkpoint, map_location=device)
        model.load_state_dict(ckpt['model'])
        optimizer.load_state_dict(ckpt['optimizer'])
        scheduler.load_state_dict(ckpt['scheduler'])
        start_epoch = ckpt['epoch'] + 1
        print(f"resumed from {args.checkpoint} at epoch {start_epoch}, lr {scheduler.get_last_lr()[0]:.6f}")
    print(model)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    t0 = time.perf_counter()
    accuracy = float('nan')
    for epoch in range(start_epoch, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test_loss, accuracy = test(model, device, test_loader)
        scheduler.step()
        if args.checkpoint:
            torch.save({'epoch': epoch, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                        'scheduler': scheduler.state_dict()}, args.checkpoint)
    elapsed = time.perf_counter() - t0

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")
    print(f"final test accuracy {accuracy:.2f}")
    print(f"time {elapsed:.2f}s")


if __name__ == '__main__':
    main()
