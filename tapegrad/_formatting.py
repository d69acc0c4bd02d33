"""repr of tensors in PyTorch's style: tensor([1., 2.], dtype=torch.float64, requires_grad=True).

A port of torch/_tensor_str.py onto NumPy arrays: the same formatter choice (integer mode,
fixed or scientific notation from the range of the nonzero finite values), the same widths,
line breaking, summarisation with edge items, and the same suffixes.
"""
import math

import numpy as np

from . import _backend

_PRINT = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    if profile == "default":
        _PRINT.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _PRINT.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _PRINT.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _PRINT[k] = v
    _PRINT["sci_mode"] = sci_mode


def get_printoptions():
    return dict(_PRINT)


class _Formatter:
    """Chooses one format for all elements of an array (PyTorch's _Formatter)."""

    def __init__(self, arr):
        self.floating = arr.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        p = _PRINT["precision"]
        flat = arr.reshape(-1)
        if not self.floating:
            if flat.size:
                self.max_width = max(len(str(v)) for v in flat.tolist())
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)]
            if vals.size == 0:
                return  # PyTorch keeps fixed notation here, whatever sci_mode says
            absd = np.abs(vals).astype(np.float64)
            lo, hi = absd.min(), absd.max()
            values = vals.tolist()
            self.int_mode = bool(np.all(vals == np.ceil(vals)))
            sci = _PRINT["sci_mode"]
            self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci is None else bool(sci)
            if self.sci_mode:
                self.max_width = max(self.max_width, max(len(f"{v:.{p}e}") for v in values))
            elif self.int_mode:
                self.max_width = max(self.max_width, max(len(f"{v:.0f}") + 1 for v in values))
            else:
                self.max_width = max(self.max_width, max(len(f"{v:.{p}f}") for v in values))

    def width(self):
        return self.max_width

    def format(self, value):
        p = _PRINT["precision"]
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(arr):
    """The elements a summarised print shows (PyTorch's get_summarized_data)."""
    e = _PRINT["edgeitems"]
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        return np.concatenate((arr[:e], arr[-e:])) if arr.shape[0] > 2 * e else arr
    if not e:
        return np.empty((0,) * arr.ndim, dtype=arr.dtype)
    n = arr.shape[0]
    rows = list(range(e)) + list(range(n - e, n)) if n > 2 * e else range(n)
    return np.stack([_summarized(arr[i]) for i in rows])


def _complex_str(val, f1, f2):
    real_str = f1.format(val.real)
    imag_str = (f2.format(val.imag) + "j").lstrip()
    return real_str + imag_str if imag_str[0] in "+-" else real_str + "+" + imag_str


def _val(val, f1, f2):
    return f1.format(val) if f2 is None else _complex_str(val, f1, f2)


def _vector_str(arr, indent, summarize, f1, f2):
    element_length = f1.width() + 2 + (f2.width() + 1 if f2 is not None else 0)
    per_line = max(1, int(math.floor((_PRINT["linewidth"] - indent) / element_length)))
    e = _PRINT["edgeitems"]
    if summarize and not e:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * e:
        data = ([_val(v, f1, f2) for v in arr[:e].tolist()] + [" ..."] +
                [_val(v, f1, f2) for v in arr[-e:].tolist()])
    else:
        data = [_val(v, f1, f2) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _str_with_formatter(arr, indent, summarize, f1, f2=None):
    dim = arr.ndim
    if dim == 0:
        return _val(arr.item(), f1, f2)
    if dim == 1:
        return _vector_str(arr, indent, summarize, f1, f2)
    e = _PRINT["edgeitems"]
    n = arr.shape[0]
    if summarize and n > 2 * e:
        slices = ([_str_with_formatter(arr[i], indent + 1, summarize, f1, f2) for i in range(e)] + ["..."] +
                  [_str_with_formatter(arr[i], indent + 1, summarize, f1, f2) for i in range(n - e, n)])
    else:
        slices = [_str_with_formatter(arr[i], indent + 1, summarize, f1, f2) for i in range(n)]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(arr, indent):
    summarize = arr.size > _PRINT["threshold"]
    if arr.dtype.kind == "f" and arr.dtype.itemsize < 4 or arr.dtype.name == "bfloat16":
        arr = arr.astype(np.float32)
    if arr.dtype.kind == "c":
        re, im = arr.real, arr.imag
        f1 = _Formatter(_summarized(re) if summarize else re)
        f2 = _Formatter(_summarized(im) if summarize else im)
        return _str_with_formatter(arr, indent, summarize, f1, f2)
    return _str_with_formatter(arr, indent, summarize, _Formatter(_summarized(arr) if summarize else arr))


def _add_suffixes(tensor_str, suffixes, indent):
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _PRINT["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t):
    from ._dtype import complex64, get_default_dtype

    prefix = "tensor("
    indent = len(prefix)
    arr = _backend.to_numpy_array(t._data)
    dt, default = t.dtype, get_default_dtype()
    suffixes = []
    if not t.is_cpu:
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if not _PRINT["edgeitems"]:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt.name not in (default.name, "int64", "bool") and not (dt is complex64 and default.name == "float32"):
            suffixes.append(f"dtype={dt!r}")
        body = _tensor_str(arr, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name().rsplit('::', 1)[-1]}>")  # torch::autograd::Error: <Error>
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
