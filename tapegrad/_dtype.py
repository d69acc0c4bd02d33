"""tapegrad dtypes and PyTorch's type-promotion rules.

NumPy 2 promotes differently from PyTorch (a float32 array with a float64
0-d array is float64 in NumPy, float32 in PyTorch; an int array with a Python
float is float64 in NumPy, the default float dtype in PyTorch), so tapegrad
decides result dtypes here and casts before handing arrays to NumPy.
"""
import numpy as np

__all__ = [
    "dtype", "float32", "float64", "float16", "bfloat16", "int8", "int16", "int32",
    "int64", "uint8", "bool", "float", "double", "half", "long", "int", "short",
    "complex64", "cfloat", "get_default_dtype", "set_default_dtype", "promote_types",
    "result_type", "can_cast", "finfo", "iinfo",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float


class dtype:
    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_cat")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self._cat = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize if self.np is not None else 2

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return float32 if self is complex64 else self

    def to_complex(self):
        return complex64


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
float16 = dtype("float16", np.float16, 2)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool = dtype("bool", np.bool_, 0)
complex64 = dtype("complex64", np.complex64, 3)
float, double, half, long, int, short, cfloat = float32, float64, float16, int64, int32, int16, complex64

try:  # bfloat16 needs ml_dtypes' NumPy extension type
    import ml_dtypes as _ml

    bfloat16 = dtype("bfloat16", _ml.bfloat16, 2)
except ImportError:  # pragma: no cover - depends on the environment
    bfloat16 = dtype("bfloat16", None, 2)

_ALL = [float32, float64, float16, bfloat16, int8, int16, int32, int64, uint8, bool, complex64]
_BY_NP = {d.np: d for d in _ALL if d.np is not None}
_BY_NAME = {d.name: d for d in _ALL}


def _dtype_by_name(name):
    return _BY_NAME[name]


def _check_available(d):
    if d.np is None:
        raise RuntimeError(
            "tapegrad: torch.bfloat16 needs the optional package ml_dtypes "
            "(pip install ml_dtypes); it is not installed")
    return d


def from_numpy_dtype(np_dtype):
    """The tapegrad dtype of a NumPy dtype; TypeError for ones PyTorch lacks."""
    d = _BY_NP.get(np_dtype)
    if d is None:
        d = _BY_NP.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(
                f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).type.__name__}. The only "
                "supported types are: float64, float32, float16, complex64, int64, int32, "
                "int16, int8, uint8, and bool.")
    return d


def to_dtype(d):
    """Accept tapegrad dtypes, NumPy dtypes, Python types and names."""
    if d.__class__ is dtype:
        return _check_available(d)
    if d is None:
        return None
    if d is _builtin_float:
        return float64
    if d is _builtin_int:
        return int64
    if d is _builtin_bool:
        return bool
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        aliases = {"float": float32, "double": float64, "half": float16, "long": int64,
                   "int": int32, "short": int16}
        if name in aliases:
            return aliases[name]
        if name in _BY_NAME:
            return _check_available(_BY_NAME[name])
    return from_numpy_dtype(np.dtype(d))


_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(d):
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def promote_types(a, b):
    """PyTorch's promotion of two dtypes (torch.promote_types)."""
    if a is b and a.__class__ is dtype:
        return a
    try:
        ca, cb = a._cat, b._cat
    except AttributeError:
        i, bad = (1, a) if not isinstance(a, dtype) else (2, b)
        raise TypeError(f"promote_types(): argument 'type{i}' (position {i}) must be torch.dtype, not "
                        f"{type(bad).__name__}") from None
    if a is b:
        return a
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi.is_complex and lo is float64:
            return complex64  # tapegrad keeps only complex64
        return hi
    if ca == 2:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    return _BY_NP[np.promote_types(a.np, b.np)]


# ---------------------------------------------------------------- converting one number, as c10 does
# The names PyTorch's checked conversions print: c10::checked_convert in the fill path (torch.full,
# linspace's endpoints, ...) names the C++ type, the Python-data path (torch.tensor) the dtype.
_CPP_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
              "float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}
_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
              "float64": 1.7976931348623157e308}


_INT_RANGE = {n: (_builtin_int(np.iinfo(n).min), _builtin_int(np.iinfo(n).max))
              for n in ("uint8", "int8", "int16", "int32", "int64")}


def _overflow(name):
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def checked_scalar(value, d, cpp=True):
    """c10's checked_convert of one Python number (bool, int, float) to dtype `d`: the value stored, or
    RuntimeError where c10::overflows says it does not fit. Integers may wrap into unsigned types from
    as low as -max (uint8 takes -255..255); floats must lie within [lowest, max] of an integer type
    (NaN and inf never do); a float type takes inf and NaN but no finite value beyond its range."""
    if d is bool or d.is_complex:
        return value
    name = _CPP_NAMES.get(d.name, d.name) if cpp else d.name
    if d.is_floating_point:
        if isinstance(value, _builtin_int):  # bool included
            if abs(value) > _FLOAT_MAX[d.name]:
                raise _overflow(name)
            return value
        if value == value and abs(value) != _builtin_float("inf") and abs(value) > _FLOAT_MAX[d.name]:
            raise _overflow(name)
        return value
    lo, hi = _INT_RANGE[d.name]
    if isinstance(value, _builtin_float):
        # compared in double, as C++ does: INT64_MAX becomes 2**63, so 2.0**63 passes the check
        if value != value or value < _builtin_float(lo) or value > _builtin_float(hi):  # NaN, +-inf too
            raise _overflow(name)
        if value >= 2.0 ** 63:  # max of int64 as a double is 2**63: the x86 conversion gives INT64_MIN
            return lo
        return _builtin_int(value)
    value = _builtin_int(value)
    if value > hi or value < (-hi if lo == 0 else lo):
        raise _overflow(name)
    return value & hi if lo == 0 else value


def cast_array(arr, np_dtype):
    """arr.astype(np_dtype) as PyTorch casts: float64 reaches float16 through float32 (c10::Half is
    built from a float), so a double rounding NumPy's direct conversion does not make."""
    if np_dtype == np.float16 and arr.dtype == np.float64:
        with np.errstate(over="ignore"):
            return arr.astype(np.float32).astype(np.float16)
    return arr.astype(np_dtype)


def _scalar_dtype(x):
    """The dtype a Python number takes when it is a wrapped scalar."""
    if isinstance(x, _builtin_bool):
        return bool
    if isinstance(x, _builtin_int):
        return int64
    if isinstance(x, complex):
        return complex64
    return _default[0]


def _combine(higher, lower):
    # PyTorch's combine_categories: a higher-priority participant wins unless
    # a lower-priority one is of a higher category (bool < int < float).
    if higher is None:
        return lower
    if lower is None:
        return higher
    if lower._cat > higher._cat:  # float32 tensor with a complex scalar: complex64
        return promote_types(higher, lower)
    return higher


def result_type(*args):
    """torch.result_type over tensors and Python scalars.

    Dimensioned tensors take priority over 0-d tensors, which take priority
    over Python scalars, except where a lower-priority participant is of a
    higher category (an int tensor times 2.5 is float).
    """
    from ._tensor import Tensor

    dim = zero = wrapped = None
    for a in args:
        if isinstance(a, Tensor):
            d = a.dtype
            if a._data.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        elif isinstance(a, dtype):
            dim = a if dim is None else promote_types(dim, a)
        elif isinstance(a, (np.ndarray, np.generic)):
            d = from_numpy_dtype(a.dtype)
            zero = d if zero is None else promote_types(zero, d)
        else:
            d = _scalar_dtype(a)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


def can_cast(from_, to):
    """torch.can_cast: no float to int, no int/float to bool, no complex to real."""
    from_, to = to_dtype(from_), to_dtype(to)
    return from_._cat <= to._cat


class finfo:
    def __init__(self, type=None):
        d = type if type is bfloat16 else to_dtype(type) if type is not None else _default[0]
        if d is bfloat16:  # described without needing ml_dtypes
            self.bits, self.eps, self.max, self.min = 16, 0.0078125, 3.3895313892515355e38, -3.3895313892515355e38
            self.tiny = self.smallest_normal = 1.1754943508222875e-38
            self.resolution = 0.01
        else:
            fi = np.finfo(d.np)
            self.bits, self.eps = fi.bits, _builtin_float(fi.eps)
            self.max, self.min = _builtin_float(fi.max), _builtin_float(fi.min)
            self.tiny = self.smallest_normal = _builtin_float(fi.tiny)
            self.resolution = _builtin_float(fi.resolution)
        self.dtype = d.name


class iinfo:
    def __init__(self, type):
        d = to_dtype(type)
        ii = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = ii.bits, _builtin_int(ii.max), _builtin_int(ii.min), d.name
