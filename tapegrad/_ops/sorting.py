"""Sorting: sort, argsort, msort, topk, kthvalue; unique and unique_consecutive.

Indices come from NumPy's stable argsort, so equal values keep their original order (PyTorch's
order for sort, stable or not, on the CPU); NaN sorts above every number, as in PyTorch. Values are
gathered from the input with the indices, so their gradient is gather's: each output's gradient goes
back to the element it came from (and double backward works).
"""
import numpy as np

from .._tensor import Tensor, _wrap_dim, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function, _named
from .reduce import _ReturnTypes, _picked

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "unique_consecutive"]


def _need_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def _stable_order(x, axis, descending):
    """Indices sorting `x` along `axis`; ties in their original order, NaN as the largest value."""
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # a stable ascending sort of the reversed axis, reversed back: descending, ties still in index order
    n = x.shape[axis]
    rev = np.flip(x, axis)
    idx = np.argsort(rev, axis=axis, kind="stable")
    return np.flip(n - 1 - idx, axis)


@tensor_method
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) of `input` sorted along `dim`."""
    _need_tensor(input, "sort")
    if isinstance(dim, bool):  # sort(input, descending) positional misuse is a PyTorch error too
        raise TypeError("sort(): argument 'dim' must be int, not bool")
    x = input._data
    if x.ndim == 0:
        _wrap_dim(dim, 0, "sort")
        return _ReturnTypes["sort"](_picked("sort", input), Tensor._make(np.zeros((), np.int64)))
    axis = _wrap_dim(dim, x.ndim, "sort")
    idx = _stable_order(x, axis, descending)
    return _ReturnTypes["sort"](_picked("sort", input, axis, idx), Tensor._make(idx.astype(np.int64, copy=False)))


@tensor_method
def argsort(input, dim=-1, descending=False, *, stable=False):
    """Indices that sort `input` along `dim` (ties in their original order)."""
    _need_tensor(input, "argsort")
    x = input._data
    if x.ndim == 0:
        _wrap_dim(dim, 0, "argsort")
        return Tensor._make(np.zeros((), np.int64))
    axis = _wrap_dim(dim, x.ndim, "argsort")
    return Tensor._make(_stable_order(x, axis, descending).astype(np.int64, copy=False))


@tensor_method
def msort(input):
    return sort(input, 0).values


@tensor_method
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) values along `dim` and their indices, largest first (values and
    indices named tuple). Among equal values, the lower index comes first."""
    _need_tensor(input, "topk")
    x = input._data
    n = x.shape[_wrap_dim(dim, x.ndim, "topk")] if x.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError(f"selected index k out of range (topk: k={k} for a dimension of size {n}, input of shape "
                           f"{list(x.shape)})")
    if x.ndim == 0:
        return _ReturnTypes["topk"](_picked("topk", input), Tensor._make(np.zeros((), np.int64)))
    axis = _wrap_dim(dim, x.ndim, "topk")
    if 0 < k < n // 8 and n > 2048 and x.dtype.kind == "f" and not np.isnan(x).any():
        # a partial selection, then a stable sort of the k candidates
        key = -x if largest else x
        cand = np.argpartition(key, k - 1, axis=axis)
        cand = np.take(cand, np.arange(k), axis=axis)
        ck = np.take_along_axis(key, cand, axis)
        # order by value, ties by index
        order = np.lexsort((cand, ck), axis=axis)
        idx = np.take_along_axis(cand, order, axis)
    else:
        idx = np.take(_stable_order(x, axis, largest), np.arange(k), axis=axis)
    return _ReturnTypes["topk"](_picked("topk", input, axis, idx), Tensor._make(idx.astype(np.int64, copy=False)))


@tensor_method
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest value along `dim` (k from 1) and its index."""
    _need_tensor(input, "kthvalue")
    x = input._data
    axis = _wrap_dim(dim, x.ndim, "kthvalue")
    n = x.shape[axis] if x.ndim else 1
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis} (k={k}, size {n})")
    if x.ndim == 0:
        return _ReturnTypes["kthvalue"](_picked("kthvalue", input), Tensor._make(np.zeros((), np.int64)))
    idx = np.take(_stable_order(x, axis, False), [k - 1], axis=axis)
    vals = _picked("kthvalue", input, axis, idx, keepdim)
    idx = Tensor._make(idx.astype(np.int64, copy=False))
    if not keepdim:
        idx = idx.squeeze(axis)
    return _ReturnTypes["kthvalue"](vals, idx)


# ---------------------------------------------------------------- unique
class _Unique(Function):
    """The node unique's values get in a graph: PyTorch has one (Unique2Backward0, UniqueDimBackward0,
    UniqueConsecutiveBackward0) but no derivative for it."""

    @staticmethod
    def forward(ctx, x, values, kernel):
        ctx.kernel = kernel
        return values

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError(f"the derivative for '{ctx.kernel}' is not implemented.")


def _unique_result(input, values, inverse, counts, return_inverse, return_counts, node, kernel):
    out = Tensor._make(values)
    if input._rg and grad_mode.GRAD[0] and input.is_floating_point():
        out = _named(_Unique.apply(input, values, kernel), node)
    if not (return_inverse or return_counts):
        return out
    extra = ((Tensor._make(inverse.astype(np.int64)),) if return_inverse else ()) + \
        ((Tensor._make(counts.astype(np.int64)),) if return_counts else ())
    return (out,) + extra


@tensor_method
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """torch.unique: the distinct values (or slices along `dim`), sorted (also for sorted=False, as PyTorch
    does on the CPU); NaNs count as distinct. inverse: where each element went; counts: how many."""
    x = input._data
    if dim is None:
        values, inverse, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True,
                                            equal_nan=False)
        return _unique_result(input, values, inverse.reshape(x.shape), counts, return_inverse, return_counts,
                              "Unique2Backward0", "_unique2")
    axis = _wrap_dim(dim, x.ndim, "unique")
    values, inverse, counts = np.unique(x, axis=axis, return_inverse=True, return_counts=True, equal_nan=False)
    return _unique_result(input, values, inverse.reshape(-1), counts, return_inverse, return_counts,
                          "UniqueDimBackward0", "unique_dim")


@tensor_method
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """torch.unique_consecutive: each run of equal consecutive values (or slices along `dim`) kept once."""
    x = input._data
    axis = None if dim is None else _wrap_dim(dim, x.ndim, "unique_consecutive")
    rows = x.reshape(-1, 1) if axis is None else np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    starts = np.ones(len(rows), bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    values = x.reshape(-1)[first] if axis is None else np.take(x, first, axis=axis)
    inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(first, len(rows)))
    return _unique_result(input, values, inverse.reshape(x.shape) if axis is None else inverse, counts,
                          return_inverse, return_counts, "UniqueConsecutiveBackward0", "unique_consecutive")
