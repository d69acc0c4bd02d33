"""The array namespace behind a tensor: NumPy on the CPU, CuPy on CUDA.

Each tensor's data is an array of one of these libraries; `array_module`
tells which (Chainer's get_array_module). CuPy is imported only when a CUDA
device is first asked for, so `import tapegrad` stays light.
"""
import numpy as np

__all__ = ["device"]

_cupy = None


def cupy():
    """The cupy module, or None when it is not installed or finds no GPU."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp

            cp.cuda.runtime.getDeviceCount()
            _cupy = cp
        except Exception:  # no cupy, no driver or no device
            _cupy = False
    return _cupy or None


def cuda_available():
    return cupy() is not None


def array_module(arr):
    if arr.__class__ is np.ndarray:
        return np
    cp = _cupy
    if cp and isinstance(arr, cp.ndarray):
        return cp
    return np


class device:
    """torch.device: 'cpu' or 'cuda[:N]'."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            if isinstance(type, int):  # torch.device(0) is cuda:0
                type, index = "cuda", type
            else:
                raise TypeError(f"device(): expected a string or a device, got {type!r}")
        if ":" in type:
            type, _, idx = type.partition(":")
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was passed explicitly")
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'") from None
        if type not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(
                "Expected one of cpu, cuda, mps, meta, xpu device type at start of device string: " + type)
        self.type, self.index = type, index

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        # as in PyTorch, a device equals devices only: torch.device("cpu") == "cpu" is False
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def to_device(d):
    if d is None:
        return None
    d = d if isinstance(d, device) else device(d)
    if d.type == "cuda" and not cuda_available():
        raise AssertionError("Torch not compiled with CUDA enabled")
    if d.type not in ("cpu", "cuda"):
        raise RuntimeError(f"tapegrad: device type '{d.type}' is not available; tapegrad supports 'cpu' and 'cuda'")
    return d


def module_for(d):
    """Array module for a device."""
    if d is None or d.type == "cpu":
        return np
    return cupy()


def device_of(arr):
    return CPU if arr.__class__ is np.ndarray else device("cuda", arr.device.id)


def to_numpy_array(arr):
    return arr if arr.__class__ is np.ndarray else arr.get()
