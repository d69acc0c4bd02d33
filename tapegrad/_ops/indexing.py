"""Indexing: __getitem__/__setitem__ (basic indexing gives views, advanced indexing copies),
gather, scatter, scatter_add, index_select, index_add, masked_fill, masked_select, nonzero, take."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function
from .movement import _view_of

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy", "index_fill",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere", "take", "take_along_dim",
           "index_put", "scatter_reduce"]

_BASIC = (int, slice, type(None), type(Ellipsis))


def _convert_index(idx, shape):
    """Turn a PyTorch index into a NumPy one; say whether it is basic (gives a view)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out, basic = [], True
    for part in idx:
        if isinstance(part, bool):
            out.append(part)
            basic = False
        elif isinstance(part, _BASIC):
            if isinstance(part, slice):
                part = _convert_slice(part)
            out.append(part)
        elif isinstance(part, Tensor):
            arr = part._data
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if arr.ndim == 0 and arr.dtype.kind in "iu":
                out.append(int(arr))
            else:
                out.append(arr.astype(bool) if arr.dtype == np.uint8 else arr)
                basic = False
        elif isinstance(part, (list, tuple, np.ndarray)):
            arr = np.asarray([p.item() if isinstance(p, Tensor) else p for p in part]
                             if isinstance(part, (list, tuple)) else part)
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr.astype(np.int64) if arr.size == 0 else arr)
            basic = False
        elif isinstance(part, np.integer):
            out.append(int(part))
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(part).__name__})")
    _check_bounds(out, shape)
    return tuple(out), basic


def _convert_slice(s):
    def v(x):
        return int(x) if isinstance(x, Tensor) or isinstance(x, np.integer) else x

    s = slice(v(s.start), v(s.stop), v(s.step))
    if s.step is not None and s.step <= 0:
        raise ValueError("step must be greater than zero")
    return s


def _check_bounds(index, shape):
    """PyTorch's IndexError for an integer past the end, naming the dimension and its size."""
    dim = 0
    n_ell = sum(1 for p in index if p is Ellipsis)
    consumed = sum(1 for p in index if p is not None and p is not Ellipsis and not isinstance(p, bool)
                   and not (isinstance(p, np.ndarray) and p.dtype == bool))
    consumed += sum(p.ndim for p in index if isinstance(p, np.ndarray) and p.dtype == bool)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    for p in index:
        if p is Ellipsis:
            dim += len(shape) - consumed if n_ell else 0
            continue
        if p is None or isinstance(p, bool):
            continue
        if isinstance(p, int):
            n = shape[dim]
            if p < -n or p >= n:
                raise IndexError(f"index {p} is out of bounds for dimension {dim} with size {n}")
        elif isinstance(p, np.ndarray) and p.dtype != bool and p.size:
            n = shape[dim]
            if p.max() >= n or p.min() < -n:
                bad = int(p.max()) if p.max() >= n else int(p.min())
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
        elif isinstance(p, np.ndarray) and p.dtype == bool:
            if p.shape != tuple(shape[dim:dim + p.ndim]):
                raise IndexError(f"The shape of the mask {list(p.shape)} at index {dim} does not match the shape "
                                 f"of the indexed tensor {list(shape[dim:dim + p.ndim])} at index {dim}")
            dim += p.ndim
            continue
        dim += 1


class Index(Function):
    @staticmethod
    def forward(ctx, x, index, basic):
        ctx.shape, ctx.dtype, ctx.index, ctx.basic = x.shape, x.dtype, index, basic
        out = x[index]
        return out if basic else np.asarray(out)

    @staticmethod
    def backward(ctx, g):
        z = np.zeros(ctx.shape, dtype=g._data.dtype)
        if ctx.basic:
            z[ctx.index] = g._data
        else:
            np.add.at(z, ctx.index, g._data)
        return Tensor._make(z), None, None


@tensor_method("__getitem__")
def _getitem(self, index):
    idx, basic = _convert_index(index, self._data.shape)
    out = Index.apply(self, idx, basic)
    if basic:
        _view_of(out, self, lambda a: a[idx])
    return out


class IndexPut(Function):
    @staticmethod
    def forward(ctx, x, value, index, accumulate):
        ctx.index, ctx.accumulate = index, accumulate
        out = x.copy()
        if accumulate:
            np.add.at(out, index, value)
        else:
            out[index] = value
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g
        if not ctx.accumulate:
            gx = g._data.copy()
            gx[ctx.index] = 0
            gx = Tensor._make(gx)
        gv = Tensor._make(np.asarray(g._data[ctx.index]))
        return gx, gv, None, None


def _value_for(self, value, op):
    if isinstance(value, Tensor):
        if value._data.dtype != self._data.dtype:
            value = value.to(self.dtype)
        return value
    return Tensor._make(np.asarray(value, dtype=self._data.dtype))


@tensor_method("__setitem__")
def _setitem(self, index, value):
    idx, basic = _convert_index(index, self._data.shape)
    value = _value_for(self, value, "setitem")
    if not (grad_mode.GRAD[0] and (value._rg or self._rg)):
        self._check_inplace()
        self._data[idx] = value._data
        self._version_ctr.v += 1
        return
    self._inplace(IndexPut.apply(self, value, idx, False), "setitem")


@tensor_method("index_put_")
def _index_put_(self, indices, values, accumulate=False):
    idx, _ = _convert_index(tuple(indices), self._data.shape)
    return self._inplace(IndexPut.apply(self, _value_for(self, values, "index_put_"), idx, accumulate),
                         "index_put_")


@tensor_method
def index_put(input, indices, values, accumulate=False):
    idx, _ = _convert_index(tuple(indices), input._data.shape)
    return IndexPut.apply(input, _value_for(input, values, "index_put"), idx, accumulate)


# ---------------------------------------------------------------- gather / scatter
def _check_index_tensor(index, op):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._data.dtype != np.int64 and index._data.dtype.kind in "iu":
        return index._data.astype(np.int64)
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    return index._data


def _along(index, axis):
    """Full fancy-index tuple addressing `index`'s entries along `axis`."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


def _check_gather_shapes(x_shape, idx_shape, axis, op, src_shape=None):
    if len(idx_shape) != len(x_shape) and not (len(idx_shape) == 0 or len(x_shape) == 0):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor")
    for d, (i, s) in enumerate(zip(idx_shape, x_shape)):
        if d != axis and i > s:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(idx_shape)} to be smaller "
                               f"than self {list(x_shape)} apart from dimension {axis}")
        if src_shape is not None and i > src_shape[d]:
            raise RuntimeError(f"Expected index {list(idx_shape)} to be smaller than self {list(x_shape)} apart from "
                               f"dimension {axis} and to be smaller size than src {list(src_shape)}")


class Gather(Function):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index)
        n = x.shape[axis] if x.ndim else 1
        if index.size and (index.max() >= n or index.min() < -n):
            raise RuntimeError(f"index {int(index.max())} is out of bounds for dimension {axis} with size {n}")
        return x[_along(index, axis)]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return scatter_add(g.new_zeros(ctx.shape), ctx.axis, index, g), None, None


@tensor_method
def gather(input, dim, index, *, sparse_grad=False):
    idx = _check_index_tensor(index, "gather")
    axis = _wrap_dim(dim, input._data.ndim, "gather")
    _check_gather_shapes(input._data.shape, idx.shape, axis, "gather")
    return Gather.apply(input, axis, Tensor._make(idx))


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, axis, index, src, reduce):
        ctx.axis, ctx.src_shape = axis, getattr(src, "shape", None)
        ctx.save_for_backward(index)
        out = x.copy()
        where = _along(index, axis)
        vals = src[tuple(slice(0, s) for s in index.shape)] if hasattr(src, "shape") and np.ndim(src) else src
        if reduce is None:
            out[where] = vals
        elif reduce == "add":
            np.add.at(out, where, vals)
        elif reduce == "multiply":
            np.multiply.at(out, where, vals)
        else:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        ctx.reduce = reduce
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        if ctx.reduce == "multiply":
            raise NotImplementedError("tapegrad does not implement the gradient of scatter with reduce='multiply'")
        gx = g if ctx.reduce == "add" else scatter(g, ctx.axis, index, 0.0)
        gsrc = None
        if ctx.src_shape is not None and len(ctx.src_shape) and ctx.needs_input_grad[3]:
            gsrc = gather(g, ctx.axis, index)
            if tuple(gsrc.shape) != tuple(ctx.src_shape):
                from .elementwise import _out  # noqa: F401  (pad to src's shape with zeros)

                pad = np.zeros(ctx.src_shape, dtype=g._data.dtype)
                pad[tuple(slice(0, s) for s in gsrc.shape)] = gsrc._data
                gsrc = Tensor._make(pad)
        return gx, None, None, gsrc, None


def _scatter(input, dim, index, src, reduce, op):
    idx = _check_index_tensor(index, op)
    axis = _wrap_dim(dim, input._data.ndim, op)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        _check_gather_shapes(input._data.shape, idx.shape, axis, op, src._data.shape)
    else:
        src = input._data.dtype.type(src)
    n = input._data.shape[axis] if input._data.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise RuntimeError(f"{op}(): index {int(idx.max())} is out of bounds for dimension {axis} with size {n}")
    return Scatter.apply(input, axis, Tensor._make(idx), src, reduce)


@tensor_method
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    return _scatter(input, dim, index, src, reduce, "scatter")


@tensor_method
def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, "add", "scatter_add")


@tensor_method
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce == "sum":
        return scatter_add(input, dim, index, src) if include_self else scatter_add(
            scatter(input, dim, index, 0.0), dim, index, src)
    raise NotImplementedError(f"tapegrad does not implement torch.scatter_reduce with reduce='{reduce}'")


# ---------------------------------------------------------------- index_select / index_add
class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index)
        return np.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return index_add(g.new_zeros(ctx.shape), ctx.axis, index, g), None, None


def _index_vector(index, op, n):
    if not isinstance(index, Tensor):
        index = Tensor._make(np.asarray(index))
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(f"index out of range in self")
    return Tensor._make(idx.reshape(-1).astype(np.int64))


@tensor_method
def index_select(input, dim, index):
    axis = _wrap_dim(dim, input._data.ndim, "index_select")
    n = input._data.shape[axis] if input._data.ndim else 1
    return IndexSelect.apply(input, axis, _index_vector(index, "index_select", n))


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, x, axis, index, src, alpha):
        ctx.axis = axis
        ctx.save_for_backward(index)
        out = x.copy()
        moved = np.moveaxis(out, axis, 0)
        np.add.at(moved, index, np.moveaxis(src * alpha if alpha != 1 else src, axis, 0))
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gs = index_select(g, ctx.axis, index)
        return g, None, None, gs * ctx.alpha if ctx.alpha != 1 else gs, None


@tensor_method
def index_add(input, dim, index, source, *, alpha=1):
    axis = _wrap_dim(dim, input._data.ndim, "index_add")
    idx = _index_vector(index, "index_add", input._data.shape[axis] if input._data.ndim else 1)
    if source._data.dtype != input._data.dtype:
        source = source.to(input.dtype)
    return IndexAdd.apply(input, axis, idx, source, alpha)


@tensor_method
def index_copy(input, dim, index, source):
    axis = _wrap_dim(dim, input._data.ndim, "index_copy")
    idx = _index_vector(index, "index_copy", input._data.shape[axis])
    full = (slice(None),) * axis + (idx._data,)
    return IndexPut.apply(input, _value_for(input, source, "index_copy"), full, False)


@tensor_method
def index_fill(input, dim, index, value):
    axis = _wrap_dim(dim, input._data.ndim, "index_fill")
    idx = _index_vector(index, "index_fill", input._data.shape[axis])
    full = (slice(None),) * axis + (idx._data,)
    return IndexPut.apply(input, _value_for(input, value, "index_fill"), full, False)


# ---------------------------------------------------------------- masks
def _check_mask(input, mask, op):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{_dtype._BY_NP[mask._data.dtype].name}")
    try:
        shape = np.broadcast_shapes(mask._data.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the shape of the mask {list(mask.shape)} must be broadcastable with the shape "
                           f"of the input {list(input.shape)}") from None
    return shape


@tensor_method
def masked_fill(input, mask, value):
    shape = _check_mask(input, mask, "masked_fill")
    if shape != input._data.shape:
        raise RuntimeError(f"masked_fill: the mask {list(mask.shape)} broadcasts to {list(shape)}, larger than the "
                           f"input {list(input.shape)}")
    from .elementwise import Where

    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        value = value.to(input.dtype)
    else:
        value = input._data.dtype.type(value) if input._data.dtype.kind != "b" else bool(value)
    return Where.apply(mask, value, input)


class MaskedSelect(Function):
    @staticmethod
    def forward(ctx, x, mask):
        shape = np.broadcast_shapes(x.shape, mask.shape)
        ctx.shape, ctx.mask = shape, np.broadcast_to(mask, shape)
        return np.broadcast_to(x, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, g):
        z = np.zeros(ctx.shape, dtype=g._data.dtype)
        z[ctx.mask] = g._data
        return Tensor._make(z), None


@tensor_method
def masked_select(input, mask):
    _check_mask(input, mask, "masked_select")
    return MaskedSelect.apply(input, mask)


@tensor_method
def masked_scatter(input, mask, source):
    shape = _check_mask(input, mask, "masked_scatter")
    m = np.broadcast_to(mask._data, shape)
    n = int(m.sum())
    flat_src = source.reshape(-1)[:n]
    idx = np.nonzero(m)
    return IndexPut.apply(input.expand(shape).clone(), flat_src, idx, False)


@tensor_method
def nonzero(input, *, as_tuple=False):
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._make(a.astype(np.int64)) for a in nz)
    return Tensor._make(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


@tensor_method
def argwhere(input):
    return nonzero(input)


@tensor_method
def take(input, index):
    flat = input.reshape(-1)
    return flat[index]


@tensor_method
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return input.reshape(-1)[indices.reshape(-1)]
    shape = list(np.broadcast_shapes(tuple(s if i != (dim % input.dim()) else 1 for i, s in enumerate(input.shape)),
                                     tuple(s if i != (dim % input.dim()) else 1 for i, s in enumerate(indices.shape))))
    ishape = list(shape)
    ishape[dim % input.dim()] = indices.shape[dim]
    xshape = list(shape)
    xshape[dim % input.dim()] = input.shape[dim]
    return gather(input.expand(xshape), dim, indices.expand(ishape))
