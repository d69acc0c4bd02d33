"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and *_like, new_*), arange,
linspace, logspace, eye, tril_indices/triu_indices, meshgrid."""
import builtins
import math
import operator

import numpy as np

from .. import _backend, _dtype
from .._tensor import Size, Tensor, tensor_method

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "empty_like", "arange", "range", "linspace", "logspace", "eye", "meshgrid",
           "tril_indices", "triu_indices", "scalar_tensor", "empty_strided", "complex", "polar", "frombuffer"]


def _xp(device):
    d = _backend.to_device(device)
    return _backend.module_for(d), d


def _is_seq(x):
    return isinstance(x, (list, tuple, builtins.range))


_PLAIN_TYPES = {float: "f", int: "i", bool: "b"}
_PLAIN_SET = frozenset(_PLAIN_TYPES)


def _scan(data):
    """One walk over Python data: PyTorch's inferred dtype (the promotion of every leaf's type: a bool is
    bool, an int int64, a float the default dtype; NumPy scalars, arrays and tensors keep theirs), or the
    exception inference raises, and the set of leaf kinds, which decides whether NumPy may convert the
    whole at once."""
    found = {}
    kinds = set()
    default = _dtype.get_default_dtype()
    err = []

    def note(d):
        found[d] = True

    def walk(x):
        cls = x.__class__
        if cls is list or cls is tuple or cls is builtins.range:
            types = set(map(type, x))
            if types <= _PLAIN_SET:  # the common flat row of Python numbers, at C speed
                for t in types:
                    kinds.add(_PLAIN_TYPES[t])
                    note(default if t is float else _dtype.int64 if t is int else _dtype.bool)
                return
            for v in x:
                walk(v)
        elif cls is float:
            kinds.add("f")
            note(default)
        elif cls is int:
            kinds.add("i")
            note(_dtype.int64)
        elif cls is bool:
            kinds.add("b")
            note(_dtype.bool)
        elif isinstance(x, Tensor):
            kinds.add("T")
            note(x.dtype)
        elif isinstance(x, (np.generic, np.ndarray)):  # before float: np.float64 is a float subclass
            kinds.add(("n", x.dtype.kind, x.dtype.itemsize))
            try:
                note(_dtype.from_numpy_dtype(x.dtype))
            except TypeError as e:
                err.append(e)
        elif _is_seq(x):
            for v in x:
                walk(v)
        elif isinstance(x, bool):
            kinds.add("?")
            note(_dtype.bool)
        elif isinstance(x, int):
            kinds.add("?")
            note(_dtype.int64)
        elif isinstance(x, float):
            kinds.add("?")
            note(default)
        elif isinstance(x, builtins.complex):
            kinds.add("?")
            note(_dtype.complex64)
        elif isinstance(x, (str, bytes)):
            err.append(TypeError(f"new(): invalid data type '{type(x).__name__}'"))
            kinds.add("?")
        else:
            err.append(RuntimeError(f"Could not infer dtype of {type(x).__name__}"))
            kinds.add("?")

    walk(data)
    result = None
    for k in found:
        result = k if result is None else _dtype.promote_types(result, k)
    return (default if result is None else result), kinds, (err[0] if err else None)


def _infer_dtype(data):
    dt, _, err = _scan(data)
    if err is not None:
        raise err
    return dt


def _sizes(data):
    """PyTorch's compute_sizes: the lengths met following first elements down nested sequences."""
    sizes, x = [], data
    while True:
        if isinstance(x, np.ndarray):
            if x.ndim == 0:
                raise TypeError("len() of unsized object")
        elif isinstance(x, str):
            raise ValueError("too many dimensions 'str'")
        elif not _is_seq(x):
            return sizes
        sizes.append(len(x))
        if not len(x):
            return sizes
        x = x[0]


def _leaf_int(x, d):
    """PyTorch's store_scalar into an integer dtype: a float (np.float64 too) is range-checked and
    truncated; anything else must have __index__ (np.float32 and np.bool_ do not)."""
    if isinstance(x, float):
        return _dtype.checked_scalar(float(x), d, cpp=False)
    v = operator.index(x)
    if not -2 ** 63 <= v < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    return _dtype.checked_scalar(v, d, cpp=False)


def _leaf_bool(x, d):
    if isinstance(x, (float, builtins.complex, np.bool_)):
        return bool(x)
    return operator.index(x) != 0


def _leaf_float(x, d):
    if isinstance(x, Tensor):
        return float(x)
    t = type(x)
    if not isinstance(x, float) and not hasattr(t, "__float__") and not hasattr(t, "__index__"):
        raise TypeError(f"must be real number, not {t.__name__}")
    v = float(x)
    return float(np.float32(v)) if d is _dtype.float16 else v


def _leaf_complex(x, d):
    return builtins.complex(x)


def _store(data, sizes, d):
    """PyTorch's _recursive_store: every sequence must have the length the first elements gave; every
    leaf goes through the dtype's scalar conversion."""
    leaf = (_leaf_bool if d is _dtype.bool else _leaf_complex if d.is_complex else
            _leaf_float if d.is_floating_point else _leaf_int)
    ndim = len(sizes)

    def rec(x, dim):
        if dim == ndim:
            return leaf(x, d)
        if isinstance(x, Tensor):
            x = list(x)
        elif not (_is_seq(x) or isinstance(x, np.ndarray)):
            raise TypeError("not a sequence")
        if len(x) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
        return [rec(v, dim + 1) for v in x]

    with np.errstate(over="ignore"):
        return np.array(rec(data, 0), dtype=d.np).reshape(sizes)


def _fast_ok(kinds, d):
    """Whether NumPy's conversion of the whole gives what PyTorch's element-by-element store gives."""
    if d.is_floating_point or d.is_complex:
        return all(k in ("f", "i", "b") or (k[0] == "n" and k[1] in "biuf") for k in kinds if k != "T") \
            and "T" not in kinds
    if d is _dtype.bool:
        return all(k in ("f", "i", "b") or (k[0] == "n" and (k[1] in "biu" or k[1:] == ("f", 8))) for k in kinds)
    return all(k in ("i", "b") or (k[0] == "n" and (k[1] == "i" or (k[1] == "u" and k[2] < 8))) for k in kinds)


def _floats_to_int(data, sizes, d):
    """Python floats (and bools) into an integer dtype, vectorised: each float range-checked as c10 does,
    then truncated; None where NumPy cannot build the array (the element-wise store reports why)."""
    try:
        arr = np.array(data, dtype=np.float64)
    except (ValueError, TypeError):
        return None
    if arr.shape != tuple(sizes):
        return None
    ii = np.iinfo(d.np)
    lo, hi = float(ii.min), float(ii.max)
    if arr.size and (np.isnan(arr).any() or arr.min() < lo or arr.max() > hi):
        raise _dtype._overflow(d.name)
    if d is _dtype.int64:
        big = arr >= 2.0 ** 63  # INT64_MAX as a double is 2**63: x86 converts it to INT64_MIN
        return np.asarray(np.where(big, ii.min, np.trunc(np.where(big, 0.0, arr)).astype(np.int64)), dtype=np.int64)
    return np.asarray(np.trunc(arr)).astype(d.np)


def _to_array(data, dtype, op):
    cls = data.__class__
    if dtype is None and (cls is float or cls is bool):  # torch.tensor(0.5): no scan needed
        return np.array(data, dtype=_dtype.get_default_dtype().np if cls is float else np.bool_)
    if isinstance(data, Tensor):
        arr = _backend.to_numpy_array(data._data)
        return arr if dtype is None else _dtype.cast_array(arr, dtype.np)
    if isinstance(data, np.ndarray):
        if dtype is None or data.dtype.kind not in "biufc":
            _dtype.from_numpy_dtype(data.dtype)
        return data if dtype is None else _dtype.cast_array(data, dtype.np)
    if hasattr(data, "__cuda_array_interface__") and _backend.cupy() is not None:
        arr = data if dtype is None else data.astype(dtype.np)
        return arr
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    sizes = _sizes(data)
    inferred, kinds, err = _scan(data)
    if dtype is None and err is not None:
        raise err
    d = dtype or inferred
    if err is None and not (d.is_floating_point or d.is_complex or d is _dtype.bool) and kinds and \
            kinds <= {"f", "b"}:
        arr = _floats_to_int(data, sizes, d)
        if arr is not None:
            return arr
    if err is None and _fast_ok(kinds, d):
        try:
            with np.errstate(over="ignore"):
                if d is _dtype.float16:
                    arr = np.array(data, dtype=np.float32).astype(np.float16)
                elif d.is_floating_point or d is _dtype.bool or d.is_complex:
                    arr = np.array(data, dtype=d.np)
                else:
                    arr = np.array(data, dtype=np.int64)
        except (ValueError, TypeError, OverflowError):
            arr = None  # ragged, or a value out of range: the element-wise store raises PyTorch's error
        if arr is not None and arr.shape == tuple(sizes):
            if d is _dtype.bool or d.is_floating_point or d.is_complex or d is _dtype.int64:
                return arr
            ii = np.iinfo(d.np)
            lo = -int(ii.max) if ii.min == 0 else int(ii.min)
            if arr.size and (arr.min() < lo or arr.max() > ii.max):
                raise _dtype._overflow(d.name)
            return arr.astype(d.np)
    return _store(data, sizes, d)


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


def _size(size, op, pos=1):
    """PyTorch's parsing of a size given as varargs ints, one sequence of ints, or a torch.Size."""
    shape = size[0] if len(size) == 1 and size[0].__class__ in _SIZE_SEQUENCES else size
    for s in shape:  # the common case first: plain non-negative ints
        if s.__class__ is not int or s < 0:
            break
    else:
        return tuple(shape)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
        nested = True
    else:
        nested = False
        if len(size) > 1 and any(isinstance(s, (tuple, list)) for s in size):
            raise TypeError(f"{op}() takes 1 positional argument but {len(size)} were given")
    out = []
    for i, s in enumerate(size):
        if isinstance(s, Tensor):
            if s.dtype.is_floating_point or s.dtype.is_complex or s.numel() != 1:
                s = s  # PyTorch takes only integer tensors of one element as sizes
            else:
                s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            if not nested and len(size) == 1:
                raise TypeError(f"{op}(): argument 'size' (position {pos}) must be tuple of ints, not "
                                f"{type(s).__name__}")
            if isinstance(s, (tuple, list)):
                raise TypeError(f"{op}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                                f"\"type must be tuple of ints,but got {type(s).__name__}\"")
            raise TypeError(f"{op}(): argument 'size' (position {pos}) must be tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {i}")
        out.append(int(s))
    for s in out:
        if s < 0:
            if op == "zeros":
                raise RuntimeError(f"{op}: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _fill_scalar(fill, op="full"):
    """A Python or NumPy number (or a one-element tensor) as PyTorch's Scalar holds it: bool, int within
    int64 or uint64, or float."""
    if isinstance(fill, Tensor):
        fill = fill.item()
    if isinstance(fill, (bool, np.bool_)):
        return bool(fill)
    if isinstance(fill, (int, np.integer)):
        fill = int(fill)
        if fill >= 2 ** 64:
            raise OverflowError("int too big to convert")
        if fill < -2 ** 63:
            raise OverflowError("can't convert negative int to unsigned")
        return fill
    if isinstance(fill, (float, np.floating)):
        return float(fill)
    if isinstance(fill, (builtins.complex, np.complexfloating)):
        return builtins.complex(fill)
    raise TypeError(f"{op}(): argument 'fill_value' (position 2) must be Number, not {type(fill).__name__}")


_SIZE_SEQUENCES = (tuple, list, Size)
_ZEROS, _ONES = object(), object()  # the fills of zeros*/ones*, which need no conversion


def _filled(op, size, fill, dtype, device, requires_grad):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    xp, _ = _xp(device)
    shape = _size(size, op)
    if fill is None:
        arr = xp.empty(shape, dtype=dt.np)
    elif fill is _ZEROS:
        arr = xp.zeros(shape, dtype=dt.np)
    elif fill is _ONES:
        arr = xp.ones(shape, dtype=dt.np)
    else:
        v = _dtype.checked_scalar(_fill_scalar(fill, op), dt)  # PyTorch's fill_: Scalar.to<T>(), checked
        if dt is _dtype.bool:
            v = bool(v)
        elif dt.is_floating_point:
            v = np.float32(v) if dt is _dtype.float16 else float(v)  # c10::Half is built from a float
        with np.errstate(over="ignore"):
            arr = xp.full(shape, v, dtype=dt.np)
    t = Tensor._make(arr)
    if requires_grad:
        t._factory_rg()
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          **kw):
    return _filled("zeros", _size_kw(size, kw, "zeros"), _ZEROS, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, **kw):
    return _filled("ones", _size_kw(size, kw, "ones"), _ONES, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None, **kw):
    return _filled("empty", _size_kw(size, kw, "empty"), None, dtype, device, requires_grad)


def _size_kw(size, kw, op):
    """`size=` given by keyword, as PyTorch allows: torch.zeros(size=(2, 3))."""
    if kw:
        if set(kw) != {"size"} or size:
            name = next(k for k in kw if k != "size") if set(kw) != {"size"} else "size"
            raise TypeError(f"{op}() got an unexpected keyword argument '{name}'")
        sz = kw["size"]
        if not isinstance(sz, (tuple, list)):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, not {type(sz).__name__}")
        return (sz,)
    return size


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    return _filled("empty_strided", (tuple(size),), None, dtype, device, requires_grad)


def _full_dtype(fill):
    """torch.full's dtype from its fill value: bool, int64 for integers, else the default dtype."""
    if isinstance(fill, Tensor):
        fill = fill.item()
    if isinstance(fill, bool):
        return _dtype.bool
    if isinstance(fill, (int, np.integer)):
        return _dtype.int64
    if isinstance(fill, (builtins.complex, np.complexfloating)):
        return _dtype.complex64
    return _dtype.get_default_dtype()


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if isinstance(fill_value, Tensor) and fill_value.dim() != 0:
        raise TypeError("full(): argument 'fill_value' (position 2) must be Number, not Tensor")
    fill = _fill_scalar(fill_value)
    if dtype is None:
        dtype = _full_dtype(fill_value)
    return _filled("full", (tuple(size),), fill, dtype, device, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _filled("scalar_tensor", ((),), s, dtype, device, requires_grad)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype), (device if device is not None else
                                                           (None if input.is_cpu else input.device))


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _filled("zeros_like", (input.shape,), _ZEROS, dt, dev, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return _filled("ones_like", (input.shape,), _ONES, dt, dev, requires_grad)


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
    return _filled("new_zeros", size, _ZEROS, dt, dev, requires_grad)


@tensor_method
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dt, dev = _like(self, dtype, device)
    return _filled("new_ones", size, _ONES, dt, dev, requires_grad)


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
    """Tensor.new_tensor: a copy of `data` with self's dtype and device unless given (NumPy arrays and
    Python floats included: PyTorch does not infer the dtype here)."""
    dt, dev = _like(self, dtype, device)
    if isinstance(data, Tensor):
        out = data.detach().clone().to(dt)
        return out.requires_grad_() if requires_grad else out
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tensor(data, dtype=dt, device=dev, requires_grad=requires_grad)


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


def _pow(base, e):
    """C's std::pow(double, double) (glibc's, correctly rounded; NumPy's power may differ in the last bit)."""
    try:
        return math.pow(base, e)
    except OverflowError:
        odd = base < 0 and float(e).is_integer() and int(e) % 2 == 1
        return -math.inf if odd else math.inf
    except ValueError:
        return math.nan


def _steps(start, end, steps, op):
    if isinstance(steps, Tensor) and not (steps.dtype.is_floating_point or steps.dtype.is_complex) \
            and steps.numel() == 1:
        steps = int(steps.item())
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"{op}() received an invalid combination of arguments - got ({type(start).__name__}, "
                        f"{type(end).__name__}, {type(steps).__name__}), but expected one of: (Number start, "
                        f"Number end, int steps, ...)")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return int(steps)


def _range_dtype(dtype, op):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if dt is _dtype.bool:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for 'Bool'")
    return dt


def _endpoint(v, dt):
    """start.to<scalar_t>(): checked like fill_, then held in the dtype (an int wraps into uint8)."""
    v = _dtype.checked_scalar(_fill_scalar(_scalar(v), "linspace"), dt)
    if dt.is_floating_point:
        with np.errstate(over="ignore"):
            return float(dt.np.type(np.float32(v)) if dt is _dtype.float16 else dt.np.type(v))
    return int(v)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    steps = _steps(start, end, steps, "linspace")
    dt = _range_dtype(dtype, "linspace")
    # PyTorch's kernel: start and end cast to the dtype, step = (end - start) / (steps - 1) in the dtype
    # (in double for integers); the first half counts up from start, the second down from end, each
    # element one fused multiply-add.
    s0, e0 = _endpoint(start, dt), _endpoint(end, dt)
    if dt is _dtype.float16 and steps > 1:
        # c10::Half arithmetic: every operation in float, rounded back to half (the integers too)
        f32, h = np.float32, (lambda x: np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32))
        step = h(h(f32(e0) - f32(s0)) / h(steps - 1))
        i = np.arange(steps)
        first = i < steps // 2
        prod = h(step * h(np.where(first, i, steps - 1 - i)))
        arr = np.where(first, f32(s0) + prod, f32(e0) - prod).astype(np.float16)
        return _finish(arr, device, requires_grad)
    if dt.is_floating_point:
        cast = np.float32 if dt is _dtype.float16 else dt.np.type
        step = float(dt.np.type((cast(e0) - cast(s0)) / cast(max(steps - 1, 1))))
    else:
        s0, e0 = float(s0), float(e0)
        step = (e0 - s0) / max(steps - 1, 1)
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    arr = np.where(i < half, _fma(step, i, s0), _fma(-step, steps - 1 - i, e0)) if steps != 1 else \
        np.full(1, s0)
    arr = _dtype.cast_array(arr, dt.np) if dt.is_floating_point else np.trunc(arr).astype(np.int64).astype(dt.np)
    return _finish(arr, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """PyTorch's logspace: start and end held in the dtype, the exponents start + step * i (the second
    half end - step * (steps - 1 - i)) in double, std::pow(base, exponent) cast to the dtype."""
    steps = _steps(start, end, steps, "logspace")
    dt = _range_dtype(dtype, "logspace")
    base = float(base)
    if steps == 1:  # r.fill_(pow(base, start)): a checked conversion
        v = _pow(base, float(_scalar(start)))
        return _filled("logspace", ((1,),), v, dt, device, requires_grad)
    s0, e0 = _endpoint(start, dt), _endpoint(end, dt)
    if dt.is_floating_point:
        cast = np.float32 if dt is _dtype.float16 else dt.np.type
        diff = float(dt.np.type(cast(e0) - cast(s0)))
    else:
        diff = float(s0.__class__(e0 - s0))
    step = diff / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    expo = np.where(i < steps // 2, s0 + step * i, e0 - step * (steps - 1 - i))
    with np.errstate(over="ignore", invalid="ignore"):
        vals = np.array([_pow(base, e) for e in expo.tolist()], dtype=np.float64)
        if dt.is_floating_point:
            arr = _dtype.cast_array(vals, dt.np)
        else:  # C's double -> integer conversion: out of range gives INT_MIN (x86), narrow types go via int32
            big = np.iinfo(np.int64 if dt is _dtype.int64 else np.int32)
            ok = np.isfinite(vals) & (vals > big.min - 1.0) & (vals < big.max + 1.0)
            ints = np.where(ok, np.trunc(np.where(ok, vals, 0)), big.min).astype(big.dtype)
            arr = ints.astype(dt.np)
    return _finish(arr, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    for name, v, pos in (("n", n, 1), ("m", m, 2)):
        if v is None:
            continue
        if isinstance(v, Tensor) and not (v.dtype.is_floating_point or v.dtype.is_complex) and v.numel() == 1:
            v = int(v.item())
            n, m = (v, m) if name == "n" else (n, v)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"eye(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}")
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
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
