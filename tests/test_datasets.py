"""Datasets (IDX and CIFAR readers, lookup, download) and transforms."""
import gzip
import hashlib
import http.server
import os
import pickle
import threading

import numpy as np
import pytest

import tapegrad
from tapegrad import datasets as D
from tapegrad import transforms as T


def _make_mnist(folder, n=20, gz=True, train=True):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    prefix = "train" if train else "t10k"
    ext = ".gz" if gz else ""
    os.makedirs(folder, exist_ok=True)
    D.write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{ext}"), images)
    D.write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{ext}"), labels)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_idx_in_torchvision_layout(tmp_path, gz):
    images, labels = _make_mnist(tmp_path / "MNIST" / "raw", gz=gz)
    ds = D.MNIST(str(tmp_path), train=True)
    assert len(ds) == 20
    assert ds.data.dtype == tapegrad.uint8 and tuple(ds.data.shape) == (20, 28, 28)
    assert ds.targets.dtype == tapegrad.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    img, target = ds[3]
    np.testing.assert_array_equal(img, images[3])
    assert target == int(labels[3]) and isinstance(target, int)


def test_fashion_mnist_files_directly_in_root_and_transforms(tmp_path):
    images, labels = _make_mnist(tmp_path, train=False)
    ds = D.FashionMNIST(str(tmp_path), train=False, transform=T.ToTensor(), target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == tapegrad.float32
    np.testing.assert_allclose(x.numpy()[0], images[0] / 255.0, rtol=1e-6)
    assert y == int(labels[0]) + 100


def test_missing_dataset_error_lists_files_and_places(tmp_path):
    with pytest.raises(RuntimeError) as e:
        D.KMNIST(str(tmp_path / "empty"), train=True)
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and str(tmp_path / "empty") in msg and "download=True" in msg


def test_truncated_and_corrupt_files_are_reported(tmp_path):
    _make_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(D.DatasetFileError, match="truncated"):
        D.MNIST(str(tmp_path))
    path.write_bytes(b"\x01\x02\x03\x04" + data[4:])
    with pytest.raises(D.DatasetFileError, match="not an IDX file"):
        D.MNIST(str(tmp_path))
    gz = tmp_path / "g" / "train-images-idx3-ubyte.gz"
    _make_mnist(tmp_path / "g")
    raw = bytearray(gz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    gz.write_bytes(bytes(raw))
    with pytest.raises(D.DatasetFileError):
        D.MNIST(str(tmp_path / "g"))


def test_real_mnist_test_set_from_shared_data():
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")
    if not os.path.isfile(os.path.join(folder, "t10k-images-idx3-ubyte.gz")):
        pytest.skip("shared MNIST test set not present")
    for name, md5 in D.MNIST.resources[2:]:
        assert D.md5sum(os.path.join(folder, name)) == md5
    ds = D.MNIST(folder, train=False)
    assert len(ds) == 10000 and ds.targets.numpy().max() == 9
    assert np.bincount(ds.targets.numpy()).min() > 800


def test_real_fashion_mnist_from_debian_package():
    if not os.path.isfile("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    train = D.FashionMNIST("/nonexistent", train=True)
    test = D.FashionMNIST("/nonexistent", train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert 0.25 < train.data.numpy().mean() / 255 < 0.32


def _make_cifar(folder, cls, n=12):
    rng = np.random.default_rng(1)
    base = os.path.join(folder, cls.base_folder)
    os.makedirs(base, exist_ok=True)
    batches = {}
    for name in cls.train_list + cls.test_list:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        with open(os.path.join(base, name), "wb") as f:
            pickle.dump({b"data": data, cls.label_key.encode(): labels, b"batch_label": name.encode()}, f,
                        protocol=2)
        batches[name] = (data, labels)
    with open(os.path.join(base, cls.meta[0]), "wb") as f:
        pickle.dump({cls.meta[1].encode(): [f"class{i}".encode() for i in range(10)]}, f, protocol=2)
    return batches


@pytest.mark.parametrize("cls", [D.CIFAR10, D.CIFAR100])
def test_cifar_python_pickle_format(tmp_path, cls):
    batches = _make_cifar(tmp_path, cls)
    train = cls(str(tmp_path), train=True)
    first = batches[cls.train_list[0]][0]
    assert train.data.shape == (12 * len(cls.train_list), 32, 32, 3) and train.data.dtype == np.uint8
    np.testing.assert_array_equal(train.data[0], first[0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert train.targets[:12] == batches[cls.train_list[0]][1]
    x, y = cls(str(tmp_path), train=False, transform=T.ToTensor())[0]
    assert tuple(x.shape) == (3, 32, 32)
    assert train.classes[0] == "class0"


def test_cifar_refuses_a_pickle_that_runs_code(tmp_path):
    _make_cifar(tmp_path, D.CIFAR10)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f)
    with pytest.raises(D.DatasetFileError, match="posix.system|os.system|system"):
        D.CIFAR10(str(tmp_path), train=False)
    assert not marker.exists()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_verifies_checksum_and_places_atomically(tmp_path, monkeypatch):
    served = tmp_path / "served"
    images, labels = _make_mnist(served, train=False)
    handler = lambda *a, **k: _Quiet(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        md5 = {n: hashlib.md5((served / n).read_bytes()).hexdigest() for n in os.listdir(served)}

        class Local(D.MNIST):
            mirrors = ["http://127.0.0.1:1/", url]  # the first mirror refuses: the next one is tried
            resources = [(n, md5.get(n, "0" * 32)) for n, _ in D.MNIST.resources]

        monkeypatch.setenv("TAPEGRAD_DATA", "")
        root = tmp_path / "root"
        ds = Local(str(root), train=False, download=True)
        np.testing.assert_array_equal(ds.data.numpy(), images)
        assert sorted(os.listdir(root / "Local" / "raw")) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

        class BadSum(Local):
            resources = [(n, "0" * 32) for n, _ in D.MNIST.resources]

        with pytest.raises(RuntimeError, match="checksum mismatch"):
            BadSum(str(tmp_path / "root2"), train=False, download=True)
        leftovers = list((tmp_path / "root2" / "BadSum" / "raw").iterdir())
        assert leftovers == []  # no partial or unverified file under the final name
    finally:
        server.shutdown()


# ---------------------------------------------------------------- transforms
def test_to_tensor_and_normalize():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    x = T.ToTensor()(img)
    assert tuple(x.shape) == (3, 2, 3)
    np.testing.assert_allclose(x.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    y = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))(x)
    expect = (img.transpose(2, 0, 1) / 255.0 - np.array([0.5, 0.4, 0.3])[:, None, None]) / \
        np.array([0.2, 0.25, 0.5])[:, None, None]
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-5)
    with pytest.raises(TypeError):
        T.ToTensor()(x)


def test_random_crop_with_padding_and_flips():
    tapegrad.manual_seed(0)
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    crops = [T.RandomCrop(4, padding=2)(img) for _ in range(30)]
    assert all(c.shape == (4, 4) for c in crops)
    padded = np.pad(img, 2)
    windows = {padded[i:i + 4, j:j + 4].tobytes() for i in range(5) for j in range(5)}
    assert all(c.tobytes() in windows for c in crops)
    assert len({c.tobytes() for c in crops}) > 3  # it is random
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    t = tapegrad.from_numpy(img.astype(np.float32)[None])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy()[0], img[:, ::-1])
    tapegrad.manual_seed(5)
    a = [T.RandomCrop(3)(img).tobytes() for _ in range(5)]
    tapegrad.manual_seed(5)
    assert a == [T.RandomCrop(3)(img).tobytes() for _ in range(5)]


def test_center_crop_pad_lambda_compose():
    img = np.arange(30, dtype=np.uint8).reshape(5, 6)
    np.testing.assert_array_equal(T.CenterCrop(3)(img), img[1:4, 2:5] if False else img[1:4, 1:4 + 0] if False else
                                  img[int(round((5 - 3) / 2)):int(round((5 - 3) / 2)) + 3,
                                      int(round((6 - 3) / 2)):int(round((6 - 3) / 2)) + 3])
    for mode, np_mode in (("constant", "constant"), ("edge", "edge"), ("reflect", "reflect"),
                          ("symmetric", "symmetric")):
        np.testing.assert_array_equal(T.Pad((1, 2), padding_mode=mode)(img), np.pad(img, ((2, 2), (1, 1)), np_mode))
    c = T.Compose([T.Lambda(lambda a: a + 1), T.ToTensor()])
    np.testing.assert_allclose(c(img).numpy()[0], (img + 1) / 255.0, rtol=1e-6)


def test_resize_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((3, 9, 7)).astype(np.float32)
    for size in ((5, 4), (12, 10)):
        ours = T.Resize(size)(tapegrad.from_numpy(x)).numpy()
        ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode="bilinear",
                                              align_corners=False, antialias=False)[0].numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
        near = T.Resize(size, interpolation="nearest")(tapegrad.from_numpy(x)).numpy()
        ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode="nearest")[0].numpy()
        np.testing.assert_array_equal(near, ref)
    assert T.Resize(14)(np.zeros((28, 56), np.uint8)).shape == (14, 28)
