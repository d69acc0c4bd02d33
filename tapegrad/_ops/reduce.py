"""Reductions: sum, mean, prod, var/std, max/min and their arg- and a- forms, median, mode, logsumexp,
cumulative sums and products, norms, softmax and log_softmax, all/any."""
import collections
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _type_name, _wrap_dim, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function, _named

__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "var", "std", "var_mean", "std_mean", "max", "min",
           "amax", "amin", "aminmax", "argmax", "argmin", "logsumexp", "cumsum", "cumprod", "cummax", "cummin",
           "norm", "softmax", "log_softmax", "all", "any", "count_nonzero", "sum_to_shape", "median", "mode",
           "logcumsumexp"]

_builtin_sum, _builtin_max, _builtin_min, _builtin_all, _builtin_any = sum, max, min, all, any
_QUIET = dict(divide="ignore", invalid="ignore")  # 0/0 and x/0 give PyTorch's nan/inf silently


def _dims(dim, ndim, op):
    """Normalise `dim` (None, int, or sequence) to a sorted tuple of axes, or None for all.
    A 0-d tensor accepts dim 0 or -1 and reduces nothing: ()."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        axes = tuple(sorted(_wrap_dim(int(d), ndim, op) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}: dim {axes[0]} appears multiple times in the list of dims")
    else:
        axes = (_wrap_dim(int(dim), ndim, op),)
    return axes if ndim else ()


def _kept_shape(shape, axes):
    """The shape a keepdim=True reduction over `axes` gives."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if not grad_mode.GRAD[0]:  # no graph of the backward wanted: work on the arrays
        d = g._data
        if axes is None and d.ndim == 0 and d.__class__ is np.ndarray:  # a full reduction (loss.sum())
            out = np.empty(shape, d.dtype)
            if out.size > 65536:
                return Tensor._make(np.broadcast_to(d, shape))  # large: a read-only broadcast view, no copy
            out.fill(d)
            return Tensor._make(out)
        if not keepdim and d.ndim != len(shape):
            d = d.reshape(_kept_shape(shape, axes))
        if d.size * _numel(shape, axes) > 65536:
            return Tensor._make(np.broadcast_to(d, shape))  # large: a read-only broadcast view, no copy
        out = np.empty(shape, d.dtype)
        out[...] = d
        return Tensor._make(out)
    if not keepdim and g._data.ndim != len(shape):
        g = g.reshape(_kept_shape(shape, axes))
    return g.expand(shape)


_add_reduce, _asarray, _new, _empty = np.add.reduce, np.asarray, object.__new__, np.empty


def _full_sum(x, np_dtype=None):
    """The sum of all of NumPy array x as a 0-d array: reduced straight into one (the same bits as
    np.asarray(x.sum()), without the intermediate NumPy scalar)."""
    return _add_reduce(x, None, np_dtype, _empty((), np_dtype or x.dtype))


def _np_axis(axes):
    return axes if axes is None or len(axes) != 1 else axes[0]


def _numel(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def _along(n, axis, ndim):
    """arange(n) shaped to broadcast along `axis` of an ndim-array."""
    return np.arange(n).reshape((1,) * axis + (n,) + (1,) * (ndim - axis - 1))


def _const(arr):
    return Tensor._make(arr)


# ---------------------------------------------------------------- sum / mean
class Sum(Function):
    _unary = True

    def name(self):  # PyTorch's two overloads, sum() and sum(dim)
        return "SumBackward0" if self.__dict__.get("axes") is None else "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if axes is None:  # x.sum's own ufunc, called directly, into a 0-d array (not a NumPy scalar)
            if not keepdim and x.__class__ is np.ndarray:
                return _full_sum(x, np_dtype)
            return _asarray(_add_reduce(x, None, np_dtype, None, keepdim))
        return _add_reduce(x, _np_axis(axes), np_dtype, None, keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    if x._data.dtype.kind in "biu":
        return np.int64  # PyTorch sums integers and bools in int64
    return None


@tensor_method
def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if dim is None and axis is None and dtype is None and input._data.dtype.kind in "fc":
        if not (input._rg and grad_mode.GRAD[0]) and input._data.__class__ is np.ndarray:  # nothing to record
            t = _new(Tensor)  # Tensor._make(...), inlined
            t._data = _full_sum(input._data) if not keepdim else _add_reduce(input._data, None, None, None, True)
            t._rg, t.grad_fn, t._vc = False, None, None
            return t
        return Sum.apply(input, None, keepdim, None)  # the common loss.sum(): nothing to normalise
    if axis is not None:
        dim = axis
    axes = _dims(dim, input._data.ndim, "sum")
    return Sum.apply(input, axes, keepdim, _sum_dtype(input, dtype))


class Nansum(Function):
    """sum with NaNs counted as zero; the gradient is zero where the input is NaN (PyTorch's nansum_backward)."""

    _unary = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.dtype.kind in "fc":
            ctx.save_for_backward(x)
            x = np.where(np.isnan(x), x.dtype.type(0), x)
        return _asarray(_add_reduce(x, _np_axis(axes), np_dtype, None, keepdim))

    @staticmethod
    def backward(ctx, g):
        from .elementwise import isnan, where

        (x,) = ctx.saved_tensors
        return where(isnan(x), 0.0, _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)), None, None, None


@tensor_method
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    axes = _dims(dim, input._data.ndim, "nansum")
    return Nansum.apply(input, axes, keepdim, _sum_dtype(input, dtype))


class Mean(Function):
    _unary = True

    def name(self):  # PyTorch's two overloads, mean() and mean(dim)
        return "MeanBackward0" if self.__dict__.get("axes") is None else "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        n = _numel(x.shape, axes)
        ctx.shape, ctx.axes, ctx.keepdim, ctx.n = x.shape, axes, keepdim, n
        out = _add_reduce(x, _np_axis(axes), np_dtype, None, keepdim)
        if n:
            return out / out.dtype.type(n)
        with np.errstate(**_QUIET):
            return out / out.dtype.type(n)  # the mean of nothing is nan, as in PyTorch

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g / ctx.n if ctx.n else g, ctx.shape, ctx.axes, ctx.keepdim)


@tensor_method
def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is None and not input.is_floating_point() and not input.is_complex():
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {_type_name(input._data.dtype)}")
    axes = _dims(dim, input._data.ndim, "mean")
    return Mean.apply(input, axes, keepdim, _dtype.to_dtype(dtype).np if dtype is not None else None)


@tensor_method
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import isnan, logical_not

    keep = logical_not(isnan(input))
    return nansum(input, dim, keepdim, dtype=dtype) / sum(keep, dim, keepdim).to(input.dtype)


class SumToShape(Function):
    """Reduce a broadcast gradient back to `shape` (the inverse of expand)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        lead = x.ndim - len(shape)
        if lead < 0:
            raise ValueError("cannot sum to a shape of higher rank")
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
        for i, s in enumerate(shape):
            if s != 1 and x.shape[i + lead] != s:
                raise ValueError("shape mismatch")
        out = x.sum(axis=axes) if axes else x
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.expand(ctx.shape), None


def sum_to_shape(x, shape):
    if tuple(x._data.shape) == tuple(shape):
        return x
    return SumToShape.apply(x, tuple(shape))


# ---------------------------------------------------------------- prod
class Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim, np_dtype):
        y = x.prod(axis=axis, keepdims=keepdim, dtype=np_dtype)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        axes = None if ctx.axis is None else (ctx.axis,)
        gk = _expand_back(g, ctx.shape, axes, ctx.keepdim)
        if x._data.size == 0:
            return gk, None, None, None
        if not (x._data == 0).any():
            return gk * _expand_back(y, ctx.shape, axes, ctx.keepdim) / x, None, None, None
        # zeros present: the product of all other elements, from exclusive cumprods on both sides
        from .movement import cat

        flat = ctx.axis is None
        xa, a = (x.reshape(-1), 0) if flat else (x, ctx.axis)
        n = xa.shape[a]
        one = xa.new_ones(_kept_shape(xa.shape, (a,)))
        left = cat([one, cumprod(xa.narrow(a, 0, n - 1), a)], a)
        right = cat([cumprod(xa.narrow(a, 1, n - 1).flip(a), a).flip(a), one], a)
        others = left * right
        return gk * (others.reshape(ctx.shape) if flat else others), None, None, None


class _ProdDim(Prod):  # prod(dim): PyTorch's second overload
    pass


_ProdDim._backward_name = "ProdBackward1"


@tensor_method
def prod(input, dim=None, keepdim=False, *, dtype=None):
    axis = None if dim is None or input._data.ndim == 0 else _wrap_dim(dim, input._data.ndim, "prod")
    if axis is None and dim is not None:  # 0-d along dim 0: keepdim changes nothing
        keepdim = False
    return (Prod if dim is None else _ProdDim).apply(input, axis, keepdim, _sum_dtype(input, dtype))


# ---------------------------------------------------------------- cumulative
def _scan_axis(input, dim, name):
    nd = input._data.ndim
    return _wrap_dim(dim, nd, name) if nd else None


class Cumsum(Function):
    """Cumulative sum along `axis`, or from the end when `reverse`; the two are each other's adjoint."""

    @staticmethod
    def forward(ctx, x, axis, np_dtype, reverse=False):
        ctx.axis, ctx.reverse = axis, reverse
        if axis is None:  # 0-d
            return x.astype(np_dtype or x.dtype)
        if reverse:
            return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=np_dtype), axis).copy()
        return np.cumsum(x, axis=axis, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.axis is None:
            return g, None, None, None
        return Cumsum.apply(g, ctx.axis, None, not ctx.reverse), None, None, None


@tensor_method
def cumsum(input, dim, *, dtype=None):
    return Cumsum.apply(input, _scan_axis(input, dim, "cumsum"), _sum_dtype(input, dtype))


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis, np_dtype):
        y = x.astype(np_dtype or x.dtype) if axis is None else np.cumprod(x, axis=axis, dtype=np_dtype)
        ctx.axis = axis
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        a = ctx.axis
        if a is None or x._data.size == 0:
            return g, None, None
        # d y_k / d x_i = prod_{j <= k, j != i} x_j; summed over k >= i it is rcumsum(g * y) / x where x != 0
        rcum = Cumsum.apply(g * y, a, None, True)
        xd = x._data
        zero = xd == 0
        if not zero.any():
            return rcum / x, None, None
        from .elementwise import where

        n = xd.shape[a]
        if grad_mode.GRAD[0]:
            # a second derivative is wanted: the O(n^2) formula, right for every x (PyTorch does the same):
            # C[i, k] = prod_{j <= k, j != i} x_j, and dx_i = sum_{k >= i} g_k C[i, k]
            i_k = (1,) * a + (n, n) + (1,) * (xd.ndim - a - 1)
            eye, upper = np.eye(n, dtype=bool).reshape(i_k), np.triu(np.ones((n, n), bool)).reshape(i_k)
            c = cumprod(where(_const(eye), 1.0, x.unsqueeze(a)), a + 1)
            return sum(where(_const(upper), g.unsqueeze(a) * c, 0.0), (a + 1,)), None, None
        # with zeros, only positions up to each slice's first zero z get a gradient: before z the formula
        # above (x != 0 there); at z, the sum over k >= z of g_k * cumprod(x with x_z := 1)_k
        pos = _along(n, a, xd.ndim)
        z = np.where(zero, pos, n).min(axis=a, keepdims=True)
        before, at = _const(pos < z), _const(pos == z)
        before_part = where(before, rcum / where(before, x, 1.0), 0.0)
        y1 = cumprod(where(at, 1.0, x), a)
        at_z = sum(where(_const(pos >= z), g * y1, 0.0), (a,), keepdim=True)
        return before_part + where(at, at_z, 0.0), None, None


@tensor_method
def cumprod(input, dim, *, dtype=None):
    return Cumprod.apply(input, _scan_axis(input, dim, "cumprod"), _sum_dtype(input, dtype))


def _cum_extreme(input, dim, is_max, name):
    """cummax/cummin: the running extreme and the index of its last occurrence (NaN wins, as in PyTorch)."""
    x = input._data
    if x.ndim == 0:
        return _ReturnTypes[name](_picked(name, input), _const(np.zeros((), np.int64)))
    a = _wrap_dim(dim, x.ndim, name)
    vals = (np.maximum if is_max else np.minimum).accumulate(x, axis=a)
    hit = x == vals
    if x.dtype.kind == "f":
        hit |= np.isnan(x)
    pos = _along(x.shape[a], a, x.ndim)
    indices = _const(np.maximum.accumulate(np.where(hit, pos, 0), axis=a))
    return _ReturnTypes[name](_picked(name, input, a, indices, True), indices)


@tensor_method
def cummax(input, dim):
    return _cum_extreme(input, dim, True, "cummax")


@tensor_method
def cummin(input, dim):
    return _cum_extreme(input, dim, False, "cummin")


class LogCumSumExp(Function):
    """log(cumsum(exp(x))) without overflow, by a running logaddexp; `reverse` scans from the end."""

    @staticmethod
    def forward(ctx, x, axis, reverse=False):
        ctx.axis, ctx.reverse = axis, reverse
        if axis is None:
            return x.copy()
        if reverse:
            y = np.flip(np.logaddexp.accumulate(np.flip(x, axis), axis=axis), axis).copy()
        else:
            y = np.logaddexp.accumulate(x, axis=axis)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a = ctx.axis
        if a is None:
            return g, None, None
        x, y = ctx.saved_tensors
        from .elementwise import exp, log, where

        # PyTorch's formula: the gradient's positive and negative parts, each in log space
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_abs = log(g.abs())
            lowest = float(np.finfo(g._data.dtype).min)
            rev = not ctx.reverse
            pos = exp(LogCumSumExp.apply(where(g > 0, log_abs, lowest) - y, a, rev) + x)
            neg = exp(LogCumSumExp.apply(where(g < 0, log_abs, lowest) - y, a, rev) + x)
            return pos - neg, None, None


LogCumSumExp._backward_name = "LogcumsumexpBackward0"


@tensor_method
def logcumsumexp(input, dim):
    if not input.is_floating_point():
        input = input.to(_dtype.get_default_dtype())
    with np.errstate(**_QUIET):
        return LogCumSumExp.apply(input, _scan_axis(input, dim, "logcumsumexp"))


# ---------------------------------------------------------------- max / min
def _return_type(name, fields=("values", "indices")):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n" +
                                 ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")")
    return cls


_ReturnTypes = {n: _return_type(n) for n in ("max", "min", "median", "nanmedian", "mode", "kthvalue", "sort",
                                             "topk", "cummax", "cummin")}
_ReturnTypes["aminmax"] = _return_type("aminmax", ("min", "max"))


def _lower_median(x, axis=None, keepdims=False):
    """PyTorch's median of everything: the lower middle value; NaN if there is one."""
    flat = x.reshape(-1)
    if flat.size == 0:
        return np.full((1,) * x.ndim if keepdims else (), np.nan, x.dtype)
    k = (flat.size - 1) // 2
    v = np.partition(flat, k)[k]
    if x.dtype.kind == "f" and np.isnan(flat).any():
        v = x.dtype.type(np.nan)
    return np.reshape(v, (1,) * x.ndim) if keepdims else np.asarray(v)


class Extreme(Function):
    """amax/amin, max()/min() and median() without dim: the gradient is shared evenly among the
    elements equal to the result (NaN ones too when the result is NaN), as in PyTorch."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, fn):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = fn(x, axis=_np_axis(axes), keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    _nan_hits = True  # a NaN result's gradient goes to the NaN elements (evenly_distribute_backward)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        yk = _expand_back(y, ctx.shape, ctx.axes, ctx.keepdim)._data
        hit = x._data == yk
        if ctx._nan_hits and x._data.dtype.kind == "f":
            hit |= np.isnan(x._data) & np.isnan(yk)
        dt = x._data.dtype
        count = _const(hit.sum(axis=_np_axis(ctx.axes), keepdims=True).astype(dt))
        # PyTorch's order, grad / count * mask; amax/amin count no NaN, so a NaN result gives NaN gradients
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim) / count * _const(hit.astype(dt)), None, None, None


# Extreme under PyTorch's names for the calls that make it
class Amax(Extreme):  # amax/amin/aminmax: scale_grad_by_count with mask result == input (NaN never equal)
    _nan_hits = False


class Amin(Extreme):
    _nan_hits = False


class Aminmax(Extreme):  # both outputs of aminmax (one node in PyTorch, two here)
    _nan_hits = False


class _MaxAll(Extreme):  # max(), min(): PyTorch's second overloads (max(dim) is the first)
    pass


class _MinAll(Extreme):
    pass


class Median(Extreme):  # median() (median(dim): MedianBackward1)
    pass


_MaxAll._backward_name, _MinAll._backward_name = "MaxBackward1", "MinBackward1"


class _Picked(Function):
    """The values a value-selecting reduction (max/min/median/mode/kthvalue along a dim, sort, topk,
    cummax/cummin) picks from `x` at `index` (keepdim layout) along `axis`, squeezed unless `keepdim`; a copy
    of a 0-d `x` (axis None). Gather's forward and backward (each value's gradient goes back to the element
    it came from), as one node named as PyTorch's (_picked names it)."""

    @staticmethod
    def forward(ctx, x, axis=None, index=None, keepdim=True):
        if axis is None:
            return x.copy()
        from .indexing import Gather

        ctx.keepdim = keepdim
        y = Gather.forward(ctx, x, axis, index)
        return y if keepdim else y.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        axis = ctx.__dict__.get("axis")
        if axis is None:
            return g, None, None, None
        from .indexing import Gather

        return Gather.backward(ctx, g if ctx.keepdim else g.unsqueeze(axis))[0], None, None, None


_PICKED_NAMES = {"max": "MaxBackward0", "min": "MinBackward0", "median": "MedianBackward1", "mode": "ModeBackward0",
                 "kthvalue": "KthvalueBackward0", "sort": "SortBackward0", "topk": "TopkBackward0",
                 "cummax": "CummaxBackward0", "cummin": "CumminBackward0"}


def _picked(op, input, axis=None, index=None, keepdim=True):
    """_Picked, its node named as PyTorch names op's; `index` an integer array or Tensor (keepdim layout)."""
    if axis is not None and not isinstance(index, Tensor):
        index = _const(np.ascontiguousarray(index, dtype=np.int64))
    return _named(_Picked.apply(input, axis, index, keepdim), _PICKED_NAMES[op])


def _check_nonempty(input, axes, op):
    shape = input._data.shape
    if input._data.size:
        return
    if axes is None:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    for a in axes:
        if shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


def _amax_amin(input, dim, keepdim, fn, op, cls):
    axes = _dims(dim, input._data.ndim, op)
    _check_nonempty(input, axes, op)
    return cls.apply(input, axes, keepdim, fn)


@tensor_method
def amax(input, dim=(), keepdim=False):
    return _amax_amin(input, dim, keepdim, np.max, "amax", Amax)


@tensor_method
def amin(input, dim=(), keepdim=False):
    return _amax_amin(input, dim, keepdim, np.min, "amin", Amin)


@tensor_method
def aminmax(input, *, dim=None, keepdim=False):
    d = dim if dim is not None else ()
    return _ReturnTypes["aminmax"](_amax_amin(input, d, keepdim, np.min, "amin", Aminmax),
                                   _amax_amin(input, d, keepdim, np.max, "amax", Aminmax))


def _select_along(input, axis, idx, keepdim, name):
    """(values, indices) of a value-selecting reduction: `idx` (keepdim layout) picks along `axis`;
    the gradient goes to the picked elements (gather's backward)."""
    idx = _const(idx.astype(np.int64, copy=False))
    vals = _picked(name, input, axis, idx, keepdim)
    if not keepdim:
        idx = idx.squeeze(axis)
    return _ReturnTypes[name](vals, idx)


def _reduce_dim(input, dim, name):
    """The axis of a single-dim value-selecting reduction, or None for a 0-d input; PyTorch's errors."""
    x = input._data
    axis = _wrap_dim(dim, x.ndim, name)
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    return axis if x.ndim else None


def _max_min(input, dim, keepdim, other, is_max):
    name = "max" if is_max else "min"
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        from .elementwise import maximum, minimum

        return (maximum if is_max else minimum)(input, other)
    if dim is None:
        _check_nonempty(input, None, name)
        return (_MaxAll if is_max else _MinAll).apply(input, None, False, np.max if is_max else np.min)
    axis = _reduce_dim(input, dim, name)
    if axis is None:
        return _ReturnTypes[name](_picked(name, input), _const(np.zeros((), np.int64)))
    # the first extreme (NumPy's arg functions return the first occurrence, and the first NaN)
    idx = (np.argmax if is_max else np.argmin)(input._data, axis=axis, keepdims=True)
    return _select_along(input, axis, idx, keepdim, name)


@tensor_method
def max(input, dim=None, keepdim=False, *, other=None):
    return _max_min(input, dim, keepdim, other, True)


@tensor_method
def min(input, dim=None, keepdim=False, *, other=None):
    return _max_min(input, dim, keepdim, other, False)


def _arg(input, dim, keepdim, fn, name):
    x = input._data
    if x.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = np.asarray(fn(x.reshape(-1)), dtype=np.int64)
        return _const(r.reshape((1,) * x.ndim) if keepdim else r)
    axis = _reduce_dim(input, dim, name)
    if axis is None:
        return _const(np.zeros((), np.int64))
    return _const(np.asarray(fn(x, axis=axis, keepdims=keepdim), dtype=np.int64))


@tensor_method
def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, np.argmax, "argmax")


@tensor_method
def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, np.argmin, "argmin")


@tensor_method
def median(input, dim=None, keepdim=False):
    """PyTorch's median: the lower of the two middle values, not their mean; NaN if there is one."""
    if input._data.dtype.kind == "b":
        raise NotImplementedError(f'"{"median_cpu" if dim is None else "median_out"}" not implemented for \'Bool\'')
    if dim is None:
        return Median.apply(input, None, False, _lower_median)
    axis = _reduce_dim(input, dim, "median")
    x = input._data
    if axis is None:
        return _ReturnTypes["median"](_picked("median", input), _const(np.zeros((), np.int64)))
    k = (x.shape[axis] - 1) // 2
    # PyTorch's index among equal values is the one a stable sort puts in the middle
    idx = np.take(np.argsort(x, axis=axis, kind="stable"), [k], axis=axis)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        idx = np.where(nan.any(axis=axis, keepdims=True), nan.argmax(axis=axis, keepdims=True), idx)
    return _select_along(input, axis, idx, keepdim, "median")


@tensor_method
def mode(input, dim=-1, keepdim=False):
    """The most frequent value (the smallest of equally frequent ones) and the index of its last occurrence."""
    axis = _reduce_dim(input, dim, "mode")
    if axis is None:
        return _ReturnTypes["mode"](_picked("mode", input), _const(np.zeros((), np.int64)))
    x = np.moveaxis(input._data, axis, -1)
    n = x.shape[-1]
    s = np.sort(x, axis=-1)
    new_run = np.ones(s.shape, bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    pos = np.arange(n)
    run_len = pos - np.maximum.accumulate(np.where(new_run, pos, 0), axis=-1) + 1
    best = np.take_along_axis(s, run_len.argmax(axis=-1)[..., None], -1)  # the first run reaching the top count
    last = n - 1 - (x == best)[..., ::-1].argmax(axis=-1)
    return _select_along(input, axis, np.expand_dims(last, axis), keepdim, "mode")


# ---------------------------------------------------------------- var / std
def _var_forward(ctx, x, axes, correction, keepdim):
    n = _numel(x.shape, axes)
    ctx.shape, ctx.axes, ctx.keepdim, ctx.n, ctx.correction = x.shape, axes, keepdim, n, correction
    div = _builtin_max(n - correction, 0)
    ax = _np_axis(axes)
    with np.errstate(**_QUIET):
        d = x - x.sum(axis=ax, keepdims=True) / x.dtype.type(n)
        d *= d
        return d.sum(axis=ax, keepdims=keepdim) / x.dtype.type(div)


def _var_backward(ctx, g, x):
    """PyTorch's var_backward: (2 / (n - correction)) * grad * (x - mean); with no dim (or a 0-d input) and
    n - correction <= 0 the gradient is grad * (NaN where x equals the mean, else inf)."""
    from .elementwise import where

    axes, dof = ctx.axes, ctx.n - ctx.correction
    g = _expand_back(g, ctx.shape, axes, ctx.keepdim)
    if axes is None or not axes:  # all of a tensor (or a 0-d one), reduced without a dim
        centred = x - mean(x)
        if dof <= 0:
            return g * where(centred == 0, float("nan"), float("inf"))
        return g * (2.0 / dof) * centred
    scale = 2.0 / dof if dof else float("inf")
    return g * scale * (x - mean(x, axes, keepdim=True))


class Var(Function):
    """Variance with `correction` (Bessel's by default); the divisor is max(n - correction, 0)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        return _var_forward(ctx, x, axes, correction, keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _var_backward(ctx, g, x), None, None, None


class Std(Function):
    """The square root of Var, one node as in PyTorch: its gradient is 0 where the result is 0 (std_backward)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        y = np.sqrt(_var_forward(ctx, x, axes, correction, keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        from .elementwise import where

        x, y = ctx.saved_tensors
        return _var_backward(ctx, where(y == 0, 0.0, g / (y * 2)), x), None, None, None


def _var(input, dim, unbiased, keepdim, correction, op, cls=Var):
    if isinstance(dim, bool):  # var(input, unbiased)
        unbiased, dim = dim, None
    if not (input.is_floating_point() or input.is_complex()):
        what = op if op in ("var_mean", "std_mean") else "std and var"
        raise RuntimeError(f"{what} only support floating point and complex dtypes, got "
                           f"{_type_name(input._data.dtype)}")
    c = correction if correction is not None else (0 if unbiased is not None and not unbiased else 1)
    shape = input._data.shape
    axes = _dims(dim, len(shape), op)
    n = _numel(shape, axes)
    kept = 1 if axes is None else _numel(shape, tuple(i for i in range(len(shape)) if i not in axes))
    if (n if kept else 0) - c <= 0:  # PyTorch's warning: input numel / output numel - correction <= 0
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    return cls.apply(input, axes, c, keepdim), dim


@tensor_method
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var(input, dim, unbiased, keepdim, correction, "var")[0]


@tensor_method
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var(input, dim, unbiased, keepdim, correction, "std", Std)[0]


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    v, dim = _var(input, dim, unbiased, keepdim, correction, "var_mean")
    return v, mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    v, dim = _var(input, dim, unbiased, keepdim, correction, "std_mean", Std)
    return v, mean(input, dim, keepdim)


# ---------------------------------------------------------------- logsumexp / softmax
class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ax = _np_axis(axes)
        m = np.asarray(x.max(axis=ax, keepdims=True)) if x.size else np.zeros(_kept_shape(x.shape, axes), x.dtype)
        m[~np.isfinite(m)] = 0  # all -inf (or an inf) in a slice: no shift
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(x - m).sum(axis=ax, keepdims=True)) + m
        out = out if keepdim else out.reshape(_reduced_shape(x.shape, axes))
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        from .elementwise import exp

        x, out = ctx.saved_tensors
        shape, axes, kd = ctx.shape, ctx.axes, ctx.keepdim
        return _expand_back(g, shape, axes, kd) * exp(x - _expand_back(out, shape, axes, kd)), None, None


LogSumExp._backward_name = "LogsumexpBackward0"


def _reduced_shape(shape, axes):
    return () if axes is None else tuple(s for i, s in enumerate(shape) if i not in axes)


@tensor_method
def logsumexp(input, dim, keepdim=False):
    if not input.is_floating_point():
        input = input.to(_dtype.get_default_dtype())
    return LogSumExp.apply(input, _dims(dim, input._data.ndim, "logsumexp"), keepdim)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        if x.size == 0:
            e = x.copy()
        else:
            e = x - x.max(axis=axis, keepdims=True)
            np.exp(e, out=e)
            e /= e.sum(axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        return gy - y * sum(gy, (ctx.axis,), True), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        if x.size == 0:
            y = x.copy()
        else:
            y = x - x.max(axis=axis, keepdims=True)
            y -= np.log(np.exp(y).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        from .elementwise import exp

        return g - exp(y) * sum(g, (ctx.axis,), True), None


def _softmax(fn, input, dim, dtype, name):
    if dtype is not None:
        input = input.to(dtype)
    if not input.is_floating_point():
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{_type_name(input._data.dtype)}'")
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1  # PyTorch's legacy implicit-dim choice
    axis = _wrap_dim(dim, input._data.ndim, name)
    if input._data.ndim == 0:
        return fn.apply(input.reshape(1), 0).reshape(())
    return fn.apply(input, axis)


@tensor_method
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    return _softmax(Softmax, input, dim, dtype, "softmax")


@tensor_method
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    return _softmax(LogSoftmax, input, dim, dtype, "log_softmax")


# ---------------------------------------------------------------- norm
class VectorNorm(Function):
    """The vector p-norm over `axes`, with PyTorch's subgradients (0 where the norm is 0, the
    gradient of the inf-norm shared among tied maxima)."""

    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        ax = _np_axis(axes)
        a = x if ord == 2 and x.dtype.kind != "c" else np.abs(x)
        if ord == 2:
            out = np.sqrt((a * a).sum(axis=ax, keepdims=keepdim))
        elif ord == 1:
            out = a.sum(axis=ax, keepdims=keepdim)
        elif ord == float("inf"):
            out = a.max(axis=ax, keepdims=keepdim)
        elif ord == -float("inf"):
            out = a.min(axis=ax, keepdims=keepdim)
        elif ord == 0:
            out = (a != 0).sum(axis=ax, keepdims=keepdim, dtype=a.dtype)
        else:
            with np.errstate(divide="ignore"):
                out = ((a ** a.dtype.type(ord)).sum(axis=ax, keepdims=keepdim)) ** a.dtype.type(1.0 / ord)
        out = np.asarray(out, dtype=a.dtype)
        ctx.shape, ctx.axes, ctx.keepdim, ctx.ord = x.shape, axes, keepdim, ord
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        p = ctx.ord
        if p == 0:
            return None, None, None, None  # PyTorch's gradient is undefined (zero)
        from .elementwise import sign, where

        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        norm = _expand_back(norm, ctx.shape, ctx.axes, ctx.keepdim)
        if p == 1:
            return sign(x) * g, None, None, None
        if p in (float("inf"), -float("inf")):
            ax = x.abs()
            hit = ((ax == norm) | ax.isnan()).to(g.dtype)
            return sign(x) * ((g / sum(hit, ctx.axes, True)) * hit), None, None, None
        zero = norm == 0
        safe = where(zero, 1.0, norm)  # no 0/0 warnings: the result there is 0 anyway
        if p == 2:
            return where(zero, 0.0, g * (x / safe)), None, None, None
        if p < 1:  # |x|^(p-1) is infinite at 0: PyTorch masks it to 0 there
            return sign(x) * where(x == 0, 0.0, x.abs() ** (p - 1)) * g * norm ** (1 - p), None, None, None
        scale = where(zero, 0.0, g / safe ** (p - 1))
        if p < 2:
            return sign(x) * x.abs() ** (p - 1) * scale, None, None, None
        return x * x.abs() ** (p - 2) * scale, None, None, None


VectorNorm._backward_name = "LinalgVectorNormBackward0"


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(x._data.dtype)}")
    axes = _dims(dim, x._data.ndim, "linalg.vector_norm")
    ord = float(ord)
    if ord in (float("inf"), -float("inf")) and x._data.size == 0:
        name = "inf" if ord > 0 else "-inf"
        if axes is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on an empty tensor because the "
                               "operation does not have an identity")
        for a in axes:
            if x._data.shape[a] == 0:  # (sic: PyTorch's message has no space before "because")
                raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on the dimension {a}because "
                                   "this dimension is empty and the operation does not have an identity")
    return VectorNorm.apply(x, ord, axes, keepdim)


@tensor_method
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        from .linalg import matrix_norm

        return matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    result = vector_norm(input, p, dim, keepdim, dtype=dtype)
    if out is not None:
        from .elementwise import _out

        return _out(result, out)
    return result


# ---------------------------------------------------------------- logical reductions
def _bool_reduce(input, dim, keepdim, fn, name):
    x = input._data
    axes = _dims(dim, x.ndim, name)
    out = np.asarray(fn(x, axis=_np_axis(axes), keepdims=keepdim))
    return _const(out.astype(np.uint8) if x.dtype == np.uint8 else out)  # PyTorch keeps uint8 for uint8


@tensor_method
def all(input, dim=None, keepdim=False):
    return _bool_reduce(input, dim, keepdim, np.all, "all")


@tensor_method
def any(input, dim=None, keepdim=False):
    return _bool_reduce(input, dim, keepdim, np.any, "any")


@tensor_method
def count_nonzero(input, dim=None):
    axes = _dims(dim, input._data.ndim, "count_nonzero")
    return _const(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64))
