"""tapegrad.accelerator: the current accelerator, if any (CUDA through CuPy)."""
from . import _backend


def is_available():
    return _backend.cuda_available()


def current_accelerator(check_available=False):
    return _backend.device("cuda") if is_available() else None


def device_count():
    from .cuda import device_count as n

    return n()
