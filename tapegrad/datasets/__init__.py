"""torchvision.datasets for tapegrad: MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100.

Same names, signatures and `.data`/`.targets` as torchvision. Images are NumPy arrays (H, W) or
(H, W, C) of uint8 rather than PIL images (tapegrad does not depend on Pillow); `transforms.ToTensor`
turns them into float tensors exactly as it turns PIL images.

Files are looked for under `root` (torchvision's layout `root/<Name>/raw/`, or directly in `root`),
then in standard places (`$TAPEGRAD_DATA`, Debian's `/usr/share/datasets/<name>`); `download=True`
fetches what is missing from the official mirrors, verified by MD5.
"""
import os
import pickle
import tarfile

import numpy as np

from .._tensor import Tensor
from ._download import download as _download
from ._download import md5sum
from .idx import DatasetFileError, read_idx, write_idx  # noqa: F401

__all__ = ["VisionDataset", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "DatasetFileError",
           "search_paths", "read_idx", "write_idx"]


def _std_dirs(slug):
    dirs = []
    for env in os.environ.get("TAPEGRAD_DATA", "").split(os.pathsep):
        if env:
            dirs += [os.path.join(env, slug), env]
    dirs += [os.path.join("/usr/share/datasets", slug), os.path.expanduser(os.path.join("~/.cache/tapegrad", slug))]
    return dirs


class VisionDataset:
    """Base of the datasets: root, transform and target_transform like torchvision's."""

    def __init__(self, root=None, transform=None, target_transform=None, transforms=None):
        self.root = os.path.expanduser(str(root)) if root is not None else None
        self.transform, self.target_transform = transform, target_transform
        self.transforms = transforms

    def _apply(self, img, target):
        if self.transforms is not None:
            return self.transforms(img, target)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        if hasattr(self, "train"):
            lines.append(f"    Split: {'Train' if self.train else 'Test'}")
        if self.transform is not None:
            lines.append("    StandardTransform\n    Transform: " + repr(self.transform).replace("\n", "\n    "))
        return "\n".join(lines)


class MNIST(VisionDataset):
    """MNIST digits: 60,000 training and 10,000 test images of 28x28 uint8."""

    slug = "mnist"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        paths = [self._find(n) for n in names]
        if None in paths and download:
            self.download(names)
            paths = [self._find(n) for n in names]
        if None in paths:
            raise RuntimeError(self._missing_message(names))
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetFileError(f"{paths[0]} and {paths[1]} do not form an image/label pair "
                                   f"(shapes {images.shape} and {labels.shape})")
        self.data = Tensor._make(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets = Tensor._make(labels.astype(np.int64))
        self.files = paths

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _dirs(self):
        return ([self.raw_folder, os.path.join(self.root, type(self).__name__), self.root] if self.root else []) + \
            _std_dirs(self.slug)

    def _find(self, name):
        for d in self._dirs():
            for candidate in (os.path.join(d, name), os.path.join(d, name + ".gz")):
                if os.path.isfile(candidate):
                    return candidate
        return None

    def _missing_message(self, names):
        how = (f"pass download=True to fetch them from {self.mirrors[0]}" +
               (", or install Debian's package: apt-get install dataset-fashion-mnist"
                if self.slug == "fashion-mnist" else ""))
        return (f"{type(self).__name__}: dataset not found. Expected the files " +
                ", ".join(n + "[.gz]" for n in names) + " in one of:\n  " + "\n  ".join(self._dirs()) +
                f"\nTo get them, {how}.")

    def download(self, names=None):
        """Fetch the missing files (of `names`, default all) into root/<Name>/raw, verified by MD5."""
        if self.root is None:
            raise RuntimeError("download=True needs a root folder")
        for name, md5 in self.resources:
            if (names is None or name[:-3] in names) and self._find(name[:-3]) is None:
                _download([m + name for m in self.mirrors], os.path.join(self.raw_folder, name), md5)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    train_data = property(lambda self: self.data)
    train_labels = property(lambda self: self.targets)
    test_data = property(lambda self: self.data)
    test_labels = property(lambda self: self.targets)

    def __len__(self):
        return len(self.data._data)

    def __getitem__(self, index):
        img, target = self.data._data[index], int(self.targets._data[index])
        return self._apply(img, target)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same layout as MNIST (Debian: apt-get install dataset-fashion-mnist)."""

    slug = "fashion-mnist"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: cursive Japanese characters, MNIST's layout."""

    slug = "kmnist"
    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR batches hold dicts of bytes, lists and NumPy arrays: nothing else may be loaded."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR batch file refers to {module}.{name}, which a dataset file never "
                                     "needs: refusing to load it")


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes (python pickle format)."""

    slug = "cifar-10"
    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    test_list = ["test_batch"]
    label_key = "labels"
    meta = ("batches.meta", "label_names")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        folder = self._folder()
        if folder is None and download:
            self.download()
            folder = self._folder()
        if folder is None:
            raise RuntimeError(f"{type(self).__name__}: dataset not found. Expected the folder {self.base_folder} "
                               f"(with {', '.join(self.train_list + self.test_list)}) in one of:\n  " +
                               "\n  ".join(self._dirs()) + f"\nTo get it, pass download=True to fetch {self.url}.")
        data, targets = [], []
        for name in (self.train_list if train else self.test_list):
            entry = self._load(os.path.join(folder, name))
            data.append(entry["data"])
            targets.extend(entry[self.label_key])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
        self.targets = [int(t) for t in targets]
        meta = self._load(os.path.join(folder, self.meta[0]), check=False)
        self.classes = [c.decode() if isinstance(c, bytes) else c for c in meta[self.meta[1]]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _dirs(self):
        return ([self.root] if self.root else []) + _std_dirs(self.slug)

    def _folder(self):
        for d in self._dirs():
            f = os.path.join(d, self.base_folder)
            if all(os.path.isfile(os.path.join(f, n)) for n in self.train_list + self.test_list + [self.meta[0]]):
                return f
        return None

    def _load(self, path, check=True):
        try:
            with open(path, "rb") as f:
                entry = _NumpyOnlyUnpickler(f, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise DatasetFileError(f"{path}: corrupt or truncated CIFAR batch ({exc}); delete it and fetch it "
                                   "again") from None
        entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
        if check:
            d = np.asarray(entry.get("data"))
            if d.ndim != 2 or d.shape[1] != 3072 or len(entry.get(self.label_key, ())) != d.shape[0]:
                raise DatasetFileError(f"{path}: not a CIFAR batch (data shape {d.shape})")
            entry["data"] = d.astype(np.uint8, copy=False)
        return entry

    def download(self):
        if self.root is None:
            raise RuntimeError("download=True needs a root folder")
        archive = os.path.join(self.root, self.filename)
        if not (os.path.isfile(archive) and md5sum(archive) == self.tgz_md5):
            _download([self.url], archive, self.tgz_md5)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(self.root, filter="data")

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self._apply(self.data[index], self.targets[index])


class CIFAR100(CIFAR10):
    """CIFAR-100: 100 fine-grained classes."""

    slug = "cifar-100"
    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = ["train"]
    test_list = ["test"]
    label_key = "fine_labels"
    meta = ("meta", "fine_label_names")


def search_paths():
    """Where each dataset is looked for when no root holds it (for `tapegrad info`)."""
    return {cls.__name__: ", ".join(_std_dirs(cls.slug)) for cls in (MNIST, FashionMNIST, KMNIST, CIFAR10,
                                                                       CIFAR100)}
