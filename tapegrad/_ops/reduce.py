"""Reductions: sum, mean, prod, var/std, max/min and their arg- and a- forms, logsumexp,
cumulative sums, norms, softmax and log_softmax."""
import collections

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function

__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "var", "std", "var_mean", "std_mean", "max", "min",
           "amax", "amin", "aminmax", "argmax", "argmin", "logsumexp", "cumsum", "cumprod", "cummax", "cummin",
           "norm", "softmax", "log_softmax", "all", "any", "count_nonzero", "sum_to_shape", "median", "mode",
           "logcumsumexp"]

_builtin_sum, _builtin_max, _builtin_min, _builtin_all, _builtin_any = sum, max, min, all, any


def _dims(dim, ndim, op):
    """Normalise `dim` (None, int, or sequence) to a sorted tuple of axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        axes = tuple(sorted(_wrap_dim(int(d), ndim, op) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}: dim {axes[0]} appears multiple times in the list of dims")
        return axes
    return (_wrap_dim(int(dim), ndim, op),)


def _kept_shape(shape, axes):
    """The shape a keepdim=True reduction over `axes` gives."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if not grad_mode.GRAD[0]:  # no graph of the backward wanted: work on the arrays
        d = g._data
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


def _np_axis(axes):
    return axes if axes is None or len(axes) != 1 else axes[0]


# ---------------------------------------------------------------- sum / mean
class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=_np_axis(axes), keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


def _sum_dtype(x, dtype):
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    if x._data.dtype.kind in "biu":
        return np.int64  # PyTorch sums integers and bools in int64
    return None


@tensor_method
def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    axes = _dims(dim, input._data.ndim, "sum")
    return Sum.apply(input, axes, keepdim, _sum_dtype(input, dtype))


@tensor_method
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import isnan, where

    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        out = x.mean(axis=_np_axis(axes), keepdims=keepdim, dtype=np_dtype)
        return out.astype(x.dtype if np_dtype is None else np_dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        n = _numel(ctx.shape, ctx.axes)
        return _expand_back(g / n if n else g, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


def _numel(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


@tensor_method
def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is None and not input.is_floating_point() and not input.is_complex():
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {input.dtype.name.capitalize()}")
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
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.save_for_backward(x)
        return x.prod(axis=axis, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        flat = axis is None
        if flat:
            x, axis = x.reshape(-1), 0
        # product of every other element along `axis`, zero-safe: exclusive cumprods from both sides
        n = x.shape[axis]
        ones_shape = list(x.shape)
        ones_shape[axis] = 1
        one = x.new_ones(ones_shape)
        left = cumprod(x.narrow(axis, 0, n - 1), axis) if n > 1 else x.new_ones(x.shape).narrow(axis, 0, 0)
        right = cumprod(x.narrow(axis, 1, n - 1).flip(axis), axis).flip(axis) if n > 1 else left
        from .movement import cat

        others = cat([one, left], axis) * cat([right, one], axis)
        gk = g.reshape(()) if flat else (g if ctx.keepdim else g.unsqueeze(axis))
        out = gk * others
        return (out.reshape(ctx.shape) if flat else out), None, None, None


@tensor_method
def prod(input, dim=None, keepdim=False, *, dtype=None):
    axis = None if dim is None else _wrap_dim(dim, input._data.ndim, "prod")
    return Prod.apply(input, axis, keepdim, _sum_dtype(input, dtype))


# ---------------------------------------------------------------- cumulative
class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis, np_dtype):
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        a = ctx.axis
        return g.flip(a).cumsum(a).flip(a), None, None


@tensor_method
def cumsum(input, dim, *, dtype=None):
    if input._data.ndim == 0:
        return input.clone() if dtype is None else input.to(dtype)
    return Cumsum.apply(input, _wrap_dim(dim, input._data.ndim, "cumsum"), _sum_dtype(input, dtype))


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis, np_dtype):
        ctx.axis = axis
        y = np.cumprod(x, axis=axis, dtype=np_dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        a = ctx.axis
        from .elementwise import where

        if bool((x._data != 0).all()):
            return (g * y).flip(a).cumsum(a).flip(a) / x, None, None
        # zeros present: differentiate the definition directly, one position at a time (O(n^2) but exact)
        n = x.shape[a]
        grads = []
        for k in range(n):
            xk = x.narrow(a, k, 1)
            mask_shape = [1] * x.dim()
            mask_shape[a] = n
            sel = Tensor._make((np.arange(n) == k).reshape(mask_shape))
            xs = where(sel, x.new_ones(()), x)
            ys = xs.cumprod(a) * (Tensor._make((np.arange(n) >= k).reshape(mask_shape)))
            grads.append((g * ys).sum(a, keepdim=True))
            del xk
        from .movement import cat

        return cat(grads, a), None, None


@tensor_method
def cumprod(input, dim, *, dtype=None):
    return Cumprod.apply(input, _wrap_dim(dim, input._data.ndim, "cumprod"), _sum_dtype(input, dtype))


def _cum_extreme(input, dim, fn, name):
    a = _wrap_dim(dim, input._data.ndim, name)
    x = input._data
    vals = fn.accumulate(x, axis=a)
    n = x.shape[a]
    idx_shape = [1] * x.ndim
    idx_shape[a] = n
    pos = np.broadcast_to(np.arange(n).reshape(idx_shape), x.shape)
    hit = np.where(x == vals, pos, 0)
    indices = np.maximum.accumulate(hit, axis=a)
    from .indexing import gather

    values = gather(input, a, Tensor._make(indices.astype(np.int64)))
    return _ReturnTypes[name](values, Tensor._make(indices.astype(np.int64)))


@tensor_method
def cummax(input, dim):
    return _cum_extreme(input, dim, np.maximum, "cummax")


@tensor_method
def cummin(input, dim):
    return _cum_extreme(input, dim, np.minimum, "cummin")


@tensor_method
def logcumsumexp(input, dim):
    from .elementwise import exp, log

    m = input.detach().amax()
    return log(cumsum(exp(input - m), dim)) + m


# ---------------------------------------------------------------- max / min
def _return_type(name, fields=("values", "indices")):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n" +
                                 ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")")
    return cls


_ReturnTypes = {n: _return_type(n) for n in ("max", "min", "median", "mode", "kthvalue", "sort", "topk",
                                             "cummax", "cummin")}
_ReturnTypes["aminmax"] = _return_type("aminmax", ("min", "max"))


class AmaxAmin(Function):
    """amax/amin (and max()/min() without dim): the gradient is shared evenly among tied extremes."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        fn = np.max if is_max else np.min
        y = fn(x, axis=_np_axis(axes), keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        yk = _expand_back(y, ctx.shape, ctx.axes, ctx.keepdim)
        hit = (x == yk).to(g.dtype)
        count = sum(hit, ctx.axes, True) if ctx.axes is not None else sum(hit).reshape((1,) * x.dim())
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim) * hit / count, None, None, None


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


@tensor_method
def amax(input, dim=(), keepdim=False):
    axes = _dims(dim, input._data.ndim, "amax")
    _check_nonempty(input, axes, "amax")
    return AmaxAmin.apply(input, axes, keepdim, True)


@tensor_method
def amin(input, dim=(), keepdim=False):
    axes = _dims(dim, input._data.ndim, "amin")
    _check_nonempty(input, axes, "amin")
    return AmaxAmin.apply(input, axes, keepdim, False)


@tensor_method
def aminmax(input, *, dim=None, keepdim=False):
    return _ReturnTypes["aminmax"](amin(input, dim if dim is not None else (), keepdim),
                                   amax(input, dim if dim is not None else (), keepdim))


class MaxMinDim(Function):
    """max(dim)/min(dim): values and the index of the first extreme; the gradient goes to that index."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, is_max):
        idx = (np.argmax if is_max else np.argmin)(x, axis=axis, keepdims=True)
        vals = np.take_along_axis(x, idx, axis=axis)
        if not keepdim:
            idx, vals = idx.squeeze(axis), vals.squeeze(axis)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return vals, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        from .indexing import scatter

        if not ctx.keepdim:
            g, idx = g.unsqueeze(ctx.axis), idx.unsqueeze(ctx.axis)
        return scatter(g.new_zeros(ctx.shape), ctx.axis, idx.long(), g), None, None, None


def _max_min(input, dim, keepdim, other, is_max):
    name = "max" if is_max else "min"
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        from .elementwise import maximum, minimum

        return (maximum if is_max else minimum)(input, other)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return AmaxAmin.apply(input, None, False, is_max)
    axis = _wrap_dim(dim, input._data.ndim, name)
    if input._data.ndim == 0:
        return _ReturnTypes[name](input.clone(), Tensor._make(np.zeros((), np.int64)))
    if input._data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    vals, idx = MaxMinDim.apply(input, axis, keepdim, is_max)
    return _ReturnTypes[name](vals, idx)


@tensor_method
def max(input, dim=None, keepdim=False, *, other=None):
    return _max_min(input, dim, keepdim, other, True)


@tensor_method
def min(input, dim=None, keepdim=False, *, other=None):
    return _max_min(input, dim, keepdim, other, False)


def _arg(input, dim, keepdim, fn, name):
    x = input._data
    if dim is None:
        if x.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = np.asarray(fn(x.reshape(-1)), dtype=np.int64)
        return Tensor._make(r.reshape((1,) * x.ndim) if keepdim else r)
    axis = _wrap_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    if x.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    return Tensor._make(np.asarray(fn(x, axis=axis, keepdims=keepdim), dtype=np.int64))


@tensor_method
def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, np.argmax, "argmax")


@tensor_method
def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, np.argmin, "argmin")


@tensor_method
def median(input, dim=None, keepdim=False):
    """PyTorch's median: the lower of the two middle values, not their mean."""
    if dim is None:
        flat = input.reshape(-1)
        k = (flat.shape[0] - 1) // 2
        return flat.sort().values[k]
    axis = _wrap_dim(dim, input._data.ndim, "median")
    k = (input.shape[axis] - 1) // 2
    s = input.sort(axis)
    from .indexing import gather

    idx = s.indices.narrow(axis, k, 1)
    vals = gather(input, axis, idx)
    if not keepdim:
        vals, idx = vals.squeeze(axis), idx.squeeze(axis)
    return _ReturnTypes["median"](vals, idx)


@tensor_method
def mode(input, dim=-1, keepdim=False):
    x = input._data
    axis = _wrap_dim(dim, x.ndim, "mode")
    moved = np.moveaxis(x, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    vals, idxs = [], []
    for row in flat:
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]
        vals.append(v)
        idxs.append(np.nonzero(row == v)[0][-1])
    shape = moved.shape[:-1]
    v = np.asarray(vals, dtype=x.dtype).reshape(shape)
    i = np.asarray(idxs, dtype=np.int64).reshape(shape)
    if keepdim:
        v, i = np.expand_dims(v, axis), np.expand_dims(i, axis)
    return _ReturnTypes["mode"](Tensor._make(v), Tensor._make(i))


# ---------------------------------------------------------------- var / std
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


@tensor_method
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(input, unbiased)
        unbiased, dim = dim, None
    c = _correction(unbiased, correction)
    axes = _dims(dim, input._data.ndim, "var")
    n = _numel(input._data.shape, axes)
    centred = input - mean(input, axes, keepdim=True)
    from .elementwise import mul

    return sum(mul(centred, centred), axes, keepdim) / _builtin_max(n - c, 0)


@tensor_method
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


# ---------------------------------------------------------------- logsumexp / softmax
@tensor_method
def logsumexp(input, dim, keepdim=False):
    from .elementwise import exp, log, where, isinf

    if not input.is_floating_point():
        input = input.to(_dtype.get_default_dtype())
    axes = _dims(dim, input._data.ndim, "logsumexp")
    if input._data.size == 0:
        return log(sum(exp(input), axes, keepdim))
    m = amax(input, axes if axes is not None else (), keepdim=True).detach()
    m = where(isinf(m), 0.0, m)
    out = log(sum(exp(input - m), axes, keepdim=True)) + m
    return out if keepdim else out.squeeze(axes if axes is not None else tuple(range(input.dim())))


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
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
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        from .elementwise import exp

        return g - exp(y) * sum(g, (ctx.axis,), True), None


def _softmax_input(input, dim, dtype, name):
    if dtype is not None:
        input = input.to(dtype)
    if not input.is_floating_point():
        raise RuntimeError(f'"{name}_lastdim_kernel_impl" not implemented for '
                           f"'{input.dtype.name.capitalize()}'")
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1  # PyTorch's legacy implicit-dim choice
    return input, _wrap_dim(dim, input._data.ndim, name)


@tensor_method
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    input, axis = _softmax_input(input, dim, dtype, "softmax")
    if input._data.ndim == 0:
        return input / input
    return Softmax.apply(input, axis)


@tensor_method
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    input, axis = _softmax_input(input, dim, dtype, "log_softmax")
    if input._data.ndim == 0:
        return input - input
    return LogSoftmax.apply(input, axis)


# ---------------------------------------------------------------- norm
class VectorNorm2(Function):
    """The 2-norm with PyTorch's subgradient 0 at the origin."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        n = np.sqrt((x * x).sum(axis=_np_axis(axes), keepdims=keepdim))
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.save_for_backward(x, n)
        return n.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        from .elementwise import where

        nk = _expand_back(n, ctx.shape, ctx.axes, ctx.keepdim)
        gk = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return where(nk == 0, 0.0, gk * x / nk), None, None


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import abs as _abs

    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {x.dtype.name.capitalize()}")
    axes = _dims(dim, x._data.ndim, "linalg.vector_norm")
    if ord == 2:
        return VectorNorm2.apply(x, axes, keepdim)
    a = _abs(x)
    if ord == float("inf"):
        return amax(a, axes if axes is not None else (), keepdim)
    if ord == -float("inf"):
        return amin(a, axes if axes is not None else (), keepdim)
    if ord == 0:
        return sum((a != 0).to(x.dtype), axes, keepdim)
    if ord == 1:
        return sum(a, axes, keepdim)
    return sum(a ** ord, axes, keepdim) ** (1.0 / ord)


@tensor_method
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        from .linalg import matrix_norm

        return matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# ---------------------------------------------------------------- logical reductions
def _bool_reduce(input, dim, keepdim, fn, name):
    x = input._data
    if dim is None:
        r = fn(x)
        return Tensor._make(np.asarray(r if not keepdim else np.reshape(r, (1,) * x.ndim), dtype=bool))
    axes = _dims(dim, x.ndim, name)
    r = fn(x, axis=_np_axis(axes), keepdims=keepdim)
    out = np.asarray(r)
    return Tensor._make(out if input._data.dtype != np.uint8 else out.astype(np.uint8))


@tensor_method
def all(input, dim=None, keepdim=False):
    return _bool_reduce(input, dim, keepdim, np.all, "all")


@tensor_method
def any(input, dim=None, keepdim=False):
    return _bool_reduce(input, dim, keepdim, np.any, "any")


@tensor_method
def count_nonzero(input, dim=None):
    axes = _dims(dim, input._data.ndim, "count_nonzero")
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64))
