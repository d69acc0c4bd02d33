"""The array namespace behind a tensor: NumPy on the CPU, CuPy on CUDA.

Each tensor's data is an array of one of these libraries; `array_module`
tells which (Chainer's get_array_module). CuPy is imported only when a CUDA
device is first asked for, so `import tapegrad` stays light.
"""
import operator

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


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


def _is_index(x):
    """An int as PyTorch's argument parser takes it: Python and NumPy integers, not bools."""
    return (isinstance(x, int) and x.__class__ is not bool) or isinstance(x, np.integer)


def _arg_type_name(x):
    t = x.__class__
    if isinstance(x, device):
        return "torch.device"
    if t.__name__ == "Tensor" or t.__flags__ & (1 << 9) or t.__module__ == "builtins":  # heap (Python) classes
        return t.__name__
    return f"{t.__module__}.{t.__qualname__}"


def _invalid_combination(args, kwargs):
    got = ", ".join(_arg_type_name(a) for a in args)
    if kwargs:
        got += (", " if args else "") + "".join(f"{k}={_arg_type_name(v)}, " for k, v in kwargs.items())
    return TypeError(f"device() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     " * (torch.device device)\n * (str type, int index = -1)\n")


def _parse_device_string(s):
    """PyTorch's c10::Device(std::string): 'type' or 'type:index', the index a plain decimal without leading zeros."""
    if not s:
        raise RuntimeError("Device string must not be empty")
    type_, colon, idx = s.partition(":")
    if (not type_ or not all(c.isascii() and (c.isalnum() or c == "_") for c in type_)
            or colon and not (idx.isascii() and idx.isdigit() and (idx == "0" or idx[0] != "0"))):
        raise RuntimeError(f"Invalid device string: '{s}'")
    if type_ not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                           f"{type_}")
    if not colon:
        return type_, None
    if len(idx) > 10 or int(idx) > 2 ** 31 - 1:
        raise RuntimeError(f"Could not parse device index '{idx}' in device string '{s}'")
    return type_, int(idx)


class device:
    """torch.device: 'cpu' or 'cuda[:N]' (PyTorch's other device types parse, but hold no tensors)."""

    __slots__ = ("type", "index")

    def __init__(self, *args, **kwargs):
        # PyTorch's overloads: device(torch.device device) -- a device, a string or an int (an accelerator
        # index) -- and device(str type, int index = -1)
        nargs = len(args) + len(kwargs)
        if nargs == 1 and (len(args) == 1 or "device" in kwargs):
            arg = args[0] if args else kwargs["device"]
            if arg.__class__ is str:
                self.type, self.index = _parse_device_string(arg)
            elif isinstance(arg, device):
                self.type, self.index = arg.type, arg.index
            elif _is_index(arg):
                index = int(arg)
                if index < 0:
                    raise RuntimeError("Device index must not be negative")
                if not cuda_available():  # torch.device(0) is an index on the current accelerator
                    raise RuntimeError("Cannot access accelerator device when none is available.")
                self.type, self.index = "cuda", index
            elif isinstance(arg, bytes):
                self.type, self.index = _parse_device_string(arg.decode())
            else:
                raise _invalid_combination(args, kwargs)
            return
        if nargs != 2 and not (nargs == 1 and "type" in kwargs):
            raise _invalid_combination(args, kwargs)
        if len(args) > 2:
            raise _invalid_combination(args, kwargs)
        for k in kwargs:
            if k not in ("type", "index"):
                raise TypeError(f"device() got an unexpected keyword argument '{k}'")
        if args and "type" in kwargs:
            raise TypeError("device() got multiple values for argument 'type'")
        type_ = args[0] if args else kwargs["type"]
        index = args[1] if len(args) == 2 else kwargs.get("index")
        if isinstance(type_, bytes):
            type_ = type_.decode()
        if type_.__class__ is not str:
            if not args:
                raise _invalid_combination(args, kwargs)
            raise TypeError(f"device(): argument 'type' (position 1) must be str, not {_arg_type_name(type_)}")
        if index is not None and not _is_index(index):
            try:  # an integer tensor of one element passes too
                if index.__class__.__name__ != "Tensor" or index._data.dtype.kind not in "iu":
                    raise TypeError
                index = operator.index(index)
            except (TypeError, AttributeError, RuntimeError, ValueError):
                pos = " (position 2)" if len(args) == 2 else ""
                raise TypeError(f"device(): argument 'index'{pos} must be int, not {_arg_type_name(index)}") from None
        t, i = _parse_device_string(type_)
        if i is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                               f"{type_}")
        if index is not None:
            index = int(index)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type, self.index = t, index

    def __reduce__(self):
        return device, (self.type,) if self.index is None else (self.type, self.index)

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        # as in PyTorch, a device equals devices only: torch.device("cpu") == "cpu" is False
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __lt__(self, other):  # PyTorch: devices have no order
        if isinstance(other, device):
            raise TypeError("comparison not implemented")
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__

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
