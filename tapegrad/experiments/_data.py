"""MNIST-like data for the experiments, read with tapegrad.datasets.

Without --data: MNIST from the standard places (tapegrad.datasets searches $TAPEGRAD_DATA,
/usr/share/datasets/mnist, ~/.cache/tapegrad/mnist), else Fashion-MNIST, saying so.
With --data DIR: only DIR is searched (DIR, DIR/MNIST/raw, DIR/FashionMNIST/raw, DIR/mnist, ...).
"""
import os
from dataclasses import dataclass

from tapegrad import datasets

from ._common import ExperimentError

_NAMES = {"mnist": ("MNIST", datasets.MNIST), "fashion-mnist": ("Fashion-MNIST", datasets.FashionMNIST)}
_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@dataclass
class Source:
    """Where a dataset was found: enough to load it again (in a worker process)."""
    key: str        # 'mnist' or 'fashion-mnist'
    root: object    # None: the standard places; else the folder holding the files
    where: str      # the folder, for messages

    @property
    def label(self):
        return _NAMES[self.key][0]


@dataclass
class Data:
    source: Source
    x_train: object   # (N, 1, 28, 28) float32, normalised by the training mean and std
    y_train: object   # (N,) int64
    x_test: object
    y_test: object
    mean: float
    std: float

    def describe(self):
        return (f"{self.source.label} from {self.source.where}: {len(self.y_train)} training and "
                f"{len(self.y_test)} test images, normalised by the training mean {self.mean:.4f} and "
                f"std {self.std:.4f}")


def _has(folder, name):
    return any(os.path.isfile(os.path.join(folder, name + ext)) for ext in ("", ".gz"))


def _locate_in(data, key):
    """The folder under `data` holding all four files of dataset `key` (None if none does), and the
    files present in the best partial candidate (for the error message)."""
    cls_name = _NAMES[key][1].__name__
    candidates = [os.path.join(data, cls_name, "raw"), os.path.join(data, cls_name), os.path.join(data, key), data]
    best = (0, None, [])
    for folder in candidates:
        present = [f for f in _FILES if _has(folder, f)]
        if len(present) == len(_FILES):
            return folder, present
        if len(present) > best[0]:
            best = (len(present), folder, present)
    return None, best


def find(data=None, dataset="auto"):
    """Where the data are, as a Source; the note to print (or None). Raises ExperimentError."""
    keys = ["mnist", "fashion-mnist"] if dataset == "auto" else [dataset]
    if data is None:
        misses = []
        for key in keys:
            label, cls = _NAMES[key]
            dirs = datasets.search_paths()[cls.__name__].split(", ")
            found = [next((d for d in dirs if _has(d, f)), None) for f in _FILES]
            if all(found):
                note = None
                if misses:
                    note = f"{misses[0]}: using {label} from {found[0]} (pass --data DIR to choose)"
                return Source(key, None, found[0]), note
            missing = [f + "[.gz]" for f, d in zip(_FILES, found) if d is None]
            misses.append(f"{label} not found in {', '.join(dirs)}" if len(missing) == len(_FILES) else
                          f"{label} incomplete ({', '.join(missing)} not found in {', '.join(dirs)})")
        hint = ("; pass --data DIR, or download it: python -c \"import tapegrad.datasets as d; d.MNIST('data', "
                "download=True)\"" if dataset == "mnist" else
                "; install Fashion-MNIST (apt-get install dataset-fashion-mnist) or pass --data DIR")
        raise ExperimentError("; ".join(misses) + hint)
    if not os.path.isdir(data):
        what = "does not exist" if not os.path.exists(data) else "is not a folder"
        raise ExperimentError(f"--data {data}: {what}")
    if not os.access(data, os.R_OK | os.X_OK):
        raise ExperimentError(f"--data {data}: the folder is not readable")
    partial = None
    for key in keys:
        folder, info = _locate_in(data, key)
        if folder is not None:
            if dataset == "auto" and folder == data and "fashion" in os.path.realpath(data).lower():
                key = "fashion-mnist"
            return Source(key, folder, folder), None
        if info[0] and (partial is None or info[0] > partial[0]):
            partial = info
    if partial:
        missing = [f + "[.gz]" for f in _FILES if f not in partial[2]]
        raise ExperimentError(f"--data {data}: {', '.join(missing)} missing from {partial[1]} "
                              f"(found only {', '.join(partial[2])})")
    raise ExperimentError(f"--data {data}: no MNIST or Fashion-MNIST IDX files ({_FILES[0]}[.gz], ...) in it "
                          "or in its MNIST/raw or FashionMNIST/raw subfolders")


def load(source, train_size=None, test_size=None, flatten=False):
    """Read the images with tapegrad.datasets; keep the first N; normalise by the training mean and std."""
    cls = _NAMES[source.key][1]
    try:
        train = cls(source.root, train=True)
        test = cls(source.root, train=False)
    except datasets.DatasetFileError as exc:
        raise ExperimentError(str(exc).splitlines()[0]) from None
    except RuntimeError as exc:
        raise ExperimentError(" ".join(str(exc).split())) from None
    except OSError as exc:
        raise ExperimentError(f"cannot read {source.where}: {exc.strerror or exc}") from None
    if train.data.dim() != 3 or test.data.dim() != 3 or train.data.shape[1:] != (28, 28):
        raise ExperimentError(f"{source.where}: expected 28x28 images, got shape {tuple(train.data.shape)}")
    x_train, y_train = train.data, train.targets
    x_test, y_test = test.data, test.targets
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    if test_size is not None:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    x_train = x_train.float().div(255).unsqueeze(1)
    x_test = x_test.float().div(255).unsqueeze(1)
    mean, std = x_train.mean().item(), x_train.std().item()
    x_train, x_test = x_train.sub(mean).div(std), x_test.sub(mean).div(std)
    if flatten:
        x_train, x_test = x_train.flatten(1), x_test.flatten(1)
    return Data(source, x_train, y_train.long(), x_test, y_test.long(), mean, std)


def load_from_args(args, out_say=None, flatten=False):
    source, note = find(args.data, args.dataset)
    if note and out_say:
        out_say("note: " + note)
    data = load(source, args.train_size, args.test_size, flatten=flatten)
    if out_say:
        out_say("data: " + data.describe())
    return data

