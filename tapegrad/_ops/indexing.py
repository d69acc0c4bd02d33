"""Indexing: __getitem__/__setitem__ (basic indexing gives views, advanced indexing copies),
gather, scatter, scatter_add, scatter_reduce, index_select, index_add, index_copy, index_fill,
masked_fill, masked_select, masked_scatter, nonzero, take, take_along_dim, index_put.

A PyTorch index is split in two NumPy steps, `x[index] == x[basic][adv]`: `basic` holds the
integers (PyTorch applies them first, as `select`), slices and None; `adv` holds the integer
arrays, with boolean masks turned into their nonzero() coordinates. This gives PyTorch's placement
of advanced dimensions (x[0, :, idx] is (4, 2) for a (3, 4, 5) tensor, (2, 4) in NumPy), and one
gradient rule: scatter-add into zeros through the basic view.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function
from .movement import _view_of

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy", "index_fill",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere", "take", "take_along_dim",
           "index_put", "scatter_reduce"]

_SIMPLE = (int, slice, type(None), type(Ellipsis))
_SEQ_AS_TUPLE = (list, tuple, Tensor, slice, type(None), type(Ellipsis))
_FULL = slice(None)


def _convert_index(index, data, check=True):
    """Split a PyTorch index into (basic, adv) for `data`, raising PyTorch's errors. With check=False the
    bounds of index tensors are left to NumPy (the caller re-runs with check=True to word its error)."""
    if index.__class__ is not tuple:
        if index.__class__ in _SIMPLE and index.__class__ is not bool:
            if index.__class__ is slice and index.step is not None and index.step <= 0:
                raise ValueError("step must be greater than zero")
            return (index,), None
        if index.__class__ is Tensor and index._data.ndim and index._data.dtype.kind in "iu" and data.ndim:
            arr, n = index._data, data.shape[0]  # x[idx], the common advanced index
            if check and arr.size and (arr.max() >= n or arr.min() < -n):
                bad = arr.reshape(-1)[np.argmax((arr.reshape(-1) >= n) | (arr.reshape(-1) < -n))]
                raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
            return (), (arr,)
        if index.__class__ is list and any(isinstance(p, _SEQ_AS_TUPLE) for p in index):
            index = tuple(index)  # PyTorch's legacy rule: a list of sequences is a tuple of indices
        else:
            index = (index,)
    elif all(p.__class__ in _SIMPLE and (p.__class__ is not slice or p.step is None or p.step > 0) for p in index):
        return index, None
    shape = data.shape
    parts = []
    for i, p in enumerate(index):
        if isinstance(p, Tensor):
            arr = p._data
            if arr.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            p = arr.item() if arr.ndim == 0 else (arr.astype(bool) if arr.dtype == np.uint8 else arr)
        elif isinstance(p, (list, tuple, range)):
            p = np.asarray(p)
            if p.size == 0:
                p = p.astype(np.int64)
            elif p.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(p, (np.integer, np.bool_)):
            p = p.item()
        elif isinstance(p, np.ndarray):
            if p.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if p.ndim == 0:
                p = p.item()
        elif not isinstance(p, _SIMPLE):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(p).__name__})")
        parts.append(p)
    consumed = sum(1 if isinstance(p, (int, slice)) and p.__class__ is not bool else
                   (p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else
                    1 if isinstance(p, np.ndarray) else 0) for p in parts)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    basic, adv, arrays, d, ell = [], [], [], 0, False
    for i, p in enumerate(parts):
        if p is Ellipsis:
            if not ell:
                k = len(shape) - consumed
                basic.extend([_FULL] * k)
                adv.extend([_FULL] * k)
                d += k
                ell = True
        elif p is None:
            basic.append(None)
            adv.append(_FULL)
        elif p.__class__ is bool:  # x[True] adds a dimension of size 1, x[False] one of size 0
            basic.append(None)
            adv.append(np.zeros(int(p), np.intp))
            arrays.append(adv[-1])
        elif isinstance(p, int):
            n = shape[d]
            if p < -n or p >= n:
                raise IndexError(f"index {p} is out of bounds for dimension {i} with size {n}")
            basic.append(p)
            d += 1
        elif isinstance(p, slice):
            if p.step is not None and int(p.step) <= 0:
                raise ValueError("step must be greater than zero")
            basic.append(p)
            adv.append(_FULL)
            d += 1
        elif p.dtype == bool:
            at = len(adv)
            if p.shape != shape[d:d + p.ndim]:
                k = next(j for j in range(p.ndim) if d + j >= len(shape) or p.shape[j] != shape[d + j])
                view = data[tuple(basic)]
                raise IndexError(f"The shape of the mask {list(p.shape)} at index {k} does not match the shape of "
                                 f"the indexed tensor {list(view.shape)} at index {at + k}")
            basic.extend([_FULL] * p.ndim)
            nz = np.nonzero(p)
            adv.extend(nz)
            arrays.extend(nz)
            d += p.ndim
        else:
            n = shape[d]
            if check and p.size and (p.max() >= n or p.min() < -n):
                bad = p.reshape(-1)[np.argmax((p.reshape(-1) >= n) | (p.reshape(-1) < -n))]
                raise IndexError(f"index {bad} is out of bounds for dimension {len(arrays)} with size {n}")
            basic.append(_FULL)
            adv.append(p)
            arrays.append(p)
            d += 1
    if len(arrays) > 1:
        try:
            np.broadcast_shapes(*[a.shape for a in arrays])
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes " +
                             ", ".join(str(list(a.shape)) for a in arrays)) from None
    return tuple(basic), (tuple(adv) if arrays else None)


def _index_error(index, data, exc):
    """Re-raise NumPy's error for a basic index as PyTorch's (the fast path skips the checks)."""
    if all(p.__class__ in _SIMPLE for p in (index if isinstance(index, tuple) else (index,))):
        _check_simple(index if isinstance(index, tuple) else (index,), data.shape)
    else:
        _convert_index(index, data)
    raise exc


def _check_simple(index, shape):
    consumed = sum(1 for p in index if p is not None and p is not Ellipsis)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    d = 0
    for i, p in enumerate(index):
        if p is Ellipsis:
            d += len(shape) - consumed
        elif isinstance(p, int):
            if p < -shape[d] or p >= shape[d]:
                raise IndexError(f"index {p} is out of bounds for dimension {i} with size {shape[d]}")
            d += 1
        elif isinstance(p, slice):
            if p.step is not None and p.step <= 0:
                raise ValueError("step must be greater than zero")
            d += 1


def _apply(x, basic, adv):
    if adv is None:
        out = x[basic]  # integers everywhere give a NumPy scalar (a copy); PyTorch gives a 0-d view
        return x[basic + (Ellipsis,)] if isinstance(out, np.generic) else out
    return x[basic][adv]


class Index(Function):
    @staticmethod
    def forward(ctx, x, basic, adv):
        ctx.shape, ctx.basic, ctx.adv = x.shape, basic, adv
        return _apply(x, basic, adv)

    @staticmethod
    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.shape, ctx.basic, ctx.adv), None, None


class _Select(Index):  # a basic index's grad_fn is named by its last step, as PyTorch applies them in order
    pass


class _Slice(Index):
    pass


class _Unsqueeze(Index):
    pass


class _Alias(Index):
    pass


_Select._backward_name, _Slice._backward_name = "SelectBackward0", "SliceBackward0"
_Unsqueeze._backward_name, _Alias._backward_name = "UnsqueezeBackward0", "AliasBackward0"


def _basic_node(basic):
    for p in reversed(basic):
        if p.__class__ is int:
            return _Select
        if p is None:
            return _Unsqueeze
        if p.__class__ is slice and not (p.start is None and p.stop is None and p.step is None):
            return _Slice
    return _Alias if all(p is Ellipsis for p in basic) else _Slice


class IndexBackward(Function):
    """Scatter-add `g` into zeros of the indexed tensor's shape (the adjoint of Index)."""

    @staticmethod
    def forward(ctx, g, shape, basic, adv):
        ctx.basic, ctx.adv = basic, adv
        z = np.zeros(shape, dtype=g.dtype)
        if adv is None:
            z[basic] = g
        else:
            np.add.at(z[basic], adv, g)
        return z

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.basic, ctx.adv), None, None, None


@tensor_method("__getitem__")
def _getitem(self, index):
    data = self._data
    try:
        basic, adv = _convert_index(index, data, False)
        out = (Index if adv is not None else _basic_node(basic)).apply(self, basic, adv)
    except IndexError as exc:
        _index_error(index, data, exc)
    if adv is None:
        _view_of(out, self, lambda a: _apply(a, basic, None))
    return out


class IndexPut(Function):
    """x with x[basic][adv] = value (or += value with accumulate, repeated indices adding up)."""

    @staticmethod
    def forward(ctx, x, value, basic, adv, accumulate):
        ctx.basic, ctx.adv, ctx.accumulate = basic, adv, accumulate
        out = x.copy()
        _write(out, value, basic, adv, accumulate)
        return out

    @staticmethod
    def backward(ctx, g):
        basic, adv = ctx.basic, ctx.adv
        gx = g if ctx.accumulate or not ctx.needs_input_grad[0] else IndexPut.apply(
            g, g.new_zeros(()), basic, adv, False)
        gv = Index.apply(g, basic, adv) if ctx.needs_input_grad[1] else None
        return gx, gv, None, None, None


class _IndexPutInPlace(IndexPut):
    """IndexPut writing straight into x's memory, for setitem and index_put_ (the caller then makes x the
    node's output): an O(indexed) write, not an O(x) copy."""

    @staticmethod
    def forward(ctx, x, value, basic, adv, accumulate):
        ctx.basic, ctx.adv, ctx.accumulate = basic, adv, accumulate
        _write(x, value, basic, adv, accumulate)
        return x


def _put_in_place(self, value, basic, adv, accumulate, op):
    self._check_inplace()
    if not self._data.flags.writeable:
        raise RuntimeError(f"{op}: the tensor is a read-only view (e.g. made by expand); call .clone() before "
                           "writing to it")
    if not (grad_mode.GRAD[0] and (value._rg or self._rg)):
        _write(self._data, value._data, basic, adv, accumulate)
        self._version_ctr.v += 1
        return self
    return self._inplace(_IndexPutInPlace.apply(self, value, basic, adv, accumulate), op)


def _write(out, value, basic, adv, accumulate):
    view = out[basic] if adv is not None else None  # out[basic] is a NumPy scalar, not a view, for x[0] of 1-d x
    try:
        if adv is None:
            if accumulate:
                out[basic] += value
            else:
                out[basic] = value
        elif accumulate:
            np.add.at(view, adv, value)
        else:
            view[adv] = value
    except ValueError:
        target = out[basic].shape if adv is None else view[adv].shape
        vs = list(np.shape(value))
        if adv is None:
            raise RuntimeError(f"The expanded size of the tensor ({target[-1] if target else 1}) must match the "
                               f"existing size ({vs[-1] if vs else 1}) at non-singleton dimension "
                               f"{len(target) - 1}.  Target sizes: {list(target)}.  Tensor sizes: {vs}") from None
        raise RuntimeError(f"shape mismatch: value tensor of shape {vs} cannot be broadcast to indexing result "
                           f"of shape {list(target)}") from None


def _value_for(self, value):
    if isinstance(value, Tensor):
        return value if value._data.dtype == self._data.dtype else value.to(self.dtype)
    return Tensor._make(np.asarray(value, dtype=self._data.dtype))


@tensor_method("__setitem__")
def _setitem(self, index, value):
    data = self._data
    try:
        basic, adv = _convert_index(index, data, False)
        value = _value_for(self, value)
        if adv is None and self._rg and self.grad_fn is None and grad_mode.GRAD[0]:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        _put_in_place(self, value, basic, adv, False, "setitem")
    except IndexError as exc:
        _index_error(index, data, exc)


def _indices_tuple(indices, op):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    return tuple(_FULL if i is None else i for i in indices)


@tensor_method("index_put_")
def _index_put_(self, indices, values, accumulate=False):
    basic, adv = _convert_index(_indices_tuple(indices, "index_put_"), self._data)
    return _put_in_place(self, _value_for(self, values), basic, adv, accumulate, "index_put_")


@tensor_method
def index_put(input, indices, values, accumulate=False):
    basic, adv = _convert_index(_indices_tuple(indices, "index_put"), input._data)
    return IndexPut.apply(input, _value_for(input, values), basic, adv, accumulate)


# ---------------------------------------------------------------- gather / scatter
def _index_arg(index, op):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    d = index._data
    if d.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype.name.capitalize()}")
    return d if d.dtype == np.int64 else d.astype(np.int64)


def _check_range(idx, n, axis, op):
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise RuntimeError(f"{op}(): index {int(bad)} is out of bounds for dimension {axis} with size {n}")


def _along(index, axis):
    """The fancy-index tuple addressing `index`'s entries along `axis` (gather's addressing)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


def _check_gather_shapes(x_shape, idx_shape, axis, op, src_shape=None):
    if len(idx_shape) != len(x_shape) and len(idx_shape) and len(x_shape):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                           f"(got index {list(idx_shape)} and input {list(x_shape)})")
    for d, i in enumerate(idx_shape):
        if d != axis and d < len(x_shape) and i > x_shape[d]:
            raise RuntimeError(f"{op}(): Size does not match at dimension {d} expected index {list(idx_shape)} to "
                               f"be smaller than self {list(x_shape)} apart from dimension {axis}")
        if src_shape is not None and i > src_shape[d]:
            raise RuntimeError(f"{op}(): Expected index {list(idx_shape)} to be smaller than self {list(x_shape)} "
                               f"apart from dimension {axis} and to be smaller size than src {list(src_shape)}")


class Gather(Function):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index)
        return x[_along(index, axis)]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return Scatter.apply(g.new_zeros(ctx.shape), ctx.axis, index, g, "sum", True), None, None


def _gather_args(input, dim, index, op):
    idx = _index_arg(index, op)
    if input._data.ndim == 0 or idx.ndim == 0:
        if input._data.ndim > 1 or idx.ndim > 1:
            _check_gather_shapes(input._data.shape, idx.shape, 0, op)
        _wrap_dim(dim, 1, op)
        _check_range(idx, 1, 0, op)
        return input.reshape(1) if input._data.ndim == 0 else input, 0, idx.reshape(-1), True
    axis = _wrap_dim(dim, input._data.ndim, op)
    _check_range(idx, input._data.shape[axis], axis, op)
    return input, axis, idx, False


@tensor_method
def gather(input, dim, index, *, sparse_grad=False):
    x, axis, idx, scalar = _gather_args(input, dim, index, "gather")
    _check_gather_shapes(x._data.shape, idx.shape, axis, "gather")
    out = Gather.apply(x, axis, Tensor._make(idx))
    return out.reshape(index.shape) if scalar else out


class Scatter(Function):
    """out = x with src (a tensor of index's shape, or a scalar) written or reduced at gather's addresses."""

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce, include_self):
        ctx.axis, ctx.reduce, ctx.include_self = axis, reduce, include_self
        where = _along(index, axis)
        out = x.copy()
        if reduce is None:
            out[where] = src
            ctx.save_for_backward(index)
            return out
        if not include_self:
            out[where] = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
        ufunc.at(out, where, src)
        count = None
        if reduce == "mean":
            count = np.zeros(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
            np.add.at(count, where, 1)
            count += 1 if include_self else (count == 0)
            out = out / count if out.dtype.kind == "f" else out // count
            count = count.astype(out.dtype, copy=False)
        if reduce in ("sum", "mean"):
            ctx.save_for_backward(index, None, None, None, count)
        else:
            ctx.save_for_backward(index, x, src if hasattr(src, "shape") else None, out, None)
        return out

    @staticmethod
    def backward(ctx, g):
        index, *rest = ctx.saved_tensors
        axis, reduce, inc = ctx.axis, ctx.reduce, ctx.include_self
        if reduce is None:
            gsrc = gather(g, axis, index) if ctx.needs_input_grad[3] else None
            return Scatter.apply(g, axis, index, 0.0, None, True), None, None, gsrc, None, None
        x, src, out, count = rest
        keep = None if inc else Scatter.apply(g.new_ones(g.shape), axis, index, 0.0, None, True)
        if reduce in ("sum", "mean"):
            gx = g / count if reduce == "mean" else g
            gsrc = gather(gx, axis, index)
            gx = gx if inc else gx * keep
        elif reduce == "prod":
            if bool((x._data == 0).any()) or (src is not None and bool((src._data == 0).any())):
                raise NotImplementedError("tapegrad does not implement the gradient of scatter_reduce(reduce='prod') "
                                          "with zeros in the input or src")
            gsrc = gather(g * out, axis, index) / src if src is not None else None
            gx = g * out / x if inc else g * keep
        else:  # amax / amin: the gradient is shared evenly between the elements equal to the result
            hit_x = (x == out).to(g.dtype) if inc else keep
            hit_s = (src == gather(out, axis, index)).to(g.dtype)
            n = Scatter.apply(hit_x, axis, index, hit_s, "sum", True)
            share = g / n
            gx, gsrc = share * hit_x, gather(share, axis, index) * hit_s
        return gx, None, None, gsrc, None, None


def _scatter(input, dim, index, src, reduce, op, include_self=True):
    idx = _index_arg(index, op)
    axis = _wrap_dim(dim, input._data.ndim, op)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got {input.dtype.name} and "
                               f"{src.dtype.name})")
        _check_gather_shapes(input._data.shape, idx.shape, axis, op, src._data.shape)
        if src._data.shape != idx.shape:
            src = src[tuple(slice(0, s) for s in idx.shape)]
    else:
        _check_gather_shapes(input._data.shape, idx.shape, axis, op)
        src = src.item() if isinstance(src, Tensor) else src
        src = input._data.dtype.type(src)
    _check_range(idx, input._data.shape[axis] if input._data.ndim else 1, axis, op)
    return Scatter.apply(input, axis, Tensor._make(idx), src, reduce, include_self)


@tensor_method
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce}")
        reduce = "sum" if reduce == "add" else "prod"
    return _scatter(input, dim, index, src, reduce, "scatter")


@tensor_method
def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, "sum", "scatter_add")


@tensor_method
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"scatter_reduce(): reduce argument must be one of sum, prod, mean, amax, amin, got "
                           f"{reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not {type(src).__name__}")
    return _scatter(input, dim, index, src, reduce, "scatter_reduce", include_self)


# ---------------------------------------------------------------- index_select / index_add / copy / fill
def _index_vector(index, op, n, axis):
    if not isinstance(index, Tensor):
        index = Tensor._make(np.asarray(index))
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {list(idx.shape)}")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype.name.capitalize()}")
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"{op}(): index {int(bad)} is out of bounds for dimension {axis} with size {n}")
    return idx.reshape(-1).astype(np.int64, copy=False)


def _dim_index(input, dim, index, op):
    nd = input._data.ndim
    axis = _wrap_dim(dim, nd, op)
    return axis, _index_vector(index, op, input._data.shape[axis] if nd else 1, axis)


@tensor_method
def index_select(input, dim, index):
    axis, idx = _dim_index(input, dim, index, "index_select")
    if input._data.ndim == 0:
        return input.reshape(1)[idx].reshape(index.shape)
    return Index.apply(input, (), (_FULL,) * axis + (idx,))


@tensor_method
def index_add(input, dim, index, source, *, alpha=1):
    axis, idx = _dim_index(input, dim, index, "index_add")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add(): argument 'source' must be Tensor, not {type(source).__name__}")
    want = input._data.shape[:axis] + (len(idx),) + input._data.shape[axis + 1:]
    if source._data.shape != want and not (input._data.ndim == 0 and source._data.size == len(idx)):
        raise RuntimeError(f"index_add(): source of shape {list(source.shape)} does not match the expected shape "
                           f"{list(want)} (self {list(input.shape)} with dimension {axis} indexed by "
                           f"{len(idx)} indices)")
    if alpha != 1:
        source = source * alpha
    if input._data.ndim == 0:
        return IndexPut.apply(input.reshape(1), _value_for(input, source.reshape(-1)), (), (idx,), True).reshape(())
    return IndexPut.apply(input, _value_for(input, source), (), (_FULL,) * axis + (idx,), True)


@tensor_method
def index_copy(input, dim, index, source):
    axis, idx = _dim_index(input, dim, index, "index_copy")
    return IndexPut.apply(input, _value_for(input, source), (), (_FULL,) * axis + (idx,), False)


@tensor_method
def index_fill(input, dim, index, value):
    axis, idx = _dim_index(input, dim, index, "index_fill")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    return IndexPut.apply(input, _value_for(input, value), (), (_FULL,) * axis + (idx,), False)


# ---------------------------------------------------------------- masks
def _check_mask(input, mask, op):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{_dtype._BY_NP[mask._data.dtype].name}")
    try:
        return np.broadcast_shapes(mask._data.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"{op}(): the shape of the mask {list(mask.shape)} must be broadcastable with the shape "
                           f"of the input {list(input.shape)}") from None


@tensor_method
def masked_fill(input, mask, value):
    shape = _check_mask(input, mask, "masked_fill")
    if shape != input._data.shape:
        raise RuntimeError(f"masked_fill(): the mask {list(mask.shape)} broadcasts to {list(shape)}, larger than "
                           f"the input {list(input.shape)}")
    from .elementwise import Where

    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        value = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    else:
        value = np.asarray(value, dtype=input._data.dtype)
    return Where.apply(mask, value, input)


@tensor_method
def masked_select(input, mask):
    shape = _check_mask(input, mask, "masked_select")
    if input._data.shape != shape:
        input = input.expand(shape)
    return Index.apply(input, (), np.nonzero(np.broadcast_to(mask._data, shape)))


@tensor_method
def masked_scatter(input, mask, source):
    shape = _check_mask(input, mask, "masked_scatter")
    if shape != input._data.shape:
        raise RuntimeError(f"masked_scatter(): the mask {list(mask.shape)} broadcasts to {list(shape)}, larger than "
                           f"the input {list(input.shape)}")
    idx = np.nonzero(np.broadcast_to(mask._data, shape))
    n = len(idx[0]) if idx else 0
    if source._data.size < n:
        raise RuntimeError(f"masked_scatter(): number of elements in source ({source._data.size}) < number of ones "
                           f"in mask ({n})")
    return IndexPut.apply(input, _value_for(input, source.reshape(-1)[:n]), (), idx, False)


@tensor_method
def nonzero(input, *, as_tuple=False):
    d = input._data
    if d.ndim == 0:
        k = int(bool(d))
        return (Tensor._make(np.zeros(k, np.int64)),) if as_tuple else Tensor._make(np.zeros((k, 0), np.int64))
    nz = np.nonzero(d)
    if as_tuple:
        return tuple(Tensor._make(a.astype(np.int64, copy=False)) for a in nz)
    return Tensor._make(np.stack(nz, axis=1).astype(np.int64, copy=False))


@tensor_method
def argwhere(input):
    return nonzero(input)


@tensor_method
def take(input, index):
    idx = _index_arg(index, "take")
    n = input._data.size
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"out of range: tried to access index {int(bad)} on a tensor of {n} elements.")
    return Index.apply(input.reshape(-1), (), (idx,))


@tensor_method
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1))
    nd = input._data.ndim
    axis = _wrap_dim(dim, nd, "take_along_dim")
    if indices._data.ndim != nd:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of dimensions, but "
                           f"got {nd} dimensions for input, and {indices._data.ndim} dimensions for indices")
    try:
        shape = np.broadcast_shapes(input._data.shape[:axis] + (1,) + input._data.shape[axis + 1:],
                                    indices._data.shape[:axis] + (1,) + indices._data.shape[axis + 1:])
    except ValueError:
        raise RuntimeError(f"take_along_dim(): shapes {list(input.shape)} and {list(indices.shape)} cannot be "
                           f"broadcast apart from dimension {axis}") from None
    xs = shape[:axis] + (input._data.shape[axis],) + shape[axis + 1:]
    ids = shape[:axis] + (indices._data.shape[axis],) + shape[axis + 1:]
    x = input if input._data.shape == xs else input.expand(xs)
    return gather(x, axis, indices if indices._data.shape == ids else indices.expand(ids))
