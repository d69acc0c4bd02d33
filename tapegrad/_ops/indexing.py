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
from .._tensor import Tensor, _type_name, _wrap_dim, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function, _named
from .movement import _view_of

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy", "index_fill",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere", "take", "take_along_dim",
           "index_put", "scatter_reduce"]

_SIMPLE = (int, slice, type(None), type(Ellipsis))
_SEQ_AS_TUPLE = (list, tuple, Tensor, slice, type(None), type(Ellipsis))
_FULL = slice(None)


_ZERO_DIM = {int: "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
                   "convert a 0-dim tensor to a number", slice: "slice() cannot be applied to a 0-dim tensor."}


def _step_error(step):
    return "slice step cannot be zero" if step == 0 else "step must be greater than zero"


def _convert_index(index, data, check=True):
    """Split a PyTorch index into (basic, adv) for `data`, raising PyTorch's errors. With check=False the
    bounds of index tensors are left to NumPy (the caller re-runs with check=True to word its error)."""
    if index.__class__ is not tuple:
        if index.__class__ in _SIMPLE and index.__class__ is not bool:
            if index.__class__ is slice and index.step is not None and index.step <= 0:
                raise ValueError(_step_error(index.step))
            return (index,), None
        if index.__class__ is Tensor and index._data.ndim and index._data.dtype.kind == "i" and data.ndim:
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
            if arr.dtype.kind not in "iub" or arr.dtype.kind == "u" and arr.dtype != np.uint8:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            p = arr.item() if arr.ndim == 0 else (arr.astype(bool) if arr.dtype == np.uint8 else arr)
        elif isinstance(p, (list, tuple, range)):
            p = np.asarray(p)
            if p.size == 0 or p.dtype.kind == "f":  # PyTorch makes a list of floats a long tensor (truncating)
                p = p.astype(np.int64)
            elif p.dtype.kind in "USO":
                raise TypeError("new(): invalid data type 'str'")
            elif p.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(p, (np.integer, np.bool_)):
            p = p.item()
        elif isinstance(p, np.ndarray):
            if p.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if p.ndim == 0:
                p = p.item()
        elif isinstance(p, str):
            raise TypeError("new(): invalid data type 'str'")
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
                raise ValueError(_step_error(int(p.step)))
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
    if data.ndim == 0 and index.__class__ in _ZERO_DIM:
        raise IndexError(_ZERO_DIM[index.__class__])
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
                raise ValueError(_step_error(p.step))
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
        ctx.vshape = np.shape(value)
        out = x.copy()
        _write(out, value, basic, adv, accumulate)
        return out

    @staticmethod
    def backward(ctx, g):
        basic, adv = ctx.basic, ctx.adv
        gx = g if ctx.accumulate or not ctx.needs_input_grad[0] else IndexPut.apply(
            g, g.new_zeros(()), basic, adv, False)
        gv = Index.apply(g, basic, adv) if ctx.needs_input_grad[1] else None
        if gv is not None and gv.dim() < len(ctx.vshape):  # a value with extra leading 1-dims (x[0] = v[None])
            gv = gv.reshape(ctx.vshape if gv.numel() == int(np.prod(ctx.vshape)) else
                            (1,) * (len(ctx.vshape) - gv.dim()) + tuple(gv.shape))
        return gx, gv, None, None, None


class _IndexPutInPlace(IndexPut):
    """IndexPut writing straight into x's memory, for setitem and index_put_ (the caller then makes x the
    node's output): an O(indexed) write, not an O(x) copy."""

    _backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, value, basic, adv, accumulate):
        ctx.basic, ctx.adv, ctx.accumulate = basic, adv, accumulate
        ctx.vshape = np.shape(value)
        _write(x, value, basic, adv, accumulate)
        return x


_INTERNAL_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single "
                     "memory location. Please clone() the tensor before performing the operation.")


def _put_in_place(self, value, basic, adv, accumulate, op):
    self._check_inplace()
    nograd = not (grad_mode.GRAD[0] and (value._rg or self._rg))
    dest = self._data
    if not dest.flags.writeable:  # an expanded tensor (tapegrad's expand views are read-only)
        from .inplace import _writable_alias

        dest = _writable_alias(dest) if nograd else None
        if dest is None:
            raise RuntimeError(_INTERNAL_OVERLAP)
    v = value._data
    if adv is None and (v is dest or v.base is not None or dest.base is not None):  # they may share memory
        from .inplace import _check_overlap

        _check_overlap(_apply(dest, basic, None), v)  # x[1:] = x[:-1] is refused, as in PyTorch
    if nograd:
        _write(dest, value._data, basic, adv, accumulate)
        self._version_ctr.v += 1
        return self
    out = _IndexPutInPlace.apply(self, value, basic, adv, accumulate)
    if adv is None:  # PyTorch writes a basic index through a view of self: a CopySlices node
        _named(out, "CopySlices")
    return self._inplace(out, op)


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
            raise _expand_error(list(target), vs, np.result_type(value)) from None
        raise RuntimeError(f"shape mismatch: value tensor of shape {vs} cannot be broadcast to indexing result "
                           f"of shape {list(target)}") from None


def _expand_error(target, vs, dtype):
    """PyTorch's error for copying a value of shape `vs` into a region of shape `target` (copy_ expands)."""
    while len(vs) > len(target) and vs[0] == 1:  # PyTorch drops a value's leading 1-dims first
        vs = vs[1:]
    if len(vs) > len(target):
        return RuntimeError(f"expand(torch.{_type_name(dtype)}Tensor{{{vs}}}, size={target}): the number of sizes "
                            "provided "
                            f"({len(target)}) must be greater or equal to the number of dimensions in the tensor "
                            f"({len(vs)})")
    for i in range(len(target) - 1, -1, -1):
        j = i - (len(target) - len(vs))
        if j >= 0 and vs[j] != target[i] and vs[j] != 1:
            return RuntimeError(f"The expanded size of the tensor ({target[i]}) must match the existing size "
                                f"({vs[j]}) at non-singleton dimension {i}.  Target sizes: {target}.  Tensor "
                                f"sizes: {vs}")
    return RuntimeError(f"shape mismatch: value tensor of shape {vs} cannot be broadcast to indexing result of "
                        f"shape {target}")


def _is_adv(p):
    if isinstance(p, Tensor):
        return p._data.ndim > 0 or p._data.dtype == np.bool_
    return isinstance(p, (list, tuple, range, np.ndarray))


def _is_mask(p):
    if isinstance(p, Tensor):
        return p._data.ndim > 0 and p._data.dtype == np.bool_
    return isinstance(p, (list, tuple, np.ndarray)) and np.asarray(p).dtype == np.bool_ and np.ndim(p) > 0


def _check_put_dtype(self, value, index, accumulate=False):
    """PyTorch's index_put_ wants the value's dtype to be self's, except where it becomes masked_fill_ (one
    boolean mask as the only advanced index, a one-element value, no accumulate); basic indexing copies."""
    if not isinstance(value, Tensor) or value._data.dtype == self._data.dtype:
        return
    if index.__class__ is list and any(isinstance(p, _SEQ_AS_TUPLE) for p in index):
        index = tuple(index)
    parts = [p for p in (index if index.__class__ is tuple else (index,)) if _is_adv(p)]
    if not parts or len(parts) == 1 and _is_mask(parts[0]) and value._data.size == 1 and not accumulate:
        return
    raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                       f"{_type_name(self._data.dtype)} for the destination and {_type_name(value._data.dtype)} for "
                       "the source.")


def _value_for(self, value):
    if isinstance(value, (list, tuple)):
        raise TypeError(f"can't assign a {type(value).__name__} to a torch.{_type_name(self._data.dtype)}Tensor")
    if isinstance(value, Tensor):
        return value if value._data.dtype == self._data.dtype else value.to(self.dtype)
    return Tensor._make(np.asarray(value, dtype=self._data.dtype))


@tensor_method("__setitem__")
def _setitem(self, index, value):
    data = self._data
    try:
        basic, adv = _convert_index(index, data, False)
        if adv is not None:
            _check_put_dtype(self, value, index)
        value = _value_for(self, value)
        if adv is None and self._rg and self.grad_fn is None and grad_mode.GRAD[0]:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        _put_in_place(self, value, basic, adv, False, "setitem")
    except IndexError as exc:
        _index_error(index, data, exc)


def _indices_tuple(indices, op):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for i, p in enumerate(indices):
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(p).__name__}")
    return tuple(indices)


def _values_arg(values, op):
    if not isinstance(values, Tensor):
        raise TypeError(f"{op}(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    return values


@tensor_method("index_put_")
def _index_put_(self, indices, values, accumulate=False):
    indices, values = _indices_tuple(indices, "index_put_"), _values_arg(values, "index_put_")
    _check_put_dtype(self, values, indices, accumulate)
    basic, adv = _convert_index(indices, self._data)
    return _put_in_place(self, _value_for(self, values), basic, adv, accumulate, "index_put_")


@tensor_method
def index_put(input, indices, values, accumulate=False):
    indices, values = _indices_tuple(indices, "index_put"), _values_arg(values, "index_put")
    _check_put_dtype(input, values, indices, accumulate)
    basic, adv = _convert_index(indices, input._data)
    return _named(IndexPut.apply(input, _value_for(input, values), basic, adv, accumulate), "IndexPutBackward0")


# ---------------------------------------------------------------- gather / scatter
def _index_arg(index, op):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    d = index._data
    if d.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype.name.capitalize()}")
    return d if d.dtype == np.int64 else d.astype(np.int64)


def _check_range(idx, n, axis, op):
    if idx.size and (idx.max() >= n or idx.min() < 0):  # gather and scatter take no negative index
        bad = idx.max() if idx.max() >= n else idx.min()
        raise RuntimeError(f"{op}(): index {int(bad)} is out of bounds for dimension {axis} with size {n}")


def _along(index, axis):
    """The fancy-index tuple addressing `index`'s entries along `axis` (gather's addressing)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


def _check_gather_shapes(x_shape, idx_shape, axis, op, src_shape=None):
    if src_shape is not None and len(src_shape) != len(idx_shape) and len(idx_shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if len(idx_shape) != len(x_shape) and len(idx_shape) and len(x_shape):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                           f"(got index {list(idx_shape)} and input {list(x_shape)})")
    for d, i in enumerate(idx_shape):
        if d != axis and d < len(x_shape) and i > x_shape[d]:
            raise RuntimeError(f"{op}(): Size does not match at dimension {d} expected index {list(idx_shape)} to "
                               f"be no larger than self {list(x_shape)} apart from dimension {axis}")
        if src_shape is not None and i > src_shape[d]:
            raise RuntimeError(f"{op}(): Expected index {list(idx_shape)} to be no larger than self {list(x_shape)} "
                               f"apart from dimension {axis} and to be no larger size than src {list(src_shape)}")


class Gather(Function):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index, x)  # x only for the version check: PyTorch's GatherBackward0 saves self
        return x[_along(index, axis)]

    @staticmethod
    def backward(ctx, g):
        index, _ = ctx.saved_tensors
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


class _ScatterLegacyReduce(Scatter):
    """scatter(..., reduce='add'/'multiply'): PyTorch has no derivative for it."""
    _op = "scatter"

    @classmethod
    def backward(cls, ctx, g):
        raise RuntimeError(f"derivative for aten::{cls._op} is not implemented")


class _ScatterLegacyReduceInPlace(_ScatterLegacyReduce):
    _op = "scatter_"


_ScatterLegacyReduce._backward_name = _ScatterLegacyReduceInPlace._backward_name = "NotImplemented"


def _scatter(input, dim, index, src, reduce, op, include_self=True, cls=Scatter):
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
    return cls.apply(input, axis, Tensor._make(idx), src, reduce, include_self)


@tensor_method
def scatter(input, dim, index, src=None, *, value=None, reduce=None, _inplace=False):
    if src is None:
        src = value
    cls = Scatter
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        reduce = "sum" if reduce == "add" else "prod"
        cls = _ScatterLegacyReduceInPlace if _inplace else _ScatterLegacyReduce
    return _scatter(input, dim, index, src, reduce, "scatter", cls=cls)


def scatter_inplace_form(input, dim, index, src=None, *, value=None, reduce=None):
    """scatter as scatter_ computes it (its backward error names scatter_)."""
    return scatter(input, dim, index, src, value=value, reduce=reduce, _inplace=True)


scatter_inplace_form.__name__ = "scatter"


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
    """The index of index_select/index_add/index_copy/index_fill as a flat int64 array, with each one's
    PyTorch checks (they differ in wording, in exception type and in whether a negative index wraps)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    idx = index._data
    kind = idx.dtype.kind
    if op == "index_fill":
        if idx.dtype != np.int64:
            raise IndexError("index_fill_(): Expected dtype int64 for index.")
        if idx.ndim > 1:
            raise RuntimeError("Index has to be a vector/scalar")
    elif op == "index_copy":
        if idx.ndim > 1:
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
        if idx.dtype != np.int64:
            raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_type_name(idx.dtype)}")
    elif op == "index_add":
        if idx.ndim > 1:
            raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                             f"{_type_name(idx.dtype)} and size: {list(idx.shape)}")
        if kind != "i" or idx.dtype.itemsize < 4:
            raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {_type_name(idx.dtype)}")
    else:
        if idx.ndim > 1:
            raise IndexError(f"{op}(): Index is supposed to be a vector")
        if kind != "i" or idx.dtype.itemsize < 4:
            raise RuntimeError(f"{op}(): Expected dtype int32 or int64 for index")
    idx = idx.reshape(-1).astype(np.int64, copy=False)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if op == "index_fill":  # the one that wraps negative indices
            if hi >= n or lo < -n:
                raise IndexError(f"index {hi if hi >= n else lo} is out of bounds for dimension {axis} with size "
                                 f"{n}")
            if lo < 0:
                idx = np.where(idx < 0, idx + n, idx)
        elif hi >= n or lo < 0:
            bad = lo if lo < 0 else hi
            if op == "index_select":
                raise IndexError(f"index out of range in self (index {bad} is out of bounds for dimension {axis} "
                                 f"with size {n})")
            if op == "index_copy":
                raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {axis} with size {n}")
            raise RuntimeError(f"index {bad} is out of bounds for dimension {axis} with size {n}")
    return idx


def _dim_index(input, dim, index, op):
    nd = input._data.ndim
    axis = _wrap_dim(dim, nd, op)
    return axis, _index_vector(index, op, input._data.shape[axis] if nd else 1, axis)


@tensor_method
def index_select(input, dim, index):
    axis, idx = _dim_index(input, dim, index, "index_select")
    if input._data.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        return input.reshape(1)[idx].reshape(index.shape)
    return _named(Index.apply(input, (), (_FULL,) * axis + (idx,)), "IndexSelectBackward0")


def _check_source(input, axis, idx, source, op, verb):
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' (position 3) must be Tensor, not {type(source).__name__}")
    shape, ss = input._data.shape, source._data.shape
    if source._data.dtype != input._data.dtype:
        if op == "index_add":
            raise RuntimeError(f"index_add_(): self ({_type_name(input._data.dtype)}) and source "
                               f"({_type_name(source._data.dtype)}) must have the same scalar type")
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_type_name(input._data.dtype)} and (source) {_type_name(source._data.dtype)}")
    if op == "index_add":
        if len(ss) > 0 and len(idx) != ss[axis if len(ss) > axis else 0] or len(ss) == 0 and len(idx) != 1:
            raise RuntimeError(f"index_add_(): Number of indices ({len(idx)}) should be equal to source.size(dim): "
                               f"({ss[axis] if len(ss) > axis else 1}), for dim: {axis}")
        if len(shape) != len(ss) or any(a != b for d, (a, b) in enumerate(zip(shape, ss)) if d != axis):
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified "
                               f"dimension. Got self.shape = {list(shape)} source.shape = {list(ss)}")
    else:
        if len(shape) and len(ss) and len(shape) != len(ss):
            raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality "
                             f"must match. Source dimensionality ({len(ss)}), destination dimensionality "
                             f"({len(shape)})")
        n_src = ss[axis] if len(ss) > axis else 1
        if len(idx) != n_src:
            raise IndexError(f"index_copy_(): Number of indices ({len(idx)}) should be equal to source.size(dim) "
                             f"({n_src})")
        for d, (a, b) in enumerate(zip(shape, ss)):
            if d != axis and a != b:
                raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. "
                                   f"Destination slice shape: {a} at dimension {d - (d > axis)} and source slice "
                                   f"shape: {b} at dimension {d - (d > axis)}.")
    return source


@tensor_method
def index_add(input, dim, index, source, *, alpha=1):
    axis, idx = _dim_index(input, dim, index, "index_add")
    source = _check_source(input, axis, idx, source, "index_add", "add")
    if alpha != 1:
        source = source * alpha
    if input._data.ndim == 0:
        return IndexPut.apply(input.reshape(1), source.reshape(-1), (), (idx,), True).reshape(())
    return _named(IndexPut.apply(input, source, (), (_FULL,) * axis + (idx,), True), "IndexAddBackward0")


@tensor_method
def index_copy(input, dim, index, source):
    axis, idx = _dim_index(input, dim, index, "index_copy")
    source = _check_source(input, axis, idx, source, "index_copy", "copy")
    if input._data.ndim == 0 or source._data.ndim == 0:
        return IndexPut.apply(input.reshape(-1), source.reshape(-1), (), (idx,), False).reshape(input.shape)
    return _named(IndexPut.apply(input, source, (), (_FULL,) * axis + (idx,), False), "IndexCopyBackward0")


@tensor_method
def index_fill(input, dim, index, value):
    axis, idx = _dim_index(input, dim, index, "index_fill")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    out = IndexPut.apply(input, _value_for(input, value), (), (_FULL,) * axis + (idx,), False)
    return _named(out, "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0")


# ---------------------------------------------------------------- masks
_C_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
           "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _check_mask(input, mask, op):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    dt = mask._data.dtype
    if dt != np.bool_:
        if op == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        if op == "masked_scatter":
            if dt != np.uint8:  # PyTorch still takes (with a deprecation warning) a uint8 mask here
                raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                                   f"{_type_name(dt)}")
            mask = mask.to(_dtype.bool)
        else:
            raise RuntimeError(f"{op}_ only supports boolean masks, but got mask with dtype "
                               f"{_C_TYPE.get(dt.name, dt.name)}")
    try:
        return mask, np.broadcast_shapes(mask._data.shape, input._data.shape)
    except ValueError as exc:
        from .elementwise import _broadcast_error

        raise _broadcast_error(op, exc, mask._data, input._data) from None


@tensor_method
def masked_fill(input, mask, value):
    mask, shape = _check_mask(input, mask, "masked_fill")
    from .elementwise import Where

    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        value = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    else:
        value = np.asarray(value, dtype=input._data.dtype)
    out = Where.apply(mask, value, input)  # a mask larger than the input broadcasts it, as in PyTorch
    return _named(out, "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0")


@tensor_method
def masked_select(input, mask):
    mask, shape = _check_mask(input, mask, "masked_select")
    if input._data.shape != shape:
        input = input.expand(shape)
    return _named(Index.apply(input, (), np.nonzero(np.broadcast_to(mask._data, shape))), "MaskedSelectBackward0")


@tensor_method
def masked_scatter(input, mask, source):
    mask, shape = _check_mask(input, mask, "masked_scatter")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): argument 'source' (position 2) must be Tensor, not "
                        f"{type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_type_name(input._data.dtype)} and {_type_name(source._data.dtype)}")
    if shape != input._data.shape:
        input = input.expand(shape)
    idx = np.nonzero(np.broadcast_to(mask._data, shape))
    n = len(idx[0]) if idx else 0
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return _named(IndexPut.apply(input, source.reshape(-1)[:n], (), idx, False), "MaskedScatterBackward0")


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
    return _named(Index.apply(input.reshape(-1), (), (idx,)), "TakeBackward0")


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
    n = input._data.shape[axis]
    if indices._data.size and indices._data.min() < 0 and indices._data.min() >= -n:  # a negative index wraps here
        indices = Tensor._make(np.where(indices._data < 0, indices._data + n, indices._data))
    return gather(x, axis, indices if indices._data.shape == ids else indices.expand(ids))
