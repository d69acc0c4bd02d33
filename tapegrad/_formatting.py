"""repr of tensors in PyTorch's style: tensor([1., 2.], dtype=torch.float64, requires_grad=True)."""
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
        _PRINT.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _PRINT[k] = v
    _PRINT["sci_mode"] = sci_mode


def _float_formatter(arr):
    p = _PRINT["precision"]
    finite = arr[np.isfinite(arr)].astype(np.float64)
    nonzero = np.abs(finite[finite != 0])
    if finite.size == 0:
        return lambda v: f"{v}"
    if np.all(finite == np.round(finite)) and (nonzero.size == 0 or nonzero.max() < 1e8):
        return lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v}"
    sci = _PRINT["sci_mode"]
    if sci is None:
        sci = nonzero.size > 0 and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8
                                    or nonzero.min() < 1e-4)
    if sci:
        return lambda v: f"{v:.{p}e}" if np.isfinite(v) else f"{v}"
    return lambda v: f"{v:.{p}f}" if np.isfinite(v) else f"{v}"


def _body(arr):
    if arr.dtype.kind == "b":
        fmt = {"bool": lambda v: "True" if v else "False"}
    elif arr.dtype.kind in "iu":
        fmt = {"int": str}
    elif arr.dtype.kind == "c":
        fmt = {"complex_kind": lambda v: f"{v.real:.4f}{v.imag:+.4f}j"}
    else:
        f = _float_formatter(arr.astype(np.float64) if arr.dtype.name == "bfloat16" else arr)
        fmt = {"float_kind": f}
        if arr.dtype.name == "bfloat16":
            arr = arr.astype(np.float32)
    (kind, f), = fmt.items()
    shown = _shown(arr)
    width = max((len(f(v)) for v in shown.flat), default=0)
    fmt = {kind: lambda v: f(v).rjust(width)}
    return np.array2string(arr, separator=", ", formatter=fmt, threshold=_PRINT["threshold"],
                           edgeitems=_PRINT["edgeitems"], max_line_width=_PRINT["linewidth"],
                           prefix="tensor(")


def _shown(arr):
    """The elements a summarised print shows (edge items of each dimension)."""
    if arr.size <= _PRINT["threshold"]:
        return arr
    e = _PRINT["edgeitems"]
    for ax in range(arr.ndim):
        if arr.shape[ax] > 2 * e:
            arr = np.concatenate([np.take(arr, range(e), axis=ax), np.take(arr, range(arr.shape[ax] - e,
                                                                                    arr.shape[ax]), axis=ax)], ax)
    return arr


_IMPLICIT = {"float32", "int64", "bool"}


def tensor_repr(t):
    arr = _backend.to_numpy_array(t._data)
    suffix = []
    if not t.is_cpu:
        suffix.append(f"device='{t.device}'")
    if arr.size == 0:
        body = "[]"
        if arr.shape != (0,):
            suffix.append(f"size={tuple(arr.shape)}")
    else:
        body = _body(arr)
    dt = t.dtype
    if dt.name not in _IMPLICIT or (dt.is_floating_point and dt.name != _default_name()):
        suffix.append(f"dtype={dt!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"


def _default_name():
    from ._dtype import get_default_dtype

    return get_default_dtype().name
