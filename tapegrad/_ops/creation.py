"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and *_like, new_*), arange,
linspace, logspace, eye, tril_indices/triu_indices, meshgrid."""
import builtins
import math

import numpy as np

from .. import _backend, _dtype
from .._tensor import Tensor, tensor_method

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "empty_like", "arange", "range", "linspace", "logspace", "eye", "meshgrid",
           "tril_indices", "triu_indices", "scalar_tensor", "empty_strided", "complex", "polar", "frombuffer"]


def _xp(device):
    d = _backend.to_device(device)
    return _backend.module_for(d), d


def _is_seq(x):
    return isinstance(x, (list, tuple, builtins.range))


def _infer_dtype(data):
    """PyTorch's dtype inference for Python data: the promotion of every element's type, where a bool is
    bool, an int int64, a float the default dtype, and NumPy scalars, arrays and tensors keep theirs."""
    found = {}
    default = _dtype.get_default_dtype()

    def walk(x):
        if _is_seq(x):
            for v in x:
                walk(v)
        elif isinstance(x, Tensor):
            found[x.dtype] = True
        elif isinstance(x, (np.generic, np.ndarray)):  # before float: np.float64 is a float subclass
            found[_dtype.from_numpy_dtype(x.dtype)] = True
        elif isinstance(x, bool):
            found[_dtype.bool] = True
        elif isinstance(x, int):
            found[_dtype.int64] = True
        elif isinstance(x, float):
            found[default] = True
        elif isinstance(x, builtins.complex):
            found[_dtype.complex64] = True
        elif isinstance(x, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
        else:
            raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")

    walk(data)
    result = None
    for k in found:
        result = k if result is None else _dtype.promote_types(result, k)
    return default if result is None else result


def _ragged_error(data):
    """PyTorch's error for nested sequences whose lengths disagree (sizes follow the first elements)."""
    sizes, x = [], data
    while _is_seq(x):
        sizes.append(len(x))
        if not len(x):
            break
        x = x[0]

    def check(x, d):
        if d == len(sizes):
            if _is_seq(x):
                return TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
            return None
        if not _is_seq(x):
            return TypeError("not a sequence")
        if len(x) != sizes[d]:
            return ValueError(f"expected sequence of length {sizes[d]} at dim {d} (got {len(x)})")
        for v in x:
            err = check(v, d + 1)
            if err is not None:
                return err
        return None

    return check(data, 0)


def _to_array(data, dtype, op):
    if isinstance(data, Tensor):
        arr = _backend.to_numpy_array(data._data)
        return arr if dtype is None else arr.astype(dtype.np)
    if isinstance(data, np.ndarray):
        if dtype is None:
            _dtype.from_numpy_dtype(data.dtype)
            return data
        return data.astype(dtype.np)
    if isinstance(data, np.generic):
        d = dtype or _dtype.from_numpy_dtype(data.dtype)
        return np.asarray(data, dtype=d.np)
    if hasattr(data, "__cuda_array_interface__") and _backend.cupy() is not None:
        arr = data if dtype is None else data.astype(dtype.np)
        return arr
    if isinstance(data, builtins.range):
        data = list(data)
    inferred = _infer_dtype(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _unwrap_nested(data)
    d = dtype or inferred
    try:
        arr = np.array(data, dtype=d.np if d.np is not None else None)
    except ValueError as e:
        err = _ragged_error(data)
        raise (err if err is not None else ValueError(f"{op}(): {e}")) from None
    except OverflowError:
        if inferred is _dtype.int64 and d is _dtype.int64:
            raise ValueError("Overflow when unpacking long long") from None
        raise RuntimeError(f"{op}(): value cannot be converted to type {d.name} without overflow") from None
    except TypeError:
        err = _ragged_error(data)
        raise (err if err is not None else
               TypeError(f"{op}(): could not convert data of type {type(data).__name__} to a tensor")) from None
    if arr.dtype == object:
        raise ValueError(f"{op}(): could not build a tensor from ragged or non-numeric data")
    return arr


def _flat(x):
    for v in x:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _unwrap_nested(x):
    if isinstance(x, (list, tuple)):
        return [_unwrap_nested(v) for v in x]
    if isinstance(x, Tensor):
        if x._data.size != 1 and x._data.ndim > 0:
            return _backend.to_numpy_array(x._data).tolist()
        return x.item()
    return x


def _finish(arr, device, requires_grad):
    if device is not None:
        xp, d = _xp(device)
        if d.type == "cuda":
            with _backend.cupy().cuda.Device(d.index or 0):
                arr = xp.asarray(arr)
    t = Tensor._make(arr)
    if requires_grad:
        t._factory_rg()
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """torch.tensor: always copies `data`."""
    if isinstance(data, Tensor):
        import warnings

        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() "
                      "or sourceTensor.clone().detach().requires_grad_(True), rather than "
                      "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    dt = _dtype.to_dtype(dtype) if dtype is not None else None
    arr = _to_array(data, dt, "tensor")
    if isinstance(data, (Tensor, np.ndarray)) or arr is data:
        arr = arr.copy()
    if arr.__class__ is np.ndarray and not arr.flags.c_contiguous:
        arr = arr.copy()
    return _finish(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """torch.as_tensor: shares memory with a NumPy array or tensor when dtype and device allow."""
    dt = _dtype.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        if (dt is None or dt.np == data._data.dtype) and device is None:
            return data
        return data.to(dtype=dt, device=device)
    arr = _to_array(data, dt, "as_tensor")
    return _finish(arr, device, False)


asarray = as_tensor


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    arr = np.frombuffer(buffer, dtype=_dtype.to_dtype(dtype).np, count=count, offset=offset)
    return _finish(arr, None, requires_grad)


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{op}(): Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _filled(op, size, fill, dtype, device, requires_grad):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    xp, _ = _xp(device)
    shape = _size(size, op)
    if fill is None:
        arr = xp.empty(shape, dtype=dt.np)
    elif fill == 0:
        arr = xp.zeros(shape, dtype=dt.np)
    elif fill == 1:
        arr = xp.ones(shape, dtype=dt.np)
    else:
        arr = xp.full(shape, fill, dtype=dt.np)
    t = Tensor._make(arr)
    if requires_grad:
        t._factory_rg()
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled("zeros", size, 0, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled("ones", size, 1, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    return _filled("empty", size, None, dtype, device, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    return _filled("empty_strided", (tuple(size),), None, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _infer_dtype(fill_value)
    return _filled("full", (tuple(size) if not isinstance(size, int) else (size,),), fill_value, dtype, device,
                   requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _filled("scalar_tensor", ((),), s, dtype, device, requires_grad)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype), (device if device is not None else
                                                           (None if input.is_cpu else input.device))


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _filled("zeros_like", (input.shape,), 0, dt, dev, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _filled("ones_like", (input.shape,), 1, dt, dev, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _filled("empty_like", (input.shape,), None, dt, dev, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _filled("full_like", (input.shape,), fill_value, dt, dev, requires_grad)


@tensor_method
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dt, dev = _like(self, dtype, device)
    return _filled("new_zeros", size, 0, dt, dev, requires_grad)


@tensor_method
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dt, dev = _like(self, dtype, device)
    return _filled("new_ones", size, 1, dt, dev, requires_grad)


@tensor_method
def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dt, dev = _like(self, dtype, device)
    return _filled("new_empty", size, None, dt, dev, requires_grad)


@tensor_method
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    dt, dev = _like(self, dtype, device)
    return _filled("new_full", (tuple(size),), fill_value, dt, dev, requires_grad)


@tensor_method
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(self, dtype, device)
    if isinstance(data, Tensor):
        return data.detach().clone().to(dt)
    return tensor(data, dtype=dt if dtype is not None else (None if not isinstance(data, (int, float, list, tuple))
                                                            else _infer_dtype_like(data, self)),
                  device=dev, requires_grad=requires_grad)


def _infer_dtype_like(data, self):
    # new_tensor keeps self's dtype, as PyTorch does
    return self.dtype


def _scalar(x):
    return x.item() if isinstance(x, Tensor) else x


def _fma(a, x, c):
    """a * x + c, rounded once, for float64 scalars a, c and a float64 array x of integers below 2**26.

    PyTorch's CPU kernels compute `start + step * i` with a fused multiply-add; Dekker's exact product
    and Knuth's two-sum reproduce it in NumPy (up to a double rounding in rare ties)."""
    split = a * 134217729.0  # 2**27 + 1
    hi = split - (split - a)
    p = a * x
    err = (hi * x - p) + (a - hi) * x  # exact: p + err == a * x
    s = p + c
    bb = s - p
    return s + (((p - (s - bb)) + (c - bb)) + err)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) \
            else _dtype.get_default_dtype()
    dt = _dtype.to_dtype(dtype)
    if dt is _dtype.bool:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    floating = dt.is_floating_point
    xs, xe, xst = (float(v) for v in (start, end, step)) if floating else (int(v) for v in (start, end, step))
    if float(step) == 0:
        raise RuntimeError("step must be nonzero")
    if xst == 0:  # an integer dtype truncates the step: PyTorch then fills int64 not at all, others with start
        if dt is _dtype.int64:
            raise ValueError("step must be nonzero")
    if not (math.isfinite(xs) and math.isfinite(xe)):
        raise RuntimeError(f"unsupported range: {xs:g} -> {xe:g}")
    if not ((float(step) > 0 and xe >= xs) or (float(step) < 0 and xe <= xs)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt is _dtype.int64:
        sgn = (xst > 0) - (xst < 0)
        num = xe - xs + xst - sgn  # C++ integer division truncates toward zero
        n = abs(num) // abs(xst) * (1 if (num >= 0) == (xst > 0) else -1)
    else:
        n = math.ceil((float(end) - float(start)) / float(step))
    n = max(0, int(n))
    if not floating:
        arr = (np.arange(n, dtype=np.int64) * xst + xs).astype(dt.np)
    else:
        # PyTorch's CPU kernel (x86, AVX2 vectors of 32 bytes) writes blocks of 2 vectors: each vector starts
        # at base = start + step * i, rounded to the dtype, then adds j * step; the tail is scalar.
        idx = np.arange(n, dtype=np.float64)
        acc = np.float32 if dt is _dtype.float16 else np.float64  # PyTorch's accumulate type on the CPU
        xs, xst = float(acc(xs)), float(acc(xst))
        arr = _fma(xst, idx, xs).astype(dt.np)
        if dt is not _dtype.float16:
            v = 32 // dt.itemsize
            nv = n // (2 * v) * (2 * v)
            k = idx[:nv] // v * v
            base = _fma(xst, k, xs).astype(dt.np).astype(np.float64)
            arr[:nv] = _fma(xst, idx[:nv] - k, base).astype(dt.np)
    return _finish(arr, device, requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """torch.range (deprecated in PyTorch): includes `end`."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    arr = (np.arange(n, dtype=np.float64) * step + start).astype(dt.np)
    return _finish_rg(arr, requires_grad)


def _finish_rg(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t._factory_rg()
    return t


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    start, end = _scalar(start), _scalar(end)
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    # PyTorch's kernel: start and end cast to the dtype, step = (end - start) / (steps - 1) in the dtype
    # (in double for integers); the first half counts up from start, the second down from end, each
    # element one fused multiply-add.
    if dt.is_floating_point:
        cast = np.float32 if dt is _dtype.float16 else dt.np.type
        s0, e0 = float(cast(dt.np.type(start))), float(cast(dt.np.type(end)))
        step = float(dt.np.type((cast(e0) - cast(s0)) / cast(max(steps - 1, 1))))
    else:
        s0, e0 = float(int(start)), float(int(end))
        step = (e0 - s0) / max(steps - 1, 1)
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    arr = np.where(i < half, _fma(step, i, s0), _fma(-step, steps - 1 - i, e0)) if steps != 1 else \
        np.full(1, s0)
    arr = arr.astype(dt.np) if dt.is_floating_point else np.trunc(arr).astype(dt.np)
    return _finish(arr, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    lin = linspace(start, end, steps, dtype=_dtype.float64)._data
    return _finish_rg((base ** lin).astype(dt.np), requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    xp, _ = _xp(device)
    return _finish_rg(xp.eye(n, m if m is not None else n, dtype=dt.np), requires_grad)


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        view = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view[pos] = -1
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.tril_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype((_dtype.to_dtype(dtype) if dtype else _dtype.int64).np))


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.triu_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype((_dtype.to_dtype(dtype) if dtype else _dtype.int64).np))


def complex(real, imag):
    return Tensor._make((real._data + 1j * imag._data).astype(np.complex64))


def polar(abs, angle):
    return Tensor._make((abs._data * np.exp(1j * angle._data)).astype(np.complex64))
