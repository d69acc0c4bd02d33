"""tapegrad.amp: torch.amp's autocast and GradScaler.

autocast("cpu", dtype=...) runs the operators PyTorch's CPU autocast runs in lower precision
(linear, matmul and its forms mm/bmm, scaled_dot_product_attention) on inputs cast to that dtype,
and cross_entropy / nll_loss in float32, as PyTorch's CPU autocast lists do:

    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)                   # bfloat16
        loss = F.cross_entropy(logits, y)   # float32
    loss.backward()                         # parameter gradients in the parameters' float32

The default CPU dtype is bfloat16, which needs the optional package ml_dtypes; without it, bfloat16
autocast is accepted and does nothing (the model runs in float32): a documented no-op, not an error.
float16 autocast always works (NumPy has float16), but NumPy computes float16 matrix products without
BLAS, so it is slow: use it to check numerics, not for speed. autocast("cuda") without a GPU is
disabled with PyTorch's warning.

GradScaler implements PyTorch's dynamic loss scaling (scale, unscale_, step skipping steps with
inf/NaN gradients, update with growth and backoff, state_dict). GradScaler("cuda") (the default
device) without a GPU is disabled with PyTorch's warning; then scale() returns its input and step()
just steps, which is what CPU training scripts written for CUDA expect.
"""
import functools
import math
import warnings

from . import _dtype

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd"]

# The lower-precision dtype the autocast operators cast to, or None (read on every linear / matmul call).
AUTOCAST = [None]
_STATE = {"cpu": [False, _dtype.bfloat16], "cuda": [False, _dtype.float16]}


def _cuda_available():
    from . import _backend

    return _backend.cuda_available()


def _refresh():
    on, dt = _STATE["cpu"]
    if _cuda_available() and _STATE["cuda"][0]:
        on, dt = _STATE["cuda"]
    AUTOCAST[0] = dt if on and dt.np is not None else None


def is_autocast_available(device_type):
    return device_type in ("cpu", "cuda")


class autocast:
    """Context manager and decorator: operators in PyTorch's autocast lists run in `dtype`."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _STATE:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = _STATE[device_type][1] if dtype is None else _dtype.to_dtype(dtype)
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled
        if device_type == "cuda" and enabled and not _cuda_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
            self._enabled = False
        if device_type == "cpu" and self._enabled and self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\nCPU Autocast "
                          "only supports dtype of torch.bfloat16, torch.float16 currently.", stacklevel=2)
            self._enabled = False

    def __enter__(self):
        st = _STATE[self.device]
        self._prev = list(st)
        st[0], st[1] = self._enabled, self.fast_dtype
        _refresh()
        return self

    def __exit__(self, *exc):
        _STATE[self.device][:] = self._prev
        _refresh()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type=None):
    """torch.is_autocast_enabled(): without an argument PyTorch asks about CUDA."""
    return _STATE["cuda" if device_type is None else device_type][0]


def get_autocast_dtype(device_type):
    return _STATE[device_type][1]


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:  # the old one-argument form is about CUDA
        device_type, enabled = "cuda", device_type
    _STATE[device_type][0] = bool(enabled)
    _refresh()


def set_autocast_dtype(device_type, dtype):
    _STATE[device_type][1] = _dtype.to_dtype(dtype)
    _refresh()


def is_autocast_cpu_enabled():
    return _STATE["cpu"][0]


def get_autocast_cpu_dtype():
    return _STATE["cpu"][1]


def get_autocast_gpu_dtype():
    return _STATE["cuda"][1]


def is_autocast_cache_enabled():
    return True


def set_autocast_cache_enabled(enabled):
    pass


def clear_autocast_cache():
    pass


def _cast(*tensors):
    """The autocast operators' inputs in the autocast dtype (floating tensors only; others pass through)."""
    dt = AUTOCAST[0]
    out = []
    for t in tensors:
        if t is not None and hasattr(t, "_data") and t._data.dtype.kind == "f" and t._data.dtype != dt.np:
            t = t.to(dt)
        out.append(t)
    return out


def _to_float32(t):
    """An fp32-list operator's input under autocast (cross_entropy, nll_loss)."""
    if AUTOCAST[0] is not None and t._data.dtype != _dtype.float32.np and (t._data.dtype.kind == "f" or
                                                                           t._data.dtype.name == "bfloat16"):
        return t.to(_dtype.float32)
    return t


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type="cuda"):
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


# ---------------------------------------------------------------- GradScaler
_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """Dynamic loss scaling: scale the loss, unscale the gradients before the step, skip steps whose
    gradients hold inf or NaN and shrink the scale then, grow it after `growth_interval` good steps."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not _cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._scale = None
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._growth_tracker = None
        self._per_optimizer_states = {}

    def _lazy_init(self):
        if self._scale is None:
            self._scale = self._init_scale
            self._growth_tracker = self._init_growth_tracker

    def _state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), {"stage": _READY, "found_inf": 0.0})

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """outputs * scale (a tensor, or tensors in lists / tuples)."""
        if not self._enabled:
            return outputs
        self._lazy_init()
        from ._tensor import Tensor

        def apply(v):
            if isinstance(v, Tensor):
                return v * self._scale
            if isinstance(v, (list, tuple)):
                return type(v)(apply(x) for x in v)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale in place; record whether any is inf or NaN."""
        if not self._enabled:
            return
        if self._scale is None:
            raise AssertionError("Attempted unscale_ but _scale is None.  This may indicate your script did not use "
                                 "scaler.scale(loss or outputs) earlier in the iteration.")
        st = self._state(optimizer)
        if st["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        import numpy as np

        inv = 1.0 / self._scale
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                d = g._data
                d *= d.dtype.type(inv)
                g._version_ctr.v += 1
                if not found and not np.isfinite(d).all():
                    found = True
        st["found_inf"] = 1.0 if found else 0.0
        st["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step() unless the unscaled gradients hold inf or NaN (then the step is skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        if self._scale is None:
            raise AssertionError("Attempted step but _scale is None.  This may indicate your script did not use "
                                 "scaler.scale(loss or outputs) earlier in the iteration.")
        st = self._state(optimizer)
        if st["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] == _READY:
            self.unscale_(optimizer)
        ret = None
        if not st["found_inf"]:
            ret = optimizer.step(*args, **kwargs)
        st["stage"] = _STEPPED
        return ret

    def update(self, new_scale=None):
        """Shrink the scale after a skipped step; grow it after growth_interval steps without inf/NaN."""
        if not self._enabled:
            return
        self._lazy_init()
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    if math.isfinite(self._scale * self._growth_factor):
                        self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer_states = {}

    def get_scale(self):
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._scale = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        self._growth_tracker = self._init_growth_tracker
