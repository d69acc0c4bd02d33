"""tapegrad.cuda: answers truthfully whether a CUDA backend (CuPy with a GPU) is present."""
from . import _backend

__all__ = ["is_available", "device_count", "current_device", "set_device", "manual_seed", "manual_seed_all",
           "synchronize", "empty_cache", "get_device_name", "is_bf16_supported", "max_memory_allocated",
           "memory_allocated", "reset_peak_memory_stats", "amp"]


def is_available():
    return _backend.cuda_available()


def device_count():
    cp = _backend.cupy()
    return cp.cuda.runtime.getDeviceCount() if cp else 0


def _require(what):
    if not is_available():
        raise AssertionError("Torch not compiled with CUDA enabled")


def current_device():
    _require("current_device")
    return _backend.cupy().cuda.Device().id


def set_device(device):
    _require("set_device")
    _backend.cupy().cuda.Device(device if isinstance(device, int) else _backend.device(device).index or 0).use()


def get_device_name(device=None):
    _require("get_device_name")
    cp = _backend.cupy()
    return cp.cuda.runtime.getDeviceProperties(device or 0)["name"].decode()


def manual_seed(seed):
    """Seeding CUDA is a no-op without a GPU, as in PyTorch."""


manual_seed_all = manual_seed


def synchronize(device=None):
    if is_available():
        _backend.cupy().cuda.Device().synchronize()


def empty_cache():
    if is_available():
        _backend.cupy().get_default_memory_pool().free_all_blocks()


def is_bf16_supported(including_emulation=True):
    return False


def memory_allocated(device=None):
    return _backend.cupy().get_default_memory_pool().used_bytes() if is_available() else 0


def max_memory_allocated(device=None):
    return memory_allocated(device)


def reset_peak_memory_stats(device=None):
    pass


class _Amp:
    """torch.cuda.amp: autocast and GradScaler names; tapegrad computes in the tensors' own dtypes."""

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        import contextlib

        return contextlib.nullcontext()

    @staticmethod
    def GradScaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        """torch.cuda.amp.GradScaler: tapegrad.amp.GradScaler("cuda", ...) (disabled, with a warning, without CUDA)."""
        from .amp import GradScaler

        return GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


amp = _Amp()
