"""tapegrad: tensors over NumPy with a tape-based autograd and PyTorch's API.

    import tapegrad as torch

The namespace mirrors `torch`: dtypes, creation functions, operators, autograd,
and (imported on first use, to keep `import tapegrad` fast) nn, optim, utils,
linalg and the rest. A name PyTorch has and tapegrad lacks raises
NotImplementedError naming it.
"""
__version__ = "0.1.0"

from . import _dtype
from ._backend import device
from ._dtype import (bfloat16, bool, can_cast, cfloat, complex64, double, dtype, finfo, float, float16, float32,
                     float64, get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long, promote_types,
                     set_default_dtype, short, uint8)
from ._formatting import set_printoptions
from ._tensor import Size, Tensor, is_tensor
from . import autograd
from .autograd import (enable_grad, inference_mode, is_anomaly_enabled, is_grad_enabled, is_inference_mode_enabled,
                       no_grad, set_grad_enabled)
from ._ops.creation import *  # noqa: F401,F403
from ._ops.elementwise import *  # noqa: F401,F403
from ._ops.reduce import *  # noqa: F401,F403
from ._ops.movement import *  # noqa: F401,F403
from ._ops.indexing import *  # noqa: F401,F403
from ._ops.linalg import *  # noqa: F401,F403
from ._ops.random import *  # noqa: F401,F403
from ._ops.sorting import *  # noqa: F401,F403
from ._ops.special import *  # noqa: F401,F403
from ._ops import inplace as _inplace  # noqa: F401  (attaches the in-place methods)

_builtin_isinstance = isinstance


def result_type(tensor1, tensor2):
    return _dtype.result_type(tensor1, tensor2)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins_bool(input.item())


def numel(input):
    return input.numel()


def get_num_threads():
    from ._threads import get_num_threads as g

    return g()


def set_num_threads(n):
    from ._threads import set_num_threads as s

    s(n)


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n):
    pass


def use_deterministic_algorithms(mode, *, warn_only=False):
    pass


def are_deterministic_algorithms_enabled():
    return True


def set_float32_matmul_precision(precision):
    pass


def get_float32_matmul_precision():
    return "highest"


def compile(model=None, **kwargs):
    """torch.compile: accepted and ignored; returns the model (or a decorator) unchanged."""
    if model is None:
        return lambda m: m
    return model


def typename(obj):
    return obj.type() if _builtin_isinstance(obj, Tensor) else type(obj).__name__


import builtins as _builtins  # noqa: E402
import warnings as _warnings  # noqa: E402

# PyTorch computes 1/0, log(0) and overflow silently (inf, nan); NumPy would warn from inside tapegrad's
# operators, engine and optimizers. Only NumPy's floating-point messages from tapegrad's own modules are
# silenced (tapegrad's own RuntimeWarnings, e.g. detect_anomaly's, still show). pytest drops filters set
# while it collects test modules: a test suite importing tapegrad there adds the same line to its
# pytest configuration (see pyproject.toml's filterwarnings).
_warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
                         category=RuntimeWarning, module=r"tapegrad\.")


class _LegacyTensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._dtype


def _legacy_tensor_type(name, dt):
    """torch.FloatTensor and friends: constructors of a dtype, usable with isinstance."""

    def __new__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], _builtins.int):
            return tensor(args[0], dtype=dt)
        return empty(*args, dtype=dt)

    return _LegacyTensorType(name, (), {"__new__": __new__, "_dtype": dt})


FloatTensor = _legacy_tensor_type("FloatTensor", float32)
DoubleTensor = _legacy_tensor_type("DoubleTensor", float64)
HalfTensor = _legacy_tensor_type("HalfTensor", float16)
LongTensor = _legacy_tensor_type("LongTensor", int64)
IntTensor = _legacy_tensor_type("IntTensor", int32)
ShortTensor = _legacy_tensor_type("ShortTensor", int16)
CharTensor = _legacy_tensor_type("CharTensor", int8)
ByteTensor = _legacy_tensor_type("ByteTensor", uint8)
BoolTensor = _legacy_tensor_type("BoolTensor", bool)

builtins_bool = _builtins.bool

strided = "torch.strided"
contiguous_format = preserve_format = channels_last = "torch.contiguous_format"
pi, e, inf, nan = 3.141592653589793, 2.718281828459045, _builtins.float("inf"), _builtins.float("nan")

_LAZY = {"nn", "optim", "utils", "linalg", "distributions", "cuda", "backends", "serialization", "amp", "distributed",
         "testing", "multiprocessing", "jit", "special", "hub", "onnx", "mps", "accelerator", "datasets",
         "transforms", "overrides", "types", "library", "fx", "export", "profiler", "version", "random", "accelerator"}


_AMP_NAMES = {"autocast", "is_autocast_enabled", "get_autocast_dtype", "set_autocast_enabled", "set_autocast_dtype",
              "is_autocast_available", "is_autocast_cpu_enabled", "get_autocast_cpu_dtype", "get_autocast_gpu_dtype",
              "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache"}


class _NotImplementedAttribute(NotImplementedError, AttributeError):
    """Raised for PyTorch names tapegrad lacks; an AttributeError too, so hasattr() answers False."""


# shown in tracebacks as the plain NotImplementedError it is meant to be
_NotImplementedAttribute.__module__, _NotImplementedAttribute.__qualname__ = "builtins", "NotImplementedError"

# PyTorch submodules tapegrad does not have: attribute access names the full missing function
_MISSING_SUBMODULES = {"fft", "special", "sparse", "quantization", "ao", "masked", "nested",
                       "func", "signal", "futures", "package", "quasirandom", "storage", "xpu",
                       "cpu", "_dynamo", "_inductor", "fx", "export", "hub", "onnx", "jit", "library",
                       "overrides", "testing", "multiprocessing", "profiler", "mps"}


def _missing_module(qualname):
    import types

    class _Missing(types.ModuleType):
        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            raise _NotImplementedAttribute(f"tapegrad does not implement {self.__name__}.{attr}")

    return _Missing(qualname)


def __getattr__(name):
    import importlib

    if name in ("save", "load"):
        from . import serialization

        return getattr(serialization, name)
    if name in _AMP_NAMES:  # torch.autocast, torch.is_autocast_enabled, ...: tapegrad/amp.py
        from . import amp

        return getattr(amp, name)
    if name in _LAZY:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    if name.startswith("__"):
        raise AttributeError(name)
    if name in _MISSING_SUBMODULES:
        return _missing_module(f"torch.{name}")
    raise _NotImplementedAttribute(f"tapegrad does not implement torch.{name}")
